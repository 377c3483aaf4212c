"""Queries of the feedback TIPs share with officers (issue 18, part 2): sharing a submitted
annotation with the officer who wore the camera, and what the officer sees and says back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from pipeline import clock
from pipeline.errors import ConflictError, InvalidRequestError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import first_name
from pipeline.store.meta_tables import FootageMeta, SharedFeedback
from pipeline.store.routine import RoutineQueries


@dataclass(frozen=True)
class SharedRow:
    """A shared feedback with its annotation, and the footage's name and incident type."""

    shared: SharedFeedback
    annotation: db.Annotation
    name: str
    incident_type: str | None
    recorded_at: datetime | None


class OfficerQueries(RoutineQueries):
    """Feedback shared with officers (mixed into ``Store``)."""

    def footage_officer(self, media_id: int) -> str | None:
        """The collar number of the officer who wore the camera, as the metadata says."""
        with self.session() as s:
            return s.scalar(select(FootageMeta.officer_id)
                            .join(db.Media, db.Media.sha256 == FootageMeta.sha256)
                            .where(db.Media.id == media_id))

    def share_feedback(self, annotation_id: int, *, media_id: int, officer_id: str, note: str,
                       by: int) -> int:
        """Share an annotation with an officer (once: a withdrawn share is shared again)."""
        now = clock.now()
        with self.session() as s:
            old = s.scalar(select(SharedFeedback).where(SharedFeedback.annotation_id == annotation_id))
            if old is not None and old.withdrawn_at is None:
                raise ConflictError(f"annotation {annotation_id} is already shared with the officer")
            if old is not None:  # shared again after a withdrawal: new words, not yet read
                old.officer_id, old.acknowledged_at, old.reply, old.replied_at = (
                    officer_id, None, None, None)
                old.note, old.withdrawn_at, old.shared_at, old.shared_by = note, None, now, by
                return old.id
            row = SharedFeedback(annotation_id=annotation_id, media_id=media_id,
                                 officer_id=officer_id, note=note, shared_by=by, shared_at=now)
            s.add(row)
            try:
                s.flush()
            except IntegrityError as exc:  # shared at the same moment by another request
                raise ConflictError(f"annotation {annotation_id} is already shared") from exc
            return row.id

    def withdraw_feedback(self, annotation_id: int) -> int:
        """Stop showing an annotation's shared feedback to the officer; its id."""
        with self.session() as s:
            row = s.scalar(select(SharedFeedback).where(SharedFeedback.annotation_id == annotation_id,
                                                        SharedFeedback.withdrawn_at.is_(None)))
            if row is None:
                raise NotFoundError(f"annotation {annotation_id} is not shared")
            row.withdrawn_at = clock.now()
            return row.id

    def shared_for_annotations(self, ids: Sequence[int]) -> dict[int, SharedFeedback]:
        """The current share of each of these annotations (withdrawn ones left out)."""
        with self.session() as s:
            return {r.annotation_id: r for r in s.scalars(
                select(SharedFeedback).where(SharedFeedback.annotation_id.in_(list(ids)),
                                             SharedFeedback.withdrawn_at.is_(None)))}

    def _shared_rows(self, *where: Any) -> list[SharedRow]:
        query = (select(SharedFeedback, db.Annotation, first_name(SharedFeedback.media_id),
                        FootageMeta.incident_type, FootageMeta.recorded_at)
                 .join(db.Annotation, db.Annotation.id == SharedFeedback.annotation_id)
                 .join(db.Media, db.Media.id == SharedFeedback.media_id)
                 .join(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                 .where(SharedFeedback.withdrawn_at.is_(None), *where,
                        # Only while the metadata still says the footage is that officer's.
                        FootageMeta.officer_id == SharedFeedback.officer_id)
                 .order_by(SharedFeedback.shared_at.desc(), SharedFeedback.id.desc()))
        with self.session() as s:
            return [SharedRow(sf, ann, name or f"media {sf.media_id}", incident,
                              clock.as_utc(at) if at is not None else None)
                    for sf, ann, name, incident, at in s.execute(query)]

    def shared_with(self, officer_id: str) -> list[SharedRow]:
        """Everything shared with one officer, newest first."""
        return self._shared_rows(SharedFeedback.officer_id == officer_id)

    def shared_one(self, shared_id: int, *, officer_id: str) -> SharedRow:
        """One shared feedback of this officer's (NotFoundError for anyone else's)."""
        rows = self._shared_rows(SharedFeedback.id == shared_id,
                                 SharedFeedback.officer_id == officer_id)
        if not rows:
            raise NotFoundError(f"no feedback {shared_id} shared with you")
        return rows[0]

    def acknowledge_feedback(self, shared_id: int, *, officer_id: str) -> bool:
        """The officer says they have read it; False if they had already."""
        with self.session() as s:
            done = cast(CursorResult[Any], s.execute(
                update(SharedFeedback).where(SharedFeedback.id == shared_id,
                                             SharedFeedback.officer_id == officer_id,
                                             SharedFeedback.withdrawn_at.is_(None),
                                             SharedFeedback.acknowledged_at.is_(None))
                .values(acknowledged_at=clock.now())))
            return bool(done.rowcount)

    def reply_to_feedback(self, shared_id: int, *, officer_id: str, reply: str) -> None:
        """The officer's one reply (acknowledging it too): a conditional UPDATE, so a second
        reply, even sent at the same moment, is refused."""
        now = clock.now()
        mine = (SharedFeedback.id == shared_id, SharedFeedback.officer_id == officer_id,
                SharedFeedback.withdrawn_at.is_(None))
        with self.session() as s:
            done = cast(CursorResult[Any], s.execute(
                update(SharedFeedback).where(*mine, SharedFeedback.reply.is_(None))
                .values(reply=reply, replied_at=now,
                        acknowledged_at=func.coalesce(SharedFeedback.acknowledged_at, now))))
            if done.rowcount:
                return
            if s.scalar(select(SharedFeedback.id).where(*mine)) is None:
                raise NotFoundError(f"no feedback {shared_id} shared with you")
        raise InvalidRequestError("you have replied to this feedback already: one reply each")
