"""An account's signed-in sessions, for the page where a person sees and ends them.

A mixin of :class:`pipeline.store.Store`. Sessions are opened, checked and
swept by :mod:`pipeline.store.accounts`; this lists and ends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult

from pipeline.store import schema as db
from pipeline.store.base import Queries


class SessionQueries(Queries):
    """Listing and ending one account's sessions (mixed into ``Store``)."""

    def user_sessions(self, user_id: int) -> list[db.WebSession]:
        """An account's stored sessions, oldest first (expired ones may not be swept yet)."""
        with self.session() as s:
            return list(s.scalars(
                select(db.WebSession).where(db.WebSession.user_id == user_id)
                .order_by(db.WebSession.created_at, db.WebSession.id)
            ))

    def end_user_sessions(self, user_id: int, session_ids: Sequence[str]) -> int:
        """Sign out these sessions of this account (another's are never touched); how many ended."""
        if not session_ids:
            return 0
        with self.session() as s:
            ended = cast(CursorResult[Any], s.execute(
                delete(db.WebSession)
                .where(db.WebSession.user_id == user_id, db.WebSession.id.in_(list(session_ids)))
            ))
            return int(ended.rowcount)
