"""Where an instance lives: ``BWV_HOME`` and ``BWV_DB``.

An instance folder holds the database (SQLite by default), the
content-addressed media store, derived audio and exports.
"""

from __future__ import annotations

import os
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
