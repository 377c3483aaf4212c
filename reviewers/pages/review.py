"""The review page: player, synced transcript, flags with guidance, annotations; and its actions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InvalidRequestError
from pipeline.review import items as review
from pipeline.taxonomy import PRACTICE_LABELS, TAXONOMY
from reviewers.auth import Viewer, changing, role
from reviewers.inputs import RowId

router = APIRouter()
#: Transcript shown either side of the item's window, so the interaction has its lead-in.
CONTEXT_S = 30.0


@dataclass(frozen=True)
class Line:
    """A transcript line with its timed words."""

    start_s: float
    end_s: float
    words: list[tuple[float, float, str]]
    text: str
    in_item: bool


def _lines(store, media_id: int, start_s: float, end_s: float,  # type: ignore[no-untyped-def]
           item_start: float, item_end: float) -> list[Line]:
    lines = []
    for seg in store.segments_between(media_id, start_s, end_s):
        words = [(w["start_s"], w["end_s"], w["word"]) for w in json.loads(seg.words_json)]
        lines.append(Line(seg.start_s, seg.end_s, words, seg.text.strip(),
                          seg.end_s > item_start and seg.start_s < item_end))
    return lines


@router.get("/items/{item_id}")
def review_page(request: Request, item_id: RowId, viewer: Viewer = Depends(role("tip"))) -> Response:
    """Everything a TIP needs to review one interaction (they must hold or have reviewed it)."""
    app = request.app.state.bwv
    view = review.open_item(app.store, viewer.user, item_id)
    item, media = view.item, view.media
    duration = media.duration_s or item.end_s
    window = (max(0.0, item.start_s - CONTEXT_S), min(duration, item.end_s + CONTEXT_S))
    flags = app.store.item_flags(item_id)
    who = review.actor(viewer.user)
    judged = app.store.flag_feedback_kinds([f.id for f in flags], reviewer=who)
    guidance = {flag.id: app.rubric.guidance_for(flag.category) for flag in flags}
    return app.page(
        request, "review.html", view=view, item=item, media=media, duration=duration,
        window=window, lines=_lines(app.store, media.id, *window, item.start_s, item.end_s),
        flags=flags, judged=judged, guidance=guidance, holds=review.holds(viewer.user, item),
        annotations=app.store.item_annotations(item_id, viewer_id=viewer.user.id),
        missed=app.store.missed_moments(media.id, reviewer=who),
        taxonomy=list(TAXONOMY), practice_labels=PRACTICE_LABELS,
        rubric_categories=[c.id for c in app.rubric.categories],
    )


@router.post("/items/{item_id}/reviewed")
async def mark_reviewed(request: Request, item_id: RowId,
                        viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Finish the review: drafts are submitted, unmarked flags count as confirmed."""
    review.finish(request.app.state.bwv.store, viewer.user, item_id, status="reviewed")
    return RedirectResponse("/queue", status_code=303)


@router.post("/items/{item_id}/dismiss")
async def dismiss(request: Request, item_id: RowId,
                  viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Close an item that needs no review."""
    review.finish(request.app.state.bwv.store, viewer.user, item_id, status="dismissed")
    return RedirectResponse("/queue", status_code=303)


def annotation_input(start_s: float, end_s: float, labels: list[str], rating: str,
                     feedback: str, teaching: str | None) -> review.AnnotationInput:
    """An annotation from form fields (rating may be blank: not rated).

    The rating is ASCII digits or nothing: ``"²".isdigit()`` is true, but ``int("²")`` fails.
    Its range is checked with the other fields, so every problem is listed together.
    """
    rating = rating.strip()
    if rating and not (rating.isascii() and rating.isdigit()):
        raise InvalidRequestError("the rating must be from 1 to 5")
    return review.AnnotationInput(
        start_s=start_s, end_s=end_s, labels=review.labels_from(labels),
        rating=int(rating) if rating else None, feedback=feedback,
        teaching=teaching in ("on", "1", "true"),
    )


@router.post("/items/{item_id}/annotations")
async def add_annotation(
    request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
    start_s: float = Form(), end_s: float = Form(), labels: list[str] = Form(default=[]),
    rating: str = Form("", max_length=2), feedback: str = Form("", max_length=20_000),
    teaching: str | None = Form(None, max_length=10),
) -> Response:
    """Save a new annotation on the held item."""
    value = annotation_input(start_s, end_s, labels, rating, feedback, teaching)
    annotation_id = review.annotate(request.app.state.bwv.store, viewer.user, item_id, value)
    return RedirectResponse(f"/items/{item_id}#annotation-{annotation_id}", status_code=303)


@router.post("/items/{item_id}/missed")
async def add_missed(
    request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
    category: str = Form(max_length=100), start_s: float = Form(), end_s: float = Form(),
    note: str = Form("", max_length=2000),
) -> Response:
    """Record a moment the rubric should have flagged, in one of the rubric's categories."""
    app = request.app.state.bwv
    review.add_missed(app.store, viewer.user, item_id, category=category, start_s=start_s,
                      end_s=end_s, note=note.strip() or None, rubric=app.rubric)
    return RedirectResponse(f"/items/{item_id}#missed", status_code=303)


@router.post("/flags/{flag_id}/feedback")
async def flag_feedback(request: Request, flag_id: RowId, viewer: Viewer = Depends(changing("tip")),
                        relevant: str = Form(max_length=3)) -> Response:
    """Mark a flag "not relevant" (relevant=no) or confirm it (relevant=yes)."""
    if relevant not in ("yes", "no"):
        raise InvalidRequestError("relevant must be yes or no")
    item_id = review.judge_flag(request.app.state.bwv.store, viewer.user, flag_id,
                                relevant=relevant == "yes")
    return RedirectResponse(f"/items/{item_id}#flag-{flag_id}", status_code=303)
