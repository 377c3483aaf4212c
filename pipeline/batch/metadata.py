"""Footage metadata from the force's evidence system (issue 18): ``bwv metadata import``.

A manifest is CSV with a header row, or JSON Lines, with one row per file: ``file`` (the
name as uploaded) or ``sha256``, and any of ``officer_id``, ``officer_name``, ``team``,
``shift``, ``incident_ref``, ``incident_type`` (free text, mapped to :data:`pipeline.batch.incidents.INCIDENT_TYPES`),
``recorded_at`` (ISO 8601 with a time zone) and ``camera_id``.

Every row is checked before anything is written: unknown columns, rows naming no file, a
file bwv has not seen (ingested, or waiting in the inbox given), a name that fits two
different files, two rows for one file, bad times and malformed values are each reported
with their line, and a manifest with any problem imports nothing. A good manifest is written
in one transaction; a file named again takes the values of the columns the new manifest has
(an empty cell clears one) and keeps the others.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import clock
from pipeline.batch.incidents import IncidentTypes, incident_terms
from pipeline.batch.ingest import scan_inbox
from pipeline.errors import ManifestError
from pipeline.store import Store
from pipeline.store.base import hidden_character

#: The columns a manifest may have; ``file`` or ``sha256`` is required in each row.
FIELDS = ("file", "sha256", "officer_id", "officer_name", "team", "shift", "incident_ref",
          "incident_type", "recorded_at", "camera_id")

def canonical_officer(text: str) -> str:
    """A collar number as bwv keeps it: upper case, no spaces ("pc 4512" and "PC4512" are one)."""
    return "".join(text.split()).upper()


#: Longest value of each text column (the database's limits).
MAX_CHARS = {"file": 1000, "officer_id": 40, "officer_name": 200, "team": 100, "shift": 100,
             "incident_ref": 100, "incident_type": 200, "camera_id": 100}

_SHA = re.compile(r"^[0-9a-f]{64}$")
#: Collar numbers and staff ids: letters, digits, and . _ / - or a space inside.
OFFICER_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._/-]{0,38}[A-Za-z0-9])?$")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How many problems a refusal lists before it counts the rest.
SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class MetaRow:
    """One checked manifest row: where it is, which file, and the values to store."""

    line: int
    file: str | None
    sha256: str | None
    values: dict[str, Any] = field(default_factory=dict)
    #: The stored columns this row speaks for (its columns, or keys, even if empty): a file
    #: named again keeps what an earlier manifest said in the columns this one leaves out.
    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    rows: int
    new: int
    replaced: int
    waiting: int  # rows for files still in the inbox, not yet ingested


# --- reading --------------------------------------------------------------------------------


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, raw record) for each row: JSON Lines by a ``.jsonl``, ``.ndjson`` or ``.json``
    name, CSV by a ``.csv`` one, else JSON Lines when the first character is ``{``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 text (byte {exc.start} cannot be read); "
                            "save the manifest as UTF-8") from exc
    if not text.strip():
        raise ManifestError(f"{path}: the manifest is empty")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or (
            path.suffix.lower() != ".csv" and text.lstrip().startswith("{")):
        yield from _jsonl(text)
    else:
        yield from _csv(text)


def _jsonl(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=_no_repeats)
        except json.JSONDecodeError as exc:
            yield number, {"": f"not JSON ({exc.msg} at column {exc.colno})"}
            continue
        except RecursionError:
            yield number, {"": "nested too deeply to be a manifest row"}
            continue
        except ValueError as exc:  # a key given twice
            yield number, {"": str(exc)}
            continue
        if not isinstance(record, dict):
            yield number, {"": "not a JSON object"}
            continue
        yield number, record


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (the last would silently win)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"{key!r} is given twice")
        out[key] = value
    return out


def _csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ManifestError(f"line 1: cannot read the header row: {exc}") from exc
    names = [h.strip().lower() for h in header]
    problems = [f"line 1: unknown column {h[:40]!r} (the columns are {', '.join(FIELDS)})"
                for h in names if h not in FIELDS]
    problems += [f"line 1: column {h[:40]!r} appears twice" for i, h in enumerate(names)
                 if h in names[:i]]
    if "file" not in names and "sha256" not in names:
        problems.append("line 1: the header needs a file or a sha256 column")
    if problems:
        raise ManifestError("the manifest's header is wrong; nothing was imported", problems)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, {"": f"cannot read the row: {exc}"}
            return
        if any(c.strip() for c in cells):
            if len(cells) != len(names):
                yield start, {"": f"{len(cells)} cells where the header has {len(names)}"}
            else:
                yield start, dict(zip(names, cells, strict=True))
        start = reader.line_num + 1


def _recorded_at(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"recorded_at {text!r} is not an ISO 8601 time "
                         "(write it as 2026-12-05T22:14:00+00:00)") from None
    if at.tzinfo is None:
        raise ValueError(f"recorded_at {text!r} has no time zone "
                         "(add Z or an offset such as +00:00)")
    if at < _EARLIEST or at > clock.now() + timedelta(days=1):
        raise ValueError(f"recorded_at {text!r} is outside 2000 to tomorrow")
    return at.astimezone(UTC)


def check_row(line: int, raw: Mapping[str, Any],
              to_type: Callable[[str], str]) -> tuple[MetaRow | None, list[str]]:
    """One raw record as a :class:`MetaRow` (None where it names no file) and the problems
    with it."""
    if "" in raw:
        return None, [f"line {line}: {raw['']}"]
    names = [str(k).strip().lower() for k in raw]
    problems = [f"line {line}: unknown column {k[:40]!r}" for k in names if k not in FIELDS]
    problems += [f"line {line}: column {k!r} appears twice" for i, k in enumerate(names)
                 if k in FIELDS and k in names[:i]]
    values: dict[str, str] = {}
    for key, value in raw.items():
        key = str(key).strip().lower()
        if value is None or key not in FIELDS:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"line {line}: {key} must be text, not {type(value).__name__}")
            continue
        text = str(value).strip()
        if not text:
            continue
        if (hidden := hidden_character(text)) is not None:
            problems.append(f"line {line}: {key} holds a character that cannot be seen "
                            f"({hidden})")
        elif len(text) > MAX_CHARS.get(key, 1000):
            problems.append(f"line {line}: {key} is longer than {MAX_CHARS[key]} characters")
        else:
            values[key] = text
    file, sha = values.pop("file", None), values.pop("sha256", None)
    if sha is not None:
        sha = sha.lower()
        if not _SHA.match(sha):
            problems.append(f"line {line}: sha256 {sha[:80]!r} is not 64 hexadecimal digits")
    if file is None and sha is None:
        problems.append(f"line {line}: needs a file or a sha256")
    officer = values.get("officer_id")
    if officer is not None:
        values["officer_id"] = officer = canonical_officer(officer)
    if officer is not None and not OFFICER_ID.match(officer):
        problems.append(f"line {line}: officer_id {officer[:80]!r} must be letters and digits "
                        "(and . _ / - or a space inside)")
    stored: dict[str, Any] = {k: v for k, v in values.items()
                              if k not in ("recorded_at", "incident_type")}
    if "recorded_at" in values:
        try:
            stored["recorded_at"] = _recorded_at(values["recorded_at"])
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if "incident_type" in values:
        stored["incident_text"] = values["incident_type"]
        stored["incident_type"] = to_type(values["incident_type"])
    if file is None and (sha is None or not _SHA.match(sha)):
        return None, problems
    # Returned with its problems too, so that its file is still matched and checked.
    named = {str(k).strip().lower() for k in raw} & set(FIELDS) - {"file", "sha256"}
    given = frozenset(named | ({"incident_text"} if "incident_type" in named else set()))
    return MetaRow(line=line, file=file, sha256=sha, values=stored, given=given), problems


# --- matching rows to files -----------------------------------------------------------------


def _hash_file(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


class KnownFiles:
    """The files a manifest may name: every original bwv has ingested (by hash, by each name
    it arrived under, and by that name's last part) and the files waiting in an inbox."""

    def __init__(self, store: Store, inbox: Path | None) -> None:
        self.shas: set[str] = set()
        self.by_name: dict[str, set[str]] = {}
        self.by_base: dict[str, set[str]] = {}
        for sha, name in store.media_names_by_sha():
            self.shas.add(sha)
            self.by_name.setdefault(name, set()).add(sha)
            self.by_base.setdefault(name.rsplit("/", 1)[-1], set()).add(sha)
        self.inbox: dict[str, Path] = {}
        self.inbox_base: dict[str, list[Path]] = {}
        if inbox is not None:
            for entry in scan_inbox(inbox, settle_s=0.0, checks=()):
                if entry.kind == "file":
                    self.inbox[entry.name] = entry.path
                    self.inbox_base.setdefault(entry.name.rsplit("/", 1)[-1], []).append(entry.path)
        self.waiting: set[str] = set()
        self._hashes: dict[Path, str | None] = {}

    def _sha_of(self, path: Path) -> str | None:
        if path not in self._hashes:
            self._hashes[path] = _hash_file(path)
        return self._hashes[path]

    def resolve(self, row: MetaRow) -> tuple[str | None, str | None]:
        """The row's file's hash, or the problem."""
        if row.file is None:
            assert row.sha256 is not None
            if row.sha256 in self.shas:
                return row.sha256, None
            for path in self.inbox.values():
                if self._sha_of(path) == row.sha256:
                    self.waiting.add(row.sha256)
                    return row.sha256, None
            return None, f"line {row.line}: no file bwv has seen has sha256 {row.sha256}"
        # The closest match wins: the whole name in the inbox, then among names ingested,
        # then the last part of a name, in the inbox and then ingested.
        shas: set[str] = set()
        for level in (self._inbox_shas([self.inbox[row.file]] if row.file in self.inbox else []),
                      self.by_name.get(row.file, set()),
                      self._inbox_shas(self.inbox_base.get(row.file, [])),
                      self.by_base.get(row.file, set())):
            if level:
                shas = level
                break
        if not shas:
            return None, f"line {row.line}: unknown file {row.file!r} (not ingested, not in the inbox)"
        if len(shas) > 1:
            return None, (f"line {row.line}: {row.file!r} names {len(shas)} different files; "
                          "give its sha256 as well")
        sha = next(iter(shas))
        if row.sha256 is not None and row.sha256 != sha:
            return None, f"line {row.line}: {row.file!r} has sha256 {sha}, not {row.sha256}"
        if sha not in self.shas:  # a re-upload of bytes already ingested is not waiting
            self.waiting.add(sha)
        return sha, None

    def _inbox_shas(self, paths: list[Path]) -> set[str]:
        return {sha for sha in (self._sha_of(p) for p in paths) if sha is not None}


def check_manifest(path: Path, store: Store, *, inbox: Path | None = None,
                   home: Path | None = None) -> tuple[list[tuple[str, MetaRow]], int]:
    """Every row of a manifest matched to its file's hash, and how many are for files still
    waiting in the inbox; :class:`ManifestError` with every problem if there is any."""
    to_type = IncidentTypes(incident_terms(home))
    known = KnownFiles(store, inbox)
    problems: list[str] = []
    matched: list[tuple[str, MetaRow]] = []
    first_line: dict[str, int] = {}
    for line, raw in _records(path):
        row, found = check_row(line, raw, to_type)
        problems += found
        if row is None or (row.sha256 is not None and not _SHA.match(row.sha256)):
            continue
        sha, problem = known.resolve(row)
        if sha is None:
            problems.append(problem or f"line {line}: cannot be matched")
            continue
        if sha in first_line:
            problems.append(f"line {line}: the same file as line {first_line[sha]}")
            continue
        first_line[sha] = line
        matched.append((sha, row))
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"... and {len(problems) - SHOWN_PROBLEMS} more")
        raise ManifestError(f"{path.name}: {len(problems)} problem(s); nothing was imported",
                            shown)
    if not matched:
        raise ManifestError(f"{path.name}: no rows; nothing was imported")
    waiting = sum(1 for sha, _row in matched if sha in known.waiting)
    return matched, waiting


def import_manifest(path: Path, store: Store, *, actor: str, inbox: Path | None = None,
                    home: Path | None = None) -> ImportResult:
    """Check a manifest (:func:`check_manifest`) and store every row in one transaction."""
    try:
        matched, waiting = check_manifest(path, store, inbox=inbox, home=home)
    except ManifestError as exc:  # a refusal is recorded too: who tried to import what
        store.audit(actor=actor, action="metadata.import-refused", obj=path.name,
                    detail=str(exc).splitlines()[0][:500])
        raise
    rows = [{"sha256": sha, **{k: row.values.get(k) for k in row.given},
             "source": f"{path.name}:{row.line}"}
            for sha, row in matched]
    new, replaced = store.put_metadata(rows, actor=actor, manifest=path.name)
    return ImportResult(rows=len(rows), new=new, replaced=replaced, waiting=waiting)
