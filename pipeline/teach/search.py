"""The trainer's search over submitted annotations, audited."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pipeline.errors import InvalidRequestError
from pipeline.store import Store
from pipeline.store.annotations import AnnotationQuery


def search(store: Store, *, actor: str, label: str | None = None, category: str | None = None,
           min_rating: int | None = None, max_rating: int | None = None,
           teaching: bool | None = None, text: str | None = None, date_from: date | None = None,
           date_to: date | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Submitted annotations matching a search, as rows; the search itself is audited."""
    from pipeline.taxonomy import LABELS, PRACTICE_LABELS, TAXONOMY

    if label and label not in LABELS:
        raise InvalidRequestError(f"unknown label {label!r}: use a taxonomy id or one of "
                                  f"{', '.join(repr(x) for x in PRACTICE_LABELS)}")
    if category and category not in TAXONOMY:
        raise InvalidRequestError(f"unknown category {category!r}: use a taxonomy id from rubrics/README.md")
    if min_rating and max_rating and min_rating > max_rating:
        raise InvalidRequestError("the lowest rating asked for is above the highest")
    rows = store.search_annotations(AnnotationQuery(
        label=label or None, category=category or None, min_rating=min_rating,
        max_rating=max_rating, teaching=teaching, text=(text or "").strip() or None,
        submitted_from=date_from, submitted_to=date_to, limit=limit,
    ))
    store.audit(actor=actor, action="teach-search", obj="annotations",
                detail=json.dumps({k: str(v) for k, v in {
                    "label": label, "category": category, "min_rating": min_rating,
                    "max_rating": max_rating, "teaching": teaching, "text": text,
                    "from": date_from, "to": date_to}.items() if v is not None}, sort_keys=True))
    return [{
        "id": r.annotation.id, "file": r.name, "start_s": r.annotation.start_s,
        "end_s": r.annotation.end_s, "labels": r.labels, "rating": r.annotation.rating,
        "teaching": r.annotation.teaching, "feedback": r.annotation.feedback, "author": r.author,
        "submitted_at": r.annotation.submitted_at.isoformat() if r.annotation.submitted_at else None,
    } for r in rows]
