"""One's own account: changing one's password (every role).

A refused change comes back as the form, each problem under its field (the passwords
themselves are never sent back into the page).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InvalidRequestError
from pipeline.review.accounts import MAX_PASSWORD, MIN_PASSWORD, change_own_password, check_password
from pipeline.store.schema import ROLES
from reviewers.auth import DEVICE_COOKIE, Viewer, changing, role
from reviewers.forms import FormErrors
from reviewers.security import client_of

router = APIRouter()
#: Every role signs in, changes their own password and ends their own sessions.
EVERYONE = ROLES


@router.get("/account/password")
def password_page(request: Request, viewer: Viewer = Depends(role(*EVERYONE)),
                  done: bool = Query(False)) -> Response:
    """The form to change one's password (and, after a change, that it was changed)."""
    return _page(request, errors=FormErrors(), done=done)


def _page(request: Request, *, errors: FormErrors, done: bool) -> Response:
    return request.app.state.bwv.page(request, "account_password.html",
                                      status_code=400 if errors else 200, form_errors=errors,
                                      done=done, min_password=MIN_PASSWORD,
                                      max_password=MAX_PASSWORD)


@router.post("/account/password")
async def change_password(request: Request, viewer: Viewer = Depends(changing(*EVERYONE)),
                          current_password: str = Form("", max_length=1000),
                          new_password: str = Form("", max_length=1000),
                          new_password_again: str = Form("", max_length=1000)) -> Response:
    """Check the current password, set the new one and sign out the user's other sessions."""
    app = request.app.state.bwv
    errors = FormErrors()
    # The new password's problems first, each under its box; only then is the current one
    # checked (a check counted like a sign-in).
    try:
        check_password(new_password, name=viewer.user.name)
    except InvalidRequestError as exc:
        errors.add("new-password", str(exc))
    if new_password and new_password == current_password:
        errors.add("new-password", "the new password is the current one: choose another")
    if new_password != new_password_again:
        errors.add("new-password-again", "the two new passwords are not the same: type it again")
    if errors:
        return _page(request, errors=errors, done=False)
    device_id = app.devices.device_id(request.cookies.get(DEVICE_COOKIE), viewer.user.name)
    try:
        change_own_password(app.store, viewer.user, current=current_password, new=new_password,
                            again=new_password_again, session_token=viewer.token,
                            client=client_of(request), device_id=device_id, policy=app.policy)
    except InvalidRequestError as exc:  # the current password is not right; too many tries: 429
        errors.add("current-password", str(exc))
        return _page(request, errors=errors, done=False)
    return RedirectResponse("/account/password?done=1", status_code=303)
