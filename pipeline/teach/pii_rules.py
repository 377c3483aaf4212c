"""The rules that find personal details in a transcript's text (see :mod:`pipeline.teach.pii`
for what each kind covers): word lists, patterns for written and spoken forms, and spaCy
entities and cues. :func:`detect_spans` is the one entry point; it works on characters of
the joined text, and :func:`pipeline.teach.pii.find_pii` maps them back to words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.teach.pii_cues import digits_said

if TYPE_CHECKING:
    from spacy.tokens import Doc

Span = tuple[str, int, int]  # kind, start and end character in the joined text


def detect_spans(text: str, doc: Doc, extra: Sequence[Span] = ()) -> list[Span]:
    """Every personal detail found in ``text`` (``doc`` is spaCy's parse of it, with NER), with
    ``extra`` details found elsewhere; a name found once is found wherever it is said again."""
    spans = [*_detect(text, doc), *extra]
    spans += _repeated_names(doc, spans)
    return _places_in_addresses(text, spans)


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
        count = sum(digits_said(w, inside_run=True) for w in items)
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
