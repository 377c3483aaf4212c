"""Speech to text with faster-whisper: segments with word timestamps.

Decoding settings were chosen from measurements on long files of continuous
dialogue (see ``scripts/bench_run.py`` and the README): sequential greedy
decoding with voice activity detection keeps every word and runs faster than
the library's default beam search, while the batched pipeline drops whole
sentences. Speed must never cost words.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ModelError
from pipeline.models import SpeechModel

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger("bwv.transcribe")


@dataclass(frozen=True)
class Word:
    """One recognised word and when it was spoken."""

    start_s: float
    end_s: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: its text and its words."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class DecodeOptions:
    """How faster-whisper decodes. The defaults are bwv's measured choice."""

    beam_size: int = 1
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = True
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    vad_min_silence_ms: int = 1000
    vad_speech_pad_ms: int = 400
    no_speech_threshold: float = 0.6
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The settings as stored beside each transcript."""
        return asdict(self)


@dataclass(frozen=True)
class Transcription:
    """The result of transcribing one audio file."""

    segments: tuple[Segment, ...]
    language: str
    audio_s: float
    elapsed_s: float

    @property
    def word_count(self) -> int:
        """How many words were recognised."""
        return sum(len(s.words) for s in self.segments)


_LOADED: dict[tuple[str, str, str, int], WhisperModel] = {}


def default_cpu_threads(workers: int = 1) -> int:
    """Threads per worker so that the workers together use every core once."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def load_whisper(
    model: SpeechModel, *, device: str = "cpu", cpu_threads: int | None = None
) -> WhisperModel:
    """Load a Whisper model once per process (later calls return the same object)."""
    from faster_whisper import WhisperModel

    threads = cpu_threads or default_cpu_threads()
    compute_type = "int8" if device == "cpu" else "float16"
    key = (str(model.path), device, compute_type, threads)
    if key not in _LOADED:
        try:
            _LOADED[key] = WhisperModel(
                str(model.path),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load speech model {model.name} on {device}: {exc}") from exc
        log.info("loaded %s on %s (%s, %d threads)", model.name, device, compute_type, threads)
    return _LOADED[key]


def _segments(raw: Iterator[Any]) -> Iterator[Segment]:
    for seg in raw:
        words = tuple(
            Word(
                start_s=round(float(w.start), 3),
                end_s=round(float(w.end), 3),
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
            start_s=round(float(seg.start), 3),
            end_s=round(float(seg.end), 3),
            text=text,
            words=words,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
        )


def transcribe_audio(
    wav: Path,
    *,
    whisper: WhisperModel,
    model: SpeechModel,
    options: DecodeOptions | None = None,
) -> Transcription:
    """Transcribe a 16 kHz mono WAV into segments with word timestamps."""
    opts = options or DecodeOptions()
    started = time.perf_counter()
    kwargs: dict[str, Any] = {
        "beam_size": opts.beam_size,
        "vad_filter": opts.vad_filter,
        "word_timestamps": opts.word_timestamps,
        "condition_on_previous_text": opts.condition_on_previous_text,
        "temperature": list(opts.temperature),
        "no_speech_threshold": opts.no_speech_threshold,
        # The footage is English; multilingual models are told so rather than guessing.
        "language": "en",
        **opts.extra,
    }
    if opts.vad_filter:
        kwargs["vad_parameters"] = {
            "min_silence_duration_ms": opts.vad_min_silence_ms,
            "speech_pad_ms": opts.vad_speech_pad_ms,
        }
    raw, info = whisper.transcribe(str(wav), **kwargs)
    segments = tuple(_segments(raw))
    return Transcription(
        segments=segments,
        language=info.language or "en",
        audio_s=float(info.duration),
        elapsed_s=time.perf_counter() - started,
    )
