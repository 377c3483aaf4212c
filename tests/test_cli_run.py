"""End to end: `bwv run` over a generated inbox, exports, reruns and bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, age, bwv, copy_into
from scripts.footage import Line, Scenario, build_clip

DISCLOSURE = "He grabbed me round the throat last night and said he would kill me."
PRACTICE = "Has anyone been hurt? Do you need an ambulance?"
SCENARIO = Scenario(
    "kitchen",
    (
        Line("wearer", "Hello, I'm PC Shah from the police, we've come because a neighbour rang us."),
        Line("public", "I didn't want anyone to call, it's fine now."),
        Line("wearer", PRACTICE),
        Line("public", DISCLOSURE),
        Line("wearer", "Thank you for telling me. Take your time."),
    ),
)
WEIRD = "body cam 'night' \"shift\" $(touch pwned) é ü 日本.mp4"
FIELDS = {"source", "sha256", "start", "end", "category", "rubric", "text", "context", "speaker"}


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("clip") / "kitchen.mp4"
    # A clear public voice: this test is about the pipeline, not about hard audio.
    return build_clip(SCENARIO, out, seed=4, public_gain_db=-6.0)


@pytest.fixture(scope="session")
def processed(tmp_path_factory: pytest.TempPathFactory, clip, media_dir: Path):
    """An inbox with good clips and every kind of bad input, run once."""
    base = tmp_path_factory.mktemp("run")
    inbox, home = base / "inbox", base / "home"
    copy_into(inbox, Path(clip.path), "2026-11-27 kitchen.mp4")
    copy_into(inbox, media_dir / "jfk.mp4", WEIRD)
    for name in ("empty.mp4", "text.mp4", "truncated.mp4", "noaudio.mp4"):
        copy_into(inbox, media_dir / name)
    (inbox / "link.mp4").symlink_to(inbox / WEIRD)
    age(inbox / "link.mp4")
    proc = bwv(home, "run", str(inbox), check=False)
    return inbox, home, proc


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_run_exits_zero_and_prints_a_summary(processed) -> None:
    _inbox, _home, proc = processed
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in ("bwv run: summary", "files in inbox", "hours of footage", "review items",
                    "quarantined", "throughput"):
        assert heading in out
    assert "7" in out.split("files in inbox")[1].splitlines()[0]
    assert not (ROOT / "pwned").exists() and not (processed[0] / "pwned").exists()


def test_flags_are_where_the_phrases_are_spoken(processed, clip) -> None:
    _inbox, home, _proc = processed
    rows = _jsonl(bwv(home, "export", "flags", "--format", "jsonl").stdout)
    mine = [r for r in rows if r["source"] == "2026-11-27 kitchen.mp4"]
    assert mine, rows
    for row in rows:
        assert FIELDS <= set(row), row
        assert row["rubric"].startswith("trauma_informed@")
        assert row["speaker"] in ("wearer", "unknown") or row["speaker"].startswith("speaker ")
        assert len(row["sha256"]) == 64
    spoken = {line.text: line for line in clip.lines}

    def near(category: str, line_text: str, speaker: str) -> bool:
        line = spoken[line_text]
        return any(
            r["category"] == category
            and r["start"] >= line.start_s - 1.0
            and r["end"] <= line.end_s + 1.0
            and r["speaker"] == speaker
            for r in mine
        )

    # The public discloses; the officer wearing the camera asks about safety (issue 16).
    assert near("harm.domestic_abuse", DISCLOSURE, "speaker 2"), mine
    assert near("practice.safety", PRACTICE, "wearer"), mine
    # "I didn't want anyone to call" is not a disclosure.
    line = spoken["I didn't want anyone to call, it's fine now."]
    assert not [r for r in mine if r["family"] == "disclosure" and line.start_s <= r["start"] <= line.end_s]


def test_csv_export_has_the_same_rows(processed) -> None:
    _inbox, home, _ = processed
    jsonl = _jsonl(bwv(home, "export", "flags").stdout)
    out = home.parent / "flags.csv"
    bwv(home, "export", "flags", "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len(jsonl) and FIELDS <= set(rows[0])


EXPECTED = {
    "empty.mp4": "empty file (0 bytes): the upload failed; upload it again",
    "text.mp4": "not a media file: it holds text (check what was uploaded under this name)",
    "truncated.mp4": "truncated: moov atom missing (the upload was cut short; upload the file again)",
    "noaudio.mp4": "no audio track: nothing to transcribe (check the camera's microphone)",
    "link.mp4": "symlink refused: copy the file itself into the inbox",
}


def test_bad_input_is_quarantined_with_a_reason(processed) -> None:
    _inbox, home, _ = processed
    media = {r["source"]: r for r in _jsonl(bwv(home, "export", "media").stdout)}
    for name, reason in EXPECTED.items():
        assert media[name]["state"] == "quarantined", media[name]
        assert media[name]["reason"] == reason
    assert media["link.mp4"]["sha256"] is None
    assert media[WEIRD]["state"] == "done" and media[WEIRD]["reason"] is None
    assert media["2026-11-27 kitchen.mp4"]["state"] == "done"
    assert media["2026-11-27 kitchen.mp4"]["duration"] > 10


def test_transcript_exports(processed) -> None:
    _inbox, home, _ = processed
    rows = _jsonl(bwv(home, "export", "transcripts").stdout)
    weird = [r for r in rows if r["source"] == WEIRD]
    assert "ask not what your country" in " ".join(r["text"] for r in weird).lower()
    for row in rows:
        assert {"source", "sha256", "start", "end", "text", "words", "speaker",
                "speaker_name"} <= set(row)
        assert row["words"] and set(row["words"][0]) == {"start", "end", "word", "probability",
                                                         "speaker"}
        assert all(w["speaker"] == row["speaker"] for w in row["words"])
    vtt = bwv(home, "export", "transcripts", "--format", "vtt").stdout
    assert vtt.startswith("WEBVTT") and " --> " in vtt


def test_second_run_changes_nothing_and_a_copy_adds_a_name(processed, clip, tmp_path) -> None:
    inbox, home, _ = processed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    before = _jsonl(bwv(work, "export", "media").stdout)
    flags_before = bwv(work, "export", "flags").stdout
    again = bwv(work, "run", str(inbox))
    assert "nothing new to process" in again.stdout
    assert _jsonl(bwv(work, "export", "media").stdout) == before
    assert bwv(work, "export", "flags").stdout == flags_before
    copy_inbox = tmp_path / "inbox2"
    copy_into(copy_inbox, Path(clip.path), "copy of kitchen.mp4")
    bwv(work, "run", str(copy_inbox))
    after = _jsonl(bwv(work, "export", "media").stdout)
    assert len(after) == len(before)
    kitchen = next(r for r in after if r["source"] == "2026-11-27 kitchen.mp4")
    assert kitchen["names"] == ["2026-11-27 kitchen.mp4", "copy of kitchen.mp4"]
    assert bwv(work, "export", "flags").stdout == flags_before


def test_file_still_being_written_waits_for_the_next_run(tmp_path: Path, media_dir: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = (media_dir / "jfk.mp4").read_bytes()
    with (inbox / "uploading.mp4").open("wb") as upload:  # an upload in progress
        upload.write(data[: len(data) // 2])
        upload.flush()
        proc = bwv(tmp_path / "home", "run", str(inbox), "--settle-seconds", "0", check=False)
        assert proc.returncode == 3
        assert ("deferred    uploading.mp4 (still being written; the next run takes it: open for "
                "writing by another process (a read lease was refused))") in proc.stderr.splitlines()
        assert _jsonl(bwv(tmp_path / "home", "export", "media").stdout) == []
        upload.write(data[len(data) // 2:])
    proc = bwv(tmp_path / "home", "run", str(inbox), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["state"] for r in _jsonl(bwv(tmp_path / "home", "export", "media").stdout)] == ["done"]


def test_a_file_copied_in_just_before_the_run_is_taken(tmp_path: Path, media_dir: Path) -> None:
    """Nothing is writing it, so it is not "still being written", however new its mtime."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(media_dir / "jfk.mp4", inbox / "just copied.mp4")  # mtime: now
    proc = bwv(tmp_path / "home", "run", str(inbox), "--settle-seconds", "600", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "still being written" not in proc.stdout + proc.stderr
    rows = _jsonl(bwv(tmp_path / "home", "export", "media").stdout)
    assert [(r["source"], r["state"]) for r in rows] == [("just copied.mp4", "done")]


def test_a_run_stopped_between_stages_resumes_where_it_stopped(processed, tmp_path) -> None:
    import sqlite3

    inbox, home, _ = processed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    flags = bwv(work, "export", "flags").stdout
    segments = bwv(work, "export", "transcripts").stdout
    db = sqlite3.connect(work / "bwv.sqlite3")
    kitchen, weird = (
        db.execute("SELECT media_id FROM media_name WHERE name = ?", (n,)).fetchone()[0]
        for n in ("2026-11-27 kitchen.mp4", WEIRD)
    )
    # One item stopped after transcription, one before probing.
    db.execute("DELETE FROM flag WHERE media_id IN (?, ?)", (kitchen, weird))
    db.execute("DELETE FROM review_item WHERE media_id IN (?, ?)", (kitchen, weird))
    db.execute("UPDATE media SET state = 'transcribed' WHERE id = ?", (kitchen,))
    db.execute("UPDATE media SET state = 'ingested' WHERE id = ?", (weird,))
    db.commit()
    db.close()
    again = bwv(work, "run", str(inbox))
    assert "2 done" in again.stdout
    assert bwv(work, "export", "transcripts").stdout.count("ask not") == segments.count("ask not")
    rows = _jsonl(bwv(work, "export", "flags").stdout)
    assert len(rows) == len(_jsonl(flags))
    assert {(r["source"], r["category"]) for r in rows} == {(r["source"], r["category"]) for r in _jsonl(flags)}
