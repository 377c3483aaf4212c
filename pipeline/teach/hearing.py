"""A moment's sound for a teaching pack: read from the original, and heard by the second model.

What the second model (``base``) hears in a moment is kept in memory for the last few moments
(:data:`HEARD_KEPT`), so a server hears each moment once: the review page, the export's check of
the trainer's decisions and the export itself all need it.
"""

from __future__ import annotations

import threading
import wave
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.batch.media import run_tool
from pipeline.errors import MediaError
from pipeline.records import Segment
from pipeline.teach.handout import Moment
from pipeline.teach.verify import Verifier, listen

AUDIO_RATE = 48_000


def extract_audio(moment: Moment) -> np.ndarray:
    """The moment's speech track as mono 16-bit samples at 48 kHz."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-ss", f"{moment.start_s:.3f}", "-t", f"{moment.end_s - moment.start_s:.3f}",
            "-i", str(moment.original), "-map", f"0:a:{moment.media.audio_track or 0}",
            "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    proc = run_tool(args, timeout_s=120.0 + (moment.end_s - moment.start_s))
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise MediaError(f"cannot read the audio of media {moment.media.id}: {detail[0][:200]}")
    return np.frombuffer(proc.stdout, dtype=np.int16).copy()


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes(samples.astype(np.int16).tobytes())


#: What the second model heard in a moment, by (media, original's SHA-256, range, audio track,
#: model): the review page, the export's check of the trainer's decisions and the export itself
#: each need it, so a server hears each moment once. Held in memory only, for the last few.
_HEARD: OrderedDict[tuple[int, str | None, float, float, int, str], tuple[Segment, ...]] = OrderedDict()
_HEARD_LOCK = threading.Lock()
HEARD_KEPT = 32


def hear(moment: Moment, hearer: Verifier | None, work: Path) -> tuple[np.ndarray, list[Segment]]:
    """The moment's audio, and what the second model hears in it (nothing without one)."""
    original = extract_audio(moment)
    return original, heard(moment, hearer, work, lambda: original)


def heard(moment: Moment, hearer: Verifier | None, work: Path,
           audio: Callable[[], np.ndarray]) -> list[Segment]:
    if hearer is None:
        return []
    key = (moment.media.id, moment.media.sha256, round(moment.start_s, 3), round(moment.end_s, 3),
           moment.media.audio_track or 0, hearer.name)
    with _HEARD_LOCK:
        if key in _HEARD:
            _HEARD.move_to_end(key)
            return list(_HEARD[key])
    wav = work / f"heard-{moment.annotation.id}.wav"
    write_wav(wav, audio())
    heard = tuple(listen(hearer, wav, why=f"the audio of media {moment.media.id} for its second "
                                          "hearing").segments)
    with _HEARD_LOCK:
        _HEARD[key] = heard
        while len(_HEARD) > HEARD_KEPT:
            _HEARD.popitem(last=False)
    return list(heard)
