"""Which moments a teaching export takes, and who may export them.

Every moment is checked before any work starts (at most 50, each a submitted
annotation's current version, its original in the store and unchanged, its
range inside the file), every refusal is audited, the exporting account must
be an enabled trainer's or admin's, and each moment's words (the
transcript around it and the TIP's feedback) are read with what the detectors
propose to redact, for a trainer to review (:mod:`pipeline.teach.review_doc`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import Instance
from pipeline.errors import (
    BwvError,
    ForbiddenError,
    IntegrityError,
    InvalidRequestError,
    NotFoundError,
)
from pipeline.records import Segment, Word
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.base import inside_file
from pipeline.teach.handout import PAD_S, Moment
from pipeline.teach.pii import find_pii, join_words
from pipeline.teach.review_doc import MomentTexts

MAX_TEXT = 500
#: The most moments one teaching pack may hold (801 were once accepted): more go in several packs.
MAX_MOMENTS = 50


@dataclass(frozen=True)
class ExportRequest:
    """Who exports which annotations, to whom and why."""

    annotation_ids: tuple[int, ...]
    reason: str
    recipient: str
    actor: str  # as the audit log names it: "web:alice", "cli:root as alice"
    exporter: str  # the trainer (or admin) account the export is made for
    role: str  # that account's role


def _too_many(ids: Sequence[int]) -> str | None:
    count = len(dict.fromkeys(ids))
    if count <= MAX_MOMENTS:
        return None
    return f"a pack holds at most {MAX_MOMENTS} moments, not {count}: export them in several packs"


def ids_object(ids: Sequence[int]) -> str:
    """The audit object of an export: its annotation ids (the first 20, then how many more)."""
    unique = list(dict.fromkeys(ids))
    more = f",...(+{len(unique) - 20})" if len(unique) > 20 else ""
    return "annotations:" + ",".join(str(i) for i in unique[:20]) + more


def refused(store: Store, problem: BwvError, *, actor: str, obj: str) -> BwvError:
    """Audit a refused export (``teach-export-refused``, under who asked); returns the error,
    marked as audited so the web app does not write a second row for it."""
    store.audit(actor=actor, action="teach-export-refused", obj=obj, detail=str(problem)[:2000])
    problem.audited = True
    return problem


def check_request(request: ExportRequest, *, store: Store) -> None:
    """Refuse an export without ids, with more than :data:`MAX_MOMENTS`, or without a reason or
    a recipient; every problem is listed, and the refusal audited."""
    problems = []
    if not request.annotation_ids:
        problems.append("name at least one annotation id")
    elif too_many := _too_many(request.annotation_ids):
        problems.append(too_many)
    for name, value in (("reason", request.reason), ("recipient", request.recipient)):
        if not value.strip():
            problems.append(f"say the {name} for the export (--{name})")
        elif len(value) > MAX_TEXT:
            problems.append(f"the {name} must be at most {MAX_TEXT} characters")
    if problems:
        raise refused(store, InvalidRequestError("; ".join(problems)), actor=request.actor,
                      obj=ids_object(request.annotation_ids))


def plan_export(instance: Instance, store: Store, ids: Sequence[int], *, actor: str) -> list[Moment]:
    """:func:`plan_moments` for an export or its review: at most :data:`MAX_MOMENTS` moments,
    and a refusal (a draft, a quarantined or missing original) is audited under ``actor``."""
    try:
        if too_many := _too_many(ids):
            raise InvalidRequestError(too_many)
        return plan_moments(instance, store, ids)
    except BwvError as problem:
        refused(store, problem, actor=actor, obj=ids_object(ids))
        raise


#: Roles that may export teaching packs.
EXPORT_ROLES = ("trainer", "admin")


def exporting_account(store: Store, name: str, *, actor: str) -> db.UserAccount:
    """The account an export acts for: it must exist, be enabled and be a trainer's or an
    admin's. A refusal is audited under ``actor`` (who asked)."""
    user = store.user_by_name(name.strip()) if name.strip() else None
    if user is None:
        problem: BwvError = NotFoundError(
            f"no account named {name!r}: name the trainer exporting the pack (--as NAME)")
    elif user.disabled:
        problem = ForbiddenError(f"account {name!r} is disabled: it cannot export teaching packs")
    elif user.role not in EXPORT_ROLES:
        problem = ForbiddenError(f"account {name!r} is a {user.role}'s: only a trainer or an admin "
                                 "exports teaching packs")
    else:
        return user
    raise refused(store, problem, actor=actor, obj=f"user:{name[:100]}")


def plan_moments(instance: Instance, store: Store, ids: Sequence[int]) -> list[Moment]:
    """Check every annotation can be exported before any work starts."""
    moments = []
    for annotation_id in dict.fromkeys(ids):
        row = store.annotation_or_none(annotation_id)
        if row is None or row.submitted_at is None:  # a draft is its author's alone
            raise NotFoundError(f"no submitted annotation {annotation_id}")
        if row.superseded_at is not None:  # trainers see the correction, not this version
            newer = store.correction_of(annotation_id)
            raise InvalidRequestError(f"annotation {annotation_id} was corrected"
                                      + (f" by annotation {newer}: export that one" if newer else ""))
        media = store.get_media(row.media_id)
        if media.state == "quarantined":
            raise InvalidRequestError(
                f"annotation {annotation_id}: its file is quarantined ({media.reason}); nothing to export"
            )
        original = instance.home / (media.store_path or "")
        if media.state != "done" or not media.sha256 or not original.is_file():
            raise NotFoundError(f"annotation {annotation_id}: its original is missing from the store")
        duration = media.duration_s or 0.0
        if not inside_file(row.start_s, row.end_s, duration):
            raise InvalidRequestError(
                f"annotation {annotation_id}: range {row.start_s:.2f}-{row.end_s:.2f} s is outside "
                f"the file (0-{duration:.2f} s)"
            )
        moments.append(Moment(
            annotation=row, labels=list(json.loads(row.labels)), media=media, original=original,
            start_s=max(0.0, row.start_s - PAD_S), end_s=min(duration, row.end_s + PAD_S),
        ))
    return moments


def verify_original(store: Store, moment: Moment, *, actor: str) -> None:
    """The original's bytes must still hash to what the store recorded; a mismatch is audited."""
    digest = sha256_file(moment.original)
    if digest != moment.media.sha256:
        reason = (f"original of media {moment.media.id} does not match its recorded SHA-256 "
                  f"(recorded {moment.media.sha256}, now {digest}): export refused")
        raise refused(store, IntegrityError(reason), actor=actor, obj=f"annotation:{moment.annotation.id}")


def clip_segments(segments: Sequence[Segment], start_s: float, end_s: float) -> list[Segment]:
    """The words spoken inside a range, re-timed from its start."""
    out = []
    for seg in segments:
        words = tuple(
            Word(round(max(0.0, w.start_s - start_s), 3), round(min(end_s, w.end_s) - start_s, 3),
                 w.word, w.probability, w.speaker)
            for w in seg.words if w.end_s > start_s and w.start_s < end_s
        )
        if words:
            out.append(Segment(words[0].start_s, words[-1].end_s, join_words(words).strip(), words,
                               seg.avg_logprob, seg.no_speech_prob, seg.speaker))
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def as_segment(text: str) -> Segment:
    """Free text as a transcript segment, so the same redaction applies to it."""
    words = tuple(Word(float(i), float(i) + 0.5, f" {w}", 1.0) for i, w in enumerate(text.split()))
    return Segment(0.0, float(len(words)), text, words)


def moment_texts(store: Store, moment: Moment, nlp: Any, *, heard: Sequence[Segment] = ()) -> MomentTexts:
    """A moment's transcript (re-timed from the clip's start) and feedback, with what the
    detectors propose to redact in each; ``heard`` is a second model's transcript of the
    moment's audio, whose details are proposed too (``pii.find_pii``)."""
    speech = clip_segments(store.load_segments(moment.media.id), moment.start_s, moment.end_s)
    feedback = [as_segment(moment.annotation.feedback)]
    return MomentTexts(
        annotation_id=moment.annotation.id, source_sha256=moment.media.sha256 or "",
        duration_s=round(moment.end_s - moment.start_s, 3), has_video=bool(moment.media.has_video),
        speech=speech, feedback=feedback, proposed_speech=find_pii(speech, nlp=nlp, heard=heard),
        proposed_feedback=find_pii(feedback, nlp=nlp), heard=tuple(heard))
