"""The review page: player, synced transcript, flags with guidance, annotations; and its actions.

A form on the page with a bad value (no label chosen, a range that runs backwards, a blank
reason) comes back as the page again, answered 400, with the form filled in as it was sent
and each problem next to its field. A change that worked redirects with a one-time note
(:func:`flash`) that the next page says in its status region.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import ConflictError, InvalidRequestError
from pipeline.review import items as review
from pipeline.review import speakers as voices
from pipeline.store.speakers import SpeakerState
from pipeline.taxonomy import PRACTICE_LABELS, TAXONOMY
from reviewers.auth import Viewer, changing, role
from reviewers.inputs import RowId

router = APIRouter()
#: Transcript shown either side of the item's window, so the interaction has its lead-in.
CONTEXT_S = review.CONTEXT_S
#: The one-time note a change leaves for the next page: what happened, and to which object
#: (``saved:7``: annotation 7; ``reviewed:12``: item 12; ``judged-no:3``: flag 3;
#: ``renamed:2``: speaker 2, 1 being the wearer; ``moved:5``: transcript line 5).
FLASH_COOKIE = "bwv_done"
_FLASH = re.compile(r"(saved|missed|judged-no|judged-yes|reviewed|dismissed|released|none-left|renamed|moved"
                    r"|shared|unshared|acknowledged|replied)"
                    r"(?::(\d{1,10}))?")
_SAID = {
    "saved": "Annotation saved: a draft, seen only by you, until you mark the item reviewed.",
    "missed": "Missed moment added.",
    "judged-no": "Flag marked not relevant.",
    "judged-yes": "Flag marked relevant again.",
    "reviewed": "Item {item} marked reviewed: trainers now see its annotations.",
    "dismissed": "Item {item} dismissed.",
    "released": "Item {item} released back to the queue.",
    "none-left": "No item is waiting to be claimed.",
    # Said with the speaker's name where the page has it (_said_about_speakers).
    "renamed": "Speaker renamed.",
    "moved": "Line moved to another speaker.",
    # Feedback shared with the officer (pages/officer.py), and the officer's answers.
    "shared": "Shared with the officer who wore the camera.",
    "unshared": "No longer shown to the officer.",
    "acknowledged": "Thank you: the TIP can see you have read it.",
    "replied": "Your reply was sent to the TIP.",
}
#: Which field of each form a problem goes with, in the order the fields come on the page.
_FIELDS = {"annotate": ("form", "range", "labels", "rating", "feedback"),
           "missed": ("form", "range", "category", "note"),
           "dismiss": ("form", "reason"), "release": ("form", "reason"),
           "rename": ("form", "name"), "move": ("form", "speaker"), "share": ("form", "note")}
#: What the page says near the transcript when flags were made without knowing who spoke.
_WITHOUT_SPEAKERS = {
    "one voice": "only one voice was heard, so each category was matched whoever said the words.",
    "without speakers": "the voices could not be told apart, so each category was matched "
                        "whoever said the words.",
    None: "it was transcribed before bwv told speakers apart.",
}


@dataclass(frozen=True)
class Said:
    """A note for the page to say once, and the id of the element it is said in ("": the top).

    A page redirected to ``#annotation-7`` is shown there, and Chromium takes the focus from
    the page for that fragment (to the element, if it can take focus): so the note is said in
    that element, which is given ``tabindex="-1"`` and so the focus, and a screen reader reads
    the note with it. A note at the top is focused by review.js.
    """

    text: str
    at: str


@dataclass(frozen=True)
class Line:
    """A transcript line with its timed words, and who says it (None: not told apart)."""

    start_s: float
    end_s: float
    words: list[tuple[float, float, str]]
    text: str
    in_item: bool
    idx: int = 0
    speaker: str | None = None
    name: str = ""  # the speaker's name as shown (a TIP's, else "Wearer", "Speaker 2")

    @property
    def voice(self) -> str:
        """The CSS class of the speaker's colour, shown with the name."""
        return voices.voice_class(self.speaker)


@dataclass(frozen=True)
class FlagSpeaker:
    """Who says a flag's words now, and who the flag was made for if a TIP moved them since."""

    name: str
    voice: str
    flagged_as: str | None


def _lines(store, media_id: int, start_s: float, end_s: float,  # type: ignore[no-untyped-def]
           item_start: float, item_end: float, state: SpeakerState) -> list[Line]:
    lines = []
    for seg in store.segments_between(media_id, start_s, end_s):
        words = [(w["start_s"], w["end_s"], w["word"]) for w in json.loads(seg.words_json)]
        lines.append(Line(seg.start_s, seg.end_s, words, seg.text.strip(),
                          seg.end_s > item_start and seg.start_s < item_end, seg.idx, seg.speaker,
                          state.name(seg.speaker) if seg.speaker else ""))
    return lines


def _flag_speakers(flags, lines: list[Line], state: SpeakerState  # type: ignore[no-untyped-def]
                   ) -> dict[int, FlagSpeaker]:
    """Each flag's speaker as the transcript has it now: the line its words overlap most."""
    out = {}
    for flag in flags:
        overlaps = [(min(line.end_s, flag.end_s) - max(line.start_s, flag.start_s), line.speaker)
                    for line in lines]
        most, said_by = max(overlaps, key=lambda pair: pair[0], default=(0.0, None))
        flagged = flag.speaker if flag.speaker and flag.speaker != "unknown" else None
        speaker = said_by if most > 0 else flagged
        if speaker:
            was = state.name(flagged) if flagged and flagged != speaker else None
            out[flag.id] = FlagSpeaker(state.name(speaker), voices.voice_class(speaker), was)
    return out


def _said_about_speakers(done: Said | None, speakers: list[voices.Speaker],
                         lines: list[Line]) -> Said | None:
    """A note on a speaker renamed or a line moved, with the names the page shows now."""
    if done is None:
        return None
    what, _, number = done.at.partition("-")
    if what == "speaker":
        for sp in speakers:
            if str(sp.number) == number:
                return Said(f"{sp.default} is now called {sp.name}: the transcript, captions and "
                            "exports use the name." if sp.renamed
                            else f"{sp.default} has its default name again.", done.at)
    if what == "line":
        for line in lines:
            if str(line.idx) == number and line.speaker:
                return Said(f"Line moved: {line.name} says it now.", done.at)
    # A speaker or line the page no longer shows: said at the top.
    return Said(done.text, "") if what in ("speaker", "line") else done


def flash(response: Response, request: Request, what: str, object_id: int | None = None) -> Response:
    """Leave a one-time note for the page the response redirects to (said once, then gone)."""
    value = what if object_id is None else f"{what}:{object_id}"
    response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


def take_flash(request: Request) -> Said | None:
    """What the note left by the last change says, if any (only the notes :data:`_SAID` knows),
    and where."""
    found = _FLASH.fullmatch(request.cookies.get(FLASH_COOKIE, ""))
    if found is None:
        return None
    what, number = found.group(1), found.group(2) or ""
    at = {"saved": f"annotation-{number}", "shared": f"annotation-{number}",
          "unshared": f"annotation-{number}", "missed": "missed", "judged-no": f"flag-{number}",
          "judged-yes": f"flag-{number}", "renamed": f"speaker-{number}",
          "moved": f"line-{number}"}.get(what, "")
    return Said(_SAID[what].format(item=number), at if number or what == "missed" else "")


def said_once(request: Request, response: Response) -> Response:
    """Forget the note once a page has said it."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
    return response


def _to_step(seconds: float) -> str:
    """Seconds for a number box with ``step="0.01"``, rounded down: Chromium refuses to submit a
    value off the step (41.667), and rounding up could fall past the end of the file."""
    return f"{math.floor(seconds * 100 + 1e-6) / 100:.2f}"


def _seconds(text: str) -> float:
    """Seconds as a form sends them; not a number is NaN, which the range check reports."""
    try:
        return float(text.strip())
    except ValueError:
        return math.nan


def _as_sent(text: str) -> str:
    """A time as sent, put back in its number box on the step (or as sent, if not a number)."""
    seconds = _seconds(text)
    return _to_step(seconds) if math.isfinite(seconds) and seconds >= 0 else text


def render_review(request: Request, viewer: Viewer, item_id: int, *, status_code: int = 200,
                  form: str = "", problems: dict[str, str] | None = None,
                  sent: dict[str, Any] | None = None) -> Response:
    """The review page; after a refused form, that ``form`` filled in as ``sent``, with its
    ``problems`` by field (and the first of them focused)."""
    app = request.app.state.bwv
    view = review.open_item(app.store, viewer.user, item_id)
    item, media = view.item, view.media
    duration = media.duration_s or item.end_s
    window = review.shown_span(item, media.duration_s)
    state = app.store.speaker_state(media.id)
    known = app.store.speakers_of(media.id)
    speakers = voices.file_speakers(known, state)
    lines = _lines(app.store, media.id, *window, item.start_s, item.end_s, state)
    flags = app.store.item_flags(item_id)
    who = review.actor(viewer.user)
    judged = app.store.flag_feedback_kinds([f.id for f in flags], reviewer=who)
    guidance = {flag.id: app.rubric.guidance_for(flag.category) for flag in flags}
    values: dict[str, dict[str, Any]] = {
        "annotate": {"start_s": _to_step(item.start_s), "end_s": _to_step(item.end_s), "labels": [],
                     "rating": "", "feedback": "", "teaching": False},
        "missed": {"category": "", "note": ""},  # its range is the marks, annotate's
        "dismiss": {"reason": ""}, "release": {"reason": ""},
        "rename": {"speaker": "", "name": ""}, "move": {"line": None, "speaker": ""},
        "share": {"annotation": None, "note": ""},  # the annotation whose share was refused
    }
    errors: dict[str, dict[str, str]] = {name: {} for name in values}
    focus = ""
    if form:
        sent = dict(sent or {})
        if form == "missed":  # the missed moment's range is the marks, kept in annotate's boxes
            values["annotate"].update({k: sent.pop(k) for k in ("start_s", "end_s") if k in sent})
        values[form].update(sent)
        errors[form] = dict(problems or {})
        focus = next((f"{form}-{field}" for field in _FIELDS[form] if field in errors[form]), "")
    response = app.page(
        request, "review.html", status_code=status_code, view=view, item=item, media=media,
        duration=duration, duration_step=_to_step(duration), window=window,
        lines=lines, speakers=speakers, move_choices=voices.move_choices(known, state),
        speaker_note=None if state.scoped else
        "Flags on this file were made without knowing who spoke: " + _WITHOUT_SPEAKERS.get(
            state.status, _WITHOUT_SPEAKERS["without speakers"]),
        flag_speakers=_flag_speakers(flags, lines, state), flags=flags, judged=judged, guidance=guidance, holds=review.holds(viewer.user, item),
        annotations=(annotations := app.store.item_annotations(item_id, viewer_id=viewer.user.id)),
        shared=app.store.shared_for_annotations([r.annotation.id for r in annotations]),
        footage_officer=app.store.footage_officer(media.id),
        missed=app.store.missed_moments(media.id, reviewer=who),
        taxonomy=list(TAXONOMY), practice_labels=PRACTICE_LABELS,
        rubric_categories=[c.id for c in app.rubric.categories],
        values=values, errors=errors, focus=focus,
        done=_said_about_speakers(take_flash(request), speakers, lines),
    )
    return said_once(request, response)


def problems_of(exc: InvalidRequestError | ConflictError) -> dict[str, str]:
    """A refusal's problems by field; one that names no field is the form's."""
    return exc.problems if isinstance(exc, review.FormProblems) else {"form": str(exc)}


@router.get("/items/{item_id}")
def review_page(request: Request, item_id: RowId, viewer: Viewer = Depends(role("tip"))) -> Response:
    """Everything a TIP needs to review one interaction (they must hold or have reviewed it)."""
    return render_review(request, viewer, item_id)


@router.post("/items/{item_id}/reviewed")
async def mark_reviewed(request: Request, item_id: RowId,
                        viewer: Viewer = Depends(changing("tip"))) -> Response:
    """Finish the review: drafts are submitted, unmarked flags count as confirmed."""
    review.finish(request.app.state.bwv.store, viewer.user, item_id, status="reviewed")
    return flash(RedirectResponse("/queue", status_code=303), request, "reviewed", item_id)


@router.post("/items/{item_id}/dismiss")
async def dismiss(request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
                  reason: str = Form("", max_length=2000)) -> Response:
    """Close an item that needs no review, saying why (the queue shows it)."""
    try:
        review.finish(request.app.state.bwv.store, viewer.user, item_id, status="dismissed",
                      reason=reason)
    except InvalidRequestError as exc:
        return render_review(request, viewer, item_id, status_code=400, form="dismiss",
                             problems=problems_of(exc), sent={"reason": reason})
    return flash(RedirectResponse("/queue", status_code=303), request, "dismissed", item_id)


def annotation_input(start_s: float | str, end_s: float | str, labels: list[str], rating: str,
                     feedback: str, teaching: str | None) -> review.AnnotationInput:
    """An annotation from form fields (rating may be blank: not rated).

    Times that are not numbers become NaN, and a rating that is not ASCII digits 0
    (``"²".isdigit()`` is true, but ``int("²")`` fails): both are then refused by the checks
    with the other fields, so every problem is listed together.
    """
    rating = rating.strip()
    number = int(rating) if rating.isascii() and rating.isdigit() else 0
    return review.AnnotationInput(
        start_s=_seconds(start_s) if isinstance(start_s, str) else start_s,
        end_s=_seconds(end_s) if isinstance(end_s, str) else end_s,
        labels=review.labels_from(labels), rating=number if rating else None, feedback=feedback,
        teaching=teaching in ("on", "1", "true"),
    )


@router.post("/items/{item_id}/annotations")
async def add_annotation(
    request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
    start_s: str = Form("", max_length=50), end_s: str = Form("", max_length=50),
    labels: list[str] = Form(default=[]), rating: str = Form("", max_length=2),
    feedback: str = Form("", max_length=20_000), teaching: str | None = Form(None, max_length=10),
) -> Response:
    """Save a new annotation on the held item."""
    value = annotation_input(start_s, end_s, labels, rating, feedback, teaching)
    try:
        annotation_id = review.annotate(request.app.state.bwv.store, viewer.user, item_id, value)
    except InvalidRequestError as exc:
        sent = {"start_s": _as_sent(start_s), "end_s": _as_sent(end_s), "labels": list(value.labels),
                "rating": rating.strip(), "feedback": feedback, "teaching": value.teaching}
        return render_review(request, viewer, item_id, status_code=400, form="annotate",
                             problems=problems_of(exc), sent=sent)
    response = RedirectResponse(f"/items/{item_id}#annotation-{annotation_id}", status_code=303)
    return flash(response, request, "saved", annotation_id)


@router.post("/items/{item_id}/missed")
async def add_missed(
    request: Request, item_id: RowId, viewer: Viewer = Depends(changing("tip")),
    category: str = Form(max_length=100), start_s: str = Form("", max_length=50),
    end_s: str = Form("", max_length=50), note: str = Form("", max_length=2000),
) -> Response:
    """Record a moment the rubric should have flagged, in one of the rubric's categories."""
    app = request.app.state.bwv
    try:
        review.add_missed(app.store, viewer.user, item_id, category=category, start_s=_seconds(start_s),
                          end_s=_seconds(end_s), note=note.strip() or None, rubric=app.rubric)
    except InvalidRequestError as exc:
        return render_review(request, viewer, item_id, status_code=400, form="missed",
                             problems=problems_of(exc),
                             sent={"category": category, "note": note, "start_s": _as_sent(start_s),
                                   "end_s": _as_sent(end_s)})
    return flash(RedirectResponse(f"/items/{item_id}#missed", status_code=303), request, "missed")


@router.post("/flags/{flag_id}/feedback")
async def flag_feedback(request: Request, flag_id: RowId, viewer: Viewer = Depends(changing("tip")),
                        relevant: str = Form(max_length=3)) -> Response:
    """Mark a flag "not relevant" (relevant=no) or confirm it (relevant=yes)."""
    if relevant not in ("yes", "no"):
        raise InvalidRequestError("relevant must be yes or no")
    item_id = review.judge_flag(request.app.state.bwv.store, viewer.user, flag_id,
                                relevant=relevant == "yes")
    return flash(RedirectResponse(f"/items/{item_id}#flag-{flag_id}", status_code=303), request,
                 f"judged-{relevant}", flag_id)
