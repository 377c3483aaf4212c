"""Rubric files: the schema, loading with every error reported, and the taxonomy.

A rubric is YAML read with ``yaml.safe_load`` into a pydantic schema that
forbids unknown keys. Every problem is reported with its path and line, so
that a rubric author can fix them all in one go::

    rubrics/trauma_informed.yaml:41: categories[3].patterns[0].lemma_in: unknown key (did you mean 'lemma'?)
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.errors import RubricError
from pipeline.taxonomy import SAID_BY, TAXONOMY, SaidBy, taxonomy_parent

DEFAULT_RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "trauma_informed.yaml"

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_SAID_BY_VALUES = ("wearer", "others", "anyone")

Context = Literal["negation", "question"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Guidance(_Strict):
    """What a TIP sees beside a flag."""

    look_for: str = Field(min_length=1)
    why_it_matters: str = Field(min_length=1)
    good_practice: str = Field(min_length=1)


class Pattern(_Strict):
    """One way a category is recognised. Exactly one of the four kinds is given.

    - ``phrase``: words matched on lower case ("he hit me");
    - ``lemma``: words matched on their lemmas ("strangle" matches "strangled");
    - ``tokens``: a spaCy ``Matcher`` token pattern;
    - ``dependency``: a spaCy ``DependencyMatcher`` pattern.
    ``blocked_by`` overrides the category's contexts for this pattern.
    """

    id: str | None = None
    phrase: list[str] | None = None
    lemma: list[str] | None = None
    tokens: list[dict[str, Any]] | None = None
    dependency: list[dict[str, Any]] | None = None
    blocked_by: list[Context] | None = None

    @field_validator("phrase", "lemma", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Pattern:
        given = [k for k in ("phrase", "lemma", "tokens", "dependency") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "a pattern needs exactly one of phrase, lemma, tokens or dependency"
                + (f" (it has {', '.join(given)})" if given else "")
            )
        return self


class Category(_Strict):
    """A taxonomy category with its guidance, severity and patterns."""

    id: str
    family: Literal["disclosure", "practice", "concern"]
    label: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    guidance: Guidance
    severity: int = Field(ge=1, le=5)
    #: Who must say the words for a match to be this category: the camera wearer, any other
    #: voice, or anyone. Required: every category says it (rubrics/README.md).
    said_by: SaidBy
    #: Contexts in which a match is not this category (e.g. "didn't hit me", "did he hit you?").
    blocked_by: list[Context] = Field(default_factory=list)
    #: The ``ace.*`` category a match moves to when the speaker places it in childhood.
    childhood: str | None = None
    patterns: list[Pattern] = Field(min_length=1)
    exceptions: list[Pattern] = Field(default_factory=list)

    @field_validator("said_by", mode="before")
    @classmethod
    def _said_by(cls, value: Any, info: ValidationInfo) -> Any:
        if value not in _SAID_BY_VALUES:
            whose = f"category {info.data['id']}: " if "id" in info.data else ""
            raise ValueError(
                f"{whose}{value!r} is not a said_by value; use wearer (the officer wearing "
                "the camera), others (any other voice) or anyone"
            )
        return value

    @field_validator("id", "childhood")
    @classmethod
    def _id_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ID.match(value):
            raise ValueError(f"{value!r} is not a category id like 'harm.domestic_abuse'")
        return value


class Rubric(_Strict):
    """A whole rubric: id, version, markers and categories."""

    id: str
    version: str
    title: str
    description: str = ""
    #: Flags of one category closer than this merge into one.
    merge_within_s: float = Field(default=3.0, ge=0)
    #: Words that place a disclosure in the speaker's childhood.
    childhood_markers: list[Pattern] = Field(default_factory=list)
    categories: list[Category] = Field(min_length=1)

    @property
    def ref(self) -> str:
        """``id@version``, stored on every flag."""
        return f"{self.id}@{self.version}"

    def category(self, category_id: str) -> Category:
        """The category with this id."""
        for cat in self.categories:
            if cat.id == category_id:
                return cat
        raise KeyError(category_id)

    def guidance_for(self, category_id: str) -> Guidance | None:
        """A category's guidance, or None for a category this rubric no longer has."""
        try:
            return self.category(category_id).guidance
        except KeyError:
            return None

    @model_validator(mode="after")
    def _taxonomy(self) -> Rubric:
        ids = [c.id for c in self.categories]
        problems = []
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append(f"duplicate category ids: {', '.join(dupes)}")
        missing = [i for i in TAXONOMY if i not in ids]
        if missing:
            problems.append(f"missing taxonomy categories: {', '.join(missing)}")
        for cat in self.categories:
            parent = taxonomy_parent(cat.id)
            if parent is None:
                problems.append(f"category {cat.id!r} is not in the taxonomy or below one of its ids")
            elif TAXONOMY[parent] != cat.family:
                problems.append(f"category {cat.id!r} must be in family {TAXONOMY[parent]!r}")
            if cat.childhood and cat.childhood not in ids:
                problems.append(f"category {cat.id!r}: childhood target {cat.childhood!r} is not defined")
        if problems:
            raise ValueError("; ".join(problems))
        return self


# --- loading with paths and lines --------------------------------------------------------


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every path in a composed YAML document to its 1-based line number."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_index(value, (*path, key.value)).items() if k != (*path, key.value)})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    names = [str(p) for p in loc if isinstance(p, str)]
    model: type[BaseModel] = Rubric
    for name in names[:-1]:
        field = model.model_fields.get(name)
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    return None


def _missing_said_by(loc: tuple[Any, ...], data: Any) -> str:
    """The error for a category without ``said_by``: what to add, from the taxonomy's rule."""
    try:
        category_id = data["categories"][loc[1]]["id"]
    except (LookupError, TypeError):
        category_id = None
    parent = taxonomy_parent(category_id) if isinstance(category_id, str) else None
    if parent is None:
        return "missing: say who speaks the category's words: add said_by: wearer, others or anyone"
    rule = SAID_BY[parent]
    other = " or ".join(v for v in _SAID_BY_VALUES if v != rule)
    return (
        f"category {category_id} does not say who speaks its words: add said_by: {rule} "
        f"(the taxonomy's rule in rubrics/README.md), or {other}"
    )


def _errors(exc: ValidationError, lines: dict[tuple[Any, ...], int], data: Any = None) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        where = f"{line}: " if line else ""
        if err["type"] == "extra_forbidden":
            hint = difflib.get_close_matches(str(loc[-1]), _known_fields(loc), n=1)
            msg = "unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        elif err["type"] == "missing" and loc[-1:] == ("said_by",) and loc[:1] == ("categories",):
            msg = _missing_said_by(loc, data)
        else:
            msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}{_format_path(loc)}: {msg}")
    return out


def parse_rubric(text: str, *, source: str = "<rubric>") -> Rubric:
    """Parse rubric YAML; raise :class:`RubricError` listing every problem."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser, when built
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}: " if mark else ""
        raise RubricError(source, [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(data, dict):
        raise RubricError(source, ["the file must hold a mapping with id, version and categories"])
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        # Line numbers are only needed for the error report: compose the document then.
        node = yaml.compose(text, Loader=loader)
        raise RubricError(source, _errors(exc, _line_index(node) if node else {}, data)) from exc


def load_rubric(path: Path | None = None) -> Rubric:
    """Load and validate a rubric file (the shipped trauma-informed rubric by default)."""
    path = path or DEFAULT_RUBRIC
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    return parse_rubric(text, source=str(path))
