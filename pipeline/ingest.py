"""Ingest: scan an inbox and keep each original once, read-only, by its SHA-256.

Only regular files are taken: symlinks are refused (they could point
anywhere on the machine), and a file whose size or mtime changed in the last
few seconds is left for the next run because it is still being written.
Originals are copied into the content-addressed store while being hashed,
then made read-only; the inbox copy is never modified.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import MediaError

log = logging.getLogger("bwv.ingest")

#: A file modified more recently than this is treated as still being written.
DEFAULT_SETTLE_S = 5.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class InboxEntry:
    """A file found in an inbox, with what ``lstat`` said of it."""

    path: Path
    name: str  # relative to the inbox, with forward slashes
    kind: str  # "file", "symlink", "unsettled" or "special"
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class StoredOriginal:
    """An original's place in the content-addressed store."""

    sha256: str
    path: Path
    size_bytes: int


def scan_inbox(inbox: Path, *, settle_s: float = DEFAULT_SETTLE_S) -> Iterator[InboxEntry]:
    """Walk an inbox (recursively, in name order) and classify what is there.

    Hidden files and folders (a leading dot: uploaders' partial files) are
    skipped. Symlinks are reported, never followed.
    """
    now_ns = time.time_ns()
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False):
        # Symlinked folders show up in dirnames; report them like symlinked files.
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in links)
        for fname in sorted([*filenames, *links]):
            if fname.startswith("."):
                continue
            path = Path(dirpath) / fname
            try:
                st = path.lstat()
            except OSError:
                continue  # removed while we looked
            name = path.relative_to(inbox).as_posix()
            if stat.S_ISLNK(st.st_mode):
                kind = "symlink"
            elif not stat.S_ISREG(st.st_mode):
                kind = "special"
            elif (now_ns - st.st_mtime_ns) / 1e9 < settle_s:
                kind = "unsettled"
            else:
                kind = "file"
            yield InboxEntry(path, name, kind, st.st_size, st.st_mtime_ns)


def store_path_for(store_dir: Path, sha256: str) -> Path:
    """Where an original with this hash lives: ``store/ab/cd/abcd…``."""
    return store_dir / sha256[:2] / sha256[2:4] / sha256


def store_original(entry: InboxEntry, *, store_dir: Path, tmp_dir: Path) -> StoredOriginal:
    """Copy an inbox file into the store while hashing it; keep one read-only copy per hash.

    Raises :class:`MediaError` (transient) if the file changed while it was read.
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(entry.path, flags)
    except OSError as exc:
        raise MediaError(f"cannot read the file: {exc.strerror}", permanent=False) from exc
    tmp = tmp_dir / f"ingest.{os.getpid()}.{time.monotonic_ns()}.part"
    try:
        with os.fdopen(fd, "rb") as src, tmp.open("wb") as out:
            before = os.fstat(src.fileno())
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
            after = os.fstat(src.fileno())
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
            raise MediaError("still being written (it changed while it was read)", permanent=False)
        sha = digest.hexdigest()
        target = store_path_for(store_dir, sha)
        if target.exists():
            log.debug("%s: already stored as %s", entry.name, sha)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o444)
            os.replace(tmp, target)
        return StoredOriginal(sha256=sha, path=target, size_bytes=size)
    finally:
        tmp.unlink(missing_ok=True)
