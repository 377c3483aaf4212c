"""Anchors: the audit log's row count and head hash, written outside the database.

The anchors file (``audit.anchors`` in the instance folder, or ``BWV_AUDIT_ANCHORS``) is
opened for appending only and never rewritten. Each line is one JSON object: when, how
many rows the log had, the id and hash of its last row, the key's id, a note, the SHA-256
of the line before it (so a removed line shows) and an HMAC of all that under the audit
key (so an edited or invented line shows). Deleting or rewriting rows that an anchor has
seen is found by ``bwv audit verify`` whoever did it, key or no key; the file belongs
where the database's administrators cannot write (README, "Audit log: threat model").
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from pipeline import clock
from pipeline.errors import ConfigError
from pipeline.store.audit_key import GENESIS, AuditKey


@dataclass(frozen=True)
class AuditHead:
    """The audit log's size and its last row (``head_id`` None and ``GENESIS`` when empty)."""

    rows: int
    head_id: int | None
    head_hash: str


@dataclass(frozen=True)
class Anchor:
    """One line of the anchors file (``line`` counts from 1)."""

    line: int
    at: str
    rows: int
    head_id: int | None
    head_hash: str
    key_id: str
    note: str
    prev: str
    mac: str


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "at": str, "rows": int, "head_id": (int, type(None)), "head_hash": str, "key_id": str,
    "note": str, "prev": str, "mac": str}


#: The note of the anchor written with the first signed row: no row records that one.
ADOPTION_NOTE = "audit key adopted"


def _body(fields: dict[str, Any]) -> str:
    """The canonical text of an anchor's fields, as signed and as written."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _line_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def append_anchor(path: Path, key: AuditKey, head: AuditHead, *, note: str) -> Anchor:
    """Append one signed anchor line for ``head`` to the anchors file.

    The file is opened with ``O_APPEND`` (it also works when ``chattr +a`` allows nothing
    but appending) and locked while the line before is read, so two writers never both
    follow the same line.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot open the audit anchors file {path}: {exc.strerror or exc}; "
                          "set BWV_AUDIT_ANCHORS to a file bwv may append to") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, encoding="utf-8", errors="replace", newline="\n") as fh:
            lines = fh.read().split("\n")
        torn = lines[-1] != ""  # a last line without its newline (a write cut short)
        lines = [line for line in lines if line]
        fields: dict[str, Any] = {
            "at": clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rows": head.rows, "head_id": head.head_id, "head_hash": head.head_hash,
            "key_id": key.key_id, "note": note,
            "prev": _line_hash(lines[-1]) if lines else GENESIS,
        }
        fields["mac"] = key.mac(_body(fields))
        text = _body(fields)
        os.write(fd, (("\n" if torn else "") + text + "\n").encode("ascii"))
        os.fsync(fd)
    except OSError as exc:
        raise ConfigError(f"cannot append to the audit anchors file {path}: "
                          f"{exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    return Anchor(line=len(lines) + 1, **fields)


def read_anchors(path: Path, key: AuditKey) -> tuple[list[Anchor], list[str]]:
    """The anchors of the file that check against the key, and the problems of the rest.

    A missing file has no anchors and no problems (an instance that has not anchored yet).
    """
    try:
        with open(path, encoding="utf-8", errors="replace", newline="\n") as fh:
            raws = fh.read().split("\n")
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        raise ConfigError(f"cannot read the audit anchors file {path}: {exc.strerror or exc}") from exc
    if raws and raws[-1] == "":
        raws.pop()
    anchors: list[Anchor] = []
    problems: list[str] = []
    prev, most = GENESIS, None
    for number, raw in enumerate(raws, start=1):
        fields = _parse(raw)
        if fields is None:
            problems.append(f"anchor line {number}: not an anchor (unreadable)")
        elif fields["key_id"] != key.key_id:
            problems.append(f"anchor line {number}: written with audit key {fields['key_id']}, "
                            f"but this key ({key.source}) is {key.key_id}")
        elif not hmac.compare_digest(
                key.mac(_body({k: v for k, v in fields.items() if k != "mac"})), fields["mac"]):
            problems.append(f"anchor line {number}: its MAC does not match: the line was "
                            "changed, or written with another key")
        else:
            anchor = Anchor(line=number, **fields)
            if anchor.prev != prev:
                problems.append(
                    f"anchor line {number}: does not follow line {number - 1}: a line was "
                    "removed or changed" if number > 1 else
                    "anchor line 1: is not the first line written: lines before it were removed")
            if most is not None and anchor.rows < most.rows:
                problems.append(f"anchor line {number} ({anchor.at}): counts {anchor.rows} rows, "
                                f"fewer than the {most.rows} of line {most.line}: rows were deleted")
            most = anchor if most is None or anchor.rows >= most.rows else most
            anchors.append(anchor)
        prev = _line_hash(raw)
    return anchors, problems


def _parse(raw: str) -> dict[str, Any] | None:
    """An anchor line's fields, or None when it is not one."""
    try:
        fields = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(fields, dict) or set(fields) != set(_FIELDS):
        return None
    ok = all(isinstance(fields[k], t) and not isinstance(fields[k], bool)
             for k, t in _FIELDS.items())
    return fields if ok else None
