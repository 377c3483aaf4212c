"""Ingest: scan an inbox and keep each original once, read-only, by its SHA-256.

Only regular files are taken: symlinks are refused (they could point
anywhere on the machine), and a file still being written is left for the next
run. "Still being written" is decided, in order of trust, by:

1. a read lease (Linux ``fcntl(F_SETLEASE)``), which the kernel refuses while
   any process holds the file open for writing;
2. where a lease cannot be taken (a file of another user without
   ``CAP_LEASE``), a scan of ``/proc/*/fd`` for a descriptor open for writing
   on the same file, when every process could be seen;
3. where neither can tell (NFS, SMB, or processes this user cannot see), the
   size-and-time check: modified within the last ``settle_s`` seconds.

So a file copied in a second ago and closed is taken at once, and a stalled
upload that still holds its file open is never taken, however old its mtime.
Originals are copied into the content-addressed store while being hashed,
then made read-only; the inbox copy is never modified.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import MediaError

log = logging.getLogger("bwv.ingest")

#: Where no open-file check can tell, a file modified more recently than this is treated as
#: still being written.
DEFAULT_SETTLE_S = 5.0
_CHUNK = 1 << 20
#: The open-file checks, in the order they are tried.
WRITER_CHECKS = ("lease", "proc")
_FDINFO_FLAGS = re.compile(r"^flags:\s+([0-7]+)$", re.M)


@dataclass(frozen=True)
class InboxEntry:
    """A file found in an inbox, with what ``lstat`` said of it."""

    path: Path
    name: str  # relative to the inbox, with forward slashes
    kind: str  # "file", "symlink", "unsettled" or "special"
    size_bytes: int
    mtime_ns: int
    #: For an unsettled file: which check deferred it, in words.
    deferred_by: str | None = None


@dataclass(frozen=True)
class StoredOriginal:
    """An original's place in the content-addressed store."""

    sha256: str
    path: Path
    size_bytes: int


def lease_says_writing(path: Path) -> bool | None:
    """Whether a process holds ``path`` open for writing, by trying a read lease (Linux).

    None when a lease cannot be taken here: not Linux, a file of another user without
    ``CAP_LEASE`` (``EACCES``), or a file system without leases (NFS, FUSE: ``EINVAL``).
    """
    import fcntl

    setlease = getattr(fcntl, "F_SETLEASE", None)
    if setlease is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.fcntl(fd, setlease, fcntl.F_RDLCK)
        except OSError as exc:
            return True if exc.errno == errno.EAGAIN else None
        fcntl.fcntl(fd, setlease, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


@dataclass
class ProcWriters:
    """Files open for writing, from one scan of ``/proc/*/fd`` (made when first asked).

    ``complete`` is False when some process's descriptors could not be read (another
    user's, without root), so "no writer seen" proves nothing.
    """

    proc: Path = Path("/proc")
    _files: set[tuple[int, int]] | None = field(default=None, repr=False)
    complete: bool = True

    def says_writing(self, st: os.stat_result) -> bool | None:
        """Whether the file with this ``stat`` is open for writing; None if it cannot tell."""
        if self._files is None:
            self._files = self._scan()
        if (st.st_dev, st.st_ino) in self._files:
            return True
        return False if self.complete else None

    def _scan(self) -> set[tuple[int, int]]:
        files: set[tuple[int, int]] = set()
        if not (self.proc / "self" / "fdinfo").is_dir():
            self.complete = False
            return files
        for pid in self.proc.iterdir():
            if not pid.name.isdigit():
                continue
            try:
                fds = os.listdir(pid / "fd")
            except PermissionError:
                self.complete = False
                continue
            except OSError:
                continue  # the process ended while we looked
            for fd in fds:
                try:
                    flags = _FDINFO_FLAGS.search((pid / "fdinfo" / fd).read_text())
                    if flags is None or not int(flags.group(1), 8) & (os.O_WRONLY | os.O_RDWR):
                        continue
                    target = os.stat(pid / "fd" / fd)
                except OSError:
                    continue  # closed meanwhile
                if stat.S_ISREG(target.st_mode):
                    files.add((target.st_dev, target.st_ino))
        return files


def _still_written(path: Path, st: os.stat_result, *, settle_s: float, now_ns: int,
                   checks: tuple[str, ...], writers: ProcWriters) -> str | None:
    """Why a regular file must wait for the next run, or None to take it now."""
    for check in checks:
        writing = lease_says_writing(path) if check == "lease" else writers.says_writing(st)
        if writing is not None:
            how = "a read lease was refused" if check == "lease" else "seen in /proc/*/fd"
            return f"open for writing by another process ({how})" if writing else None
    age_s = (now_ns - st.st_mtime_ns) / 1e9
    if age_s < settle_s:
        return (f"modified {max(age_s, 0.0):.0f} s ago, under the {settle_s:g} s settle time "
                "(size-and-time check: no open-file check works on this file)")
    return None


def scan_inbox(inbox: Path, *, settle_s: float = DEFAULT_SETTLE_S,
               checks: tuple[str, ...] = WRITER_CHECKS) -> Iterator[InboxEntry]:
    """Walk an inbox (recursively, in name order) and classify what is there.

    Hidden files and folders (a leading dot: uploaders' partial files) are
    skipped. Symlinks are reported, never followed. A file still being written is
    ``unsettled``, with the check that found it (see the module's notes); ``checks``
    names the open-file checks to try (``lease``, ``proc``), the default both.
    """
    now_ns = time.time_ns()
    writers = ProcWriters()
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
            deferred_by = None
            if stat.S_ISLNK(st.st_mode):
                kind = "symlink"
            elif not stat.S_ISREG(st.st_mode):
                kind = "special"
            else:
                deferred_by = _still_written(path, st, settle_s=settle_s, now_ns=now_ns,
                                             checks=checks, writers=writers)
                kind = "file" if deferred_by is None else "unsettled"
            yield InboxEntry(path, name, kind, st.st_size, st.st_mtime_ns, deferred_by)


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
