"""Review-app accounts, signed-in sessions and sign-in throttles.

A mixin of :class:`pipeline.store.Store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries

_Row = db.LoginThrottle


def web_actor(name: str) -> str:
    """How a review-app user appears in the audit log and in rubric feedback: ``web:NAME``."""
    return f"web:{name}"


@dataclass(frozen=True)
class ThrottleRule:
    """How many failed sign-ins a key may have before it waits, and how the wait grows."""

    free_failures: int
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    #: A key with no failure for this long starts afresh.
    forget_after: timedelta = timedelta(days=1)

    def delay(self, failures: int) -> timedelta | None:
        """The wait after this many failures: none before ``free_failures``, then
        ``first_delay``, doubling with each further failure up to ``max_delay``."""
        if failures < self.free_failures:
            return None
        return min(self.first_delay * 2 ** min(failures - self.free_failures, 30), self.max_delay)


@dataclass(frozen=True)
class ThrottleKey:
    """One counter a sign-in attempt is charged to (see :class:`db.LoginThrottle`)."""

    scope: str
    name: str
    source: str
    rule: ThrottleRule

    def where(self) -> Any:
        """The SQL condition for this key's row."""
        return and_(_Row.scope == self.scope, _Row.name == self.name, _Row.source == self.source)


@dataclass(frozen=True)
class Throttled:
    """A sign-in attempt refused without its password being checked: the key that waits."""

    key: ThrottleKey
    failures: int
    until: datetime


class AccountQueries(Queries):
    """Accounts, sessions and sign-in attempts (mixed into ``Store``)."""

    def add_user(self, name: str, *, role: str, password_hash: str,
                 officer_id: str | None = None) -> int:
        """Create an account; a taken name (or an officer id another account has) is an error."""
        now = clock.now()
        try:
            with self.session() as s:
                user = db.UserAccount(name=name, role=role, password_hash=password_hash,
                                      disabled=False, created_at=now, updated_at=now,
                                      officer_id=officer_id)
                s.add(user)
                s.flush()
                return user.id
        except IntegrityError as exc:
            if officer_id is not None and self.user_by_officer_id(officer_id) is not None:
                raise InvalidRequestError(
                    f"officer {officer_id} already has an account") from exc
            raise InvalidRequestError(f"a user named {name!r} already exists") from exc

    def user_by_officer_id(self, officer_id: str) -> db.UserAccount | None:
        """The account of the officer with this collar number."""
        with self.session() as s:
            return s.scalar(select(db.UserAccount).where(db.UserAccount.officer_id == officer_id))

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
                    password_hash: str | None = None,
                    keep_session: str | None = None) -> db.UserAccount:
        """Change an account; disabling it or changing its password or role signs it out
        everywhere (but for the session ``keep_session``, the hash of one to leave open)."""
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
                s.execute(delete(db.WebSession).where(db.WebSession.user_id == user_id,
                                                      db.WebSession.id != (keep_session or "")))
            return user

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

    def take_sign_in_attempt(self, keys: Sequence[ThrottleKey]) -> Throttled | None:
        """Count one failed sign-in against every key at once, unless one of them must wait.

        The attempt is counted before its password is checked, in one transaction that holds
        the keys' rows (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write lock that
        its first statement, an insert, takes), so of many attempts at once no more are let
        through than the rules allow. A right password gives the count back
        (:meth:`sign_in_succeeded`). Returns the key that waits longest (counting nothing),
        or None.
        """
        now = clock.now()
        ordered = sorted(keys, key=lambda k: (k.scope, k.name, k.source))  # one lock order
        with self.session() as s:
            for key in ordered:
                s.execute(self._insert_missing(key, now))
            found = s.scalars(select(_Row).where(or_(*(key.where() for key in ordered)))
                              .order_by(_Row.scope, _Row.name, _Row.source).with_for_update())
            rows = {(row.scope, row.name, row.source): row for row in found}
            pairs = [(key, rows[(key.scope, key.name, key.source)]) for key in ordered]
            waits = [Throttled(key, row.failures, clock.as_utc(row.locked_until))
                     for key, row in pairs
                     if row.locked_until is not None and clock.as_utc(row.locked_until) > now]
            if waits:
                return max(waits, key=lambda wait: wait.until)
            for key, row in pairs:
                if clock.as_utc(row.last_failed_at) < now - key.rule.forget_after:
                    row.failures = 0  # quiet long enough: start afresh
                row.failures += 1
                row.last_failed_at = now
                delay = key.rule.delay(row.failures)
                row.locked_until = now + delay if delay else None
        self._forget_quiet_keys(ordered, now)
        return None

    def _forget_quiet_keys(self, keys: Sequence[ThrottleKey], now: datetime) -> None:
        """Drop the rows of keys that no rule remembers any more (the table stays small)."""
        with self.session() as s:
            for rule in {key.rule for key in keys}:
                scopes = sorted({key.scope for key in keys if key.rule == rule})
                s.execute(delete(_Row).where(
                    _Row.scope.in_(scopes), _Row.last_failed_at < now - rule.forget_after,
                    or_(_Row.locked_until.is_(None), _Row.locked_until <= now)))

    def _insert_missing(self, key: ThrottleKey, now: datetime) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING`` of a key's row with no failures."""
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        return insert(_Row).values(
            scope=key.scope, name=key.name, source=key.source, failures=0, last_failed_at=now,
            locked_until=None,
        ).on_conflict_do_nothing(index_elements=["scope", "name", "source"])

    def sign_in_succeeded(self, keys: Sequence[ThrottleKey]) -> None:
        """Give back the count of an attempt whose password was right: its name's keys start
        afresh; an address key only loses the one failure counted for it."""
        with self.session() as s:
            for key in sorted(keys, key=lambda k: (k.scope, k.name, k.source)):
                if key.scope != "address":
                    s.execute(delete(_Row).where(key.where()))
                    continue
                s.execute(update(_Row).where(key.where()).values(
                    failures=case((_Row.failures > 0, _Row.failures - 1), else_=0),
                    locked_until=case((_Row.failures - 1 < key.rule.free_failures, None),
                                      else_=_Row.locked_until)))

    def list_throttles(self, *, limit: int = 500) -> list[db.LoginThrottle]:
        """Keys with failures counted, the latest failure first."""
        with self.session() as s:
            return list(s.scalars(select(_Row).where(_Row.failures > 0)
                                  .order_by(_Row.last_failed_at.desc(), _Row.id.desc())
                                  .limit(limit)))

    def clear_throttle(self, throttle_id: int) -> db.LoginThrottle:
        """Forget a key's failures (and so its wait); returns the row as it was."""
        with self.session() as s:
            row = s.get(_Row, throttle_id)
            if row is None:
                raise NotFoundError(f"no sign-in throttle {throttle_id} (it may have been cleared "
                                    "or forgotten already)")
            s.delete(row)
            return row
