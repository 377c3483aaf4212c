"""Database queries of the review app: accounts, sessions, the queue, claims, annotations.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import aliased

from pipeline import clock
from pipeline.errors import NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries, escape_like, first_name, prefix_pattern
from pipeline.store.meta_tables import FootageMeta
from pipeline.store.metadata import media_in_teams, media_with_meta


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page shows. Empty fields do not filter."""

    statuses: tuple[str, ...] = ("new", "claimed")
    categories: tuple[str, ...] = ()
    mine_user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "priority"
    #: Words in the file's name or in what a flag of the item quotes (any case).
    text: str = ""
    #: Footage metadata (issue 18): these teams' footage (and, with ``or_no_team``, footage no
    #: manifest gave a team), one officer's, one incident type's, one shift's.
    teams: tuple[str, ...] = ()
    or_no_team: bool = False
    officer_id: str = ""
    incident_type: str = ""
    shift: str = ""
    #: "flagged" or "routine" (a sample of footage with no flags); empty: both.
    kind: str = ""


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue page."""

    id: int
    media_id: int
    name: str
    ingested_at: datetime
    start_s: float
    end_s: float
    media_duration_s: float | None
    priority: int
    status: str
    categories: tuple[str, ...]
    holder: str | None
    claimed_by: int | None
    reviewed_by: int | None
    flags_by_family: dict[str, int] = field(default_factory=dict)
    #: Who reviewed or dismissed it; why it was dismissed or last released, and by whom.
    reviewer: str | None = None
    reason: str | None = None
    reason_by: str | None = None
    #: The footage's team and incident type, where a manifest gave them.
    team: str | None = None
    incident_type: str | None = None
    kind: str = "flagged"


@dataclass(frozen=True)
class ItemView:
    """A review item with what the review page needs around it."""

    item: db.ReviewItem
    media: db.Media
    name: str
    holder: str | None


@dataclass(frozen=True)
class ClaimRow:
    """An item someone holds now, for the admins' list of claims."""

    item_id: int
    media_id: int
    name: str
    holder_id: int
    holder: str
    holder_disabled: bool
    claimed_at: datetime | None
    priority: int


class ReviewQueries(Queries):
    """The review app's queries (mixed into ``Store``)."""

    # --- the queue ---------------------------------------------------------------------------

    def queue_page(self, flt: QueueFilter, *, offset: int, limit: int) -> tuple[list[QueueRow], int]:
        """One page of review items and how many match in all."""
        holder, reviewer, closer = (aliased(db.UserAccount) for _ in range(3))
        conditions: list[Any] = []
        if flt.statuses:
            conditions.append(db.ReviewItem.status.in_(flt.statuses))
        if flt.categories:
            # The items with a flag in these categories, found in one pass over the flags rather
            # than a correlated EXISTS per candidate item; the sub-category patterns are literals,
            # not `? || '%'` concatenated again for every flag row (scripts/bench_review.py).
            flagged = select(db.Flag.review_item_id).where(
                db.Flag.review_item_id.is_not(None),
                or_(db.Flag.category.in_(flt.categories),  # a rubric's sub-categories count too
                    *(db.Flag.category.like(prefix_pattern(f"{c}."), escape="/")
                      for c in flt.categories)),
            )
            conditions.append(db.ReviewItem.id.in_(flagged))
        if flt.mine_user_id is not None:
            conditions.append(or_(db.ReviewItem.claimed_by == flt.mine_user_id,
                                  db.ReviewItem.reviewed_by == flt.mine_user_id))
        if flt.date_from or flt.date_to:
            dated = select(db.Media.id)
            if flt.date_from:
                dated = dated.where(db.Media.created_at >= datetime.combine(flt.date_from, time(), tzinfo=UTC))
            if flt.date_to:
                end = datetime.combine(flt.date_to + timedelta(days=1), time(), tzinfo=UTC)
                dated = dated.where(db.Media.created_at < end)
            conditions.append(db.ReviewItem.media_id.in_(dated))
        if flt.text.strip():
            conditions.append(_text_condition(flt.text))
        if flt.teams:
            conditions.append(media_in_teams(flt.teams, or_no_team=flt.or_no_team))
        meta = {k: v for k, v in (("officer_id", flt.officer_id), ("shift", flt.shift),
                                  ("incident_type", flt.incident_type)) if v}
        if meta:
            conditions.append(db.ReviewItem.media_id.in_(media_with_meta(**meta)))
        if flt.kind:
            conditions.append(db.ReviewItem.kind == flt.kind)
        where = and_(*conditions) if conditions else and_(True)
        order = ((db.ReviewItem.priority.desc(), db.ReviewItem.id) if flt.sort == "priority"
                 else (db.ReviewItem.created_at.desc(), db.ReviewItem.id.desc()))
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(db.ReviewItem).where(where)) or 0
            # Pick the page's ids on review_item alone, then join the file, its name and the
            # holder for those rows only, not for every match before the sort.
            page = select(db.ReviewItem.id).where(where).order_by(*order).offset(offset).limit(limit)
            rows = s.execute(
                select(db.ReviewItem, db.Media.created_at, db.Media.duration_s,
                       first_name(db.ReviewItem.media_id), holder.name, reviewer.name, closer.name,
                       FootageMeta.team, FootageMeta.incident_type)
                .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                .outerjoin(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                .outerjoin(holder, holder.id == db.ReviewItem.claimed_by)
                .outerjoin(reviewer, reviewer.id == db.ReviewItem.reviewed_by)
                .outerjoin(closer, closer.id == db.ReviewItem.reason_by)
                .where(db.ReviewItem.id.in_(page)).order_by(*order)
            ).all()
            ids = [row[0].id for row in rows]
            families: dict[int, dict[str, int]] = {i: {} for i in ids}
            for item_id, family, count in s.execute(
                select(db.Flag.review_item_id, db.Flag.family, func.count())
                .where(db.Flag.review_item_id.in_(ids))
                .group_by(db.Flag.review_item_id, db.Flag.family)
            ):
                if item_id is not None:
                    families[item_id][family] = count
        return [
            QueueRow(
                id=item.id, media_id=item.media_id, name=name or f"media {item.media_id}",
                ingested_at=clock.as_utc(created), start_s=item.start_s, end_s=item.end_s,
                media_duration_s=duration, priority=item.priority, status=item.status,
                categories=tuple(c for c in item.categories.split(",") if c),
                holder=holder_name, claimed_by=item.claimed_by, reviewed_by=item.reviewed_by,
                flags_by_family=families[item.id], reviewer=reviewer_name, reason=item.reason,
                reason_by=closer_name, team=team, incident_type=incident, kind=item.kind,
            )
            for (item, created, duration, name, holder_name, reviewer_name, closer_name, team,
                 incident) in rows
        ], total

    def next_open_item(self, *, not_released_by: int | None = None,
                       teams: Sequence[str] = ()) -> int | None:
        """The id of the most urgent item nobody holds (the queue's first row), if any; with
        ``not_released_by``, items that user gave back come last (they released them for a
        reason: "next" should not hand them straight back)."""
        order: list[Any] = [db.ReviewItem.priority.desc(), db.ReviewItem.id]
        if not_released_by is not None:
            theirs = and_(db.ReviewItem.reason_by == not_released_by, db.ReviewItem.reason.is_not(None))
            order.insert(0, case((theirs, 1), else_=0))
        where = [db.ReviewItem.status == "new"]
        if teams:  # the TIP's teams, and footage with no team
            where.append(media_in_teams(teams, or_no_team=True))
        with self.session() as s:
            return s.scalar(select(db.ReviewItem.id).where(*where).order_by(*order).limit(1))

    def media_to_review(self) -> list[db.Media]:
        """Processed files with open review items, most urgent first (their proxies are made first)."""
        top = func.max(db.ReviewItem.priority)
        with self.session() as s:
            return list(s.scalars(
                select(db.Media).join(db.ReviewItem, db.ReviewItem.media_id == db.Media.id)
                .where(db.ReviewItem.status.in_(("new", "claimed")), db.Media.state == "done")
                .group_by(db.Media.id).order_by(top.desc(), db.Media.id)
            ))

    def item_view(self, item_id: int) -> ItemView:
        """A review item, its media and its file name."""
        holder = aliased(db.UserAccount)
        with self.session() as s:
            row = s.execute(
                select(db.ReviewItem, db.Media, first_name(db.ReviewItem.media_id), holder.name)
                .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                .outerjoin(holder, holder.id == db.ReviewItem.claimed_by)
                .where(db.ReviewItem.id == item_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no review item {item_id}")
        item, media, name, holder_name = row
        return ItemView(item=item, media=media, name=name or f"media {media.id}", holder=holder_name)

    def item_flags(self, item_id: int) -> list[db.Flag]:
        """The flags of one review item, by time."""
        with self.session() as s:
            return list(s.scalars(
                select(db.Flag).where(db.Flag.review_item_id == item_id)
                .order_by(db.Flag.start_s, db.Flag.id)
            ))

    def flag_feedback_kinds(self, flag_ids: Sequence[int], *, reviewer: str) -> dict[int, str]:
        """This reviewer's judgement of each of these flags, if any."""
        with self.session() as s:
            return {
                flag_id: kind for flag_id, kind in s.execute(
                    select(db.RubricFeedback.flag_id, db.RubricFeedback.kind).where(
                        db.RubricFeedback.flag_id.in_(list(flag_ids)),
                        db.RubricFeedback.reviewer == reviewer,
                    )
                ) if flag_id is not None
            }

    def missed_moments(self, media_id: int, *, reviewer: str) -> list[db.RubricFeedback]:
        """The moments this reviewer added to a file as missed by the rubric."""
        with self.session() as s:
            return list(s.scalars(
                select(db.RubricFeedback).where(
                    db.RubricFeedback.media_id == media_id, db.RubricFeedback.kind == "missed",
                    db.RubricFeedback.reviewer == reviewer,
                ).order_by(db.RubricFeedback.start_s)
            ))

    def flag(self, flag_id: int) -> db.Flag:
        """One flag."""
        with self.session() as s:
            flag = s.get(db.Flag, flag_id)
        if flag is None:
            raise NotFoundError(f"no flag {flag_id}")
        return flag

    def segments_between(self, media_id: int, start_s: float, end_s: float) -> list[db.Segment]:
        """Stored segments of a file that overlap a time range."""
        with self.session() as s:
            return list(s.scalars(
                select(db.Segment).where(
                    db.Segment.media_id == media_id, db.Segment.end_s > start_s,
                    db.Segment.start_s < end_s,
                ).order_by(db.Segment.idx)
            ))

    def claim_item(self, item_id: int, user_id: int) -> bool:
        """Take a new item. One conditional UPDATE: of two claims, exactly one changes a row."""
        with self.session() as s:
            result = cast(CursorResult[Any], s.execute(
                update(db.ReviewItem)
                .where(db.ReviewItem.id == item_id, db.ReviewItem.status == "new")
                .values(status="claimed", claimed_by=user_id, claimed_at=clock.now())
            ))
            return bool(result.rowcount)

    def release_item(self, item_id: int, user_id: int, *, reason: str | None = None,
                     by: int | None = None) -> bool:
        """Give back an item this user holds; ``by`` gave it back (the holder, or an admin) and
        ``reason`` says why."""
        with self.session() as s:
            result = cast(CursorResult[Any], s.execute(
                update(db.ReviewItem)
                .where(db.ReviewItem.id == item_id, db.ReviewItem.status == "claimed",
                       db.ReviewItem.claimed_by == user_id)
                .values(status="new", claimed_by=None, claimed_at=None, reason=reason,
                        reason_by=user_id if by is None else by)
            ))
            return bool(result.rowcount)

    def release_claims_of(self, user_id: int, *, reason: str | None = None) -> list[int]:
        """Give back every item this user holds (their account was disabled, say); their ids.

        Their drafts stay drafts, seen by no one else; the item goes back to the queue, with
        ``reason`` as why (given back by no one in particular).
        """
        with self.session() as s:
            ids = list(s.scalars(
                update(db.ReviewItem)
                .where(db.ReviewItem.status == "claimed", db.ReviewItem.claimed_by == user_id)
                .values(status="new", claimed_by=None, claimed_at=None, reason=reason, reason_by=None)
                .returning(db.ReviewItem.id)
            ))
        return sorted(ids)

    def claimed_items(self) -> list[ClaimRow]:
        """Every item held now, with who holds it and since when, longest held first."""
        holder = aliased(db.UserAccount)
        with self.session() as s:
            rows = s.execute(
                select(db.ReviewItem, first_name(db.ReviewItem.media_id), holder.name, holder.disabled)
                .join(holder, holder.id == db.ReviewItem.claimed_by)
                .where(db.ReviewItem.status == "claimed")
                .order_by(db.ReviewItem.claimed_at, db.ReviewItem.id)
            ).all()
        return [
            ClaimRow(item.id, item.media_id, name or f"media {item.media_id}", item.claimed_by or 0,
                     holder_name, bool(disabled),
                     clock.as_utc(item.claimed_at) if item.claimed_at else None, item.priority)
            for item, name, holder_name, disabled in rows
        ]

    def finish_item(self, item_id: int, user_id: int, *, status: str, reason: str | None = None) -> bool:
        """Mark an item this user holds reviewed or dismissed (``reason``: why), submitting their
        drafts on it. A reviewed item keeps no reason: one given at an earlier release is done with."""
        now = clock.now()
        with self.session() as s:
            result = cast(CursorResult[Any], s.execute(
                update(db.ReviewItem)
                .where(db.ReviewItem.id == item_id, db.ReviewItem.status == "claimed",
                       db.ReviewItem.claimed_by == user_id)
                .values(status=status, claimed_by=None, claimed_at=None,
                        reviewed_by=user_id, reviewed_at=now, reason=reason,
                        reason_by=user_id if reason is not None else None)
            ))
            if not result.rowcount:
                return False
            s.execute(
                update(db.Annotation)
                .where(db.Annotation.review_item_id == item_id, db.Annotation.author_id == user_id,
                       db.Annotation.submitted_at.is_(None))
                .values(submitted_at=now)
            )
            return True




def _text_condition(text: str) -> Any:
    """Items whose file arrived under a name holding ``text``, or with a flag quoting it (any case).

    Two uncorrelated IN lists, each one pass over a table (file names, then the item's flags,
    found by the indexed ``review_item_id``), not a correlated search per candidate item.
    """
    pattern = f"%{escape_like(text.strip().lower())}%"
    named = select(db.MediaName.media_id).where(func.lower(db.MediaName.name).like(pattern, escape="/"))
    quoted = select(db.Flag.review_item_id).where(
        db.Flag.review_item_id.is_not(None), func.lower(db.Flag.text).like(pattern, escape="/"))
    return or_(db.ReviewItem.media_id.in_(named), db.ReviewItem.id.in_(quoted))
