"""Rules for personal details in words as Whisper heard them, right or wrong.

Detection on a transcript that Whisper got wrong misses details whose words it garbled
("L S six two A B" heard as "LST to me"). What survives mishearing is the *cue* a person
says before a detail ("my postcode is", "date of birth", "PC", "my number is") and the
*shape* of numbers. So:

- after a cue, the words that follow are redacted up to the next pause (a gap between
  words, or a sentence or clause break), whether or not they look like the detail;
- every run of three or more digits (written, or spoken: "four one two", "double seven")
  is a number that identifies someone, and so is a code mixing letters and two or more
  digits ("KM12", "VS34QT"). Number words such as "fifteen" (an age) are not digits and
  stay: they matter for safeguarding.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

Span = tuple[str, int, int]  # kind, start and end character in the joined text

#: A gap between two words at least this long ends what follows a cue.
PAUSE_S = 0.35


@dataclass(frozen=True)
class Placed:
    """A word of the joined text: where its characters are and when it was said."""

    start: int
    end: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class _Cue:
    kind: str
    pattern: re.Pattern[str]
    max_words: int
    #: Only when what follows holds a digit, a month or an ordinal (a date or a number).
    needs_number: bool = False
    #: Only the capitalised words that follow (a name after "my sister").
    capitalised: bool = False


_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_DIGIT_WORDS = {"oh": 1, "o": 1, "zero": 1, "nought": 1, "one": 1, "two": 1, "three": 1,
                "four": 1, "five": 1, "six": 1, "seven": 1, "eight": 1, "nine": 1,
                "double": 1, "triple": 2, "treble": 2}
_ORDINAL = re.compile(r"^(?:\d+(?:st|nd|rd|th)|first|second|third|\w+(?:th|teenth|tieth))$")
_CLAUSE = frozenset("and but so because cos if when then while although though or".split())
#: Words a detail does not start with, though they may follow its cue ("the reg was AB12 CDE").
_LEADING = frozenset("""is was the a it's its number plate reg on at 's constable sergeant
    inspector detective officer""".split())
_NUMBER_WORDS = frozenset("""ten eleven twelve thirteen fourteen fifteen sixteen seventeen
    eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand""".split())
_RANKS = r"p\.? ?c|pcso|d\.? ?c|d\.? ?s|d\.? ?i|sergeant|sarge|sgt|inspector|constable|detective|officer"

CUES = (
    _Cue("DOB", re.compile(r"\b(?:date of birth|d\.? ?o\.? ?b\.?|birth ?date|born(?: on| in)?|"
                           r"birthday(?:'s| is)?(?: on)?(?: the)?)\b", re.I), 8, needs_number=True),
    _Cue("DOB", re.compile(r"\bdate of\b", re.I), 8, needs_number=True),
    _Cue("POSTCODE", re.compile(r"\bpost ?code(?:'s| is| was)?\b", re.I), 4),
    _Cue("PHONE", re.compile(r"\b(?:my|his|her|your|their|best|home|work|contact|phone|mobile) "
                             r"(?:phone |mobile )?(?:number|mobile|landline)(?:'s| is| was)\b|"
                             r"\b(?:mobile|landline)(?:'s| is| was)\b|"
                             r"\bmy (?:phone |mobile )?(?:number|mobile|landline|phone)\b|"
                             r"\b(?:call|ring|text|reach) (?:me|him|her|us|my \w+) on\b", re.I),
         14, needs_number=True),
    _Cue("EMAIL", re.compile(r"\be-?mail(?:'s| is| me| me at| me on| address(?: is)?)?\b|"
                             r"\bmessage me on\b", re.I), 9),
    _Cue("ADDRESS", re.compile(r"\b(?:live|lives|lived|living|staying|stay|stays) (?:at|on)\b|"
                               r"\bmoved to\b|\baddress(?:'s| is)\b", re.I), 5),
    _Cue("NAME", re.compile(r"\b(?:my name(?:'s| is)|name's|i'm called|known as|"
                            r"(?:sur|fore|first )name(?:'s| is)?)\b", re.I), 3),
    _Cue("NAME", re.compile(rf"\b(?:{_RANKS})\b", re.I), 2),
    _Cue("NAME", re.compile(r"\bmy (?:sister|brother|son|daughter|partner|husband|wife|boyfriend|"
                            r"girlfriend|ex|nan|friend|cousin|stepdad|stepmum|social worker|"
                            r"support worker|key worker)\b,?", re.I), 2, capitalised=True),
    _Cue("VEHICLE", re.compile(r"\b(?:reg(?:istration)?|number ?plate|plate|registered)\b", re.I), 6),
)


#: A placeholder that redaction put in place of a detail: "[NAME]", "[PHONE]".
PLACEHOLDER = re.compile(r"\[[A-Z]+\]")


def cued_spans(text: str, words: Sequence[Placed]) -> Iterator[Span]:
    """What follows each cue, up to the next pause, as one detail of the cue's kind."""
    starts = [w.start for w in words]
    said = [text[w.start:w.end] for w in words]
    for cue in CUES:
        for m in cue.pattern.finditer(text):
            taken = _following(said, words, bisect.bisect_left(starts, m.end()), cue)
            if taken:
                last = said[taken[-1]]
                yield cue.kind, words[taken[0]].start, words[taken[-1]].start + len(last.rstrip(",.;:!?"))


#: Words after which an address cue is not followed by an address ("I live at home").
_NOT_ADDRESSES = frozenset("home the moment present minute mine his hers theirs ours".split())
#: Words that end what follows an address cue ("... with my mum").
_AFTER_ADDRESS = frozenset("with for since because near until till from".split())


def _following(said: Sequence[str], words: Sequence[Placed], i: int, cue: _Cue) -> list[int]:
    """The indexes of the words after a cue (from ``i``) that make its detail."""
    taken: list[int] = []
    k = i
    while k < len(words) and len(taken) < cue.max_words:
        word = said[k]
        core = word.strip(" ,.;:!?\"'").lower()
        if k > i and words[k].start_s - words[k - 1].end_s >= PAUSE_S:
            break
        if PLACEHOLDER.fullmatch(word.strip(" ,.;:!?\"'")):
            break  # already a placeholder: the detail there is redacted
        if core in _CLAUSE and not (cue.needs_number and core == "and" and k + 1 < len(words)
                                    and _numeric(said[k + 1])):
            break  # "... two thousand and one" goes on; "... and she" does not
        if cue.capitalised and not word.strip()[:1].isupper():
            break
        if cue.kind == "ADDRESS" and (core in _AFTER_ADDRESS or (not taken and core in _NOT_ADDRESSES)):
            break
        if cue.needs_number and len(taken) >= 2 and not any(_numeric(said[t]) for t in taken[-2:]) \
                and any(_numeric(said[t]) for t in taken):
            break  # two words in a row that are not numbers: the number has ended
        if core and (taken or core not in _LEADING):
            taken.append(k)
        if re.search(r"[,.;:!?]\s*$", word) and not re.search(r"\w\.\w", word):
            break  # a clause or sentence ends with this word ("VS34QT," "…com.")
        k += 1
    if cue.needs_number:
        numeric = [t for t in taken if _numeric(said[t])]
        return taken[taken.index(numeric[0]):taken.index(numeric[-1]) + 1] if numeric else []
    return taken


def _numeric(word: str) -> bool:
    w = word.strip(" ,.;:!?\"'").lower()
    return (bool(re.search(r"\d", w)) or w in _DIGIT_WORDS or w in _NUMBER_WORDS or w in _MONTHS
            or bool(_ORDINAL.match(w)))


_TOKEN = re.compile(r"\S+")
#: A web or e-mail address Whisper wrote without its "@": "mo.percena.look.com".
_DOTTED = re.compile(r"\b[\w\-]+(?:\.[\w\-]+)+\.(?:com|co\.uk|co|org|net|uk|gov\.uk|ac\.uk|nhs\.uk|io|me|info)\b", re.I)


#: A code of letters with two or more digits: "KM12", "VS34QT".
_CODE = re.compile(r"^(?=.*[a-z])(?=(?:.*\d){2})[a-z0-9]{4,}$", re.I)


def dotted_addresses(text: str) -> Iterator[Span]:
    """Tokens shaped like an e-mail or web address, with or without an "@"."""
    for m in _DOTTED.finditer(text):
        yield "EMAIL", m.start(), m.end()


#: Public service numbers, said to help, that identify no one.
PUBLIC_NUMBERS = frozenset({"999", "112", "101", "111", "116123", "08001111", "08088024040",
                            "08082000247", "0800555111"})
_COUNTING = ("onetwothree", "onetwothreefour", "onetwothreefourfive")


def number_runs(text: str) -> Iterator[Span]:
    """Runs of three or more digits, written or spoken, and letter-and-digit codes; not public
    service numbers (999, 101, Childline's 0800 1111), and not counting ("one, two, three")."""
    run: list[re.Match[str]] = []
    digits = 0
    for m in _TOKEN.finditer(text):
        token = m.group().strip(",.;:!?\"'()").lower()
        count = digits_said(token, inside_run=bool(run))
        if count and not (token == "one" and not run and _is_pronoun_one(text, m)):
            run.append(m)
            digits += count
            if not re.search(r"[.;!?]$", m.group()):  # a sentence end closes the run
                continue
        if digits >= 3 and _identifying(run):
            yield "NUMBER", run[0].start(), _end(run[-1])
        run, digits = [], 0
        if not count and _CODE.match(token):
            yield "NUMBER", m.start(), _end(m)
    if digits >= 3 and _identifying(run):
        yield "NUMBER", run[0].start(), _end(run[-1])


def _identifying(run: list[re.Match[str]]) -> bool:
    """Whether a run of digits says something other than a public number or counting."""
    said = "".join(re.sub(r"[^\w]", "", m.group().lower()) for m in run)
    return said not in PUBLIC_NUMBERS and said not in _COUNTING


def digits_said(token: str, *, inside_run: bool) -> int:
    """How many digits a token says: "07700" five, "seven" one, "double" one more."""
    if re.fullmatch(r"\d[\d\-/]*", token):
        return sum(c.isdigit() for c in token)
    if token == "o" and not inside_run:
        return 0
    return _DIGIT_WORDS.get(token, 0)


def _end(m: re.Match[str]) -> int:
    return m.start() + len(m.group().rstrip(",.;:!?\"')"))


def _is_pronoun_one(text: str, m: re.Match[str]) -> bool:
    """ "one" as a word rather than a digit: "the one", "no one", "one of them"."""
    before = text[max(0, m.start() - 4):m.start()].lower()
    after = text[m.end():m.end() + 4].lower()
    return before.endswith(("the ", "no ", "any ")) or after.startswith((" of", " who", " day"))
