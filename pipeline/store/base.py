"""What every query module of the store shares: a transaction on the database.

The :class:`~pipeline.store.Store` is assembled from one mixin per area (media,
jobs, review, accounts, feedback, audit, report, retention); each mixin derives
from :class:`Queries`, which stands for the ``Store``'s engine and session.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pipeline.store import schema as db


class Queries:
    """The base of the store's query mixins."""

    engine: Engine

    def session(self) -> AbstractContextManager[Session]:  # pragma: no cover - Store's
        """A transaction (the ``Store`` defines it)."""
        raise NotImplementedError


_T = TypeVar("_T")

#: Values per ``IN (...)`` or per ``executemany``: well under SQLite's variable limit.
CHUNK = 500


def chunks(values: Sequence[_T], size: int = CHUNK) -> list[Sequence[_T]]:
    """``values`` in slices of at most ``size``, for queries about many rows at once."""
    return [values[i:i + size] for i in range(0, len(values), size)]


def escape_like(text: str) -> str:
    """Text for a LIKE pattern with ``/`` as the escape character."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def prefix_pattern(prefix: str) -> str:
    """A LIKE pattern (escape character ``/``) matching strings that start with ``prefix``.

    The same pattern ``startswith(prefix, autoescape=True)`` binds, but as one literal.
    """
    return f"{escape_like(prefix)}%"


def first_name(media_id: Any) -> Any:
    """The first name a media item arrived under, as a scalar subquery."""
    return (
        select(db.MediaName.name).where(db.MediaName.media_id == media_id)
        .order_by(db.MediaName.id).limit(1).scalar_subquery()
    )


#: How far past a file's recorded duration a marked range may end (rounding in players).
END_TOLERANCE_S = 0.5


def inside_file(start_s: float, end_s: float, duration_s: float | None) -> bool:
    """Whether a time range runs forwards inside a file of this duration."""
    return 0 <= start_s < end_s <= (duration_s or 0.0) + END_TOLERANCE_S


#: Unicode categories of characters that cannot be seen or that change how text around them
#: reads: controls, format characters (zero-width spaces, right-to-left overrides), line and
#: paragraph separators, private-use, surrogates and unassigned code points.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def hidden_character(text: str, *, lines: bool = False) -> str | None:
    """The first character of ``text`` a reader could not see (or that reorders what they
    see), as ``U+XXXX``; line breaks and tabs are allowed with ``lines``. None if there is none."""
    for ch in text:
        if lines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in HIDDEN_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None
