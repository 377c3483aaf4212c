"""Footage by id: the proxy of a review item's file, with HTTP Range for seeking, and its
captions from the transcript.

Never a static mount of the store: each request is authorised against the
item and audited. Starlette's ``FileResponse`` answers ``Range`` with 206
and ``Content-Range`` (416 when unsatisfiable). The captions live under the
media's path, so the app treats them as it does the footage (401, not a
redirect to sign in, when signed out).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse, Response

from pipeline.errors import ForbiddenError
from pipeline.review import items as review
from pipeline.review.proxy import ensure_proxy
from reviewers.auth import Viewer, role
from reviewers.inputs import RowId

router = APIRouter()


@router.get("/items/{item_id}/media")
async def item_media(request: Request, item_id: RowId,
                     viewer: Viewer = Depends(role("tip"))) -> Response:
    """The playable copy of the item's footage (H.264/AAC MP4), for the TIP who holds it."""
    app = request.app.state.bwv
    view = app.store.item_view(item_id)
    if not review.may_view_item(viewer.user, view.item):
        raise ForbiddenError(f"review item {item_id} is not yours: claim it from the queue first")
    path = await run_in_threadpool(ensure_proxy, app.instance, view.media)
    app.store.audit(actor=review.actor(viewer.user), action="stream",
                    obj=f"media:{view.media.id}",
                    detail=f"review_item:{item_id} range={request.headers.get('range', 'all')[:100]}")
    return FileResponse(path, media_type="video/mp4", content_disposition_type="inline",
                        filename=f"item-{item_id}.mp4")


@router.get("/items/{item_id}/media/captions.vtt")
def item_captions(request: Request, item_id: RowId, viewer: Viewer = Depends(role("tip"))) -> Response:
    """WebVTT captions of the footage from its transcript, for whoever may watch it (the same
    rule as the footage, and audited like it); cue times are the proxy's, the whole file's."""
    text = review.item_captions(request.app.state.bwv.store, viewer.user, item_id)
    return PlainTextResponse(text, media_type="text/vtt; charset=utf-8")
