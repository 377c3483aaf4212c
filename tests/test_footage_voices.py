"""The public's-voice scenes (scripts/footage_voices.py) and their scoring
(scripts/bench_voices.py): every English voice, ambience at the level asked, a fixed
held-back third, noise-only files without lines, and word error rate counted per voice."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.records import Word
from scripts.bench_voices import group, normalise, wer_by_group, words_by_line
from scripts.footage_speakers import TruthLine, heldback
from scripts.footage_voices import (
    AMBIENCES,
    NOISE_ONLY,
    SCENES,
    ambience,
    build_voice_scene,
    build_voice_scenes,
    disclosure,
)


def test_every_english_espeak_ng_accent_and_flite_voice_speaks_for_the_public() -> None:
    listed = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True, text=True, check=True).stdout
    accents = {row.split()[4].split("/")[-1].lower() for row in listed.splitlines()[1:]
               if row.split()[4].startswith("gmw/")}
    public = [role.voice for spec in SCENES for role in spec.scene.cast if role.speaker != "wearer"]
    spoken = {v.name.split("+")[0].lower() for v in public if v.engine == "espeak-ng"}
    assert len(accents) >= 8 and accents <= spoken, accents - spoken  # gmw/en is the voice "en"
    assert {v.name for v in public if v.engine == "flite"} == {"kal", "kal16", "awb", "rms", "slt"}
    levels = {role.level_db for spec in SCENES for role in spec.scene.cast if role.speaker != "wearer"}
    assert {-6.0, -12.0, -18.0} <= levels
    assert {kind for spec in SCENES for kind, _ in spec.ambience} == set(AMBIENCES)
    speeds = {v.speed_wpm for v in public if v.engine == "espeak-ng"}
    assert min(speeds) <= 120 and max(speeds) >= 200  # slow and fast speech


def test_a_third_is_held_back_and_every_scene_has_disclosures_of_the_public() -> None:
    held = [spec.name for i, spec in enumerate(SCENES) if heldback(i)]
    assert len(held) == len(SCENES) // 3
    for spec in SCENES:
        assert any(disclosure(c) for line in spec.scene.script.splitlines() if "|" in line
                   for c in line.split("|")[1].split()), spec.name
    assert disclosure("harm.self") and disclosure("ace.neglect") and disclosure("safeguarding.child")
    assert not disclosure("practice.validate") and not disclosure("distress")


@pytest.mark.parametrize("kind", AMBIENCES)
def test_ambience_comes_at_the_level_asked(kind: str) -> None:
    noise = ambience(kind, 22_050 * 6, -30.0, np.random.default_rng(1))
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(noise, dtype=np.float64))))
    assert noise.size == 22_050 * 6 and rms_db == pytest.approx(-30.0, abs=1.0)


def test_an_unknown_ambience_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown ambience 'rain'"):
        ambience("rain", 100, -30.0, np.random.default_rng(1))


def test_a_noise_only_file_has_no_lines_and_is_cached(tmp_path: Path) -> None:
    spec = next(s for s in NOISE_ONLY if s.name == "noise_wind")
    first = build_voice_scene(spec, tmp_path)
    assert first.lines == () and first.duration_s == pytest.approx(30.0, abs=0.01)
    with wave.open(str(first.wav)) as w:
        assert (w.getframerate(), w.getnchannels()) == (16_000, 1)
    stamp = first.wav.stat().st_mtime_ns
    assert build_voice_scene(spec, tmp_path) == first and first.wav.stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="which: expected"):
        build_voice_scenes(tmp_path, which="everything")


def _line(speaker: str, start: float, end: float, text: str, level: float) -> TruthLine:
    return TruthLine(speaker, "v", start, end, text, level, ())


def test_word_error_rate_is_counted_per_voice_and_level() -> None:
    from scripts.footage_speakers import Scene

    lines = (_line("wearer", 0.0, 2.0, "Are you hurt?", 0.0),
             _line("public1", 3.0, 5.0, "He hit me.", -12.0))
    scene = Scene("s", Path("s.wav"), 6.0, lines, True, False, "", "x")
    words = [Word(0.1, 0.5, "Are", 0.9), Word(0.6, 0.9, "you", 0.9), Word(1.0, 1.5, "hurt?", 0.9),
             Word(3.1, 3.5, "He", 0.9), Word(3.6, 4.0, "hid", 0.9), Word(4.1, 4.5, "me", 0.9),
             Word(5.8, 5.9, "stray", 0.9)]  # beyond every line: no line's
    assert words_by_line(lines, words) == {0: ["Are", "you", "hurt?"], 1: ["He", "hid", "me"]}
    assert group(lines[1]) == "others -12 dB" and normalise("He’d  KILL me!") == "he'd kill me"
    rates = wer_by_group([scene], {"s": words})
    assert rates["wearer"] == (0.0, 3) and rates["others -12 dB"] == (pytest.approx(1 / 3), 3)
    assert rates["others"] == rates["others -12 dB"]
