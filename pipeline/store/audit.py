"""The audit log: an append-only table, each row hash-chained to the one before it.

A mixin of :class:`pipeline.store.Store`; every view, stream, export, annotation and
deletion writes one row through :meth:`AuditQueries.audit`.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import IntegrityError

from pipeline import clock
from pipeline.errors import StoreError
from pipeline.store import schema as db
from pipeline.store.base import Queries

_GENESIS = "0" * 64
#: The PostgreSQL advisory lock that queues audit appends ("bwv" in ASCII).
_AUDIT_LOCK = 0x627776


def _stamp(at: datetime) -> str:
    """A timestamp as hashed in the audit chain (SQLite hands back naive UTC)."""
    return clock.as_utc(at).isoformat()


class AuditQueries(Queries):
    """Appending to and checking the audit chain (mixed into ``Store``)."""

    def audit(self, *, actor: str, action: str, obj: str, detail: str | None = None) -> None:
        """Append one hash-chained audit row.

        On PostgreSQL appends queue on an advisory lock held for the transaction,
        so many writers at once never collide; SQLite's write lock does the same.
        The unique ``prev_hash`` still refuses a fork, and a refused append retries.
        """
        for attempt in range(20):
            try:
                with self.session() as s:
                    if self.engine.dialect.name == "postgresql":
                        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
                    prev = s.scalar(select(db.Audit.row_hash).order_by(db.Audit.id.desc()).limit(1))
                    prev = prev or _GENESIS
                    at = clock.now()
                    payload = json.dumps([prev, _stamp(at), actor, action, obj, detail])
                    s.add(db.Audit(
                        at=at, actor=actor, action=action, object=obj, detail=detail,
                        prev_hash=prev, row_hash=hashlib.sha256(payload.encode()).hexdigest(),
                    ))
                    return
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))  # another writer was first
        raise StoreError("could not append to the audit log after 20 attempts")

    def verify_audit_chain(self) -> bool:
        """Whether every audit row chains to the one before it."""
        with self.session() as s:
            prev = _GENESIS
            for row in s.scalars(select(db.Audit).order_by(db.Audit.id)):
                payload = json.dumps(
                    [prev, _stamp(row.at), row.actor, row.action, row.object, row.detail]
                )
                if row.prev_hash != prev or row.row_hash != hashlib.sha256(payload.encode()).hexdigest():
                    return False
                prev = row.row_hash
            return True

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
