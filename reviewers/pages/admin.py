"""Administration: accounts (add, disable, enable, change role or password), sign-in throttles
and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline import clock
from pipeline.errors import ConfigError, InvalidRequestError
from pipeline.review import accounts
from pipeline.review import items as review
from pipeline.store.schema import ROLES
from reviewers.auth import Viewer, changing, role
from reviewers.inputs import RowId

router = APIRouter()
AUDIT_PER_PAGE = 100


@router.get("/admin/users")
def users_page(request: Request, viewer: Viewer = Depends(role("admin"))) -> Response:
    """Every account, with the form to add one."""
    app = request.app.state.bwv
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="users")
    return app.page(request, "users.html", users=app.store.list_users(), roles=ROLES)


@router.post("/admin/users")
async def add_user(request: Request, viewer: Viewer = Depends(changing("admin")),
                   name: str = Form(max_length=100), user_role: str = Form(alias="role", max_length=20),
                   password: str = Form(max_length=1000)) -> Response:
    """Create an account."""
    accounts.add_user(request.app.state.bwv.store, name.strip(), role=user_role, password=password,
                      actor=review.actor(viewer.user))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}")
async def change_user(request: Request, user_id: RowId, viewer: Viewer = Depends(changing("admin")),
                      action: str = Form(max_length=20), user_role: str = Form("", alias="role", max_length=20),
                      password: str = Form("", max_length=1000)) -> Response:
    """Disable or enable an account, change its role or set a new password."""
    store = request.app.state.bwv.store  # update_user says when there is no such user
    who = review.actor(viewer.user)
    if user_id == viewer.user.id and action in ("disable", "role"):
        raise InvalidRequestError("you cannot disable your own account or change your own role")
    if action in ("disable", "enable"):
        store.update_user(user_id, disabled=action == "disable")
        store.audit(actor=who, action=f"user-{action}", obj=f"user:{user_id}")
        if action == "disable":  # a disabled account's claims would otherwise stay held forever
            review.release_claims_of(store, user_id, actor=who, why="account disabled")
    elif action == "role":
        if user_role not in ROLES:
            raise InvalidRequestError(f"unknown role {user_role!r}: use one of {', '.join(ROLES)}")
        store.update_user(user_id, role=user_role)
        store.audit(actor=who, action="user-role", obj=f"user:{user_id}", detail=user_role)
        if user_role != "tip":  # only a TIP holds items: give back what they held
            review.release_claims_of(store, user_id, actor=who, why=f"role changed to {user_role}")
    elif action == "password":
        accounts.set_password(store, user_id, password, actor=who)
    else:
        raise InvalidRequestError("action must be disable, enable, role or password")
    return RedirectResponse("/admin/users", status_code=303)


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
               page: int = Query(1, ge=1, le=1_000_000)) -> Response:
    """The audit log, newest first, and what ``bwv audit verify`` says of it (on page 1)."""
    app = request.app.state.bwv
    rows, total = app.store.audit_page(offset=(page - 1) * AUDIT_PER_PAGE, limit=AUDIT_PER_PAGE,
                                       actor=actor or None, action=action or None)
    verdict, unchecked = None, None
    if page == 1:
        try:
            verdict = app.store.verify_audit()
        except ConfigError as exc:  # no key to check with: say so on the page
            unchecked = str(exc)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="audit",
                    detail=str(request.url.query)[:500] or None)
    return app.page(request, "audit.html", rows=rows, total=total, page=page,
                    pages=max(1, -(-total // AUDIT_PER_PAGE)), actor=actor, action=action,
                    verdict=verdict, unchecked=unchecked)
