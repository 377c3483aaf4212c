"""The ranges of what a request may carry: ids and dates the store can hold.

FastAPI checks these before a route runs, so a value outside them is a 422 that says
the range, never a database error: an id over 2**63 cannot even be bound by SQLite,
and the day after 9999-12-31 does not exist (issue 14).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query

from pipeline.store.schema import MAX_ID

#: The days a date filter may name: the Unix epoch to the end of the millennium.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)

#: A row's id in a path: ``/items/{item_id}``, ``/annotations/{annotation_id}``, ...
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: A day to filter from or to: ``?date_from=2026-11-27``.
FilterDay = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY)]
