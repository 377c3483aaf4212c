"""The one place bwv reads the time, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)
