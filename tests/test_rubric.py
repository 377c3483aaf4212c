"""Rubric files: the shipped rubric is complete; bad ones list every error with path and line."""

from __future__ import annotations

import re
import textwrap

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import RubricError
from pipeline.flagging.rubric import DEFAULT_RUBRIC, load_rubric, parse_rubric
from pipeline.taxonomy import SAID_BY, TAXONOMY, said_by_allows, taxonomy_id


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
        said_by: others
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
        said_by: wearer
        patterns: [{phrase: hello}]
    """
)


def test_every_error_is_listed_with_path_and_line() -> None:
    with pytest.raises(RubricError) as err:
        parse_rubric(BAD, source="bad.yaml")
    errors = err.value.errors
    assert "10: categories[0].severity: Input should be less than or equal to 5" in errors
    assert "13: categories[0].patterns[0].lemma_in: unknown key (did you mean 'lemma'?)" in errors
    assert any(e.startswith("14: categories[0].patterns[1]: a pattern needs exactly one of") for e in errors)
    assert any(e.startswith("16: categories[1].id: 'Not An Id' is not a category id") for e in errors)
    assert "20: categories[1].guidance.good_practice: Field required" in errors
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
    assert f"{bad}:13: categories[0].patterns[0].lemma_in: unknown key (did you mean 'lemma'?)" in result.output
    assert "5 error(s)" in result.output


def test_subcategory_counts_as_its_parent() -> None:
    assert taxonomy_id("harm.domestic_abuse.strangulation") == "harm.domestic_abuse"
    assert taxonomy_id("distress") == "distress"


# --- who speaks: said_by ----------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_shipped_rubric_says_who_speaks_as_the_taxonomy_does() -> None:
    rubric = load_rubric()
    said = {c.id: c.said_by for c in rubric.categories}
    assert {c: said[c] for c in TAXONOMY} == SAID_BY
    assert {c for c, who in SAID_BY.items() if who == "anyone"} == {"safeguarding.child"}
    assert all(SAID_BY[c] == "wearer" for c, fam in TAXONOMY.items() if fam != "disclosure")
    # Sub-categories speak as their parent does.
    assert all(c.said_by == SAID_BY[taxonomy_id(c.id)] for c in rubric.categories)


def test_the_taxonomy_document_says_who_speaks() -> None:
    text = (DEFAULT_RUBRIC.parent / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| `([a-z]+)` \|", text, flags=re.M))
    assert rows == SAID_BY


def test_an_unknown_said_by_names_the_category_and_the_values() -> None:
    text = DEFAULT_RUBRIC.read_text(encoding="utf-8")
    text = text.replace("    said_by: others\n", "    said_by: officer\n", 1)
    with pytest.raises(RubricError) as err:
        parse_rubric(text, source="r.yaml")
    assert err.value.errors == [
        f"{_line_of(text, 'said_by: officer')}: categories[0].said_by: category harm.domestic_abuse: "
        "'officer' is not a said_by value; use wearer (the officer wearing the camera), others "
        "(any other voice) or anyone"
    ]


def test_a_missing_said_by_says_what_to_add(tmp_path) -> None:
    shipped = DEFAULT_RUBRIC.read_text(encoding="utf-8")
    ids = [c.id for c in load_rubric().categories]
    text = shipped.replace("    said_by: wearer\n", "", 1)  # the first practice category
    first_practice = next(i for i, c in enumerate(ids) if c.startswith("practice."))
    line = _line_of(text, f"  - id: {ids[first_practice]}\n")
    expected = (
        f"{line}: categories[{first_practice}].said_by: category {ids[first_practice]} does not say "
        "who speaks its words: add said_by: wearer (the taxonomy's rule in rubrics/README.md), "
        "or others or anyone"
    )
    with pytest.raises(RubricError) as err:
        parse_rubric(text, source="r.yaml")
    assert err.value.errors == [expected]
    # The CLI lists it with the file and line, like every rubric error.
    path = tmp_path / "old.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["rubric", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{expected}" in result.output and "1 error(s)" in result.output


def test_a_missing_said_by_of_a_sub_category_suggests_its_parents_rule() -> None:
    text = BAD.replace("severity: 9", "severity: 5").replace("lemma_in", "lemma")
    text = text.replace("      - phrase: hurt myself\n        lemma: hurt\n", "")
    text = text.split("  - id: Not An Id")[0].replace("id: harm.self", "id: harm.self.online")
    text = text.replace("    said_by: others\n", "")
    with pytest.raises(RubricError) as err:
        parse_rubric(text)
    assert err.value.errors == [
        "5: categories[0].said_by: category harm.self.online does not say who speaks its words: "
        "add said_by: others (the taxonomy's rule in rubrics/README.md), or wearer or anyone"
    ]


@pytest.mark.parametrize(
    "said_by,speaker,allowed",
    [
        ("wearer", "wearer", True),
        ("wearer", "speaker 2", False),
        ("others", "speaker 3", True),
        ("others", "wearer", False),
        ("anyone", "wearer", True),
        ("anyone", "speaker 2", True),
        ("wearer", None, True),  # speaker unknown: flagged by language alone
        ("others", None, True),
    ],
)
def test_said_by_allows(said_by, speaker, allowed) -> None:
    assert said_by_allows(said_by, speaker) is allowed
