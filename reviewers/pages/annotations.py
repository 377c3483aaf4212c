"""Annotations: a TIP edits or deletes their own drafts and corrects their submitted ones (a new
version; the old one is kept); trainers search submitted ones (to export them:
:mod:`reviewers.pages.teach`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InvalidRequestError
from pipeline.review import items as review
from pipeline.taxonomy import LABELS, PRACTICE_LABELS, TAXONOMY
from pipeline.teach.search import search
from reviewers.auth import Viewer, changing, role
from reviewers.forms import FormErrors, day_range
from reviewers.inputs import RowId
from reviewers.pages.review import annotation_input, problems_of

router = APIRouter()


@router.get("/annotations")
def annotations_page(
    request: Request, viewer: Viewer = Depends(role("trainer")),
    label: str = Query("", max_length=100), category: str = Query("", max_length=100),
    min_rating: str = Query("", max_length=10), max_rating: str = Query("", max_length=10),
    teaching: str = Query("", max_length=10), text: str = Query("", max_length=200),
    date_from: str = Query("", max_length=40), date_to: str = Query("", max_length=40),
) -> Response:
    """Search submitted annotations and teaching examples, and pick moments to export.

    Trainers only: no queue, no footage; what leaves is a redacted pack. Every box may be
    left empty (no filter); a value that does not fit comes back under its box (400).
    """
    search_form = {"label": label, "category": category, "min_rating": min_rating,
                   "max_rating": max_rating, "teaching": teaching, "text": text,
                   "date_from": date_from, "date_to": date_to}
    return render_search(request, viewer, search_form, query=request.url.query)


def render_search(request: Request, viewer: Viewer, form: dict[str, str], *, query: str,
                  ticked: Sequence[int] = (), export: dict[str, str] | None = None,
                  errors: FormErrors | None = None, refusal_audited: bool = False) -> Response:
    """The annotations page for a search (the form's fields as sent); after a refused export
    (``errors``), with the moments ``ticked`` and the ``export`` form filled in as sent."""
    app = request.app.state.bwv
    errors = FormErrors(errors or {})
    label, category = form.get("label", ""), form.get("category", "")
    if label and label not in LABELS:
        errors.add("search-label", f"unknown label {label!r}: choose one from the list")
    if category and category not in TAXONOMY:
        errors.add("search-category", f"unknown category {category!r}: choose one from the list")
    low = _rating(errors, "search-min-rating", form.get("min_rating", ""))
    high = _rating(errors, "search-max-rating", form.get("max_rating", ""))
    if low and high and low > high:
        errors.add("search-max-rating", f"the highest rating ({high}) is below the lowest ({low})")
    first, last = day_range(errors, ("search-from", "search-to"),
                            (form.get("date_from", ""), form.get("date_to", "")),
                            what=("Submitted from", "Submitted to"))
    wanted = form.get("teaching", "").strip() in ("1", "on", "true")
    text = form.get("text", "")
    searched = not any(field.startswith("search-") for field in errors)
    rows = search(
        app.store, actor=review.actor(viewer.user), label=label or None, category=category or None,
        min_rating=low, max_rating=high, teaching=True if wanted else None, text=text or None,
        date_from=first, date_to=last, limit=500) if searched else []
    params = {"label": label, "category": category, "min_rating": form.get("min_rating", "").strip(),
              "max_rating": form.get("max_rating", "").strip(), "teaching": wanted, "text": text,
              "date_from": form.get("date_from", "").strip(), "date_to": form.get("date_to", "").strip()}
    return app.page(request, "annotations.html", status_code=400 if errors else 200, rows=rows,
                    params=params, labels=LABELS, taxonomy=list(TAXONOMY), form_errors=errors,
                    search=query, ticked=set(ticked), refusal_audited=refusal_audited,
                    export=export or {"reason": "", "recipient": ""})


def _rating(errors: FormErrors, field: str, value: str) -> int | None:
    """A rating box: empty (no limit) or a whole number from 1 to 5."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 5):
        errors.add(field, f"a rating is a whole number from 1 to 5, not {value!r}")
        return None
    return int(value)


@router.get("/annotations/{annotation_id}/edit")
def edit_page(request: Request, annotation_id: RowId,
              viewer: Viewer = Depends(role("tip"))) -> Response:
    """The form to change one's own draft, or to correct one's own submitted annotation."""
    app = request.app.state.bwv
    row = review.own_annotation(app.store, viewer.user, annotation_id)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj=f"annotation:{annotation_id}")
    sent = {"start_s": _on_step(row.start_s), "end_s": _on_step(row.end_s), "labels": json.loads(row.labels),
            "rating": str(row.rating or ""), "feedback": row.feedback or "", "teaching": row.teaching}
    return _edit_form(request, row, sent=sent)


def _on_step(seconds: float) -> str:
    """Seconds for a number box with ``step="0.01"``, rounded down: Chromium will not submit a
    value off the step (41.667), and rounding up could pass the end of the file."""
    return f"{math.floor(seconds * 100 + 1e-6) / 100:.2f}"


def _edit_form(request: Request, row: Any, *, sent: dict[str, Any],
               errors: FormErrors | None = None) -> Response:
    """The edit form filled in with ``sent``; with ``errors`` it is a refusal (400)."""
    return request.app.state.bwv.page(
        request, "annotation_edit.html", status_code=400 if errors else 200, annotation=row,
        sent=sent, form_errors=errors or FormErrors(), taxonomy=list(TAXONOMY),
        practice_labels=PRACTICE_LABELS)


@router.post("/annotations/{annotation_id}")
async def edit(
    request: Request, annotation_id: RowId, viewer: Viewer = Depends(changing("tip")),
    start_s: str = Form("", max_length=50), end_s: str = Form("", max_length=50),
    labels: list[str] = Form(default=[]), rating: str = Form("", max_length=2),
    feedback: str = Form("", max_length=20_000), teaching: str | None = Form(None, max_length=10),
) -> Response:
    """Save changes to one's own draft, or a correction of one's own submitted annotation.

    A refused change comes back as the form, filled in as sent, each problem under its field.
    """
    store = request.app.state.bwv.store
    value = annotation_input(start_s, end_s, labels, rating, feedback, teaching)
    try:
        current = review.edit_annotation(store, viewer.user, annotation_id, value)
    except InvalidRequestError as exc:
        row = review.own_annotation(store, viewer.user, annotation_id)
        errors = FormErrors()
        for field, problem in problems_of(exc).items():
            errors.add(f"edit-{field}", problem)
        sent = {"start_s": start_s.strip(), "end_s": end_s.strip(), "labels": list(value.labels),
                "rating": rating.strip(),
                "feedback": feedback, "teaching": value.teaching}
        return _edit_form(request, row, sent=sent, errors=errors)
    item_id = store.annotation(current).review_item_id
    return RedirectResponse(f"/items/{item_id}#annotation-{current}" if item_id else "/queue",
                            status_code=303)


@router.post("/annotations/{annotation_id}/delete")
async def delete(request: Request, annotation_id: RowId,
                 viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Delete one's own draft (a submitted annotation is kept: correct it instead)."""
    item_id = review.delete_annotation(request.app.state.bwv.store, viewer.user, annotation_id)
    return RedirectResponse(f"/items/{item_id}#annotations" if item_id else "/queue", status_code=303)
