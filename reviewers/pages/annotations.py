"""Annotations: a TIP edits or deletes their own; trainers browse submitted ones."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline import review
from pipeline.errors import InvalidRequestError
from pipeline.rubric import TAXONOMY
from pipeline.schema import PRACTICE_LABELS
from reviewers.auth import Viewer, changing, role
from reviewers.pages.review import annotation_input

router = APIRouter()


@router.get("/annotations")
def annotations_page(request: Request, viewer: Viewer = Depends(role("trainer")),
                     label: str = Query("", max_length=100), teaching: bool = False) -> Response:
    """Submitted annotations and teaching examples (trainers; no queue, no footage)."""
    if label and label not in review.LABELS:
        raise InvalidRequestError(f"unknown label {label!r}")
    app = request.app.state.bwv
    rows = app.store.submitted_annotations(label=label or None, teaching=True if teaching else None)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="annotations",
                    detail=str(request.url.query)[:500] or None)
    return app.page(request, "annotations.html", rows=rows, label=label, teaching=teaching,
                    labels=review.LABELS)


@router.get("/annotations/{annotation_id}/edit")
def edit_page(request: Request, annotation_id: int,
              viewer: Viewer = Depends(role("tip"))) -> Response:
    """The form to change one's own annotation."""
    app = request.app.state.bwv
    row = review.own_annotation(app.store, viewer.user, annotation_id)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj=f"annotation:{annotation_id}")
    import json

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
