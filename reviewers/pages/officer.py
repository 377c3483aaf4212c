"""Feedback for officers (issue 18, part 2): what TIPs shared with the officer who wore the
camera, the officer's own footage of that moment, and their acknowledgement and reply; and
the TIP's forms to share an annotation and to withdraw it.

Every route names its role; an officer reaches only what was shared with their collar
number (anyone else's is "not found"), and every view, stream and answer is audited in
:mod:`pipeline.review.officers`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from pipeline.batch.incidents import INCIDENT_TYPES
from pipeline.errors import BwvError, ConflictError, InvalidRequestError
from pipeline.nightly.teams import officer_figures
from pipeline.review import items as review
from pipeline.review import officers
from pipeline.review.proxy import ensure_proxy
from reviewers.auth import Viewer, changing, role
from reviewers.forms import FormErrors
from reviewers.inputs import RowId
from reviewers.pages.review import flash, problems_of, render_review, take_flash

router = APIRouter()


@router.get("/feedback")
def feedback_list(request: Request, viewer: Viewer = Depends(role("officer"))) -> Response:
    """Everything TIPs shared with this officer, newest first."""
    app = request.app.state.bwv
    rows = officers.officer_list(app.store, viewer.user)
    mine = officer_figures(app.store, viewer.user.officer_id or "")
    return app.page(request, "feedback_list.html", rows=rows, incident_types=INCIDENT_TYPES,
                    mine=mine)


def _moment(request: Request, viewer: Viewer, shared_id: int, *, status_code: int = 200,
            errors: FormErrors | None = None, sent: str = "") -> Response:
    app = request.app.state.bwv
    moment = officers.officer_moment(app.store, viewer.user, shared_id, rubric=app.rubric)
    done = None if errors else take_flash(request)  # a refusal says only what is wrong
    return app.page(request, "feedback.html", status_code=status_code, moment=moment,
                    said=done.text if done else None, form_errors=errors or FormErrors(),
                    sent=sent, reply_chars=officers.REPLY_CHARS)


@router.get("/feedback/{shared_id}")
def feedback_page(request: Request, shared_id: RowId,
                  viewer: Viewer = Depends(role("officer"))) -> Response:
    """One shared moment: the footage, the transcript around it, the TIP's feedback and the
    rubric's guidance, with Acknowledge and Reply."""
    return _moment(request, viewer, shared_id)


@router.get("/feedback/{shared_id}/media")
async def feedback_media(request: Request, shared_id: RowId,
                         viewer: Viewer = Depends(role("officer"))) -> Response:
    """The playable copy of the officer's own footage of a shared moment (HTTP Range)."""
    app = request.app.state.bwv
    media = officers.officer_media(app.store, viewer.user, shared_id)
    path = await run_in_threadpool(ensure_proxy, app.instance, media)
    app.store.audit(actor=review.actor(viewer.user), action="stream", obj=f"media:{media.id}",
                    detail=f"shared:{shared_id} range={request.headers.get('range', 'all')[:100]}")
    return FileResponse(path, media_type="video/mp4", content_disposition_type="inline",
                        filename=f"feedback-{shared_id}.mp4")


@router.get("/feedback/{shared_id}/media/captions.vtt")
def feedback_captions(request: Request, shared_id: RowId,
                      viewer: Viewer = Depends(role("officer"))) -> Response:
    """Captions of that footage from its transcript (the same rule as the footage)."""
    text = officers.officer_captions(request.app.state.bwv.store, viewer.user, shared_id)
    return PlainTextResponse(text, media_type="text/vtt; charset=utf-8")


@router.post("/feedback/{shared_id}/acknowledge")
async def acknowledge(request: Request, shared_id: RowId,
                      viewer: Viewer = Depends(changing("officer"))) -> Response:
    """The officer has read the feedback."""
    officers.acknowledge(request.app.state.bwv.store, viewer.user, shared_id)
    return flash(RedirectResponse(f"/feedback/{shared_id}", status_code=303), request,
                 "acknowledged")


@router.post("/feedback/{shared_id}/reply")
async def reply(request: Request, shared_id: RowId, viewer: Viewer = Depends(changing("officer")),
                text: str = Form("", alias="reply", max_length=4000)) -> Response:
    """The officer's one reply to the TIP (a problem comes back under the box, 400)."""
    try:
        officers.reply(request.app.state.bwv.store, viewer.user, shared_id, text)
    except InvalidRequestError as exc:
        return _moment(request, viewer, shared_id, status_code=400,
                       errors=FormErrors({"reply-text": str(exc)}), sent=text)
    return flash(RedirectResponse(f"/feedback/{shared_id}", status_code=303), request, "replied")


@router.post("/annotations/{annotation_id}/share")
async def share(request: Request, annotation_id: RowId, viewer: Viewer = Depends(changing("tip")),
                note: str = Form("", max_length=4000)) -> Response:
    """Share a submitted annotation with the officer who wore the camera, with a note
    written for them; back to its item."""
    app = request.app.state.bwv
    try:
        officers.share(app.store, viewer.user, annotation_id, note=note)
    except (InvalidRequestError, ConflictError) as exc:
        # Back on the item's page, the problem under the box and the words kept in it.
        item = app.store.annotation(annotation_id).review_item_id
        if item is None:
            raise
        try:
            return render_review(request, viewer, item, form="share",
                                 status_code=409 if isinstance(exc, ConflictError) else 400,
                                 problems=problems_of(exc),
                                 sent={"annotation": annotation_id, "note": note})
        except BwvError:  # the item is no longer theirs to open: the refusal on its own
            raise exc from None
    return _back_to_item(request, annotation_id, "shared")


@router.post("/annotations/{annotation_id}/unshare")
async def unshare(request: Request, annotation_id: RowId,
                  viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Stop showing an annotation to the officer."""
    app = request.app.state.bwv
    officers.withdraw(app.store, viewer.user, annotation_id)
    return _back_to_item(request, annotation_id, "unshared")


def _back_to_item(request: Request, annotation_id: int, what: str) -> Response:
    item = request.app.state.bwv.store.annotation(annotation_id).review_item_id
    target = f"/items/{item}#annotation-{annotation_id}" if item else "/queue"
    return flash(RedirectResponse(target, status_code=303), request, what, annotation_id)
