"""Annotations: a TIP's feedback on a time range of an interaction, and the trainer's search.

A mixin of :class:`pipeline.store.Store`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select

from pipeline import clock
from pipeline.errors import NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries, escape_like, first_name, prefix_pattern


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
        """Change an annotation's range, labels, rating, feedback and mark."""
        with self.session() as s:
            row = s.get(db.Annotation, annotation_id)
            if row is None:
                raise NotFoundError(f"no annotation {annotation_id}")
            row.start_s, row.end_s, row.labels = start_s, end_s, json.dumps(list(labels))
            row.rating, row.feedback, row.teaching = rating, feedback, teaching
            row.updated_at = clock.now()

    def delete_annotation(self, annotation_id: int) -> None:
        """Remove an annotation."""
        with self.session() as s:
            s.execute(delete(db.Annotation).where(db.Annotation.id == annotation_id))

    def item_annotations(self, item_id: int, *, viewer_id: int) -> list[AnnotationRow]:
        """An item's annotations that this viewer may see: their own, and submitted ones."""
        return list(self._annotation_rows(
            and_(db.Annotation.review_item_id == item_id,
                 or_(db.Annotation.author_id == viewer_id, db.Annotation.submitted_at.is_not(None))),
            order=(db.Annotation.start_s, db.Annotation.id),
        ))

    def search_annotations(self, query: AnnotationQuery) -> list[AnnotationRow]:
        """Submitted annotations matching a trainer's search, newest first."""
        a = db.Annotation
        cond: list[Any] = [a.submitted_at.is_not(None)]
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
