"""The team picture for trainers (issue 18, part 5): the same page ``bwv report --teams``
writes, team level only, small groups suppressed (:mod:`pipeline.nightly.teams`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup

from pipeline.nightly.teams import build_picture, render_html
from pipeline.review import items as review
from reviewers.auth import Viewer, role

router = APIRouter()


@router.get("/teams")
async def teams_page(request: Request, viewer: Viewer = Depends(role("trainer", "admin"))) -> Response:
    """Per team and month over six months: items reviewed, practice shown and missed, ratings,
    routine samples with a missed moment; charts and tables."""
    app = request.app.state.bwv
    picture = await run_in_threadpool(build_picture, app.store)
    body = await run_in_threadpool(render_html, picture, standalone=False)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="teams",
                    detail=f"{picture.months[0]} to {picture.months[-1]}")
    # The fragment was rendered by an autoescaping template: its text is already escaped.
    return app.page(request, "teams_page.html", picture=picture, body=Markup(body))  # noqa: S704
