"""The ranges of what a request may carry: ids and dates the store can hold.

FastAPI checks these before a route runs, so a value outside them is a 422 that says
the range, never a database error: an id over 2**63 cannot even be bound by SQLite,
and the day after 9999-12-31 does not exist (issue 14).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter

from pipeline.store.schema import MAX_ID

#: The days a date filter may name: the Unix epoch to the end of the millennium.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _blank_is_none(value: Any) -> Any:
    """An empty box of a filter form (what a browser sends for an untouched date) filters nothing."""
    return None if isinstance(value, str) and not value.strip() else value


_A_DAY = TypeAdapter(Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)])


def _a_day_in_range(day: date | None) -> date | None:
    """The day, if from :data:`FIRST_DAY` to :data:`LAST_DAY` (its errors are pydantic's ge/le).

    Checked once a blank box is None: ``Query(ge=, le=)`` on ``date | None`` compares None too.
    """
    return None if day is None else _A_DAY.validate_python(day)


#: A row's id in a path: ``/items/{item_id}``, ``/annotations/{annotation_id}``, ...
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: A line of a file's transcript in a path, from 0: ``/items/{item_id}/lines/{line}/speaker``.
LineIndex = Annotated[int, Path(ge=0, le=MAX_ID)]
#: A day to filter from or to: ``?date_from=2026-11-27``; an empty box (``?date_from=``) is no filter.
FilterDay = Annotated[date | None, BeforeValidator(_blank_is_none), AfterValidator(_a_day_in_range),
                      Query()]
