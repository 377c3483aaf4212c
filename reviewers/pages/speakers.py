"""The review page's speaker corrections: a speaker renamed, a line moved to another speaker.

Plain forms on the review page (no script needed), allowed to the TIP who holds the item.
A bad name or target brings the page back (400) with the problem next to the field; a
correction that worked redirects to what it changed with a one-time note, as the page's
other forms do (:func:`reviewers.pages.review.flash`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InvalidRequestError
from pipeline.review import speakers
from reviewers.auth import Viewer, changing
from reviewers.inputs import LineIndex, RowId
from reviewers.pages.review import flash, problems_of, render_review

router = APIRouter()


@router.post("/items/{item_id}/speakers")
async def rename_speaker(request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
                         speaker: str = Form(max_length=40),
                         name: str = Form("", max_length=2000)) -> Response:
    """Name one of the file's speakers ("Caller", "Officer 2"); empty gives the default back."""
    try:
        speakers.rename_speaker(request.app.state.bwv.store, viewer.user, item_id,
                                speaker=speaker, name=name)
    except InvalidRequestError as exc:
        return render_review(request, viewer, item_id, status_code=400, form="rename",
                             problems=problems_of(exc), sent={"speaker": speaker, "name": name})
    number = speakers.speaker_number(speaker)
    response = RedirectResponse(f"/items/{item_id}#speaker-{number}", status_code=303)
    return flash(response, request, "renamed", number)


@router.post("/items/{item_id}/lines/{line}/speaker")
async def move_line(request: Request, item_id: RowId, line: LineIndex,
                    viewer: Viewer = Depends(changing("tip")),
                    speaker: str = Form(max_length=40)) -> Response:
    """Give a transcript line to another of the file's speakers, or to a new one."""
    try:
        speakers.move_line(request.app.state.bwv.store, viewer.user, item_id, idx=line, to=speaker)
    except InvalidRequestError as exc:
        return render_review(request, viewer, item_id, status_code=400, form="move",
                             problems=problems_of(exc), sent={"line": line, "speaker": speaker})
    response = RedirectResponse(f"/items/{item_id}#line-{line}", status_code=303)
    return flash(response, request, "moved", line)
