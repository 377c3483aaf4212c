"""One frame of a moment, faces blurred, for a trainer to draw a box on.

The frame is read at the pack's picture size (at most 1280x720, upright), and the
faces CenterFace finds in it are blurred as in the pack (with the same margin), so
the export page shows no more than the pack will.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.batch.media import run_tool
from pipeline.errors import MediaError
from pipeline.teach.face_detector import FaceDetector
from pipeline.teach.faces import MAX_SIDES, RedactOptions, blur_faces, merge_boxes


@cache
def _detector() -> FaceDetector:
    return FaceDetector()


def preview_frame(original: Path, at_s: float, *, quality: int = 80) -> bytes:
    """The frame of ``original`` at ``at_s`` seconds as a JPEG, faces blurred."""
    long_side, short_side = MAX_SIDES
    scale = (f"scale='if(gte(iw,ih),min({long_side},iw),min({short_side},iw))'"
             f":'if(gte(iw,ih),min({short_side},ih),min({long_side},ih))'"
             ":force_original_aspect_ratio=decrease")
    proc = run_tool(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                     "-ss", f"{max(0.0, at_s):.3f}", "-i", str(original), "-map", "0:v:0",
                     "-frames:v", "1", "-vf", scale, "-f", "image2pipe", "-c:v", "png", "-"],
                    timeout_s=60.0)
    frame = cv2.imdecode(np.frombuffer(proc.stdout, dtype=np.uint8), cv2.IMREAD_COLOR) \
        if proc.returncode == 0 and proc.stdout else None
    if frame is None:
        raise MediaError(f"{original.name}: no video frame at {at_s:.2f} s")
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    boxes = _detector().detect(rgb)
    blur_faces(rgb, merge_boxes(boxes, margin=RedactOptions().margin, width=rgb.shape[1],
                                height=rgb.shape[0]))
    ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaError(f"{original.name}: cannot encode the frame at {at_s:.2f} s")
    return bytes(jpeg.tobytes())
