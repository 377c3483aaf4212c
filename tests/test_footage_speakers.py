"""The generated multi-voice scenes (scripts/footage_speakers.py) and the speaker benchmark's
scoring (scripts/bench_speakers.py): deterministic, truthful about when and how loud each
voice speaks, a fixed held-back third, and words and flags counted right."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from pipeline.records import Flag, Word
from scripts.bench_speakers import WordCounts, diarization_error, score_flags, score_words
from scripts.footage_speakers import (
    BAD_INPUTS,
    SCENES,
    Scene,
    TruthLine,
    build_scene,
    build_scenes,
    heldback,
)

RATE = 16_000
TAIL_S = 0.4  # a far voice's echo rings on after its speech (its loudest part)


@pytest.fixture(scope="session")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Scene]:
    """Three held-back scenes (two officers and the public, a long silence, overlaps) and the
    scene made from the real two-speaker recording."""
    out = tmp_path_factory.mktemp("scenes")
    recording = next(spec for spec in SCENES if spec.name == "real_recording")
    return [*build_scenes(out, which="heldback", quick=True), build_scene(recording, out)]


def _samples(scene: Scene) -> np.ndarray:
    with wave.open(str(scene.wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def _power(x: np.ndarray, start_s: float, end_s: float) -> float:
    part = x[max(0, int(start_s * RATE)) : int(end_s * RATE)]
    return float(np.mean(part**2)) if part.size else 0.0


def _db(power: float) -> float:
    return 10 * np.log10(max(power, 1e-12))


def _clear(lines: tuple[TruthLine, ...], start_s: float, end_s: float, *, but: TruthLine | None = None) -> bool:
    """Whether no line (other than ``but``), nor its echo, sounds between the two times."""
    return not any(ln is not but and ln.start_s < end_s and start_s < ln.end_s + TAIL_S for ln in lines)


def _noise_floor(x: np.ndarray, scene: Scene) -> float:
    """Median power of the half seconds where no line sounds."""
    quiet = [_power(x, t, t + 0.5) for t in np.arange(0, scene.duration_s - 0.5, 0.5)
             if _clear(scene.lines, t - 0.1, t + 0.5)]
    return float(np.median(quiet))


def test_the_same_spec_builds_the_same_files(tmp_path: Path) -> None:
    spec = next(spec for spec in SCENES if spec.name == "frightened_teenager")  # flite, a child, overlap
    first, second = build_scene(spec, tmp_path / "a"), build_scene(spec, tmp_path / "b")
    assert first.wav.read_bytes() == second.wav.read_bytes()
    assert (tmp_path / "a" / f"{spec.name}.json").read_text() == (tmp_path / "b" / f"{spec.name}.json").read_text()
    # built again into the same folder: the cached files are reused, not rewritten
    mtime = first.wav.stat().st_mtime_ns
    assert build_scene(spec, tmp_path / "a") == first
    assert first.wav.stat().st_mtime_ns == mtime


def test_ground_truth_times_are_where_the_voices_are(scenes: list[Scene]) -> None:
    checked = 0
    for scene in scenes:
        x = _samples(scene)
        floor = _noise_floor(x, scene)
        for line in scene.lines:
            assert 0 <= line.start_s < line.end_s <= scene.duration_s
            assert _db(_power(x, line.start_s, line.end_s)) > _db(floor) + 12, (scene.name, line.text)
            # the line's first 0.3 s is speech, the 0.3 s before it (where nothing else sounds) is not
            if _clear(scene.lines, line.start_s - 0.3, line.start_s, but=line):
                onset = _db(_power(x, line.start_s, line.start_s + 0.3))
                before = _db(_power(x, line.start_s - 0.3, line.start_s))
                assert onset > before + 6, (scene.name, line.text, onset, before)
                checked += 1
    assert checked >= 15


def test_levels_relative_to_the_wearer_are_as_written(scenes: list[Scene]) -> None:
    checked = 0
    for scene in scenes:
        x = _samples(scene)
        floor = _noise_floor(x, scene)
        alone = [ln for ln in scene.lines if _clear(scene.lines, ln.start_s, ln.end_s, but=ln)]
        level = {id(ln): _db(_power(x, ln.start_s, ln.end_s) - floor) for ln in alone}
        wearer = [level[id(ln)] for ln in alone if ln.speaker == "wearer"]
        if not wearer:
            continue
        for line in alone:
            assert level[id(line)] - np.mean(wearer) == pytest.approx(line.level_db, abs=1.5), (scene.name, line)
            checked += line.speaker != "wearer"
    assert checked >= 4
    levels = {ln.level_db for spec_scene in scenes for ln in spec_scene.lines}
    assert {0.0, -6.0, -12.0} <= levels


def test_a_third_of_the_scenes_is_held_back_and_always_the_same() -> None:
    held = [spec.name for i, spec in enumerate(SCENES) if heldback(i)]
    assert len(SCENES) >= 18
    assert len(held) == len(SCENES) // 3
    assert held == ["missing_daughter", "wearer_alone", "street_argument_overlap", "stalking_bus_stop",
                    "bridge_crisis", "two_officers", "family_home_overlap"]
    assert all(spec.bad_input and spec.expect for spec in BAD_INPUTS)
    assert not any(spec.bad_input for spec in SCENES)


def test_held_back_scenes_are_built_as_held_back(scenes: list[Scene]) -> None:
    assert [s.name for s in scenes[:3]] == ["missing_daughter", "wearer_alone", "street_argument_overlap"]
    assert all(s.heldback for s in scenes[:3]) and not scenes[3].heldback


def test_words_are_scored_by_the_line_under_their_midpoint() -> None:
    lines = (
        TruthLine("wearer", "v", 0.0, 2.0, "Hello there.", 0.0, ()),
        TruthLine("public1", "v", 1.5, 3.0, "Go away now!", -12.0, ()),
    )
    words = [
        Word(0.1, 0.5, "Hello,", 1.0, speaker="wearer"),  # the wearer's, labelled wearer
        Word(1.6, 1.9, "there.", 1.0, speaker="speaker 2"),  # in the overlap: the wearer's text
        Word(1.7, 1.8, "away", 1.0, speaker="wearer"),  # in the overlap: the public's text
        Word(1.6, 1.8, "um", 1.0, speaker=None),  # in the overlap, in neither text
        Word(2.2, 2.8, "now!", 1.0, speaker="speaker 2"),  # the public's, not labelled wearer
        Word(3.5, 3.9, "what", 1.0, speaker="wearer"),  # under no line
    ]
    counts = score_words(words, lines)
    assert counts == WordCounts(wearer=2, wearer_as_wearer=1, others=2, others_as_wearer=1, outside=1,
                                undecided=1)
    assert (counts.wearer_share, counts.others_share) == (0.5, 0.5)
    assert (counts + counts).wearer == 4


def _flag(category: str, start_s: float, end_s: float) -> Flag:
    return Flag(category, category.split(".")[0], start_s, end_s, "", "", "rubric@1", "p", 3)


def test_flags_are_scored_against_the_lines_they_overlap() -> None:
    lines = (
        TruthLine("public1", "v", 0.0, 2.0, "He grabbed me by the throat.", -6.0, ("harm.domestic_abuse",)),
        TruthLine("public1", "v", 3.0, 4.0, "It's no big deal.", -6.0, ()),
        TruthLine("wearer", "v", 6.0, 8.0, "Has anyone been hurt? Take your time.", 0.0,
                  ("practice.safety", "practice.choice")),
    )
    flags = [
        _flag("harm.domestic_abuse.strangulation", 0.5, 1.5),  # a sub-category of the right one
        _flag("concern.dismiss", 3.2, 3.8),  # the victim minimising: wrong
        _flag("practice.safety", 6.1, 6.9),  # right
        _flag("practice.safety", 20.0, 21.0),  # near no line: wrong
    ]
    counts = score_flags(flags, lines)
    assert (counts.flags, counts.right, counts.truths, counts.found) == (4, 2, 3, 2)
    assert (counts.precision, counts.recall) == (0.5, 2 / 3)


class Turn(NamedTuple):
    start_s: float
    end_s: float
    speaker: str


def test_diarization_error_uses_the_best_mapping_of_labels() -> None:
    lines = (TruthLine("wearer", "v", 1.0, 3.0, "a", 0.0, ()), TruthLine("public1", "v", 4.0, 6.0, "b", -6.0, ()))
    scene = Scene("s", Path("s.wav"), 8.0, lines, False, False, "", "h")
    right = [Turn(1.0, 3.0, "speaker 2"), Turn(4.0, 6.0, "wearer")]  # names swapped: still right
    assert diarization_error([(scene, right)], skip_overlap=False) == pytest.approx(0.0)
    assert diarization_error([(scene, [])], skip_overlap=False) == pytest.approx(1.0)
    # One voice throughout: with 0.25 s forgiven either side of the four boundaries, 3 s are
    # scored; 0.5 s of false alarm between the lines and 1.5 s of the public's confused.
    one_voice = [Turn(1.0, 6.0, "wearer")]
    assert diarization_error([(scene, one_voice)], skip_overlap=False) == pytest.approx(2.0 / 3.0)
