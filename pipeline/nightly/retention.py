"""Retention: delete footage, and everything made from it, once the policy says it must go.

The policy is YAML (``BWV_HOME/retention.yaml``, or a file given on the command
line), validated by a strict schema that reports every error with its path::

    default_days: 31       # footage with no submitted annotation (quarantined files too)
    annotated_days: 365    # footage with a submitted annotation
    categories:            # footage flagged in a category is kept at least this long
      harm.domestic_abuse: 730

How an item's time is worked out:

- Age counts from ingest (the media row's ``created_at``).
- The base rule is ``annotated_days`` when the item has a submitted annotation,
  else ``default_days`` (drafts do not count). Quarantined files hold footage
  too and follow the same rules (they have no annotations, so ``default_days``).
- Each taxonomy category the item was flagged in (or that a reviewer marked
  as missed on it) with a rule in ``categories`` is a further rule; the
  longest applicable rule wins. A sub-category counts as its taxonomy id.
- An item is deleted once it is older than that; an item on legal hold, or
  with a submitted annotation marked as a teaching example, is kept whatever
  its age. Only what a trainer can see counts: a draft (annotation or teaching
  mark) keeps nothing, nor does a version a correction replaced.
- A dry run lists every item kept beyond ``default_days`` and why, with who put
  each reason there (the annotation's author, the rubric or the reviewer behind a
  category, whoever placed a legal hold).
- Only finished items (done or quarantined) are looked at: one still moving
  through the batch waits until it ends. Rows for files that were never read
  (refused symlinks) hold no footage and are left as they are.

Deleting an item removes its rows (transcript, segments, flags, review items,
annotations, rubric feedback, jobs) and marks its media row ``deleted`` with a
tombstone, in one transaction; then one audit row is written; then its files
(the original, the speech audio, the proxy, anything under ``derived/`` named
by its hash) are removed. The media row and its names stay, so the inbox copy
is not ingested again. A run stopped at any point is finished by the next: it
writes audit rows missing for tombstones, and removes the files of every item
already marked deleted (also bytes that arrived again under a new name).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pipeline import clock
from pipeline.config import Instance
from pipeline.errors import ConfigError, InvalidRequestError, NotFoundError
from pipeline.flagging.rubric import _line_index
from pipeline.store import Store
from pipeline.store.retention import (
    APPLY_ACTION,
    DELETE_ACTION,
    DeletedMedia,
    MediaMatch,
    RetentionFacts,
)
from pipeline.taxonomy import TAXONOMY

log = logging.getLogger("bwv.retention")

#: The policy file looked for in the instance folder when none is given.
POLICY_FILE = "retention.yaml"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_HEX = re.compile(r"^[0-9a-fA-F]{8,64}$")


def _taxonomy_category(value: str) -> str:
    if value not in TAXONOMY:
        hint = difflib.get_close_matches(value, list(TAXONOMY), n=1)
        raise ValueError(
            f"unknown category {value!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "; use a taxonomy id from rubrics/README.md")
        )
    return value


Days = Annotated[int, Field(ge=1, strict=True)]
CategoryId = Annotated[str, AfterValidator(_taxonomy_category)]


class RetentionPolicy(BaseModel):
    """How long footage is kept, in days from ingest (see the module's notes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_days: Days = 31
    annotated_days: Days = 365
    categories: dict[CategoryId, Days] = Field(default_factory=dict)


class PolicyError(ConfigError):
    """A retention policy file is invalid; ``errors`` lists every problem with its path."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = list(errors)
        super().__init__("\n".join(f"{source}:{e}" if e[:1].isdigit() else f"{source}: {e}"
                                   for e in self.errors))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int) or (out == "categories" and isinstance(part, str)):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top)"


def _message(err: Any, loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(loc[-1]), list(RetentionPolicy.model_fields), n=1)
        return "unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind in ("int_type", "int_parsing", "greater_than_equal"):
        return f"must be a whole number of days, 1 or more (not {err['input']!r})"
    if kind == "dict_type":
        return "must be a mapping of taxonomy ids to days"
    return str(err["msg"]).removeprefix("Value error, ")


def parse_policy(text: str, *, source: str = "<policy>") -> RetentionPolicy:
    """Parse policy YAML; raise :class:`PolicyError` listing every problem (an empty file: defaults)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}: " if mark else ""
        raise PolicyError(source, [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(source, ["the file must hold a mapping: default_days, annotated_days, categories"])
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines = _line_index(node) if node else {}
        out = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "[key]")
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
            out.append(f"{f'{line}: ' if line else ''}{_path(loc)}: {_message(err, loc)}")
        raise PolicyError(source, out) from exc


def find_policy(home: Path, explicit: Path | None = None) -> Path | None:
    """The policy file to use: the one given, else ``retention.yaml`` in the instance, else none."""
    if explicit is not None:
        return explicit
    default = home / POLICY_FILE
    return default if default.is_file() else None


def load_policy(path: Path | None) -> RetentionPolicy:
    """Load and validate a policy file; no file means the built-in defaults."""
    if path is None:
        return RetentionPolicy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    return parse_policy(text, source=str(path))


def policy_yaml(policy: RetentionPolicy) -> str:
    """The policy as YAML, as a policy file would hold it."""
    return yaml.safe_dump(policy.model_dump(), sort_keys=False)


# --- decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """An item older than the default rule: deleted (or, in a dry run, to be), kept past its
    time by a legal hold or a teaching example, or kept by a longer rule that still runs."""

    media_id: int
    sha256: str
    name: str
    state: str
    ingested_at: datetime
    age_days: float
    rule: str  # the rule that set its time, e.g. "default: 31 days"; stored in the tombstone
    keep_days: int
    annotated: bool
    kept_by: str | None  # "legal hold", "teaching example" or "longer rule"; None when it goes
    why: str = ""  # every reason it is kept beyond the default, each with who put it there

    @property
    def delete(self) -> bool:
        """Whether retention deletes it."""
        return self.kept_by is None

    @property
    def extended(self) -> bool:
        """Whether a rule longer than the default keeps it for now (it is not yet past its time)."""
        return self.kept_by == LONGER_RULE


#: ``Decision.kept_by`` of an item within a rule longer than the default.
LONGER_RULE = "longer rule"


@dataclass(frozen=True)
class RetentionResult:
    """What one ``apply_retention`` did (or, in a dry run, would do)."""

    dry_run: bool
    policy_source: str
    deleted: tuple[Decision, ...]  # in a dry run: what would be deleted
    kept: tuple[Decision, ...]  # past their time, kept by a legal hold or a teaching example
    skipped: tuple[Decision, ...]  # changed while the run looked (a hold placed meanwhile, say)
    files_removed: int
    errors: tuple[str, ...]  # files that could not be removed: the next run tries again
    extended: tuple[Decision, ...] = ()  # older than the default, kept by a longer rule for now


def decide(facts: RetentionFacts, policy: RetentionPolicy, *, now: datetime) -> Decision | None:
    """The decision for one item, or None while it is within the default rule and its own.

    Every reason an item is kept beyond the default is given in ``why`` with who put it
    there: the annotation (and its author) or the flag (and its rubric, or the reviewer who
    marked it missed) behind a longer rule, a legal hold and who placed it, a teaching mark
    and the TIP whose submitted annotation carries it.
    """
    base = ("annotated", policy.annotated_days) if facts.annotated else ("default", policy.default_days)
    rules = [base] + [(f"category {c}", policy.categories[c]) for c in facts.categories
                      if c in policy.categories]
    label, days = max(rules, key=lambda rule: rule[1])  # the first of the longest
    age = now - facts.ingested_at
    past = age > timedelta(days=days)
    if not past and age <= timedelta(days=policy.default_days):
        return None
    why = []
    if not past:
        until = facts.ingested_at + timedelta(days=days)
        evidence = [k.reason for k in facts.keepers if k.kind == label] or ["no record of who"]
        why.append(f"{label}: {days} days, until {until:%Y-%m-%d}: {', '.join(evidence)}")
    for kind, applies in (("legal hold", facts.held), ("teaching example", facts.teaching)):
        if applies:
            found = [k.reason for k in facts.keepers if k.kind == kind]
            why.append(f"{kind}: {', '.join(found) or 'no record of who'}")
    held_by = "legal hold" if facts.held else ("teaching example" if facts.teaching else None)
    return Decision(
        media_id=facts.media_id, sha256=facts.sha256, name=facts.name, state=facts.state,
        ingested_at=facts.ingested_at, age_days=age.total_seconds() / 86400,
        rule=f"{label}: {days} days", keep_days=days, annotated=facts.annotated,
        kept_by=held_by if past else LONGER_RULE, why="; ".join(why),
    )


def plan_retention(store: Store, policy: RetentionPolicy, *, now: datetime | None = None) -> list[Decision]:
    """Every finished item past its time or older than the default rule, with what happens to
    it and why (nothing is changed)."""
    now = now or clock.now()
    shortest = min(policy.default_days, policy.annotated_days)  # categories only lengthen
    facts = store.retention_facts(ingested_before=now - timedelta(days=shortest))
    return [d for f in facts if (d := decide(f, policy, now=now)) is not None]


def apply_retention(
    instance: Instance, store: Store, policy: RetentionPolicy, *, actor: str,
    dry_run: bool = False, policy_source: str = "built-in defaults",
) -> RetentionResult:
    """Delete every item past its time that is not held or a teaching example.

    Each deletion writes a tombstone and one audit row (``retention:delete``). A
    dry run changes nothing but writes one audit row saying it was made.
    """
    now = clock.now()
    decisions = plan_retention(store, policy, now=now)
    due = tuple(d for d in decisions if d.delete)
    kept = tuple(d for d in decisions if not d.delete and not d.extended)
    extended = tuple(d for d in decisions if d.extended)
    if dry_run:
        store.audit(actor=actor, action="retention:dry-run", obj="retention",
                    detail=f"policy {policy_source}: {len(due)} would be deleted, {len(kept)} kept "
                           f"by legal hold or teaching example, {len(extended)} kept beyond the "
                           "default by a longer rule")
        return RetentionResult(True, policy_source, due, kept, (), 0, (), extended)
    for tomb in store.unaudited_tombstones():  # an earlier run stopped before auditing these
        _audit_deletion(store, tomb.actor, tomb.media_id, tomb.sha256, tomb.policy)
    deleted, skipped = [], []
    for decision in due:
        if store.mark_deleted(decision.media_id, policy=decision.rule, actor=actor,
                              annotated=decision.annotated):
            _audit_deletion(store, actor, decision.media_id, decision.sha256, decision.rule)
            deleted.append(decision)
            log.info("media %s deleted (%s)", decision.media_id, decision.rule)
        else:
            skipped.append(decision)
    removed, errors = _sweep(instance, store.deleted_media())
    store.audit(actor=actor, action=APPLY_ACTION, obj="retention",
                detail=f"policy {policy_source}: {len(deleted)} deleted, {len(kept)} kept by "
                       f"legal hold or teaching example, {removed} files removed")
    return RetentionResult(False, policy_source, tuple(deleted), kept, tuple(skipped), removed,
                           tuple(errors), extended)


def _audit_deletion(store: Store, actor: str, media_id: int, sha256: str | None, rule: str) -> None:
    store.audit(actor=actor, action=DELETE_ACTION, obj=f"media:{media_id}",
                detail=f"sha256={sha256} rule={rule}")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _sweep(instance: Instance, items: Iterable[DeletedMedia]) -> tuple[int, list[str]]:
    """Remove the files of items marked deleted: originals, then everything derived by hash."""
    removed, errors = 0, []
    shas: set[str] = set()
    targets: list[Path] = []
    for item in items:
        if item.sha256 and _SHA.match(item.sha256):
            shas.add(item.sha256)
        for rel, folder in ((item.store_path, instance.store_dir), (item.audio_path, instance.derived_dir)):
            if rel and _inside(instance.home / rel, folder):  # never outside the instance's folders
                targets.append(instance.home / rel)
    if shas and instance.derived_dir.is_dir():
        # One pass over derived/ (ab/<sha>.speech.wav, ab/<sha>.proxy.mp4, locks, temporaries).
        prefixes = {sha[:2] for sha in shas}
        for sub in instance.derived_dir.iterdir():
            if sub.name in prefixes and sub.is_dir():
                targets += [f for f in sub.iterdir() if f.name.lstrip(".")[:64] in shas]
    for path in targets:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.append(f"cannot remove {path}: {exc.strerror}; fix that and run retention again")
    return removed, errors


# --- legal holds ----------------------------------------------------------------------------


def resolve_media(store: Store, ref: str) -> MediaMatch:
    """The one media item a reference names: its id, its SHA-256 (or 8+ hex digits of it), or a
    file name it arrived under."""
    ref = ref.strip()
    media_id = int(ref) if ref.isdigit() and len(ref) <= 9 else None
    sha = ref.lower() if _HEX.match(ref) else None
    matches = store.match_media(media_id=media_id, sha_prefix=sha, name=ref or None)
    if not matches:
        raise NotFoundError(
            f"no media item matches {ref!r}: give a media id, a SHA-256 (at least its first "
            "8 hex digits) or a file name it arrived under"
        )
    if len(matches) > 1:
        listed = ", ".join(f"media {m.media_id} ({(m.names or ('no name',))[0]})" for m in matches[:5])
        raise InvalidRequestError(f"{ref!r} matches more than one media item: {listed}; give the media id")
    return matches[0]


def place_hold(store: Store, ref: str, *, reason: str, actor: str) -> MediaMatch:
    """Put the item a reference names on legal hold, and audit it."""
    if not reason.strip():
        raise InvalidRequestError("give the reason for the hold (a case or request reference)")
    media = resolve_media(store, ref)
    store.add_legal_hold(media.media_id, reason=reason.strip(), placed_by=actor)
    store.audit(actor=actor, action="hold:add", obj=f"media:{media.media_id}", detail=reason.strip())
    return media


def lift_hold(store: Store, ref: str, *, actor: str, reason: str | None = None) -> MediaMatch:
    """Take the item a reference names off legal hold, and audit it."""
    media = resolve_media(store, ref)
    placed_for = store.remove_legal_hold(media.media_id)
    detail = f"placed for: {placed_for}" + (f"; lifted: {reason.strip()}" if reason and reason.strip() else "")
    store.audit(actor=actor, action="hold:remove", obj=f"media:{media.media_id}", detail=detail)
    return media

