"""Reviewers' judgements of the rubric: flags confirmed or "not relevant", and moments
the rubric missed. ``bwv rubric eval --from-reviews`` scores the rubric against them.

A mixin of :class:`pipeline.store.Store`.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.audit import AuditQueries
from pipeline.store.base import inside_file
from pipeline.store.review import ReviewQueries
from pipeline.taxonomy import TAXONOMY, taxonomy_id


class FeedbackQueries(ReviewQueries, AuditQueries):
    """Reviewers' judgements of the rubric, beside the review queue (mixed into ``Store``)."""

    def record_flag_feedback(
        self, flag_id: int, *, relevant: bool, reviewer: str, note: str | None = None
    ) -> int:
        """A reviewer confirms a flag or marks it "not relevant" (their later word replaces it)."""
        kind = "confirmed" if relevant else "not_relevant"
        with self.session() as s:
            flag = s.get(db.Flag, flag_id)
            if flag is None:
                raise NotFoundError(f"no flag {flag_id}")
            s.execute(delete(db.RubricFeedback).where(
                db.RubricFeedback.flag_id == flag_id, db.RubricFeedback.reviewer == reviewer
            ))
            row = db.RubricFeedback(
                media_id=flag.media_id, flag_id=flag.id, kind=kind, category=flag.category,
                start_s=flag.start_s, end_s=flag.end_s, text=flag.context or flag.text,
                rubric=flag.rubric, note=note, reviewer=reviewer, created_at=clock.now(),
            )
            s.add(row)
            s.flush()
            feedback_id = row.id
        self.audit(actor=reviewer, action=f"rubric-feedback:{kind}", obj=f"flag:{flag_id}", detail=note)
        return feedback_id

    def add_missed_moment(
        self, media_id: int, *, category: str, start_s: float, end_s: float, reviewer: str,
        note: str | None = None,
    ) -> int:
        """A moment the rubric should have flagged, as a reviewer marked it on the timeline."""
        if taxonomy_id(category) not in TAXONOMY:
            raise InvalidRequestError(f"unknown category {category!r}: use a taxonomy id from rubrics/README.md")
        with self.session() as s:
            media = s.get(db.Media, media_id)
            if media is None or media.state != "done":
                raise NotFoundError(f"no transcribed media item {media_id}")
            duration = media.duration_s or 0.0
            if not inside_file(start_s, end_s, duration):
                raise InvalidRequestError(
                    f"time range {start_s:.2f}-{end_s:.2f} s is not inside the file (0-{duration:.2f} s)"
                )
        words = [seg.text for seg in self.segments_between(media_id, start_s, end_s)]
        with self.session() as s:
            row = db.RubricFeedback(
                media_id=media_id, flag_id=None, kind="missed", category=category,
                start_s=start_s, end_s=end_s, text=" ".join(words), rubric=None, note=note,
                reviewer=reviewer, created_at=clock.now(),
            )
            s.add(row)
            s.flush()
            feedback_id = row.id
        self.audit(actor=reviewer, action="rubric-feedback:missed", obj=f"media:{media_id}",
                   detail=f"{category} {start_s:.2f}-{end_s:.2f}")
        return feedback_id

    def confirm_unmarked_flags(self, review_item_id: int, *, reviewer: str) -> int:
        """When an item is marked reviewed, its flags nobody marked "not relevant" count as confirmed."""
        with self.session() as s:
            judged = select(db.RubricFeedback.flag_id).where(db.RubricFeedback.flag_id.is_not(None))
            flags = s.scalars(select(db.Flag).where(
                db.Flag.review_item_id == review_item_id, db.Flag.id.not_in(judged)
            )).all()
            ids = [f.id for f in flags]
        for flag_id in ids:
            self.record_flag_feedback(flag_id, relevant=True, reviewer=reviewer)
        return len(ids)

    def rubric_feedback(self) -> list[tuple[db.RubricFeedback, str | None]]:
        """Every reviewer judgement, with the first name of its media item."""
        first_name = (
            select(db.MediaName.name).where(db.MediaName.media_id == db.RubricFeedback.media_id)
            .order_by(db.MediaName.id).limit(1).scalar_subquery()
        )
        with self.session() as s:
            return [(row, name) for row, name in s.execute(
                select(db.RubricFeedback, first_name).order_by(db.RubricFeedback.id)
            )]
