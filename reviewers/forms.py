"""A form that comes back with problems: each one next to its field, and the form filled in.

A page that refuses what a form sent renders itself again (HTTP 400) with the values that
were sent and a :class:`FormErrors`: the field's id and what is wrong with it. ``base.html``
lists them at the top of the page (``role="alert"``, each a link to its field) and
``_forms.html`` puts each one under its field, tied to it by ``aria-describedby``.
"""

from __future__ import annotations

from datetime import date

from reviewers.inputs import FIRST_DAY, LAST_DAY


class FormErrors(dict[str, str]):
    """What is wrong with a form: the id of each field with a problem, and the problem.

    A second problem with the same field is added to the first.
    """

    def add(self, field: str, message: str) -> None:
        """Say what is wrong with one field."""
        self[field] = f"{self[field]}; {message}" if field in self else message


def filter_day(errors: FormErrors, field: str, value: str, *, what: str) -> date | None:
    """A day typed in a filter's date box (YYYY-MM-DD), or None when the box is empty.

    A day that does not read, or lies outside the days the store can hold, is a problem
    with ``field`` (``what`` names the box in the message).
    """
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.add(field, f"{what}: {value!r} is not a day: write it as YYYY-MM-DD, such as 2026-11-27")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.add(field, f"{what} must be from {FIRST_DAY} to {LAST_DAY}")
        return None
    return day


def day_range(errors: FormErrors, fields: tuple[str, str], values: tuple[str, str],
              *, what: tuple[str, str] = ("From", "To")) -> tuple[date | None, date | None]:
    """Two date boxes, from and to (each may be empty: no limit); "to" may not come before "from"."""
    first = filter_day(errors, fields[0], values[0], what=what[0])
    last = filter_day(errors, fields[1], values[1], what=what[1])
    days_in_order(errors, fields[1], first, last, what=what)
    return first, last


def days_in_order(errors: FormErrors, field: str, first: date | None, last: date | None,
                  *, what: tuple[str, str] = ("From", "To")) -> None:
    """A problem on ``field`` (the "to" box) when both days are given and "to" comes first."""
    if first and last and last < first:
        errors.add(field, f"{what[1]} ({last}) is before {what[0].lower()} ({first}): swap them")
