#!/usr/bin/env python3
"""Benchmark face redaction (``pipeline.teach.faces.redact_video``) against plain ``deface``.

Builds two clips of moving faces (the portrait photos in tests/data of Obama and
Biden crossing the frame and changing size over a drifting background, 25
fps, with speech and a tone), at 640x360 and at 1280x720. On each clip, in
the same run and alternating, it times:

- bwv: ``redact_video`` over the whole clip (decode, CenterFace on every
  frame, smoothing over neighbouring frames, blur, H.264/AAC encode), model
  load excluded;
- plain deface: its CLI, ``deface IN -o OUT --thresh T --keep-audio`` with
  the same threshold and deface's other defaults (CenterFace on every frame,
  onnxruntime's default provider, imageio's libx264), wall to wall;

and prints frames per second and times real time for each (the median of
``--repeat`` runs). Targets: bwv at least real time at 640x360, and bwv's
frames per second at least deface's at both sizes. Exits 1 if one is missed.

Example:
    python scripts/bench_redact.py
    python scripts/bench_redact.py --seconds 10 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.teach.face_detector import FaceDetector  # noqa: E402
from pipeline.teach.faces import RedactOptions, redact_video  # noqa: E402

#: The real portrait photos and speech the tests carry (tests/data/README.md).
DATA = ROOT / "tests" / "data"
#: Head-and-shoulders crops (x1, y1, x2, y2) of the portraits.
FACE_CROPS = {"obama.jpg": (290, 20, 690, 520), "biden.jpg": (330, 60, 810, 680)}
FPS = 25
CODE_BITS = 12  # frame number drawn as black/white squares along the bottom edge


@dataclass(frozen=True)
class FaceClip:
    """A generated clip of moving faces."""

    path: Path
    width: int
    height: int
    fps: int
    frames: int


def _faces(data: Path) -> list[np.ndarray]:
    crops = []
    for name, (x1, y1, x2, y2) in FACE_CROPS.items():
        image = cv2.imread(str(data / "faces" / name))
        if image is None:
            raise FileNotFoundError(f"missing face photo {data / 'faces' / name}")
        crops.append(np.ascontiguousarray(image[y1:y2, x1:x2, ::-1]))  # BGR -> RGB
    return crops


def code_cell(height: int) -> int:
    """Side of one frame-number square for a frame ``height`` pixels tall."""
    return max(4, height // 36)


def read_frame_number(frame: np.ndarray) -> int:
    """The frame number drawn into a generated frame (RGB), read back after encoding."""
    cell = code_cell(frame.shape[0])
    y = frame.shape[0] - cell // 2 - 1
    bits = [frame[y, cell * i + cell // 2].mean() > 128 for i in range(CODE_BITS)]
    return sum(1 << i for i, bit in enumerate(bits) if bit)


def _place(frame: np.ndarray, face: np.ndarray, cx: float, cy: float, height: float) -> None:
    h = max(8, int(height))
    w = max(6, int(h * face.shape[1] / face.shape[0]))
    scaled = cv2.resize(face, (w, h), interpolation=cv2.INTER_AREA)
    x1, y1 = int(cx - w / 2), int(cy - h / 2)
    fx1, fy1 = max(0, -x1), max(0, -y1)
    x2, y2 = min(frame.shape[1], x1 + w), min(frame.shape[0], y1 + h)
    if x2 > max(0, x1) and y2 > max(0, y1):
        frame[max(0, y1):y2, max(0, x1):x2] = scaled[fy1:fy1 + y2 - max(0, y1),
                                                     fx1:fx1 + x2 - max(0, x1)]


def render_frame(index: int, *, width: int, height: int, fps: int, faces: list[np.ndarray],
                 background: np.ndarray) -> np.ndarray:
    """One frame: drifting background, two faces on their paths, the frame number."""
    t = index / fps
    bh, bw = background.shape[:2]
    ox = int((bw - width) / 2 * (1 + np.sin(2 * np.pi * t / 13)))
    oy = int((bh - height) / 2 * (1 + np.sin(2 * np.pi * t / 9)))
    frame = background[oy:oy + height, ox:ox + width].copy()
    usable = height - 2 * code_cell(height)  # keep faces off the frame-number strip
    # Obama crosses left to right every 8 s, growing and shrinking (faces ~25 to ~95 px at 360p).
    h_a = height * (0.25 + 0.15 * np.sin(2 * np.pi * t / 7))
    x_a = ((t / 8) % 1) * (width + h_a) - h_a / 2
    y_a = min(usable - h_a / 2, height * 0.35 + height * 0.12 * np.sin(2 * np.pi * t / 5))
    # Biden crosses right to left every 11 s, larger, bobbing.
    h_b = height * (0.38 + 0.14 * np.sin(2 * np.pi * t / 6 + 1))
    x_b = width + h_b / 2 - ((t / 11 + 0.4) % 1) * (width + h_b)
    y_b = min(usable - h_b / 2, height * 0.55 + height * 0.08 * np.sin(2 * np.pi * t / 3))
    _place(frame, faces[0], x_a, y_a, h_a)
    _place(frame, faces[1], x_b, y_b, h_b)
    cell = code_cell(height)
    frame[height - cell:, : cell * CODE_BITS] = 0
    for i in range(CODE_BITS):
        if index >> i & 1:
            frame[height - cell:, cell * i: cell * (i + 1)] = 255
    return frame


def make_face_clip(out: Path, *, width: int = 640, height: int = 360, seconds: float = 20.0,
                   fps: int = FPS, data: Path = DATA, keyint: int = 60,
                   preset: str = "veryfast") -> FaceClip:
    """Write an H.264/AAC MP4 of the two portraits moving across the frame.

    Keyframes every ``keyint`` frames (no scene-cut keyframes), so a cut at a
    whole second is not on a keyframe; speech (jfk.flac) over a quiet tone.
    """
    faces = _faces(data)
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 255, (height // 4 + 40, width // 4 + 40, 3), dtype=np.uint8)
    background = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 3), None, fx=4, fy=4,
                            interpolation=cv2.INTER_CUBIC)
    background = (background.astype(np.float32) * 0.6 + 40).astype(np.uint8)
    frames = round(seconds * fps)
    args = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps),
            "-i", "pipe:0", "-i", str(data / "speech" / "jfk.flac"),
            "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=48000:duration={seconds}",
            "-filter_complex", "[1:a]apad[s];[2:a]volume=0.1[t];[s][t]amix=inputs=2:duration=shortest[a]",
            "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", preset, "-crf", "18",
            "-g", str(keyint), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k", "-t", f"{frames / fps:.6f}", "-movflags", "+faststart",
            str(out)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE)  # noqa: S603 - argument list
    if proc.stdin is None:
        raise RuntimeError("ffmpeg's standard input was not opened")
    try:
        for i in range(frames):
            proc.stdin.write(render_frame(i, width=width, height=height, fps=fps, faces=faces,
                                          background=background).data)
    finally:
        proc.stdin.close()
    if proc.wait(timeout=300) != 0:
        raise RuntimeError(f"ffmpeg could not write {out}")
    return FaceClip(out, width, height, fps, frames)


def _deface_bin() -> str:
    """The ``deface`` CLI installed beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("deface")
    return str(beside) if beside.exists() else "deface"


def _deface_version() -> str:
    proc = subprocess.run([_deface_bin(), "--version"], capture_output=True, text=True,  # noqa: S603
                          stdin=subprocess.DEVNULL, timeout=120)
    return proc.stdout.strip() or "?"


def time_bwv(clip: FaceClip, out: Path, *, audio: Path, threshold: float,
             options: RedactOptions) -> float:
    """Seconds for bwv to load the detector and redact the whole clip."""
    started = time.perf_counter()
    detector = FaceDetector(threshold)
    stats = redact_video(clip.path, out, start_s=0.0, duration_s=clip.frames / clip.fps,
                         audio=audio, detector=detector, options=options)
    if stats.frames != clip.frames:
        raise RuntimeError(f"bwv wrote {stats.frames} frames of {clip.frames}")
    return time.perf_counter() - started


def time_deface(clip: FaceClip, out: Path, *, threshold: float) -> float:
    """Seconds for the plain ``deface`` CLI, wall to wall, with its defaults but the threshold."""
    out.unlink(missing_ok=True)
    args = [_deface_bin(), str(clip.path), "-o", str(out), "--thresh", str(threshold),
            "--keep-audio"]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,  # noqa: S603
                          timeout=3600)
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"deface failed: {proc.stderr.strip()[-500:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    parser.add_argument("--threshold", type=float, default=0.2, help="detection threshold (both)")
    parser.add_argument("--sizes", default="640x360,1280x720", help="clip sizes, WxH,WxH")
    parser.add_argument("--every-frame", action="store_true",
                        help="also time bwv detecting on every frame (not a target)")
    parser.add_argument("--cores", type=int, default=2, help="CPUs to run on (both tools)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep clips and outputs here")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):  # children (ffmpeg, deface) inherit it
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    tmp = tempfile.TemporaryDirectory(prefix="bwv-bench-redact-")
    work = args.workdir or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    default = RedactOptions()
    tools: list[tuple[str, RedactOptions | None]] = [
        (f"bwv (detects every {default.detect_every} frames, +-{default.window_frames})", default)]
    if args.every_frame:
        tools.append((f"bwv (detects every frame, +-{default.window_frames})",
                      RedactOptions(detect_every=1)))
    tools.append((f"plain deface {_deface_version()} CLI", None))
    print(f"face redaction at threshold {args.threshold}, {cores} cores, "
          f"median of {args.repeat} alternating runs, model load included")
    print(f"{'clip':>9}  {'frames':>6}  {'tool':<46}  {'detects at':<22}  {'fps':>6}  {'x real time':>11}")
    results: dict[tuple[str, str], float] = {}
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.lower().split("x"))
        clip = make_face_clip(work / f"faces_{size}.mp4", width=width, height=height,
                              seconds=args.seconds, fps=FPS)
        audio = work / f"faces_{size}.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(clip.path),  # noqa: S603
                        "-vn", "-c:a", "pcm_s16le", str(audio)], check=True, timeout=300)
        times: dict[str, list[float]] = {name: [] for name, _ in tools}
        for run in range(args.repeat):
            order = tools if run % 2 == 0 else tools[::-1]
            for name, options in order:
                out = work / f"out_{size}_{len(times[name])}.mp4"
                if options is None:
                    times[name].append(time_deface(clip, out, threshold=args.threshold))
                else:
                    times[name].append(time_bwv(clip, out, audio=audio,
                                                threshold=args.threshold, options=options))
        padded = f"{-(-width // 32) * 32}x{-(-height // 32) * 32}"
        for name, options in tools:
            fps = clip.frames / statistics.median(times[name])
            results[(size, name)] = fps
            where = f"{size} pad {padded}" if options else f"{padded} stretched"
            print(f"{size:>9}  {clip.frames:>6}  {name:<46}  {where:<22}  {fps:6.1f}  "
                  f"{fps / clip.fps:10.2f}x")
    bwv_name, deface_name = tools[0][0], tools[-1][0]
    sizes = args.sizes.split(",")
    ok_realtime = "640x360" not in sizes or results[("640x360", bwv_name)] >= FPS
    ok_deface = all(results[(s, bwv_name)] >= results[(s, deface_name)] for s in sizes)
    ratios = ", ".join(f"{s} {results[(s, bwv_name)] / results[(s, deface_name)]:.1f}x" for s in sizes)
    print(f"  bwv >= 1.0x real time at 640x360: {'yes' if ok_realtime else 'NO'}; "
          f"bwv fps >= deface fps: {'yes' if ok_deface else 'NO'} ({ratios})")
    tmp.cleanup()
    return 0 if ok_realtime and ok_deface else 1


if __name__ == "__main__":
    sys.exit(main())
