"""Personal details out of the audio: the times a teaching pack replaces with a tone.

Word times from Whisper are padded on both sides (``AUDIO_PAD_S`` after, ``AUDIO_LEAD_S``
before: measured by ``scripts/bench_pii.py`` and ``scripts/bench_teach.py`` so that no
syllable of a redacted word remains; Whisper places a word's start late more often than its
end early), and padded
windows closer than ``MERGE_GAP_S`` become one, so no short stretch of speech between
two redacted words is left to be heard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

#: Audio windows closer than this are toned out as one (no half-second of speech between two
#: redacted words survives to be heard).
MERGE_GAP_S = 0.5
#: Padding either side of each audio window, measured so that no syllable of a redacted word
#: remains (``scripts/bench_pii.py``; README, "Teaching exports").
AUDIO_PAD_S = 0.25
#: Padding before each window: tiny.en put the start of a detail up to 0.32 s after its first
#: sound on scripts/bench_teach.py's scenes ("Co-" of a name audible with 0.25 s).
AUDIO_LEAD_S = 0.4

def redact_audio(
    samples: np.ndarray,
    sample_rate: int,
    windows: Sequence[tuple[float, float]],
    *,
    mode: Literal["tone", "silence"] = "tone",
    tone_hz: float = 1000.0,
    level_dbfs: float = -20.0,
    pad_s: float = AUDIO_PAD_S,
    lead_s: float | None = AUDIO_LEAD_S,
    merge_gap_s: float = MERGE_GAP_S,
    fade_s: float = 0.005,
) -> np.ndarray:
    """A copy of ``samples`` with each window (padded by ``lead_s`` before and ``pad_s`` after;
    ``lead_s=None``: ``pad_s`` both sides) replaced by a tone or silence.

    Padded windows less than ``merge_gap_s`` apart become one, so no short stretch of speech
    between two redacted words is left to be heard.

    Samples are mono ``(n,)`` or ``(n, channels)``, float (full scale 1.0) or
    integer (full scale the type's maximum). The tone is a sine whose peak is
    ``level_dbfs`` below full scale. At each edge the original is cross-faded
    into the replacement over ``fade_s`` (raised cosine, no click), never longer
    than the pad, so the window itself is pure tone or exact zeros and
    nothing outside the padded window changes.
    """
    if mode not in ("tone", "silence"):
        raise ValueError(f"redact_audio: mode must be 'tone' or 'silence', not {mode!r}")
    if mode == "tone" and not 0 < tone_hz < sample_rate / 2:
        raise ValueError(f"redact_audio: tone_hz {tone_hz} must lie between 0 and {sample_rate / 2} Hz")
    out = np.array(samples, copy=True)
    n = out.shape[0]
    integer = np.issubdtype(out.dtype, np.integer)
    full = float(np.iinfo(out.dtype).max) if integer else 1.0
    amplitude = full * 10.0 ** (level_dbfs / 20.0)
    fade = max(0, int(round(min(fade_s, pad_s) * sample_rate)))
    for a, b in _sample_windows(windows, sample_rate, n, pad_s, merge_gap_s, lead_s):
        length = b - a
        fill = amplitude * np.sin(2 * np.pi * tone_hz * np.arange(length) / sample_rate)
        fill = fill if mode == "tone" else np.zeros(length)
        weight = np.ones(length)  # of the replacement; the original gets 1 - weight
        f = min(fade, length // 4)
        if f:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(f) / f)
            if a > 0:
                weight[:f] = ramp
            if b < n:
                weight[-f:] = ramp[::-1]
        if out.ndim > 1:
            fill, weight = fill[:, None], weight[:, None]
        mixed = np.where(weight == 1.0, fill, out[a:b] * (1.0 - weight) + fill * weight)
        if integer:
            info = np.iinfo(out.dtype)
            mixed = np.clip(np.rint(mixed), info.min, info.max)
        out[a:b] = mixed.astype(out.dtype)
    return out


def toned_windows_s(windows: Sequence[tuple[float, float]], sample_rate: int, n: int, *,
                    pad_s: float = AUDIO_PAD_S, merge_gap_s: float = MERGE_GAP_S,
                    lead_s: float | None = AUDIO_LEAD_S
                    ) -> list[tuple[float, float]]:
    """The stretches ``redact_audio`` replaces, in seconds: padded, clipped, merged."""
    return [(round(a / sample_rate, 3), round(b / sample_rate, 3))
            for a, b in _sample_windows(windows, sample_rate, n, pad_s, merge_gap_s, lead_s)]


def _sample_windows(
    windows: Sequence[tuple[float, float]], sample_rate: int, n: int, pad_s: float,
    merge_gap_s: float = 0.0, lead_s: float | None = None,
) -> list[tuple[int, int]]:
    """Padded windows in samples, clipped to the array, those closer than the gap merged."""
    merged: list[tuple[int, int]] = []
    gap = int(round(merge_gap_s * sample_rate))
    for s, e in sorted(windows):
        lead = pad_s if lead_s is None else lead_s
        a, b = max(0, int(np.floor((s - lead) * sample_rate))), min(n, int(np.ceil((e + pad_s) * sample_rate)))
        if b > a and merged and a < merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged
