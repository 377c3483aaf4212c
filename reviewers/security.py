"""HTTP security for every response: headers, and the CSRF and origin checks on changes."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pipeline.errors import ForbiddenError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: No inline script or style anywhere: scripts and styles come from /static only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" on
    # same-origin form posts, which check_csrf must refuse. No referrer leaves the site.
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")
_OVERRIDDEN = {name for name, _ in HEADERS}


def secure(response: Response, *, https: bool) -> Response:
    """Give a response the headers :class:`SecurityHeaders` adds, for the one it cannot reach.

    Starlette answers an unexpected exception from its outermost middleware, outside this
    one, so the catch-all 500 page sets them itself.
    """
    for name, value in HEADERS + ([_HSTS] if https else []):
        response.headers[name.decode()] = value.decode()
    return response


class SecurityHeaders:
    """Pure ASGI middleware: the same headers on pages, media, static files and errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in _OVERRIDDEN]
                headers += HEADERS + ([_HSTS] if https else [])
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a state-changing request without this session's token or from another origin."""
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise ForbiddenError(f"request from another origin ({origin}) refused")
    token = request.headers.get("x-csrf-token")
    if token is None:
        form = await request.form()
        value = form.get("csrf_token")
        token = value if isinstance(value, str) else None
    if not token or not secrets.compare_digest(token.encode(), expected.encode()):
        raise ForbiddenError("the form has expired or did not come from this site: reload the page")


#: What stands for a client address that is not one (a trusted proxy passed on a forged
#: ``X-Forwarded-For``): one shared bucket, never a counter or audit actor per string.
NOT_AN_ADDRESS = "not-an-address"


def client_of(request: Request) -> str:
    """The client's address, for throttling and the audit log: the peer's, or the one a
    proxy named in ``bwv serve --forwarded-allow-ips`` forwarded (uvicorn trusts no
    ``X-Forwarded-For`` otherwise). A forwarded value that is not an IP address becomes
    :data:`NOT_AN_ADDRESS`."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return NOT_AN_ADDRESS
