"""Teaching exports: annotated moments cut, redacted and packed with their provenance.

A pack is a zip with, per moment, ``clip.mp4`` (or ``clip.m4a`` for audio-only
footage) cut frame-accurately with padding, faces blurred and personal details
toned out of the audio; ``clip.vtt`` and ``handout.html`` from the redacted
transcript; and ``manifest.json`` saying where it came from and what was
removed. Every moment is checked before any work starts, the original's hash
is checked against the store, and the zip is written under a temporary name
and renamed, so a pack appears whole or not at all. What is redacted is what a
trainer confirmed (:mod:`pipeline.teach.review_doc`), and the pack is checked
again before it is written (:mod:`pipeline.teach.verify`). Each export, and each
refusal or stop, writes an audit row.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__, clock
from pipeline.batch.media import run_tool
from pipeline.config import Instance
from pipeline.errors import MediaError
from pipeline.flagging.rubric import Rubric
from pipeline.records import Segment
from pipeline.store import Store
from pipeline.store.exports import to_vtt
from pipeline.teach.handout import Moment, build_manifest, flags_in, render_handout
from pipeline.teach.hearing import AUDIO_RATE, extract_audio, hear, heard, write_wav
from pipeline.teach.moments import (
    ExportRequest,
    as_segment,
    check_request,
    moment_texts,
    plan_export,
    sha256_file,
    verify_original,
)
from pipeline.teach.pii import Redacted, find_pii, load_pii_nlp
from pipeline.teach.pii_audio import redact_audio, toned_windows_s
from pipeline.teach.review_doc import TEXTS, Box, MomentTexts, Review
from pipeline.teach.verify import (
    Finding,
    PackNotClean,
    Verifier,
    base_verifier,
    check_moment,
)

log = logging.getLogger("bwv.teach")

@dataclass(frozen=True)
class ExportResult:
    """A written pack."""

    path: Path
    sha256: str
    moments: list[dict[str, Any]] = field(default_factory=list)


def _encode_audio_only(wav: Path, out: Path) -> None:
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(out)]
    proc = run_tool(args, timeout_s=300.0)
    if proc.returncode != 0:
        raise MediaError(f"cannot encode the audio: {proc.stderr.decode('utf-8', 'replace')[-200:]}")


#: Blurs faces, and the trainer's boxes, into ``clip`` from the moment's original, with the
#: redacted audio; returns what it did for the manifest.
RedactMoment = Callable[[Moment, Path, Path, Sequence[Box]], dict[str, Any]]
#: Looks at a written clip with a second face detector: (findings, what was checked).
CheckFrames = Callable[[int, Path], tuple[list[Finding], dict[str, Any]]]
#: Decides the redactions from what the detectors propose: a trainer's review, or acceptance.
Decide = Callable[[Sequence[MomentTexts]], Review]


@dataclass(frozen=True)
class ExportModels:
    """What an export loads once its moments have passed their checks."""

    nlp: Any  # spaCy with its entity recogniser
    redact_video: RedactMoment
    verifier: Verifier  # transcribes the redacted audio again
    check_frames: CheckFrames | None = None  # a second face detector over the written clip
    hearer: Verifier | None = None  # hears the original audio too, for more proposals


@dataclass
class _Prepared:
    moment: Moment
    here: Path
    texts: MomentTexts
    applied: dict[str, Redacted]
    toned: list[tuple[float, float]]
    wav: Path
    checked: dict[str, Any]
    clip: Path | None = None
    faces: dict[str, Any] = field(default_factory=dict)


def export_pack(instance: Instance, store: Store, request: ExportRequest, out: Path, *,
                rubric: Rubric, models: Callable[[], ExportModels], decide: Decide) -> ExportResult:
    """Write a teaching pack for these annotations to ``out`` (a zip), or nothing at all.

    ``models()`` is called once every moment has passed its checks, so a refused
    export loads nothing. ``decide`` turns the detectors' proposals into the
    redactions to apply (a trainer's review, or ``--accept-proposed``). The words
    and sound of every moment are redacted and checked again first; only a clean
    pack goes on to the (slow) face redaction, whose clips a second detector checks;
    any finding stops the export (:class:`PackNotClean`) before the zip is written.
    """
    check_request(request, store=store)
    moments = plan_export(instance, store, request.annotation_ids, actor=request.actor)
    for moment in moments:
        verify_original(store, moment, actor=request.actor)
    loaded = models()
    at = clock.now()
    exported = {"by": request.exporter, "role": request.role, "audit_actor": request.actor,
                "to": request.recipient.strip(), "reason": request.reason.strip(),
                "at": at.isoformat(), "bwv_version": __version__}
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    instance.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="teach-", dir=instance.tmp_dir))
    tmp_zip = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    ids = "annotations:" + ",".join(str(m.annotation.id) for m in moments)
    summaries = []
    try:
        # Each moment's audio heard again by the second model: its details are proposed too.
        sounds = [hear(moment, loaded.hearer, work) for moment in moments]
        texts = [moment_texts(store, moment, loaded.nlp, heard=heard)
                 for moment, (_, heard) in zip(moments, sounds, strict=True)]
        review = decide(texts)
        prepared = [_redact_sound(moment, moment_text, review, loaded, work, original)
                    for moment, moment_text, (original, _) in zip(moments, texts, sounds, strict=True)]
        _stop_if_found(store, request, ids, [f for p in prepared for f in p.checked.pop("findings")])
        findings = []
        for p in prepared:
            _redact_picture(p, review, loaded)
            if loaded.check_frames is not None and p.clip is not None and p.moment.media.has_video:
                found, p.faces["checked_before_writing"] = loaded.check_frames(p.moment.annotation.id, p.clip)
                findings += found
        _stop_if_found(store, request, ids, findings)
        with zipfile.ZipFile(tmp_zip, "w") as pack:
            for p in prepared:
                summaries.append(_write_moment(pack, p, store, rubric, review, exported, loaded))
            pack.writestr("manifest.json", json.dumps({"export": exported, "moments": summaries},
                                                      indent=2, sort_keys=True))
        digest = sha256_file(tmp_zip)
        os.replace(tmp_zip, out)
    finally:
        tmp_zip.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    store.audit(actor=request.actor, action="teach-export", obj=ids,
                detail=json.dumps({"recipient": exported["to"], "reason": exported["reason"],
                                   "review": review.how, "pack_sha256": digest}, sort_keys=True))
    log.info("teaching pack %s: %d moments", out.name, len(moments))
    return ExportResult(path=out, sha256=digest, moments=summaries)


def _redact_sound(moment: Moment, texts: MomentTexts, review: Review, loaded: ExportModels,
                  work: Path, original: np.ndarray) -> _Prepared:
    """Apply the decided redactions to the words and the audio, then check them again."""
    here = work / f"moment-{moment.annotation.id}"
    here.mkdir()
    decided = review.of(moment.annotation.id)
    applied = {where: find_pii(texts.text(where)[0], nlp=loaded.nlp, changes=decided.changes(where),
                               heard=texts.heard if where == "speech" else ())
               for where in TEXTS}
    windows = applied["speech"].windows
    toned = toned_windows_s(windows, AUDIO_RATE, len(original))
    wav = here / "audio.wav"
    write_wav(wav, redact_audio(original, AUDIO_RATE, windows))
    # The check listens with the windows silent: a tone sends Whisper into loops of invented
    # words over the speech after it; silence it skips.
    silenced = here / "check.wav"
    write_wav(silenced, redact_audio(original, AUDIO_RATE, windows, mode="silence"))
    kept = {where: [(p.start_s, p.end_s) for p in texts.text(where)[1].proposals
                    if p.id in decided.changes(where).removed] for where in TEXTS}
    found, checked = check_moment(moment.annotation.id, audio_wav=silenced, toned=toned,
                                  subtitles=applied["speech"].segments,
                                  feedback=applied["feedback"].segments, nlp=loaded.nlp,
                                  verifier=loaded.verifier, kept=kept)
    checked = {**checked, "verifier": loaded.verifier.name, "findings": found}
    return _Prepared(moment, here, texts, applied, toned, wav, checked)


def _redact_picture(p: _Prepared, review: Review, loaded: ExportModels) -> None:
    if p.moment.media.has_video:
        p.clip = p.here / "clip.mp4"
        p.faces = loaded.redact_video(p.moment, p.wav, p.clip, review.of(p.moment.annotation.id).boxes)
    else:
        p.clip = p.here / "clip.m4a"
        _encode_audio_only(p.wav, p.clip)
        p.faces = {"detector": None, "note": "audio only: no video stream"}


def _stop_if_found(store: Store, request: ExportRequest, ids: str, findings: list[Finding]) -> None:
    if findings:
        store.audit(actor=request.actor, action="teach-export-stopped", obj=ids,
                    detail="; ".join(f.describe() for f in findings))
        raise PackNotClean(findings)


def _write_moment(pack: zipfile.ZipFile, p: _Prepared, store: Store, rubric: Rubric,
                  review: Review, exported: dict[str, Any], loaded: ExportModels) -> dict[str, Any]:
    """One moment's folder in the zip: clip, subtitles, handout, manifest."""
    folder, moment, clip = p.here.name, p.moment, p.clip
    assert clip is not None
    vtt = p.here / "clip.vtt"
    # Speakers by their plain names ("Wearer", "Speaker 2"): a TIP's own name for one could
    # be a person's name, and the pack leaves with nothing personal in it.
    vtt.write_text(to_vtt(
        {"source": folder, "sha256": moment.media.sha256, "start": s.start_s,
         "end": s.end_s, "text": s.text, "speaker": s.speaker} for s in p.applied["speech"].segments
    ))
    manifest = build_manifest(moment, p.applied["speech"], p.applied["feedback"], p.faces, exported,
                              toned=p.toned, files={x.name: sha256_file(x) for x in (clip, vtt)})
    manifest["redaction"]["checked_before_writing"] = p.checked
    decided = review.manifest(p.texts, exported["by"])
    for kept in decided["removed"]:  # a trainer's reason is free text: redacted like the feedback
        kept["reason"] = _text_of(find_pii([as_segment(kept["reason"])], nlp=loaded.nlp).segments)
    manifest["redaction"]["review"] = decided
    handout = p.here / "handout.html"
    handout.write_text(render_handout(moment, p.applied["speech"].segments,
                                      _text_of(p.applied["feedback"].segments),
                                      flags_in(store, rubric, moment), exported,
                                      manifest["redaction"]))
    manifest["files"]["handout.html"] = sha256_file(handout)
    (p.here / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    for name in (clip.name, "clip.vtt", "handout.html", "manifest.json"):
        compress = zipfile.ZIP_STORED if name == clip.name else zipfile.ZIP_DEFLATED
        pack.write(p.here / name, f"{folder}/{name}", compress_type=compress)
    return {"annotation_id": moment.annotation.id, "folder": folder,
            "source_sha256": moment.media.sha256,
            "redactions": manifest["redaction"]["transcript"], "review": review.how}


def _text_of(segments: Sequence[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments)



@cache
def shared_nlp() -> Any:
    """The entity-recognising spaCy pipeline, loaded once per process."""
    return load_pii_nlp()


@cache
def _face_detector() -> Any:
    from pipeline.teach.face_detector import FaceDetector

    return FaceDetector()


def _default_models(instance: Instance) -> ExportModels:
    """spaCy with its entities, CenterFace blurring through ``pipeline.teach.faces``, and the
    ``base`` Whisper model as the verifier (a different model from the batch's)."""
    from pipeline.teach.faces import redact_video

    detector = _face_detector()

    def blur(moment: Moment, wav: Path, clip: Path, boxes: Sequence[Box]) -> dict[str, Any]:
        stats = redact_video(moment.original, clip, start_s=moment.start_s,
                             duration_s=moment.end_s - moment.start_s, audio=wav, detector=detector,
                             boxes=[(b.start_s, b.end_s, b.x, b.y, b.width, b.height) for b in boxes])
        return {"detector": stats.detector, "threshold": stats.threshold, "frames": stats.frames,
                "frames_detected": stats.frames_detected,
                "frames_with_faces": stats.frames_with_faces, "frames_blurred": stats.frames_blurred,
                "frames_with_boxes": stats.frames_boxed, "detections": stats.detections,
                "detected_at": f"{stats.detect_width}x{stats.detect_height}"}

    return ExportModels(shared_nlp(), blur, shared_verifier(instance.models_dir), _check_frames,
                        hearer=default_hearer(instance))


def default_hearer(instance: Instance) -> Verifier | None:
    """The model that hears each moment's audio a second time, for more proposals: ``base``."""
    return shared_verifier(instance.models_dir)


_SECOND_DETECTOR_LOCK = threading.Lock()


@cache
def _second_detector() -> Any:
    from pipeline.teach.face_check import BlazeFaceDetector

    return BlazeFaceDetector(threads=2)


def _check_frames(annotation_id: int, clip: Path) -> tuple[list[Finding], dict[str, Any]]:
    """The written clip through the second face detector (BlazeFace): a face it finds in two
    checked frames in a row (a quarter of a second apart at most) is a finding, so a face on
    screen for half a second or more is always caught and a one-frame glimmer is not.

    Each run of checked frames with a face is one finding, with a box for each second of it
    that covers every box found then (widened by a quarter of its size on each side) from one
    checked frame before to one after, for the trainer to blur if it is a face CenterFace missed.
    """
    from pipeline.teach.face_check import check_clip

    with _SECOND_DETECTOR_LOCK:  # LiteRT's interpreter serves one caller at a time
        checked = check_clip(clip, detector=_second_detector())
    runs: list[list[Any]] = []
    for found in sorted(checked.findings, key=lambda f: f.frame):
        last = runs[-1][-1].frame if runs else None
        if last is not None and found.frame - last in (0, checked.every):
            runs[-1].append(found)
        else:
            runs.append([found])
    findings = []
    for run in runs:
        if run[-1].frame == run[0].frame:
            continue  # one checked frame: a glimmer, not a finding
        frames = sorted({f.frame for f in run})
        boxes = [_cover([f for f in run if f.frame in chunk], checked)
                 for chunk in (frames[i:i + _BOX_FRAMES] for i in range(0, len(frames), _BOX_FRAMES))]
        findings.append(Finding(annotation_id, "picture", "face", round(frames[1] / checked.fps, 2),
                                boxes=tuple(boxes)))
    return findings, {**checked.describe(), "rule": "a face in two checked frames in a row"}


#: Checked frames one box of a finding covers: about a second at 25 fps, so a box follows a
#: face that moves.
_BOX_FRAMES = 4


def _cover(found: list[Any], checked: Any) -> tuple[float, float, float, float, float, float]:
    """One box over these findings (widened by a quarter on each side), from one checked frame
    before the first to one after the last, clipped to the clip: times in seconds, sizes as
    fractions of the picture, rounded inwards to what a box line writes."""
    x1, y1 = min(f.box[0] for f in found), min(f.box[1] for f in found)
    x2, y2 = max(f.box[2] for f in found), max(f.box[3] for f in found)
    dx, dy = (x2 - x1) / 4, (y2 - y1) / 4
    left = math.floor(max(0.0, (x1 - dx) / checked.width) * 1000) / 1000
    top = math.floor(max(0.0, (y1 - dy) / checked.height) * 1000) / 1000
    right, bottom = min(1.0, (x2 + dx) / checked.width), min(1.0, (y2 + dy) / checked.height)
    step = checked.every / checked.fps
    start = max(0.0, min(f.time_s for f in found) - step)
    end = min(max(f.time_s for f in found) + step, checked.frames_total / checked.fps)
    return (math.floor(start * 100) / 100, math.floor(end * 100) / 100, left, top,
            math.floor((right - left) * 1000) / 1000, math.floor((bottom - top) * 1000) / 1000)


@cache
def shared_verifier(models_dir: Path) -> Verifier:
    """The second model (``base``), loaded once per process."""
    return base_verifier(models_dir)


def proposals(instance: Instance, store: Store, ids: Sequence[int], *, actor: str) -> list[MomentTexts]:
    """Each moment's words with what the detectors propose to redact, in the transcript and
    in what the second model hears, for a trainer to review (the moments are checked as an
    export checks them, and a refusal is audited under ``actor``)."""
    moments = plan_export(instance, store, ids, actor=actor)
    hearer = default_hearer(instance)
    instance.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="propose-", dir=instance.tmp_dir) as tmp:
        return [moment_texts(store, moment, shared_nlp(),
                             heard=heard(moment, hearer, Path(tmp), partial(extract_audio, moment)))
                for moment in moments]


def export_with_defaults(instance: Instance, store: Store, request: ExportRequest, out: Path, *,
                         decide: Decide, rubric: Rubric | None = None) -> ExportResult:
    """``export_pack`` with the shipped rubric (unless given), spaCy's entities, CenterFace and
    the verifiers: what the CLI and the web app use."""
    from pipeline.flagging.rubric import load_rubric

    return export_pack(instance, store, request, out, rubric=rubric or load_rubric(),
                       models=partial(_default_models, instance), decide=decide)
