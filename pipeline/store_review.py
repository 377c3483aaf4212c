"""Database queries of the review app: accounts, sessions, the queue, claims, annotations.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from pipeline import clock
from pipeline import schema as db
from pipeline.errors import InvalidRequestError, NotFoundError


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page shows. Empty fields do not filter."""

    statuses: tuple[str, ...] = ("new", "claimed")
    categories: tuple[str, ...] = ()
    mine_user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "priority"


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


@dataclass(frozen=True)
class ItemView:
    """A review item with what the review page needs around it."""

    item: db.ReviewItem
    media: db.Media
    name: str
    holder: str | None


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


def _prefix_pattern(prefix: str) -> str:
    """A LIKE pattern (escape character ``/``) matching strings that start with ``prefix``.

    The same pattern ``startswith(prefix, autoescape=True)`` binds, but as one literal.
    """
    return f"{_escape_like(prefix)}%"


def _first_name(media_id: Any) -> Any:
    return (
        select(db.MediaName.name).where(db.MediaName.media_id == media_id)
        .order_by(db.MediaName.id).limit(1).scalar_subquery()
    )


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


#: How far past a file's recorded duration a marked range may end (rounding in players).
END_TOLERANCE_S = 0.5


def inside_file(start_s: float, end_s: float, duration_s: float | None) -> bool:
    """Whether a time range runs forwards inside a file of this duration."""
    return 0 <= start_s < end_s <= (duration_s or 0.0) + END_TOLERANCE_S


def _escape_like(text: str) -> str:
    """Text for a LIKE pattern with ``/`` as the escape character."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


class ReviewQueries:
    """The review app's queries (mixed into ``Store``)."""

    def session(self) -> AbstractContextManager[Session]:  # pragma: no cover - Store's
        raise NotImplementedError

    # --- accounts ---------------------------------------------------------------------------

    def add_user(self, name: str, *, role: str, password_hash: str) -> int:
        """Create an account; a taken name is an error."""
        now = clock.now()
        try:
            with self.session() as s:
                user = db.UserAccount(name=name, role=role, password_hash=password_hash,
                                      disabled=False, created_at=now, updated_at=now)
                s.add(user)
                s.flush()
                return user.id
        except IntegrityError as exc:
            raise InvalidRequestError(f"a user named {name!r} already exists") from exc

    def user_by_name(self, name: str) -> db.UserAccount | None:
        """An account by its name."""
        with self.session() as s:
            return s.scalar(select(db.UserAccount).where(db.UserAccount.name == name))

    def user_by_id(self, user_id: int) -> db.UserAccount | None:
        """An account by its id."""
        with self.session() as s:
            return s.get(db.UserAccount, user_id)

    def list_users(self) -> list[db.UserAccount]:
        """Every account, by name."""
        with self.session() as s:
            return list(s.scalars(select(db.UserAccount).order_by(db.UserAccount.name)))

    def update_user(self, user_id: int, *, role: str | None = None, disabled: bool | None = None,
                    password_hash: str | None = None) -> db.UserAccount:
        """Change an account; disabling it or changing its password signs it out everywhere."""
        with self.session() as s:
            user = s.get(db.UserAccount, user_id)
            if user is None:
                raise NotFoundError(f"no user {user_id}")
            if role is not None:
                user.role = role
            if disabled is not None:
                user.disabled = disabled
            if password_hash is not None:
                user.password_hash = password_hash
            user.updated_at = clock.now()
            if disabled or password_hash is not None or role is not None:
                s.execute(delete(db.WebSession).where(db.WebSession.user_id == user_id))
            return user

    # --- sessions and sign-in attempts ------------------------------------------------------

    def create_session(self, token_hash: str, *, user_id: int, csrf_token: str,
                       expires_at: datetime) -> None:
        """Store a new signed-in session (and drop sessions that have expired)."""
        now = clock.now()
        with self.session() as s:
            s.execute(delete(db.WebSession).where(db.WebSession.expires_at < now))
            s.add(db.WebSession(id=token_hash, user_id=user_id, csrf_token=csrf_token,
                                created_at=now, last_seen_at=now, expires_at=expires_at))

    def session_user(self, token_hash: str, *, idle: timedelta, absolute: timedelta,
                     touch_after: timedelta) -> tuple[db.WebSession, db.UserAccount] | None:
        """The live session and its enabled user, or None; expired sessions are deleted."""
        now = clock.now()
        with self.session() as s:
            row = s.execute(
                select(db.WebSession, db.UserAccount).join(db.UserAccount)
                .where(db.WebSession.id == token_hash)
            ).first()
            if row is None:
                return None
            web, user = row
            created, seen = clock.as_utc(web.created_at), clock.as_utc(web.last_seen_at)
            if user.disabled or now >= clock.as_utc(web.expires_at) or now - seen >= idle \
                    or now - created >= absolute:
                s.delete(web)
                return None
            if now - seen >= touch_after:  # write at most once a minute per session
                web.last_seen_at = now
            return web, user

    def delete_session(self, token_hash: str) -> None:
        """Sign one session out."""
        with self.session() as s:
            s.execute(delete(db.WebSession).where(db.WebSession.id == token_hash))

    def record_login_attempt(self, name: str, *, client: str, ok: bool) -> None:
        """Remember a sign-in attempt for rate limiting (attempts older than a day are dropped)."""
        with self.session() as s:
            s.execute(delete(db.LoginAttempt).where(db.LoginAttempt.at < clock.now() - timedelta(days=1)))
            s.add(db.LoginAttempt(name=name[:200], client=client[:100], ok=ok, at=clock.now()))

    def failed_logins(self, *, since: datetime, name: str | None = None,
                      client: str | None = None) -> int:
        """Failed attempts since a time for a name or a client address."""
        query = select(func.count()).select_from(db.LoginAttempt).where(
            db.LoginAttempt.ok.is_(False), db.LoginAttempt.at >= since
        )
        if name is not None:
            query = query.where(db.LoginAttempt.name == name)
        if client is not None:
            query = query.where(db.LoginAttempt.client == client)
        with self.session() as s:
            return s.scalar(query) or 0

    # --- the queue ---------------------------------------------------------------------------

    def queue_page(self, flt: QueueFilter, *, offset: int, limit: int) -> tuple[list[QueueRow], int]:
        """One page of review items and how many match in all."""
        holder = aliased(db.UserAccount)
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
                    *(db.Flag.category.like(_prefix_pattern(f"{c}."), escape="/")
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
                       _first_name(db.ReviewItem.media_id), holder.name)
                .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                .outerjoin(holder, holder.id == db.ReviewItem.claimed_by)
                .where(db.ReviewItem.id.in_(page)).order_by(*order)
            ).all()
            ids = [item.id for item, *_ in rows]
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
                flags_by_family=families[item.id],
            )
            for item, created, duration, name, holder_name in rows
        ], total

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
                select(db.ReviewItem, db.Media, _first_name(db.ReviewItem.media_id), holder.name)
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

    def release_item(self, item_id: int, user_id: int) -> bool:
        """Give back an item this user holds."""
        with self.session() as s:
            result = cast(CursorResult[Any], s.execute(
                update(db.ReviewItem)
                .where(db.ReviewItem.id == item_id, db.ReviewItem.status == "claimed",
                       db.ReviewItem.claimed_by == user_id)
                .values(status="new", claimed_by=None, claimed_at=None)
            ))
            return bool(result.rowcount)

    def finish_item(self, item_id: int, user_id: int, *, status: str) -> bool:
        """Mark an item this user holds reviewed or dismissed, submitting their drafts on it."""
        now = clock.now()
        with self.session() as s:
            result = cast(CursorResult[Any], s.execute(
                update(db.ReviewItem)
                .where(db.ReviewItem.id == item_id, db.ReviewItem.status == "claimed",
                       db.ReviewItem.claimed_by == user_id)
                .values(status=status, claimed_by=None, claimed_at=None,
                        reviewed_by=user_id, reviewed_at=now)
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

    # --- annotations -------------------------------------------------------------------------

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
        """One annotation, or None."""
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
            pattern = f"%{_escape_like(query.text.lower())}%"
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
                            db.Flag.category.like(_prefix_pattern(f"{query.category}."), escape="/")),
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
                select(db.Annotation, db.UserAccount.name, _first_name(db.Annotation.media_id))
                .join(db.UserAccount, db.UserAccount.id == db.Annotation.author_id)
                .where(where).order_by(*order)
            ).all()
        for annotation, author, name in rows:
            yield AnnotationRow(annotation, author, name or f"media {annotation.media_id}")

    # --- the audit log -----------------------------------------------------------------------

    def audit_page(self, *, offset: int, limit: int, actor: str | None = None,
                   action: str | None = None) -> tuple[list[db.Audit], int]:
        """Audit rows, newest first, and how many match."""
        cond: list[Any] = []
        if actor:
            cond.append(db.Audit.actor == actor)
        if action:
            cond.append(db.Audit.action.startswith(action, autoescape=True))
        where = and_(*cond) if cond else and_(True)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(db.Audit).where(where)) or 0
            rows = list(s.scalars(
                select(db.Audit).where(where).order_by(db.Audit.id.desc()).offset(offset).limit(limit)
            ))
        return rows, total
