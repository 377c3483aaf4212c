"""Rubric files: the shipped rubric is complete; bad ones list every error with path and line."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import RubricError
from pipeline.flagging.rubric import load_rubric, parse_rubric
from pipeline.taxonomy import TAXONOMY, taxonomy_id


def test_shipped_rubric_has_every_taxonomy_category() -> None:
    rubric = load_rubric()
    ids = {c.id for c in rubric.categories}
    assert set(TAXONOMY) <= ids
    for cat in rubric.categories:
        assert len(cat.patterns) >= 3, cat.id
        assert cat.guidance.look_for and cat.guidance.good_practice
        assert TAXONOMY[taxonomy_id(cat.id)] == cat.family
    assert rubric.ref == f"{rubric.id}@{rubric.version}"


BAD = textwrap.dedent(
    """\
    id: broken
    version: "0.1"
    title: A broken rubric
    categories:
      - id: harm.self
        family: disclosure
        label: Self-harm
        definition: d
        guidance: {look_for: a, why_it_matters: b, good_practice: c}
        severity: 9
        patterns:
          - lemma_in: [cut myself]
          - phrase: hurt myself
            lemma: hurt
      - id: Not An Id
        family: practice
        label: x
        definition: d
        guidance: {look_for: a, why_it_matters: b}
        severity: 2
        patterns: [{phrase: hello}]
    """
)


def test_every_error_is_listed_with_path_and_line() -> None:
    with pytest.raises(RubricError) as err:
        parse_rubric(BAD, source="bad.yaml")
    errors = err.value.errors
    assert "10: categories[0].severity: Input should be less than or equal to 5" in errors
    assert "12: categories[0].patterns[0].lemma_in: unknown key (did you mean 'lemma'?)" in errors
    assert any(e.startswith("13: categories[0].patterns[1]: a pattern needs exactly one of") for e in errors)
    assert any(e.startswith("15: categories[1].id: 'Not An Id' is not a category id") for e in errors)
    assert "19: categories[1].guidance.good_practice: Field required" in errors
    assert len(errors) == 5


def test_missing_taxonomy_ids_are_named() -> None:
    text = BAD.replace("severity: 9", "severity: 5").replace("lemma_in", "lemma")
    text = text.replace("      - phrase: hurt myself\n        lemma: hurt\n", "")
    text = text.split("  - id: Not An Id")[0]
    with pytest.raises(RubricError, match="missing taxonomy categories: ace.abuse, ace.neglect"):
        parse_rubric(text)


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(RubricError, match=r"x.yaml: 2: not valid YAML"):
        parse_rubric("id: x\n  bad: [\n", source="x.yaml")


def test_rubric_check_command(tmp_path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["rubric", "check"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("trauma_informed@")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = runner.invoke(cli, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:12: categories[0].patterns[0].lemma_in: unknown key (did you mean 'lemma'?)" in result.output
    assert "5 error(s)" in result.output


def test_subcategory_counts_as_its_parent() -> None:
    assert taxonomy_id("harm.domestic_abuse.strangulation") == "harm.domestic_abuse"
    assert taxonomy_id("distress") == "distress"
