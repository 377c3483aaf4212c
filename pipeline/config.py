"""Where an instance lives: ``BWV_HOME`` and ``BWV_DB``.

An instance folder holds the database (SQLite by default), the
content-addressed media store, derived audio and exports.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

#: The default instance folder: ``data/instance`` beside the package (ignored by git).
DEFAULT_HOME = Path(__file__).resolve().parent.parent / "data" / "instance"


@dataclass(frozen=True)
class Instance:
    """The folders and database URL of one bwv instance."""

    home: Path
    db_url: str

    @property
    def store_dir(self) -> Path:
        """Content-addressed originals, read-only."""
        return self.home / "store"

    @property
    def derived_dir(self) -> Path:
        """Files made from originals (speech audio, proxies, clips)."""
        return self.home / "derived"

    @property
    def models_dir(self) -> Path:
        """Models assembled from packages (verified by hash)."""
        return self.home / "models"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same file system, so renames are atomic."""
        return self.home / "tmp"


def resolve_instance(home: str | os.PathLike[str] | None = None, db: str | None = None) -> Instance:
    """Resolve the instance from options, then ``BWV_HOME``/``BWV_DB``, then defaults.

    Creates the instance folders. The database defaults to SQLite
    ``bwv.sqlite3`` inside the home folder.
    """
    home_path = Path(home or os.environ.get("BWV_HOME") or DEFAULT_HOME).expanduser().resolve()
    try:
        for sub in ("", "store", "derived", "models", "tmp"):
            (home_path / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create instance folder {home_path}: {exc.strerror}; "
            "set BWV_HOME or --home to a writable folder"
        ) from exc
    url = db or os.environ.get("BWV_DB") or f"sqlite:///{home_path / 'bwv.sqlite3'}"
    return Instance(home=home_path, db_url=url)


def private_key_text(path: Path, *, what: str, create: bool, nbytes: int, fix: str) -> str:
    """The text of a secret kept in a file only its owner may read (``audit key``, ``device
    key``): with ``create``, a missing file is made first (``nbytes`` random bytes as hex,
    mode 0600, written whole under a temporary name and linked into place, so two processes
    starting at once agree on one key). A file that group or others may read is refused
    with the ``chmod`` that fixes it. ``OSError`` and ``UnicodeDecodeError`` from reading
    are left to the caller, whose message says what to do about its own key.
    """
    if create and not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_hex(nbytes) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the {what} {path}: {exc.strerror or exc}; {fix}") from exc
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path}: the {what} is readable by others (mode {mode:04o}); "
                          f"run: chmod 600 {path}")
    return path.read_text(encoding="ascii")
