"""The shipped labelled examples: enough of them per category, no one-word variants, and the
shipped rubric scores at least 0.9 precision and recall per family on them (through the CLI)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.flagging.evaluate import DEFAULT_EXAMPLES, ExampleSet, load_examples
from pipeline.flagging.rubric import DEFAULT_RUBRIC
from pipeline.taxonomy import TAXONOMY

MIN_FLAG = 20
MIN_NOT = 10


@pytest.fixture(scope="module")
def example_set() -> ExampleSet:
    return ExampleSet.model_validate(yaml.safe_load(DEFAULT_EXAMPLES.read_text(encoding="utf-8")))


def _words(text: str) -> tuple[str, ...]:
    """Lower case, apostrophes dropped ("don't" == "dont"), other punctuation as spaces."""
    return tuple(re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("\u2019", "")))


def _one_word_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One word substituted, inserted or deleted."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_one_word_apart() -> None:
    assert _one_word_apart(_words("he hit me"), _words("he hit me again"))
    assert _one_word_apart(_words("I believe you"), _words("i dont believe you"))
    assert _one_word_apart(_words("sit down now"), _words("sit down, right now!"))
    assert not _one_word_apart(_words("he hit me"), _words("he hit me"))
    assert not _one_word_apart(_words("he hit me"), _words("she kicked me"))
    assert not _one_word_apart(_words("tell me about him"), _words("tell me a bit more about him"))


def test_every_category_has_enough_examples(example_set: ExampleSet) -> None:
    counts = {cat: [0, 0] for cat in TAXONOMY}
    for block in example_set.examples:
        assert block.category in TAXONOMY, block.category
        counts[block.category][0] += len(block.flag)
        counts[block.category][1] += len(block.not_)
    short = {cat: n for cat, n in counts.items() if n[0] < MIN_FLAG or n[1] < MIN_NOT}
    assert not short, f"categories with fewer than {MIN_FLAG} flag or {MIN_NOT} not sentences: {short}"


def test_labels_name_taxonomy_categories_and_load() -> None:
    labelled = load_examples()
    assert len(labelled) >= len(TAXONOMY) * (MIN_FLAG + MIN_NOT)
    assert all(c in TAXONOMY for item in labelled for c in item.expected)


def test_no_two_sentences_differ_by_one_word() -> None:
    """Nor repeat: the same words may be listed once per speaker ("you've done nothing wrong"
    from the wearer is practice, from the public nothing), never twice for one."""
    seen: dict[tuple[str | None, tuple[str, ...]], str] = {}
    duplicates = []
    for item in load_examples():
        key = (item.speaker, _words(item.text))
        where = f"{item.text!r} ({item.source}, said by {item.speaker})"
        if key in seen:
            duplicates.append(f"{where} repeats {seen[key]}")
        seen[key] = where
    assert not duplicates, "\n".join(duplicates)
    # Only sentences of similar length can be one word apart: compare within length buckets.
    by_length: dict[int, list[tuple[tuple[str, ...], str]]] = {}
    for (_speaker, key), label in seen.items():
        by_length.setdefault(len(key), []).append((key, label))
    pairs = []
    for length, group in by_length.items():
        candidates = itertools.chain(
            itertools.combinations(group, 2),
            itertools.product(group, by_length.get(length + 1, [])),
        )
        pairs += [f"{la} ~ {lb}" for (a, la), (b, lb) in candidates if _one_word_apart(a, b)]
    assert not pairs, "sentences one word apart:\n" + "\n".join(pairs)


def test_shipped_rubric_meets_the_family_thresholds() -> None:
    result = CliRunner().invoke(
        cli,
        ["rubric", "eval", str(DEFAULT_RUBRIC), str(DEFAULT_EXAMPLES),
         "--min-precision", "0.9", "--min-recall", "0.9", "--by", "family"],
    )
    assert result.exit_code == 0, result.output
    assert "below threshold" not in result.output
    for family in ("disclosure", "practice", "concern"):
        assert re.search(rf"^{family}\s+\d", result.output, re.M), result.output
    # Per speaker, and beside flagging by language alone on the same sentences.
    for row in ("wearer", "others", "unknown", "with speakers", "by language alone"):
        assert re.search(rf"^{row}\s+\d", result.output, re.M), result.output


def test_the_hard_cases_are_labelled_for_both_speakers() -> None:
    """The issue's cases: the same words mean different things from the wearer and the public."""
    labelled = {(item.text, item.speaker): item.expected for item in load_examples()}
    assert labelled[("you've done nothing wrong", "wearer")] == {"practice.validate"}
    assert labelled[("you've done nothing wrong", "others")] == frozenset()
    assert labelled[("it's no big deal", "others")] == frozenset()
    assert labelled[("leave me alone", "others")] == {"distress"}
    assert labelled[("leave me alone", "wearer")] == frozenset()
    assert labelled[("the children are upstairs", "wearer")] == {"safeguarding.child"}
    speakers = {item.speaker for item in load_examples()}
    assert speakers == {"wearer", "others", "unknown"}


def test_eval_fails_below_a_threshold(tmp_path: Path) -> None:
    examples = tmp_path / "wrong.yaml"
    examples.write_text(
        "rubric: trauma_informed\n"
        "examples:\n"
        "  - category: harm.self\n"
        "    flag:\n"
        "      - i cut myself last week\n"
        "      - the weather has been lovely\n"  # mislabelled: a miss the rubric rightly makes
        "    not:\n"
        "      - i cut myself shaving\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["rubric", "eval", str(DEFAULT_RUBRIC), str(examples), "--min-precision", "0.9",
              "--min-recall", "0.9"],
    )
    assert result.exit_code == 1, result.output
    assert "below threshold: disclosure: recall 0.500 < 0.9" in result.output
    assert "harm.self                    the weather has been lovely" in result.output


def test_eval_refuses_impossible_thresholds() -> None:
    result = CliRunner().invoke(cli, ["rubric", "eval", "--min-precision", "1.01", "--min-recall", "1.01"])
    assert result.exit_code == 2, result.output
    assert "1.01 is not in the range 0<=x<=1" in result.output
