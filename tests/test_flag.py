"""The flag engine with the shipped rubric: categories, negation, questions, childhood, timing."""

from __future__ import annotations

import pytest

from pipeline.flagging.engine import merge_flags
from pipeline.records import Flag, Segment, Word
from pipeline.taxonomy import taxonomy_id


def categories(engine, text: str) -> set[str]:
    return {taxonomy_id(f.category) for f in engine.flag_texts([text])[0]}


@pytest.mark.parametrize(
    "text,category",
    [
        ("he grabbed me round the throat last night", "harm.domestic_abuse"),
        ("he said he'd kill me if I called you lot", "harm.domestic_abuse"),
        ("she took my bank card and won't let me see my mates", "harm.domestic_abuse"),
        ("i've been cutting myself again", "harm.self"),
        ("honestly there's no point going on anymore", "harm.self"),
        ("i owe them money so i have to keep running for them", "harm.exploitation"),
        ("the baby's asleep in the cot upstairs", "safeguarding.child"),
        ("my daughter hasn't come home for two nights", "safeguarding.child"),
        ("please i can't breathe i'm panicking", "distress"),
        ("when i was little my dad used to belt me", "ace.abuse"),
        ("nobody fed us when we were kids", "ace.neglect"),
        ("i used to hide upstairs when he went for my mum", "ace.household_violence"),
        ("i was in a children's home from ten", "ace.household_dysfunction"),
        ("i'm pc jones from the police and i'll explain why we're here", "practice.explain"),
        ("has anybody been injured", "practice.safety"),
        ("do you feel safe at home", "practice.safety"),
        ("you can stop at any point", "practice.choice"),
        ("nobody's cross with you, you did the right thing", "practice.validate"),
        ("talk me through what happened earlier", "practice.curious"),
        ("victim support can ring you tomorrow", "practice.signpost"),
        ("you only have yourself to blame", "concern.blame"),
        ("stop being so dramatic", "concern.dismiss"),
        ("do that again and you're in the cells", "concern.threat"),
        ("sit down you idiot", "concern.profanity"),
    ],
)
def test_category(engine, text: str, category: str) -> None:
    assert category in categories(engine, text)


@pytest.mark.parametrize(
    "text,category",
    [
        ("he didn't hit me", "harm.domestic_abuse"),
        ("nobody threatened me", "harm.domestic_abuse"),
        ("did he hit you?", "harm.domestic_abuse"),
        ("did he hurt you", "harm.domestic_abuse"),
        ("i'm dying for a cup of tea", "harm.self"),
        ("the kids are at school today", "safeguarding.child"),
    ],
)
def test_not_a_disclosure(engine, text: str, category: str) -> None:
    assert category not in categories(engine, text)


def test_a_question_about_harm_is_a_safety_check(engine) -> None:
    found = categories(engine, "did he hurt you?")
    assert "practice.safety" in found and "harm.domestic_abuse" not in found


def test_flag_spans_the_triggering_words(engine) -> None:
    words = "okay so um last night he grabbed me round the throat and i thought i'd die".split()
    seg = Segment(10.0, 10.0 + len(words) * 0.4, " ".join(words), tuple(
        Word(10.0 + i * 0.4, 10.0 + i * 0.4 + 0.3, w, 0.9) for i, w in enumerate(words)
    ))
    flags = [f for f in engine.flag_segments([seg]) if f.category.startswith("harm.domestic_abuse")]
    assert flags, engine.flag_segments([seg])
    flag = flags[0]
    first = words.index("grabbed")
    assert flag.start_s <= 10.0 + first * 0.4 + 0.01
    assert flag.end_s <= seg.end_s and flag.end_s > flag.start_s
    assert "grabbed" in flag.text and "throat" in flag.context
    assert flag.rubric.startswith("trauma_informed@") and flag.speaker == "unknown"


def test_repeats_within_seconds_merge() -> None:
    a = Flag("distress", "disclosure", 1.0, 2.0, "please", "please stop", "r@1", "p", 4)
    b = Flag("distress", "disclosure", 3.5, 4.0, "help me", "help me", "r@1", "p", 4)
    c = Flag("distress", "disclosure", 20.0, 21.0, "please", "please", "r@1", "p", 4)
    merged = merge_flags([c, b, a], within_s=3.0)
    assert [(f.start_s, f.end_s) for f in merged] == [(1.0, 4.0), (20.0, 21.0)]
    assert merged[0].text == "please … help me"


def test_overlapping_matches_give_one_clean_quote() -> None:
    """Three patterns matching parts of one phrase ("it's DC", "'s DC Ravish", "it's DC Ravish")
    are one flag quoting the phrase once, not its fragments one after another; flags seconds
    apart that happen to share a word are still joined with an ellipsis."""
    def flag(start: float, end: float, text: str) -> Flag:
        return Flag("practice.introduction", "practice", start, end, text,
                    "hello it's DC Ravish here" if start < 3 else "I'm scared of him", "r@1", "p", 1)

    merged = merge_flags([flag(1.0, 1.6, "it's DC"), flag(1.2, 2.2, "'s DC Ravish"),
                          flag(1.3, 2.2, "it's DC Ravish")], within_s=3.0)
    assert [(f.start_s, f.end_s, f.text) for f in merged] == [(1.0, 2.2, "it's DC Ravish")]
    assert merged[0].context == "hello it's DC Ravish here"
    apart = merge_flags([flag(1.0, 1.5, "I'm scared"), flag(3.0, 3.5, "scared of him")], within_s=3.0)
    assert [f.text for f in apart] == ["I'm scared … scared of him"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("i dont think he hit me", False),  # Whisper's apostrophe-less negation
        ("no he punched me in the face", True),  # an answer, not a negation
        ("nobody cared if we went to school or not", True),  # a negator after the match
        ("if i don't do what he says he hits me", True),  # the negator is the condition's
        ("i don't know why he hit me", True),  # denies knowing, not the harm
        ("it wasn't the first time he strangled me", True),
        ("it'll be fine as long as he doesn't hit me", False),
        ("he does let me see my friends", False),  # no negator, no control
    ],
)
def test_negation_edges(engine, text: str, expected: bool) -> None:
    found = categories(engine, text)
    assert bool(found & {"harm.domestic_abuse", "ace.neglect"}) == expected, found


@pytest.mark.parametrize(
    "text,category,expected",
    [
        ("if you don't sit down you're getting arrested", "concern.threat", True),
        ("i can't i can't do this please", "distress", True),  # a stutter, not a denial
        ("you can do it yourself", "distress", False),  # "can" without the negator
        ("i can breathe fine", "distress", False),
        ("he squeezed my neck till i couldnt breathe", "distress", False),  # reported, not panic
        ("she's run off from her foster placement again", "ace.household_dysfunction", False),
        ("my dad used to kick the shit out of me", "concern.profanity", False),  # not at anyone
        ("i'll fucking taser you", "concern.profanity", True),
        ("they said if i grass they'll stab me", "harm.domestic_abuse", False),  # exploitation
        ("my foster carer locked me in the bathroom", "ace.abuse", True),  # childhood marker
        ("please do let me know", "distress", False),
        ("are you thinking of hurting yourself", "practice.safety", True),
        ("what were you thinking going back there", "practice.curious", False),
    ],
)
def test_context_and_sense(engine, text: str, category: str, expected: bool) -> None:
    assert (category in categories(engine, text)) == expected, categories(engine, text)


def test_flag_texts_keeps_sentences_apart(engine) -> None:
    texts = ["he strangled me", "the kids are at school", "are you hurt"]
    per_text = [{taxonomy_id(f.category) for f in flags} for flags in engine.flag_texts(texts)]
    assert per_text == [{"harm.domestic_abuse"}, set(), {"practice.safety"}]


def test_anchor_is_a_required_word_list_preferring_uncommon_words() -> None:
    from pipeline.flagging.engine import _anchor

    pattern = [
        {"LOWER": {"IN": ["he", "she"]}},
        {"LOWER": "really", "OP": "?"},
        {"LEMMA": {"IN": ["punch", "kick", "Slap"]}},
        {"LOWER": "me"},
    ]
    assert _anchor(pattern) == frozenset({"punch", "kick", "slap"})
    assert _anchor([{"LOWER": "very", "OP": "*"}, {"POS": "VERB"}]) is None
    assert _anchor([{"LOWER": {"NOT_IN": ["x"]}}, {"LOWER": "me"}]) == frozenset({"me"})


def test_gating_token_patterns_by_anchor_changes_no_flag(engine) -> None:
    from pipeline.flagging.evaluate import load_examples

    texts = [item.text for item in load_examples()]
    gated = engine.flag_texts(texts)
    by_anchor, ungated = engine._by_anchor, engine._ungated
    try:
        engine._by_anchor, engine._ungated = {}, list(range(len(engine._token_matchers)))
        every = engine.flag_texts(texts)
    finally:
        engine._by_anchor, engine._ungated = by_anchor, ungated
    assert sum(map(len, gated)) > 900
    assert gated == every


@pytest.mark.parametrize(
    "text,category,expected",
    [
        ("he asked me if he'd hurt me", "harm.domestic_abuse", False),
        ("she keeps asking whether i'm scared of him", "distress", False),
        ("he hit me when i asked if i could go out", "harm.domestic_abuse", True),
        ("i asked for help because he hit me", "harm.domestic_abuse", True),
    ],
)
def test_reported_questions_are_not_disclosures(engine, text: str, category: str, expected: bool) -> None:
    assert (category in categories(engine, text)) is expected
