"""Checking the audit log against its key and its anchors (``bwv audit verify``, ``/admin/audit``).

:class:`ChainCheck` walks the rows in order: each must follow the row before it, its hash
must match its contents (HMAC under the audit key; plain SHA-256 for rows written before
the instance had a key, which are believed only as a prefix sealed by an
``audit-key-adopted`` row). :func:`check_anchors` then holds the log against the anchors:
a log with fewer rows than an anchor counted was cut short; a log whose row at an
anchor's count is not the anchored row was rewritten.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.store.audit_anchors import ADOPTION_NOTE, Anchor
from pipeline.store.audit_key import (
    ADOPTED_ACTION,
    ANCHOR_ACTION,
    GENESIS,
    AuditKey,
    signed_hash,
    unsigned_hash,
)

#: How many bad rows are listed one by one; the rest are counted.
MAX_LISTED = 20


class AuditRow(Protocol):
    """What the check reads of an audit row (``pipeline.store.schema.Audit``)."""

    id: int
    at: Any
    actor: str
    action: str
    object: str
    detail: str | None
    prev_hash: str
    row_hash: str
    key_id: str | None


def _missing(first: int, last: int) -> str:
    return f"row {first} is missing" if first == last else f"rows {first}-{last} are missing"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class ChainCheck:
    """The audit rows, fed in id order, checked one by one against the key."""

    def __init__(self, key: AuditKey, *, positions: frozenset[int] = frozenset()) -> None:
        self.key = key
        self.positions = positions  # the row counts anchors name: their rows are kept
        self.rows = 0
        self.unsigned_rows = 0
        self.sealed_by: int | None = None
        self.problems: list[str] = []
        self.hidden = 0
        self.at_position: dict[int, tuple[int, str]] = {}
        self.anchor_rows: list[tuple[int, dict[str, Any]]] = []
        self._prev_hash: str = GENESIS
        self._prev_id: int | None = None
        self._signed_seen = False
        self._foreign: set[str] = set()

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        else:
            self.hidden += 1

    def add(self, row: AuditRow) -> None:
        """Check the next row."""
        self.rows += 1
        if self.rows in self.positions:
            self.at_position[self.rows] = (row.id, row.row_hash)
        self._check_link(row)
        if row.key_id is None:
            self._check_unsigned(row)
        else:
            self._check_signed(row)
        self._prev_hash, self._prev_id = row.row_hash, row.id

    def _check_link(self, row: AuditRow) -> None:
        if row.prev_hash == self._prev_hash:
            return
        if self._prev_id is None:
            self._problem(
                f"row {row.id}: is the first row of the log, but does not start the chain: "
                + (_missing(1, row.id - 1) if row.id > 1 else "it was changed or re-linked"))
        elif row.id > self._prev_id + 1:
            self._problem(f"row {row.id}: does not follow row {self._prev_id}: "
                          f"{_missing(self._prev_id + 1, row.id - 1)}")
        else:
            self._problem(f"row {row.id}: does not follow row {self._prev_id}: a row before it "
                          "was changed or removed, or the chain was re-linked")

    def _check_unsigned(self, row: AuditRow) -> None:
        if self._signed_seen:
            self._problem(f"row {row.id}: not signed with the audit key, but rows before it are: "
                          "written without the key, or re-chained with plain SHA-256")
            return
        self.unsigned_rows += 1
        expected = unsigned_hash(row.prev_hash, row.at, row.actor, row.action, row.object,
                                 row.detail)
        if not hmac.compare_digest(expected, row.row_hash):
            self._problem(f"row {row.id}: changed after it was written (its hash does not match "
                          "its contents; written before the audit key)")

    def _check_signed(self, row: AuditRow) -> None:
        key = self.key
        first_signed = not self._signed_seen
        self._signed_seen = True
        if row.key_id != key.key_id:
            if row.key_id not in self._foreign:
                self._foreign.add(row.key_id or "")
                self._problem(f"row {row.id}: signed with audit key {row.key_id}, but this key "
                              f"({key.source}) is {key.key_id}; check it with the key the log "
                              "was signed with")
            return
        expected = signed_hash(key, row.prev_hash, row.at, row.actor, row.action, row.object,
                               row.detail)
        if not hmac.compare_digest(expected, row.row_hash):
            self._problem(f"row {row.id}: changed after it was written (its signature does not "
                          "match its contents)")
            return
        if first_signed and self.unsigned_rows:
            if row.action == ADOPTED_ACTION and _detail(row).get("unsigned_rows") == self.rows - 1:
                self.sealed_by = row.id
            else:
                self._problem(f"row {row.id}: the {_plural(self.rows - 1, 'row')} before it are "
                              f"not signed and were never sealed by the key (no {ADOPTED_ACTION} "
                              "row)")
        if row.action == ANCHOR_ACTION:
            self.anchor_rows.append((row.id, _detail(row)))


def _detail(row: AuditRow) -> dict[str, Any]:
    try:
        detail = json.loads(row.detail or "")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def check_anchors(walk: ChainCheck, anchors: list[Anchor], path: Path) -> list[str]:
    """The log held against the anchors of the file, and the file against the anchors the
    log says were written."""
    problems = []
    recorded = {(d.get("rows"), d.get("head_hash")) for _, d in walk.anchor_rows}
    for a in anchors:
        if walk.rows < a.rows:
            problems.append(f"anchor line {a.line} ({a.at}): the log has {walk.rows} rows, fewer "
                            f"than the {a.rows} it had then: rows were deleted")
        elif a.rows and walk.at_position.get(a.rows) != (a.head_id, a.head_hash):
            problems.append(f"anchor line {a.line} ({a.at}): row {a.rows} of the log is not the "
                            f"row anchored then (id {a.head_id}): rows up to it were rewritten")
        elif a.note != ADOPTION_NOTE and (a.rows, a.head_hash) not in recorded:
            # every anchor but the key's adoption is followed by the row that records it
            problems.append(f"anchor line {a.line} ({a.at}): the row recording this anchor, "
                            f"written just after row {a.rows}, is missing: rows written after "
                            "the anchor were deleted")
    held = {(a.rows, a.head_hash) for a in anchors}
    for row_id, d in walk.anchor_rows:
        if (d.get("rows"), d.get("head_hash")) not in held:
            problems.append(f"row {row_id} records an anchor of {d.get('rows')} rows written to "
                            f"{d.get('file')} at {d.get('at')} that {path} does not hold: the "
                            "anchors file was truncated or replaced")
    return problems


@dataclass(frozen=True)
class AuditVerdict:
    """What checking the audit log found; ``problems`` empty means intact."""

    rows: int
    unsigned_rows: int  # written before the instance had a key
    sealed_by: int | None  # the audit-key-adopted row that seals them
    anchors_file: Path
    last_anchor: Anchor | None
    problems: tuple[str, ...]
    hidden: int = 0  # bad rows found beyond those listed

    @property
    def intact(self) -> bool:
        """Whether nothing was found wrong."""
        return not self.problems

    def summary(self) -> str:
        """One line: ``intact: ...`` or ``BROKEN: n problems in m rows``."""
        rows = _plural(self.rows, "row")
        if self.problems:
            return f"BROKEN: {_plural(len(self.problems) + self.hidden, 'problem')} in {rows}"
        text = f"intact: {rows}"
        if self.unsigned_rows:
            seal = (f"sealed by row {self.sealed_by}" if self.sealed_by is not None
                    else "not yet sealed: the next audited action seals them")
            text += f" ({self.unsigned_rows} written before the audit key, {seal})"
        a = self.last_anchor
        if a is None:
            return f"{text}, no anchor yet in {self.anchors_file}"
        return f"{text}, last anchor {a.at} at {_plural(a.rows, 'row')} (row {a.head_id})"

    def lines(self) -> list[str]:
        """The summary, then each problem."""
        more = [f"... and {self.hidden} more rows fail the check"] if self.hidden else []
        return [self.summary(), *self.problems, *more]
