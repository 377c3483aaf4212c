"""The second face check (issue 13): BlazeFace finds a real face, not a blurred one, not a wall,
refuses a missing or damaged model, and checks a written clip at the rate it promises.

Frames are made here from the real portrait photos in tests/data, pasted onto a
generated background as scripts/bench_face_check.py does; the clip is encoded
with ffmpeg (H.264, 640x360, 25 fps) as a teaching pack's clips are.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import MediaError, ModelError
from pipeline.teach.face_check import (
    MODEL_FILE,
    THRESHOLD,
    BlazeFaceDetector,
    check_clip,
    default_every,
    model_path,
    windows,
)
from pipeline.teach.faces import blur_faces, merge_boxes
from scripts.bench_face_check import background, face_patch, found, paste, portraits

WIDTH, HEIGHT, FPS = 640, 360, 25


@pytest.fixture(scope="module")
def detector() -> BlazeFaceDetector:
    return BlazeFaceDetector()


@pytest.fixture(scope="module")
def scene(test_data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 640x360 street (BGR) without faces, the same with Obama's face 70 px wide, its box."""
    rng = np.random.default_rng(7)
    photos = portraits(test_data)
    street = np.ascontiguousarray(background(rng, 1, photos)[::2, ::2])
    patch, alpha, box = face_patch(*photos[0], 70.0, angle=8.0)
    with_face = street.copy()
    paste(with_face, patch, alpha, 300, 60)
    return street, with_face, box + [300, 60, 300, 60]


def test_a_real_face_is_found(detector: BlazeFaceDetector, scene) -> None:
    _, with_face, box = scene
    boxes = detector.detect(with_face)
    assert boxes.shape[1] == 5 and (boxes[:, 4] >= THRESHOLD).all()
    assert found(box[None], boxes).all(), f"face at {box} not found among {boxes}"


def test_the_same_face_blurred_as_exports_blur_it_is_not_found(detector, scene) -> None:
    _, with_face, box = scene
    blurred = with_face.copy()
    blur_faces(blurred, merge_boxes(box[None], margin=0.3, width=WIDTH, height=HEIGHT))
    assert not (blurred == with_face).all()
    assert len(detector.detect(blurred)) == 0


def test_a_frame_without_faces_is_clean(detector, scene) -> None:
    street, _, _ = scene
    assert len(detector.detect(street)) == 0


def test_the_detector_names_its_model_and_hash(detector: BlazeFaceDetector) -> None:
    assert MODEL_FILE in detector.name and "sha256:99bf9494d84f" in detector.name
    assert detector.model_path == model_path() and detector.threshold == THRESHOLD


def test_a_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found.*pip install --no-deps"):
        BlazeFaceDetector(model=tmp_path / MODEL_FILE)


def test_a_damaged_model_is_a_model_error(tmp_path: Path) -> None:
    damaged = tmp_path / MODEL_FILE
    shutil.copy(model_path(), damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the pinned.*--force-reinstall"):
        BlazeFaceDetector(model=damaged)


def test_a_file_that_is_no_model_is_a_model_error_even_with_its_own_hash(tmp_path: Path) -> None:
    junk = tmp_path / MODEL_FILE
    junk.write_bytes(b"not a tflite model" * 100)
    with pytest.raises(ModelError, match="cannot load"):
        BlazeFaceDetector(model=junk, sha256=hashlib.sha256(junk.read_bytes()).hexdigest())


@pytest.mark.parametrize("width,height", [(1280, 720), (640, 360), (360, 640), (200, 100)])
def test_the_windows_cover_the_frame_at_every_scale(width: int, height: int) -> None:
    wins = windows(width, height)
    assert wins[-1] == (0, 0, max(width, height))  # the last scale is the whole frame
    for side in {s for _, _, s in wins}:
        covered = np.zeros((height, width), bool)
        for x, y, _ in (w for w in wins if w[2] == side):
            covered[y:y + side, x:x + side] = True
        assert covered.all(), f"windows of {side} leave part of the frame unseen"
    assert len(wins) <= 40  # the cost of a frame does not grow with its size


@pytest.mark.parametrize("fps", [5, 15, 24, 25, 29.97, 30, 50, 60])
def test_every_puts_two_checked_frames_in_any_half_second(fps: float) -> None:
    every = default_every(fps)
    run = math.floor(fps / 2)  # the fewest frames a face on screen for 0.5 s is in
    assert min(sum(1 for i in range(s, s + run) if i % every == 0) for s in range(3 * every)) >= 2
    assert every >= fps // 5  # and it does not check more often than it needs to


def _write_clip(path: Path, frames: list[np.ndarray]) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "rawvideo",
                    "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}", "-framerate", str(FPS),
                    "-i", "pipe:0", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
                   input=b"".join(f.tobytes() for f in frames), check=True, timeout=120)


def test_check_clip_counts_its_frames_and_times_the_face(tmp_path: Path, scene) -> None:
    """4 s: the blurred face from 0.4 to 1.6 s, the face itself from 2.0 to 2.6 s only."""
    street, with_face, box = scene
    blurred = with_face.copy()
    blur_faces(blurred, merge_boxes(box[None], margin=0.3, width=WIDTH, height=HEIGHT))
    frames = [with_face if 50 <= i < 65 else blurred if 10 <= i < 40 else street
              for i in range(100)]
    clip = tmp_path / "pack_clip.mp4"
    _write_clip(clip, frames)
    result = check_clip(clip)
    assert (result.frames_total, result.every, result.frames_checked) == (100, 6, 17)
    assert (result.width, result.height, result.fps) == (WIDTH, HEIGHT, 25.0)
    assert not result.passed
    assert sorted({f.frame for f in result.findings}) == [54, 60]  # the checked frames in 50..64
    assert result.findings[0].time_s == pytest.approx(2.16)
    assert found(box[None], np.array([[*f.box, f.score] for f in result.findings])).all()
    described = json.loads(json.dumps(result.describe()))
    assert described["frames_checked"] == 17 and described["frames_total"] == 100
    assert described["frames_with_faces"] == 2 and described["findings_total"] >= 2
    assert described["summary"] == ("17 of 100 frames checked (every 6): a face in 2 of them, "
                                    "the first at 2.16 s")
    assert "sha256:" in described["detector"] and described["passed"] is False

    denser = check_clip(clip, every=3)  # frames 51, 54, 57, 60 and 63 show the face
    assert denser.frames_checked == 34 and denser.every == 3
    assert {f.frame for f in denser.findings} <= {51, 54, 57, 60, 63}
    assert len({f.frame for f in denser.findings}) >= 4


def test_check_clip_passes_a_clip_without_faces(tmp_path: Path, scene) -> None:
    street = scene[0]
    clip = tmp_path / "clean.mp4"
    _write_clip(clip, [np.roll(street, 4 * i, axis=1) for i in range(30)])
    result = check_clip(clip, every=5)
    assert result.passed and result.frames_checked == 6 and result.frames_total == 30
    assert result.describe()["summary"] == "6 of 30 frames checked (every 5): no face found"


def test_a_clip_cut_short_is_an_error_not_a_pass(tmp_path: Path, scene) -> None:
    """The index at the front says 30 frames; the bytes of the last ones are gone."""
    street = scene[0]
    clip = tmp_path / "cut.mp4"
    _write_clip(clip, [np.roll(street, 4 * i, axis=1) for i in range(30)])
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(MediaError, match="decoding stopped at frame .* of 30"):
        check_clip(clip, every=10)
    with pytest.raises(MediaError, match="missing"):
        check_clip(tmp_path / "nowhere.mp4")
