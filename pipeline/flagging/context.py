"""Context that inverts a match: negation ("he never hit me"), questions ("did he hit you?").

The engine (:mod:`pipeline.flagging.engine`) drops a match these say is denied or asked
about, not told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

# "nt" is how spaCy splits a contraction Whisper wrote without its apostrophe ("didnt").
_NEGATORS = frozenset(
    {"not", "n't", "nt", "no", "nobody", "nothing", "never", "none", "neither", "nor", "noone", "nowhere"}
)
_CLAUSE_BREAKS = frozenset({",", ";", ":", "but", "and", "so", "because", "cos", "then", "."})
_NEGATION_WINDOW = 5
_QUESTION_OPENERS = frozenset(
    "do does did have has had is are was were am can could will would should shall may might must".split()
)
_FILLERS = frozenset({"um", "uh", "erm", "er", "like", "so", "and", "but", "right", "okay", "ok", "well"})
# A negator in a condition ("if you don't sit down you're nicked", "if i don't do what he says he
# hits me") negates the condition, not the clause after it.
_CONDITIONALS = frozenset({"if", "unless", "otherwise"})
# "I don't know why he hit me": the negator denies knowing, not what happened.
_COGNITION = frozenset({"know", "understand", "remember", "sure", "certain", "think"})
_WH_WORDS = frozenset({"why", "what", "how", "when", "where", "who", "if", "whether", "whatever"})


def negated(span: Span) -> bool:
    """A negator shortly before the match in its clause, or a ``neg`` dependent before it."""
    doc, sent = span.doc, span.sent
    if any(t.lower_ in _NEGATORS for t in span):
        # A pattern that carries its own negator ("can't do this", "won't let me") is a
        # negative disclosure; a negator just before it is a stutter ("i can't i can't do
        # this"), not a denial.
        return False
    opener = next((t.i for t in sent if t.lower_ not in _FILLERS and not t.is_punct), sent.start)
    for i in range(span.start - 1, max(sent.start, span.start - _NEGATION_WINDOW) - 1, -1):
        word = doc[i].lower_
        if word in _CLAUSE_BREAKS:
            break
        if word == "no" and i == opener:
            continue  # "no, he punched me": an answer, not a negation
        if word in _NEGATORS or (word == "one" and i > 0 and doc[i - 1].lower_ == "no"):
            if _negates_something_else(doc, i, span):
                break
            return True
    return any(
        child.dep_ == "neg" and child.i < span.start and child.i != opener
        for tok in span
        for child in tok.children
    )


def _negates_something_else(doc: Doc, i: int, span: Span) -> bool:
    """Whether the negator at ``i`` belongs to a condition, to "not know why", to "not the first
    time", or to a clause of its own that plays something down ("it's no big deal")."""
    if _plays_down(doc, i, span):
        return True
    conditional = any(doc[j].lower_ in _CONDITIONALS for j in range(max(span.sent.start, i - 3), i))
    if conditional and not span.start <= doc[i].head.i < span.end:
        return True  # the negated verb is the condition's, not the match's
    after = [t.lower_ for t in doc[i + 1 : i + 4]]
    if after and after[0] in {"even", "really", "actually"}:
        after = after[1:]
    if len(after) >= 2 and after[0] in _COGNITION and after[1] in _WH_WORDS:
        return True
    return after[:2] in (["the", "first"], ["the", "only"], ["for", "the"])


def _plays_down(doc: Doc, i: int, span: Span) -> bool:
    """A negator inside "it's no big deal", "it's nothing", "I'm not a liar": it negates what
    its copula says the thing is, not a match after it.

    A person minimising abuse says "it's no big deal he only pushed me": the negator's
    clause is ``be`` with a noun attribute, and the match is a clause with its own subject
    outside that noun's phrase (so "there's nobody that hurt me", where the match hangs on
    "nobody", stays a denial).
    """
    token = doc[i]
    if token.dep_ == "neg":
        attr = next((c for c in token.head.children if c.dep_ == "attr"), None)
    elif token.dep_ == "attr":
        attr = token
    elif token.dep_ == "det" and token.head.dep_ == "attr":
        attr = token.head
    else:
        return False
    if attr is None or attr.head.lemma_ != "be" or span.start <= attr.head.i < span.end:
        return False
    phrase = {t.i for t in attr.subtree}
    if any(t.i in phrase for t in span):
        return False
    # The match is a clause of its own, with a subject that is someone ("he only pushed
    # me"), not a question word ("it's not your fault what happened").
    return any(c.dep_ in ("nsubj", "nsubjpass") and c.lower_ not in _WH_WORDS for c in span.root.children)


def is_question(sent: Span) -> bool:
    if sent.text.rstrip().endswith("?"):
        return True
    words = [t for t in sent if not t.is_punct and t.lower_ not in _FILLERS]
    return (
        len(words) > 1
        and words[0].lower_ in _QUESTION_OPENERS
        and words[1].pos_ in {"PRON", "PROPN", "NOUN", "DET"}
    )


_ASKING = frozenset({"ask", "wonder", "check", "enquire", "inquire"})


def asked_about(span: Span) -> bool:
    """Reported questions: "he asked me if he'd hurt me", "she keeps asking whether I'm scared"."""
    sent = span.sent
    for i in range(max(sent.start, span.start - 6), span.start):
        token = span.doc[i]
        if token.lower_ in {"if", "whether"} and any(
            span.doc[j].lemma_.lower() in _ASKING for j in range(max(sent.start, i - 3), i)
        ):
            return True
    return False
