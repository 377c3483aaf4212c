"""One's own account: changing one's password (every role)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InvalidRequestError
from pipeline.review.accounts import MAX_PASSWORD, MIN_PASSWORD, change_own_password
from reviewers.auth import DEVICE_COOKIE, Viewer, changing, role
from reviewers.security import client_of

router = APIRouter()
EVERYONE = ("tip", "trainer", "admin")


@router.get("/account/password")
def password_page(request: Request, viewer: Viewer = Depends(role(*EVERYONE)),
                  done: bool = Query(False)) -> Response:
    """The form to change one's password (and, after a change, that it was changed)."""
    return _page(request, error=None, done=done, status_code=200)


def _page(request: Request, *, error: str | None, done: bool, status_code: int) -> Response:
    return request.app.state.bwv.page(request, "account_password.html", status_code=status_code,
                                      error=error, done=done, min_password=MIN_PASSWORD,
                                      max_password=MAX_PASSWORD)


@router.post("/account/password")
async def change_password(request: Request, viewer: Viewer = Depends(changing(*EVERYONE)),
                          current_password: str = Form(max_length=1000),
                          new_password: str = Form(max_length=1000),
                          new_password_again: str = Form(max_length=1000)) -> Response:
    """Check the current password, set the new one and sign out the user's other sessions."""
    app = request.app.state.bwv
    device_id = app.devices.device_id(request.cookies.get(DEVICE_COOKIE), viewer.user.name)
    try:
        change_own_password(app.store, viewer.user, current=current_password, new=new_password,
                            again=new_password_again, session_token=viewer.token,
                            client=client_of(request), device_id=device_id, policy=app.policy)
    except InvalidRequestError as exc:  # said on the form; too many tries: 429
        return _page(request, error=str(exc), done=False, status_code=400)
    return RedirectResponse("/account/password?done=1", status_code=303)
