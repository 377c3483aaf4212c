"""Review-app accounts, signed-in sessions and sign-in attempts.

A mixin of :class:`pipeline.store.Store`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries


class AccountQueries(Queries):
    """Accounts, sessions and sign-in attempts (mixed into ``Store``)."""

    def add_user(self, name: str, *, role: str, password_hash: str) -> int:
        """Create an account; a taken name is an error."""
        now = clock.now()
        try:
            with self.session() as s:
                user = db.UserAccount(name=name, role=role, password_hash=password_hash,
                                      disabled=False, created_at=now, updated_at=now)
                s.add(user)
                s.flush()
                return user.id
        except IntegrityError as exc:
            raise InvalidRequestError(f"a user named {name!r} already exists") from exc

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
                    password_hash: str | None = None) -> db.UserAccount:
        """Change an account; disabling it or changing its password signs it out everywhere."""
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
                s.execute(delete(db.WebSession).where(db.WebSession.user_id == user_id))
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

    def record_login_attempt(self, name: str, *, client: str, ok: bool) -> None:
        """Remember a sign-in attempt for rate limiting (attempts older than a day are dropped)."""
        with self.session() as s:
            s.execute(delete(db.LoginAttempt).where(db.LoginAttempt.at < clock.now() - timedelta(days=1)))
            s.add(db.LoginAttempt(name=name[:200], client=client[:100], ok=ok, at=clock.now()))

    def failed_logins(self, *, since: datetime, name: str | None = None,
                      client: str | None = None) -> int:
        """Failed attempts since a time for a name or a client address."""
        query = select(func.count()).select_from(db.LoginAttempt).where(
            db.LoginAttempt.ok.is_(False), db.LoginAttempt.at >= since
        )
        if name is not None:
            query = query.where(db.LoginAttempt.name == name)
        if client is not None:
            query = query.where(db.LoginAttempt.client == client)
        with self.session() as s:
            return s.scalar(query) or 0
