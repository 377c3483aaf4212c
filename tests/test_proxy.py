"""Playable proxies: H.264/AAC made by ffmpeg once, cached, never touching the original."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from pipeline.errors import NotFoundError
from pipeline.review.proxy import ensure_proxy, proxy_path, warm_proxies
from pipeline.store import open_store
from pipeline.store import schema as db


def _codecs(path: Path) -> list[str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return sorted(f"{s['codec_type']}:{s['codec_name']}" for s in json.loads(out.stdout)["streams"])


def _media(instance, src: Path, *, has_video: bool, tracks: int = 1, track: int = 0) -> db.Media:
    sha = hashlib.sha256(src.name.encode()).hexdigest()
    target = instance.store_dir / src.name
    shutil.copyfile(src, target)
    target.chmod(0o444)
    return db.Media(id=1, state="done", sha256=sha, store_path=str(target.relative_to(instance.home)),
                    has_video=has_video, audio_tracks=tracks, audio_track=track, duration_s=11.0)


@pytest.mark.parametrize("name,has_video,tracks,track,expected", [
    ("jfk.mp4", True, 1, 0, ["audio:aac", "video:h264"]),
    ("audio_only.m4a", False, 1, 0, ["audio:aac"]),
    ("two_tracks.mp4", True, 2, 1, ["audio:aac", "video:h264"]),  # the speech track is kept
    ("noaudio.mp4", True, 0, None, ["video:h264"]),
])
def test_proxies_are_h264_aac_and_leave_the_original_alone(instance, media_dir, name, has_video,
                                                           tracks, track, expected) -> None:
    media = _media(instance, media_dir / name, has_video=has_video, tracks=tracks, track=track)
    original = instance.home / media.store_path
    before = original.read_bytes()
    out = ensure_proxy(instance, media)
    assert out == proxy_path(instance, media.sha256)
    assert _codecs(out) == expected
    assert original.read_bytes() == before
    stamp = out.stat().st_mtime_ns
    assert ensure_proxy(instance, media) == out and out.stat().st_mtime_ns == stamp  # cached
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp.mp4")]


def test_two_requests_at_once_make_one_proxy(instance, media_dir) -> None:
    media = _media(instance, media_dir / "jfk.mp4", has_video=True)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_proxy(instance, media)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 3
    assert [p.name for p in results[0].parent.iterdir() if p.suffix == ".mp4"] == [results[0].name]


def test_no_proxy_for_a_file_that_is_not_ready_or_is_missing(instance, media_dir) -> None:
    media = _media(instance, media_dir / "jfk.mp4", has_video=True)
    media.state = "quarantined"
    with pytest.raises(NotFoundError, match="has no playable footage"):
        ensure_proxy(instance, media)
    media.state, media.store_path = "done", "store/gone.mp4"
    with pytest.raises(NotFoundError, match="missing from the store"):
        ensure_proxy(instance, media)


def test_the_server_makes_proxies_of_files_waiting_for_review(review_home) -> None:
    for old in review_home.derived_dir.rglob("*.proxy.mp4"):
        old.unlink()
    store = open_store(review_home.db_url)
    waiting = store.media_to_review()
    assert waiting
    stop = threading.Event()
    worker = threading.Thread(target=warm_proxies, args=(review_home, store, stop))
    worker.start()
    try:
        for media in waiting:
            path = proxy_path(review_home, media.sha256)
            for _ in range(600):
                if path.exists() or not worker.is_alive():
                    break
                stop.wait(0.1)
            assert path.exists() and _codecs(path)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
