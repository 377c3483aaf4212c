"""Annotations: a TIP edits or deletes their own drafts and corrects their submitted ones (a new
version; the old one is kept); trainers search submitted ones (to export them:
:mod:`reviewers.pages.teach`)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.review import items as review
from pipeline.taxonomy import LABELS, PRACTICE_LABELS, TAXONOMY
from pipeline.teach.search import search
from reviewers.auth import Viewer, changing, role
from reviewers.inputs import FilterDay, RowId
from reviewers.pages.review import annotation_input

router = APIRouter()


@router.get("/annotations")
def annotations_page(
    request: Request, viewer: Viewer = Depends(role("trainer")),
    label: str = Query("", max_length=100), category: str = Query("", max_length=100),
    min_rating: int | None = Query(None, ge=1, le=5), max_rating: int | None = Query(None, ge=1, le=5),
    teaching: bool = False, text: str = Query("", max_length=200),
    date_from: FilterDay = None, date_to: FilterDay = None,
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


@router.get("/annotations/{annotation_id}/edit")
def edit_page(request: Request, annotation_id: RowId,
              viewer: Viewer = Depends(role("tip"))) -> Response:
    """The form to change one's own draft, or to correct one's own submitted annotation."""
    app = request.app.state.bwv
    row = review.own_annotation(app.store, viewer.user, annotation_id)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj=f"annotation:{annotation_id}")
    return app.page(request, "annotation_edit.html", annotation=row, labels=json.loads(row.labels),
                    taxonomy=list(TAXONOMY), practice_labels=PRACTICE_LABELS)


@router.post("/annotations/{annotation_id}")
async def edit(
    request: Request, annotation_id: RowId, viewer: Viewer = Depends(changing("tip")),
    start_s: float = Form(), end_s: float = Form(), labels: list[str] = Form(default=[]),
    rating: str = Form("", max_length=2), feedback: str = Form("", max_length=20_000),
    teaching: str | None = Form(None, max_length=10),
) -> Response:
    """Save changes to one's own draft, or a correction of one's own submitted annotation."""
    store = request.app.state.bwv.store
    value = annotation_input(start_s, end_s, labels, rating, feedback, teaching)
    current = review.edit_annotation(store, viewer.user, annotation_id, value)
    item_id = store.annotation(current).review_item_id
    return RedirectResponse(f"/items/{item_id}#annotation-{current}" if item_id else "/queue",
                            status_code=303)


@router.post("/annotations/{annotation_id}/delete")
async def delete(request: Request, annotation_id: RowId,
                 viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Delete one's own draft (a submitted annotation is kept: correct it instead)."""
    item_id = review.delete_annotation(request.app.state.bwv.store, viewer.user, annotation_id)
    return RedirectResponse(f"/items/{item_id}#annotations" if item_id else "/queue", status_code=303)
