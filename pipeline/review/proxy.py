"""Browser-playable proxies: H.264/AAC MP4 copies of originals, made once and cached.

The review app streams the proxy, never the original, which stays untouched
in the store. A proxy is named by the original's SHA-256, written under a
temporary name and renamed, so a crash never leaves half a file, and a lock
file stops two requests (or two server processes) from making it twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from pipeline.batch.media import run_tool
from pipeline.config import Instance
from pipeline.errors import MediaError, NotFoundError
from pipeline.store import Store
from pipeline.store import schema as db

log = logging.getLogger("bwv.proxy")

#: Longest side kept in the proxy: enough to read faces and gestures, small enough to stream.
MAX_HEIGHT = 720
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def proxy_path(instance: Instance, sha256: str) -> Path:
    """Where the proxy of an original lives."""
    return instance.derived_dir / sha256[:2] / f"{sha256}.proxy.mp4"


def proxy_args(original: Path, out: Path, *, has_video: bool, audio_track: int | None) -> list[str]:
    """The ffmpeg argument list that makes a proxy (no shell)."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(original)]
    if has_video:
        args += ["-map", "0:v:0",
                 "-vf", f"scale=-2:trunc(min({MAX_HEIGHT}\\,ih)/2)*2,format=yuv420p",
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "26",
                 "-profile:v", "high", "-g", "50"]
    if audio_track is not None:
        args += ["-map", f"0:a:{audio_track}", "-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    args += ["-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", str(out)]
    return args


def ensure_proxy(instance: Instance, media: db.Media) -> Path:
    """The proxy of a processed original, made with ffmpeg on first use."""
    if media.state != "done" or not media.sha256 or not media.store_path:
        raise NotFoundError(f"media {media.id} has no playable footage (state {media.state})")
    out = proxy_path(instance, media.sha256)
    if out.exists():
        return out
    with _locks_guard:
        lock = _locks.setdefault(media.sha256, threading.Lock())
    with lock:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out.with_suffix(".lock"), "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # another server process may be making it
            if out.exists():
                return out
            original = instance.home / media.store_path
            if not original.is_file():
                raise NotFoundError(f"the original of media {media.id} is missing from the store")
            tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp.mp4")
            args = proxy_args(original, tmp, has_video=bool(media.has_video),
                              audio_track=media.audio_track if media.audio_tracks else None)
            try:
                proc = run_tool(args, timeout_s=300.0 + 2 * (media.duration_s or 0.0))
                if proc.returncode != 0:
                    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
                    raise MediaError(f"cannot make a playable copy: {detail[0][:200]}")
                os.replace(tmp, out)
                log.info("made proxy %s", out.name)
            finally:
                tmp.unlink(missing_ok=True)
    return out


def warm_proxies(instance: Instance, store: Store, stop: threading.Event, *,
                 every_s: float = 300.0) -> None:
    """Make proxies ahead of the first view, most urgent file first, until ``stop`` is set.

    The review app runs this in a background thread, so a TIP who opens an
    item finds its video ready instead of waiting for ffmpeg.
    """
    while not stop.is_set():
        for media in store.media_to_review():
            if stop.is_set():
                return
            try:  # returns at once when the proxy is already there
                ensure_proxy(instance, media)
            except (MediaError, NotFoundError) as exc:
                log.warning("no proxy for media %s: %s", media.id, exc)
        stop.wait(every_s)
