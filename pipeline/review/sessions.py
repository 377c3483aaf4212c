"""A person's signed-in sessions: the list on the sessions page, and ending them.

Signing in again does not end an earlier session (a TIP may have the review page
open on two machines); the sessions page lists every live session of the account,
with when it signed in and was last used, and ends any other one, or all the others
at once. Signing out, disabling an account or changing its password or role ends
them all (:mod:`pipeline.review.accounts`).

A session is named on the page by a reference derived from the stored hash, never
the token nor the hash itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.review.accounts import SessionPolicy, hash_token
from pipeline.store import Store
from pipeline.store import schema as db


@dataclass(frozen=True)
class LiveSession:
    """One live session of an account, as its owner sees it."""

    ref: str  # how the page names it: not the token, not its stored hash
    signed_in_at: datetime
    last_seen_at: datetime
    ends_at: datetime  # when it ends unless used again (idle), or at the latest (absolute)
    current: bool  # the session asking


def session_ref(session_id: str) -> str:
    """The public reference of a stored session (16 hex digits of a hash of its hash)."""
    return hashlib.sha256(f"bwv-session-ref:{session_id}".encode()).hexdigest()[:16]


def _live(store: Store, user: db.UserAccount, policy: SessionPolicy) -> list[tuple[db.WebSession, datetime]]:
    now = clock.now()
    out = []
    for web in store.user_sessions(user.id):
        created, seen = clock.as_utc(web.created_at), clock.as_utc(web.last_seen_at)
        ends = min(clock.as_utc(web.expires_at), created + policy.absolute, seen + policy.idle)
        if now < ends:
            out.append((web, ends))
    return out


def live_sessions(store: Store, user: db.UserAccount, *, token: str,
                  policy: SessionPolicy | None = None) -> list[LiveSession]:
    """The account's live sessions, oldest first; ``token`` is the asking browser's."""
    mine = hash_token(token)
    return [
        LiveSession(session_ref(web.id), clock.as_utc(web.created_at), clock.as_utc(web.last_seen_at),
                    ends, web.id == mine)
        for web, ends in _live(store, user, policy or SessionPolicy())
    ]


def end_session(store: Store, user: db.UserAccount, ref: str, *, token: str, actor: str,
                policy: SessionPolicy | None = None) -> None:
    """End another of the account's live sessions (audited); the asking one signs out instead."""
    found = [web for web, _ in _live(store, user, policy or SessionPolicy()) if session_ref(web.id) == ref]
    if not found:
        raise NotFoundError(f"no live session {ref[:16]!r} of yours: it may have ended already")
    if found[0].id == hash_token(token):
        raise InvalidRequestError("that is this browser's session: use Sign out to end it")
    store.end_user_sessions(user.id, [found[0].id])
    store.audit(actor=actor, action="session-end", obj=f"session:{ref}", detail="ended from the sessions page")


def end_other_sessions(store: Store, user: db.UserAccount, *, token: str, actor: str) -> int:
    """End every session of the account but the asking one (audited); how many ended."""
    mine = hash_token(token)
    others = [web.id for web in store.user_sessions(user.id) if web.id != mine]
    ended = store.end_user_sessions(user.id, others)
    store.audit(actor=actor, action="session-end-others", obj=f"user:{user.id}",
                detail=f"{ended} other session{'' if ended == 1 else 's'} ended")
    return ended
