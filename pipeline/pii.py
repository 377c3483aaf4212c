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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import ModelError
from pipeline.flag import SPACY_MODEL, load_nlp
from pipeline.transcribe import Segment, Word

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: The kinds of personal detail, in order of precedence where two claim one word.
KINDS = ("EMAIL", "PHONE", "POSTCODE", "VEHICLE", "DOB", "ADDRESS", "NAME", "PLACE")
_RANK = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Redaction:
    """One removed detail: its kind and when it was said (never the words themselves)."""

    kind: str
    start_s: float
    end_s: float
    word_count: int


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
        """The times to hide in the audio, one per redaction."""
        return [(r.start_s, r.end_s) for r in self.redactions]


def load_pii_nlp(name: str = SPACY_MODEL) -> Language:
    """The spaCy pipeline with its entity recogniser (``flag.load_nlp`` leaves it out by default)."""
    return load_nlp(name, exclude=())


# --- word lists ------------------------------------------------------------------------------

_POLICE_TITLES = frozenset("pc pcso dc ds di dci sgt sergeant inspector constable detective officer".split())
_CASED_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr"})  # always a title, so any case follows
_TITLES = _POLICE_TITLES | _CASED_TITLES | frozenset(
    "miss doctor prof professor auntie aunty aunt uncle nurse".split()
)
_NOT_NAMES = _TITLES | frozenset(
    "mum mam mom mummy mommy dad daddy nan nana nanna gran granny grandma grandad grandpa "
    "police sorry sir madam maam mate love babe baby darling bro ok okay alright yeah yes no "
    "hello hi hiya please thanks cheers god jesus christ lord hey oi copper officers fine "
    "like um uh erm er right well so just ta bless ring call text phone email calm postcode reg "
    "registration address surname mobile landline dob".split()
)
_NOT_PERSON = frozenset(
    "NORP LANGUAGE DATE TIME ORDINAL CARDINAL MONEY PERCENT QUANTITY EVENT LAW WORK_OF_ART".split()
)
_STRONG_CUES = (("my", "name", "is"), ("my", "name", "'s"), ("name", "is"), ("name", "'s"),
                ("call", "me"), ("i", "'m", "called"), ("i", "am", "called"), ("known", "as"),
                ("surname",), ("surname", "is"), ("surname", "'s"), ("first", "name"),
                ("first", "name", "is"), ("forename",), ("forename", "is"))
_WEAK_CUES = (("i", "'m"), ("i", "am"), ("called",), ("named",), ("goes", "by"), ("go", "by"))
_STREET_SUFFIXES = frozenset(
    "road rd street st avenue ave lane close drive way crescent grove place court gardens terrace "
    "hill square park mews row walk rise green parade vale boulevard estate cottages view".split()
)
_COURTS = frozenset("crown magistrates magistrates' county family high youth supreme".split())
_NOT_PLACES = frozenset(
    "england scotland wales britain uk u.k. ireland europe america usa us u.s. africa asia "
    "australia canada france germany spain italy poland romania portugal lithuania latvia albania "
    "greece turkey russia ukraine india pakistan bangladesh china nigeria ghana somalia eritrea "
    "sudan ethiopia kenya zimbabwe jamaica iraq iran syria afghanistan brazil mexico".split()
) | {"great britain", "united kingdom", "northern ireland", "the states", "south africa"}
_PLACE_TRIM = frozenset({"the", "police", "constabulary", "council"})

# --- patterns --------------------------------------------------------------------------------

_POSTCODE = re.compile(r"\b([A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) ?(\d([ABD-HJLNP-UW-Z]{2}))\b", re.I)
_PHONE = re.compile(
    r"(?<![\d+])(?:\(?0|(?:\+|\bplus) ?44 ?(?:\(0\) ?)?|0044 ?)(?:[ .\-)]{0,2}\d){9,10}(?!\d)", re.I
)
_DIGIT = r"oh|o|zero|nought|one|two|three|four|five|six|seven|eight|nine"
_SPOKEN_DIGITS = re.compile(rf"\b(?:(?:plus|double|triple|treble|{_DIGIT}|\d+)\b[ ,.\-]*){{7,}}", re.I)
_PHONE_CUE = re.compile(r"\b(?:phone|mobile|number|call me on|ring me on|text me on|contact)\b", re.I)
_DIGIT_RUN = re.compile(r"[^\d.?!]{0,20}?(\d[\d ,.\-]*\d)")
_TLD = r"com|co|org|net|uk|gov|ac|nhs|police|io|me|info|biz|ie|edu"
_EMAIL = re.compile(
    rf"\b[\w+\-]+(?:(?:\.| (?:dot|underscore|dash|hyphen) )[\w+\-]+)*(?: ?@ ?| at )"
    rf"[\w\-]+(?:(?:\.| dot )[\w\-]+)*(?:\.| dot )(?:{_TLD})\b|\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b",
    re.I,
)
_VEHICLE = re.compile(
    r"\b(?:[A-Z]{2}\d{2} ?[A-Z]{3}|[A-HJ-NPR-TV-Y]\d{1,3} ?[A-Z]{3}|[A-Z]{3} ?\d{1,3}[A-HJ-NPR-TV-Y])\b"
)
_VEHICLE_AFTER_CUE = re.compile(
    r"\b(?:reg|registration|number ?plate|plate)\b[^.?!]{0,25}?\b([a-z]{2}\d{2} ?[a-z]{3})\b", re.I
)
_FLAT = re.compile(r"\b(?:flat|apartment|apt\.?) (?:number )?\d{1,4}[a-z]?\b", re.I)
_HOUSE_AFTER_CUE = re.compile(
    r"\b(?:(?:live|lives|lived|living|stay|stays|staying) at|address is|at number) "
    r"(?:number )?(\d{1,4}[a-z]?)\b",
    re.I,
)
_HOUSE_NUMBER = re.compile(r"\d{1,4}[a-zA-Z]?")
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
_ORDINAL_WORDS = (
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"\w+teenth|twentieth|twenty[- ]\w+|thirtieth|thirty[- ]first"
)
_YEAR = r"\d{4}|'?\d{2}|nineteen \w+|two thousand(?: and)?(?: \w+)?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}})"
    rf"|(?:the )?(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORDS}) (?:of )?(?:{_MONTH})\b(?:,? (?:{_YEAR}))?"
    rf"|(?:{_MONTH}) (?:the )?\d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?)\b",
    re.I,
)
_DATE_LIKE = re.compile(rf"\d{{1,2}}[/.\-]\d{{1,2}}|\b(?:19|20)\d\d\b|{_MONTH}|nineteen|two thousand", re.I)
_DOB_CUE = re.compile(r"\b(?:born|birthday|birth ?date|date of birth|d\.? ?o\.? ?b)\b", re.I)
# A name spelt out: "K-A-Y-L-E-I-G-H", "S M I T H" (not "D.O.B.", which has dots).
_SPELT = re.compile(r"\b(?:[a-z]-){2,}[a-z]\b|\b(?:[A-Z] ){3,}[A-Z]\b", re.I)
_KEEP_TAIL = re.compile(r"(?:['’]s)?[^\w]*")

Span = tuple[str, int, int]  # kind, start and end character in the joined text


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
            "find_pii needs a spaCy pipeline with 'ner'; pass pipeline.pii.load_pii_nlp(), "
            "not pipeline.flag.load_nlp() (which leaves the entity recogniser out)"
        )
    pieces, text = _place_words(segments)
    doc = nlp(text)
    spans = list(_detect(text, doc))
    spans += _repeated_names(doc, spans)
    spans = _places_in_addresses(text, spans)

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
        Redaction(best[g[0]][1], pieces[g[0]].word.start_s, pieces[g[-1]].word.end_s, len(g))
        for g in groups
    )
    return Redacted(_rebuild(segments, pieces, replaced), redactions)


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


def _detect(text: str, doc: Doc) -> Iterator[Span]:
    """Every detail the patterns and the entity recogniser find, as character spans."""
    for rx, kind in ((_EMAIL, "EMAIL"), (_PHONE, "PHONE"), (_VEHICLE, "VEHICLE"), (_FLAT, "ADDRESS"),
                     (_SPELT, "NAME")):
        for m in rx.finditer(text):
            yield kind, m.start(), m.end()
    yield from _cued_phones(text)
    for m in _POSTCODE.finditer(text):
        inward = m.group(3)
        if not (inward.lower() in {"st", "nd", "rd", "th"} and inward.islower()):  # "A1 3rd"
            yield "POSTCODE", m.start(), m.end()
    for rx, kind in ((_VEHICLE_AFTER_CUE, "VEHICLE"), (_HOUSE_AFTER_CUE, "ADDRESS")):
        for m in rx.finditer(text):
            yield kind, m.start(1), m.end(1)
    yield from _spoken_phones(text)
    yield from _dates_of_birth(text, doc)
    yield from _entities(text, doc)
    yield from _cued_names(doc)
    yield from _streets(doc)


def _cued_phones(text: str) -> Iterator[Span]:
    """Digits after "number", "phone", "call me on"... that Whisper broke up with commas:
    "my number is 07700, 900,123" (10 to 12 digits, starting with 0)."""
    for cue in _PHONE_CUE.finditer(text):
        run = _DIGIT_RUN.match(text, cue.end())
        if run and run.group(1).startswith("0") and 10 <= sum(c.isdigit() for c in run.group(1)) <= 12:
            yield "PHONE", run.start(1), run.end(1)


def _spoken_phones(text: str) -> Iterator[Span]:
    """Digits said as words ("oh seven seven double oh..."): ten or more, starting with zero."""
    for m in _SPOKEN_DIGITS.finditer(text):
        items = re.findall(r"[\w]+", m.group().lower())
        count = sum(len(w) if w.isdigit() else {"double": 1, "triple": 2, "treble": 2, "plus": 0}.get(w, 1)
                    for w in items)
        if count >= 10 and (items[0] in {"oh", "o", "zero", "nought", "plus"} or items[0].startswith("0")):
            yield "PHONE", m.start(), m.start() + len(m.group().rstrip(" ,.-"))


def _dates_of_birth(text: str, doc: Doc) -> Iterator[Span]:
    """Dates (pattern or spaCy DATE) within a sentence or so of "born", "birthday", "DOB"."""
    cues = [(m.start(), m.end()) for m in _DOB_CUE.finditer(text)]
    if not cues:
        return
    dates = [(m.start(), m.end()) for m in _DATE.finditer(text)]
    dates += [(e.start_char, e.end_char) for e in doc.ents
              if e.label_ == "DATE" and _DATE_LIKE.search(e.text)]
    for a, b in dates:
        if any(0 <= a - ce <= 60 or 0 <= cs - b <= 25 for cs, ce in cues):
            yield "DOB", a, b


def _entities(text: str, doc: Doc) -> Iterator[Span]:
    """spaCy PERSON as NAME, GPE/LOC/FAC as PLACE, less titles, family words and countries."""
    for ent in doc.ents:
        if ent.label_ == "PERSON":
            tokens = [t for t in ent if t.is_alpha and t.lower_.rstrip(".") not in _NOT_NAMES
                      and t.pos_ not in {"VERB", "INTJ", "ADV", "ADP", "PRON", "DET", "AUX"}]
            if tokens:
                yield "NAME", tokens[0].idx, tokens[-1].idx + len(tokens[-1])
        elif ent.label_ in {"GPE", "LOC", "FAC"}:
            kept = [k for k, t in enumerate(ent) if t.lower_ not in _PLACE_TRIM and not t.is_punct]
            if kept:  # "the M62", "West Yorkshire Police": the place, not its article or force
                a, b = ent[kept[0]].idx, ent[kept[-1]].idx + len(ent[kept[-1]])
                if text[a:b].lower() not in _NOT_PLACES:
                    yield "PLACE", a, b


def _name_run(doc: Doc, i: int, *, any_case: bool, limit: int) -> tuple[int, int] | None:
    """Up to ``limit`` tokens from ``i`` that can be a name, as a character span.

    A name word is alphabetic and not a common word. After a strong cue
    (``any_case``) it may be lower case, as Whisper sometimes writes names, but
    a capitalised first word wants capitalised others ("Sarah thanks"). After
    a weak cue it must be capitalised and not a nationality or a number.
    """
    j = i
    while j < len(doc) and j - i < limit:
        t = doc[j]
        if not t.is_alpha or t.is_stop or t.lower_ in _NOT_NAMES:
            break
        capital = t.text[:1].isupper()
        if any_case and j > i and doc[i].text[:1].isupper() and not capital:
            break
        if not any_case and (not capital or t.ent_type_ in _NOT_PERSON):
            break
        j += 1
    return (doc[i].idx, doc[j - 1].idx + len(doc[j - 1])) if j > i else None


def _cued_names(doc: Doc) -> Iterator[Span]:
    """Names after a title ("PC Jones", "Mrs patel") or a cue ("my name is", "I'm", "called")."""
    lower = [t.lower_.replace("’", "'") for t in doc]
    for i, t in enumerate(doc):
        title = lower[i].rstrip(".")
        if title in _TITLES and (title in _CASED_TITLES or t.text[:1].isupper() or title in _POLICE_TITLES):
            j = i + 1 + (i + 1 < len(doc) and doc[i + 1].text == ".")
            if title in _POLICE_TITLES and j < len(doc) and re.fullmatch(r"\d{2,6}", doc[j].text):
                yield "NAME", doc[j].idx, doc[j].idx + len(doc[j])  # a collar number
                j += 1
            if j < len(doc) and (span := _name_run(doc, j, any_case=title in _CASED_TITLES, limit=2)):
                yield "NAME", *span
        for cues, any_case, limit in ((_STRONG_CUES, True, 3), (_WEAK_CUES, False, 2)):
            for cue in cues:
                j = i + len(cue)
                if tuple(lower[i:j]) == cue and j < len(doc) and lower[j].rstrip(".") not in _TITLES:
                    if span := _name_run(doc, j, any_case=any_case, limit=limit):
                        yield "NAME", *span


def _repeated_names(doc: Doc, spans: list[Span]) -> list[Span]:
    """Every other mention of a word already found as a name (capitalised, if it was)."""
    seen: dict[str, bool] = {}  # name -> was it ever said in lower case
    for kind, a, b in spans:
        if kind == "NAME" and (found := doc.char_span(a, b, alignment_mode="expand")) is not None:
            for t in found:
                if t.is_alpha and len(t) > 1 and not t.is_stop and t.lower_ not in _NOT_NAMES:
                    seen[t.lower_] = seen.get(t.lower_, False) or t.text.islower()
    return [("NAME", t.idx, t.idx + len(t)) for t in doc
            if t.lower_ in seen and (seen[t.lower_] or t.text[:1].isupper())]


def _streets(doc: Doc) -> Iterator[Span]:
    """House number and street: "14 Park Road", "22 acacia avenue", "the High Street"."""
    for i, t in enumerate(doc):
        suffix = t.lower_.rstrip(".")
        if suffix not in _STREET_SUFFIXES or t.pos_ in {"VERB", "AUX"}:
            continue
        j = i
        while j > 0 and i - j < 4 and (doc[j - 1].lower_ in {"'s", "’s"} or (
            doc[j - 1].is_alpha and not doc[j - 1].is_stop and doc[j - 1].lower_ not in _NOT_NAMES
            and doc[j - 1].pos_ not in {"VERB", "AUX", "INTJ", "PRON", "ADP", "DET"})):
            j -= 1
        if j == i and i >= 2 and doc[i - 1].is_alpha:  # "14 part road": any word after a number
            k = i - 3 if i >= 3 and doc[i - 2].text in {"-", "–"} else i - 2
            if _HOUSE_NUMBER.fullmatch(doc[k].text):
                j = i - 1
        names = [doc[k] for k in range(j, i) if doc[k].is_alpha]
        if not names or (suffix == "court" and any(n.lower_ in _COURTS for n in names)):
            continue
        k = j - 1  # the house number, before the name or before a dash ("14-Park Road")
        if k > 0 and doc[k].text in {"-", "–"}:
            k -= 1
        number = j > 0 and _HOUSE_NUMBER.fullmatch(doc[k].text) is not None
        capitalised = all(w.text[:1].isupper() for w in [*names, t])
        if number or (capitalised and suffix != "st"):
            start = doc[k] if number else doc[j]
            yield "ADDRESS", start.idx, t.idx + len(t)


def _places_in_addresses(text: str, spans: list[Span]) -> list[Span]:
    """A town said next to a street or postcode ("14 Park Road, Leeds") is part of the address."""
    spans = list(spans)
    changed = True
    while changed:  # "14 Elm Grove, Chapeltown, Leeds": each town joins through the one before
        changed = False
        anchors = [(a, b) for kind, a, b in spans if kind in {"ADDRESS", "POSTCODE"}]
        for n, (kind, a, b) in enumerate(spans):
            if kind == "PLACE" and any(
                re.fullmatch(r"[\s,]{0,3}", text[e:a] if e <= a else text[b:s] if b <= s else "x")
                for s, e in anchors
            ):
                spans[n] = ("ADDRESS", a, b)
                changed = True
    return spans


# --- audio -----------------------------------------------------------------------------------


def redact_audio(
    samples: np.ndarray,
    sample_rate: int,
    windows: Sequence[tuple[float, float]],
    *,
    mode: Literal["tone", "silence"] = "tone",
    tone_hz: float = 1000.0,
    level_dbfs: float = -20.0,
    pad_s: float = 0.05,
    fade_s: float = 0.005,
) -> np.ndarray:
    """A copy of ``samples`` with each window (padded by ``pad_s``) replaced by a tone or silence.

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
    for a, b in _sample_windows(windows, sample_rate, n, pad_s):
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


def _sample_windows(
    windows: Sequence[tuple[float, float]], sample_rate: int, n: int, pad_s: float
) -> list[tuple[int, int]]:
    """Padded windows in samples, clipped to the array, overlapping ones merged."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(windows):
        a, b = max(0, int(np.floor((s - pad_s) * sample_rate))), min(n, int(np.ceil((e + pad_s) * sample_rate)))
        if b > a and merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged
