"""Queries of the team picture (issue 18, part 5): the review items reviewed in a period,
with each one's team and officer, its flags (less those TIPs marked not relevant), the
moments TIPs marked missed and the TIPs' ratings, for :mod:`pipeline.nightly.teams`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from pipeline import clock
from pipeline.store import schema as db
from pipeline.store.base import chunks
from pipeline.store.meta_tables import FootageMeta, SharedFeedback
from pipeline.store.officers import OfficerQueries


@dataclass
class ReviewedItem:
    """One reviewed item as the team picture counts it."""

    item_id: int
    media_id: int
    reviewed_at: datetime
    kind: str
    team: str | None
    officer_id: str | None
    categories: list[str] = field(default_factory=list)  # flags kept (not "not relevant")
    missed: list[str] = field(default_factory=list)  # moments TIPs marked the rubric missed
    ratings: list[int] = field(default_factory=list)  # submitted, current annotations'


class TeamReportQueries(OfficerQueries):
    """The team picture (mixed into ``Store``)."""

    def reviewed_items(self, since: datetime, until: datetime, *,
                       officer_id: str | None = None) -> list[ReviewedItem]:
        """Every item reviewed in [since, until). With ``officer_id``, one officer's, as they
        may see them: ratings only of annotations shared with them, and no moments TIPs
        marked missed (what a TIP has not shared stays with the TIPs)."""
        query = (select(db.ReviewItem.id, db.ReviewItem.media_id, db.ReviewItem.reviewed_at,
                        db.ReviewItem.kind, FootageMeta.team, FootageMeta.officer_id)
                 .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                 .outerjoin(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                 .where(db.ReviewItem.status == "reviewed", db.ReviewItem.reviewed_at >= since,
                        db.ReviewItem.reviewed_at < until)
                 .order_by(db.ReviewItem.id))
        if officer_id is not None:
            query = query.where(FootageMeta.officer_id == officer_id)
        with self.session() as s:
            items = {i: ReviewedItem(i, m, clock.as_utc(at), kind, team, officer)
                     for i, m, at, kind, team, officer in s.execute(query) if at is not None}
            by_media: dict[int, list[ReviewedItem]] = {}
            for item in items.values():
                by_media.setdefault(item.media_id, []).append(item)
            dropped = select(db.RubricFeedback.flag_id).where(
                db.RubricFeedback.kind == "not_relevant", db.RubricFeedback.flag_id.is_not(None))
            for part in chunks(list(items)):
                for item_id, category in s.execute(
                        select(db.Flag.review_item_id, db.Flag.category)
                        .where(db.Flag.review_item_id.in_(part), db.Flag.id.not_in(dropped))):
                    if item_id is not None:
                        items[item_id].categories.append(category)
                rated = (select(db.Annotation.review_item_id, db.Annotation.rating)
                         .where(db.Annotation.review_item_id.in_(part),
                                db.Annotation.submitted_at.is_not(None),
                                db.Annotation.superseded_at.is_(None),
                                db.Annotation.rating.is_not(None)))
                if officer_id is not None:
                    rated = rated.where(db.Annotation.id.in_(
                        select(SharedFeedback.annotation_id)
                        .where(SharedFeedback.withdrawn_at.is_(None))))
                for item_id, rating in s.execute(rated):
                    if item_id is not None and rating is not None:
                        items[item_id].ratings.append(int(rating))
            for part in chunks(list(by_media) if officer_id is None else []):
                for media_id, category in s.execute(
                        select(db.RubricFeedback.media_id, db.RubricFeedback.category)
                        .where(db.RubricFeedback.kind == "missed",
                               db.RubricFeedback.media_id.in_(part))):
                    for item in by_media[media_id]:
                        item.missed.append(category)
        return list(items.values())

