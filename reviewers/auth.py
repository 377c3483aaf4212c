"""Who is asking: the session cookie, the role each route needs, and the CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from pipeline.errors import AuthError, ForbiddenError
from pipeline.review.accounts import session_user
from pipeline.store import schema as db
from reviewers.security import check_csrf

COOKIE = "bwv_session"
LOGIN_COOKIE = "bwv_login_csrf"
#: The known-device cookie (pipeline/review/devices.py): signed names this browser signed in as.
DEVICE_COOKIE = "bwv_device"


class NotSignedIn(AuthError):
    """No live session: pages send the browser to sign in, everything else gets 401."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person making a request."""

    user: db.UserAccount
    token: str
    csrf_token: str


def current_viewer(request: Request) -> Viewer:
    """The viewer from the session cookie, or NotSignedIn."""
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = request.cookies.get(COOKIE, "")
    app = request.app.state.bwv
    found = session_user(app.store, token, policy=app.policy) if token else None
    if found is None:
        raise NotSignedIn("sign in first")
    web, user = found
    viewer = Viewer(user=user, token=token, csrf_token=web.csrf_token)
    request.state.viewer = viewer
    return viewer


def role(*roles: str) -> Callable[[Request], Viewer]:
    """A dependency for reading routes: a live session whose user has one of these roles."""

    def dependency(request: Request) -> Viewer:
        viewer = current_viewer(request)
        if viewer.user.role not in roles:
            raise ForbiddenError(f"this page is for the {' or '.join(roles)} role")
        return viewer

    return dependency


def changing(*roles: str) -> Callable[[Request], Awaitable[Viewer]]:
    """A dependency for state-changing routes: role() plus the CSRF and origin checks."""
    check_role = role(*roles)

    async def dependency(request: Request) -> Viewer:
        viewer = check_role(request)
        await check_csrf(request, viewer.csrf_token)
        return viewer

    return dependency
