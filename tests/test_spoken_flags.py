"""Spoken paraphrases the labelled examples do not contain: speech -> Whisper -> flags.

Each sentence is spoken by a different espeak-ng voice at its own pace, the
lines are joined with pauses into one recording, transcribed with the
bundled model and flagged. A disclosure or a practice phrase must be flagged
within one second of where it is spoken; a denial, a question or a harmless
use of the same words must not flag the disclosure.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from pipeline.flagging.evaluate import load_examples
from scripts.footage import PUBLIC_VOICES, WEARER_VOICE, synthesize_line

TOLERANCE_S = 1.0
CLEAR_PUBLIC_VOICES = (PUBLIC_VOICES[0], PUBLIC_VOICES[4], PUBLIC_VOICES[6])
GAP_S = 1.5

#: (who says it, what, the category it must flag or None, a category it must not flag or None)
CASES = (
    ("public", "My boyfriend smashed my head against the wall last night.", "harm.domestic_abuse", None),
    ("public", "When I was a little girl my stepdad used to beat me with a belt.", "ace.abuse", None),
    ("wearer", "Are you safe to go back home tonight?", "practice.safety", "harm.domestic_abuse"),
    ("public", "He has never laid a finger on me.", None, "harm.domestic_abuse"),
    ("public", "They make me carry drugs for them or they'll hurt my mum.", "harm.exploitation", None),
    ("wearer", "It's entirely your decision whether you want to make a statement.", "practice.choice", None),
    ("public", "I keep thinking about ending my life.", "harm.self", None),
    ("wearer", "There's a helpline you can ring any time, day or night.", "practice.signpost", None),
    ("public", "My mum was always drunk when I was a kid.", "ace.household_dysfunction", None),
    ("wearer", "That sounds really frightening. You did the right thing calling us.", "practice.validate", None),
)


def test_the_sentences_are_not_in_the_labelled_examples() -> None:
    examples = {item.text.lower().strip(" ?.!") for item in load_examples()}
    for _who, text, _want, _not in CASES:
        assert text.lower().strip(" ?.!") not in examples


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    """One 16 kHz recording of every case, and where each line is spoken."""
    folder = tmp_path_factory.mktemp("spoken")
    pieces, spans, clock, rate = [], [], GAP_S, 22050
    for i, (who, text, _want, _not) in enumerate(CASES):
        # The clearer public voices: this tests the rubric on unseen wording, not the
        # small model on the hardest synthetic accents (the batch tests cover those).
        voice = WEARER_VOICE if who == "wearer" else CLEAR_PUBLIC_VOICES[i % len(CLEAR_PUBLIC_VOICES)]
        raw = folder / f"line{i}.wav"
        duration = synthesize_line(text, voice=voice, speed_wpm=135 + 5 * (i % 4), out_wav=raw)
        with wave.open(str(raw), "rb") as w:
            rate = w.getframerate()
            pieces.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
        pieces.append(np.zeros(int(GAP_S * rate), dtype="<i2"))
        spans.append((clock, clock + duration))
        clock += duration + GAP_S
    joined = folder / "joined.wav"
    with wave.open(str(joined), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate([np.zeros(int(GAP_S * rate), dtype="<i2"), *pieces]).tobytes())
    out = folder / "speech.wav"
    ffmpeg("-i", str(joined), "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", str(out))
    return out, spans


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory):
    """The bundled multilingual base model (``--model base``), assembled once."""
    from pipeline.batch.models import resolve_speech_model

    return resolve_speech_model("base", models_dir=tmp_path_factory.mktemp("models"))


def test_spoken_paraphrases_flag_where_they_are_said(spoken, base_model, engine) -> None:
    """Transcribed with ``base``: this tests the rubric on unseen wording as heard, so it uses
    the more accurate of the two bundled models. tiny.en's int8 decoding differs between
    processors, and on some it hears "I keep thinking and outending my life" here: the
    public's voice mis-heard, which the transcription accuracy figures measure, not this."""
    from pipeline.batch.transcribe import load_whisper, transcribe_audio

    wav, spans = spoken
    result = transcribe_audio(wav, whisper=load_whisper(base_model), model=base_model)
    flags = engine.flag_segments(result.segments)
    said = " | ".join(s.text for s in result.segments)
    for (_who, text, want, must_not), (start, end) in zip(CASES, spans, strict=True):
        near = {f.category for f in flags if f.start_s <= end + TOLERANCE_S and f.end_s >= start - TOLERANCE_S}
        within = {f.category for f in flags if f.start_s < end and f.end_s > start}
        if want:
            assert want in near, f"{text!r} ({start:.1f}-{end:.1f} s) not flagged {want}; heard: {said}"
        if must_not:
            assert must_not not in within, f"{text!r} wrongly flagged {must_not}; heard: {said}"
