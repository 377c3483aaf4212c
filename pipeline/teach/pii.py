"""Personal details in a transcript: find them, and hide them in the audio, for teaching exports.

``find_pii`` runs one spaCy pass (with NER) over the text of all segments
joined, so a detail said across a segment break ("14 Park | Road") is one
redaction. Every detail is mapped back to whole words: the words of one
detail become one placeholder word (``[NAME]``) spanning their times, and the
rest of the speech is left byte for byte. Neighbouring words of one kind make
one placeholder ("Tom, Harry" gives one ``[NAME]``). ``Redaction`` records
keep the kind and the times, never the removed words. ``redact_audio``
replaces those times in the audio with a tone or silence.

Rules (kept to what UK body-worn footage says; over-redaction is the safe side):

- NAME: spaCy PERSON entities; a capitalised word after a title (Mr, Mrs, Ms,
  Dr, Miss, PC, DC, Sergeant, Officer, Auntie...), and a police collar number
  after a police title ("PC 4321"); one to three words after "my name is" or
  "name's" in any case; capitalised words after "I'm", "called", "named".
  Titles and family words are kept ("PC [NAME]", "Mum", "Dad"). A word once
  found as a name is redacted wherever else it is said.
- ADDRESS: a street (up to three name words before Road, Street, Avenue,
  Close...; capitalised, or any case after a house number), "Flat 3", "live at
  number 14"; a town said next to a street or postcode is part of the address.
- PLACE: any other town, district, landmark or road (spaCy GPE, LOC, FAC),
  except countries and the nations of the UK, which identify no one and often
  matter to the account.
- POSTCODE, PHONE (UK 01/02/03/07/08 numbers and +44, written or as spoken
  digits), VEHICLE (current, prefix and suffix registrations in capitals, any
  case after "reg"), EMAIL (written, or spoken "john dot smith at gmail dot
  com"), DOB (a date near "born", "birthday", "date of birth", "DOB").
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import ModelError
from pipeline.flagging.engine import SPACY_MODEL, load_nlp
from pipeline.records import Segment, Word
from pipeline.teach.pii_cues import Placed, cued_spans, dotted_addresses, number_runs
from pipeline.teach.pii_presidio import presidio_spans
from pipeline.teach.pii_rules import detect_spans

if TYPE_CHECKING:
    from spacy.language import Language

#: The kinds of personal detail, in order of precedence where two claim one word.
KINDS = ("EMAIL", "PHONE", "POSTCODE", "VEHICLE", "ID", "DOB", "ADDRESS", "NAME", "NUMBER", "PLACE")
_RANK = {kind: i for i, kind in enumerate(KINDS)}


#: A redacted word timed shorter than this is not trusted: Whisper gives a word it cannot
#: place zero or near-zero length. Its detail's audio window is widened to the neighbouring
#: words' edges instead.
MIN_WORD_S = 0.08
#: How far at most a window is widened towards each neighbour.
MAX_WIDEN_S = 1.5
#: Audio windows closer than this are toned out as one (no half-second of speech between two
#: redacted words survives to be heard).
MERGE_GAP_S = 0.5
#: Padding either side of each audio window, measured so that no syllable of a redacted word
#: remains (``scripts/bench_pii.py``; README, "Teaching exports").
AUDIO_PAD_S = 0.25


@dataclass(frozen=True)
class Redaction:
    """One removed detail: its kind and when it was said (never the words themselves).

    ``audio_start_s``/``audio_end_s`` are the times to tone out before padding: the words'
    own times, or, when one of them is timed implausibly short, out to the neighbouring words.
    """

    kind: str
    start_s: float
    end_s: float
    word_count: int
    audio_start_s: float
    audio_end_s: float


@dataclass(frozen=True)
class Redacted:
    """A transcript with its personal details replaced by placeholders."""

    segments: tuple[Segment, ...]
    redactions: tuple[Redaction, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many details of each kind were removed."""
        return dict(Counter(r.kind for r in self.redactions))

    @property
    def windows(self) -> list[tuple[float, float]]:
        """The times to hide in the audio, one per redaction (``redact_audio`` pads and merges)."""
        return [(r.audio_start_s, r.audio_end_s) for r in self.redactions]


def load_pii_nlp(name: str = SPACY_MODEL) -> Language:
    """The spaCy pipeline with its entity recogniser (``flag.load_nlp`` leaves it out by default)."""
    return load_nlp(name, exclude=())


_KEEP_TAIL = re.compile(r"(?:['’]s)?[^\w]*")



# --- finding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A word placed in the joined text: ``core`` is where its non-space characters start."""

    word: Word
    segment: int
    core: int
    end: int


def find_pii(segments: Sequence[Segment], *, nlp: Language) -> Redacted:
    """Replace names, addresses, postcodes, phone numbers, vehicles, dates of birth and e-mails.

    ``nlp`` must have its entity recogniser (``load_pii_nlp()``). Returns the
    segments with the same times, each detail's words made one placeholder word
    spanning their times, and one ``Redaction`` per detail.
    """
    if "ner" not in nlp.pipe_names:
        raise ModelError(
            "find_pii needs a spaCy pipeline with 'ner'; pass pipeline.teach.pii.load_pii_nlp(), "
            "not pipeline.flagging.engine.load_nlp() (which leaves the entity recogniser out)"
        )
    pieces, text = _place_words(segments)
    doc = nlp(text)
    placed = [Placed(p.core, p.end, p.word.start_s, p.word.end_s) for p in pieces]
    spans = detect_spans(text, doc, [*presidio_spans(text, doc, nlp), *number_runs(text),
                                     *dotted_addresses(text),
                                     *cued_spans(text, placed)])

    ends = [p.end for p in pieces]
    best: dict[int, tuple[int, str, int, int]] = {}  # piece -> (rank, kind, covered from, to)
    for kind, a, b in spans:
        for i in range(bisect.bisect_right(ends, a), len(pieces)):
            p = pieces[i]
            if p.core >= b:
                break
            lo, hi = max(a, p.core), min(b, p.end)
            old = best.get(i)
            if old is None or _RANK[kind] < old[0]:
                best[i] = (_RANK[kind], kind, lo, hi)
            elif old[1] == kind:
                best[i] = (old[0], kind, min(old[2], lo), max(old[3], hi))

    groups: list[list[int]] = []  # consecutive words of one kind, across segment breaks
    for i in sorted(best):
        if groups and groups[-1][-1] == i - 1 and best[i - 1][1] == best[i][1]:
            groups[-1].append(i)
        else:
            groups.append([i])
    replaced: dict[int, Word | None] = {}
    for group in groups:
        kind = best[group[0]][1]
        # A placeholder stays inside its segment: a detail across a break gets one per side.
        for _, part in groupby(group, key=lambda i: pieces[i].segment):
            members = list(part)
            first, last = pieces[members[0]], pieces[members[-1]]
            lo, hi = best[members[0]][2], best[members[-1]][3]
            replaced[members[0]] = _placeholder(text, kind, first, last, lo, hi)
            replaced.update(dict.fromkeys(members[1:]))
    redactions = tuple(
        Redaction(best[g[0]][1], pieces[g[0]].word.start_s, pieces[g[-1]].word.end_s, len(g),
                  *_audio_window(pieces, g[0], g[-1]))
        for g in groups
    )
    return Redacted(_rebuild(segments, pieces, replaced), redactions)


def _audio_window(pieces: Sequence[_Piece], first: int, last: int) -> tuple[float, float]:
    """The time to tone out for the words ``first..last``: their own times, or, when any is
    timed implausibly short (a word Whisper could not place), out to the neighbouring words."""
    start, end = pieces[first].word.start_s, pieces[last].word.end_s
    if all(p.word.end_s - p.word.start_s >= MIN_WORD_S for p in pieces[first:last + 1]):
        return start, end
    before = pieces[first - 1].word.end_s if first > 0 else start - MAX_WIDEN_S
    after = pieces[last + 1].word.start_s if last + 1 < len(pieces) else end + MAX_WIDEN_S
    return max(0.0, min(start, max(before, start - MAX_WIDEN_S))), max(end, min(after, end + MAX_WIDEN_S))


def _place_words(segments: Sequence[Segment]) -> tuple[list[_Piece], str]:
    """The words of all segments joined into one text, each placed by character offset."""
    pieces: list[_Piece] = []
    parts: list[str] = []
    pos = 0
    for si, seg in enumerate(segments):
        # A segment without word timings: its text as words, each spanning the whole segment.
        words = seg.words or tuple(
            Word(seg.start_s, seg.end_s, w, 1.0) for w in re.findall(r"\s*\S+", seg.text)
        )
        for word in words:
            # Stored words are stripped (" Sarah" -> "Sarah"); faster-whisper's carry a space.
            if pos and _spaced(word.word):
                parts.append(" ")
                pos += 1
            core = pos + len(word.word) - len(word.word.lstrip())
            pieces.append(_Piece(word, si, core, pos + len(word.word)))
            parts.append(word.word)
            pos += len(word.word)
    return pieces, "".join(parts)


def join_words(words: Sequence[Word]) -> str:
    """Words as one line of text, spaced as Whisper spoke them (stored words are stripped)."""
    return "".join(f" {w.word}" if j and _spaced(w.word) else w.word for j, w in enumerate(words))


def _spaced(word: str) -> bool:
    """Whether a stripped word needs a space before it: not one that carries its own, and
    not a piece Whisper glued to the word before ("14" "-part", "don" "'t")."""
    return not word[:1].isspace() and word[:1] not in "-'’,.!?;:%)"


def _placeholder(text: str, kind: str, first: _Piece, last: _Piece, lo: int, hi: int) -> Word:
    """One word in place of ``first``..``last``, keeping spacing and punctuation outside the detail."""
    lead = first.word.word[: first.core - (first.end - len(first.word.word))]
    head = text[first.core : lo]
    tail = text[hi : last.end]
    head = head if not any(c.isalnum() for c in head) else ""
    tail = tail if _KEEP_TAIL.fullmatch(tail) else ""
    probability = min(first.word.probability, last.word.probability)
    return Word(first.word.start_s, last.word.end_s, f"{lead}{head}[{kind}]{tail}", probability)


def _rebuild(
    segments: Sequence[Segment], pieces: list[_Piece], replaced: dict[int, Word | None]
) -> tuple[Segment, ...]:
    """The segments with their words replaced; text is the words joined, as Whisper's is."""
    by_segment: dict[int, list[Word | None]] = {}
    changed = {pieces[i].segment for i in replaced}
    for i, p in enumerate(pieces):
        by_segment.setdefault(p.segment, []).append(replaced[i] if i in replaced else p.word)
    out = list(segments)
    for si in changed:
        seg, kept = segments[si], tuple(w for w in by_segment[si] if w is not None)
        text = join_words(kept)
        out[si] = Segment(seg.start_s, seg.end_s, text, kept if seg.words else (),
                          seg.avg_logprob, seg.no_speech_prob)
    return tuple(out)


# --- audio -----------------------------------------------------------------------------------


def redact_audio(
    samples: np.ndarray,
    sample_rate: int,
    windows: Sequence[tuple[float, float]],
    *,
    mode: Literal["tone", "silence"] = "tone",
    tone_hz: float = 1000.0,
    level_dbfs: float = -20.0,
    pad_s: float = AUDIO_PAD_S,
    merge_gap_s: float = MERGE_GAP_S,
    fade_s: float = 0.005,
) -> np.ndarray:
    """A copy of ``samples`` with each window (padded by ``pad_s``) replaced by a tone or silence.

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
    for a, b in _sample_windows(windows, sample_rate, n, pad_s, merge_gap_s):
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
                    pad_s: float = AUDIO_PAD_S, merge_gap_s: float = MERGE_GAP_S
                    ) -> list[tuple[float, float]]:
    """The stretches ``redact_audio`` replaces, in seconds: padded, clipped, merged."""
    return [(round(a / sample_rate, 3), round(b / sample_rate, 3))
            for a, b in _sample_windows(windows, sample_rate, n, pad_s, merge_gap_s)]


def _sample_windows(
    windows: Sequence[tuple[float, float]], sample_rate: int, n: int, pad_s: float,
    merge_gap_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Padded windows in samples, clipped to the array, those closer than the gap merged."""
    merged: list[tuple[int, int]] = []
    gap = int(round(merge_gap_s * sample_rate))
    for s, e in sorted(windows):
        a, b = max(0, int(np.floor((s - pad_s) * sample_rate))), min(n, int(np.ceil((e + pad_s) * sample_rate)))
        if b > a and merged and a < merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged
