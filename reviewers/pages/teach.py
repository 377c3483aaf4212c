"""A trainer reviews a teaching pack's redactions, then exports it.

``POST /teach/review`` shows each chosen moment's transcript and the TIP's feedback
with every proposed redaction marked. The trainer may keep a proposal (with a
reason), tick more words to redact, give time ranges to tone out, and draw boxes on a
frame for what is not a face (a number plate, a letter). ``POST /teach/export``
turns the form into a review (:mod:`pipeline.teach.review_doc`, the same checks as
the CLI's review file) and builds the pack from it. A form with a problem, or a pack
the check before writing stopped, comes back filled in, each problem under its field
(:mod:`reviewers.forms`). While a pack is built (about a second per second of footage)
the page says so, and then that its download started (``static/teach.js``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import FormData

from pipeline import clock
from pipeline.errors import InvalidRequestError
from pipeline.review import items as review
from pipeline.review.speakers import voice_class
from pipeline.store.speakers import SpeakerState
from pipeline.teach import moments as teach
from pipeline.teach import pack
from pipeline.teach.frames import preview_frame
from pipeline.teach.pii import KINDS, word_list
from pipeline.teach.review_doc import FORMAT, TEXTS, MomentTexts, range_ok, read_review
from pipeline.teach.verify import PackNotClean
from reviewers.auth import Viewer, changing, role
from reviewers.forms import FormErrors
from reviewers.pages.annotations import render_search

router = APIRouter()
#: The cookie a download carries back to the page's script (teach.js): the token the script
#: sent and the pack's file name. Not HttpOnly: the script reads it; it holds nothing secret.
EXPORT_COOKIE = "bwv_export"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")
_RANGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*(.*)")


def _export_request(
    request: Request, viewer: Viewer = Depends(changing("trainer")),
    annotation_ids: list[int] = Form(default=[]),
    reason: str = Form("", max_length=1000), recipient: str = Form("", max_length=1000),
) -> teach.ExportRequest:
    """The moments chosen on the annotations page, for whom, to whom and why (checked by the
    route, which says what is wrong under each field)."""
    return teach.ExportRequest(annotation_ids=tuple(annotation_ids), reason=reason, recipient=recipient,
                               actor=review.actor(viewer.user), exporter=viewer.user.name,
                               role=viewer.user.role)


def _request_errors(req: teach.ExportRequest, store: Any) -> FormErrors:
    """What is wrong with the moments, the reason and the recipient, by field (the refusal
    audited, as :func:`pipeline.teach.moments.check_request` does)."""
    errors = FormErrors()
    try:
        teach.check_request(req, store=store)
    except InvalidRequestError as exc:
        for field, value in (("export-reason", req.reason), ("export-recipient", req.recipient)):
            what = field.removeprefix("export-")
            if not value.strip():
                errors.add(field, f"say the {what} for the export")
            elif len(value) > teach.MAX_TEXT:
                errors.add(field, f"the {what} must be at most {teach.MAX_TEXT} characters")
        if not req.annotation_ids:
            errors.add("export-ids", "tick at least one moment to export")
        elif len(dict.fromkeys(req.annotation_ids)) > teach.MAX_MOMENTS:
            errors.add("export-ids", str(exc).split("; ")[0])
        if not errors:
            errors.add("export-ids", str(exc))
    return errors


@router.post("/teach/review")
async def review_page(request: Request, req: teach.ExportRequest = Depends(_export_request),
                      search: str = Form("", max_length=2000)) -> Response:
    """The chosen moments with their proposed redactions, for the trainer to confirm.

    Without a moment, a reason or a recipient, the annotations page comes back as it was
    (the same search, the same moments ticked), each problem under its field.
    """
    app = request.app.state.bwv
    errors = _request_errors(req, app.store)
    if errors:
        query = {k: v for k, v in parse_qsl(search, keep_blank_values=True)}
        return render_search(request, request.state.viewer, query, query=search,
                             ticked=req.annotation_ids, errors=errors,
                             export={"reason": req.reason, "recipient": req.recipient},
                             refusal_audited=True)  # check_request wrote teach-export-refused
    texts = await run_in_threadpool(partial(pack.proposals, actor=req.actor), app.instance, app.store,
                                    req.annotation_ids)
    app.store.audit(actor=req.actor, action="teach-review-viewed",
                    obj="annotations:" + ",".join(str(t.annotation_id) for t in texts))
    return _render(request, texts, req, form={}, errors=FormErrors())


@router.post("/teach/export")
async def export(request: Request, req: teach.ExportRequest = Depends(_export_request),
                 export_token: str = Form("", max_length=100)) -> Response:
    """Build the pack from the trainer's decisions and download it, or show what stopped it.

    The page's script sends ``export_token``; the download carries it back in a cookie the
    script watches for, to say that the pack is built (without the script the form still
    posts and the browser downloads the pack).
    """
    app = request.app.state.bwv
    errors = _request_errors(req, app.store)
    refused = bool(errors)  # check_request audited it as teach-export-refused
    if "export-ids" in errors:  # the moments are the page's own hidden fields: not a person's slip
        raise InvalidRequestError(errors["export-ids"])
    form = await request.form()
    texts = await run_in_threadpool(partial(pack.proposals, actor=req.actor), app.instance, app.store,
                                    req.annotation_ids)
    doc, found = decisions_from_form(form, texts)
    for field, problem in found:
        errors.add(field, problem)
    if not errors:
        try:
            read_review(doc, texts, route="web app")
        except InvalidRequestError as exc:
            errors.add("review-form", str(exc))
    if errors:
        return _render(request, texts, req, form=form, errors=errors, status_code=400,
                       refusal_audited=refused)
    folder = Path(tempfile.mkdtemp(prefix="pack-", dir=app.instance.tmp_dir))
    out = folder / f"teaching-pack-{clock.now():%Y%m%d-%H%M%S}.zip"
    try:
        await run_in_threadpool(
            partial(pack.export_with_defaults, rubric=app.rubric,
                    decide=partial(read_review, doc, route="web app")),
            app.instance, app.store, req, out)
    except PackNotClean as exc:
        shutil.rmtree(folder, ignore_errors=True)
        boxed = [f for f in exc.findings if f.boxes]
        errors.add("review-form", "The pack was not written: the check before writing found "
                   "personal details left in it. Add redactions at these times, or leave the "
                   "moment out: " + "; ".join(f.describe() for f in exc.findings) + (
                       ". What the second face detector found is now in each moment's boxes to "
                       "blur (marked \"found by the check\"): look at the frame at that time, keep "
                       "or change the box, then build the pack again" if boxed else ""))
        return _render(request, texts, req, form=_with_boxes(form, boxed), status_code=422,
                       errors=errors, refusal_audited=True)  # audited as teach-export-stopped
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response = FileResponse(out, media_type="application/zip", filename=out.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
    if _TOKEN.fullmatch(export_token):
        response.set_cookie(EXPORT_COOKIE, f"{export_token}.{out.name}", max_age=300,
                            samesite="strict", secure=request.url.scheme == "https",
                            path="/teach")
    return response


@router.get("/teach/frame/{annotation_id}")
async def frame(request: Request, annotation_id: int, t: float = Query(0.0, ge=0.0, le=86_400.0),
                viewer: Viewer = Depends(role("trainer"))) -> Response:
    """One frame of a moment's clip, faces already blurred, to draw a box on (a JPEG)."""
    app = request.app.state.bwv
    moment = teach.plan_moments(app.instance, app.store, [annotation_id])[0]
    jpeg = await run_in_threadpool(preview_frame, moment.original, moment.start_s + min(
        t, moment.end_s - moment.start_s))
    app.store.audit(actor=review.actor(viewer.user), action="teach-frame-viewed",
                    obj=f"annotation:{annotation_id}", detail=f"t={t:.2f}")
    return Response(jpeg, media_type="image/jpeg")


def decisions_from_form(form: Any, texts: list[MomentTexts]
                        ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The review page's fields as a review document (the CLI file's format), and the problems
    a person can fix in the form (a kept detail without a reason, a line that does not read),
    each with the id of its field."""
    problems: list[tuple[str, str]] = []
    kept = set(form.getlist("keep"))
    moments = []
    for m in texts:
        aid = m.annotation_id
        kind = form.get(f"kind:{aid}") or "NAME"
        kind = kind if kind in KINDS else "NAME"
        entry: dict[str, Any] = {"annotation_id": aid, "source_sha256": m.source_sha256,
                                 "transcript_sha256": m.transcript_sha256(), "boxes": []}
        for where in TEXTS:
            proposed = []
            for p in m.text(where)[1].proposals:
                key = f"{aid}:{where}:{p.id}"
                reason = str(form.get(f"reason:{key}") or "").strip()
                if key in kept and not reason:
                    problems.append((f"reason-{key}", f"moment {aid}: say why the {p.kind.lower()} "
                                                      f"at {p.start_s:.1f} s stays unredacted"))
                proposed.append({"id": p.id, "redact": key not in kept, "reason": reason})
            ticked = sorted({int(v) for v in form.getlist(f"add:{aid}:{where}") if str(v).isdigit()})
            added = [{"words": run, "kind": kind} for run in _runs(ticked)]
            entry[where] = {"proposed": proposed, "added": added}
        for field, what in ((f"times:{aid}", "time ranges"), (f"boxes:{aid}", "boxes")):
            if len(str(form.get(field) or "").splitlines()) > MAX_LINES:
                problems.append((field.replace(":", "-"), f"moment {aid}: at most {MAX_LINES} "
                                 f"{what}, one per line"))
        if any(p[0] in (f"times-{aid}", f"boxes-{aid}") for p in problems):
            moments.append(entry)
            continue
        for n, line in enumerate(str(form.get(f"times:{aid}") or "").splitlines(), 1):
            if line.strip():
                got = _RANGE.fullmatch(line)
                if got is None or got.group(3).strip():
                    problems.append((f"times-{aid}", f"moment {aid}, time ranges line {n}: write "
                                                      "START-END in seconds, such as 12.5-14"))
                elif not range_ok({"start_s": float(got.group(1)), "end_s": float(got.group(2))}, m.duration_s):
                    problems.append((f"times-{aid}", f"moment {aid}, time ranges line {n}: the "
                                     f"range must start before it ends, within the clip's "
                                     f"{m.duration_s:.1f} s (0-{m.duration_s:.1f})"))
                else:
                    entry["speech"]["added"].append(
                        {"start_s": float(got.group(1)), "end_s": float(got.group(2)), "kind": kind})
        for n, line in enumerate(str(form.get(f"boxes:{aid}") or "").splitlines(), 1):
            if line.strip():
                box = _box_line(line)
                if box is None:
                    problems.append((f"boxes-{aid}", f"moment {aid}, boxes line {n}: write START-END "
                                     "X Y WIDTH HEIGHT (seconds, then fractions of the picture), "
                                     "such as 0-8 0.40 0.70 0.20 0.08 number plate"))
                elif not range_ok(box, m.duration_s):
                    problems.append((f"boxes-{aid}", f"moment {aid}, boxes line {n}: the time must "
                                     f"start before it ends, within the clip's {m.duration_s:.1f} s "
                                     f"(0-{m.duration_s:.1f})"))
                else:
                    entry["boxes"].append(box)
        moments.append(entry)
    return {"format": FORMAT, "moments": moments}, problems


def _runs(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


#: Time ranges, and boxes, one moment's form may give (a long list is a slip or an attack:
#: each line costs a check of the whole pack).
MAX_LINES = 200


def _with_boxes(form: Any, findings: list[Any]) -> Any:
    """The form as sent, with a box line added to its moment's boxes for each finding."""
    if not findings:
        return form
    extra: dict[str, list[str]] = {}
    for f in findings:
        for start, end, x, y, w, h in f.boxes:
            extra.setdefault(f"boxes:{f.moment}", []).append(
                f"{start:.2f}-{end:.2f} {x:.3f} {y:.3f} {w:.3f} {h:.3f} face found by the check")
    items = [(k, v) for k, v in form.multi_items() if k not in extra]
    for key, lines in extra.items():
        had = str(form.get(key) or "").strip()
        items.append((key, "\n".join(([had] if had else []) + lines)))
    return FormData(items)


def _box_line(line: str) -> dict[str, Any] | None:
    got = _RANGE.fullmatch(line)
    if got is None:
        return None
    parts = got.group(3).split(maxsplit=4)
    try:
        x, y, w, h = (float(v) for v in parts[:4])
    except ValueError:
        return None
    return {"start_s": float(got.group(1)), "end_s": float(got.group(2)), "x": x, "y": y,
            "width": w, "height": h, "what": parts[4] if len(parts) > 4 else ""}


def _turns(words: list[Any], speakers: SpeakerState) -> list[tuple[str, str] | None]:
    """Where each speaker starts talking: the speaker's name (a TIP's, else "Wearer", "Speaker
    2") and colour at the first word of each turn, None elsewhere."""
    out: list[tuple[str, str] | None] = []
    before = None
    for word in words:
        said_by = word.speaker
        out.append((speakers.name(said_by), voice_class(said_by)) if said_by and said_by != before else None)
        before = said_by
    return out


def _render(request: Request, texts: list[MomentTexts], req: teach.ExportRequest, *, form: Any,
            errors: FormErrors, status_code: int = 200, refusal_audited: bool = False) -> Response:
    app = request.app.state.bwv
    moments = []
    for m in texts:
        parts = {}
        speakers = app.store.speaker_state(app.store.annotation(m.annotation_id).media_id)
        for where in TEXTS:
            segments, proposed = m.text(where)
            words = word_list(segments)
            owner = {i: p for p in proposed.proposals if p.first >= 0
                     for i in range(p.first, p.last + 1)}
            turns = _turns(words, speakers) if where == "speech" else [None] * len(words)
            parts[where] = {"words": [(i, w, owner.get(i), turns[i]) for i, w in enumerate(words)],
                            "proposals": [(p, " ".join(w.word.strip() for w in words[p.first:p.last + 1])
                                           if p.first >= 0 else "") for p in proposed.proposals]}
        moments.append({"texts": m, "parts": parts})
    ticked = {key: set(form.getlist(key)) for key in form} if form else {}
    return app.page(request, "teach_review.html", status_code=status_code, moments=moments,
                    request_=req, form=form or {}, ticked=ticked, kept=set(ticked.get("keep", ())),
                    form_errors=errors, kinds=KINDS,
                    footage_s=sum(m.duration_s for m in texts), refusal_audited=refusal_audited)
