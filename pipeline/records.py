"""The plain records that pass between stages: words and segments of a transcript, what
ffprobe found in a file, flags, and review windows.

They sit at the bottom of the house (see the README's Architecture section), so that every
room (the batch, flagging, the store, reviewing and teaching) can pass them to another
without importing it. Frozen dataclasses, times in seconds (``_s``).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- transcripts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One recognised word and when it was spoken."""

    start_s: float
    end_s: float
    word: str
    probability: float
    #: Who said it: "wearer" (the officer whose camera it is), "speaker 2", "speaker 3", ...
    #: in order of first appearance; None where speakers were not (or could not be) told apart.
    speaker: str | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: its text and its words."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    #: The speaker of every word in it (a Whisper segment holding two voices is split at the
    #: change); None where speakers were not told apart.
    speaker: str | None = None
    #: Which of Whisper's segments this is (or is part of), so that turns computed again can
    #: regroup its words without transcribing again; None before speakers were told apart.
    origin: int | None = None
    #: The name of the speech model whose decoding produced this segment's words, e.g.
    #: "tiny.en" or "base" (a span decoded again by the second look); None for transcripts
    #: stored before this was recorded.
    model: str | None = None


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


# --- media -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioStream:
    """One audio stream as ffprobe reports it."""

    index: int  # position among the audio streams (ffmpeg's 0:a:N)
    codec: str
    channels: int
    sample_rate_hz: int
    #: The stream's length as the container states it; None when it states none, or only
    #: an estimate from the bit rate (a VBR MP3 without a header can be off by minutes).
    duration_s: float | None = None


@dataclass(frozen=True)
class MediaProbe:
    """What ffprobe found in a file."""

    container: str
    duration_s: float
    has_video: bool
    width: int | None
    height: int | None
    audio: tuple[AudioStream, ...]


# --- flags and review windows ------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """A flagged moment: a category, when it was said, the words and their sentence."""

    category: str
    family: str
    start_s: float
    end_s: float
    text: str
    context: str
    rubric: str
    pattern: str
    severity: int
    speaker: str = "unknown"


@dataclass(frozen=True)
class ReviewWindow:
    """An interaction window to review, with the indexes of its flags."""

    start_s: float
    end_s: float
    priority: int
    categories: tuple[str, ...]
    flag_indexes: tuple[int, ...]
