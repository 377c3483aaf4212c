"""Claims, for admins: every item someone holds, and giving any of them back to the queue.

A claim otherwise ends only when its holder releases or finishes the item; an admin
releases one left by a person who is away, and disabling an account releases all of
its claims (:func:`pipeline.review.items.release_claims_of`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.review import items as review
from reviewers.auth import Viewer, changing, role
from reviewers.inputs import RowId

router = APIRouter()


@router.get("/admin/claims")
def claims_page(request: Request, viewer: Viewer = Depends(role("admin"))) -> Response:
    """Every item held now: by whom, since when; longest held first."""
    app = request.app.state.bwv
    app.store.audit(actor=review.actor(viewer.user), action="view", obj="claims")
    return app.page(request, "claims.html", claims=app.store.claimed_items())


@router.post("/admin/claims/{item_id}/release")
async def release(request: Request, item_id: RowId,
                  viewer: Viewer = Depends(changing("admin"))) -> Response:
    """Give an item back to the queue, whoever holds it (audited, naming the holder)."""
    review.release_any(request.app.state.bwv.store, viewer.user, item_id)
    return RedirectResponse("/admin/claims", status_code=303)
