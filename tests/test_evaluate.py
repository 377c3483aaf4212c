"""Rubric evaluation: multi-label scoring, thresholds and the examples file format."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import RubricError
from pipeline.evaluate import Labelled, below_thresholds, evaluate_rubric, load_examples, score


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


def test_examples_with_unknown_keys_or_categories_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rubric: x\nexamples:\n  - category: harm.self\n    flagged: [x]\n")
    with pytest.raises(RubricError, match="examples.0.flagged: Extra inputs are not permitted"):
        load_examples(bad)
    bad.write_text("rubric: x\nexamples:\n  - category: harm.selfish\n    flag: [x]\n")
    with pytest.raises(RubricError, match="unknown categories: harm.selfish"):
        load_examples(bad)
