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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__, clock
from pipeline.batch.media import run_tool
from pipeline.config import Instance
from pipeline.errors import (
    BwvError,
    ForbiddenError,
    IntegrityError,
    InvalidRequestError,
    MediaError,
    NotFoundError,
)
from pipeline.flagging.rubric import Rubric
from pipeline.records import Segment, Word
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.base import inside_file
from pipeline.store.exports import to_vtt
from pipeline.teach.handout import PAD_S, Moment, build_manifest, flags_in, render_handout
from pipeline.teach.pii import find_pii, join_words, load_pii_nlp, redact_audio, toned_windows_s
from pipeline.teach.verify import PackNotClean, Verifier, base_verifier, check_moment

log = logging.getLogger("bwv.teach")

AUDIO_RATE = 48_000
MAX_TEXT = 500


@dataclass(frozen=True)
class ExportRequest:
    """Who exports which annotations, to whom and why."""

    annotation_ids: tuple[int, ...]
    reason: str
    recipient: str
    actor: str  # as the audit log names it: "web:alice", "cli:root as alice"
    exporter: str  # the trainer (or admin) account the export is made for
    role: str  # that account's role


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


#: Roles that may export teaching packs.
EXPORT_ROLES = ("trainer", "admin")


def exporting_account(store: Store, name: str, *, actor: str) -> db.UserAccount:
    """The account an export acts for: it must exist, be enabled and be a trainer's or an
    admin's. A refusal is audited under ``actor`` (who asked)."""
    user = store.user_by_name(name.strip()) if name.strip() else None
    if user is None:
        problem: BwvError = NotFoundError(
            f"no account named {name!r}: name the trainer exporting the pack (--as NAME)")
    elif user.disabled:
        problem = ForbiddenError(f"account {name!r} is disabled: it cannot export teaching packs")
    elif user.role not in EXPORT_ROLES:
        problem = ForbiddenError(f"account {name!r} is a {user.role}'s: only a trainer or an admin "
                                 "exports teaching packs")
    else:
        return user
    store.audit(actor=actor, action="teach-export-refused", obj=f"user:{name[:100]}",
                detail=str(problem))
    raise problem


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


RedactMoment = Callable[[Moment, Path, Path], dict[str, Any]]
#: Loads the models an export needs: spaCy with its entity recogniser, the face redactor and
#: the verifier that transcribes the redacted audio again.
Models = Callable[[], tuple[Any, RedactMoment, Verifier]]


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
    nlp, redact_video, verifier = models()
    at = clock.now()
    exported = {"by": request.exporter, "role": request.role, "audit_actor": request.actor,
                "to": request.recipient.strip(), "reason": request.reason.strip(),
                "at": at.isoformat(), "bwv_version": __version__}
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    instance.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="teach-", dir=instance.tmp_dir))
    tmp_zip = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    summaries = []
    try:
        # First the words and the sound of every moment, each checked again; only a clean
        # pack goes on to the (slow) face redaction and the zip.
        prepared, findings = [], []
        for moment in moments:
            here = work / f"moment-{moment.annotation.id}"
            here.mkdir()
            segments = _clip_segments(store.load_segments(moment.media.id),
                                      moment.start_s, moment.end_s)
            redacted = find_pii(segments, nlp=nlp)
            feedback = find_pii([_as_segment(moment.annotation.feedback)], nlp=nlp)
            original = _extract_audio(moment)
            toned = toned_windows_s(redacted.windows, AUDIO_RATE, len(original))
            wav = here / "audio.wav"
            _write_wav(wav, redact_audio(original, AUDIO_RATE, redacted.windows))
            # The check listens with the windows silent: a tone sends Whisper into loops of
            # invented words over the speech after it; silence it skips.
            silenced = here / "check.wav"
            _write_wav(silenced, redact_audio(original, AUDIO_RATE, redacted.windows, mode="silence"))
            found, checked = check_moment(moment.annotation.id, audio_wav=silenced, toned=toned,
                                          subtitles=redacted.segments, feedback=feedback.segments,
                                          nlp=nlp, verifier=verifier)
            findings += found
            prepared.append((moment, here, redacted, feedback, toned, wav, checked))
        if findings:
            store.audit(actor=request.actor, action="teach-export-stopped",
                        obj="annotations:" + ",".join(str(m.annotation.id) for m in moments),
                        detail="; ".join(f.describe() for f in findings))
            raise PackNotClean(findings)
        with zipfile.ZipFile(tmp_zip, "w") as pack:
            for moment, here, redacted, feedback, toned, wav, checked in prepared:
                folder = here.name
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
                flags = flags_in(store, rubric, moment)
                manifest = build_manifest(moment, redacted, feedback, faces, exported, toned=toned,
                                          files={p.name: _sha256_file(p) for p in (clip, vtt)})
                manifest["redaction"]["checked_before_writing"] = {**checked, "verifier": verifier.name}
                handout = here / "handout.html"
                handout.write_text(render_handout(moment, redacted.segments,
                                                 _text_of(feedback.segments), flags, exported,
                                                 manifest["redaction"]))
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


@cache
def _defaults() -> tuple[Any, Any]:
    """The entity-recognising spaCy pipeline and the face detector, loaded once per process."""
    from pipeline.teach.face_detector import FaceDetector

    return load_pii_nlp(), FaceDetector()


def _default_models(instance: Instance) -> tuple[Any, RedactMoment, Verifier]:
    """spaCy with its entities, CenterFace blurring through ``pipeline.teach.faces``, and the
    ``base`` Whisper model as the verifier (a different model from the batch's)."""
    from pipeline.teach.faces import redact_video

    nlp, detector = _defaults()

    def blur(moment: Moment, wav: Path, clip: Path) -> dict[str, Any]:
        stats = redact_video(moment.original, clip, start_s=moment.start_s,
                             duration_s=moment.end_s - moment.start_s, audio=wav, detector=detector)
        return {"detector": stats.detector, "threshold": stats.threshold, "frames": stats.frames,
                "frames_detected": stats.frames_detected,
                "frames_with_faces": stats.frames_with_faces, "frames_blurred": stats.frames_blurred,
                "detections": stats.detections,
                "detected_at": f"{stats.detect_width}x{stats.detect_height}"}

    return nlp, blur, base_verifier(instance.models_dir)


def export_with_defaults(instance: Instance, store: Store, request: ExportRequest, out: Path, *,
                         rubric: Rubric | None = None) -> ExportResult:
    """``export_pack`` with the shipped rubric (unless given), spaCy's entities and CenterFace:
    what the CLI and the web app use."""
    from pipeline.flagging.rubric import load_rubric

    return export_pack(instance, store, request, out, rubric=rubric or load_rubric(),
                       models=partial(_default_models, instance))
