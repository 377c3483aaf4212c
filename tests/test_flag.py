"""The flag engine with the shipped rubric: categories, negation, questions, childhood, timing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.flagging.engine import majority_speaker, merge_flags
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
        # A victim playing it down: the negator is in "it's no big deal", not the disclosure.
        ("it's no big deal he only pushed me into the wall", True),
        ("it's nothing really he just slapped me about a bit", True),
        ("there's nobody that hurt me", False),  # the match hangs on "nobody": a denial
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


# --- who speaks ----------------------------------------------------------------------------


def said(
    text: str, speaker: str | None, start_s: float = 0.0, *, segment_speaker: str | None = None
) -> Segment:
    """A segment of ``text`` whose every word ``speaker`` said, 0.3 s a word."""
    words = tuple(
        Word(start_s + i * 0.3, start_s + i * 0.3 + 0.25, w, 0.9, speaker=speaker)
        for i, w in enumerate(text.split())
    )
    return Segment(start_s, words[-1].end_s, text, words, speaker=segment_speaker or speaker)


def flagged(engine, *segments: Segment, speakers_known: bool = True) -> set[tuple[str, str]]:
    return {
        (taxonomy_id(f.category), f.speaker)
        for f in engine.flag_segments(list(segments), speakers_known=speakers_known)
    }


@pytest.mark.parametrize(
    "text,category",
    [
        ("you've done nothing wrong", "practice.validate"),  # practice only from the wearer
        ("are you hurt babe", "practice.safety"),
        ("it's no big deal", "concern.dismiss"),  # a victim minimising, not an officer dismissing
        ("stop being so dramatic", "concern.dismiss"),
        ("get here now", "concern.threat"),
        ("fuck off you pig", "concern.profanity"),
        ("you only have yourself to blame", "concern.blame"),
    ],
)
def test_wearer_categories_need_the_wearer(engine, text: str, category: str) -> None:
    assert flagged(engine, said(text, "wearer")) == {(category, "wearer")}
    assert flagged(engine, said(text, "speaker 2")) == set()
    assert flagged(engine, said(text, "speaker 3")) == set()


@pytest.mark.parametrize(
    "text,category",
    [
        ("leave me alone!", "distress"),  # a frightened teenager, never an officer's threat
        ("he grabbed me round the throat last night", "harm.domestic_abuse"),
        ("honestly it's no big deal he only pushed me into the wall", "harm.domestic_abuse"),
        ("i've been cutting myself again", "harm.self"),
        ("when i was little my dad used to belt me", "ace.abuse"),
    ],
)
def test_disclosures_need_another_voice(engine, text: str, category: str) -> None:
    assert (category, "speaker 2") in flagged(engine, said(text, "speaker 2"))
    assert (category, "speaker 3") in flagged(engine, said(text, "speaker 3"))
    assert category not in {c for c, _who in flagged(engine, said(text, "wearer"))}


def test_a_child_at_risk_is_flagged_whoever_says_it(engine) -> None:
    for speaker in ("wearer", "speaker 2"):
        found = flagged(engine, said("the children are upstairs", speaker))
        assert found == {("safeguarding.child", speaker)}


def test_a_question_about_harm_is_the_wearers_practice_not_a_disclosure(engine) -> None:
    assert flagged(engine, said("did he hurt you?", "wearer")) == {("practice.safety", "wearer")}
    assert flagged(engine, said("did he hurt you?", "speaker 2")) == set()


def test_without_speakers_every_category_flags_by_language(engine) -> None:
    """Turns failed (speakers_known=False) or the words carry no speaker: nothing is lost."""
    for text, category in [("leave me alone", "distress"), ("you've done nothing wrong", "practice.validate"),
                           ("he grabbed me round the throat", "harm.domestic_abuse")]:
        assert flagged(engine, said(text, None)) == {(category, "unknown")}
        # The words' speaker is still carried, though it did not decide.
        assert flagged(engine, said(text, "wearer"), speakers_known=False) == {(category, "wearer")}
        assert flagged(engine, said(text, "speaker 2"), speakers_known=False) == {(category, "speaker 2")}
    flags = engine.flag_texts(["leave me alone", "leave me alone"], speakers=["wearer", None])
    assert [[f.speaker for f in per] for per in flags] == [[], ["unknown"]]


def test_a_matchs_speaker_comes_from_its_words(engine) -> None:
    # A segment labelled with one speaker whose words say another: the words win.
    words_say = said("he grabbed me round the throat", "speaker 2", segment_speaker="wearer")
    assert flagged(engine, words_say) == {("harm.domestic_abuse", "speaker 2")}
    # Words without a speaker take their segment's.
    seg = said("he grabbed me round the throat", None, segment_speaker="speaker 3")
    assert flagged(engine, seg) == {("harm.domestic_abuse", "speaker 3")}
    # A turn change inside the segment: each match is its own words' speaker's.
    mixed = said("you did the right thing calling us. he strangled me", None)
    mixed = Segment(mixed.start_s, mixed.end_s, mixed.text, tuple(
        replace(w, speaker="wearer" if i < 7 else "speaker 2") for i, w in enumerate(mixed.words)
    ))
    found = engine.flag_segments([mixed])
    assert {(taxonomy_id(f.category), f.speaker) for f in found} == {
        ("practice.validate", "wearer"), ("harm.domestic_abuse", "speaker 2")
    }
    harm = next(f for f in found if f.category.startswith("harm."))
    assert harm.start_s == mixed.words[7].start_s and harm.end_s == mixed.words[-1].end_s
    # A match across the change is its majority's: most of "he grabbed me round the throat".
    across = said("he grabbed me round the throat", None)
    across = Segment(across.start_s, across.end_s, across.text, tuple(
        replace(w, speaker="wearer" if i < 2 else "speaker 2") for i, w in enumerate(across.words)
    ))
    assert flagged(engine, across) == {("harm.domestic_abuse", "speaker 2")}
    flipped = Segment(across.start_s, across.end_s, across.text, tuple(
        replace(w, speaker="speaker 2" if i < 1 else "wearer") for i, w in enumerate(across.words)
    ))
    assert flagged(engine, flipped) == set()


def test_a_sentence_split_across_two_turns(engine) -> None:
    """Segments are split where the speaker changes: the officer's question, then the answer."""
    segments = [said("did he hurt you", "wearer", 0.0), said("yeah he strangled me", "speaker 2", 1.5)]
    assert flagged(engine, *segments) == {("practice.safety", "wearer"), ("harm.domestic_abuse", "speaker 2")}


@pytest.mark.parametrize(
    "speakers,expected",
    [
        (["wearer", "wearer", "speaker 2"], "wearer"),
        (["speaker 2", "wearer", "wearer"], "wearer"),
        (["speaker 2", "wearer"], "speaker 2"),  # a tie goes to the first to speak
        (["wearer", "speaker 2", "speaker 2", "speaker 3"], "speaker 2"),
        ([None, None, "wearer"], None),  # mostly unknown: flag by language alone
        ([], None),
    ],
)
def test_majority_speaker(speakers, expected) -> None:
    assert majority_speaker(speakers) == expected


def test_flags_of_two_speakers_do_not_merge() -> None:
    a = Flag("distress", "disclosure", 1.0, 2.0, "please", "please", "r@1", "p", 4, speaker="speaker 2")
    b = Flag("distress", "disclosure", 2.5, 3.0, "help me", "help me", "r@1", "p", 4, speaker="speaker 3")
    c = Flag("distress", "disclosure", 3.5, 4.0, "stop", "stop", "r@1", "p", 4, speaker="speaker 2")
    merged = merge_flags([a, b, c], within_s=3.0)
    assert [(f.speaker, f.start_s, f.end_s) for f in merged] == [
        ("speaker 2", 1.0, 4.0), ("speaker 3", 2.5, 3.0)
    ]


def test_a_match_across_a_change_of_voice_inside_one_whisper_segment_is_found(engine) -> None:
    """The speaker stage split "he said he'd kill | me" (the last word given to another voice):
    the pieces of one Whisper segment are matched as one text, the flag's speaker the
    majority of its words'. Without that the disclosure was lost (a loud TV in the room)."""
    words = [Word(6.0 + i * 0.4, 6.4 + i * 0.4, w, 0.9, speaker="speaker 2")
             for i, w in enumerate("He grabbed me and said he'd kill".split())]
    tail = Word(8.8, 9.2, "me.", 0.9, speaker="speaker 3")
    first = Segment(6.0, 8.8, " ".join(w.word for w in words), tuple(words), speaker="speaker 2",
                    origin=0)
    second = Segment(8.8, 9.2, "me.", (tail,), speaker="speaker 3", origin=0)
    flags = engine.flag_segments([first, second], speakers_known=True)
    kill = [f for f in flags if f.category == "harm.domestic_abuse" and "kill" in f.text]
    assert kill and kill[0].speaker == "speaker 2" and kill[0].end_s == 9.2
    # Pieces of two different Whisper segments are still matched apart.
    apart = engine.flag_segments([first, replace(second, origin=1)], speakers_known=True)
    assert not [f for f in apart if "kill" in f.text and f.end_s == 9.2]
