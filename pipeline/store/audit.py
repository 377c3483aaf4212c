"""The audit log: an append-only table, each row chained to the one before it and signed.

A mixin of :class:`pipeline.store.Store`; every view, stream, export, annotation and
deletion writes one row through :meth:`AuditQueries.audit`. A row's hash is an HMAC under
the audit key (:mod:`pipeline.store.audit_key`) of the previous row's hash and the row's
contents; anchors (:mod:`pipeline.store.audit_anchors`) keep the log's size and head
outside the database; :meth:`AuditQueries.verify_audit` checks both
(:mod:`pipeline.store.audit_verify`).

Rows written before an instance had a key keep their plain SHA-256 chain. The first row
signed on such a database is preceded by an ``audit-key-adopted`` row that seals them: it
records how many there were and the hash of the last, under the key.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.errors import BwvError, ConfigError, StoreError
from pipeline.store import schema as db
from pipeline.store.audit_anchors import (
    ADOPTION_NOTE,
    Anchor,
    AuditHead,
    append_anchor,
    read_anchors,
)
from pipeline.store.audit_key import (
    ADOPTED_ACTION,
    ANCHOR_ACTION,
    GENESIS,
    AuditKey,
    anchors_path,
    instance_folder,
    load_audit_key,
    signed_hash,
)
from pipeline.store.audit_verify import AuditVerdict, ChainCheck, check_anchors
from pipeline.store.base import Queries

log = logging.getLogger("bwv.store.audit")

#: The PostgreSQL advisory lock that queues audit appends ("bwv" in ASCII).
_AUDIT_LOCK = 0x627776
#: Who writes the rows bwv adds by itself (the seal of rows written before the key).
SYSTEM_ACTOR = "bwv"


class AuditQueries(Queries):
    """Appending to, anchoring and checking the audit chain (mixed into ``Store``)."""

    #: The instance folder (key file, anchors file); the ``Store`` sets it.
    audit_home: Path | None = None
    _audit_key: AuditKey | None = None

    def audit_folder(self) -> Path:
        """Where this store's audit key and anchors live (see ``audit_key.instance_folder``)."""
        sqlite = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        return instance_folder(self.audit_home, sqlite)

    def audit_anchors_path(self) -> Path:
        """The anchors file: ``BWV_AUDIT_ANCHORS``, else ``audit.anchors`` in the instance folder."""
        return anchors_path(self.audit_folder())

    def audit_key(self, *, create: bool = True) -> AuditKey:
        """The audit key, loaded once (``create``: make the key file if there is none)."""
        if self._audit_key is None:
            self._audit_key = load_audit_key(self.audit_folder(), create=create)
        return self._audit_key

    def audit(self, *, actor: str, action: str, obj: str, detail: str | None = None) -> None:
        """Append one signed, hash-chained audit row.

        On PostgreSQL appends queue on an advisory lock held for the transaction,
        so many writers at once never collide; SQLite's write lock does the same.
        The unique ``prev_hash`` still refuses a fork, and a refused append retries.
        The first signed row of a database seals the unsigned rows before it, and is
        anchored at once.
        """
        key = self.audit_key()
        for attempt in range(20):
            try:
                with self.session() as s:
                    if self.engine.dialect.name == "postgresql":
                        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
                    last = s.execute(select(db.Audit.id, db.Audit.row_hash, db.Audit.key_id)
                                     .order_by(db.Audit.id.desc()).limit(1)).first()
                    prev, first = (last.row_hash, False) if last else (GENESIS, True)
                    if last is not None and last.key_id not in (None, key.key_id):
                        raise ConfigError(
                            f"the audit log is signed with audit key {last.key_id}, but this key "
                            f"({key.source}) is {key.key_id}: set BWV_AUDIT_KEY, or restore the "
                            "key file, to the key the log was signed with")
                    if last is not None and last.key_id is None and not _sealed(s):
                        prev, first = self._seal(s, key, last.id, last.row_hash), True
                    _append(s, key, prev, actor=actor, action=action, obj=obj, detail=detail)
                break
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))  # another writer was first
        else:
            raise StoreError("could not append to the audit log after 20 attempts")
        if first:
            self._anchor_adoption(key)

    def _seal(self, s: Session, key: AuditKey, head_id: int, head_hash: str) -> str:
        """Append the row that seals the unsigned rows written before the key; its hash."""
        walk = ChainCheck(key)
        for row in s.scalars(select(db.Audit).order_by(db.Audit.id)
                             .execution_options(yield_per=1000)):
            walk.add(row)
        detail = {"unsigned_rows": walk.rows, "unsigned_head_id": head_id,
                  "unsigned_head_hash": head_hash,
                  "unsigned_chain": f"broken: {walk.problems[0]}" if walk.problems else "intact"}
        return _append(s, key, head_hash, actor=SYSTEM_ACTOR, action=ADOPTED_ACTION, obj="audit",
                       detail=json.dumps(detail))

    def _anchor_adoption(self, key: AuditKey) -> None:
        """Anchor the first signed row at once, so a log later made to look as if it was
        written before the key cannot pass. Best effort: the nightly anchor follows."""
        try:
            append_anchor(self.audit_anchors_path(), key, self.audit_head(),
                          note=ADOPTION_NOTE)
        except BwvError as exc:
            log.warning("could not anchor the audit log: %s", exc)

    def audit_head(self, *, before: datetime | None = None) -> AuditHead:
        """How many audit rows there are (written before ``before``) and the last of them."""
        query = select(func.count(), func.max(db.Audit.id))
        if before is not None:
            query = query.where(db.Audit.at < before)
        with self.session() as s:
            rows, head_id = s.execute(query).one()
            if not rows:
                return AuditHead(0, None, GENESIS)
            head_hash = s.scalar(select(db.Audit.row_hash).where(db.Audit.id == head_id))
        return AuditHead(int(rows), int(head_id), str(head_hash))

    def anchor_audit(self, *, actor: str, note: str) -> Anchor:
        """Append an anchor of the log as it stands to the anchors file, and record it in
        the log (so a lost anchors file shows too)."""
        key = self.audit_key()
        path = self.audit_anchors_path()
        anchor = append_anchor(path, key, self.audit_head(), note=note)
        self.audit(actor=actor, action=ANCHOR_ACTION, obj="audit", detail=json.dumps({
            "file": str(path), "at": anchor.at, "rows": anchor.rows, "head_id": anchor.head_id,
            "head_hash": anchor.head_hash}))
        return anchor

    def _walk(self, key: AuditKey, positions: frozenset[int] = frozenset()) -> ChainCheck:
        walk = ChainCheck(key, positions=positions)
        with self.session() as s:
            for row in s.scalars(select(db.Audit).order_by(db.Audit.id)
                                 .execution_options(yield_per=1000)):
                walk.add(row)
        return walk

    def verify_audit_chain(self) -> bool:
        """Whether every audit row follows the one before it and matches its signature
        (the anchors aside: :meth:`verify_audit` checks those too)."""
        return not self._walk(self.audit_key(create=False)).problems

    def verify_audit(self) -> AuditVerdict:
        """Check the log against the audit key and the anchors file (``bwv audit verify``).

        A missing key is a :class:`~pipeline.errors.ConfigError`; everything else found
        wrong is listed in the verdict, first bad row first.
        """
        key = self.audit_key(create=False)
        path = self.audit_anchors_path()
        anchors, anchor_problems = read_anchors(path, key)
        walk = self._walk(key, frozenset(a.rows for a in anchors))
        problems = [*walk.problems, *anchor_problems, *check_anchors(walk, anchors, path)]
        return AuditVerdict(rows=walk.rows, unsigned_rows=walk.unsigned_rows,
                            sealed_by=walk.sealed_by, anchors_file=path,
                            last_anchor=anchors[-1] if anchors else None,
                            problems=tuple(problems), hidden=walk.hidden)

    def audit_page(self, *, offset: int, limit: int, actor: str | None = None,
                   action: str | None = None, who: str | None = None,
                   since: date | None = None, until: date | None = None,
                   ) -> tuple[list[db.Audit], int]:
        """Audit rows, newest first, and how many match.

        ``actor`` is one exact actor (``web:alice``); ``who`` is a person's name however the
        row names them (``alice``, ``web:alice``, ``cli:alice``, ``cli:root as alice``) or an
        exact actor when it holds a colon. ``since`` and ``until`` are UTC days, both included.
        """
        cond: list[Any] = []
        if actor:
            cond.append(db.Audit.actor == actor)
        if who and ":" in who:
            cond.append(db.Audit.actor == who)
        elif who:
            cond.append(or_(db.Audit.actor == who, db.Audit.actor.endswith(f":{who}", autoescape=True),
                            db.Audit.actor.endswith(f" as {who}", autoescape=True)))
        if since:
            cond.append(db.Audit.at >= _midnight(since))
        if until:
            cond.append(db.Audit.at < _midnight(until + timedelta(days=1)))
        if action:
            cond.append(db.Audit.action.startswith(action, autoescape=True))
        where = and_(*cond) if cond else and_(True)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(db.Audit).where(where)) or 0
            rows = list(s.scalars(
                select(db.Audit).where(where).order_by(db.Audit.id.desc()).offset(offset).limit(limit)
            ))
        return rows, total


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _sealed(s: Session) -> bool:
    """Whether the unsigned rows before the key were sealed already."""
    return s.scalar(select(db.Audit.id).where(db.Audit.action == ADOPTED_ACTION,
                                              db.Audit.key_id.is_not(None)).limit(1)) is not None


def _append(s: Session, key: AuditKey, prev: str, *, actor: str, action: str, obj: str,
            detail: str | None) -> str:
    """Add one signed row after the row whose hash is ``prev``; its hash."""
    at = clock.now()
    row_hash = signed_hash(key, prev, at, actor, action, obj, detail)
    s.add(db.Audit(at=at, actor=actor, action=action, object=obj, detail=detail,
                   prev_hash=prev, row_hash=row_hash, key_id=key.key_id))
    s.flush()
    return row_hash
