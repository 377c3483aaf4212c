"""Database queries of retention and legal holds.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.orm import Session


class RetentionQueries:
    """Retention's queries (mixed into ``Store``)."""

    def session(self) -> AbstractContextManager[Session]:  # pragma: no cover - Store's
        raise NotImplementedError
