"""Administration: accounts (add, disable, enable, change role or password), sign-in throttles
and the audit log.

A refused change to an account comes back as the users page, filled in, with the problem
under its field (:mod:`reviewers.forms`); a change made says so at the top of the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline import clock
from pipeline.errors import ConfigError, InvalidRequestError
from pipeline.review import accounts
from pipeline.review import items as review
from pipeline.store.schema import MAX_ID, ROLES
from reviewers.auth import Viewer, changing, role
from reviewers.forms import FormErrors, day_range
from reviewers.inputs import RowId

router = APIRouter()
AUDIT_PER_PAGE = 100
#: What the users page says after a change (``?done=...&user=ID``), of the account changed.
DONE = {
    "added": "{name} was added as {role}.",
    "role": "{name} is now {role}; their sessions were ended.",
    "disable": "{name} is disabled; their sessions were ended and their items given back to the queue.",
    "enable": "{name} is enabled again.",
    "password": "{name}'s password was changed; their sessions were ended.",
    "teams": "{name}'s default teams were changed.",
}



@router.get("/admin/users")
def users_page(request: Request, viewer: Viewer = Depends(role("admin")),
               done: str = Query("", max_length=20),
               user: int | None = Query(None, ge=1, le=MAX_ID)) -> Response:
    """Every account, with the forms to add one and to change each."""
    app = request.app.state.bwv
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="users")
    changed = app.store.user_by_id(user) if user is not None else None
    said = (DONE[done].format(name=changed.name, role=changed.role)
            if done in DONE and changed is not None else None)
    return _users(request, done=said)


def _users(request: Request, *, done: str | None = None, errors: FormErrors | None = None,
           sent: dict[str, Any] | None = None) -> Response:
    """The users page; with ``errors``, sent back (400) with what was ``sent`` filled in."""
    return request.app.state.bwv.page(
        request, "users.html", status_code=400 if errors else 200,
        users=request.app.state.bwv.store.list_users(), roles=ROLES, done=done,
        teams=request.app.state.bwv.store.default_teams_by_user(),
        form_errors=errors or FormErrors(), sent=sent or {}, min_password=accounts.MIN_PASSWORD,
        max_password=accounts.MAX_PASSWORD)


@router.post("/admin/users")
async def add_user(request: Request, viewer: Viewer = Depends(changing("admin")),
                   name: str = Form("", max_length=100),
                   user_role: str = Form("", alias="role", max_length=20),
                   password: str = Form("", max_length=1000),
                   officer_id: str = Form("", max_length=100)) -> Response:
    """Create an account (each problem with the form is said under its field); an officer's
    with their collar number."""
    store = request.app.state.bwv.store
    name = name.strip()
    errors = FormErrors()
    try:
        accounts.check_name(name)
        if store.user_by_name(name) is not None:
            errors.add("add-name", f"a user named {name!r} already exists: choose another name")
    except InvalidRequestError as exc:
        errors.add("add-name", str(exc))
    if user_role not in ROLES:
        errors.add("add-role", f"choose a role: {', '.join(ROLES)}")
    else:
        try:
            accounts.check_officer_id(user_role, officer_id)
        except InvalidRequestError as exc:
            errors.add("add-officer", str(exc))
    _check_password(errors, "add-password", password, name=name)
    if not errors:
        try:  # what is left to refuse is a name or an officer id taken just now
            user_id = accounts.add_user(store, name, role=user_role, password=password,
                                        actor=review.actor(viewer.user), officer_id=officer_id)
        except InvalidRequestError as exc:
            errors.add("add-officer" if "officer" in str(exc) else "add-name", str(exc))
    if errors:
        return _users(request, errors=errors, sent={"add-name": name, "add-role": user_role,
                                                    "add-officer": officer_id})
    return RedirectResponse(f"/admin/users?done=added&user={user_id}", status_code=303)


def _check_password(errors: FormErrors, field: str, password: str, *, name: str) -> None:
    try:
        accounts.check_password(password, name=name)
    except InvalidRequestError as exc:
        errors.add(field, str(exc))


@router.post("/admin/users/{user_id}")
async def change_user(request: Request, user_id: RowId, viewer: Viewer = Depends(changing("admin")),
                      action: str = Form(max_length=20), user_role: str = Form("", alias="role", max_length=20),
                      password: str = Form("", max_length=1000),
                      teams: str = Form("", max_length=2200)) -> Response:
    """Disable or enable an account, change its role, set a new password (which ends the
    account's sessions, like a change of role or disabling it) or set a TIP's default teams
    (comma-separated; the queue opens on them); each change audited."""
    store = request.app.state.bwv.store  # update_user says when there is no such user
    who = review.actor(viewer.user)
    if user_id == viewer.user.id and action in ("disable", "role", "password"):
        raise InvalidRequestError("you cannot disable your own account, change your own role or "
                                  "reset your own password here: use Change password")
    if action in ("disable", "enable"):
        store.update_user(user_id, disabled=action == "disable")
        store.audit(actor=who, action=f"user-{action}", obj=f"user:{user_id}")
        if action == "disable":  # a disabled account's claims would otherwise stay held forever
            review.release_claims_of(store, user_id, actor=who, why="account disabled")
    elif action == "role":
        if user_role not in ROLES:
            return _users(request, errors=FormErrors({f"role-{user_id}": f"choose a role: {', '.join(ROLES)}"}))
        current = store.user_by_id(user_id)
        if current is not None and "officer" in (user_role, current.role) and user_role != current.role:
            return _users(request, errors=FormErrors({f"role-{user_id}": (
                "an officer's account keeps its role, and no other becomes an officer's: "
                "add an officer's account with their officer id")}))
        store.update_user(user_id, role=user_role)
        store.audit(actor=who, action="user-role", obj=f"user:{user_id}", detail=user_role)
        if user_role != "tip":  # only a TIP holds items: give back what they held
            review.release_claims_of(store, user_id, actor=who, why=f"role changed to {user_role}")
    elif action == "password":
        errors = FormErrors()
        try:  # zxcvbn-checked with the account's name, like `bwv user password`; signs it out
            accounts.set_password(store, user_id, password, actor=who)
        except InvalidRequestError as exc:
            errors.add(f"password-{user_id}", str(exc))
            return _users(request, errors=errors)
    elif action == "teams":
        try:  # NotFoundError for no such account
            accounts.set_default_teams(store, user_id, teams.split(","), actor=who)
        except InvalidRequestError as exc:
            return _users(request, errors=FormErrors({f"teams-{user_id}": str(exc)}),
                          sent={f"teams-{user_id}": teams})
    else:
        raise InvalidRequestError("action must be disable, enable, role, password or teams")
    return RedirectResponse(f"/admin/users?done={action}&user={user_id}", status_code=303)


@router.get("/admin/throttles")
def throttles_page(request: Request, viewer: Viewer = Depends(role("admin"))) -> Response:
    """Names and addresses whose failed sign-ins are counted, and until when each waits."""
    app = request.app.state.bwv
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="throttles")
    throttles, now = app.store.list_throttles(), clock.now()
    waits = {t.id: clock.as_utc(t.locked_until).strftime("%Y-%m-%d %H:%M:%S UTC")
             for t in throttles if t.locked_until and clock.as_utc(t.locked_until) > now}
    return app.page(request, "throttles.html", throttles=throttles, waits=waits,
                    policy=app.policy)


@router.post("/admin/throttles/{throttle_id}/clear")
async def clear_throttle(request: Request, throttle_id: RowId,
                         viewer: Viewer = Depends(changing("admin"))) -> Response:
    """Forget one throttle's failures, so whoever it delays may try again at once."""
    accounts.clear_throttle(request.app.state.bwv.store, throttle_id,
                            actor=review.actor(viewer.user))
    return RedirectResponse("/admin/throttles", status_code=303)


@router.get("/admin/audit")
def audit_page(request: Request, viewer: Viewer = Depends(role("admin")),
               actor: str = Query("", max_length=200), action: str = Query("", max_length=100),
               date_from: str = Query("", max_length=40), date_to: str = Query("", max_length=40),
               page: int = Query(1, ge=1, le=1_000_000)) -> Response:
    """The audit log, newest first, and what ``bwv audit verify`` says of it (on page 1).

    "Who" is a plain user name (every row by that person, from the web app or the command
    line) or an exact actor such as ``anonymous:203.0.113.9``; the dates are UTC days, an
    empty box no limit. A day that does not read comes back under its box (400).
    """
    app = request.app.state.bwv
    errors = FormErrors()
    since, until = day_range(errors, ("audit-from", "audit-to"), (date_from, date_to))
    actor, action = actor.strip(), action.strip()
    rows: list[Any] = []
    total = 0
    if not errors:
        rows, total = app.store.audit_page(offset=(page - 1) * AUDIT_PER_PAGE, limit=AUDIT_PER_PAGE,
                                           who=actor or None, action=action or None,
                                           since=since, until=until)
    verdict, unchecked = None, None
    if page == 1:
        try:
            verdict = app.store.verify_audit()
        except ConfigError as exc:  # no key to check with: say so on the page
            unchecked = str(exc)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="audit",
                    detail=str(request.url.query)[:500] or None)
    query = {"actor": actor, "action": action, "date_from": date_from, "date_to": date_to}
    return app.page(request, "audit.html", status_code=400 if errors else 200, rows=rows,
                    total=total, page=page, pages=max(1, -(-total // AUDIT_PER_PAGE)),
                    query=query, verdict=verdict, unchecked=unchecked, form_errors=errors)
