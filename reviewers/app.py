"""The review app: FastAPI with server-rendered Jinja2 pages and a little plain JavaScript.

``create_app`` wires the pages (one module each in ``reviewers/pages``),
the security headers, and the mapping from library errors to HTTP statuses
(anything else is a logged 500 page, with the same headers). Every refusal
(a 403, including a failed CSRF or origin check, or a 404 from a route behind
the sign-in) writes an audit row.
There is no static mount of the media store: footage is streamed by id
through an authorised route.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline import __version__
from pipeline.config import Instance
from pipeline.errors import (
    AuthError,
    BwvError,
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    MediaError,
    NotFoundError,
)
from pipeline.flagging.rubric import Rubric, load_rubric
from pipeline.review import proxy
from pipeline.review.accounts import RateLimited, SessionPolicy
from pipeline.review.devices import DeviceKey, load_device_key
from pipeline.store import Store, open_instance
from pipeline.store.accounts import web_actor
from reviewers.auth import COOKIE, NotSignedIn, current_viewer
from reviewers.security import SecurityHeaders, client_of, secure

log = logging.getLogger("bwv.reviewers")
HERE = Path(__file__).resolve().parent


@dataclass
class ReviewApp:
    """What every request handler needs: the instance, its store, the rubric, the templates,
    and the key that signs known-device cookies."""

    instance: Instance
    store: Store
    rubric: Rubric
    policy: SessionPolicy
    templates: Jinja2Templates
    devices: DeviceKey

    def page(self, request: Request, name: str, status_code: int = 200, *,
             refusal_audited: bool = False, **context: Any) -> HTMLResponse:
        """Render a page template; the viewer and CSRF token are added when signed in. A form
        sent back with its problems (a status of 400 or more, not the error page) is a refusal:
        audited with the problems, unless what refused it wrote its own row
        (``refusal_audited``: a refused or stopped teaching export)."""
        viewer = getattr(request.state, "viewer", None)
        if status_code >= 400 and name != "error.html" and not refusal_audited:
            audit_refusal(request, status_code, "form sent back: " + _problems_of(context))
        context.setdefault("viewer", viewer)
        context.setdefault("csrf_token", viewer.csrf_token if viewer else "")
        context.setdefault("version", __version__)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def make_templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template, whatever its file name."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["clock"] = _clock
    env.filters["when"] = _when
    return Jinja2Templates(env=env)


_STATUS = [
    (RateLimited, 429), (NotSignedIn, 401), (ForbiddenError, 403), (AuthError, 401),
    (NotFoundError, 404), (ConflictError, 409), (InvalidRequestError, 400), (MediaError, 503),
]


def _status_of(exc: BwvError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)


def create_app(instance: Instance, *, store: Store | None = None, rubric: Rubric | None = None,
               policy: SessionPolicy | None = None, warm_proxies: bool = False) -> FastAPI:
    """The review app for one bwv instance.

    With ``warm_proxies`` a background thread makes the playable copies of
    files waiting for review while the server runs (``bwv serve`` turns it on).
    """
    state = ReviewApp(
        instance=instance, store=store or open_instance(instance),
        rubric=rubric or load_rubric(), policy=policy or SessionPolicy(),
        templates=make_templates(), devices=load_device_key(instance.home),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(target=proxy.warm_proxies, args=(instance, state.store, stop),
                                  name="bwv-proxies", daemon=True)
        anchors = threading.Thread(target=anchor_while_serving, args=(state.store, stop),
                                   name="bwv-anchors", daemon=True)
        if warm_proxies:
            worker.start()
            anchors.start()
        yield
        stop.set()

    app = FastAPI(title="bwv review", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    # No redirect from "/x/" to "/x": Starlette builds its Location from the request's Host
    # header, which whoever sends the request chooses. A path with a slash too many is 404.
    app.router.redirect_slashes = False
    app.state.bwv = state

    @app.exception_handler(BwvError)
    async def bwv_error(request: Request, exc: BwvError) -> Response:
        status = _status_of(exc)
        # CSRF and origin failures are 403s too; a request without a session is a 401 (a
        # failed sign-in is audited by the sign-in itself, as is a refused export).
        if (status in (400, 403, 404, 409) or isinstance(exc, NotSignedIn)) and not exc.audited:
            audit_refusal(request, status, str(exc))
        if isinstance(exc, NotSignedIn):
            if request.method == "GET" and "/media" not in request.url.path:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                return RedirectResponse(f"/login?next={target}", status_code=303)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        response = app.state.bwv.page(request, "error.html", status_code=status,
                                      title=_TITLES.get(status, "Error"), message=str(exc))
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "the request was not understood"
        if 400 <= exc.status_code < 500:  # no such page, or not by this method
            audit_refusal(request, exc.status_code, message)
        return app.state.bwv.page(request, "error.html", status_code=exc.status_code,
                                  title=_TITLES.get(exc.status_code, "Error"), message=message)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}"
            for err in exc.errors()
        )
        audit_refusal(request, 422, problems)
        return app.state.bwv.page(request, "error.html", status_code=422,
                                  title="Invalid request", message=problems)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # No input should get here (tests/test_review_inputs.py): what does is a bug, logged
        # with its traceback; the visitor gets a page that gives nothing of it away.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        try:
            response: Response = app.state.bwv.page(
                request, "error.html", status_code=500, title="Server error",
                message=SERVER_ERROR)
        except Exception:  # the page itself failing: plain words instead
            log.exception("the error page failed too")
            response = PlainTextResponse(SERVER_ERROR, status_code=500)
        return secure(response, https=request.url.scheme == "https")

    from reviewers.pages import (
        account,
        admin,
        annotations,
        claims,
        login,
        media,
        officer,
        queue,
        review,
        sessions,
        speakers,
        teach,
        teams,
    )

    for module in (login, account, queue, review, speakers, media, annotations, teach, admin, claims,
                   sessions, officer, teams):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    return app


def _problems_of(context: dict[str, Any]) -> str:
    """The problems a page shows with its form, in one line."""
    said: list[str] = []
    for value in (context.get("form_errors"), *dict(context.get("errors") or {}).values()):
        if isinstance(value, dict):
            said += [str(v) for v in value.values()]
    return "; ".join(said) or "see the page"


def audit_refusal(request: Request, status: int, reason: str) -> None:
    """One audit row for a refused request: ``refused``, by ``web:NAME`` (or ``anonymous:``
    and the client's address), the path as the object, and the status, method and reason.

    A failure to write it is logged and the refusal still sent: refusing is what matters.
    """
    viewer = getattr(request.state, "viewer", None)
    if viewer is None and request.cookies.get(COOKIE):  # refused before a route looked: who?
        try:
            viewer = current_viewer(request)
        except Exception:  # noqa: BLE001 - no session, or the store failing: anonymous then
            viewer = None
    who = (web_actor(viewer.user.name) if viewer is not None
           else f"anonymous:{client_of(request)}")
    try:
        request.app.state.bwv.store.audit(
            actor=who[:200], action="refused", obj=_printable(request.url.path)[:500],
            detail=_printable(f"{status} {request.method}: {reason}")[:1000])
    except Exception:  # noqa: BLE001 - any failure of the store: logged, the refusal stands
        log.exception("cannot audit the refusal of %s %s", request.method,
                      _printable(request.url.path))


def _printable(text: str) -> str:
    """Text for the audit log and the server's log with every control or format character
    (a NUL, which the store refuses; an escape a terminal would act on) written as ``\\xNN``
    or ``\\uNNNN``."""
    return "".join(c if not unicodedata.category(c).startswith("C") else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)


SERVER_ERROR = ("Something went wrong on the server. It has been logged; try again, "
                "and tell an administrator if it happens again.")
#: How often ``bwv serve`` anchors the audit log when rows were added since its last anchor:
#: what a database administrator without the key could delete unseen is at most this window.
ANCHOR_EVERY_S = 900.0


def anchor_while_serving(store: Store, stop: threading.Event, *, every_s: float = ANCHOR_EVERY_S) -> None:
    """Anchor the audit log every ``every_s`` while the app serves and rows have been added,
    and once more when it stops (each anchor is itself a row, so an idle log is left be)."""
    last = -1
    while True:
        stopping = stop.wait(every_s)
        try:
            rows = store.audit_head().rows
            if rows > last + 1 or (last < 0 and rows):
                last = store.anchor_audit(actor="system:serve", note="while serving").rows
        except BwvError as exc:
            log.warning("could not anchor the audit log: %s", exc)
        if stopping:
            return


_TITLES = {400: "Bad request", 401: "Sign in", 403: "Not allowed", 404: "Not found",
           409: "Already taken", 422: "Invalid request", 429: "Too many attempts",
           503: "Unavailable"}


def app_from_environment() -> FastAPI:
    """The app for the instance named by ``BWV_HOME`` and ``BWV_DB`` (what ``bwv serve`` runs)."""
    from pipeline.config import resolve_instance

    return create_app(resolve_instance(), warm_proxies=True)
