"""The sessions page: every live session of one's account, and ending the others.

Signing in again leaves an earlier session open (README, "The review app"); this
page is where a person sees them all and ends any they do not recognise.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.review import items as review
from pipeline.review import sessions
from pipeline.store.schema import ROLES
from reviewers.auth import Viewer, changing, role

router = APIRouter()
#: Every role signs in, changes their own password and ends their own sessions.
EVERYONE = ROLES


@router.get("/sessions")
def sessions_page(request: Request, viewer: Viewer = Depends(role(*EVERYONE))) -> Response:
    """One's live sessions: when each signed in, was last used and will end."""
    app = request.app.state.bwv
    live = sessions.live_sessions(app.store, viewer.user, token=viewer.token, policy=app.policy)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="sessions")
    return app.page(request, "sessions.html", sessions=live)


@router.post("/sessions/end")
async def end(request: Request, viewer: Viewer = Depends(changing(*EVERYONE)),
              session: str = Form(max_length=16)) -> Response:
    """End one of one's other sessions."""
    app = request.app.state.bwv
    sessions.end_session(app.store, viewer.user, session, token=viewer.token,
                         actor=review.actor(viewer.user), policy=app.policy)
    return RedirectResponse("/sessions", status_code=303)


@router.post("/sessions/end-others")
async def end_others(request: Request, viewer: Viewer = Depends(changing(*EVERYONE))) -> Response:
    """End every session of one's account but this one."""
    sessions.end_other_sessions(request.app.state.bwv.store, viewer.user, token=viewer.token,
                                actor=review.actor(viewer.user))
    return RedirectResponse("/sessions", status_code=303)
