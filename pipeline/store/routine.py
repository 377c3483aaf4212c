"""Queries of routine samples (issue 18, part 4): footage the rubric did not flag, and the
samples of it already taken, for :mod:`pipeline.review.routine`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from pipeline import clock
from pipeline.store import schema as db
from pipeline.store.base import first_name
from pipeline.store.meta_tables import FootageMeta
from pipeline.store.metadata import TeamQueries

#: A routine sample's priority: the low band, under every flagged disclosure.
ROUTINE_PRIORITY = 30


@dataclass(frozen=True)
class Unflagged:
    """A processed file with no review item: a routine sample candidate."""

    media_id: int
    officer_id: str | None
    duration_s: float
    done_at: datetime


class RoutineQueries(TeamQueries):
    """Routine samples (mixed into ``Store``)."""

    def _unflagged(self, since: datetime) -> list[tuple[int, str | None, float, datetime, bool]]:
        """(media id, officer, duration, done at, sampled) of files done since ``since`` that
        no flag put in the queue."""
        flagged = select(db.ReviewItem.media_id).where(db.ReviewItem.kind == "flagged")
        routine = select(db.ReviewItem.media_id).where(db.ReviewItem.kind == "routine")
        query = (select(db.Media.id, FootageMeta.officer_id, db.Media.duration_s,
                        db.Media.updated_at, db.Media.id.in_(routine))
                 .outerjoin(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                 .where(db.Media.state == "done", db.Media.updated_at >= since,
                        db.Media.id.not_in(flagged))
                 .order_by(db.Media.id))
        with self.session() as s:
            return [(m, o, float(d or 0.0), clock.as_utc(at), bool(sampled))
                    for m, o, d, at, sampled in s.execute(query)]

    def routine_pool(self, since: datetime) -> tuple[int, list[Unflagged]]:
        """How many unflagged files were done since ``since``, and those not yet sampled."""
        rows = self._unflagged(since)
        return len(rows), [Unflagged(m, o, d, at) for m, o, d, at, sampled in rows
                           if not sampled and d > 0]

    def routine_history(self, since: datetime) -> list[str | None]:
        """The officer of each routine sample taken since ``since``, oldest first."""
        query = (select(FootageMeta.officer_id)
                 .select_from(db.ReviewItem)
                 .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                 .outerjoin(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                 .where(db.ReviewItem.kind == "routine", db.ReviewItem.created_at >= since)
                 .order_by(db.ReviewItem.created_at, db.ReviewItem.id))
        with self.session() as s:
            return list(s.scalars(query))

    def add_routine_item(self, media_id: int, *, end_s: float, actor: str,
                         officer_id: str | None) -> int:
        """Queue a routine sample of a file (its first ``end_s`` seconds); audited."""
        with self.session() as s:
            item = db.ReviewItem(media_id=media_id, start_s=0.0, end_s=end_s,
                                 priority=ROUTINE_PRIORITY, status="new", categories="",
                                 created_at=clock.now(), kind="routine")
            s.add(item)
            s.flush()
            item_id = item.id
        self.audit(actor=actor, action="routine-sample", obj=f"review_item:{item_id}",
                   detail=f"media:{media_id} officer:{officer_id or '(none)'}")
        return item_id

    def routine_misses(self) -> list[tuple[str, str, str | None]]:
        """(category, words, file name) of each moment a TIP marked missed on a routine
        sample: what the rubric misses, found where it was not steering."""
        routine = select(db.ReviewItem.media_id).where(db.ReviewItem.kind == "routine")
        with self.session() as s:
            return [(c, t, n) for c, t, n in s.execute(
                select(db.RubricFeedback.category, db.RubricFeedback.text,
                       first_name(db.RubricFeedback.media_id))
                .where(and_(db.RubricFeedback.kind == "missed",
                            db.RubricFeedback.media_id.in_(routine)))
                .order_by(db.RubricFeedback.id))]

    def routine_counts(self) -> tuple[int, int]:
        """(routine samples reviewed, of those with a missed moment)."""
        missed = select(db.RubricFeedback.media_id).where(db.RubricFeedback.kind == "missed")
        with self.session() as s:
            reviewed = s.scalar(select(func.count()).select_from(db.ReviewItem).where(
                db.ReviewItem.kind == "routine", db.ReviewItem.status == "reviewed")) or 0
            with_miss = s.scalar(select(func.count()).select_from(db.ReviewItem).where(
                db.ReviewItem.kind == "routine", db.ReviewItem.status == "reviewed",
                db.ReviewItem.media_id.in_(missed))) or 0
        return int(reviewed), int(with_miss)
