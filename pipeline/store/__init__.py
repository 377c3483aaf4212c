"""All database access: open, migrate, and every query bwv makes.

The same code runs on SQLite (WAL, the embedded default) and PostgreSQL.
Each stage's results are written in one transaction, replacing what an
interrupted earlier attempt may have left, so a stage can always be rerun.
"""

from __future__ import annotations

import fcntl
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.config import Instance
from pipeline.errors import InvalidRequestError, StoreError
from pipeline.store.accounts import AccountQueries
from pipeline.store.annotations import AnnotationQueries
from pipeline.store.feedback import FeedbackQueries
from pipeline.store.media import MediaQueries
from pipeline.store.report import ReportQueries
from pipeline.store.retention import RetentionQueries
from pipeline.store.sessions import SessionQueries
from pipeline.store.speakers import SpeakerQueries
from pipeline.store.teams import TeamReportQueries

#: The PostgreSQL advisory lock that migrating processes take turns on ("bwvm").
_MIGRATION_LOCK = 0x6277766D


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def current_actor() -> str:
    """Who is running a command-line action, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


class Store(MediaQueries, FeedbackQueries, AnnotationQueries, AccountQueries, SessionQueries,
            ReportQueries, RetentionQueries, SpeakerQueries, TeamReportQueries):
    """The bwv database. Its queries are split by area into one mixin per module: media items
    and transcripts (:mod:`pipeline.store.media`, with the job engine's
    :mod:`pipeline.store.jobs`), the review queue (:mod:`~pipeline.store.review`), annotations
    (:mod:`~pipeline.store.annotations`),
    accounts (:mod:`~pipeline.store.accounts`, and each account's list of sessions in
    :mod:`~pipeline.store.sessions`), reviewers' judgements of the rubric
    (:mod:`~pipeline.store.feedback`, with the audit log of :mod:`~pipeline.store.audit`), the
    nightly report (:mod:`~pipeline.store.report`), retention
    (:mod:`~pipeline.store.retention`), who says each line
    (:mod:`~pipeline.store.speakers`) footage metadata (:mod:`~pipeline.store.metadata`), routine samples
    (:mod:`~pipeline.store.routine`) and feedback shared with officers
    (:mod:`~pipeline.store.officers`) and the team picture (:mod:`~pipeline.store.teams`).

    ``home`` is the instance folder that holds the audit key and the anchors file; without
    it, the folder of a SQLite database file, else ``BWV_HOME`` (see
    :func:`pipeline.store.audit_key.instance_folder`).
    """

    def __init__(self, url: str, *, home: Path | None = None) -> None:
        self.url = url
        self.audit_home = home
        try:
            self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds for a bad URL
            raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "before_cursor_execute", _refuse_nul)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema up to date with Alembic (idempotent).

        Processes that open a new instance at once (``bwv watch`` and ``bwv serve`` started
        together) take turns: on PostgreSQL an advisory lock held by the migrating
        transaction, on SQLite (whose DDL is not transactional here) an exclusive lock on a
        file beside the database. The second finds the schema up to date.
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        try:
            with self._migration_lock(), self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreError(f"cannot open the database {self.engine.url!r}: {exc.orig}") from exc

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """On a SQLite file, an exclusive ``flock`` on ``<database>.migrate.lock``."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        lock = Path(f"{database}.migrate.lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the database {self.engine.url!r}: cannot create {lock}: "
                             f"{exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def open_store(url: str, *, home: Path | None = None) -> Store:
    """Open a database and bring its schema up to date (``home``: see :class:`Store`)."""
    store = Store(url, home=home)
    store.migrate()
    return store


def open_instance(instance: Instance) -> Store:
    """Open an instance's database, with its audit key and anchors in its folder."""
    return open_store(instance.db_url, home=instance.home)


def _refuse_nul(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
    """Refuse text holding a NUL character before it reaches the database: PostgreSQL cannot
    store one (its driver fails with an unexpected error) and SQLite would keep it, so both
    refuse it the same way, as a bad request."""
    pending = [parameters]
    while pending:  # a dict, a tuple, or a list of either (executemany): every value in them
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidRequestError("text may not contain the NUL character (\\x00)")
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
