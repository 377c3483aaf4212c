"""The one place bwv reads the time, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """A stored time as timezone-aware UTC.

    SQLite hands back the naive UTC the clock wrote; PostgreSQL an aware time in
    the session's time zone. Either way the result compares with :func:`now`.
    """
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
