"""Personal details in a transcript: find them, and hide them in the audio, for teaching exports.

``find_pii`` runs one spaCy pass (with NER) over the text of all segments
joined, so a detail said across a segment break ("14 Park | Road") is one
redaction. Every detail is mapped back to whole words: the words of one
detail become one placeholder word (``[NAME]``) spanning their times, and the
rest of the speech is left byte for byte. Neighbouring words of one kind make
one placeholder ("Tom, Harry" gives one ``[NAME]``). ``Redaction`` records
keep the kind and the times, never the removed words; ``pii_audio.redact_audio``
replaces those times in the audio with a tone or silence.

What is found is a proposal: each run of words is a ``Proposal`` with a stable id
(its first and last word), and ``find_pii(..., changes=Changes(...))`` applies a
trainer's decisions on top: proposals removed (their words kept), words or time
ranges added.

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
from typing import TYPE_CHECKING

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
#: A detail a second model heard is proposed unless this share of its time is already proposed.
HEARD_COVERED = 0.5
#: Its words in this transcript are those whose middle lies inside its time, less this (or a
#: quarter of the time, if shorter) at each end.
HEARD_MARGIN_S = 0.25
#: How far at most a window is widened towards each neighbour.
MAX_WIDEN_S = 1.5


@dataclass(frozen=True)
class Redaction:
    """One removed detail: its kind and when it was said (never the words themselves).

    ``audio_start_s``/``audio_end_s`` are the times to tone out before padding: the words'
    own times, or, when one of them is timed implausibly short, out to the neighbouring words.
    ``by`` says who asked for it: ``"automatic"`` or ``"trainer"``.
    """

    kind: str
    start_s: float
    end_s: float
    word_count: int
    audio_start_s: float
    audio_end_s: float
    by: str = "automatic"


@dataclass(frozen=True)
class Proposal:
    """A run of words the detectors propose to redact, before anyone has looked at it.

    A proposal from a second hearing (``heard``: the detectors found a detail in another
    model's transcript of the same audio) is a time range; ``first``..``last`` are the
    words of this transcript inside it (-1 when there are none).
    """

    id: str  # "w<first>-<last>", or "h<start ms>-<end ms>" when heard: stable for the same input
    kind: str
    first: int  # word indices over all the segments' words, in order
    last: int
    start_s: float
    end_s: float
    heard: bool = False


@dataclass(frozen=True)
class Changes:
    """A trainer's changes to one text's proposals: removed (their words stay), words added
    (``first``, ``last`` word index, kind), time ranges added (speech only: the words inside
    are replaced too, and the whole range is toned out even where no word was heard)."""

    removed: frozenset[str] = frozenset()
    words: tuple[tuple[int, int, str], ...] = ()
    times: tuple[tuple[float, float, str], ...] = ()


@dataclass(frozen=True)
class Redacted:
    """A transcript with its personal details replaced by placeholders."""

    segments: tuple[Segment, ...]
    redactions: tuple[Redaction, ...]
    proposals: tuple[Proposal, ...] = ()
    extra_windows: tuple[tuple[float, float], ...] = ()  # trainer's time ranges, as given

    @property
    def counts(self) -> dict[str, int]:
        """How many details of each kind were removed."""
        return dict(Counter(r.kind for r in self.redactions))

    @property
    def windows(self) -> list[tuple[float, float]]:
        """The times to hide in the audio (``redact_audio`` pads and merges them)."""
        return [*((r.audio_start_s, r.audio_end_s) for r in self.redactions), *self.extra_windows]


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


def find_pii(segments: Sequence[Segment], *, nlp: Language, changes: Changes | None = None,
             heard: Sequence[Segment] = ()) -> Redacted:
    """Replace names, addresses, postcodes, phone numbers, vehicles, dates of birth and e-mails.

    ``nlp`` must have its entity recogniser (``load_pii_nlp()``). Returns the
    segments with the same times, each detail's words made one placeholder word
    spanning their times, one ``Redaction`` per detail, and the proposals as found
    (before ``changes``, a trainer's decisions, were applied).

    ``heard`` is a second model's transcript of the same audio: a detail the detectors
    find there, at a time this transcript's proposals do not already cover, is proposed
    too (the words heard at that time are replaced and the time toned out), so a detail
    one model misheard is still found when the other heard it.
    """
    if "ner" not in nlp.pipe_names:
        raise ModelError(
            "find_pii needs a spaCy pipeline with 'ner'; pass pipeline.teach.pii.load_pii_nlp(), "
            "not pipeline.flagging.engine.load_nlp() (which leaves the entity recogniser out)"
        )
    pieces, text = _place_words(segments)
    best = _best_kinds(pieces, text, nlp)
    proposals = tuple(
        Proposal(f"w{g[0]}-{g[-1]}", best[g[0]][1], g[0], g[-1], pieces[g[0]].word.start_s,
                 pieces[g[-1]].word.end_s) for g in _groups(best))
    proposals += _heard_proposals(pieces, proposals, heard, nlp) if heard else ()
    added: set[int] = set()
    extra: tuple[tuple[float, float], ...] = ()
    removed = changes.removed if changes is not None else frozenset()
    for proposal in proposals:
        if proposal.heard and proposal.id not in removed:
            for i in range(proposal.first, proposal.last + 1) if proposal.first >= 0 else ():
                best.setdefault(i, (_RANK[proposal.kind], proposal.kind, pieces[i].core, pieces[i].end))
            extra += ((proposal.start_s, proposal.end_s),)
    if changes is not None:
        for proposal in proposals:
            if proposal.id in changes.removed and not proposal.heard:  # heard: never applied
                for i in range(proposal.first, proposal.last + 1):
                    best.pop(i, None)
        chosen = list(changes.words)
        chosen += [(i, i, kind) for a, b, kind in changes.times for i, p in enumerate(pieces)
                   if p.word.end_s > a and p.word.start_s < b]
        for lo_word, hi_word, kind in chosen:
            for i in range(max(0, lo_word), min(len(pieces), hi_word + 1)):
                best[i] = (_RANK[kind], kind, pieces[i].core, pieces[i].end)
                added.add(i)
        extra += tuple((a, b) for a, b, _ in changes.times)
    groups = _groups(best)
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
                  *_audio_window(pieces, g[0], g[-1]),
                  by="trainer" if added.intersection(g) else "automatic")
        for g in groups
    )
    return Redacted(_rebuild(segments, pieces, replaced), redactions, proposals, extra)


def _best_kinds(pieces: Sequence[_Piece], text: str, nlp: Language) -> dict[int, tuple[int, str, int, int]]:
    """For each word the detectors claim: (rank, kind, covered from, to) of the strongest claim."""
    doc = nlp(text)
    placed = [Placed(p.core, p.end, p.word.start_s, p.word.end_s) for p in pieces]
    spans = detect_spans(text, doc, [*presidio_spans(text, doc, nlp), *number_runs(text),
                                     *dotted_addresses(text),
                                     *cued_spans(text, placed)])
    ends = [p.end for p in pieces]
    best: dict[int, tuple[int, str, int, int]] = {}
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
    return best


def _heard_proposals(pieces: Sequence[_Piece], proposals: Sequence[Proposal],
                     heard: Sequence[Segment], nlp: Language) -> tuple[Proposal, ...]:
    """Details found in a second model's transcript where this one's proposals are not."""
    out = []
    for r in find_pii(heard, nlp=nlp).redactions:
        a, b = r.start_s, r.end_s
        inside = sum(max(0.0, min(b, p.end_s) - max(a, p.start_s)) for p in proposals)
        if inside >= HEARD_COVERED * (b - a):
            continue
        # This transcript's words whose middle lies in the time the other model heard the
        # detail, less a margin at each end: two models place a word a little differently.
        margin = min(HEARD_MARGIN_S, (b - a) / 4)
        words = [i for i, p in enumerate(pieces)
                 if a + margin <= (p.word.start_s + p.word.end_s) / 2 <= b - margin]
        out.append(Proposal(f"h{round(a * 1000)}-{round(b * 1000)}", r.kind,
                            words[0] if words else -1, words[-1] if words else -1,
                            round(a, 3), round(b, 3), heard=True))
    return tuple(out)


def _groups(best: dict[int, tuple[int, str, int, int]]) -> list[list[int]]:
    """Consecutive claimed words of one kind, across segment breaks."""
    groups: list[list[int]] = []
    for i in sorted(best):
        if groups and groups[-1][-1] == i - 1 and best[i - 1][1] == best[i][1]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def word_list(segments: Sequence[Segment]) -> list[Word]:
    """Every word of ``segments`` in order, as ``Proposal`` and ``Changes`` number them."""
    return [p.word for p in _place_words(segments)[0]]


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
    return Word(first.word.start_s, last.word.end_s, f"{lead}{head}[{kind}]{tail}", probability,
                first.word.speaker)


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
                          seg.avg_logprob, seg.no_speech_prob, seg.speaker)
    return tuple(out)
