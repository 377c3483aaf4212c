"""Out-of-range input on every route of the review app (issue 14, point 5).

Every path, query and form field of every route, found from the routes themselves, is sent
values past its range (ids over 2**63, dates at the ends of the calendar, a superscript-two
rating, huge strings, non-numbers) by a user the route lets in. Every answer is below 500,
and every answer, errors included, carries the security headers.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import types
import typing
from datetime import date
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

# The role x route matrix and its fixtures (store: world needs it).
from test_review_app import ROUTES, Client, _fill, _form, app, shared_world, store, world  # noqa: F401

from reviewers.security import CSP

HUGE = "x" * 30_000  # over every max_length, under the client's URL limit
#: Values past the range of each kind of field.
BAD: dict[type, tuple[str, ...]] = {
    int: ("9223372036854775808", "-9223372036854775809", "2147483648", "-1", "0", "²", "1e3",
          "7" * 5000, ""),
    float: ("1e309", "nan", "inf", "-inf", "-1", "9" * 5000, "²", "", "0x10"),
    date: ("9999-12-31", "0001-01-01", "10000-01-01", "2026-02-30", "²", "-1"),
    bool: ("²", "2", HUGE),
    str: (HUGE, "²", "6", "0", "-1", "٣", "５", "\x00", "=cmd|' /c calc'!A0", "../../etc/passwd"),
}
PUBLIC_ROUTES = [("GET", "/login", {"anonymous"}, 200, None),
                 ("POST", "/login", {"anonymous"}, 303, {"name": "alice", "password": "x"})]


def _kind(annotation: Any) -> tuple[type, bool]:
    """The scalar type of a field and whether it is a list (``int | None`` -> ``(int, False)``)."""
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _kind(next(a for a in typing.get_args(annotation) if a is not type(None)))
    return annotation, False


def _fields(method: str, path: str) -> dict[str, tuple[str, type, bool]]:
    """Every field of a route, by name: (where: path, query or body; type; whether a list)."""
    import reviewers.pages

    def walk(dependant):  # type: ignore[no-untyped-def]
        yield dependant
        for sub in dependant.dependencies:
            yield from walk(sub)

    pattern = re.sub(r"\{\w+\}", "{x}", path)
    for info in pkgutil.iter_modules(reviewers.pages.__path__):
        for route in importlib.import_module(f"reviewers.pages.{info.name}").router.routes:
            if (isinstance(route, APIRoute) and method in route.methods
                    and re.sub(r"\{\w+\}", "{x}", route.path) == pattern):
                return {f.alias: (where.removesuffix("_params"), *_kind(f.field_info.annotation))
                        for d in walk(route.dependant)
                        for where in ("path_params", "query_params", "body_params")
                        for f in getattr(d, where)}
    raise AssertionError(f"no route {method} {path}")


def _client(app, who: str) -> TestClient:  # noqa: F811 - the fixtures
    """A signed-in browser that answers a server error with its 500 page instead of raising."""
    signed = Client(app, None if who == "anonymous" else who)
    http = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    http.cookies = signed.http.cookies
    http.headers["x-csrf-token"] = signed.csrf
    return http


def _headers_problems(response) -> list[str]:  # type: ignore[no-untyped-def]
    expected = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                "x-frame-options": "DENY", "cache-control": "no-store",
                "referrer-policy": "same-origin"}
    return [f"{name} is {response.headers.get(name)!r}" for name, value in expected.items()
            if response.headers.get(name) != value]


ALL_ROUTES = [r for r in ROUTES if r[0] != "POST" or r[1] != "/logout"] + PUBLIC_ROUTES


@pytest.mark.parametrize("method,path,allowed,ok,data", ALL_ROUTES,
                         ids=[f"{m} {p}" for m, p, *_ in ALL_ROUTES])
def test_out_of_range_values_never_reach_a_server_error(app, world, method, path, allowed,  # noqa: F811 - the fixtures
                                                        ok, data) -> None:
    if "{shared" in path or "{submitted" in path:  # the officer's routes need a share
        world = shared_world(app.state.bwv.store, world)
    http = _client(app, sorted(allowed)[0])
    fields = _fields(method, path)
    base_url, base_form = _fill(path, world), _form(data, world)
    if (method, path) == ("POST", "/login"):
        page = http.get("/login").text
        base_form["login_token"] = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
    failures = []
    for name, (where, kind, many) in fields.items():
        for value in BAD[kind]:
            url, form, query = base_url, dict(base_form), {}
            if where == "path":
                url = re.sub(r"/\d+(?=/|$)", f"/{value}", base_url, count=1)
                if not value or "/" in value:
                    continue  # another route, or none
            elif where == "query":
                query = {name: value}
            else:
                form[name] = [value] if many else value
            if method == "GET":
                response = http.get(url, params=query)
            else:
                response = http.post(url, data=form, params=query)
            problems = _headers_problems(response)
            if response.status_code >= 500 or problems:
                failures.append(f"{name}={value[:24]!r}: {response.status_code} {problems}")
    assert failures == [], "\n".join(failures)


def test_the_issues_examples_are_refused_with_what_to_fix(app, world) -> None:  # noqa: F811 - the fixtures
    alice, tom = _client(app, "alice"), _client(app, "tom")
    response = alice.get("/queue", params={"date_to": "9999-12-31"})
    assert response.status_code == 422
    assert "date_to: Input should be less than or equal to 2999-12-31" in response.text
    response = tom.get("/annotations", params={"date_from": "0001-01-01"})  # the form, back
    assert response.status_code == 400
    assert "Submitted from must be from 1970-01-01 to 2999-12-31" in response.text
    for url in ("/items/9223372036854775808", "/items/9223372036854775808/media",
                "/annotations/9223372036854775808/edit"):
        response = alice.get(url)
        assert response.status_code == 422, url
        assert "Input should be less than or equal to 2147483647" in response.text
    assert alice.get("/items/0").status_code == 422
    form = _form({"start_s": "{start}", "end_s": "{end}", "labels": ["distress"], "rating": "²"},
                 world)
    response = alice.post(f"/items/{world['item']}/annotations", data=form)
    assert response.status_code == 400 and "the rating must be from 1 to 5" in response.text
    # A NUL in text: PostgreSQL cannot store one (an attacker's finding); refused on both.
    form = _form({"start_s": "{start}", "end_s": "{end}", "labels": ["distress"],
                  "feedback": "calm\x00then"}, world)
    response = alice.post(f"/items/{world['item']}/annotations", data=form)
    assert response.status_code == 400
    assert "the feedback holds a character that cannot be seen (U+0000)" in response.text
    assert response.headers["content-security-policy"]


def test_error_pages_carry_the_security_headers(app, caplog) -> None:  # noqa: F811 - the fixtures
    def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    app.add_api_route("/boom", boom)
    http = _client(app, "alice")
    answers = {
        "no such page (Starlette)": (http.get("/no/such/page"), 404),
        "wrong method (Starlette)": (http.get("/logout"), 405),
        "validation": (http.get("/items/not-a-number"), 422),
        "no such static file": (http.get("/static/nothing.css"), 404),
    }
    with caplog.at_level(logging.ERROR, logger="bwv.reviewers"):
        answers["unexpected exception"] = (http.get("/boom"), 500)
    for what, (response, status) in answers.items():
        assert response.status_code == status, what
        assert _headers_problems(response) == [], what
    failed = answers["unexpected exception"][0]
    assert "secret detail" not in failed.text and "Something went wrong" in failed.text
    assert "GET /boom failed" in caplog.text and "secret detail of the failure" in caplog.text
