"""Speech to text with faster-whisper: segments with word timestamps.

Decoding settings were chosen from measurements on short clips and on long
files of continuous dialogue (see ``scripts/bench_run.py`` and the README):
sequential decoding with voice activity detection keeps every word, where the
batched pipeline drops whole sentences; beam 3 is as accurate as the
library's beam 5 on a far voice and faster, and greedy decoding is not.
Speed must never cost words.
"""

from __future__ import annotations

import logging
import os
import time
import wave
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.batch.models import SpeechModel
from pipeline.errors import ModelError
from pipeline.records import Segment, Transcription, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger("bwv.transcribe")


@dataclass(frozen=True)
class DecodeOptions:
    """How faster-whisper decodes. The defaults are bwv's measured choice."""

    beam_size: int = 3
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = True
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    vad_min_silence_ms: int = 1000
    vad_speech_pad_ms: int = 800
    no_speech_threshold: float = 0.6
    # Tokens generated per 30-second window at most. Dense speech needs under ~200; a
    # hallucination loop ("no, no, no, ...") runs on to the model's 448-token context and then
    # falls back to sampling, and was the costliest thing in a batch of short clips. A window
    # cut short resumes at its last timestamp, so no words are lost. 220 keeps the longest
    # prompt (224 earlier tokens + up to 4 start tokens) within the 448-token context.
    max_new_tokens: int | None = 220
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The settings as stored beside each transcript."""
        return asdict(self)


_LOADED: dict[tuple[str, str, str, int, int], WhisperModel] = {}
SAMPLE_RATE = 16_000


def default_cpu_threads(workers: int = 1) -> int:
    """Threads per worker so that the workers together use every core once."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def load_whisper(
    model: SpeechModel, *, device: str = "cpu", cpu_threads: int | None = None, lanes: int = 1
) -> WhisperModel:
    """Load a Whisper model once per process (later calls return the same object).

    ``lanes`` is how many transcriptions may run at once on this one model
    (CTranslate2's ``num_workers``), each with ``cpu_threads`` threads.
    """
    import ctranslate2
    from faster_whisper import WhisperModel

    # Temperature fallback samples; a fixed seed makes a one-lane run repeatable.
    ctranslate2.set_random_seed(0)
    threads = cpu_threads or default_cpu_threads(lanes)
    compute_type = "int8" if device == "cpu" else "float16"
    key = (str(model.path), device, compute_type, threads, lanes)
    if key not in _LOADED:
        try:
            _LOADED[key] = WhisperModel(
                str(model.path),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=lanes,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load speech model {model.name} on {device}: {exc}") from exc
        log.info("loaded %s on %s (%s, %d lanes x %d threads)", model.name, device, compute_type,
                 lanes, threads)
    return _LOADED[key]


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV as a memory-mapped int16 array (not read into memory)."""
    with wave.open(str(path)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM")
        frames = w.getnframes()
    size = path.stat().st_size
    offset = size - frames * 2  # the PCM data is the last chunk ffmpeg writes
    return np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(frames,))


def _middle_of_longest_quiet_run(energy: np.ndarray) -> int:
    """The frame in the middle of the longest stretch at (near) the lowest energy."""
    quiet = energy <= energy.min() * 2.0 + 1e-3
    best_start, best_len, run_start = 0, 0, None
    for i, q in enumerate([*quiet.tolist(), False]):
        if q and run_start is None:
            run_start = i
        elif not q and run_start is not None:
            if i - run_start > best_len:
                best_start, best_len = run_start, i - run_start
            run_start = None
    return best_start + best_len // 2


def plan_parts(
    samples: np.ndarray, *, part_s: float = 300.0, search_s: float = 10.0
) -> list[tuple[int, int]]:
    """Cut long audio into parts of about ``part_s`` at its quietest moments.

    Parts are transcribed independently (and so concurrently); each cut is
    placed at the quietest 20 ms frame within ``search_s`` of the target, so
    that no word is split. Short audio is one part.
    """
    total = len(samples)
    step = int(part_s * SAMPLE_RATE)
    if total <= step * 1.5:
        return [(0, total)]
    frame = SAMPLE_RATE // 50
    cuts = [0]
    target = step
    while total - target > step // 2:
        lo = max(cuts[-1] + frame, target - int(search_s * SAMPLE_RATE))
        hi = min(total - frame, target + int(search_s * SAMPLE_RATE))
        window = np.asarray(samples[lo:hi], dtype=np.float32)
        n = len(window) // frame
        energy = (window[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
        smooth = np.convolve(energy, np.ones(5) / 5, mode="same")  # 100 ms: a gap, not a plosive
        cut = lo + _middle_of_longest_quiet_run(smooth) * frame + frame // 2
        cuts.append(cut)
        target = cut + step
    cuts.append(total)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _segments(raw: Iterator[Any], offset_s: float) -> Iterator[Segment]:
    for seg in raw:
        words = tuple(
            Word(
                start_s=round(float(w.start) + offset_s, 3),
                end_s=round(float(w.end) + offset_s, 3),
                word=w.word.strip(),
                probability=round(float(w.probability), 4),
            )
            for w in (seg.words or ())
            if w.word.strip()
        )
        text = seg.text.strip()
        if not text:
            continue
        yield Segment(
            start_s=round(float(seg.start) + offset_s, 3),
            end_s=round(float(seg.end) + offset_s, 3),
            text=text,
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
        )


def _decode_kwargs(opts: DecodeOptions) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "beam_size": opts.beam_size,
        "vad_filter": opts.vad_filter,
        "word_timestamps": opts.word_timestamps,
        "condition_on_previous_text": opts.condition_on_previous_text,
        "temperature": list(opts.temperature),
        "no_speech_threshold": opts.no_speech_threshold,
        "max_new_tokens": opts.max_new_tokens,
        # The footage is English; multilingual models are told so rather than guessing.
        "language": "en",
        **opts.extra,
    }
    if opts.vad_filter:
        kwargs["vad_parameters"] = {
            "min_silence_duration_ms": opts.vad_min_silence_ms,
            "speech_pad_ms": opts.vad_speech_pad_ms,
        }
    return kwargs


def transcribe_part(
    samples: np.ndarray,
    part: tuple[int, int],
    *,
    whisper: WhisperModel,
    options: DecodeOptions | None = None,
) -> list[Segment]:
    """Transcribe one part of 16 kHz int16 audio; times are from the start of the whole file."""
    start, end = part
    audio = np.asarray(samples[start:end], dtype=np.float32) / 32768.0
    raw, _info = whisper.transcribe(audio, **_decode_kwargs(options or DecodeOptions()))
    return list(_segments(raw, start / SAMPLE_RATE))


def transcribe_audio(
    wav: Path,
    *,
    whisper: WhisperModel,
    model: SpeechModel,
    options: DecodeOptions | None = None,
) -> Transcription:
    """Transcribe a 16 kHz mono WAV into segments with word timestamps (parts in turn)."""
    started = time.perf_counter()
    samples = read_wav(wav)
    segments = [
        seg
        for part in plan_parts(samples)
        for seg in transcribe_part(samples, part, whisper=whisper, options=options)
    ]
    return Transcription(
        segments=tuple(segments),
        language="en",
        audio_s=len(samples) / SAMPLE_RATE,
        elapsed_s=time.perf_counter() - started,
    )
