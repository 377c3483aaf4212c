"""Reviewing an item: who may open, claim and annotate what, and the rules an annotation obeys.

The web app calls these; each checks the person's right to the object,
changes the store and writes one audit row. Errors say what was refused:
:class:`ForbiddenError` (not yours), :class:`NotFoundError`,
:class:`ConflictError` (someone else got there first) and
:class:`InvalidRequestError` (a bad value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.base import inside_file
from pipeline.store.review import ItemView
from pipeline.taxonomy import LABELS

#: Every label an annotation may carry: the taxonomy ids, then the practice labels.
MAX_FEEDBACK = 10_000


@dataclass(frozen=True)
class AnnotationInput:
    """What a TIP entered for an annotation."""

    start_s: float
    end_s: float
    labels: tuple[str, ...]
    rating: int | None
    feedback: str
    teaching: bool


def actor(user: db.UserAccount) -> str:
    """How a web user appears in the audit log and in rubric feedback."""
    return f"web:{user.name}"


def check_annotation(value: AnnotationInput, *, duration_s: float | None) -> AnnotationInput:
    """Validate an annotation; every problem is reported, joined by '; '."""
    problems = []
    if not (math.isfinite(value.start_s) and math.isfinite(value.end_s)):
        problems.append("the time range must be numbers of seconds")
    elif not inside_file(value.start_s, value.end_s, duration_s):
        problems.append(
            f"the time range {value.start_s:.2f}-{value.end_s:.2f} s must run forwards inside "
            f"the file (0-{duration_s or 0.0:.2f} s): set mark in before mark out"
        )
    unknown = [label for label in value.labels if label not in LABELS]
    if unknown:
        problems.append(f"unknown labels: {', '.join(repr(u) for u in unknown)}")
    if not value.labels:
        problems.append("choose at least one label")
    if value.rating is not None and not 1 <= value.rating <= 5:
        problems.append("the rating must be from 1 to 5")
    if len(value.feedback) > MAX_FEEDBACK:
        problems.append(f"the feedback must be at most {MAX_FEEDBACK} characters")
    if problems:
        raise InvalidRequestError("; ".join(problems))
    labels = tuple(dict.fromkeys(value.labels))  # keep order, drop repeats
    return AnnotationInput(round(value.start_s, 3), round(value.end_s, 3), labels,
                           value.rating, value.feedback.strip(), value.teaching)


def _require_tip(user: db.UserAccount) -> None:
    if user.role != "tip":
        raise ForbiddenError("only TIPs review items")


def may_view_item(user: db.UserAccount, item: db.ReviewItem) -> bool:
    """A TIP may open an item they hold or reviewed."""
    return user.role == "tip" and user.id in (item.claimed_by, item.reviewed_by)


def holds(user: db.UserAccount, item: db.ReviewItem) -> bool:
    """Whether this TIP holds the item now (and so may change it)."""
    return user.role == "tip" and item.status == "claimed" and item.claimed_by == user.id


def open_item(store: Store, user: db.UserAccount, item_id: int) -> ItemView:
    """The item for its review page, audited as a view."""
    view = store.item_view(item_id)
    if not may_view_item(user, view.item):
        raise ForbiddenError(f"review item {item_id} is not yours: claim it from the queue first")
    store.audit(actor=actor(user), action="view", obj=f"review_item:{item_id}")
    return view


def held_item(store: Store, user: db.UserAccount, item_id: int) -> db.ReviewItem:
    """The item, if this TIP holds it now."""
    item = store.item_view(item_id).item
    if not holds(user, item):
        raise ForbiddenError(f"you do not hold review item {item_id}: claim it first")
    return item


def claim(store: Store, user: db.UserAccount, item_id: int) -> None:
    """Take an item from the queue; someone else's claim wins if it came first."""
    _require_tip(user)
    view = store.item_view(item_id)
    if not store.claim_item(item_id, user.id):
        current = store.item_view(item_id)
        if current.item.claimed_by == user.id:
            return
        who = f" by {current.holder}" if current.holder else ""
        raise ConflictError(f"review item {item_id} is already {current.item.status}{who}")
    store.audit(actor=actor(user), action="claim", obj=f"review_item:{view.item.id}")


def release(store: Store, user: db.UserAccount, item_id: int) -> None:
    """Give an item back to the queue."""
    held_item(store, user, item_id)
    if not store.release_item(item_id, user.id):
        raise ConflictError(f"review item {item_id} is no longer yours")
    store.audit(actor=actor(user), action="release", obj=f"review_item:{item_id}")


def finish(store: Store, user: db.UserAccount, item_id: int, *, status: str) -> None:
    """Mark a held item reviewed (flags nobody marked count as confirmed) or dismissed."""
    if status not in ("reviewed", "dismissed"):
        raise InvalidRequestError(f"an item can be marked reviewed or dismissed, not {status!r}")
    held_item(store, user, item_id)
    if not store.finish_item(item_id, user.id, status=status):
        raise ConflictError(f"review item {item_id} is no longer yours")
    if status == "reviewed":
        store.confirm_unmarked_flags(item_id, reviewer=actor(user))
    store.audit(actor=actor(user), action=status, obj=f"review_item:{item_id}")


def annotate(store: Store, user: db.UserAccount, item_id: int, value: AnnotationInput) -> int:
    """Add a draft annotation to a held item."""
    item = held_item(store, user, item_id)
    media = store.get_media(item.media_id)
    value = check_annotation(value, duration_s=media.duration_s)
    annotation_id = store.add_annotation(
        media_id=item.media_id, review_item_id=item.id, author_id=user.id, start_s=value.start_s,
        end_s=value.end_s, labels=value.labels, rating=value.rating, feedback=value.feedback,
        teaching=value.teaching,
    )
    store.audit(actor=actor(user), action="annotation-add", obj=f"annotation:{annotation_id}",
                detail=f"review_item:{item_id} {value.start_s:.2f}-{value.end_s:.2f}")
    return annotation_id


def own_annotation(store: Store, user: db.UserAccount, annotation_id: int) -> db.Annotation:
    """An annotation its author may edit; anyone else is told it does not exist."""
    row = store.annotation(annotation_id)
    if user.role != "tip" or row.author_id != user.id:
        raise NotFoundError(f"no annotation {annotation_id}")
    return row


def edit_annotation(store: Store, user: db.UserAccount, annotation_id: int,
                    value: AnnotationInput) -> None:
    """Change one's own annotation."""
    row = own_annotation(store, user, annotation_id)
    value = check_annotation(value, duration_s=store.get_media(row.media_id).duration_s)
    store.update_annotation(annotation_id, start_s=value.start_s, end_s=value.end_s,
                            labels=value.labels, rating=value.rating, feedback=value.feedback,
                            teaching=value.teaching)
    store.audit(actor=actor(user), action="annotation-edit", obj=f"annotation:{annotation_id}")


def delete_annotation(store: Store, user: db.UserAccount, annotation_id: int) -> int | None:
    """Delete one's own annotation; returns its review item's id."""
    row = own_annotation(store, user, annotation_id)
    store.delete_annotation(annotation_id)
    store.audit(actor=actor(user), action="annotation-delete", obj=f"annotation:{annotation_id}")
    return row.review_item_id


def judge_flag(store: Store, user: db.UserAccount, flag_id: int, *, relevant: bool) -> int:
    """Confirm a flag of a held item or mark it "not relevant"; returns the item's id."""
    flag = store.flag(flag_id)
    if flag.review_item_id is None:
        raise NotFoundError(f"flag {flag_id} is not in a review item")
    held_item(store, user, flag.review_item_id)
    store.record_flag_feedback(flag_id, relevant=relevant, reviewer=actor(user))
    return flag.review_item_id


def add_missed(store: Store, user: db.UserAccount, item_id: int, *, category: str,
               start_s: float, end_s: float, note: str | None) -> None:
    """Record a moment of a held item that the rubric should have flagged."""
    item = held_item(store, user, item_id)
    store.add_missed_moment(item.media_id, category=category, start_s=start_s, end_s=end_s,
                            reviewer=actor(user), note=note)


def labels_from(values: Sequence[str]) -> tuple[str, ...]:
    """Labels as submitted by a form (blank entries dropped)."""
    return tuple(v.strip() for v in values if v.strip())
