"""Shared fixtures: real media, the real models, a fresh instance per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))  # so tests can import scripts.footage


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly (argument list) and fail the test on error."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args],
        check=True, timeout=300, stdin=subprocess.DEVNULL,
    )


def age(*paths: Path, seconds: float = 60.0) -> None:
    """Make files look settled (modified a while ago) to the inbox scan."""
    for p in paths:
        st = p.lstat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)), follow_symlinks=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real recordings and photos (../shared/data)."""
    assert SHARED.is_dir(), f"missing shared test data at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def jfk(shared_data: Path) -> Path:
    return shared_data / "speech" / "jfk.flac"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory, jfk: Path) -> Path:
    """Small real media files made once per session with ffmpeg."""
    d = tmp_path_factory.mktemp("media")
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"]
    ffmpeg(*video, "-i", str(jfk), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", str(d / "jfk.mp4"))
    ffmpeg(*video, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", str(d / "noaudio.mp4"))
    ffmpeg("-i", str(jfk), "-c:a", "aac", str(d / "audio_only.m4a"))
    # Two audio tracks, the first silent: the speech is on the second.
    ffmpeg(*video, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-i", str(jfk),
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-shortest", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", str(d / "two_tracks.mp4"))
    data = (d / "jfk.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "text.mp4").write_text("this is a text file, not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    (d / "noise.mp4").write_bytes(bytes(range(256)) * 64)  # binary, but not media
    return d


@pytest.fixture()
def instance(tmp_path: Path):
    """A fresh bwv instance (its own SQLite database and store)."""
    from pipeline.config import resolve_instance

    return resolve_instance(tmp_path / "home")


@pytest.fixture(scope="session")
def tiny_model():
    from pipeline.models import tiny_en

    return tiny_en()


@pytest.fixture(scope="session")
def whisper(tiny_model):
    from pipeline.transcribe import load_whisper

    return load_whisper(tiny_model)


@pytest.fixture(scope="session")
def engine():
    from pipeline.flag import engine_for

    return engine_for()


def copy_into(inbox: Path, src: Path, name: str | None = None) -> Path:
    """Copy a file into an inbox and make it look settled."""
    inbox.mkdir(parents=True, exist_ok=True)
    dst = inbox / (name or src.name)
    shutil.copyfile(src, dst)
    age(dst)
    return dst
