"""Review-app accounts: argon2 password hashes, throttled sign-in, sessions, passwords.

Sessions are server-side: the browser holds a random token, the database
holds only its SHA-256, so deleting the row (sign-out, a disabled account,
a changed password) ends the session at once.

Sign-in is throttled without giving anyone a button that locks others out (issue 14):
failures are counted per name from one client address, per name from one known device
(:mod:`pipeline.review.devices`), and per address whatever the name; past a few, each
further attempt from there waits a delay that doubles up to 15 minutes, refused with
:class:`RateLimited` before its password is checked. Failures from elsewhere, or from a
browser that has signed in as the name before, never delay the name's owner. Each attempt
is counted before the password is checked, under a database lock, so attempts at once
cannot slip past the count.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from pipeline import clock
from pipeline.batch.metadata import OFFICER_ID, canonical_officer
from pipeline.errors import AuthError, InvalidRequestError, NotFoundError
from pipeline.review.devices import DeviceKey
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.accounts import ThrottleKey, ThrottleRule, web_actor
from pipeline.store.base import hidden_character

log = logging.getLogger("bwv.accounts")

#: NIST SP 800-63B / ASVS 2.1: at least 12 characters, up to 128, no composition rules.
MIN_PASSWORD = 12
MAX_PASSWORD = 128
#: zxcvbn's score, 0 to 4, that a new password must reach: 3 is "safely unguessable"
#: (about 10**10 guesses), so common passwords and their variations are refused (ASVS 2.1.7).
MIN_STRENGTH = 3
#: zxcvbn's own limit (its cost grows with length): a longer password is scored on its start.
_SCORED = 72
#: Words a password of this app should not be built on, beside the user's own name.
_APP_WORDS = ("bwv", "body worn video", "bodyworn", "review", "tip", "trauma", "police")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")

_hasher = PasswordHasher()  # argon2id, the library's current defaults (RFC 9106 low-memory)
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live, and how failed sign-ins are throttled.

    ``per_name`` counts one name's failures from one client address (or one known device);
    ``per_address`` counts every failure from one address, but never from known devices.
    """

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_after: timedelta = timedelta(minutes=1)
    per_name: ThrottleRule = ThrottleRule(free_failures=5)
    per_address: ThrottleRule = ThrottleRule(free_failures=100,
                                             forget_after=timedelta(minutes=15))


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token for the cookie, the CSRF token for forms, and the browser's
    known-device cookie (None when no device key was given)."""

    token: str
    csrf_token: str
    user: db.UserAccount
    device_cookie: str | None = None


class RateLimited(AuthError):
    """Too many failed sign-ins from here; try again after ``retry_after_s`` seconds."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


#: Where the failures that make an attempt wait came from, for the message and the audit.
_FROM = {"name": "for this name from this address", "device": "for this name on this device",
         "address": "from this address"}


def hash_token(token: str) -> str:
    """What the database stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str, *, name: str = "") -> None:
    """Refuse a new password that is too short, too long or too easy to guess.

    Easy to guess: a zxcvbn score under :data:`MIN_STRENGTH` (a common password, a word
    with digits, a keyboard walk, the user's name); the message carries zxcvbn's advice.
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidRequestError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequestError(f"the password must have at most {MAX_PASSWORD} characters")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise InvalidRequestError("the password may not hold control characters (such as NUL, "
                                  "tab or newline): no one could type it to sign in")
    result = zxcvbn(password[:_SCORED], user_inputs=[name, *_APP_WORDS] if name else _APP_WORDS)
    if result["score"] < MIN_STRENGTH:
        advice = [result["feedback"]["warning"], *result["feedback"]["suggestions"]]
        said = " ".join(a for a in advice if a) or "Add another word or two."
        raise InvalidRequestError(
            f"the password is too easy to guess (strength {result['score']} of 4, at least "
            f"{MIN_STRENGTH} needed): {said}")


def check_name(name: str) -> None:
    """Refuse a user name that is not letters, digits and ``. _ @ -`` (at most 100)."""
    if not _NAME.match(name):
        raise InvalidRequestError(
            f"user name {name!r} is not allowed: use letters, digits and . _ @ - (at most 100)"
        )


def check_officer_id(role: str, officer_id: str | None) -> str | None:
    """An officer's collar number, required for the officer role and refused for the others."""
    officer_id = canonical_officer(officer_id or "") or None
    if role == "officer" and officer_id is None:
        raise InvalidRequestError("an officer's account needs their officer id (collar number)")
    if role != "officer" and officer_id is not None:
        raise InvalidRequestError("only an officer's account has an officer id")
    if officer_id is not None and not OFFICER_ID.match(officer_id):
        raise InvalidRequestError(f"officer id {officer_id[:40]!r} must be letters and digits "
                                  "(and . _ / - or a space inside)")
    return officer_id


def add_user(store: Store, name: str, *, role: str, password: str, actor: str,
             officer_id: str | None = None) -> int:
    """Create an account with an argon2id hash of its password (an officer's with their
    collar number, which says which footage's shared feedback they see)."""
    check_name(name)
    if role not in db.ROLES:
        raise InvalidRequestError(f"unknown role {role!r}: use one of {', '.join(db.ROLES)}")
    officer_id = check_officer_id(role, officer_id)
    check_password(password, name=name)
    user_id = store.add_user(name, role=role, password_hash=_hasher.hash(password),
                             officer_id=officer_id)
    detail = f"{name} role={role}" + (f" officer_id={officer_id}" if officer_id else "")
    store.audit(actor=actor, action="user-add", obj=f"user:{user_id}", detail=detail)
    return user_id


def set_password(store: Store, user_id: int, password: str, *, actor: str) -> None:
    """Give an account a new password (an administrator's reset: signs it out everywhere)."""
    user = store.user_by_id(user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    check_password(password, name=user.name)
    store.update_user(user_id, password_hash=_hasher.hash(password))
    store.audit(actor=actor, action="user-password", obj=f"user:{user_id}")


def change_own_password(store: Store, user: db.UserAccount, *, current: str, new: str,
                        again: str, session_token: str, client: str,
                        device_id: str | None = None, policy: SessionPolicy | None = None) -> None:
    """A signed-in user's change of their own password: the current one (checked and
    throttled like a sign-in), the new one twice. Ends the user's other sessions."""
    if new != again:
        raise InvalidRequestError("the two new passwords are not the same: type it again")
    if new == current:
        raise InvalidRequestError("the new password is the current one: choose another")
    check_password(new, name=user.name)
    found = _check(store, user.name, current, client=client, device_id=device_id,
                   policy=policy or SessionPolicy(), purpose="password-change")
    if found is None or found.id != user.id:
        raise InvalidRequestError("the current password is not right")
    store.update_user(user.id, password_hash=_hasher.hash(new),
                      keep_session=hash_token(session_token))
    store.audit(actor=web_actor(user.name), action="password-change", obj=f"user:{user.id}",
                detail="other sessions ended")


def sign_in(store: Store, name: str, password: str, *, client: str,
            policy: SessionPolicy | None = None, devices: DeviceKey | None = None,
            device_cookie: str | None = None) -> SignedIn:
    """Check a name and password and open a session; every attempt is counted and audited.

    With ``devices``, a ``device_cookie`` that proves this browser signed in as ``name``
    before has its failures counted on their own (see the module's docstring), and the
    result carries the cookie's new value.
    """
    policy = policy or SessionPolicy()
    device_id = devices.device_id(device_cookie, name) if devices else None
    user = _check(store, name, password, client=client, device_id=device_id, policy=policy,
                  purpose="login")
    if user is None:
        raise AuthError("wrong user name or password, or the account is disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        store.update_user(user.id, password_hash=_hasher.hash(password))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.create_session(hash_token(token), user_id=user.id, csrf_token=csrf,
                         expires_at=clock.now() + policy.absolute)
    return SignedIn(token=token, csrf_token=csrf, user=user,
                    device_cookie=devices.remember(device_cookie, name) if devices else None)


def _keys(name: str, *, client: str, device_id: str | None,
          policy: SessionPolicy) -> list[ThrottleKey]:
    """The counters an attempt is charged to: its known device's alone, or else the name's
    from this address and the address's."""
    if device_id:
        return [ThrottleKey("device", name[:200], f"device:{device_id}", policy.per_name)]
    return [ThrottleKey("name", name[:200], client[:100], policy.per_name),
            ThrottleKey("address", "", client[:100], policy.per_address)]


def _check(store: Store, name: str, password: str, *, client: str, device_id: str | None,
           policy: SessionPolicy, purpose: str) -> db.UserAccount | None:
    """The enabled account if the password is right, else None; throttled and audited.

    ``purpose`` names the audit actions: ``login`` (``login``, ``login-failed``,
    ``login-throttled``) or ``password-change`` (its failures and refusals only).
    """
    actor = web_actor(name)[:200]
    keys = _keys(name, client=client, device_id=device_id, policy=policy)
    where = f"client:{client}"[:200]
    waiting = store.take_sign_in_attempt(keys)
    if waiting is not None:
        retry_s = max(1, math.ceil((waiting.until - clock.now()).total_seconds()))
        store.audit(actor=actor, action=f"{purpose}-throttled", obj=where,
                    detail=f"{waiting.failures} failures {_FROM[waiting.key.scope]}; "
                           f"waits {retry_s} s")
        log.warning("sign-in by %r from %s throttled for %d s", name, client, retry_s)
        raise RateLimited(f"too many failed sign-ins {_FROM[waiting.key.scope]}: wait "
                          f"{_duration(retry_s)} and try again", retry_after_s=retry_s)
    user = store.user_by_name(name)
    ok: bool
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and not user.disabled
    if ok:
        store.sign_in_succeeded(keys)
    if purpose == "login" or not ok:
        store.audit(actor=actor, action=purpose if ok else f"{purpose}-failed", obj=where,
                    detail="known device" if device_id else None)
    return user if ok else None


def _duration(seconds: int) -> str:
    """A wait in words: ``1 second``, ``16 seconds``, ``4 minutes``."""
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def clear_throttle(store: Store, throttle_id: int, *, actor: str) -> None:
    """An administrator forgets a throttle's failures, and so its wait (audited)."""
    row = store.clear_throttle(throttle_id)
    store.audit(actor=actor, action="throttle-clear", obj=f"throttle:{throttle_id}",
                detail=f"{row.scope} {row.name!r} {row.source}: {row.failures} failures")


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


#: The most default teams one TIP may have.
MAX_TEAMS = 20


def clean_teams(names: list[str]) -> list[str]:
    """Team names as stored (spaces collapsed, no duplicates, sorted), or InvalidRequestError
    saying what is wrong."""
    teams = sorted({" ".join(n.split()) for n in names if n.strip()})
    for team in teams:
        if (hidden := hidden_character(team)) is not None:
            raise InvalidRequestError(f"a team name holds a character that cannot be seen ({hidden})")
    if len(teams) > MAX_TEAMS:
        raise InvalidRequestError(f"at most {MAX_TEAMS} teams")
    for team in teams:
        if len(team) > 100:
            raise InvalidRequestError(f"a team name has at most 100 characters ({team[:30]}...)")
    return teams


def set_default_teams(store: Store, user_id: int, names: list[str], *, actor: str
                      ) -> tuple[list[str], list[str]]:
    """Give a TIP default teams (none: clear them); the teams set, and those of them no
    footage's metadata names yet (a typo, or a team whose footage has not come)."""
    account = store.user_by_id(user_id)
    if account is None:
        raise NotFoundError(f"no user {user_id}")
    if account.role != "tip":
        raise InvalidRequestError(f"{account.name}'s role is {account.role}: only a TIP's queue "
                                  "opens on default teams")
    teams = clean_teams(names)
    store.set_default_teams(user_id, teams, actor=actor)
    known = set(store.meta_choices(("team",))["team"])
    return teams, [t for t in teams if t not in known]
