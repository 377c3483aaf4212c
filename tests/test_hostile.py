"""The whole hostile-file set through the real `bwv run`, all in one inbox.

Every file ends in exactly one state: done (with a transcript, flags where a
rubric phrase is spoken, nothing invented on silence) or quarantined with a
reason a person can act on. A file still being written waits for the next run.
The originals in the inbox are never modified and no file name reaches a shell.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, age, bwv, ffmpeg

#: Shell metacharacters in a file name: if one ever reached a shell, `pwned` would appear.
WEIRD = "cam 7; touch pwned & `touch pwned` | $(touch pwned) 'a' \"b\" *?.mp4"
UPLOADING = "still uploading.mp4"
SPEECH = "ask not what your country can do for you"

#: Files that must be processed: name -> whether it has video.
DONE = {
    "audio only.m4a": False,
    "variable frame rate.mp4": True,
    "rotated.mp4": True,
    "two tracks, first silent.mp4": True,
    "clipped loud.mp4": True,
    "8 kHz.wav": False,
    "192 kHz.wav": False,
    "ten minutes of silence.mp4": True,
    WEIRD: True,
}
QUARANTINED = {
    "empty.mp4": "empty file (0 bytes): the upload failed; upload it again",
    "text.mp4": "not a media file: it holds text (check what was uploaded under this name)",
    # In the store an original has no name to go by: ffprobe finds no format at all.
    "noise.mp4": "not a media file (ffprobe cannot read it)",
    "truncated.mp4": "truncated: moov atom missing (the upload was cut short; upload the file again)",
    "no audio.mp4": "no audio track: nothing to transcribe (check the camera's microphone)",
    "8192x8192.mp4": "video too large: 8192x8192 is over the limit of 35,000,000 pixels",
    "link.mp4": "symlink refused: copy the file itself into the inbox",
}
#: The decoded length depends on how much the decoder recovers; the rest is exact.
DAMAGED = "corrupt middle.mp4"
DAMAGED_REASON = re.compile(
    r"damaged: the audio decodes to (\d+\.\d) s of the 22\.0 s the container states "
    r"\(corrupt data inside the file; copy it from the camera again\)"
)
VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast"]


@pytest.fixture(scope="session")
def hostile_media(tmp_path_factory: pytest.TempPathFactory, test_data: Path, jfk: Path) -> Path:
    """Every hostile file, made once with ffmpeg and espeak-ng (two at a time)."""
    d = tmp_path_factory.mktemp("hostile")
    jobs: list[list[str]] = [
        # 11 s of real speech with a small picture.
        [*VIDEO, "-i", str(jfk), "-shortest", *X264, "-c:a", "aac", str(d / "speech.mp4")],
        [*VIDEO, "-t", "2", *X264, str(d / "no audio.mp4")],
        # Frames dropped unevenly after 3 s: 10 fps, then 3.3 fps (avg_frame_rate != r_frame_rate).
        [*VIDEO, "-i", str(jfk), "-shortest", "-vf", "select='if(lt(t,3),1,not(mod(n,3)))'",
         "-fps_mode", "vfr", *X264, "-c:a", "aac", str(d / "variable frame rate.mp4")],
        # The first track is a muted microphone's hiss; the speech is on the second.
        [*VIDEO, "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.001:r=48000", "-i", str(jfk),
         "-map", "0:v", "-map", "1:a", "-map", "2:a", "-shortest", *X264, "-c:a", "aac",
         str(d / "two tracks, first silent.mp4")],
        # +30 dB, hard-clipped to 16 bits before encoding.
        [*VIDEO, "-i", str(jfk), "-shortest", "-af", "volume=30dB,aformat=sample_fmts=s16",
         *X264, "-c:a", "aac", str(d / "clipped loud.mp4")],
        ["-i", str(jfk), "-ar", "8000", "-c:a", "pcm_s16le", str(d / "8 kHz.wav")],
        ["-i", str(jfk), "-ar", "192000", "-c:a", "pcm_s24le", str(d / "192 kHz.wav")],
        # Ten real minutes of a quiet room: a faint hiss that level normalisation lifts.
        ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=1", "-f", "lavfi", "-i",
         "anoisesrc=c=pink:a=0.0005:r=16000", "-t", "600", *X264, "-c:a", "aac", "-b:a", "24k",
         str(d / "ten minutes of silence.mp4")],
        # One grey PNG frame: refused by its probe before anything is decoded.
        ["-f", "lavfi", "-i", "color=c=gray:size=8192x8192:rate=1", "-f", "lavfi", "-i",
         "sine=f=440:d=1", "-frames:v", "1", "-t", "1", "-pix_fmt", "gray", "-c:v", "png",
         "-c:a", "aac", "-f", "mov", str(d / "8192x8192.mp4")],
        # 22 s of speech, to be damaged below.
        [*VIDEO, "-i", str(jfk), "-i", str(jfk), "-filter_complex",
         "[1:a][2:a]concat=n=2:v=0:a=1[a]", "-map", "0:v", "-map", "[a]", "-shortest", *X264,
         "-c:a", "aac", str(d / "long speech.mp4")],
        [*VIDEO, "-i", str(test_data / "speech" / "hotwords.mp3"), "-shortest", *X264,
         "-c:a", "aac", str(d / UPLOADING)],
    ]
    with ThreadPoolExecutor(2) as pool:
        # A rubric phrase, spoken, for an audio-only file.
        said = pool.submit(subprocess.run, [
            "espeak-ng", "-v", "en+m3", "-s", "150", "-w", str(d / "disclosure.wav"), "--",
            "He grabbed me round the throat last night and said he would kill me.",
        ], check=True, timeout=60, stdin=subprocess.DEVNULL)
        list(pool.map(lambda args: ffmpeg(*args), jobs))
        said.result()
    ffmpeg("-i", str(d / "disclosure.wav"), "-c:a", "aac", str(d / "audio only.m4a"))
    speech = d / "speech.mp4"
    ffmpeg("-i", str(speech), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(d / "rotated.mp4"))
    shutil.copyfile(speech, d / WEIRD)
    data = speech.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is a text file, not a video\n")
    (d / "noise.mp4").write_bytes(bytes(range(256)) * 64)
    # The middle 30% of its bytes zeroed: audio and video packets alike.
    damaged = bytearray((d / "long speech.mp4").read_bytes())
    lo, hi = int(len(damaged) * 0.35), int(len(damaged) * 0.65)
    damaged[lo:hi] = bytes(hi - lo)
    (d / DAMAGED).write_bytes(damaged)
    return d


def _export(home: Path, kind: str) -> list[dict]:
    proc = bwv(home, "export", kind, "--format", "jsonl", check=False)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def _hashes(inbox: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in inbox.iterdir()
        if p.is_file() and not p.is_symlink()
    }


@dataclass(frozen=True)
class HostileRun:
    """Two runs over the hostile inbox: while one file is still being written, and after."""

    base: Path
    inbox: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    media_first: dict[str, dict]
    media: dict[str, dict]
    transcripts: dict[str, str]
    words: dict[str, int]
    flags: list[dict]
    hashes_before: dict[str, str]
    hashes_after: dict[str, str]


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, hostile_media: Path) -> HostileRun:
    base = tmp_path_factory.mktemp("hostile-run")
    inbox, home = base / "inbox", base / "home"
    inbox.mkdir()
    for name in [*DONE, *(n for n in QUARANTINED if n != "link.mp4"), DAMAGED]:
        shutil.copyfile(hostile_media / name, inbox / name)
    # Pointing outside the inbox at good footage: followed, it would be processed.
    (inbox / "link.mp4").symlink_to(hostile_media / "long speech.mp4")
    shutil.copyfile(hostile_media / UPLOADING, inbox / UPLOADING)
    age(*inbox.iterdir(), seconds=3600)
    hashes_before = _hashes(inbox)
    with (inbox / UPLOADING).open("ab"):  # the uploader still holds it open, whatever its mtime
        first = bwv(home, "run", str(inbox), check=False)
    media_first = {r["source"]: r for r in _export(home, "media")}
    second = bwv(home, "run", str(inbox), check=False)
    segments = _export(home, "transcripts")
    transcripts: dict[str, str] = {}
    words: dict[str, int] = {}
    for seg in segments:
        transcripts[seg["source"]] = f"{transcripts.get(seg['source'], '')} {seg['text']}"
        words[seg["source"]] = words.get(seg["source"], 0) + len(seg["words"])
    return HostileRun(
        base=base, inbox=inbox, first=first, second=second, media_first=media_first,
        media={r["source"]: r for r in _export(home, "media")},
        transcripts={k: v.lower() for k, v in transcripts.items()}, words=words,
        flags=_export(home, "flags"), hashes_before=hashes_before, hashes_after=_hashes(inbox),
    )


def test_first_run_defers_the_file_still_being_written(hostile_run: HostileRun) -> None:
    first = hostile_run.first
    assert first.returncode == 3, first.stdout + first.stderr  # unfinished: run again later
    lines = (first.stdout + first.stderr).splitlines()
    assert any(UPLOADING in line and "still being written; the next run takes it" in line
               for line in lines), first.stdout + first.stderr
    assert UPLOADING not in hostile_run.media_first
    expected = {*DONE, *QUARANTINED, DAMAGED}
    assert set(hostile_run.media_first) == expected
    assert {r["state"] for r in hostile_run.media_first.values()} == {"done", "quarantined"}


def test_second_run_takes_it_and_exits_zero(hostile_run: HostileRun) -> None:
    second = hostile_run.second
    assert second.returncode == 0, second.stdout + second.stderr
    row = hostile_run.media[UPLOADING]
    assert row["state"] == "done" and row["reason"] is None
    assert hostile_run.words.get(UPLOADING, 0) > 0
    # Nothing else was touched again.
    after = {k: v for k, v in hostile_run.media.items() if k != UPLOADING}
    assert after == hostile_run.media_first


@pytest.mark.parametrize("name,reason", sorted(QUARANTINED.items()))
def test_quarantined_with_its_reason(hostile_run: HostileRun, name: str, reason: str) -> None:
    row = hostile_run.media[name]
    assert (row["state"], row["reason"]) == ("quarantined", reason), row
    assert name not in hostile_run.transcripts


def test_symlink_is_never_followed(hostile_run: HostileRun, hostile_media: Path) -> None:
    assert hostile_run.media["link.mp4"]["sha256"] is None
    target = hashlib.sha256((hostile_media / "long speech.mp4").read_bytes()).hexdigest()
    assert target not in {r["sha256"] for r in hostile_run.media.values()}


def test_corrupt_middle_is_quarantined_as_damaged(hostile_run: HostileRun) -> None:
    row = hostile_run.media[DAMAGED]
    assert row["state"] == "quarantined", row
    match = DAMAGED_REASON.fullmatch(row["reason"] or "")
    assert match, row["reason"]
    assert float(match.group(1)) < 19.0  # seconds of the 22 s lost to the zeroed bytes
    assert DAMAGED not in hostile_run.transcripts


@pytest.mark.parametrize("name", sorted(DONE))
def test_processed_with_a_transcript(hostile_run: HostileRun, name: str) -> None:
    row = hostile_run.media[name]
    assert (row["state"], row["reason"]) == ("done", None), row
    assert row["has_video"] is DONE[name]
    assert row["sha256"] == hostile_run.hashes_before[name]
    text = hostile_run.transcripts.get(name, "")
    if name == "audio only.m4a":
        assert "throat" in text and "kill me" in text, text
    elif name == "ten minutes of silence.mp4":
        return
    elif name == "clipped loud.mp4":
        # Distorted, but still speech: most of the words come through.
        assert "what your country can do for you" in text, text
        assert hostile_run.words[name] >= 15
    else:
        assert SPEECH in text, text


def test_speech_is_found_on_the_second_track(hostile_run: HostileRun) -> None:
    assert hostile_run.media["two tracks, first silent.mp4"]["audio_track"] == 1


def test_a_spoken_rubric_phrase_is_flagged_without_video(hostile_run: HostileRun) -> None:
    mine = [f for f in hostile_run.flags if f["source"] == "audio only.m4a"]
    assert any(f["category"] == "harm.domestic_abuse" for f in mine), mine


def test_ten_minutes_of_silence_invents_nothing(hostile_run: HostileRun) -> None:
    row = hostile_run.media["ten minutes of silence.mp4"]
    assert 599.0 < row["duration"] < 601.0
    assert hostile_run.words.get("ten minutes of silence.mp4", 0) <= 2
    assert not [f for f in hostile_run.flags if f["source"] == "ten minutes of silence.mp4"]


def test_originals_are_untouched_and_no_name_reached_a_shell(hostile_run: HostileRun,
                                                             hostile_media: Path) -> None:
    assert hostile_run.hashes_after == hostile_run.hashes_before
    assert os.readlink(hostile_run.inbox / "link.mp4") == str(hostile_media / "long speech.mp4")
    for folder in (hostile_run.base, hostile_media):
        assert not list(folder.rglob("pwned")), folder
    assert not (ROOT / "pwned").exists() and not (Path.cwd() / "pwned").exists()
