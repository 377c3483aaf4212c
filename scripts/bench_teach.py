#!/usr/bin/env python3
"""Measure teaching exports end to end (issue 13): what a pack made with ``--accept-proposed``
still shows or says, how much else it redacts, and how fast it is made.

The scenes: six generated clips (640x360, 25 fps, 12 to 15 s), each from its own
seed, every third (clips 2 and 5) held back. Each has a drifting textured
background (blurred noise and a street of buildings); a crowd of seven faces cut
from the real portrait photos in tests/data/faces, 30 to 180 pixels wide, some
mirrored, some turned by up to 20 degrees, growing or shrinking as they cross the
frame, entering and leaving it; a car with a UK-style number plate (yellow or
white, black letters such as "AB12 CDE") that drives in, stops and drives off;
and speech: two or three sentences of scripts/bench_pii.py, each spoken by
espeak-ng in three pieces (so each personal detail's true time span is known to
the sample) with that bench's voices, speeds, levels and noise, joined over a
bed of street noise. Held-back clips speak sentences of bench_pii's held-back
third, the others sentences of its other two thirds, so the text figures stay
comparable. A seventh clip, the first scene drawn at 1280x720, is for speed
only. Every clip is written before any is exported or measured; the frame
number is drawn in squares along the bottom edge (as scripts/bench_redact.py
does) so a pack's frames are matched to the source's.

The run: the real batch (``bwv run INBOX --settle-seconds 0``: ffmpeg, Whisper
tiny.en, spaCy) into a fresh ``BWV_HOME``; a TIP annotates each whole clip as a
teaching moment (as tests/test_teach.py does; a clip the rubric flagged nothing
in has no review item to annotate on, so one over the whole file is added to the
store for it); each clip is exported alone
through the CLI (``bwv teach export ID --as TRAINER --accept-proposed``, a
subprocess), timed wall to wall (model loading included). An export the check
before writing stops (exit 2) is counted with its reason; it counts as caught.

Each written pack is then measured:

- text: a detail is *left* when bench_pii's ``_left_in_text`` finds it in the
  ``clip.vtt`` cues that overlap its sentence;
- audio, by the labels: a detail is *audible* when any 20 ms frame of its true
  span louder than -40 dBFS in the clean speech is not wholly inside the
  manifest's toned windows (``redaction.audio.windows_s``);
- audio, by ear: the pack's own sound is transcribed by the ``base`` model
  (``pipeline.teach.verify.base_verifier``) and ``find_pii`` runs on what it
  heard; a detail is *heard* when a finding mostly outside the toned windows
  (``verify.details_heard``) overlaps its span (findings elsewhere are counted
  apart: the tone can make Whisper invent words);
- non-personal words redacted: the batch's transcript is aligned with the
  subtitles word by word; a word not kept is redacted; a word is personal as
  bench_pii decides (spelt as one of the detail's words, else mostly inside its
  span); the share of the other words that were redacted;
- faces, by the detectors: the second detector (``face_check.check_clip``,
  every frame) and CenterFace at threshold 0.2 on every frame of the pack's
  clip, each finding marked as *at a face* when it matches a face of which at
  least 30% shows (a box with its centre inside the face's box and IoU 0.2 or
  more, or containing it), else elsewhere; the same detectors on every 5th
  frame of the source, as how many of the *counted* faces they find (30 pixels
  or wider, whole in frame, 70% or more of the box showing, not under a nearer
  face), to show they can find faces;
- faces, by the labels: a counted face is *left sharp* in a pack frame when
  the variance of the Laplacian over its box is at least half the source's
  (a blurred face keeps a few percent);
- the plate: the same ratio over its region, median over the frames where it
  is whole in frame and no face (widened by half its size) is near it; 0.5 or
  more is *sharp*. A plate is not a face: nothing automatic blurs it; a
  trainer's box (``bwv teach review``) would.

Speed: clip seconds per wall second for the 640x360 exports: one moment per CLI
run (each run loads its models), the written moments again as one pack in one CLI
run, and each moment exported in this process as the review app does it; and the 1280x720
clip exported through the CLI against plain ``deface`` on the same file
(``deface IN -o OUT --thresh 0.2 --keep-audio``, as bench_redact runs it),
alternating which goes first, the median of ``--repeat`` runs each.

Targets (YES/NO), exit 1 if one is missed: no detail left in the text or the
audio of a held-back pack (a stopped export counts as caught); at most 5% of
the non-personal words redacted (all written packs); no recognisable face in any
pack (none left sharp by the labels, no box of the second detector at a face: its
boxes elsewhere, on a blurred blob, are counted and printed); 640x360 exports at
least real time, both in the review app (one process, models loaded, the moment
heard when its review page opened: ``served_exports``) and through the CLI (models
loaded per run); the 1280x720 export no slower than deface.

Usage::

    python scripts/bench_teach.py
    python scripts/bench_teach.py --quick --verbose        # clips 0 and 2 only
    python scripts/bench_teach.py --repeat 3 --keep /tmp/teach-bench
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import Segment, Word  # noqa: E402
from pipeline.teach.face_check import BlazeFaceDetector, check_clip  # noqa: E402
from pipeline.teach.face_detector import FaceDetector  # noqa: E402
from pipeline.teach.moments import clip_segments  # noqa: E402
from pipeline.teach.pii import find_pii, load_pii_nlp  # noqa: E402
from pipeline.teach.verify import base_verifier, details_heard, listen  # noqa: E402
from scripts.bench_pii import (  # noqa: E402
    RATE,
    SENTENCES,
    _detail_word,
    _left_in_text,
    speak,
)
from scripts.bench_redact import (  # noqa: E402
    CODE_BITS,
    FaceClip,
    _deface_version,
    code_cell,
    read_frame_number,
    time_deface,
)

DATA = ROOT / "tests" / "data"
#: CenterFace's box of the face on each portrait (x1, y1, x2, y2), as bench_face_check has it.
FACE_BOXES = {"obama.jpg": (372, 112, 600, 420), "biden.jpg": (430, 192, 702, 548)}
FPS = 25
SIZE = (640, 360)
HD = (1280, 720)
CLIPS = 6
HELD_BACK = frozenset(i for i in range(CLIPS) if i % 3 == 2)
FACES_PER_CLIP = 7
FACE_PX = (30.0, 180.0)  # face widths at 360 lines
SOURCE_EVERY = 5  # source frames the detectors look at, to show they find faces
SHOWN = 0.7  # a face counts when this share of its box shows (not under a nearer face)
SHOWN_SOME = 0.3  # a finding counts as at a face when it matches one showing this much
SHARP = 0.5  # a region is sharp in the pack when its Laplacian variance is this share of the source's
FALSE_SHARE = 0.05
TRAINER, TIP, PASSWORD = "tom", "alice", "correct horse battery staple"
REASON, RECIPIENT = "bench: issue 13", "bench"
FEEDBACK = "Calm first response; the caller was believed and thanked."


# --- scenes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    """One face crossing the frame: sizes at 360 lines, positions as fractions of the frame."""

    photo: str
    face_px: float  # face width at the start, at 360 lines
    growth: float  # its width at the end over at the start
    mirror: bool
    angle: float
    t0: float
    t1: float
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass(frozen=True)
class Plate:
    """A car with a number plate: in from one side, a rest, out the other side."""

    text: str
    colour: tuple[int, int, int]  # RGB
    body: tuple[int, int, int]
    t0: float
    t1: float
    y: float  # the plate's centre, as a fraction of the height
    rest_x: float  # where it stops, as a fraction of the width
    from_left: bool


@dataclass(frozen=True)
class Detail:
    """One personal detail as spoken in a clip: its sentence, true span and loud frames."""

    sentence: int
    span: tuple[float, float]
    frames: tuple[tuple[float, float], ...]  # 20 ms frames louder than -40 dBFS, clean speech


@dataclass
class Scene:
    """One generated clip: what is in it, where and when (the labels), and its files."""

    index: int
    seconds: float
    tracks: list[Track]
    plate: Plate
    sentences: list[int]
    spans: list[tuple[float, float]]  # each sentence's speech, seconds into the clip
    details: list[Detail]
    seed: int
    files: dict[str, Path] = field(default_factory=dict)  # "640x360" / "1280x720" -> mp4

    @property
    def held(self) -> bool:
        return self.index in HELD_BACK

    @property
    def frames(self) -> int:
        return round(self.seconds * FPS)


def _sentence_pools(seed: int) -> dict[bool, list[int]]:
    """bench_pii's sentences in a seeded order: the held-back third, and the other two thirds."""
    rng = np.random.default_rng(seed)
    return {held: [int(i) for i in rng.permutation([i for i in range(len(SENTENCES))
                                                    if (i % 3 == 2) == held])]
            for held in (False, True)}


def _plate_text(rng: np.random.Generator) -> str:
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    pick = "".join(letters[int(i)] for i in rng.integers(0, len(letters), 5))
    return f"{pick[:2]}{int(rng.integers(10, 75)):02d} {pick[2:]}"


def _tracks(rng: np.random.Generator, seconds: float) -> list[Track]:
    out = []
    for k in range(FACES_PER_CLIP):
        face = float(np.exp(rng.uniform(np.log(FACE_PX[0]), np.log(FACE_PX[1]))))
        duration = float(rng.uniform(4.0, 9.0))
        t0 = -2.5 + k * (seconds + 1.0) / FACES_PER_CLIP + float(rng.uniform(-0.8, 0.8))
        half = 0.5 * face * 1.9 / (SIZE[1] * 16 / 9)  # half a head-and-shoulders patch, of the width
        y0, y1 = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))
        left = bool(rng.random() < 0.5)
        xs = (-half, 1 + half) if left else (1 + half, -half)
        out.append(Track(photo=str(rng.choice(list(FACE_BOXES))), face_px=face,
                         growth=float(rng.uniform(0.75, 1.3)), mirror=bool(rng.random() < 0.4),
                         angle=float(rng.uniform(-20, 20) if rng.random() < 0.6
                                     else rng.uniform(-4, 4)),
                         t0=t0, t1=t0 + duration, start=(xs[0], y0), end=(xs[1], y1)))
    return out


def _write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != RATE:
            raise RuntimeError(f"{path}: expected {RATE} Hz")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


def _street(rng: np.random.Generator, n: int) -> np.ndarray:
    """A bed of traffic: low rumble with slow swells of passing cars, about -45 dBFS."""
    white = rng.standard_normal(n).astype(np.float32)
    rumble = np.convolve(white, np.ones(40) / 40, mode="same")
    hiss = np.convolve(rng.standard_normal(n).astype(np.float32), np.ones(6) / 6, mode="same")
    t = np.arange(n) / RATE
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / float(rng.uniform(3, 6))) ** 2
    bed = (rumble / (np.std(rumble) + 1e-9) + 0.3 * hiss / (np.std(hiss) + 1e-9)) * swell
    return (bed * 10 ** (-45 / 20) / (np.sqrt(np.mean(bed ** 2)) + 1e-9)).astype(np.float32)


def make_scene(index: int, pools: dict[bool, list[int]], work: Path) -> Scene:
    """Speak the scene's sentences, lay them out, and plan its faces and plate."""
    rng = np.random.default_rng(4200 + index)
    held = index in HELD_BACK
    per_set = [i for i in range(CLIPS) if (i in HELD_BACK) == held].index(index)
    chosen = pools[held][3 * per_set:3 * per_set + 3]
    spoken = [speak(i, work) for i in chosen]
    audio = [_read_wav(s.wav) for s in spoken]
    if sum(len(a) for a in audio) / RATE > 14.0:  # three would not fit in 15 s: two
        chosen, spoken, audio = chosen[:2], spoken[:2], audio[:2]
    speech_s = sum(len(a) for a in audio) / RATE
    seconds = round(max(12.0, speech_s + 0.8), 2)
    n = int(seconds * RATE)
    mix = _street(rng, n)
    gap = (seconds - speech_s) / (len(audio) + 1)
    at, spans, details = gap, [], []
    for i, s, a in zip(chosen, spoken, audio, strict=True):
        start = int(at * RATE)
        mix[start:start + len(a)] += a[:n - start]
        offset = start / RATE
        spans.append((offset + 0.6, offset + len(a) / RATE - 0.6))  # speak() leads 0.6 s each side
        details.append(Detail(i, (offset + s.detail_s[0], offset + s.detail_s[1]),
                              tuple((offset + a0, offset + b0) for a0, b0 in s.speech_frames)))
        at += len(a) / RATE + gap
    wav = work / f"clip{index}.wav"
    _write_wav(wav, mix)
    t0 = float(rng.uniform(1.0, 4.0))
    plate = Plate(text=_plate_text(rng), colour=(250, 205, 20) if rng.random() < 0.5 else (240, 240, 235),
                  body=tuple(int(c) for c in rng.integers(20, 120, 3)),  # type: ignore[arg-type]
                  t0=t0, t1=min(seconds - 0.3, t0 + float(rng.uniform(5.5, 8.0))),
                  y=float(rng.uniform(0.7, 0.8)), rest_x=float(rng.uniform(0.3, 0.7)),
                  from_left=bool(rng.random() < 0.5))
    scene = Scene(index, seconds, _tracks(rng, seconds), plate, list(chosen), spans, details,
                  seed=4200 + index)
    scene.files["wav"] = wav
    return scene


@dataclass(frozen=True)
class Patch:
    rgb: np.ndarray
    alpha: np.ndarray
    face: tuple[float, float, float, float]  # the face's box in the patch


def _patch(photo: np.ndarray, box: tuple[int, int, int, int], width: float, *,
           mirror: bool, angle: float) -> Patch:
    """A feathered head-and-shoulders patch with the face ``width`` pixels wide, turned."""
    x1, y1, x2, y2 = box
    fw, fh = x2 - x1, y2 - y1
    cx1, cy1 = max(0, int(x1 - 0.45 * fw)), max(0, int(y1 - 0.3 * fh))
    cx2, cy2 = min(photo.shape[1], int(x2 + 0.45 * fw)), min(photo.shape[0], int(y2 + 0.5 * fh))
    s = width / fw
    w, h = max(4, round((cx2 - cx1) * s)), max(4, round((cy2 - cy1) * s))
    crop = cv2.resize(photo[cy1:cy2, cx1:cx2], (w, h),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    corners = (np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32) - [cx1, cy1]) * s
    if mirror:
        crop = np.ascontiguousarray(crop[:, ::-1])
        corners[:, 0] = w - corners[:, 0]
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.47), int(h * 0.48)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, min(w, h) * 0.04))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    outline = cv2.transform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), matrix)[0]
    matrix[:, 2] -= outline.min(axis=0)
    size = tuple(int(v) + 1 for v in np.ceil(outline.max(axis=0) - outline.min(axis=0)))
    rgb = cv2.warpAffine(crop, matrix, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR)
    turned = cv2.transform(corners[None], matrix)[0]
    return Patch(rgb, alpha, (*turned.min(axis=0), *turned.max(axis=0)))  # type: ignore[arg-type]


def _paste(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    fh, fw = frame.shape[:2]
    h, w = patch.shape[:2]
    left, top, right, bottom = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if right <= left or bottom <= top:
        return
    part = (slice(top - y, bottom - y), slice(left - x, right - x))
    a = alpha[part][:, :, None]
    region = frame[top:bottom, left:right].astype(np.float32)
    frame[top:bottom, left:right] = (patch[part] * a + region * (1 - a)).astype(np.uint8)


def _background(seed: int, width: int, height: int) -> np.ndarray:
    """Blurred colour noise over a row of buildings with windows, wider and taller than the frame."""
    rng = np.random.default_rng(seed)
    bw, bh = 640 + 160, 360 + 90  # drawn at 360 lines, scaled to the clip's size
    noise = rng.integers(0, 255, (bh // 4, bw // 4, 3), dtype=np.uint8)
    base = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 2), (bw, bh), interpolation=cv2.INTER_CUBIC)
    street = np.zeros_like(base)
    street[:] = rng.integers(140, 220, 3)
    x = 0
    while x < bw:
        w, top = int(rng.integers(50, 150)), int(rng.integers(20, 200))
        street[top:, x:x + w] = rng.integers(40, 190, 3)
        glass = rng.integers(0, 255, 3)
        for wy in range(top + 10, bh - 90, int(rng.integers(18, 36))):
            for wx in range(x + 6, x + w - 12, int(rng.integers(14, 30))):
                street[wy:wy + 9, wx:wx + 6] = glass
        x += w
    street[bh - 85:] = rng.integers(50, 90)
    mixed = (0.7 * street + 0.3 * base).astype(np.uint8)
    return cv2.resize(mixed, (round(bw * height / 360), round(bh * height / 360)),
                      interpolation=cv2.INTER_CUBIC)


class Renderer:
    """Draws a scene's frames at one size; also says where its faces and plate are."""

    def __init__(self, scene: Scene, width: int, height: int) -> None:
        self.scene, self.width, self.height = scene, width, height
        self.k = height / 360
        self.background = _background(scene.seed, width, height)
        photos = {}
        for name in FACE_BOXES:
            image = cv2.imread(str(DATA / "faces" / name))
            if image is None:
                raise FileNotFoundError(f"missing face photo {DATA / 'faces' / name}")
            photos[name] = np.ascontiguousarray(image[:, :, ::-1])
        # Each face drawn once at its largest; scaled down per frame.
        self.patches = [_patch(photos[t.photo], FACE_BOXES[t.photo],
                               t.face_px * max(1.0, t.growth) * self.k, mirror=t.mirror,
                               angle=t.angle) for t in scene.tracks]

    def faces_at(self, index: int) -> list[tuple[Patch, float, int, int, tuple[float, ...], int]]:
        """Faces on screen in frame ``index``: patch, scale, top-left, face box in the frame,
        track; smallest first (the nearer, larger ones are drawn over them)."""
        t = index / FPS
        out = []
        for n, (track, patch) in enumerate(zip(self.scene.tracks, self.patches, strict=True)):
            if not track.t0 <= t < track.t1:
                continue
            u = (t - track.t0) / (track.t1 - track.t0)
            scale = (1 + (track.growth - 1) * u) / max(1.0, track.growth)
            cx = (track.start[0] + (track.end[0] - track.start[0]) * u) * self.width
            cy = (track.start[1] + (track.end[1] - track.start[1]) * u) * self.height
            ph, pw = patch.rgb.shape[:2]
            x, y = int(cx - pw * scale / 2), int(cy - ph * scale / 2)
            box = tuple(v * scale for v in patch.face)
            out.append((patch, scale, x, y, (x + box[0], y + box[1], x + box[2], y + box[3]), n))
        return sorted(out, key=lambda f: f[1] * f[0].rgb.shape[1])

    def visible(self, index: int) -> list[tuple[tuple[float, ...], float, int]]:
        """Each face in frame ``index``: its box, the share of that box it shows (not off
        screen, not under a nearer face's patch), and its track."""
        faces = self.faces_at(index)
        owner = np.full((self.height, self.width), -1, np.int16)
        for k, (patch, scale, x, y, _box, _track) in enumerate(faces):
            ph, pw = patch.rgb.shape[:2]
            w, h = max(2, round(pw * scale)), max(2, round(ph * scale))
            left, top = max(0, x), max(0, y)
            right, bottom = min(self.width, x + w), min(self.height, y + h)
            if right <= left or bottom <= top:
                continue
            alpha = cv2.resize(patch.alpha, (w, h), interpolation=cv2.INTER_AREA)
            mine = alpha[top - y:bottom - y, left - x:right - x] > 0.5
            owner[top:bottom, left:right][mine] = k
        out = []
        for k, (*_, box, track) in enumerate(faces):
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            area = max(1, (x2 - x1) * (y2 - y1))
            shown = owner[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] == k
            out.append((box, float(np.count_nonzero(shown)) / area, track))
        return out

    def plate_at(self, index: int) -> tuple[int, int, int, int] | None:
        """The plate's box (x1, y1, x2, y2) in frame ``index``, or None when off screen."""
        p, t = self.scene.plate, index / FPS
        if not p.t0 <= t < p.t1:
            return None
        pw = 0.2 * self.width
        ph = pw / 4.7
        off = 0.5 + 1.6 * pw / self.width  # the car's half length past the edge
        move = 1.5
        side = -off if p.from_left else 1 + off
        other = 1 + off if p.from_left else -off
        if t < p.t0 + move:
            x = side + (p.rest_x - side) * (t - p.t0) / move
        elif t > p.t1 - move:
            x = p.rest_x + (other - p.rest_x) * (t - (p.t1 - move)) / move
        else:
            x = p.rest_x
        cx, cy = x * self.width, p.y * self.height
        return int(cx - pw / 2), int(cy - ph / 2), int(cx + pw / 2), int(cy + ph / 2)

    def frame(self, index: int) -> np.ndarray:
        t = index / FPS
        bh, bw = self.background.shape[:2]
        ox = int((bw - self.width) / 2 * (1 + np.sin(2 * np.pi * t / 11)))
        oy = int((bh - self.height) / 2 * (1 + 0.5 * np.sin(2 * np.pi * t / 7)))
        frame = self.background[oy:oy + self.height, ox:ox + self.width].copy()
        plate = self.plate_at(index)
        if plate is not None:
            x1, y1, x2, y2 = plate
            pw, ph = x2 - x1, y2 - y1
            cv2.rectangle(frame, (x1 - int(1.1 * pw), y1 - int(2.2 * ph)),
                          (x2 + int(1.1 * pw), y2 + int(0.8 * ph)), self.scene.plate.body, -1)
            cv2.rectangle(frame, (x1, y1), (x2, y2), self.scene.plate.colour, -1)
            cv2.rectangle(frame, (x1, y1), (x2, y2), (20, 20, 20), max(1, ph // 14))
            thick = max(1, round(ph / 11))
            (tw, th), _ = cv2.getTextSize(self.scene.plate.text, cv2.FONT_HERSHEY_DUPLEX, 1.0, thick)
            scale = min(0.86 * pw / tw, 0.62 * ph / th)
            (tw, th), _ = cv2.getTextSize(self.scene.plate.text, cv2.FONT_HERSHEY_DUPLEX, scale, thick)
            cv2.putText(frame, self.scene.plate.text, (x1 + (pw - tw) // 2, y1 + (ph + th) // 2),
                        cv2.FONT_HERSHEY_DUPLEX, scale, (10, 10, 10), thick, cv2.LINE_AA)
        for patch, scale, x, y, _box, _track in self.faces_at(index):
            ph, pw = patch.rgb.shape[:2]
            w, h = max(2, round(pw * scale)), max(2, round(ph * scale))
            _paste(frame, cv2.resize(patch.rgb, (w, h), interpolation=cv2.INTER_AREA),
                   cv2.resize(patch.alpha, (w, h), interpolation=cv2.INTER_AREA), x, y)
        cell = code_cell(self.height)
        frame[self.height - cell:, : cell * CODE_BITS] = 0
        for i in range(CODE_BITS):
            if index >> i & 1:
                frame[self.height - cell:, cell * i: cell * (i + 1)] = 255
        return frame


def write_clip(scene: Scene, out: Path, width: int, height: int) -> Path:
    """The scene as H.264/AAC MP4 at this size, with its speech."""
    render = Renderer(scene, width, height)
    args = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(FPS),
            "-i", "pipe:0", "-i", str(scene.files["wav"]), "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "50", "-sc_threshold", "0",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
            "-t", f"{scene.frames / FPS:.3f}", "-movflags", "+faststart", str(out)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE)  # noqa: S603 - argument list
    if proc.stdin is None:
        raise RuntimeError("ffmpeg's standard input was not opened")
    try:
        for i in range(scene.frames):
            proc.stdin.write(render.frame(i).data)
    finally:
        proc.stdin.close()
    if proc.wait(timeout=600) != 0:
        raise RuntimeError(f"ffmpeg could not write {out}")
    return out


# --- the batch, the annotations, the exports -----------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    return env


def bwv(home: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], env=_env(home), cwd=ROOT,  # noqa: S603
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def run_batch(home: Path, inbox: Path) -> float:
    for path in inbox.iterdir():  # settled: modified a minute ago
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))
    started = time.perf_counter()
    done = bwv(home, "-q", "run", str(inbox), "--settle-seconds", "0")
    if done.returncode != 0:
        raise RuntimeError(f"bwv run failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return time.perf_counter() - started


def annotate(home: Path) -> dict[str, tuple[int, int, float]]:
    """A TIP's submitted teaching annotation over each whole file: name -> (annotation, media,
    duration).

    A TIP annotates on a review item, which the batch makes only where the rubric flagged
    something; a file without one is given an item over the whole file here."""
    from pipeline import clock
    from pipeline.config import resolve_instance
    from pipeline.review.accounts import add_user
    from pipeline.store import open_store
    from pipeline.store import schema as db
    from pipeline.store.review import QueueFilter

    store = open_store(resolve_instance(home).db_url)
    tip = add_user(store, TIP, role="tip", password=PASSWORD, actor="bench")
    add_user(store, TRAINER, role="trainer", password=PASSWORD, actor="bench")
    media_rows = list(store.iter_media())
    for media in media_rows:
        if media.state != "done":
            raise RuntimeError(f"media {media.id} ended {media.state}: {media.reason}")
    items = store.queue_page(QueueFilter(statuses=()), offset=0, limit=1000)[0]
    unflagged = {m.id for m in media_rows} - {row.media_id for row in items}
    if unflagged:
        with store.session() as s:
            s.add_all(db.ReviewItem(media_id=m.id, start_s=0.0, end_s=float(m.duration_s or 0.0),
                                    priority=0, status="new", categories="", created_at=clock.now())
                      for m in media_rows if m.id in unflagged)
        items = store.queue_page(QueueFilter(statuses=()), offset=0, limit=1000)[0]
    out = {}
    for media in media_rows:
        item = next(row for row in items if row.media_id == media.id)
        if not store.claim_item(item.id, tip):
            raise RuntimeError(f"could not claim review item {item.id}")
        duration = float(media.duration_s or 0.0)
        annotation = store.add_annotation(
            media_id=media.id, review_item_id=item.id, author_id=tip, start_s=0.0, end_s=duration,
            labels=["good practice"], rating=4, feedback=FEEDBACK, teaching=True)
        store.finish_item(item.id, tip, status="reviewed")
        out[item.name] = (annotation, media.id, duration)
    store.engine.dispose()
    return out


@dataclass
class Export:
    returncode: int
    seconds: float
    stderr: str
    pack: Path | None

    @property
    def stopped(self) -> bool:
        return self.returncode == 2 and "the check before writing found" in self.stderr


def export(home: Path, annotation: int, out: Path) -> Export:
    """One moment through ``bwv teach export ... --accept-proposed``, wall to wall."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    done = bwv(home, "teach", "export", str(annotation), "--as", TRAINER, "--reason", REASON,
               "--recipient", RECIPIENT, "--accept-proposed", "-o", str(out))
    seconds = time.perf_counter() - started
    return Export(done.returncode, seconds, done.stderr.strip(),
                  out if done.returncode == 0 and out.is_file() else None)


def served_exports(home: Path, annotations: dict[int, int], packs: Path) -> dict[int, float]:
    """Each moment exported in this process as the review app does it, timed: the models are
    loaded as a server's first export loads them, and each moment's review page is opened
    first (``pack.proposals``, which hears it); neither is timed. Clip -> seconds, for the
    written packs."""
    from pipeline.config import resolve_instance
    from pipeline.store import open_store
    from pipeline.teach import pack
    from pipeline.teach.moments import ExportRequest
    from pipeline.teach.review_doc import Review
    from pipeline.teach.verify import PackNotClean

    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    pack._default_models(instance)
    times = {}
    for index, annotation in annotations.items():
        pack.proposals(instance, store, [annotation], actor=f"bench as {TRAINER}")
        request = ExportRequest(annotation_ids=(annotation,), reason=REASON, recipient=RECIPIENT,
                                actor=f"bench as {TRAINER}", exporter=TRAINER, role="trainer")
        started = time.perf_counter()
        try:
            pack.export_with_defaults(instance, store, request, packs / f"served{index}.zip",
                                      decide=lambda texts: Review.accept_proposed())
        except PackNotClean:
            continue
        times[index] = time.perf_counter() - started
    store.engine.dispose()
    return times


# --- measuring a pack --------------------------------------------------------------------------


_TIME = re.compile(r"(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})")


def read_vtt(path: Path) -> list[tuple[float, float, str]]:
    """Cues (start, end, text) of a WebVTT file."""
    cues, lines = [], path.read_text().splitlines()
    for i, line in enumerate(lines):
        m = _TIME.fullmatch(line.strip())
        if m:
            v = [int(x) for x in m.groups()]
            text = []
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    break
                text.append(nxt.strip())
            cues.append((v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000,
                         v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000, " ".join(text)))
    return cues


#: A stored word starting with one of these is written against the word before it.
_GLUED = "-'’,.!?;:%)"


def _norm(token: str) -> str:
    return token.lower().replace("’", "'").strip(" ,.;:!?\"'")


def redacted_words(words: Sequence[Word], subtitles: str) -> list[bool]:
    """Which transcript words the subtitles no longer show: the words are joined as the
    subtitles join them, split into tokens, and matched to the subtitles' tokens in order."""
    tokens: list[list[int]] = []  # word indices per token of the joined text
    for j, word in enumerate(words):
        if tokens and word.word[:1] in _GLUED:  # joined to the word before, as join_words does
            tokens[-1].append(j)
        else:
            tokens.append([j])
    ours = [_norm("".join(words[j].word.strip() for j in group)) for group in tokens]
    theirs = [_norm(t) for t in subtitles.split()]
    kept = [False] * len(words)
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for a, _b, n in matcher.get_matching_blocks():
        for group in tokens[a:a + n]:
            for j in group:
                kept[j] = True
    return [not k for k in kept]


def _code_readable(frame: np.ndarray) -> bool:
    """Whether the frame-number squares of an RGB frame are each plainly black or white."""
    cell = code_cell(frame.shape[0])
    y = frame.shape[0] - cell // 2 - 1
    values = [float(frame[y, cell * i + cell // 2].mean()) for i in range(CODE_BITS)]
    return all(v < 60 or v > 195 for v in values)


def _covered(frame: tuple[float, float], windows: Sequence[Sequence[float]]) -> bool:
    return any(a <= frame[0] and frame[1] <= b for a, b in windows)


def _sentence_of(word: Word, spans: Sequence[tuple[float, float]]) -> int:
    mid = (word.start_s + word.end_s) / 2
    gaps = [0.0 if a <= mid <= b else min(abs(mid - a), abs(mid - b)) for a, b in spans]
    return int(np.argmin(gaps))


def _matches(found: Sequence[float], truth: Sequence[float]) -> bool:
    """bench_face_check's rule: the found box's centre inside the face's box and IoU >= 0.2,
    or the found box containing the face's box."""
    fx1, fy1, fx2, fy2 = found[:4]
    tx1, ty1, tx2, ty2 = truth[:4]
    if fx1 <= tx1 and fy1 <= ty1 and fx2 >= tx2 and fy2 >= ty2:
        return True
    cx, cy = (fx1 + fx2) / 2, (fy1 + fy2) / 2
    if not (tx1 <= cx <= tx2 and ty1 <= cy <= ty2):
        return False
    inter = max(0.0, min(fx2, tx2) - max(fx1, tx1)) * max(0.0, min(fy2, ty2) - max(fy1, ty1))
    union = (fx2 - fx1) * (fy2 - fy1) + (tx2 - tx1) * (ty2 - ty1) - inter
    return inter / max(union, 1e-9) >= 0.2


def _near(box: Sequence[float], truth: Sequence[float], grow: float) -> bool:
    """Whether ``box`` overlaps the face box ``truth`` widened by ``grow`` of its size."""
    tx1, ty1, tx2, ty2 = truth[:4]
    dx, dy = (tx2 - tx1) * grow, (ty2 - ty1) * grow
    return (box[0] < tx2 + dx and tx1 - dx < box[2] and box[1] < ty2 + dy and ty1 - dy < box[3])


def _countable(box: Sequence[float], shown: float, width: int, height: int, scale: float) -> bool:
    """A face whole in frame, at least 30 pixels wide (at 360 lines), mostly not covered."""
    x1, y1, x2, y2 = box[:4]
    return (x1 >= 0 and y1 >= 0 and x2 <= width and y2 <= height
            and x2 - x1 >= FACE_PX[0] * scale and shown >= SHOWN)


def _sharpness(frame: np.ndarray, box: Sequence[float]) -> float:
    """Variance of the Laplacian of a region of an RGB frame."""
    x1, y1, x2, y2 = (int(round(v)) for v in box[:4])
    region = np.ascontiguousarray(frame[max(0, y1):y2, max(0, x1):x2])
    if region.size == 0:
        return 0.0
    return float(cv2.Laplacian(cv2.cvtColor(region, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@dataclass
class FaceFigures:
    pack_frames: int = 0
    blaze_boxes: int = 0
    blaze_frames: int = 0
    blaze_at_faces: int = 0
    center_boxes: int = 0
    center_frames: int = 0
    center_at_faces: int = 0
    source_faces: int = 0
    blaze_found: int = 0
    center_found: int = 0
    source_frames: int = 0
    misaligned: int = 0
    face_frames: int = 0  # faces counted (whole, >= 30 px, mostly showing) in pack frames
    face_frames_sharp: int = 0  # of those, left sharp in the pack
    faces_sharp: set[int] = field(default_factory=set)  # which tracks were ever left sharp
    plate_frames: int = 0
    plate_ratio: float = float("nan")
    first_blaze: str = ""


def measure_faces(scene: Scene, source: Path, clip: Path, blaze: BlazeFaceDetector,
                  center: FaceDetector) -> FaceFigures:
    """Both detectors on every frame of the pack and every 5th of the source; the plate."""
    width, height = SIZE
    render = Renderer(scene, width, height)
    k = height / 360
    fig = FaceFigures()
    check = check_clip(clip, every=1, detector=blaze)
    fig.pack_frames = check.frames_total
    fig.blaze_boxes = len(check.findings)
    fig.blaze_frames = len({f.frame for f in check.findings})
    fig.blaze_at_faces = sum(any(_matches(f.box, t) for t, shown, _ in render.visible(f.frame)
                                 if shown >= SHOWN_SOME) for f in check.findings)
    if check.findings:
        f = check.findings[0]
        fig.first_blaze = f"first at {f.time_s:.2f} s, box {f.box}, score {f.score:.2f}"
    on_source = check_clip(source, every=SOURCE_EVERY, detector=blaze)
    blaze_source: dict[int, list[tuple[int, ...]]] = {}
    for f in on_source.findings:
        blaze_source.setdefault(f.frame, []).append(f.box)
    ratios = []
    packs, sources = cv2.VideoCapture(str(clip)), cv2.VideoCapture(str(source))
    try:
        index = 0
        while True:
            ok_p, packed = packs.read()
            ok_s, original = sources.read()
            if not (ok_p and ok_s):
                break
            packed, original = packed[:, :, ::-1], original[:, :, ::-1]  # RGB
            if _code_readable(packed) and read_frame_number(packed) != index % (1 << CODE_BITS):
                fig.misaligned += 1  # (a face's blur over the squares makes them unreadable)
            faces = render.visible(index)
            truth = [t for t, _, _ in faces]
            countable = [t for t, shown, _ in faces if _countable(t, shown, width, height, k)]
            found = center.detect(np.ascontiguousarray(packed))
            fig.center_boxes += len(found)
            fig.center_frames += bool(len(found))
            fig.center_at_faces += sum(any(_matches(b, t) for t, shown, _ in faces
                                           if shown >= SHOWN_SOME) for b in found)
            for t, shown, track in faces:  # by the labels: is the face still sharp in the pack?
                if _countable(t, shown, width, height, k):
                    fig.face_frames += 1
                    if _sharpness(packed, t) >= SHARP * max(_sharpness(original, t), 1e-9):
                        fig.face_frames_sharp += 1
                        fig.faces_sharp.add(track)
            if index % SOURCE_EVERY == 0:
                fig.source_frames += 1
                fig.source_faces += len(countable)
                boxes = center.detect(np.ascontiguousarray(original))
                fig.center_found += sum(any(_matches(b, t) for b in boxes) for t in countable)
                fig.blaze_found += sum(any(_matches(b, t) for b in blaze_source.get(index, []))
                                       for t in countable)
            plate = render.plate_at(index)
            if (plate is not None and plate[0] >= 0 and plate[2] <= width
                    and not any(_near(plate, t, 0.5) for t in truth)):
                ratios.append(_sharpness(packed, plate) / max(_sharpness(original, plate), 1e-9))
            index += 1
    finally:
        packs.release()
        sources.release()
    fig.plate_frames = len(ratios)
    if ratios:
        fig.plate_ratio = float(np.median(ratios))
    return fig


@dataclass
class PackFigures:
    details: int = 0
    left_text: list[int] = field(default_factory=list)  # sentence indices
    left_labels: list[int] = field(default_factory=list)
    leaking_frames: int = 0
    heard: list[int] = field(default_factory=list)
    heard_total: int = 0  # details base found in the pack's audio
    heard_outside: int = 0  # of those, mostly outside the toned windows
    others: int = 0
    others_redacted: list[str] = field(default_factory=list)
    words: int = 0
    second_detector_in_export: str = ""
    faces: FaceFigures | None = None


def measure_pack(scene: Scene, pack: Path, media_id: int, duration: float, home: Path,
                 models: dict[str, Any], work: Path) -> PackFigures:
    from pipeline.config import resolve_instance
    from pipeline.store import open_store

    with zipfile.ZipFile(pack) as z:
        z.extractall(work)
    folder = next(p for p in work.iterdir() if p.is_dir() and p.name.startswith("moment-"))
    manifest = json.loads((folder / "manifest.json").read_text())
    windows = manifest["redaction"]["audio"]["windows_s"]
    faces = manifest["redaction"]["faces"]
    fig = PackFigures(details=len(scene.details))
    checked = faces.get("checked_before_writing")
    fig.second_detector_in_export = (checked.get("summary", "ran") if isinstance(checked, dict)
                                     else "not run by the export")
    cues = read_vtt(folder / "clip.vtt")
    # Text: the cues over each sentence.
    for k, detail in enumerate(scene.details):
        a, b = scene.spans[k]
        text = " ".join(c[2] for c in cues if c[1] > a - 0.3 and c[0] < b + 0.3)
        if _left_in_text(SENTENCES[detail.sentence], text):
            fig.left_text.append(detail.sentence)
        # Audio by the labels: loud frames of the detail not wholly inside a toned window.
        leaking = [f for f in detail.frames if not _covered(f, windows)]
        fig.leaking_frames += len(leaking)
        if leaking:
            fig.left_labels.append(detail.sentence)
    # Audio by ear: base on the pack's own sound.
    heard = listen(models["verifier"], folder / "clip.mp4").segments
    fig.heard_total = len(find_pii(list(heard), nlp=models["nlp"]).redactions)
    outside = details_heard(heard, [tuple(w) for w in windows], models["nlp"])
    fig.heard_outside = len(outside)
    for detail in scene.details:
        a, b = detail.span
        if any(r.end_s > a - 0.3 and r.start_s < b + 0.3 for r in outside):
            fig.heard.append(detail.sentence)
    # Non-personal words redacted: the batch's transcript against the subtitles.
    store = open_store(resolve_instance(home).db_url)
    segments: list[Segment] = clip_segments(store.load_segments(media_id), 0.0, duration)
    store.engine.dispose()
    words = [w for s in segments for w in s.words]
    gone = redacted_words(words, " ".join(c[2] for c in cues))
    fig.words = len(words)
    for word, redacted in zip(words, gone, strict=True):
        k = _sentence_of(word, scene.spans)
        detail = scene.details[k]
        if not _detail_word(word, SENTENCES[detail.sentence], detail.span):
            fig.others += 1
            if redacted:
                fig.others_redacted.append(word.word.strip())
    fig.faces = measure_faces(scene, scene.files["640x360"], folder / "clip.mp4",
                              models["blaze"], models["center"])
    return fig


# --- the run -----------------------------------------------------------------------------------


def _pct(n: int, d: int) -> str:
    return f"{n} of {d} ({100 * n / d:.1f}%)" if d else f"{n} of 0"


def _yes(ok: bool) -> str:
    return "YES" if ok else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="two clips (0, tuning, and 2, held back) for development")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the 1280x720 export and of deface; the median counts")
    parser.add_argument("--seed", type=int, default=13, help="orders bench_pii's sentences")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (clips, instance, packs)")
    parser.add_argument("--verbose", action="store_true",
                        help="list what was left and which words were redacted")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="bwv-bench-teach-")
        work = Path(tmp.name)
    else:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, work, started)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _run(args: argparse.Namespace, work: Path, started: float) -> int:
    clips = [0, 2] if args.quick else list(range(CLIPS))
    inbox, home, voices, packs = (work / n for n in ("inbox", "home", "voices", "packs"))
    for old in (inbox, home, packs, *work.glob("unpacked*")):  # a kept folder from an earlier run
        shutil.rmtree(old, ignore_errors=True)
    for d in (inbox, voices, packs):
        d.mkdir(parents=True, exist_ok=True)
    # 1. Every scene written before anything is measured.
    pools = _sentence_pools(args.seed)
    scenes = [make_scene(i, pools, voices) for i in clips]
    for scene in scenes:
        scene.files["640x360"] = write_clip(scene, inbox / f"clip{scene.index}.mp4", *SIZE)
    hd_scene = scenes[0]
    hd_scene.files["1280x720"] = write_clip(hd_scene, inbox / "hd.mp4", *HD)
    print(f"{len(scenes)} clips at {SIZE[0]}x{SIZE[1]}, {FPS} fps (held back: "
          f"{', '.join(str(s.index) for s in scenes if s.held)}), and clip {hd_scene.index} "
          f"again at {HD[0]}x{HD[1]}; written in {time.perf_counter() - started:.0f} s")
    for scene in scenes:
        sizes = sorted(t.face_px * g for t in scene.tracks for g in (1.0, t.growth))
        print(f"  clip {scene.index} ({'held back' if scene.held else 'tuning'}): "
              f"{scene.seconds:.1f} s; sentences {scene.sentences}; {len(scene.tracks)} faces "
              f"{sizes[0]:.0f}-{sizes[-1]:.0f} px wide; plate {scene.plate.text!r} "
              f"{scene.plate.t0:.1f}-{scene.plate.t1:.1f} s")
    # 2. The real batch; a TIP's annotation over each whole clip.
    batch_s = run_batch(home, inbox)
    moments = annotate(home)
    print(f"batch (bwv run: ffmpeg, tiny.en, spaCy) over {len(moments)} files: {batch_s:.0f} s")
    # 3. One export per clip through the CLI, timed.
    print(f"\nexports: bwv teach export ID --as {TRAINER} --accept-proposed (one moment each); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    exports: dict[int, Export] = {}
    for scene in scenes:
        annotation = moments[f"clip{scene.index}.mp4"][0]
        result = export(home, annotation, packs / f"clip{scene.index}.zip")
        exports[scene.index] = result
        what = ("written" if result.pack else "STOPPED by the check" if result.stopped
                else f"FAILED (exit {result.returncode})")
        print(f"  clip {scene.index}: {what} in {result.seconds:.1f} s "
              f"({scene.seconds / result.seconds:.2f}x real time)")
        if result.pack is None:
            print(f"    stderr: {result.stderr[-600:]}")
    # 4. 1280x720: the export against plain deface on the same file, alternating.
    print(f"\n1280x720: the export and plain deface, alternating; load average "
          f"{os.getloadavg()[0]:.1f}")
    hd_annotation = moments["hd.mp4"][0]
    hd_clip = FaceClip(hd_scene.files["1280x720"], *HD, FPS, hd_scene.frames)
    times: dict[str, list[float]] = {"export": [], "deface": []}
    hd_failed = ""
    for run in range(max(1, args.repeat)):
        for tool in (("export", "deface") if run % 2 == 0 else ("deface", "export")):
            if tool == "deface":
                times["deface"].append(time_deface(hd_clip, work / "deface.mp4", threshold=0.2))
                continue
            result = export(home, hd_annotation, packs / f"hd{run}.zip")
            times["export"].append(result.seconds)
            if result.pack is None:
                hd_failed = (f"stopped by the check: {result.stderr[-300:]}" if result.stopped
                             else f"failed (exit {result.returncode}): {result.stderr[-300:]}")
    hd_export, hd_deface = statistics.median(times["export"]), statistics.median(times["deface"])
    # 4a. The written 640x360 moments again, as one pack through one CLI run (a module's pack).
    together = [moments[f"clip{i}.mp4"][0] for i in sorted(exports) if exports[i].pack is not None]
    pack_s = 0.0
    if together:
        out = packs / "together.zip"
        started_pack = time.perf_counter()
        done = bwv(home, "teach", "export", *map(str, together), "--as", TRAINER, "--reason", REASON,
                   "--recipient", RECIPIENT, "--accept-proposed", "-o", str(out))
        pack_s = time.perf_counter() - started_pack if done.returncode == 0 else 0.0
        print(f"\none CLI run for a pack of the {len(together)} written moments: " + (
            f"{pack_s:.1f} s" if pack_s else f"FAILED (exit {done.returncode}): {done.stderr[-300:]}"))
    # 4b. The same 640x360 exports as the review app makes them.
    served = served_exports(home, {s.index: moments[f"clip{s.index}.mp4"][0] for s in scenes},
                            packs)
    print(f"\nexports in one process, as bwv serve makes them (models loaded by a first export, "
          f"the moment heard when its review page opened; load average {os.getloadavg()[0]:.1f}):")
    for scene in scenes:
        seconds = served.get(scene.index)
        print(f"  clip {scene.index}: " + (f"written in {seconds:.1f} s ({scene.seconds / seconds:.2f}x "
                                          "real time)" if seconds else "stopped by the check"))
    # 5. Measure every written pack.
    print("\nloading the measuring models (base, spaCy, BlazeFace, CenterFace 0.2)...")
    from pipeline.config import resolve_instance

    models = {"verifier": base_verifier(resolve_instance(home).models_dir), "nlp": load_pii_nlp(),
              "blaze": BlazeFaceDetector(threads=2), "center": FaceDetector(0.2, threads=2)}
    figures: dict[int, PackFigures] = {}
    for scene in scenes:
        result = exports[scene.index]
        if result.pack is None:
            continue
        _, media_id, duration = moments[f"clip{scene.index}.mp4"]
        fig = measure_pack(scene, result.pack, media_id, duration, home, models,
                           work / f"unpacked{scene.index}")
        figures[scene.index] = fig
        f = fig.faces
        assert f is not None
        print(f"\nclip {scene.index} ({'held back' if scene.held else 'tuning'}), "
              f"{len(scene.details)} details:")
        print(f"  text left: {len(fig.left_text)}; audible by the labels: {len(fig.left_labels)} "
              f"({fig.leaking_frames} loud 20 ms frames outside the toned windows); heard by base: "
              f"{len(fig.heard)} (base found {fig.heard_total} details in the pack's audio, "
              f"{fig.heard_outside} mostly outside the toned windows)")
        print(f"  non-personal words redacted: {_pct(len(fig.others_redacted), fig.others)}")
        print(f"  faces in the pack ({f.pack_frames} frames, every one): second detector "
              f"{f.blaze_boxes} boxes in {f.blaze_frames} frames ({f.blaze_at_faces} at a true "
              f"face){'; ' + f.first_blaze if f.first_blaze else ''}; CenterFace 0.2 "
              f"{f.center_boxes} boxes in {f.center_frames} frames ({f.center_at_faces} at a true "
              f"face)")
        print(f"  faces left sharp in the pack, by the labels: {f.face_frames_sharp} of "
              f"{f.face_frames} face-frames ({len(f.faces_sharp)} of {len(scene.tracks)} faces)")
        print(f"  faces in the source (every {SOURCE_EVERY}th frame, {f.source_frames} frames, "
              f"{f.source_faces} faces >= 30 px, whole in frame, showing): second detector finds "
              f"{f.blaze_found}, CenterFace 0.2 finds {f.center_found}")
        print(f"  the export's own face check: {fig.second_detector_in_export}")
        sharp = f.plate_ratio >= SHARP
        print(f"  plate {scene.plate.text!r}: " + (
            f"{'still SHARP' if sharp else 'blurred'} in the pack (Laplacian variance "
            f"{f.plate_ratio:.2f}x the source's, median of {f.plate_frames} frames)"
            if f.plate_frames else "no frame to compare"))
        if f.misaligned:
            print(f"  WARNING: {f.misaligned} pack frames do not carry the source frame's number")
        if args.verbose:
            for i in sorted(set(fig.left_text + fig.left_labels + fig.heard)):
                print(f"    left: {SENTENCES[i][1]!r} (text {i in fig.left_text}, labels "
                      f"{i in fig.left_labels}, base {i in fig.heard})")
            if fig.others_redacted:
                print(f"    redacted, not personal: {fig.others_redacted}")
    # 6. Per set, and the targets.
    print()
    left_held = 0
    others = false = 0
    blaze_in_packs = sharp_in_packs = blaze_at_faces = 0
    for name, held in (("tuning", False), ("held back", True)):
        ids = [s.index for s in scenes if s.held == held]
        stopped = [i for i in ids if exports[i].stopped]
        failed = [i for i in ids if exports[i].pack is None and not exports[i].stopped]
        written = [i for i in ids if i in figures]
        figs = [figures[i] for i in written]
        details = sum(f.details for f in figs)
        text = sum(len(f.left_text) for f in figs)
        labels = sum(len(f.left_labels) for f in figs)
        heard = sum(len(f.heard) for f in figs)
        left = sum(len(set(f.left_text + f.left_labels + f.heard)) for f in figs)
        o, fr = sum(f.others for f in figs), sum(len(f.others_redacted) for f in figs)
        faces = [f.faces for f in figs if f.faces]
        blaze = sum(f.blaze_boxes for f in faces)
        center = sum(f.center_boxes for f in faces)
        blaze_at = sum(f.blaze_at_faces for f in faces)
        center_at = sum(f.center_at_faces for f in faces)
        sharp_faces = sum(f.face_frames_sharp for f in faces)
        face_frames = sum(f.face_frames for f in faces)
        plates_sharp = sum(1 for f in figs if f.faces and f.faces.plate_ratio >= SHARP)
        if held:
            left_held = left
        others, false, blaze_in_packs = others + o, false + fr, blaze_in_packs + blaze
        sharp_in_packs, blaze_at_faces = sharp_in_packs + sharp_faces, blaze_at_faces + blaze_at
        print(f"{name}: {len(ids)} exports, {len(written)} written, {len(stopped)} stopped by the "
              f"check, {len(failed)} failed")
        for i in stopped:
            reason = exports[i].stderr.splitlines()[-1] if exports[i].stderr else "?"
            print(f"  stopped clip {i}: {reason}")
        for i in failed:
            print(f"  failed clip {i} (exit {exports[i].returncode}): {exports[i].stderr[-300:]}")
        print(f"  written packs: details left in the subtitles {text} of {details}; audible by "
              f"the labels {labels}; heard by base {heard}; left in any {left} of {details}")
        print(f"  non-personal words redacted: {_pct(fr, o)}")
        print(f"  faces found in the packs: second detector {blaze} boxes ({blaze_at} at a face), "
              f"CenterFace 0.2 {center} boxes ({center_at} at a face); left sharp by the labels "
              f"{_pct(sharp_faces, face_frames)} face-frames")
        print(f"  plates still sharp in {plates_sharp} of {len(figs)} packs (a plate is not a face: the "
              "automatic pass leaves it; a trainer's box in the review would blur it)")
    written_640 = [i for i in exports if exports[i].pack is not None]
    clip_s = sum(s.seconds for s in scenes if s.index in written_640)
    wall_s = sum(exports[i].seconds for i in written_640)
    speed = clip_s / wall_s if wall_s else 0.0
    served_clip_s = sum(s.seconds for s in scenes if s.index in served)
    served_s = sum(served.values())
    served_speed = served_clip_s / served_s if served_s else 0.0
    print(f"\nexport speed at 640x360: {clip_s:.1f} clip seconds in {wall_s:.1f} s of "
          f"{len(written_640)} written exports: {speed:.2f}x real time through the CLI (model "
          f"loading included); {served_clip_s:.1f} clip seconds in {served_s:.1f} s: "
          f"{served_speed:.2f}x real time in the review app (models loaded)"
          + (f"; {clip_s:.1f} clip seconds in {pack_s:.1f} s: {clip_s / pack_s:.2f}x real time as "
             "one pack through one CLI run" if pack_s else ""))
    print(f"1280x720, {hd_scene.seconds:.1f} s ({hd_scene.frames} frames), median of "
          f"{len(times['export'])} alternating runs: bwv teach export {hd_export:.1f} s "
          f"({hd_scene.seconds / hd_export:.2f}x real time); plain deface {_deface_version()} "
          f"{hd_deface:.1f} s ({hd_scene.seconds / hd_deface:.2f}x real time)"
          + (f"; the export {hd_failed}" if hd_failed else ""))
    held_ids = [s.index for s in scenes if s.held]
    held_measured = bool(held_ids) and all(i in figures or exports[i].stopped for i in held_ids)
    targets = [
        ("no detail left (text, audio) in held-back packs, stopped exports caught",
         held_measured and left_held == 0),
        (f"<= {100 * FALSE_SHARE:.0f}% of non-personal words redacted (written packs)",
         others > 0 and false <= FALSE_SHARE * others),
        ("no recognisable face in the packs: none left sharp by the labels, no box of the second "
         "detector at a face", bool(figures) and sharp_in_packs == 0 and blaze_at_faces == 0),
        ("export >= 1x real time at 640x360 in the review app (models loaded)", served_speed >= 1.0),
        ("export >= 1x real time at 640x360 through the CLI (models loaded per run)", speed >= 1.0),
        ("export no slower than plain deface at 1280x720", not hd_failed and hd_export <= hd_deface),
    ]
    print("\ntargets:")
    for name, ok in targets:
        print(f"  {_yes(ok):>3}  {name}")
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")
    return 0 if all(ok for _, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
