"""The nightly report (`bwv report`): figures match what was stored, one UTC day, a safe page."""

from __future__ import annotations

import base64
import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import HOSTILE_NAME
from pipeline import clock
from pipeline.cli import cli
from pipeline.nightly.report import COLUMNS, write_report
from pipeline.records import AudioStream, Flag, MediaProbe, ReviewWindow, Transcription
from pipeline.store import Store, open_store

DAY = date(2026, 11, 27)
MIDNIGHT = datetime(2026, 11, 27, tzinfo=UTC)
CHARTS = 5
# A "$" pair with an unknown command: matplotlib would fail reading it as mathtext.
HOSTILE_REASON = 'refused: $\\nosuchcommand{x}$ "><img src=y onerror=alert(3)>'


def at(hours: float) -> datetime:
    """A time on the report day (negative: the day before; 24 and over: the day after)."""
    return MIDNIGHT + timedelta(hours=hours)


class FrozenClock:
    """The pipeline's clock, set by the test."""

    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    fake = FrozenClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


@dataclass(frozen=True)
class Seeded:
    name: str
    duration_s: float
    categories: tuple[tuple[str, str], ...]  # (category, family) per flag
    priorities: tuple[int, ...]  # one review item per priority


def _flags(seed: Seeded) -> list[Flag]:
    return [Flag(cat, fam, 1.0 + i, 2.0 + i, "words", "a sentence", "trauma_informed@1", "p", 3)
            for i, (cat, fam) in enumerate(seed.categories)]


def _process(store: Store, frozen: FrozenClock, seed: Seeded, *, ingest: datetime,
             finish: datetime, run_id: int | None = None) -> int:
    """One file through every stage with the real store calls, finishing at ``finish``."""
    frozen.now = ingest
    sha = hashlib.sha256(seed.name.encode()).hexdigest()
    media_id, _ = store.add_original(sha, size=1000, store_path=f"store/{sha}", inbox="/inbox",
                                     name=seed.name, mtime_ns=1)
    store.set_probe(media_id, MediaProbe("mov,mp4", seed.duration_s, True, 320, 240,
                                         (AudioStream(0, "aac", 1, 48000),)))
    for stage in ("extract", "transcribe", "flag"):
        store.begin_stage(media_id, stage, run_id=run_id)
        if stage == "extract":
            store.set_audio(media_id, audio_path=f"derived/{sha}.wav", track=0)
        elif stage == "transcribe":
            store.save_transcript(media_id, Transcription((), "en", seed.duration_s, 1.0),
                                  model="tiny.en", model_sha256="0" * 64, settings={})
        else:
            frozen.now = finish
            flags = _flags(seed)
            windows = [ReviewWindow(float(i), float(i) + 10, p, ("distress",),
                                    (i,) if i < len(flags) else ())
                       for i, p in enumerate(seed.priorities)]
            store.save_flags(media_id, flags, windows)
    return media_id


def _quarantine(store: Store, frozen: FrozenClock, name: str, reason: str, when: datetime,
                *, run_id: int | None = None) -> None:
    frozen.now = when
    sha = hashlib.sha256(name.encode()).hexdigest()
    media_id, _ = store.add_original(sha, size=10, store_path=f"store/{sha}", inbox="/inbox",
                                     name=name, mtime_ns=1)
    store.begin_stage(media_id, "extract", run_id=run_id)
    store.quarantine(media_id, reason)


YESTERDAY = Seeded("yesterday.mp4", 600.0, (("concern.threat", "concern"),), (60,))
LATE = Seeded("late night.mp4", 900.0, (("distress", "disclosure"),), (50,))
KITCHEN = Seeded("kitchen.mp4", 1800.0, (("distress", "disclosure"), ("distress", "disclosure"),
                                         ("practice.safety", "practice")), (96, 40))
HOSTILE = Seeded(HOSTILE_NAME, 4500.0, (("harm.domestic_abuse", "disclosure"),
                                        ("concern.threat", "concern")), (80,))
TOMORROW = Seeded("after midnight.mp4", 300.0, (("concern.profanity", "concern"),), (20,))


def seed_day(store: Store, frozen: FrozenClock) -> None:
    """A night of work around the report day, through the store's own API.

    Counted on the day: late night.mp4 (ingested the day before, finished at 00:10),
    kitchen.mp4 and the hostile name (finished by run 2), three quarantined files
    (two "no audio track", one hostile reason), after midnight.mp4 (ingested at
    23:59, finished at exactly 24:00: seen but not done), runs 2 and 3.
    Not counted: yesterday.mp4 (ingested and finished the day before), run 1
    (started the day before).
    """
    _process(store, frozen, YESTERDAY, ingest=at(-14), finish=at(-13.5))
    frozen.now = at(-0.25)
    late_run = store.start_run(inbox="/inbox", executor="local", workers=2, device="cpu",
                               model="tiny.en")
    _process(store, frozen, LATE, ingest=at(-1 / 6), finish=at(1 / 6), run_id=late_run)
    frozen.now = at(0.25)
    store.finish_run(late_run, files=1, done=1, quarantined=0, audio_s=900.0, elapsed_s=1800.0)

    frozen.now = at(1)
    run = store.start_run(inbox="/inbox", executor="local", workers=2, device="cpu",
                          model="tiny.en")
    _process(store, frozen, KITCHEN, ingest=at(1.05), finish=at(1.5), run_id=run)
    _process(store, frozen, HOSTILE, ingest=at(1.1), finish=at(2.5), run_id=run)
    _quarantine(store, frozen, "no sound 1.mp4", "no audio track", at(1.2), run_id=run)
    _quarantine(store, frozen, "no sound 2.mp4", "no audio track", at(1.3), run_id=run)
    frozen.now = at(1.4)
    store.record_unreadable("/inbox", "link.mp4", HOSTILE_REASON)
    frozen.now = at(3)
    store.finish_run(run, files=5, done=2, quarantined=3, audio_s=6300.0, elapsed_s=420.0)

    frozen.now = at(23.9)
    store.start_run(inbox="/inbox", executor="local", workers=1, device="cpu", model="tiny.en")
    _process(store, frozen, TOMORROW, ingest=at(23.98), finish=at(24))


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == COLUMNS[path.stem]
        return list(reader)


class _Page(HTMLParser):
    """What a browser would see: tags with their attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture()
def seeded(db_url: str, frozen: FrozenClock) -> Store:
    store = open_store(db_url)
    seed_day(store, frozen)
    frozen.now = at(30)  # the report is written the next morning
    return store


def test_figures_match_what_was_stored(seeded: Store, tmp_path: Path) -> None:
    result = write_report(seeded, tmp_path / "out", day=DAY, actor="cli:test")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.html", *(f"{key}.csv" for key in COLUMNS)]
    )

    [summary] = _csv(out / "summary.csv")
    assert summary == {
        "date": "2026-11-27", "files_seen": "7", "done": "3", "quarantined": "3",
        "unfinished": "1", "hours_processed": "2.0", "flags": "6", "review_items": "4",
        "runs": "2", "x_real_time": "15.0",
    }
    assert result.summary.hours_processed == (900 + 1800 + 4500) / 3600

    files = {row["name"]: row for row in _csv(out / "files.csv")}
    assert set(files) == {LATE.name, KITCHEN.name, HOSTILE_NAME, "no sound 1.mp4",
                          "no sound 2.mp4", "link.mp4", TOMORROW.name}
    assert "yesterday.mp4" not in files
    assert files[KITCHEN.name]["state"] == "done"
    assert files[KITCHEN.name]["finished_at"] == "2026-11-27T01:30:00Z"
    assert files[KITCHEN.name]["flags"] == "3"
    assert float(files[HOSTILE_NAME]["duration_s"]) == 4500.0
    assert len(files[KITCHEN.name]["sha256_prefix"]) == 12
    assert files[LATE.name]["ingested_at"] == "2026-11-26T23:50:00Z"
    assert files["link.mp4"] == {
        "name": "link.mp4", "sha256_prefix": "", "state": "quarantined", "reason": HOSTILE_REASON,
        "duration_s": "", "flags": "0", "ingested_at": "2026-11-27T01:24:00Z",
        "finished_at": "2026-11-27T01:24:00Z", "officer_id": "", "team": "", "shift": "",
        "incident_ref": "", "incident_type": "", "recorded_at": "",  # no manifest named it
    }
    # Finished at exactly midnight: the next day's work, though it arrived on this one.
    assert files[TOMORROW.name]["finished_at"] == "2026-11-28T00:00:00Z"

    flags = {(r["category"], r["family"]): int(r["count"])
             for r in _csv(out / "flags_by_category.csv")}
    assert flags == {("distress", "disclosure"): 3, ("practice.safety", "practice"): 1,
                     ("harm.domestic_abuse", "disclosure"): 1, ("concern.threat", "concern"): 1}

    items = {(r["priority_band"], r["status"]): int(r["count"])
             for r in _csv(out / "review_items.csv")}
    assert items == {("high", "new"): 2, ("low", "new"): 2}  # 96 and 80; 50 and 40

    reasons = [(r["reason"], int(r["count"])) for r in _csv(out / "quarantine_reasons.csv")]
    assert reasons == [("no audio track", 2), (HOSTILE_REASON, 1)]

    runs = _csv(out / "runs.csv")
    assert [(r["run_id"], r["state"]) for r in runs] == [("2", "finished"), ("3", "running")]
    assert float(runs[0]["hours_processed"]) == 1.75
    assert float(runs[0]["elapsed_s"]) == 420.0
    assert float(runs[0]["x_real_time"]) == 15.0
    assert runs[0]["started_at"] == "2026-11-27T01:00:00Z"
    assert runs[1]["x_real_time"] == "" and runs[1]["finished_at"] == ""

    rows, total = seeded.audit_page(offset=0, limit=5, action="report")
    assert total == 1
    assert (rows[0].actor, rows[0].object, rows[0].detail) == (
        "cli:test", "report:2026-11-27", str(out))


def test_the_day_before_is_its_own_report(seeded: Store, tmp_path: Path) -> None:
    result = write_report(seeded, tmp_path / "out", day=DAY - timedelta(days=1), actor="cli:test")
    names = [row["name"] for row in _csv(tmp_path / "out" / "files.csv")]
    # late night.mp4 arrived that day and finished after midnight: seen, not done.
    assert names == [YESTERDAY.name, LATE.name]
    assert (result.summary.done, result.summary.runs, result.summary.flags) == (1, 1, 1)
    assert result.summary.x_real_time == 0.5


def test_page_is_self_contained_and_escapes_names(seeded: Store, tmp_path: Path) -> None:
    result = write_report(seeded, tmp_path / "out", day=DAY, actor="cli:test")
    raw = result.html.read_text(encoding="utf-8")
    page = _page(result.html)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == CHARTS
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    embedded = ("script", "link", "iframe", "object", "embed", "base")
    assert not [tag for tag, _ in page.tags if tag in embedded]
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "action", "srcset", "poster"):
                assert (value or "").startswith("data:"), (tag, name, value)
    assert "http:" not in raw and "https:" not in raw and "url(" not in raw and "@import" not in raw
    text = "".join(page.text)
    assert HOSTILE_NAME in text and HOSTILE_REASON in text
    assert "<img src=x" not in raw and "<img src=y" not in raw
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; call.mp4" in raw


def test_empty_day_is_still_a_report(db_url: str, frozen: FrozenClock, tmp_path: Path) -> None:
    store = open_store(db_url)
    frozen.now = at(12)
    result = write_report(store, tmp_path / "out", day=None, actor="cli:test")
    assert result.summary.day == DAY and result.summary.empty
    page = _page(result.html)
    assert not [tag for tag, _ in page.tags if tag == "img"]
    text = " ".join("".join(page.text).split())
    assert "Nothing was processed on 2026-11-27" in text
    for sentence in ("No footage was processed.", "Nothing was flagged.",
                     "No review items were created.", "No file was quarantined.",
                     "No batch run started and finished this day."):
        assert sentence in text
    for key in COLUMNS:
        rows = _csv(tmp_path / "out" / f"{key}.csv")
        assert rows == ([] if key not in ("summary", "audit_head") else [{
            "date": "2026-11-27", "files_seen": "0", "done": "0", "quarantined": "0",
            "unfinished": "0", "hours_processed": "0.0", "flags": "0", "review_items": "0",
            "runs": "0", "x_real_time": "",
        }] if key == "summary" else [{
            "date": "2026-11-27", "rows": "0", "head_id": "", "head_hash": "0" * 64,
        }])


def test_cli_writes_the_report(seeded: Store, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "nightly"
    args = ["--home", str(tmp_path / "home"), "--db", seeded.url, "report", "-o", str(out)]
    result = CliRunner().invoke(cli, [*args, "--date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"wrote {out / 'report.html'}"
    assert lines[1:-2] == [f"wrote {out / key}.csv" for key in COLUMNS]
    head = seeded.audit_head()  # the report's own audit row included
    assert lines[-2] == (f"anchored the audit log: {head.rows - 1} rows, head row "
                         f"{head.head_id - 1}, in {tmp_path / 'home' / 'audit.anchors'}")
    assert lines[-1] == (
        "report for 2026-11-27: 7 files seen, 3 done, 3 quarantined, 2.00 h of footage, "
        "6 flags, 4 review items, 2 runs, 15.0x real time"
    )
    assert (out / "report.html").stat().st_size > 10_000
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]

    # Without --date: today by the pipeline's clock (the day after), quiet prints the summary only.
    result = CliRunner().invoke(cli, ["-q", *args])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "report for 2026-11-28: 1 files seen, 1 done, 0 quarantined, 0.08 h of footage, "
        "1 flags, 1 review items, 0 runs, no timed run"
    ]
    assert seeded.audit_page(offset=0, limit=1, action="report")[0][0].object == "report:2026-11-28"


def test_the_report_carries_the_audit_log_at_the_end_of_the_day(
        seeded: Store, frozen: FrozenClock, tmp_path: Path) -> None:
    """Issue 14: a copy of the day's audit head outside the database, beside the figures."""
    frozen.now = at(12)
    seeded.audit(actor="cli:test", action="export.flags", obj="flags")
    day_end = seeded.audit_head()
    frozen.now = at(30)  # the next morning: rows written then are not the day's
    seeded.audit(actor="cli:test", action="export.flags", obj="flags")
    write_report(seeded, tmp_path / "out", day=DAY, actor="cli:test")
    assert _csv(tmp_path / "out" / "audit_head.csv") == [{
        "date": "2026-11-27", "rows": str(day_end.rows), "head_id": str(day_end.head_id),
        "head_hash": day_end.head_hash,
    }]
    assert day_end.head_hash in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("bad", ["2026-13-01", "27/11/2026", "2026-02-30", "20261127", "yesterday"])
def test_cli_bad_date_is_one_clear_error(bad: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "report", "--date", bad,
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for '--date': '{bad}' is not a date; "
        "use YYYY-MM-DD (a UTC day), for example 2026-11-27"
    )
    assert not (tmp_path / "out").exists()


def test_cli_unwritable_output_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "report", "--date",
                                      "2026-11-27", "-o", str(blocker / "out")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: cannot write the report to {blocker / 'out'}: Not a directory; "
        "choose a writable folder with -o"
    )
