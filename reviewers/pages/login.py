"""Signing in and out; ``/`` sends each role to its home page."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import AuthError, ForbiddenError
from pipeline.review.accounts import sign_in, sign_out
from pipeline.store.accounts import web_actor
from pipeline.store.schema import ROLES
from reviewers.auth import (
    COOKIE,
    DEVICE_COOKIE,
    LOGIN_COOKIE,
    NotSignedIn,
    Viewer,
    changing,
    current_viewer,
)
from reviewers.security import client_of

router = APIRouter()
HOME = {"tip": "/queue", "trainer": "/annotations", "admin": "/admin/users",
        "officer": "/feedback"}
#: How long a browser stays a known device for a name after signing in as it.
DEVICE_DAYS = 365


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no '//' or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target




@router.get("/")
def home(viewer: Viewer = Depends(current_viewer)) -> Response:
    """Each role's starting page."""
    return RedirectResponse(HOME[viewer.user.role], status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query name
    """The sign-in form (a signed-in visitor goes straight home)."""
    try:
        viewer = current_viewer(request)
        return RedirectResponse(_safe_next(next) or HOME[viewer.user.role], status_code=303)
    except NotSignedIn:
        pass
    return _form(request, next=_safe_next(next) or "", error=None, status_code=200)


def _form(request: Request, *, next: str, error: str | None, status_code: int) -> Response:  # noqa: A002
    token = secrets.token_urlsafe(32)
    response = request.app.state.bwv.page(request, "login.html", status_code=status_code,
                                          login_token=token, next=next, error=error)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.post("/login")
def login(request: Request, name: str = Form(max_length=200), password: str = Form(max_length=1000),
          login_token: str = Form(max_length=100), next: str = Form("", max_length=2000),  # noqa: A002
          ) -> Response:
    """Check the password, open a session and go on."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), login_token.encode()):
        raise ForbiddenError("the sign-in form has expired: reload the page and try again")
    app = request.app.state.bwv
    try:
        signed = sign_in(app.store, name.strip(), password, client=client_of(request),
                         policy=app.policy, devices=app.devices,
                         device_cookie=request.cookies.get(DEVICE_COOKIE))
    except AuthError as exc:
        if type(exc) is not AuthError:
            raise  # rate limited: 429
        return _form(request, next=_safe_next(next) or "", error=str(exc), status_code=401)
    response = RedirectResponse(_safe_next(next) or HOME[signed.user.role], status_code=303)
    response.set_cookie(COOKIE, signed.token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    if signed.device_cookie:
        response.set_cookie(DEVICE_COOKIE, signed.device_cookie, max_age=DEVICE_DAYS * 86400,
                            httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
async def logout(request: Request,
                 viewer: Viewer = Depends(changing(*ROLES))) -> Response:
    """End the session on the server and in the browser."""
    sign_out(request.app.state.bwv.store, viewer.token, actor=web_actor(viewer.user.name))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
