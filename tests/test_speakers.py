"""Speaker turns (issue 16): voices told apart, the wearer found by closeness, segments split
at a change, stored and exported with their speakers, and never a transcript lost."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch import speakers, voices
from pipeline.batch.speakers import assign_speakers, without_speakers
from pipeline.errors import ModelError
from pipeline.records import Segment, Transcription, Word
from pipeline.store import open_store
from pipeline.store.exports import segment_rows, to_vtt

RATE = 16_000


def _say(text: str, voice: str, tmp: Path, *, pitch: int = 50) -> np.ndarray:
    """espeak-ng speech as 16 kHz float audio."""
    out = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(out), text],
                   check=True, capture_output=True)
    raw = subprocess.run(["sox", str(out), "-r", str(RATE), "-c", "1", "-b", "16", "-t", "raw",
                          "-e", "signed", "-"], check=True, capture_output=True).stdout
    audio = np.frombuffer(raw, np.int16).astype(np.float32) / 32768
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]:loud[-1] + 1]


def _far(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """A voice across the room: quieter, duller, with an echo of the walls."""
    kernel = np.ones(3) / 3  # low-pass
    dull = np.convolve(audio, kernel, mode="same")
    echo = np.zeros(len(dull) + 2400, np.float32)
    echo[: len(dull)] += dull
    echo[1200:1200 + len(dull)] += 0.5 * dull
    echo[2400:2400 + len(dull)] += 0.25 * dull
    return echo * 10 ** (gain_db / 20)


def _scene(lines: list[tuple[str, np.ndarray, str]], gap_s: float = 0.6
           ) -> tuple[np.ndarray, list[Segment], list[tuple[float, float, str]]]:
    """Lines one after another; one Whisper-like segment per two lines (so some segments hold
    two voices), words spread evenly over each line; and the truth (start, end, who)."""
    audio, words_by_line, truth, cursor = [], [], [], 0.0
    rng = np.random.default_rng(0)
    for text, voice_audio, who in lines:
        start = cursor
        audio.append(voice_audio)
        end = start + len(voice_audio) / RATE
        tokens = text.split()
        step = (end - start) / len(tokens)
        words_by_line.append([Word(round(start + i * step, 3), round(start + (i + 1) * step, 3),
                                   t, 0.9) for i, t in enumerate(tokens)])
        truth.append((start, end, who))
        audio.append(np.zeros(int(gap_s * RATE), np.float32))
        cursor = end + gap_s
    mixed = np.concatenate(audio)
    mixed += rng.normal(0, 0.002, len(mixed)).astype(np.float32)  # a little room noise
    segments = []
    for i in range(0, len(words_by_line), 2):
        words = [w for line in words_by_line[i:i + 2] for w in line]
        segments.append(Segment(words[0].start_s, words[-1].end_s,
                                " ".join(w.word for w in words), tuple(words)))
    return (np.clip(mixed, -1, 1) * 32767).astype(np.int16), segments, truth


def _two_voices(tmp: Path, public_db: float):
    wearer = [
        "Hello, I'm a police officer. Are you hurt at all tonight?",
        "You've done nothing wrong. Take your time, there's no rush.",
        "I'd like to make a referral so somebody can ring you tomorrow.",
    ]
    public = [
        "He grabbed me by the throat and pushed me against the fridge.",
        "It's no big deal, honestly, he was only drunk and he said sorry.",
        "I don't want him arrested, I just want him to leave me alone.",
    ]
    lines = []
    for w, p in zip(wearer, public, strict=True):
        lines.append((w, _say(w, "en-gb", tmp) * 0.5, "wearer"))
        lines.append((p, _far(_say(p, "en-us+f2", tmp, pitch=60) * 0.5, public_db), "public"))
    return _scene(lines)


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory: pytest.TempPathFactory):
    """The wearer close, another voice across the room 12 dB down."""
    return _two_voices(tmp_path_factory.mktemp("voices"), -12)


def _truth_of(word: Word, truth: list[tuple[float, float, str]]) -> str:
    middle = (word.start_s + word.end_s) / 2
    return next(who for start, end, who in truth if start - 0.01 <= middle <= end + 0.01)


@pytest.mark.parametrize("method", speakers.METHODS)
def test_the_wearer_and_another_voice_are_told_apart(two_voices, method: str) -> None:
    samples, segments, truth = two_voices
    result = assign_speakers(samples, segments, method=method)
    assert result.status == "separated"
    words = [w for s in result.segments for w in s.words]
    wearer_words = [w for w in words if _truth_of(w, truth) == "wearer"]
    public_words = [w for w in words if _truth_of(w, truth) == "public"]
    assert sum(w.speaker == "wearer" for w in wearer_words) / len(wearer_words) >= 0.95
    assert sum(w.speaker == "wearer" for w in public_words) / len(public_words) <= 0.05
    assert {w.speaker for w in public_words} == {"speaker 2"}
    # Each Whisper segment held two voices: each is split at the change, words all kept.
    assert len(result.segments) == 2 * len(segments)
    assert [w.word for s in result.segments for w in s.words] == \
        [w.word for s in segments for w in s.words]
    assert all(s.speaker == s.words[0].speaker for s in result.segments)
    assert [t.speaker for t in result.turns] == ["wearer", "speaker 2"] * 3
    assert result.segments[0].text.startswith("Hello, I'm a police officer.")
    assert not result.segments[0].text.endswith("fridge.")


def test_one_voice_is_the_wearer_when_close_and_speaker_2_when_far(two_voices) -> None:
    samples, segments, truth = two_voices
    def only(who: str) -> tuple[np.ndarray, list[Segment]]:
        keep = np.zeros(len(samples), bool)
        for start, end, w in truth:
            if w == who:
                keep[int(start * RATE):int(end * RATE)] = True
        audio = np.where(keep, samples, 0).astype(np.int16)
        segs = [Segment(w.start_s, w.end_s, w.word, (w,)) for s in segments for w in s.words
                if _truth_of(w, truth) == who]
        return audio, segs

    close = assign_speakers(*only("wearer"))
    far = assign_speakers(*only("public"))
    assert close.status == far.status == "one voice"
    assert {w.speaker for s in close.segments for w in s.words} == {"wearer"}
    assert {w.speaker for s in far.segments for w in s.words} == {"speaker 2"}


def test_no_words_means_no_speakers_and_nothing_lost() -> None:
    silence = np.zeros(RATE * 2, np.int16)
    result = assign_speakers(silence, [])
    assert result.status == "without speakers" and result.segments == ()
    seg = Segment(0.0, 1.0, "Help", (Word(0.0, 1.0, "Help", 0.9),))
    plain = without_speakers([seg], why="test")
    assert plain.segments[0].words[0].word == "Help" and plain.segments[0].speaker is None


def test_an_unknown_method_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown speaker method 'x'"):
        assign_speakers(np.zeros(10, np.int16), [], method="x")


def test_the_speaker_model_is_checked_and_read_without_running_its_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = voices.read_checkpoint(voices.ge2e_weights_path())
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    # A checkpoint that asks for any other object is refused before it runs.
    evil = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(header, evil)
    pickle.dump({"model_state": Path("/etc/passwd")}, evil)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(evil.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="refused pathlib"):
        voices.read_checkpoint(bad)
    # Weights that are not the pinned ones are refused, saying what was expected.
    fake = tmp_path / "pretrained.pt"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(voices, "ge2e_weights_path", lambda: fake)
    with pytest.raises(ModelError, match=f"expected {voices.GE2E_SHA256}"):
        voices.Ge2eEncoder()


def test_speakers_are_stored_exported_and_kept_over_a_new_computation(tmp_path: Path,
                                                                      two_voices) -> None:
    samples, segments, _truth = two_voices
    result = assign_speakers(samples, segments)
    store = open_store(f"sqlite:///{tmp_path / 'bwv.sqlite3'}")
    media_id, _ = store.add_original("a" * 64, size=1, store_path="s", inbox="/in",
                                     name="x.mp4", mtime_ns=1)
    store.save_transcript(media_id, Transcription(result.segments, "en", 20.0, 1.0),
                          model="tiny.en", model_sha256="s", settings={},
                          speaker_status=result.status, speaker_info=result.info)
    loaded = store.load_segments(media_id)
    assert [s.speaker for s in loaded] == [s.speaker for s in result.segments]
    assert loaded[1].words[0].speaker == "speaker 2" and loaded[1].origin == 0
    assert store.speaker_state(media_id).scoped

    # A TIP moves the first line to speaker 2 and names speaker 2 "Caller".
    store.move_line(media_id, 0, "speaker 2", by=1, review_item_id=None)
    store.rename_speaker(media_id, "speaker 2", "Caller <b>", by=1, review_item_id=None)
    rows = list(segment_rows(store))
    assert rows[0]["speaker"] == "speaker 2" and rows[0]["speaker_name"] == "Caller <b>"
    assert rows[0]["words"][0]["speaker"] == "speaker 2"
    assert rows[2]["speaker"] == "wearer" and rows[2]["speaker_name"] == "Wearer"
    vtt = to_vtt(rows)
    assert "<v Caller &lt;b&gt;>Hello, I'm a police officer." in vtt
    assert "<v Wearer>You've done nothing wrong." in vtt

    # Turns computed again (here: without speakers) keep the TIP's move.
    again = without_speakers(store.load_segments(media_id), why="again")
    store.save_speakers(media_id, again.segments, status=again.status, info=again.info)
    after = store.load_segments(media_id)
    assert after[0].speaker == "speaker 2" and after[2].speaker is None
    assert store.speaker_state(media_id).status == "without speakers"
    with pytest.raises(Exception, match="cannot move a line to 'speaker 9'"):
        store.move_line(media_id, 1, "speaker 9", by=1, review_item_id=None)


def test_vtt_voice_spans_parse_with_webvtt(tmp_path: Path) -> None:
    import html

    import webvtt  # a maintained WebVTT parser reads what bwv writes
    rows = [{"source": "a.mp4", "sha256": "s", "start": 0.0, "end": 1.5, "speaker": "wearer",
             "speaker_name": None, "text": "Are you hurt?"},
            {"source": "a.mp4", "sha256": "s", "start": 1.6, "end": 3.0, "speaker": "speaker 2",
             "speaker_name": "Child", "text": "Leave me alone & go"}]
    path = tmp_path / "t.vtt"
    path.write_text(to_vtt(rows))
    captions = webvtt.read(str(path))
    assert [c.voice for c in captions] == ["Wearer", "Child"]
    assert html.unescape(captions[1].text) == "Leave me alone & go"


def test_a_wav_round_trip_for_the_batch(tmp_path: Path, two_voices) -> None:
    """The batch reads its WAV as int16; the stage gives the same turns from it."""
    samples, segments, _ = two_voices
    path = tmp_path / "s.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    from pipeline.batch.transcribe import read_wav

    direct = assign_speakers(samples, segments)
    via_file = assign_speakers(read_wav(path), segments)
    assert [t.speaker for t in via_file.turns] == [t.speaker for t in direct.turns]
    assert json.dumps(via_file.info["speakers"], sort_keys=True)


def test_the_batch_tells_speakers_apart_and_flags_know_who_spoke(tmp_path: Path) -> None:
    """End to end through `bwv run` on the shipped kitchen call (an officer and a woman who
    discloses): transcripts, flags and media rows carry speakers; the turns can be computed
    again without transcribing; turned off, flags go by language alone."""
    from conftest import ROOT, bwv, copy_into

    inbox = tmp_path / "inbox"
    copy_into(inbox, ROOT / "data" / "samples" / "01_domestic_kitchen.mp4")
    home = tmp_path / "home"
    bwv(home, "run", str(inbox), "--settle-seconds", "0")
    rows = [json.loads(line) for line in
            bwv(home, "export", "transcripts", "--format", "jsonl").stdout.splitlines()]
    said = {r["speaker"] for r in rows}
    assert said == {"wearer", "speaker 2"}, rows
    assert all(w["speaker"] == r["speaker"] for r in rows for w in r["words"])
    first = next(r for r in rows if "neighbour rang us" in r["text"].lower())
    assert first["speaker"] == "wearer" and first["speaker_name"] == "Wearer"
    flags = [json.loads(line) for line in
             bwv(home, "export", "flags", "--format", "jsonl").stdout.splitlines()]
    assert flags and all(f["speaker"] in ("wearer", "speaker 2") for f in flags)
    assert all(f["speaker"] == "wearer" for f in flags if f["category"].startswith("practice"))
    assert {f["speaker"] for f in flags if f["category"] == "harm.domestic_abuse"} == {
        "speaker 2"}
    vtt = bwv(home, "export", "transcripts", "--format", "vtt").stdout
    assert "<v Wearer>" in vtt and "<v Speaker 2>" in vtt
    media = json.loads(bwv(home, "export", "media", "--format", "jsonl").stdout)
    assert media["speakers"] == "separated"

    again = bwv(home, "speakers", "--all")
    assert "separated: speaker 2, wearer" in again.stdout
    assert {json.loads(line)["speaker"] for line in bwv(
        home, "export", "transcripts", "--format", "jsonl").stdout.splitlines()} == said
    bad = bwv(home, "speakers", "1", "99", check=False)  # checked before any work
    assert bad.returncode == 2 and "no transcribed media item 99" in bad.stderr
    huge = bwv(home, "speakers", "99999999999999999999", check=False)
    assert huge.returncode == 2 and "is not in the range 1<=x<=2147483647" in huge.stderr
    assert bwv(home, "speakers", "1", "1").stdout.count("media 1:") == 1

    off = tmp_path / "off"
    bwv(off, "run", str(inbox), "--settle-seconds", "0", "--speakers", "off")
    media = json.loads(bwv(off, "export", "media", "--format", "jsonl").stdout)
    assert media["speakers"] == "without speakers"
    plain = [json.loads(line) for line in
             bwv(off, "export", "flags", "--format", "jsonl").stdout.splitlines()]
    assert {f["speaker"] for f in plain} == {"unknown"}
    # By language alone, nothing that knowing the speaker kept is lost.
    assert {f["category"] for f in flags} <= {f["category"] for f in plain}


def test_a_failed_speaker_stage_keeps_every_word_and_flag(tmp_path: Path) -> None:
    """The voice encoder's weights fail their hash check on the workers: the file is still
    transcribed and flagged (by language alone), and says why it has no speakers."""
    import os
    import sys

    from conftest import ROOT, bwv_env, copy_into

    fake = tmp_path / "fake" / "resemblyzer"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "pretrained.pt").write_bytes(b"tampered weights")
    inbox = tmp_path / "inbox"
    copy_into(inbox, ROOT / "data" / "samples" / "01_domestic_kitchen.mp4")
    home = tmp_path / "home"
    env = {**bwv_env(home), "PYTHONPATH": os.pathsep.join(
        [str(tmp_path / "fake"), os.environ.get("PYTHONPATH", "")])}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL, check=True)

    run("run", str(inbox), "--settle-seconds", "0")
    media = json.loads(run("export", "media", "--format", "jsonl").stdout)
    assert media["state"] == "done" and media["speakers"] == "without speakers"
    flags = [json.loads(line) for line in run("export", "flags", "--format", "jsonl").stdout.splitlines()]
    assert "harm.domestic_abuse" in {f["category"] for f in flags}
    assert {f["speaker"] for f in flags} == {"unknown"}
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    state = store.speaker_state(1)
    assert "ModelError" in state.info["why"] and "expected 39373b86" in state.info["why"]
