"""Database queries of the nightly report.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.

Every query takes a half-open UTC interval ``[start, end)``. Bounds are
timezone-aware UTC: PostgreSQL compares them as instants, and SQLite (which
stores the clock's UTC times as naive text) compares them as the same naive
UTC text, so one query serves both. Datetimes come back timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from pipeline import clock
from pipeline.store import schema as db
from pipeline.store.base import Queries


def _utc(at: datetime | None) -> datetime | None:
    """A stored time as aware UTC (or None)."""
    return None if at is None else clock.as_utc(at)


def _finished_ids(start: datetime, end: datetime) -> Any:
    """Media items whose last stage (``flag``) was done within the interval."""
    return select(db.Job.media_id).where(
        db.Job.stage == "flag", db.Job.state == "done",
        db.Job.finished_at >= start, db.Job.finished_at < end,
    )


class ReportQueries(Queries):
    """The nightly report's queries (mixed into ``Store``)."""

    def report_files(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Media items ingested, finished or quarantined within the interval, oldest first.

        Each row: ``media_id``, ``name`` (the first name it arrived under),
        ``sha256``, ``state``, ``reason``, ``duration_s``, ``flags``,
        ``ingested_at``, ``finished_at`` (when the flag stage was done),
        ``quarantined_at`` (for a quarantined item: when it was quarantined).
        """
        finished = _finished_ids(start, end)
        quarantined = and_(
            db.Media.state == "quarantined", db.Media.updated_at >= start, db.Media.updated_at < end
        )
        ingested = and_(db.Media.created_at >= start, db.Media.created_at < end)
        first_name = (
            select(db.MediaName.name).where(db.MediaName.media_id == db.Media.id)
            .order_by(db.MediaName.id).limit(1).scalar_subquery()
        )
        flags = (
            select(func.count()).select_from(db.Flag).where(db.Flag.media_id == db.Media.id)
            .scalar_subquery()
        )
        finished_at = (
            select(db.Job.finished_at).where(
                db.Job.media_id == db.Media.id, db.Job.stage == "flag", db.Job.state == "done"
            ).scalar_subquery()
        )
        query = (
            select(db.Media, first_name, flags, finished_at)
            .where(or_(ingested, quarantined, db.Media.id.in_(finished)))
            .order_by(db.Media.created_at, db.Media.id)
        )
        with self.session() as s:
            return [
                {
                    "media_id": m.id, "name": name, "sha256": m.sha256, "state": m.state,
                    "reason": m.reason, "duration_s": m.duration_s, "flags": int(n or 0),
                    "ingested_at": _utc(m.created_at), "finished_at": _utc(done_at),
                    "quarantined_at": _utc(m.updated_at) if m.state == "quarantined" else None,
                }
                for m, name, n, done_at in s.execute(query)
            ]

    def report_flags(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Flags of the items finished within the interval: ``category``, ``family``, ``count``."""
        query = (
            select(db.Flag.category, db.Flag.family, func.count())
            .where(db.Flag.media_id.in_(_finished_ids(start, end)))
            .group_by(db.Flag.category, db.Flag.family)
            .order_by(db.Flag.category, db.Flag.family)
        )
        with self.session() as s:
            return [
                {"category": category, "family": family, "count": int(n)}
                for category, family, n in s.execute(query)
            ]

    def report_review_items(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Review items created within the interval, counted by ``priority`` and ``status``."""
        query = (
            select(db.ReviewItem.priority, db.ReviewItem.status, func.count())
            .where(db.ReviewItem.created_at >= start, db.ReviewItem.created_at < end)
            .group_by(db.ReviewItem.priority, db.ReviewItem.status)
            .order_by(db.ReviewItem.priority.desc(), db.ReviewItem.status)
        )
        with self.session() as s:
            return [
                {"priority": int(priority), "status": status, "count": int(n)}
                for priority, status, n in s.execute(query)
            ]

    def report_runs(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Batch runs started within the interval, oldest first (every column of ``batch_run``)."""
        query = (
            select(db.BatchRun)
            .where(db.BatchRun.started_at >= start, db.BatchRun.started_at < end)
            .order_by(db.BatchRun.started_at, db.BatchRun.id)
        )
        with self.session() as s:
            return [
                {
                    "run_id": r.id, "started_at": _utc(r.started_at),
                    "finished_at": _utc(r.finished_at), "state": r.state, "host": r.host,
                    "executor": r.executor, "workers": r.workers, "device": r.device,
                    "model": r.model, "files": r.files, "done": r.done,
                    "quarantined": r.quarantined, "audio_s": r.audio_s, "elapsed_s": r.elapsed_s,
                }
                for r in s.scalars(query)
            ]
