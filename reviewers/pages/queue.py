"""The queue page: review items to claim, filtered, searched and sorted, with who holds each
(and who dismissed or released one, and why); claiming the next item; giving one back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.batch.incidents import INCIDENT_TYPES
from pipeline.batch.metadata import OFFICER_ID, canonical_officer
from pipeline.errors import InvalidRequestError
from pipeline.review import items as review
from pipeline.store.review import QueueFilter
from pipeline.store.schema import ITEM_STATES
from pipeline.taxonomy import TAXONOMY
from reviewers.auth import Viewer, changing, role
from reviewers.forms import FormErrors, days_in_order
from reviewers.inputs import FilterDay, RowId
from reviewers.pages.review import flash, problems_of, render_review, said_once, take_flash

router = APIRouter()
PER_PAGE = 50
FAMILIES = ("disclosure", "concern", "practice")
_STATUS_CHOICES = {"open": ("new", "claimed"), "all": (), **{s: (s,) for s in ITEM_STATES}}


@dataclass(frozen=True)
class MetaAsked:
    """The footage-metadata filters of the query string: ``team`` is "" (the viewer's default
    teams, and footage with no team; all footage for a viewer with none), ``all``, ``none``
    (footage with no team) or a team."""

    team: str = ""
    officer: str = ""
    incident: str = ""
    shift: str = ""
    kind: str = ""


def _meta_filter(asked: MetaAsked, *, defaults: list[str], choices: dict[str, list[str]],
                 problems: list[str]) -> dict[str, Any]:
    if asked.team not in ("", "all", "none", *choices["team"], *defaults):
        problems.append(f"no footage is of team {asked.team!r}")
    if asked.incident and asked.incident not in INCIDENT_TYPES:
        problems.append(f"incident type must be one of {', '.join(INCIDENT_TYPES)}")
    if asked.shift and asked.shift not in choices["shift"]:
        problems.append(f"no footage is of shift {asked.shift!r}")
    if asked.kind not in ("", "flagged", "routine"):
        problems.append("kind must be flagged or routine")
    if asked.officer and not OFFICER_ID.match(asked.officer):
        problems.append("an officer is their collar number: letters and digits")
    # "none": footage no manifest gave a team (no stored team is empty: only the rest match).
    teams = {"": tuple(defaults), "all": (), "none": ("",)}.get(asked.team, (asked.team,))
    return {"teams": teams, "or_no_team": asked.team in ("", "none"), "officer_id": asked.officer,
            "incident_type": asked.incident, "shift": asked.shift, "kind": asked.kind}


def queue_filter(viewer: Viewer, *, status: str, category: str, family: str, mine: bool,
                 date_from: date | None, date_to: date | None, sort: str, text: str = "",
                 asked: MetaAsked = MetaAsked(), defaults: list[str] | None = None,
                 choices: dict[str, list[str]] | None = None) -> QueueFilter:
    """The filter the query string asks for; unknown values are refused, not ignored."""
    problems: list[str] = []
    meta = _meta_filter(asked, defaults=defaults or [],
                        choices=choices or {"team": [], "shift": []},
                        problems=problems)
    if status not in _STATUS_CHOICES:
        problems.append(f"status must be one of {', '.join(_STATUS_CHOICES)}")
    if category and category not in TAXONOMY:
        problems.append(f"unknown category {category!r}")
    if family and family not in FAMILIES:
        problems.append(f"family must be one of {', '.join(FAMILIES)}")
    if sort not in ("priority", "newest"):
        problems.append("sort must be priority or newest")
    if problems:
        raise InvalidRequestError("; ".join(problems))
    categories = [category] if category else []
    if family:
        in_family = [c for c, f in TAXONOMY.items() if f == family]
        categories = [c for c in categories if c in in_family] if category else in_family
        if not categories:
            categories = ["-none-"]  # the category is not in the family: nothing matches
    return QueueFilter(statuses=_STATUS_CHOICES[status], categories=tuple(categories),
                       mine_user_id=viewer.user.id if mine else None, date_from=date_from,
                       date_to=date_to, sort=sort, text=text.strip(), **meta)


@router.get("/queue")
def queue_page(
    request: Request,
    viewer: Viewer = Depends(role("tip")),
    status: str = Query("open", max_length=20),
    category: str = Query("", max_length=100),
    family: str = Query("", max_length=20),
    mine: bool = False,
    date_from: FilterDay = None,
    date_to: FilterDay = None,
    sort: str = Query("priority", max_length=20),
    q: str = Query("", max_length=100),
    team: str = Query("", max_length=100),
    officer: str = Query("", max_length=40),
    incident: str = Query("", max_length=40),
    shift: str = Query("", max_length=100),
    kind: str = Query("", max_length=20),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    """Review items, highest priority first, 50 to a page; ``q`` searches file names and what
    the items' flags quote; ``team``, ``officer``, ``incident`` and ``shift`` filter by the
    footage's metadata (a TIP's default teams unless ``team`` says otherwise)."""
    app = request.app.state.bwv
    defaults = app.store.default_teams(viewer.user.id)
    choices = app.store.meta_choices(("team", "shift"))  # officers: a box, not a list
    asked = MetaAsked(team=team, officer=canonical_officer(officer), incident=incident, shift=shift,
                      kind=kind)
    flt = queue_filter(viewer, status=status, category=category, family=family, mine=mine,
                       date_from=date_from, date_to=date_to, sort=sort, text=q, asked=asked,
                       defaults=defaults, choices=choices)
    errors = FormErrors()
    days_in_order(errors, "queue-to", date_from, date_to)  # the form back, the problem by the box
    rows, total = app.store.queue_page(flt, offset=(page - 1) * PER_PAGE, limit=PER_PAGE) \
        if not errors else ([], 0)
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="queue",
                    detail=str(request.url.query)[:500] or None)
    params = {"status": status, "category": category, "family": family,
              "mine": "1" if mine else "", "date_from": date_from or "", "date_to": date_to or "",
              "sort": sort, "q": q, "team": team, "officer": asked.officer, "incident": incident,
              "shift": shift, "kind": kind}
    response = app.page(request, "queue.html", rows=rows, total=total, page=page,
                        default_teams=defaults, choices=choices, incident_types=INCIDENT_TYPES,
                        pages=max(1, -(-total // PER_PAGE)), params=params, families=FAMILIES,
                        taxonomy=list(TAXONOMY), statuses=list(_STATUS_CHOICES),
                        done=take_flash(request), form_errors=errors,
                        status_code=400 if errors else 200)
    return said_once(request, response)


@router.post("/queue/next")
async def claim_next(request: Request, viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Claim the most urgent item nobody holds and open it (back to the queue if none is left)."""
    item_id = review.claim_next(request.app.state.bwv.store, viewer.user)
    if item_id is None:
        return flash(RedirectResponse("/queue", status_code=303), request, "none-left")
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/claim")
async def claim(request: Request, item_id: RowId,
                viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Take an item and open it (409 if someone else holds it)."""
    review.claim(request.app.state.bwv.store, viewer.user, item_id)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/release")
async def release(request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
                  reason: str = Form("", max_length=2000)) -> Response:
    """Give an item back to the queue, saying why (the queue shows it to the next TIP)."""
    try:
        review.release(request.app.state.bwv.store, viewer.user, item_id, reason=reason)
    except InvalidRequestError as exc:
        return render_review(request, viewer, item_id, status_code=400, form="release",
                             problems=problems_of(exc), sent={"reason": reason})
    return flash(RedirectResponse("/queue", status_code=303), request, "released", item_id)
