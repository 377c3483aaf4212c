"""Footage metadata from the evidence system (issue 18, part 1): ``bwv metadata import`` and
``bwv run --metadata``, on real CSV and JSON Lines manifests, hostile ones included, on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import bwv, copy_into
from pipeline import clock
from pipeline.batch.incidents import DEFAULT_TERMS, incident_terms, incident_type
from pipeline.batch.metadata import check_manifest, import_manifest
from pipeline.cli import cli
from pipeline.errors import ConfigError, ManifestError
from pipeline.store import Store, exports, open_store
from pipeline.store import schema as db
from pipeline.store.meta_tables import FootageMeta

FROZEN = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
HEADER = ["file", "sha256", "officer_id", "officer_name", "team", "shift", "incident_ref",
          "incident_type", "recorded_at", "camera_id"]


def _sha(n: int) -> str:
    return f"{n:064x}"


def _seed(store: Store, names: list[str]) -> list[str]:
    """Originals bwv has ingested under these names (rows only: the import reads no bytes)."""
    shas = []
    for i, name in enumerate(names, start=1):
        store.add_original(_sha(i), size=10, store_path=f"/nowhere/{i}", inbox="/inbox", name=name,
                           mtime_ns=0)
        shas.append(_sha(i))
    return shas


def _csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(FootageMeta)) or 0)


@pytest.fixture()
def store(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(clock, "now", lambda: FROZEN)
    return open_store(db_url, home=tmp_path)


def test_a_csv_manifest_reaches_the_media_export_with_formulas_escaped(store: Store, tmp_path: Path) -> None:
    shas = _seed(store, ["2026-12-05/BWV_0001.mp4", "BWV_0002.mp4"])
    manifest = _csv(tmp_path / "dems.csv", [
        {"file": "BWV_0001.mp4", "officer_id": "4512", "officer_name": "PC A Jones",
         "team": "Response Team A", "shift": "Nights", "incident_ref": "INC-20261205-0113",
         "incident_type": "Domestic incident - verbal", "recorded_at": "2026-12-05T22:14:00+01:00",
         "camera_id": "AXON-77"},
        {"file": "BWV_0002.mp4", "officer_id": "4513", "team": "=HYPERLINK(\"http://x\",\"click\")",
         "incident_type": "Concern for welfare", "recorded_at": "2026-12-05T03:00:00Z"},
    ])
    result = import_manifest(manifest, store, actor="cli:test")
    assert (result.rows, result.new, result.replaced, result.waiting) == (2, 2, 0, 0)

    by_sha = {r["sha256"]: r for r in exports.media_rows(store)}
    first, second = by_sha[shas[0]], by_sha[shas[1]]
    assert first["officer_id"] == "4512" and first["team"] == "Response Team A"
    assert first["shift"] == "Nights" and first["incident_ref"] == "INC-20261205-0113"
    assert first["incident_type"] == "domestic_abuse"
    assert first["recorded_at"] == "2026-12-05T21:14:00+00:00"  # stored in UTC
    assert second["incident_type"] == "mental_health"
    out = io.StringIO()
    exports.write_csv(out, exports.MEDIA_FIELDS, exports.media_rows(store))
    cells = list(csv.DictReader(io.StringIO(out.getvalue())))
    team = {c["sha256"]: c["team"] for c in cells}[shas[1]]
    assert team == "'=HYPERLINK(\"http://x\",\"click\")"  # text in a spreadsheet, not a formula
    assert "officer_name" not in cells[0]  # the export carries the collar number, not the name
    with store.session() as s:
        audits = [(a.action, a.object, a.detail) for a in s.scalars(select(db.Audit))]
    assert ("metadata.import", "dems.csv", "2 rows: 2 new, 0 updated") in audits


def test_json_lines_by_hash_with_numbers_and_nulls(store: Store, tmp_path: Path) -> None:
    shas = _seed(store, ["a.mp4", "b.mp4"])
    manifest = tmp_path / "export.jsonl"
    manifest.write_text(
        json.dumps({"sha256": shas[0].upper(), "officer_id": 4512, "team": None, "shift": ""}) + "\n\n"
        + json.dumps({"file": "b.mp4", "sha256": shas[1], "incident_type": "MFH - high risk"}) + "\n",
        encoding="utf-8")
    import_manifest(manifest, store, actor="cli:test")
    meta = store.metadata_by_sha()
    assert meta[shas[0]]["officer_id"] == "4512" and meta[shas[0]]["team"] is None
    assert meta[shas[0]]["shift"] is None
    assert meta[shas[1]]["incident_type"] == "missing_person"
    assert meta[shas[1]]["incident_text"] == "MFH - high risk"
    assert meta[shas[1]]["source"] == "export.jsonl:3"


def test_a_file_named_again_takes_the_new_columns_and_keeps_the_rest(store: Store,
                                                                    tmp_path: Path) -> None:
    shas = _seed(store, ["a.mp4"])
    import_manifest(_csv(tmp_path / "one.csv", [{"file": "a.mp4", "team": "A", "shift": "Nights",
                                                 "incident_type": "Domestic", "officer_id": "4512"}]),
                    store, actor="x")
    # A fix-up manifest with two columns: the team changes, the shift is cleared, the rest stay.
    fix = _csv(tmp_path / "two.csv", [{"file": "a.mp4", "team": "B", "shift": ""}],
               header=["file", "team", "shift"])
    result = import_manifest(fix, store, actor="x")
    assert (result.new, result.replaced) == (0, 1) and _rows(store) == 1
    meta = store.metadata_by_sha()[shas[0]]
    assert (meta["team"], meta["shift"], meta["officer_id"]) == ("B", None, "4512")
    assert (meta["incident_type"], meta["incident_text"]) == ("domestic_abuse", "Domestic")
    jsonl = tmp_path / "three.jsonl"  # JSON Lines: a key left out is kept, a null clears
    jsonl.write_text(json.dumps({"file": "a.mp4", "officer_id": None}) + "\n", encoding="utf-8")
    import_manifest(jsonl, store, actor="x")
    meta = store.metadata_by_sha()[shas[0]]
    assert (meta["team"], meta["officer_id"]) == ("B", None)


def _problems(store: Store, manifest: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        import_manifest(manifest, store, actor="cli:test")
    assert "nothing was imported" in str(caught.value)
    return caught.value.problems


def test_every_problem_is_reported_with_its_line_and_nothing_is_half_imported(
        store: Store, tmp_path: Path) -> None:
    _seed(store, ["a.mp4", "b.mp4", "c.mp4", "d.mp4"])
    manifest = _csv(tmp_path / "bad.csv", [
        {"file": "a.mp4", "team": "fine", "recorded_at": "2026-12-05T22:14:00Z"},     # line 2: good
        {"file": "nobody.mp4", "team": "A"},                                           # 3: unknown
        {"file": "b.mp4", "recorded_at": "2026-12-05 22:14"},                          # 4: no zone
        {"file": "c.mp4", "recorded_at": "05/12/2026 22:14"},                          # 5: not ISO
        {"file": "d.mp4", "recorded_at": "2031-01-01T00:00:00Z"},                      # 6: future
        {"file": "a.mp4", "team": "again"},                                            # 7: duplicate
        {"officer_id": "4512"},                                                        # 8: no file
        {"sha256": "abc123"},                                                          # 9: bad hash
        {"sha256": _sha(999)},                                                         # 10: unknown
        {"file": "d.mp4", "officer_id": "=cmd|' /C calc'!A0"},                          # 11: formula id
        {"file": "c.mp4", "team": "x" * 101},                                          # 12: too long
    ])
    problems = _problems(store, manifest)
    lines = {int(p.split(":")[0].removeprefix("line ")) for p in problems}
    assert lines == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    text = "\n".join(problems)
    for words in ("unknown file 'nobody.mp4'", "has no time zone", "not an ISO 8601 time",
                  "outside 2000 to tomorrow", "the same file as line 2", "needs a file or a sha256",
                  "not 64 hexadecimal digits", "no file bwv has seen", "officer_id",
                  "longer than 100 characters", "line 12: the same file as line 5"):
        assert words in text, words
    assert _rows(store) == 0  # line 2 was good, but nothing of a bad manifest is written


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("cols.csv", "file,team,colour\na.mp4,A,red\n", "line 1: unknown column 'colour'"),
    ("twice.csv", "file,team,team\na.mp4,A,B\n", "line 1: column 'team' appears twice"),
    ("nofile.csv", "team,shift\nA,Nights\n", "the header needs a file or a sha256 column"),
    ("cells.csv", "file,team\na.mp4,A,extra\n", "line 2: 3 cells where the header has 2"),
    ("keys.jsonl", '{"file": "a.mp4", "colour": "red"}\n', "line 1: unknown column 'colour'"),
    ("broken.jsonl", '{"file": "a.mp4"}\n{"file": \n', "line 2: not JSON"),
    ("array.jsonl", '{"file": "a.mp4"}\n["a.mp4"]\n', "line 2: not a JSON object"),
    ("nested.jsonl", '{"file": "a.mp4", "team": ["A"]}\n', "line 1: team must be text, not list"),
    ("control.jsonl", '{"file": "a.mp4", "team": "A\\u0007"}\n', "team holds a character that cannot be seen (U+0007)"),
    ("rtl.jsonl", '{"file": "a.mp4", "team": "A\\u202eB"}\n', "(U+202E)"),
    ("zwsp.csv", "file,team\na.mp4,A\u200b\n", "(U+200B)"),
    ("twice.jsonl", '{"file": "a.mp4", "file": "b.mp4"}\n', "line 1: 'file' is given twice"),
    ("case.jsonl", '{"file": "a.mp4", "team": "A", "TEAM": "B"}\n', "column 'team' appears twice"),
    ("array.ndjson", '[["a.mp4"]]\n', "line 1: not a JSON object"),
    ("deep.jsonl", '{"file": "a.mp4", "team": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
     "line 1: nested too deeply"),
    ("empty.csv", "", "the manifest is empty"),
    ("header.csv", "file,team\n", "no rows"),
])
def test_hostile_manifests_are_refused_with_the_reason(store: Store, tmp_path: Path, name: str,
                                                       content: str, expected: str) -> None:
    _seed(store, ["a.mp4"])
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        import_manifest(path, store, actor="cli:test")
    assert expected in str(caught.value)
    assert _rows(store) == 0


def test_a_manifest_that_is_not_utf8_is_refused(store: Store, tmp_path: Path) -> None:
    _seed(store, ["a.mp4"])
    path = tmp_path / "latin1.csv"
    path.write_bytes("file,officer_name\na.mp4,PC Bront\xeb\n".encode("latin-1"))
    with pytest.raises(ManifestError, match="not UTF-8 text"):
        import_manifest(path, store, actor="cli:test")


def test_a_name_that_fits_two_files_needs_the_hash(store: Store, tmp_path: Path) -> None:
    shas = _seed(store, ["night1/BWV_0001.mp4", "night2/BWV_0001.mp4"])
    problems = _problems(store, _csv(tmp_path / "m.csv", [{"file": "BWV_0001.mp4", "team": "A"}]))
    assert "names 2 different files; give its sha256" in problems[0]
    import_manifest(_csv(tmp_path / "m2.csv", [{"file": "night2/BWV_0001.mp4", "team": "B"}]),
                    store, actor="x")
    assert store.metadata_by_sha()[shas[1]]["team"] == "B"
    problems = _problems(store, _csv(tmp_path / "m3.csv", [
        {"file": "night1/BWV_0001.mp4", "sha256": shas[1], "team": "C"}]))
    assert f"has sha256 {shas[0]}, not {shas[1]}" in problems[0]


def test_incident_types_map_to_the_short_list_and_an_instance_may_change_the_words(
        tmp_path: Path) -> None:
    terms = incident_terms(None)
    cases = {"Domestic - DA with children present": "domestic_abuse",
             "MISPER (child)": "missing_person", "Section 136 MHA": "mental_health",
             "Knife crime / bladed article": "violence_weapons", "CCE - county lines": "exploitation",
             "ASB youths": "antisocial_behaviour", "Road traffic collision": "other",
             "Dangerous driving": "other"}  # "da" only as a word, not inside "dangerous"
    assert {text: incident_type(text, terms) for text in cases} == cases
    (tmp_path / "incident_types.yaml").write_text("antisocial_behaviour: [rtc, road traffic]\n")
    local = incident_terms(tmp_path)
    assert incident_type("Road traffic collision", local) == "antisocial_behaviour"
    assert incident_type("ASB youths", local) == "other"  # the instance replaced the words
    assert local["domestic_abuse"] == DEFAULT_TERMS["domestic_abuse"]
    (tmp_path / "incident_types.yaml").write_text("burglary: [burglary]\n")
    with pytest.raises(ConfigError, match="unknown incident type 'burglary'"):
        incident_terms(tmp_path)


def test_files_waiting_in_the_inbox_are_matched_and_found_again_once_ingested(
        tmp_path: Path, media_dir: Path) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    copy_into(inbox, media_dir / "noaudio.mp4", "BWV_0009.mp4")
    manifest = _csv(tmp_path / "m.csv", [{"file": "BWV_0009.mp4", "officer_id": "4512",
                                          "team": "Response B"}])
    refused = bwv(home, "metadata", "import", str(manifest), check=False)
    assert refused.returncode == 2 and "unknown file 'BWV_0009.mp4'" in refused.stderr
    done = bwv(home, "metadata", "import", str(manifest), "--inbox", str(inbox))
    assert "1 still in the inbox" in done.stderr
    bwv(home, "ingest", str(inbox))
    rows = [json.loads(line) for line in bwv(home, "export", "media").stdout.splitlines()]
    assert [(r["source"], r["officer_id"], r["team"]) for r in rows] == [
        ("BWV_0009.mp4", "4512", "Response B")]


def test_run_with_a_bad_manifest_stops_before_any_work(tmp_path: Path, media_dir: Path) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    copy_into(inbox, media_dir / "noaudio.mp4", "BWV_0009.mp4")
    bad = _csv(tmp_path / "bad.csv", [{"file": "BWV_0009.mp4", "recorded_at": "yesterday"}])
    proc = bwv(home, "run", str(inbox), "--metadata", str(bad), check=False)
    assert proc.returncode == 2
    assert "line 2: recorded_at 'yesterday' is not an ISO 8601 time" in proc.stderr
    assert bwv(home, "export", "media").stdout == ""  # not even ingested


def test_run_with_metadata_imports_then_processes_and_the_report_carries_it(
        tmp_path: Path, media_dir: Path) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    copy_into(inbox, media_dir / "jfk.mp4", "BWV_0009.mp4")
    copy_into(inbox, media_dir / "truncated.mp4", "BWV_0010.mp4")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"file": "BWV_0009.mp4", "officer_id": "4512", "team": "Resp A",
                                    "shift": "Lates", "incident_ref": "INC-1",
                                    "incident_type": "Domestic", "recorded_at": "2026-12-05T22:00:00Z"})
                        + "\n", encoding="utf-8")
    bwv(home, "run", str(inbox), "--metadata", str(manifest))
    rows = {r["source"]: r for r in map(json.loads, bwv(home, "export", "media").stdout.splitlines())}
    assert rows["BWV_0009.mp4"]["state"] == "done"
    assert rows["BWV_0009.mp4"]["incident_type"] == "domestic_abuse"
    assert rows["BWV_0010.mp4"]["officer_id"] is None  # no metadata: processed as today
    out = tmp_path / "report"
    bwv(home, "report", "-o", str(out))
    files = {r["name"]: r for r in csv.DictReader((out / "files.csv").open(encoding="utf-8"))}
    assert (files["BWV_0009.mp4"]["team"], files["BWV_0009.mp4"]["shift"]) == ("Resp A", "Lates")
    assert files["BWV_0009.mp4"]["recorded_at"] == "2026-12-05T22:00:00+00:00"
    assert files["BWV_0010.mp4"]["team"] == ""


def test_the_cli_lists_problems_and_exits_2(tmp_path: Path) -> None:
    manifest = _csv(tmp_path / "m.csv", [{"file": "ghost.mp4"}])
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "metadata", "import",
                                      str(manifest)])
    assert result.exit_code == 2
    assert "line 2: unknown file 'ghost.mp4'" in result.output


def test_check_manifest_changes_nothing(store: Store, tmp_path: Path) -> None:
    _seed(store, ["a.mp4"])
    matched, waiting = check_manifest(_csv(tmp_path / "m.csv", [{"file": "a.mp4"}]), store)
    assert [(sha, row.line) for sha, row in matched] == [(_sha(1), 2)] and waiting == 0
    assert _rows(store) == 0


def test_retention_deletes_the_metadata_with_its_footage_and_a_hold_keeps_both(
        store: Store, tmp_path: Path) -> None:
    gone, held = _seed(store, ["old.mp4", "held.mp4"])
    with store.session() as s:
        for media in s.scalars(select(db.Media)):
            media.state = "done"
    import_manifest(_csv(tmp_path / "m.csv", [{"file": "old.mp4", "officer_id": "1"},
                                              {"file": "held.mp4", "officer_id": "2"}]),
                    store, actor="x")
    ids = {m.sha256: m.id for m in store.iter_media()}
    store.add_legal_hold(ids[held], reason="appeal", placed_by="cli:test")
    assert store.mark_deleted(ids[gone], policy="default: 31 days", actor="cli:test", annotated=True)
    assert not store.mark_deleted(ids[held], policy="default: 31 days", actor="cli:test",
                                  annotated=True)
    assert set(store.metadata_by_sha()) == {held}


def test_a_100000_row_manifest_is_imported_whole_or_not_at_all(tmp_path: Path) -> None:
    from scripts.bench_metadata import manifest_rows, seed, write_manifest

    url = f"sqlite:///{tmp_path / 'bwv.sqlite3'}"
    seed(url, tmp_path, 100_000)
    store = open_store(url, home=tmp_path)
    rows = manifest_rows(100_000)
    bad = write_manifest(tmp_path / "bad.csv", [*rows[:-1], {**rows[-1], "recorded_at": "2026-13-01T00:00Z"}])
    problems = _problems(store, bad)
    assert problems == ["line 100001: recorded_at '2026-13-01T00:00Z' is not an ISO 8601 time "
                        "(write it as 2026-12-05T22:14:00+00:00)"]
    assert _rows(store) == 0
    result = import_manifest(write_manifest(tmp_path / "good.csv", rows), store, actor="cli:test")
    assert (result.rows, result.new) == (100_000, 100_000) and _rows(store) == 100_000
    meta = store.metadata_by_sha([f"{99_999:064x}"])
    assert meta[f"{99_999:064x}"]["officer_id"] == str(4000 + 99_999 % 300)


def test_the_migrations_of_issue_18_go_down_and_up(db_url: str, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect
    from test_segment_model import MIGRATIONS

    store = open_store(db_url, home=tmp_path)
    store.add_user("pc1", role="officer", password_hash="x", officer_id="4512")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    tables = set(inspect(store.engine).get_table_names())
    assert not {"footage_meta", "user_team", "shared_feedback"} & tables
    assert "officer_id" not in {c["name"] for c in inspect(store.engine).get_columns("user_account")}
    store.engine.dispose()
    store = open_store(db_url, home=tmp_path)  # up to the head again on opening
    assert {"footage_meta", "user_team", "shared_feedback"} <= set(inspect(store.engine).get_table_names())
    assert store.user_by_name("pc1").officer_id is None  # the column came back empty


def test_a_reupload_of_ingested_bytes_under_a_new_name_is_matched(tmp_path: Path,
                                                                  media_dir: Path) -> None:
    home, first, again = tmp_path / "home", tmp_path / "night1", tmp_path / "night2"
    copy_into(first, media_dir / "noaudio.mp4", "BWV_0001.mp4")
    bwv(home, "ingest", str(first))
    copy_into(again, media_dir / "noaudio.mp4", "BWV_0001_again.mp4")  # the same bytes
    manifest = _csv(tmp_path / "m.csv", [{"file": "BWV_0001_again.mp4", "officer_id": "pc 45 12",
                                          "team": "Response A"}])
    done = bwv(home, "metadata", "import", str(manifest), "--inbox", str(again))
    assert "1 new, 0 updated, 0 still in the inbox" in done.stderr
    rows = [json.loads(line) for line in bwv(home, "export", "media").stdout.splitlines()]
    assert [(r["officer_id"], r["team"]) for r in rows] == [("PC4512", "Response A")]  # canonical


def test_a_refused_manifest_is_audited(store: Store, tmp_path: Path) -> None:
    _problems(store, _csv(tmp_path / "bad.csv", [{"file": "ghost.mp4"}]))
    with store.session() as s:
        said = [(a.action, a.object, a.detail) for a in s.scalars(select(db.Audit))]
    assert ("metadata.import-refused", "bad.csv", "bad.csv: 1 problem(s); nothing was imported") in said
