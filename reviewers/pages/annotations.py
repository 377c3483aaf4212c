"""Annotations: a TIP edits or deletes their own; trainers search submitted ones and export packs."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from functools import partial
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from pipeline import clock
from pipeline.review import items as review
from pipeline.taxonomy import LABELS, PRACTICE_LABELS, TAXONOMY
from pipeline.teach import pack as teach
from pipeline.teach.search import search
from reviewers.auth import Viewer, changing, role
from reviewers.pages.review import annotation_input

router = APIRouter()


@router.get("/annotations")
def annotations_page(
    request: Request, viewer: Viewer = Depends(role("trainer")),
    label: str = Query("", max_length=100), category: str = Query("", max_length=100),
    min_rating: int | None = Query(None, ge=1, le=5), max_rating: int | None = Query(None, ge=1, le=5),
    teaching: bool = False, text: str = Query("", max_length=200),
    date_from: date | None = None, date_to: date | None = None,
) -> Response:
    """Search submitted annotations and teaching examples, and pick moments to export.

    Trainers only: no queue, no footage; what leaves is a redacted pack.
    """
    app = request.app.state.bwv
    rows = search(app.store, actor=review.actor(viewer.user), label=label or None,
                        category=category or None, min_rating=min_rating, max_rating=max_rating,
                        teaching=True if teaching else None, text=text or None,
                        date_from=date_from, date_to=date_to, limit=500)
    params = {"label": label, "category": category, "min_rating": min_rating or "",
              "max_rating": max_rating or "", "teaching": teaching, "text": text,
              "date_from": date_from or "", "date_to": date_to or ""}
    return app.page(request, "annotations.html", rows=rows, params=params, labels=LABELS,
                    taxonomy=list(TAXONOMY))


@router.post("/teach/export")
async def export(
    request: Request, viewer: Viewer = Depends(changing("trainer")),
    annotation_ids: list[int] = Form(default=[]), reason: str = Form("", max_length=1000),
    recipient: str = Form("", max_length=1000),
) -> Response:
    """Build a redacted teaching pack of the chosen moments and download it."""
    app = request.app.state.bwv
    req = teach.ExportRequest(annotation_ids=tuple(annotation_ids), reason=reason,
                              recipient=recipient, actor=review.actor(viewer.user),
                              exporter=viewer.user.name, role=viewer.user.role)
    teach.check_request(req)
    folder = Path(tempfile.mkdtemp(prefix="pack-", dir=app.instance.tmp_dir))
    out = folder / f"teaching-pack-{clock.now():%Y%m%d-%H%M%S}.zip"
    try:
        await run_in_threadpool(partial(teach.export_with_defaults, rubric=app.rubric),
                                app.instance, app.store, req, out)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, media_type="application/zip", filename=out.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/annotations/{annotation_id}/edit")
def edit_page(request: Request, annotation_id: int,
              viewer: Viewer = Depends(role("tip"))) -> Response:
    """The form to change one's own annotation."""
    app = request.app.state.bwv
    row = review.own_annotation(app.store, viewer.user, annotation_id)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj=f"annotation:{annotation_id}")
    return app.page(request, "annotation_edit.html", annotation=row, labels=json.loads(row.labels),
                    taxonomy=list(TAXONOMY), practice_labels=PRACTICE_LABELS)


@router.post("/annotations/{annotation_id}")
async def edit(
    request: Request, annotation_id: int, viewer: Viewer = Depends(changing("tip")),
    start_s: float = Form(), end_s: float = Form(), labels: list[str] = Form(default=[]),
    rating: str = Form("", max_length=2), feedback: str = Form("", max_length=20_000),
    teaching: str | None = Form(None, max_length=10),
) -> Response:
    """Save changes to one's own annotation."""
    store = request.app.state.bwv.store
    value = annotation_input(start_s, end_s, labels, rating, feedback, teaching)
    review.edit_annotation(store, viewer.user, annotation_id, value)
    item_id = store.annotation(annotation_id).review_item_id
    return RedirectResponse(f"/items/{item_id}#annotation-{annotation_id}" if item_id else "/queue",
                            status_code=303)


@router.post("/annotations/{annotation_id}/delete")
async def delete(request: Request, annotation_id: int,
                 viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Delete one's own annotation."""
    item_id = review.delete_annotation(request.app.state.bwv.store, viewer.user, annotation_id)
    return RedirectResponse(f"/items/{item_id}#annotations" if item_id else "/queue", status_code=303)
