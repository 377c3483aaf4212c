"""Rubric evaluation: multi-label scoring, thresholds and the examples file format."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import resolve_instance
from pipeline.errors import InvalidRequestError, NotFoundError, RubricError
from pipeline.flagging.evaluate import (
    Labelled,
    below_thresholds,
    evaluate_rubric,
    load_examples,
    score,
)
from pipeline.flagging.windows import group_flags
from pipeline.records import Segment, Transcription, Word
from pipeline.store import open_store
from pipeline.store import schema as db


def _l(text: str, *expected: str) -> Labelled:
    return Labelled(text, frozenset(expected), "test")


def test_scores_count_misses_and_false_alarms_on_every_sentence() -> None:
    labelled = [_l("a", "harm.self"), _l("b", "harm.self"), _l("c"), _l("d", "practice.safety")]
    predicted = [{"harm.self"}, set(), {"harm.self"}, {"practice.safety", "distress"}]
    result = score(labelled, predicted, categories=["harm.self", "practice.safety", "distress"])
    row = result.table.loc["harm.self"]
    assert (row.tp, row.fp, row.fn, row.support) == (1, 1, 1, 2)
    assert row.precision == 0.5 and row.recall == 0.5
    assert result.table.loc["distress"].precision == 0.0
    assert ("harm.self", "b") in result.misses
    assert ("harm.self", "c") in result.false_alarms and ("distress", "d") in result.false_alarms
    fam = result.families.loc["disclosure"]
    assert (fam.tp, fam.fp, fam.fn) == (1, 2, 1)
    assert below_thresholds(result, min_precision=0.9, min_recall=0.9) == [
        "disclosure: precision 0.333 < 0.9",
        "disclosure: recall 0.500 < 0.9",
    ]


def test_examples_file_round_trip(tmp_path: Path, engine) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(
        "rubric: trauma_informed\n"
        "examples:\n"
        "  - category: harm.domestic_abuse\n"
        "    flag:\n"
        "      - he grabbed me round the throat\n"
        "    not:\n"
        "      - he didn't touch me\n"
        "      - {text: \"did he hurt you?\", also: [practice.safety]}\n"
    )
    labelled = load_examples(path)
    assert [sorted(x.expected) for x in labelled] == [["harm.domestic_abuse"], [], ["practice.safety"]]
    result = evaluate_rubric(engine, labelled)
    assert result.table.loc["harm.domestic_abuse"].recall == 1.0
    assert result.table.loc["harm.domestic_abuse"].precision == 1.0


def test_examples_say_who_speaks(tmp_path: Path, engine) -> None:
    """The same words by the wearer and by the public are labelled apart and scored apart."""
    path = tmp_path / "ex.yaml"
    path.write_text(
        "rubric: trauma_informed\n"
        "examples:\n"
        "  - category: practice.validate\n"
        "    flag:\n"
        "      - you've done nothing wrong\n"  # said by the wearer: the category's speaker
        "    not:\n"
        "      - {text: \"you've done nothing wrong\", speaker: others}\n"
        "  - category: distress\n"
        "    flag:\n"
        "      - leave me alone!\n"  # another voice: a frightened teenager
        "      - {text: \"please don't let him near me\", speaker: unknown}\n"
        "  - category: concern.dismiss\n"
        "    not:\n"
        "      - {text: \"it's no big deal\", speaker: others}\n"
        "  - category: safeguarding.child\n"
        "    flag:\n"
        "      - {text: \"the children are upstairs\", speaker: wearer}\n",
        encoding="utf-8",
    )
    labelled = load_examples(path)
    assert [(x.speaker, sorted(x.expected)) for x in labelled] == [
        ("wearer", ["practice.validate"]), ("others", []), ("others", ["distress"]),
        ("unknown", ["distress"]), ("others", []), ("wearer", ["safeguarding.child"]),
    ]
    result = evaluate_rubric(engine, labelled)
    assert (result.misses, result.false_alarms) == ([], [])
    assert result.totals.loc["micro"].precision == 1.0 and result.totals.loc["micro"].recall == 1.0
    speakers = result.speakers
    assert speakers is not None and list(speakers.index) == ["wearer", "others", "unknown"]
    assert list(speakers.sentences) == [2, 3, 1]
    assert (speakers.loc["wearer"].tp, speakers.loc["others"].tp, speakers.loc["unknown"].tp) == (2, 1, 1)
    # By language alone the public's "you've done nothing wrong" and "it's no big deal" are
    # false alarms: what knowing the speaker buys.
    scoping = result.scoping
    assert scoping is not None
    assert (scoping.loc["with speakers"].fp, scoping.loc["by language alone"].fp) == (0, 2)
    assert scoping.loc["by language alone"].recall == 1.0


def test_a_miss_or_false_alarm_is_listed_with_its_speaker(tmp_path: Path, engine) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(
        "rubric: trauma_informed\n"
        "examples:\n"
        "  - category: practice.validate\n"
        "    flag:\n"
        "      - {text: \"you've done nothing wrong\", speaker: others}\n",  # mislabelled
        encoding="utf-8",
    )
    result = evaluate_rubric(engine, load_examples(path))
    assert result.misses == [("practice.validate", "you've done nothing wrong  [others]")]


def test_an_unknown_speaker_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rubric: x\nexamples:\n  - category: harm.self\n    flag:\n      - {text: a b, speaker: victim}\n"
    )
    expected = r"examples.0.flag.0.speaker: Input should be 'wearer', 'others' or 'unknown'"
    with pytest.raises(RubricError, match=expected):
        load_examples(bad)


def test_examples_with_unknown_keys_or_categories_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rubric: x\nexamples:\n  - category: harm.self\n    flagged: [x]\n")
    with pytest.raises(RubricError, match="examples.0.flagged: Extra inputs are not permitted"):
        load_examples(bad)
    bad.write_text("rubric: x\nexamples:\n  - category: harm.selfish\n    flag: [x]\n")
    with pytest.raises(RubricError, match="unknown categories: harm.selfish"):
        load_examples(bad)


def _segment(start: float, text: str) -> Segment:
    words = text.split()
    step = 3.0 / len(words)
    return Segment(start, start + 3.0, text, tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), w, 0.9) for i, w in enumerate(words)
    ))


@pytest.fixture
def reviewed(tmp_path: Path, engine):
    """An instance with one flagged transcript, as the batch leaves it."""
    instance = resolve_instance(tmp_path / "home")
    store = open_store(instance.db_url)
    media_id, _ = store.add_original("b" * 64, size=10, store_path="s", inbox="/in", name="call 7.mp4", mtime_ns=1)
    segments = (
        _segment(0.0, "he punched me in the face last night"),
        _segment(10.0, "i'm going to put you in the back of the van"),
        _segment(20.0, "the weather has been grim all week"),
    )
    store.save_transcript(media_id, Transcription(segments, "en", 30.0, 1.0), model="tiny.en",
                          model_sha256="x", settings={})
    flags = engine.flag_segments(segments)
    store.save_flags(media_id, flags, group_flags(flags))
    with store.session() as s:
        s.get_one(db.Media, media_id).duration_s = 30.0
    return instance, store, media_id


def test_reviewers_decisions_score_the_rubric(reviewed) -> None:
    instance, store, media_id = reviewed
    flags = {f.category: f for f, _name in store.iter_flags()}
    assert {"harm.domestic_abuse", "concern.threat"} <= set(flags)
    store.record_flag_feedback(flags["harm.domestic_abuse"].id, relevant=True, reviewer="tip1")
    # Said twice by one reviewer: the later word replaces the earlier.
    store.record_flag_feedback(flags["concern.threat"].id, relevant=True, reviewer="tip1")
    store.record_flag_feedback(flags["concern.threat"].id, relevant=False, reviewer="tip1", note="banter")
    store.add_missed_moment(media_id, category="distress", start_s=20.2, end_s=22.5, reviewer="tip2")
    assert len(store.rubric_feedback()) == 3

    args = ["--home", str(instance.home), "rubric", "eval", "--from-reviews"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    reviews = result.output.split("reviewers' decisions", 1)[1]
    assert "misses (1):" in reviews and "the weather has been grim all week" in reviews
    assert "call 7.mp4 00:20.2-00:22.5 [missed by tip2]" in reviews
    assert "false alarms (1):" in reviews and "concern.threat" in reviews.split("false alarms (1):")[1]
    strict = CliRunner().invoke(cli, [*args, "--min-precision", "0.9", "--min-recall", "0.9"])
    assert strict.exit_code == 1
    assert "below threshold: concern: precision 0.000 < 0.9" in strict.output
    assert "below threshold: disclosure: recall 0.500 < 0.9" in strict.output
    assert store.verify_audit_chain()


def test_an_item_marked_reviewed_confirms_its_unmarked_flags(reviewed) -> None:
    _instance, store, _media_id = reviewed
    rows = [f for f, _n in store.iter_flags()]
    store.record_flag_feedback(rows[0].id, relevant=False, reviewer="tip1")
    items = {f.review_item_id for f in rows}
    confirmed = sum(store.confirm_unmarked_flags(i, reviewer="tip1") for i in items if i is not None)
    assert confirmed == len(rows) - 1
    kinds = [row.kind for row, _name in store.rubric_feedback()]
    assert kinds == ["not_relevant"] + ["confirmed"] * (len(rows) - 1)
    assert store.confirm_unmarked_flags(rows[0].review_item_id or 0, reviewer="tip2") == 0


def test_bad_review_input_is_refused_with_a_reason(reviewed) -> None:
    _instance, store, media_id = reviewed
    with pytest.raises(NotFoundError, match="no flag 999"):
        store.record_flag_feedback(999, relevant=False, reviewer="tip1")
    with pytest.raises(InvalidRequestError, match="unknown category 'harm.selfish'"):
        store.add_missed_moment(media_id, category="harm.selfish", start_s=1, end_s=2, reviewer="tip1")
    with pytest.raises(InvalidRequestError, match="not inside the file"):
        store.add_missed_moment(media_id, category="distress", start_s=25, end_s=45, reviewer="tip1")
    with pytest.raises(NotFoundError, match="no transcribed media item 42"):
        store.add_missed_moment(42, category="distress", start_s=1, end_s=2, reviewer="tip1")
    assert store.rubric_feedback() == []


def test_no_decisions_yet_is_said_plainly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "rubric", "eval", "--from-reviews"])
    assert result.exit_code == 0, result.output
    assert "no reviewer decisions recorded yet" in result.output


def test_a_tips_move_of_a_line_is_feedback_on_who_said_it(reviewed) -> None:
    """Issue 16: a line a TIP moves between the wearer and the others changes what the
    rubric makes of it, and `--from-reviews` reports it."""
    from dataclasses import replace

    instance, store, media_id = reviewed
    said = ("speaker 2", "wearer", "speaker 2")
    segments = [replace(seg, speaker=who, origin=i, words=tuple(replace(w, speaker=who) for w in seg.words))
                for i, (seg, who) in enumerate(zip(store.load_segments(media_id), said, strict=True))]
    store.save_speakers(media_id, segments, status="separated", info={})
    args = ["--home", str(instance.home), "rubric", "eval", "--from-reviews"]
    before = CliRunner().invoke(cli, args)
    assert "who said it" in before.output and "no lines moved yet" in before.output

    tip = store.add_user("tip1", role="tip", password_hash="x")
    store.move_line(media_id, 1, "speaker 2", by=tip, review_item_id=None)  # the van: not the officer
    after = CliRunner().invoke(cli, args)
    assert after.exit_code == 0, after.output
    block = after.output.split("who said it", 1)[1]
    assert "1 lines moved, 1 to another speaker than the stage gave, 1 between the wearer and the others" in block
    assert ("flags change: call 7.mp4 00:10.0 [wearer -> speaker 2 by web:tip1] "
            "i'm going to put you in the back of the van: concern.threat -> no flag") in block
