"""Review-app accounts: argon2 password hashes, sign-in with rate limiting, sessions.

Sessions are server-side: the browser holds a random token, the database
holds only its SHA-256, so deleting the row (sign-out, a disabled account,
a changed password) ends the session at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline import clock
from pipeline.errors import AuthError, InvalidRequestError
from pipeline.store import Store
from pipeline.store import schema as db

log = logging.getLogger("bwv.accounts")

#: NIST SP 800-63B / ASVS 2.1: at least 12 characters, up to 128, no composition rules.
MIN_PASSWORD = 12
MAX_PASSWORD = 128
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")

_hasher = PasswordHasher()  # argon2id, the library's current defaults (RFC 9106 low-memory)
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live and how many failed sign-ins are allowed."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_after: timedelta = timedelta(minutes=1)
    window: timedelta = timedelta(minutes=15)
    max_failures_per_name: int = 5
    max_failures_per_client: int = 20


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token for the cookie and the CSRF token for forms."""

    token: str
    csrf_token: str
    user: db.UserAccount


class RateLimited(AuthError):
    """Too many failed sign-ins; try again later."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def hash_token(token: str) -> str:
    """What the database stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long."""
    if len(password) < MIN_PASSWORD:
        raise InvalidRequestError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequestError(f"the password must have at most {MAX_PASSWORD} characters")


def add_user(store: Store, name: str, *, role: str, password: str, actor: str) -> int:
    """Create an account with an argon2id hash of its password."""
    if not _NAME.match(name):
        raise InvalidRequestError(
            f"user name {name!r} is not allowed: use letters, digits and . _ @ - (at most 100)"
        )
    if role not in db.ROLES:
        raise InvalidRequestError(f"unknown role {role!r}: use one of {', '.join(db.ROLES)}")
    check_password(password)
    user_id = store.add_user(name, role=role, password_hash=_hasher.hash(password))
    store.audit(actor=actor, action="user-add", obj=f"user:{user_id}", detail=f"{name} role={role}")
    return user_id


def set_password(store: Store, user_id: int, password: str, *, actor: str) -> None:
    """Change a password (signs the account out everywhere)."""
    check_password(password)
    store.update_user(user_id, password_hash=_hasher.hash(password))
    store.audit(actor=actor, action="user-password", obj=f"user:{user_id}")


def sign_in(store: Store, name: str, password: str, *, client: str,
            policy: SessionPolicy | None = None) -> SignedIn:
    """Check a name and password and open a session; every attempt is recorded and audited."""
    policy = policy or SessionPolicy()
    since = clock.now() - policy.window
    if (store.failed_logins(since=since, name=name) >= policy.max_failures_per_name
            or store.failed_logins(since=since, client=client) >= policy.max_failures_per_client):
        store.audit(actor=f"web:{name}"[:200], action="login-throttled", obj=f"client:{client}")
        log.warning("sign-in throttled for %r from %s", name, client)
        raise RateLimited("too many failed sign-ins: wait 15 minutes and try again",
                          retry_after_s=int(policy.window.total_seconds()))
    user = store.user_by_name(name)
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and not user.disabled
    store.record_login_attempt(name, client=client, ok=ok)
    store.audit(actor=f"web:{name}"[:200], action="login" if ok else "login-failed",
                obj=f"client:{client}")
    if not ok or user is None:
        raise AuthError("wrong user name or password, or the account is disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        store.update_user(user.id, password_hash=_hasher.hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.create_session(hash_token(token), user_id=user.id, csrf_token=csrf,
                         expires_at=clock.now() + policy.absolute)
    return SignedIn(token=token, csrf_token=csrf, user=user)


def session_user(store: Store, token: str, *, policy: SessionPolicy | None = None,
                 ) -> tuple[db.WebSession, db.UserAccount] | None:
    """The live session for a cookie's token and its user, or None."""
    policy = policy or SessionPolicy()
    if not token or len(token) > 100:
        return None
    return store.session_user(hash_token(token), idle=policy.idle, absolute=policy.absolute,
                              touch_after=policy.touch_after)


def sign_out(store: Store, token: str, *, actor: str) -> None:
    """End a session."""
    store.delete_session(hash_token(token))
    store.audit(actor=actor, action="logout", obj="session")
