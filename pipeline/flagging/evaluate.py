"""Rubric evaluation: precision and recall per category against labelled sentences.

The examples file lists, per category, sentences that must flag it and
near-misses that must not. Scoring is multi-label over every sentence: a
sentence is expected to flag its own category (for a positive) plus any
categories named in ``also`` (a near-miss such as "did he hit you?" is
expected to flag ``practice.safety``). Any other category flagged on any
sentence is a false alarm.

Every sentence has a speaker, as on body-worn video: ``speaker: wearer`` (the
officer wearing the camera), ``others`` (another voice) or ``unknown``
(speakers not told apart: flagged by language alone). A sentence that does not
say is spoken by whoever its category's words come from in the taxonomy
(``SAID_BY``: the wearer for practice and concerns, another voice for
disclosures and a child at risk). The same words can so be labelled twice:
"you've done nothing wrong" is practice from the wearer and nothing from the
public. Scores are reported per speaker too, and beside what flagging by
language alone (speakers ignored) would score on the same sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import RubricError
from pipeline.taxonomy import SAID_BY, TAXONOMY, WEARER, taxonomy_id

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.flagging.engine import FlagEngine
    from pipeline.store import Store

#: How far (seconds) a flag may sit from a reviewer's marked range and still count as that moment.
REVIEW_TOLERANCE_S = 1.0

DEFAULT_EXAMPLES = Path(__file__).resolve().parents[2] / "rubrics" / "trauma_informed.examples.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Who says an example sentence: the wearer, another voice, or unknown (language alone).
ExampleSpeaker = Literal["wearer", "others", "unknown"]

#: The speaker label the engine is given for an example's speaker ("others" is one other voice).
_VOICE: dict[str, str | None] = {"wearer": WEARER, "others": "speaker 2", "unknown": None}


class Example(_Strict):
    """A sentence, who says it, and the other categories it may also rightly flag."""

    text: str = Field(min_length=1)
    also: list[str] = Field(default_factory=list)
    #: Who says it; by default whoever the block's category's words come from (``SAID_BY``).
    speaker: ExampleSpeaker | None = None


class CategoryExamples(_Strict):
    """Sentences that must flag a category, and near-misses that must not."""

    category: str
    flag: list[Example] = Field(default_factory=list)
    not_: list[Example] = Field(default_factory=list, alias="not")

    @field_validator("flag", "not_", mode="before")
    @classmethod
    def _plain_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value


class ExampleSet(_Strict):
    """A labelled examples file."""

    rubric: str
    examples: list[CategoryExamples]


@dataclass(frozen=True)
class Labelled:
    """One sentence with the categories it should flag, and who says it."""

    text: str
    expected: frozenset[str]
    source: str  # "harm.self: flag" or "harm.self: not"
    #: "wearer", "others" or "unknown" for a labelled example; None where no one says
    #: (reviewers' decisions, for now): such a sentence is run without a speaker.
    speaker: str | None = None

    @property
    def shown(self) -> str:
        """The sentence as a report lists it: with its speaker, where it has one."""
        return self.text if self.speaker is None else f"{self.text}  [{self.speaker}]"


@dataclass
class Evaluation:
    """Scores per category and the sentences behind every miss and false alarm."""

    table: pd.DataFrame
    families: pd.DataFrame
    totals: pd.DataFrame
    misses: list[tuple[str, str]] = field(default_factory=list)  # (category, sentence)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)
    #: Micro scores per speaker of the sentences (wearer, others, unknown).
    speakers: pd.DataFrame | None = None
    #: Micro scores with speakers and by language alone (speakers ignored) on the same
    #: sentences: what knowing who speaks buys. None where only one run was scored.
    scoping: pd.DataFrame | None = None


def load_examples(path: Path | None = None) -> list[Labelled]:
    """Read an examples file into labelled sentences; every problem is reported."""
    path = path or DEFAULT_EXAMPLES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        examples = ExampleSet.model_validate(data)
    except OSError as exc:
        raise RubricError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise RubricError(str(path), [f"not valid YAML: {exc}"]) from exc
    except ValidationError as exc:
        raise RubricError(
            str(path), [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from exc
    out = []
    for block in examples.examples:
        said_by = SAID_BY.get(taxonomy_id(block.category), "anyone")
        default = "wearer" if said_by == "wearer" else "others"
        for ex in block.flag:
            out.append(Labelled(ex.text, frozenset({block.category, *ex.also}), f"{block.category}: flag",
                                ex.speaker or default))
        for ex in block.not_:
            out.append(Labelled(ex.text, frozenset(ex.also), f"{block.category}: not", ex.speaker or default))
    unknown = sorted({c for item in out for c in item.expected if taxonomy_id(c) not in TAXONOMY})
    if unknown:
        raise RubricError(str(path), [f"unknown categories: {', '.join(unknown)}"])
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den else 1.0


def score(
    labelled: Sequence[Labelled], predicted: Sequence[set[str]], *, categories: Sequence[str]
) -> Evaluation:
    """Precision, recall and support per category, per family, micro and macro."""
    import pandas as pd

    rows, misses, alarms = [], [], []
    by_speaker: dict[str, dict[str, int]] = {}
    for item in labelled:
        counts = by_speaker.setdefault(item.speaker or "unknown", {"sentences": 0, "tp": 0, "fp": 0, "fn": 0})
        counts["sentences"] += 1
    for cat in categories:
        tp = fp = fn = 0
        for item, pred in zip(labelled, predicted, strict=True):
            want, got = cat in item.expected, cat in pred
            tp += want and got
            fn += want and not got
            fp += got and not want
            counts = by_speaker[item.speaker or "unknown"]
            counts["tp"] += want and got
            counts["fn"] += want and not got
            counts["fp"] += got and not want
            if want and not got:
                misses.append((cat, item.shown))
            elif got and not want:
                alarms.append((cat, item.shown))
        rows.append({"category": cat, "family": TAXONOMY[cat], "tp": tp, "fp": fp, "fn": fn})
    table = pd.DataFrame(rows).set_index("category")
    table["support"] = table.tp + table.fn
    table["precision"] = [_ratio(r.tp, r.tp + r.fp) for r in table.itertuples()]
    table["recall"] = [_ratio(r.tp, r.tp + r.fn) for r in table.itertuples()]
    fam = table.groupby("family")[["tp", "fp", "fn", "support"]].sum()
    fam["precision"] = [_ratio(r.tp, r.tp + r.fp) for r in fam.itertuples()]
    fam["recall"] = [_ratio(r.tp, r.tp + r.fn) for r in fam.itertuples()]
    tp, fp, fn = table.tp.sum(), table.fp.sum(), table.fn.sum()
    judged = table[table.support + table.fp > 0]  # macro: over the categories with anything to score
    totals = pd.DataFrame(
        [
            {"average": "micro", "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)},
            {"average": "macro", "precision": judged.precision.mean(), "recall": judged.recall.mean()},
        ]
    ).set_index("average")
    speakers = pd.DataFrame(
        [{"speaker": who, **counts} for who, counts in sorted(by_speaker.items(), key=_speaker_order)],
        columns=["speaker", "sentences", "tp", "fp", "fn"],
    ).set_index("speaker")
    speakers["precision"] = [_ratio(r.tp, r.tp + r.fp) for r in speakers.itertuples()]
    speakers["recall"] = [_ratio(r.tp, r.tp + r.fn) for r in speakers.itertuples()]
    return Evaluation(table, fam, totals, misses, alarms, speakers=speakers)


def _speaker_order(item: tuple[str, object]) -> tuple[int, str]:
    order = {"wearer": 0, "others": 1, "unknown": 3}
    return (order.get(item[0], 2), item[0])


def _micro(evaluation: Evaluation) -> dict[str, float]:
    tp, fp, fn = (int(evaluation.table[c].sum()) for c in ("tp", "fp", "fn"))
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn}


def evaluate_rubric(engine: FlagEngine, labelled: Sequence[Labelled]) -> Evaluation:
    """Run the engine over labelled sentences, each said by its speaker, and score it.

    Categories are scored as taxonomy ids (sub-categories folded). The sentences are run
    a second time by language alone (as a file whose speakers could not be told apart
    is flagged), and both runs' micro scores are kept in ``scoping``.
    """
    import pandas as pd

    texts = [item.text for item in labelled]
    voices = [_VOICE.get(item.speaker or "unknown") for item in labelled]
    folded = [
        Labelled(i.text, frozenset(taxonomy_id(c) for c in i.expected), i.source, i.speaker)
        for i in labelled
    ]
    runs = {}
    for name, known in (("with speakers", True), ("by language alone", False)):
        flags = engine.flag_texts(texts, speakers=voices, speakers_known=known)
        predicted = [{taxonomy_id(f.category) for f in per} for per in flags]
        runs[name] = score(folded, predicted, categories=list(TAXONOMY))
    result = runs["with speakers"]
    result.scoping = pd.DataFrame(
        [{"scoping": name, **_micro(run)} for name, run in runs.items()]
    ).set_index("scoping")
    return result


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def review_judgements(
    engine: FlagEngine, store: Store, *, tolerance_s: float = REVIEW_TOLERANCE_S
) -> tuple[list[Labelled], list[set[str]]]:
    """Reviewers' judgements as labelled moments, and what the rubric flags there now.

    Each judgement concerns one category at one time range: a confirmed flag
    or a missed moment should be flagged, a flag marked "not relevant"
    should not. The rubric is run again over the stored transcript, so a
    changed rubric is scored on the decisions made about the old one.

    Speakers come with the stored words, as TIPs corrected them, so the rescoring
    scopes categories by speaker as the batch does; a file flagged without speakers is
    flagged by language alone again.
    """
    labelled: list[Labelled] = []
    predicted: list[set[str]] = []
    flags_of: dict[int, list[tuple[str, float, float]]] = {}
    for row, name in store.rubric_feedback():
        if row.media_id not in flags_of:
            flags_of[row.media_id] = [
                (taxonomy_id(f.category), f.start_s, f.end_s)
                for f in engine.flag_segments(
                    store.load_segments(row.media_id),
                    speakers_known=store.speaker_state(row.media_id).scoped)
            ]
        category = taxonomy_id(row.category)
        found = any(
            cat == category and start <= row.end_s + tolerance_s and end >= row.start_s - tolerance_s
            for cat, start, end in flags_of[row.media_id]
        )
        where = f"{name or f'media {row.media_id}'} {_clock(row.start_s)}-{_clock(row.end_s)}"
        expected = frozenset() if row.kind == "not_relevant" else frozenset({category})
        labelled.append(Labelled(f"{where} [{row.kind} by {row.reviewer}] {row.text}", expected, row.kind))
        predicted.append({category} if found else set())
    return labelled, predicted


@dataclass(frozen=True)
class SpeakerCorrections:
    """TIPs' corrections of who said a line, as feedback on the speaker stage: how many
    lines were moved, how many to another side of the rubric's ``said_by`` (the wearer or
    the others), and the lines whose flags the correction changes."""

    moved: int
    changed: int  # put under another speaker than the stage gave
    crossed: int  # between the wearer and the others: the rubric's scoping changes
    lines: list[str]  # "where [by] text: flags before -> after"


def speaker_corrections(engine: FlagEngine, store: Store) -> SpeakerCorrections | None:
    """TIPs' moves of lines between speakers, scored: None when there are none yet."""
    rows = store.speaker_feedback()
    if not rows:
        return None
    lines, crossed = [], 0
    for row in (r for r in rows if r.corrected):
        before = "wearer" if row.from_speaker == WEARER else "others"
        if row.from_speaker is None or before == row.said_by:
            continue
        crossed += 1
        was, now = (
            sorted({f.category for f in flags})
            for flags in engine.flag_texts([row.text, row.text], speakers=[
                row.from_speaker, row.to_speaker])
        )
        if was != now:
            where = f"{row.source or f'media {row.media_id}'} {_clock(row.start_s)}"
            lines.append(f"{where} [{row.from_speaker} -> {row.to_speaker} by {row.reviewer}] "
                         f"{row.text}: {', '.join(was) or 'no flag'} -> {', '.join(now) or 'no flag'}")
    return SpeakerCorrections(len(rows), sum(r.corrected for r in rows), crossed, lines)


def evaluate_reviews(engine: FlagEngine, store: Store) -> Evaluation | None:
    """Score the rubric against reviewers' decisions; None when there are none yet."""
    labelled, predicted = review_judgements(engine, store)
    if not labelled:
        return None
    return score(labelled, predicted, categories=list(TAXONOMY))


def below_thresholds(
    evaluation: Evaluation, *, min_precision: float, min_recall: float, by: str = "family"
) -> list[str]:
    """Which rows (families or categories) fall below the thresholds, as readable lines."""
    table = evaluation.families if by == "family" else evaluation.table
    out = []
    for name, row in table.iterrows():
        if row.precision < min_precision:
            out.append(f"{name}: precision {row.precision:.3f} < {min_precision}")
        if row.recall < min_recall:
            out.append(f"{name}: recall {row.recall:.3f} < {min_recall}")
    return out
