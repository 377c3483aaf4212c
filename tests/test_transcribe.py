"""Transcription with the bundled tiny.en model on real speech."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pipeline.batch.media import extract_speech, probe_media
from pipeline.batch.transcribe import DecodeOptions, transcribe_audio


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]+", "", text.lower()).split())


def test_jfk_transcript_and_word_timestamps(jfk: Path, tmp_path: Path, whisper, tiny_model) -> None:
    probe = probe_media(jfk)
    wav = extract_speech(jfk, tmp_path / "jfk.wav", probe=probe, track=0).path
    result = transcribe_audio(wav, whisper=whisper, model=tiny_model)
    text = _norm(" ".join(s.text for s in result.segments))
    assert "ask not what your country can do for you" in text
    words = [w for s in result.segments for w in s.words]
    assert len(words) >= 20
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    for w in words:
        assert 0.0 <= w.start_s <= w.end_s <= probe.duration_s + 0.05
        assert 0.0 <= w.probability <= 1.0
    # The segment text is made of the words, in order.
    assert _norm(" ".join(w.word for w in words)) == text


def test_greedy_vad_keeps_the_words_of_beam_search(jfk: Path, tmp_path: Path, whisper, tiny_model) -> None:
    """bwv's fast settings recognise every word that beam search does on real speech."""
    wav = extract_speech(jfk, tmp_path / "j.wav", probe=probe_media(jfk), track=0).path
    fast = transcribe_audio(wav, whisper=whisper, model=tiny_model)
    beam = transcribe_audio(
        wav, whisper=whisper, model=tiny_model, options=DecodeOptions(beam_size=5, vad_filter=False)
    )
    assert fast.word_count >= beam.word_count


def test_silence_gives_no_words(tmp_path: Path, whisper, tiny_model) -> None:
    wav = tmp_path / "silence.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "anoisesrc=r=16000:a=0.001:d=30", "-ac", "1", str(wav)],
        check=True, timeout=60,
    )
    result = transcribe_audio(wav, whisper=whisper, model=tiny_model)
    assert result.word_count <= 2, [s.text for s in result.segments]


def test_long_audio_is_cut_in_silences_and_keeps_every_word(jfk: Path, tmp_path: Path, whisper) -> None:
    import wave

    import numpy as np

    from pipeline.batch.transcribe import SAMPLE_RATE, plan_parts, read_wav, transcribe_part

    speech = extract_speech(jfk, tmp_path / "j.wav", probe=probe_media(jfk), track=0).path
    one = np.asarray(read_wav(speech))
    gap = np.zeros(int(1.5 * SAMPLE_RATE), dtype=np.int16)
    long = np.concatenate([np.concatenate([one, gap]) for _ in range(6)])
    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(long.tobytes())
    samples = read_wav(path)
    assert np.array_equal(np.asarray(samples), long)
    parts = plan_parts(samples, part_s=20, search_s=8)
    assert len(parts) >= 3
    assert parts[0][0] == 0 and parts[-1][1] == len(long)
    for (_s, end), (start, _e) in zip(parts[:-1], parts[1:], strict=True):
        assert end == start
        assert not np.any(long[end - 800 : end + 800]), "cut inside speech"
    segments = [s for p in parts for s in transcribe_part(samples, p, whisper=whisper)]
    words = [w for s in segments for w in s.words]
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    # Every repetition keeps its words (about 22), whichever part it fell in.
    period = (len(one) + len(gap)) / SAMPLE_RATE
    for k in range(6):
        inside = [w for w in words if k * period - 0.5 <= w.start_s < (k + 1) * period - 0.5]
        assert len(inside) >= 19, (k, [w.word for w in inside])
        assert "country" in _norm(" ".join(w.word for w in inside))
