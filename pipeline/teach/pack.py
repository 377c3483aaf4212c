"""Teaching exports: annotated moments cut, redacted and packed with their provenance.

A pack is a zip with, per moment, ``clip.mp4`` (or ``clip.m4a`` for audio-only
footage) cut frame-accurately with padding, faces blurred and personal details
toned out of the audio; ``clip.vtt`` and ``handout.html`` from the redacted
transcript; and ``manifest.json`` saying where it came from and what was
removed. Every moment is checked before any work starts, the original's hash
is checked against the store, and the zip is written under a temporary name
and renamed, so a pack appears whole or not at all. Each export, and each
refusal for a changed original, writes an audit row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import wave
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader

from pipeline import __version__, clock
from pipeline.batch.media import run_tool
from pipeline.config import Instance
from pipeline.errors import IntegrityError, InvalidRequestError, MediaError, NotFoundError
from pipeline.flagging.rubric import Rubric
from pipeline.records import Segment, Word
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.annotations import AnnotationQuery
from pipeline.store.base import inside_file
from pipeline.store.exports import to_vtt
from pipeline.teach.pii import find_pii, join_words, load_pii_nlp, redact_audio

log = logging.getLogger("bwv.teach")

#: Seconds of footage kept either side of the annotated range.
PAD_S = 3.0
AUDIO_RATE = 48_000
MAX_TEXT = 500
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class ExportRequest:
    """Who exports which annotations, to whom and why."""

    annotation_ids: tuple[int, ...]
    reason: str
    recipient: str
    actor: str


@dataclass(frozen=True)
class Moment:
    """An annotation checked for export: its file and the padded range to cut."""

    annotation: db.Annotation
    labels: list[str]
    media: db.Media
    original: Path
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ExportResult:
    """A written pack."""

    path: Path
    sha256: str
    moments: list[dict[str, Any]] = field(default_factory=list)


def check_request(request: ExportRequest) -> None:
    """Refuse an export without ids, a reason or a recipient; every problem is listed."""
    problems = []
    if not request.annotation_ids:
        problems.append("name at least one annotation id")
    for name, value in (("reason", request.reason), ("recipient", request.recipient)):
        if not value.strip():
            problems.append(f"say the {name} for the export (--{name})")
        elif len(value) > MAX_TEXT:
            problems.append(f"the {name} must be at most {MAX_TEXT} characters")
    if problems:
        raise InvalidRequestError("; ".join(problems))


def plan_moments(instance: Instance, store: Store, ids: Sequence[int]) -> list[Moment]:
    """Check every annotation can be exported before any work starts."""
    moments = []
    for annotation_id in dict.fromkeys(ids):
        row = store.annotation_or_none(annotation_id)
        if row is None or row.submitted_at is None:  # a draft is its author's alone
            raise NotFoundError(f"no submitted annotation {annotation_id}")
        media = store.get_media(row.media_id)
        if media.state == "quarantined":
            raise InvalidRequestError(
                f"annotation {annotation_id}: its file is quarantined ({media.reason}); nothing to export"
            )
        original = instance.home / (media.store_path or "")
        if media.state != "done" or not media.sha256 or not original.is_file():
            raise NotFoundError(f"annotation {annotation_id}: its original is missing from the store")
        duration = media.duration_s or 0.0
        if not inside_file(row.start_s, row.end_s, duration):
            raise InvalidRequestError(
                f"annotation {annotation_id}: range {row.start_s:.2f}-{row.end_s:.2f} s is outside "
                f"the file (0-{duration:.2f} s)"
            )
        moments.append(Moment(
            annotation=row, labels=list(json.loads(row.labels)), media=media, original=original,
            start_s=max(0.0, row.start_s - PAD_S), end_s=min(duration, row.end_s + PAD_S),
        ))
    return moments


def verify_original(store: Store, moment: Moment, *, actor: str) -> None:
    """The original's bytes must still hash to what the store recorded; a mismatch is audited."""
    digest = _sha256_file(moment.original)
    if digest != moment.media.sha256:
        reason = (f"original of media {moment.media.id} does not match its recorded SHA-256 "
                  f"(recorded {moment.media.sha256}, now {digest}): export refused")
        store.audit(actor=actor, action="teach-export-refused",
                    obj=f"annotation:{moment.annotation.id}", detail=reason)
        raise IntegrityError(reason)


def _extract_audio(moment: Moment) -> np.ndarray:
    """The moment's speech track as mono 16-bit samples at 48 kHz."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-ss", f"{moment.start_s:.3f}", "-t", f"{moment.end_s - moment.start_s:.3f}",
            "-i", str(moment.original), "-map", f"0:a:{moment.media.audio_track or 0}",
            "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    proc = run_tool(args, timeout_s=120.0 + (moment.end_s - moment.start_s))
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise MediaError(f"cannot read the audio of media {moment.media.id}: {detail[0][:200]}")
    return np.frombuffer(proc.stdout, dtype=np.int16).copy()


def _write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes(samples.astype(np.int16).tobytes())


def _encode_audio_only(wav: Path, out: Path) -> None:
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(out)]
    proc = run_tool(args, timeout_s=300.0)
    if proc.returncode != 0:
        raise MediaError(f"cannot encode the audio: {proc.stderr.decode('utf-8', 'replace')[-200:]}")


def _clip_segments(segments: Sequence[Segment], start_s: float, end_s: float) -> list[Segment]:
    """The words spoken inside a range, re-timed from its start."""
    out = []
    for seg in segments:
        words = tuple(
            Word(round(max(0.0, w.start_s - start_s), 3), round(min(end_s, w.end_s) - start_s, 3),
                 w.word, w.probability)
            for w in seg.words if w.end_s > start_s and w.start_s < end_s
        )
        if words:
            out.append(Segment(words[0].start_s, words[-1].end_s, join_words(words).strip(), words,
                               seg.avg_logprob, seg.no_speech_prob))
    return out


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _handout(moment: Moment, segments: Sequence[Segment], feedback: str,
             flags: Sequence[dict[str, Any]], exported: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True)
    return env.get_template("handout.html").render(
        moment=moment, annotation=moment.annotation, labels=moment.labels, segments=segments,
        feedback=feedback, flags=flags, exported=exported, version=__version__,
    )


RedactMoment = Callable[[Moment, Path, Path], dict[str, Any]]
#: Loads the models an export needs: spaCy with its entity recogniser, and the face redactor.
Models = Callable[[], tuple[Any, RedactMoment]]


def export_pack(instance: Instance, store: Store, request: ExportRequest, out: Path, *,
                rubric: Rubric, models: Models) -> ExportResult:
    """Write a teaching pack for these annotations to ``out`` (a zip), or nothing at all.

    ``models()`` is called once every moment has passed its checks, so a refused
    export loads nothing. Its ``redact_video(moment, audio_wav, clip_mp4)`` blurs
    faces into ``clip_mp4`` and returns what it did for the manifest (the face
    detector and its threshold, frame counts).
    """
    check_request(request)
    moments = plan_moments(instance, store, request.annotation_ids)
    for moment in moments:
        verify_original(store, moment, actor=request.actor)
    nlp, redact_video = models()
    at = clock.now()
    exported = {"by": request.actor, "to": request.recipient.strip(),
                "reason": request.reason.strip(), "at": at.isoformat(), "bwv_version": __version__}
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    instance.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="teach-", dir=instance.tmp_dir))
    tmp_zip = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    summaries = []
    try:
        with zipfile.ZipFile(tmp_zip, "w") as pack:
            for moment in moments:
                folder = f"moment-{moment.annotation.id}"
                here = work / folder
                here.mkdir()
                segments = _clip_segments(store.load_segments(moment.media.id),
                                          moment.start_s, moment.end_s)
                redacted = find_pii(segments, nlp=nlp)
                feedback = find_pii([_as_segment(moment.annotation.feedback)], nlp=nlp)
                samples = redact_audio(_extract_audio(moment), AUDIO_RATE,
                                       [(r.start_s, r.end_s) for r in redacted.redactions])
                wav = here / "audio.wav"
                _write_wav(wav, samples)
                if moment.media.has_video:
                    clip = here / "clip.mp4"
                    faces = redact_video(moment, wav, clip)
                else:
                    clip = here / "clip.m4a"
                    _encode_audio_only(wav, clip)
                    faces = {"detector": None, "note": "audio only: no video stream"}
                vtt = here / "clip.vtt"
                vtt.write_text(to_vtt(
                    {"source": folder, "sha256": moment.media.sha256, "start": s.start_s,
                     "end": s.end_s, "text": s.text} for s in redacted.segments
                ))
                flags = _flags_in(store, rubric, moment)
                manifest = _manifest(moment, redacted, feedback, faces, exported,
                                     files={p.name: _sha256_file(p) for p in (clip, vtt)})
                handout = here / "handout.html"
                handout.write_text(_handout(moment, redacted.segments,
                                            _text_of(feedback.segments), flags, exported))
                manifest["files"]["handout.html"] = _sha256_file(handout)
                (here / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
                for name in (clip.name, "clip.vtt", "handout.html", "manifest.json"):
                    compress = zipfile.ZIP_STORED if name == clip.name else zipfile.ZIP_DEFLATED
                    pack.write(here / name, f"{folder}/{name}", compress_type=compress)
                summaries.append({"annotation_id": moment.annotation.id, "folder": folder,
                                  "source_sha256": moment.media.sha256,
                                  "redactions": manifest["redaction"]["transcript"]})
            pack.writestr("manifest.json", json.dumps({"export": exported, "moments": summaries},
                                                      indent=2, sort_keys=True))
        digest = _sha256_file(tmp_zip)
        os.replace(tmp_zip, out)
    finally:
        tmp_zip.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    store.audit(actor=request.actor, action="teach-export",
                obj="annotations:" + ",".join(str(m.annotation.id) for m in moments),
                detail=json.dumps({"recipient": exported["to"], "reason": exported["reason"],
                                   "pack_sha256": digest}, sort_keys=True))
    log.info("teaching pack %s: %d moments", out.name, len(moments))
    return ExportResult(path=out, sha256=digest, moments=summaries)


def _as_segment(text: str) -> Segment:
    """Free text as a transcript segment, so the same redaction applies to it."""
    words = tuple(Word(float(i), float(i) + 0.5, f" {w}", 1.0) for i, w in enumerate(text.split()))
    return Segment(0.0, float(len(words)), text, words)


def _text_of(segments: Sequence[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments)


def _flags_in(store: Store, rubric: Rubric, moment: Moment) -> list[dict[str, Any]]:
    """The rubric's guidance for each flag in the moment (category and time; not its words)."""
    return [{"category": flag.category, "family": flag.family,
             "at_s": round(max(0.0, flag.start_s - moment.start_s), 2),
             "guidance": rubric.guidance_for(flag.category)}
            for flag in store.flags_between(moment.media.id, moment.start_s, moment.end_s)]


def _manifest(moment: Moment, redacted: Any, feedback: Any, faces: dict[str, Any],
              exported: dict[str, Any], *, files: dict[str, str]) -> dict[str, Any]:
    kinds: Counter[str] = Counter(r.kind for r in redacted.redactions)
    return {
        "annotation_id": moment.annotation.id,
        "source": {"sha256": moment.media.sha256, "duration_s": moment.media.duration_s,
                   "has_video": bool(moment.media.has_video)},
        "range": {"start_s": round(moment.start_s, 3), "end_s": round(moment.end_s, 3),
                  "annotated_start_s": moment.annotation.start_s,
                  "annotated_end_s": moment.annotation.end_s, "padding_s": PAD_S},
        "redaction": {
            "transcript": dict(sorted(kinds.items())),
            "feedback": dict(sorted(Counter(r.kind for r in feedback.redactions).items())),
            "audio": {"replaced_with": "1 kHz tone", "windows_s": [
                [round(r.start_s, 3), round(r.end_s, 3)] for r in redacted.redactions]},
            "faces": faces,
        },
        "labels": moment.labels,
        "rating": moment.annotation.rating,
        "export": exported,
        "files": files,
    }


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


@cache
def _defaults() -> tuple[Any, Any]:
    """The entity-recognising spaCy pipeline and the face detector, loaded once per process."""
    from pipeline.teach.face_detector import FaceDetector

    return load_pii_nlp(), FaceDetector()


def _default_models() -> tuple[Any, RedactMoment]:
    """spaCy with its entities, and CenterFace blurring through ``pipeline.teach.faces``."""
    from pipeline.teach.faces import redact_video

    nlp, detector = _defaults()

    def blur(moment: Moment, wav: Path, clip: Path) -> dict[str, Any]:
        stats = redact_video(moment.original, clip, start_s=moment.start_s,
                             duration_s=moment.end_s - moment.start_s, audio=wav, detector=detector)
        return {"detector": stats.detector, "threshold": stats.threshold, "frames": stats.frames,
                "frames_with_faces": stats.frames_with_faces, "frames_blurred": stats.frames_blurred,
                "detections": stats.detections,
                "detected_at": f"{stats.detect_width}x{stats.detect_height}"}

    return nlp, blur


def export_with_defaults(instance: Instance, store: Store, request: ExportRequest, out: Path, *,
                         rubric: Rubric | None = None) -> ExportResult:
    """``export_pack`` with the shipped rubric (unless given), spaCy's entities and CenterFace:
    what the CLI and the web app use."""
    from pipeline.flagging.rubric import load_rubric

    return export_pack(instance, store, request, out, rubric=rubric or load_rubric(),
                       models=_default_models)
