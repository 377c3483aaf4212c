"""Annotations: a TIP's feedback on a time range of an interaction, and the trainer's search.

A mixin of :class:`pipeline.store.Store`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.errors import BwvError, ConflictError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries, escape_like, first_name, prefix_pattern
from pipeline.store.meta_tables import SharedFeedback


@dataclass(frozen=True)
class AnnotationRow:
    """An annotation with its author's name and its file's name."""

    annotation: db.Annotation
    author: str
    name: str

    @property
    def labels(self) -> list[str]:
        """The labels, decoded."""
        return list(json.loads(self.annotation.labels))


@dataclass(frozen=True)
class AnnotationQuery:
    """A trainer's search over submitted annotations. Empty fields do not filter."""

    label: str | None = None
    category: str | None = None
    min_rating: int | None = None
    max_rating: int | None = None
    teaching: bool | None = None
    text: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    limit: int = 500


class AnnotationQueries(Queries):
    """Annotations and their search (mixed into ``Store``)."""

    def add_annotation(self, *, media_id: int, review_item_id: int, author_id: int,
                       start_s: float, end_s: float, labels: Sequence[str], rating: int | None,
                       feedback: str, teaching: bool) -> int:
        """Store a new draft annotation."""
        now = clock.now()
        with self.session() as s:
            row = db.Annotation(
                media_id=media_id, review_item_id=review_item_id, author_id=author_id,
                start_s=start_s, end_s=end_s, labels=json.dumps(list(labels)), rating=rating,
                feedback=feedback, teaching=teaching, created_at=now, updated_at=now,
            )
            s.add(row)
            s.flush()
            return row.id

    def annotation(self, annotation_id: int) -> db.Annotation:
        """One annotation."""
        row = self.annotation_or_none(annotation_id)
        if row is None:
            raise NotFoundError(f"no annotation {annotation_id}")
        return row

    def annotation_or_none(self, annotation_id: int) -> db.Annotation | None:
        """One annotation, or None (also for an id no row can have, which SQLite cannot bind)."""
        if not 1 <= annotation_id <= db.MAX_ID:
            return None
        with self.session() as s:
            return s.get(db.Annotation, annotation_id)

    def flags_between(self, media_id: int, start_s: float, end_s: float) -> list[db.Flag]:
        """A file's flags that overlap a time range, by time."""
        with self.session() as s:
            return list(s.scalars(
                select(db.Flag).where(db.Flag.media_id == media_id, db.Flag.end_s > start_s,
                                      db.Flag.start_s < end_s).order_by(db.Flag.start_s, db.Flag.id)
            ))

    def update_annotation(self, annotation_id: int, *, start_s: float, end_s: float,
                          labels: Sequence[str], rating: int | None, feedback: str,
                          teaching: bool) -> None:
        """Change a draft's range, labels, rating, feedback and mark (a submitted one never changes).

        The change is one conditional UPDATE on a row still a draft, so it cannot land on an
        annotation that marking its item reviewed submitted a moment before.
        """
        with self.session() as s:
            changed = cast(CursorResult[Any], s.execute(
                update(db.Annotation)
                .where(db.Annotation.id == annotation_id, db.Annotation.submitted_at.is_(None))
                .values(start_s=start_s, end_s=end_s, labels=json.dumps(list(labels)), rating=rating,
                        feedback=feedback, teaching=teaching, updated_at=clock.now())
            ))
            if not changed.rowcount:
                raise self._not_a_draft(s, annotation_id, "changed")

    def delete_annotation(self, annotation_id: int) -> None:
        """Remove a draft (a submitted annotation is kept: it can only be corrected)."""
        with self.session() as s:
            gone = cast(CursorResult[Any], s.execute(
                delete(db.Annotation)
                .where(db.Annotation.id == annotation_id, db.Annotation.submitted_at.is_(None))
            ))
            if not gone.rowcount:
                raise self._not_a_draft(s, annotation_id, "deleted")

    def correct_annotation(self, annotation_id: int, *, start_s: float, end_s: float,
                           labels: Sequence[str], rating: int | None, feedback: str,
                           teaching: bool) -> int:
        """Store a correction of a submitted annotation as a new, submitted version; returns its id.

        The version corrected is kept unchanged but for ``superseded_at``, set by a conditional
        UPDATE, so of two corrections of one version exactly one is stored.
        """
        now = clock.now()
        with self.session() as s:
            marked = cast(CursorResult[Any], s.execute(
                update(db.Annotation)
                .where(db.Annotation.id == annotation_id, db.Annotation.submitted_at.is_not(None),
                       db.Annotation.superseded_at.is_(None))
                .values(superseded_at=now)
            ))
            old = s.get(db.Annotation, annotation_id) if 1 <= annotation_id <= db.MAX_ID else None
            if old is None:
                raise NotFoundError(f"no annotation {annotation_id}")
            if not marked.rowcount:
                if old.submitted_at is None:
                    raise ConflictError(f"annotation {annotation_id} is a draft: change it instead")
                newer = self._correction_of(s, annotation_id)
                raise ConflictError(f"annotation {annotation_id} was corrected already"
                                    + (f" by annotation {newer}: correct that one" if newer else ""))
            row = db.Annotation(
                media_id=old.media_id, review_item_id=old.review_item_id, author_id=old.author_id,
                start_s=start_s, end_s=end_s, labels=json.dumps(list(labels)), rating=rating,
                feedback=feedback, teaching=teaching, created_at=now, updated_at=now,
                submitted_at=now, supersedes_id=old.id,
            )
            s.add(row)
            s.flush()
            # What was shared with the officer follows the newest version of the annotation.
            s.execute(update(SharedFeedback).where(SharedFeedback.annotation_id == old.id)
                      .values(annotation_id=row.id))
            return row.id

    def correction_of(self, annotation_id: int) -> int | None:
        """The id of the version that corrected this annotation, if one did."""
        with self.session() as s:
            return self._correction_of(s, annotation_id)

    @staticmethod
    def _correction_of(s: Session, annotation_id: int) -> int | None:
        return s.scalar(select(db.Annotation.id).where(db.Annotation.supersedes_id == annotation_id))

    @staticmethod
    def _not_a_draft(s: Session, annotation_id: int, verb: str) -> BwvError:
        row = s.get(db.Annotation, annotation_id) if 1 <= annotation_id <= db.MAX_ID else None
        if row is None:
            return NotFoundError(f"no annotation {annotation_id}")
        when = f" on {clock.as_utc(row.submitted_at):%Y-%m-%d}" if row.submitted_at else ""
        return ConflictError(
            f"annotation {annotation_id} was submitted{when} and cannot be {verb}: save a "
            "correction instead (a new version; this one is kept)"
        )

    def count_item_annotations(self, item_id: int, *, viewer_id: int) -> int:
        """How many annotations of an item this viewer sees (their own drafts and the current
        submitted versions): another reviewer's drafts, which no one else can see or change,
        never count against them."""
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(db.Annotation).where(
                db.Annotation.review_item_id == item_id, db.Annotation.superseded_at.is_(None),
                or_(db.Annotation.author_id == viewer_id,
                    db.Annotation.submitted_at.is_not(None)))) or 0

    def item_annotations(self, item_id: int, *, viewer_id: int) -> list[AnnotationRow]:
        """An item's annotations that this viewer may see: their own, and submitted ones (the
        current version of each: a corrected one is replaced by its correction)."""
        return list(self._annotation_rows(
            and_(db.Annotation.review_item_id == item_id, db.Annotation.superseded_at.is_(None),
                 or_(db.Annotation.author_id == viewer_id, db.Annotation.submitted_at.is_not(None))),
            order=(db.Annotation.start_s, db.Annotation.id),
        ))

    def search_annotations(self, query: AnnotationQuery) -> list[AnnotationRow]:
        """Submitted annotations matching a trainer's search, newest first (current versions:
        a corrected annotation is found as its correction)."""
        a = db.Annotation
        cond: list[Any] = [a.submitted_at.is_not(None), a.superseded_at.is_(None)]
        if query.teaching is not None:
            cond.append(a.teaching.is_(query.teaching))
        if query.min_rating is not None:
            cond.append(a.rating >= query.min_rating)
        if query.max_rating is not None:
            cond.append(a.rating <= query.max_rating)
        if query.submitted_from is not None:
            cond.append(a.submitted_at >= datetime.combine(query.submitted_from, time(), tzinfo=UTC))
        if query.submitted_to is not None:
            cond.append(a.submitted_at < datetime.combine(query.submitted_to + timedelta(days=1), time(), tzinfo=UTC))
        if query.text:
            pattern = f"%{escape_like(query.text.lower())}%"
            said = select(db.Segment.id).where(
                db.Segment.media_id == a.media_id, db.Segment.end_s > a.start_s,
                db.Segment.start_s < a.end_s, func.lower(db.Segment.text).like(pattern, escape="/"),
            )
            cond.append(or_(func.lower(a.feedback).like(pattern, escape="/"), exists(said)))
        flagged: set[int] = set()
        if query.category:
            with self.session() as s:  # annotations over a flag of the category also count
                flagged = set(s.scalars(
                    select(a.id).join(db.Flag, db.Flag.media_id == a.media_id).where(
                        db.Flag.start_s < a.end_s, db.Flag.end_s > a.start_s,
                        or_(db.Flag.category == query.category,
                            db.Flag.category.like(prefix_pattern(f"{query.category}."), escape="/")),
                    )
                ))
        out = []
        for row in self._annotation_rows(and_(*cond), order=(a.submitted_at.desc(), a.id.desc())):
            labels = row.labels
            if query.label and query.label not in labels:
                continue
            if query.category and query.category not in labels and row.annotation.id not in flagged:
                continue
            out.append(row)
            if len(out) >= query.limit:
                break
        return out

    def _annotation_rows(self, where: Any, *, order: Sequence[Any]) -> Iterator[AnnotationRow]:
        with self.session() as s:
            rows = s.execute(
                select(db.Annotation, db.UserAccount.name, first_name(db.Annotation.media_id))
                .join(db.UserAccount, db.UserAccount.id == db.Annotation.author_id)
                .where(where).order_by(*order)
            ).all()
        for annotation, author, name in rows:
            yield AnnotationRow(annotation, author, name or f"media {annotation.media_id}")
