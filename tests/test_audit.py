"""The audit log's defences (issue 14 point 3): rows signed with a key kept outside the
database, anchors written where the database administrator cannot rewrite them, and
`bwv audit verify`, which finds every rewrite an administrator without the key can make."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from conftest import ROOT
from pipeline import clock
from pipeline.cli import cli
from pipeline.errors import ConfigError
from pipeline.store import Store, open_store
from pipeline.store import schema as db
from pipeline.store.audit_key import ANCHORS_ENV, KEY_ENV, load_audit_key

KEY_A = "a1" * 32
KEY_B = "b2" * 32


def _store(db_url: str, home: Path) -> Store:
    return open_store(db_url, home=home)


def _write(store: Store, n: int) -> None:
    for i in range(n):
        store.audit(actor="cli:test", action="export.flags", obj=f"x{i}", detail=f"row {i}")


def _rechain_with_sha256(store: Store, *, edit_id: int, unsign: bool = False) -> None:
    """What an administrator without the key can do: change a row, then recompute its hash
    and every later one the way the chain was computed before it had a key (plain SHA-256).
    With ``unsign``, every row is also made to look as if written before the key existed."""
    with store.session() as s:
        prev = "0" * 64
        for row in s.scalars(select(db.Audit).order_by(db.Audit.id)):
            if row.id == edit_id:
                row.actor = "someone else"
            if unsign:
                row.key_id = None
            if row.id >= edit_id or unsign:
                stamp = clock.as_utc(row.at).isoformat()
                payload = json.dumps([prev, stamp, row.actor, row.action, row.object, row.detail])
                row.prev_hash, row.row_hash = prev, hashlib.sha256(payload.encode()).hexdigest()
                s.flush()
            prev = row.row_hash


def _sql(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement))


def _notes(home: Path) -> list[str]:
    return [json.loads(line)["note"] for line in (home / "audit.anchors").read_text().splitlines()]


# --- rewriting rows --------------------------------------------------------------------------


def test_an_edited_row_rechained_with_plain_sha256_is_found(db_url: str, tmp_path: Path) -> None:
    """The old attack: edit a row, re-chain the rows after it, and the check said "intact"."""
    store = _store(db_url, tmp_path / "home")
    _write(store, 5)
    assert store.verify_audit_chain()
    _rechain_with_sha256(store, edit_id=3)
    assert not store.verify_audit_chain()
    verdict = store.verify_audit()
    assert not verdict.intact
    assert verdict.problems[0] == (
        "row 3: changed after it was written (its signature does not match its contents)")


def test_rows_made_to_look_older_than_the_key_are_found(db_url: str, tmp_path: Path) -> None:
    """Stripping every row of its key and re-chaining them all, so the log looks as if it
    was written before the key existed, does not pass either: the first signed row left
    an anchor."""
    home = tmp_path / "home"
    store = _store(db_url, home)
    _write(store, 4)
    assert _notes(home) == ["audit key adopted"]
    _rechain_with_sha256(store, edit_id=2, unsign=True)
    verdict = store.verify_audit()
    at = json.loads((home / "audit.anchors").read_text())["at"]
    assert verdict.problems == (
        f"anchor line 1 ({at}): row 1 of the log is not the row anchored then (id 1): "
        "rows up to it were rewritten",)


def test_unsigned_rows_after_signed_ones_are_found(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 4)
    _rechain_with_sha256(store, edit_id=3)
    _sql(store, "UPDATE audit SET key_id = NULL WHERE id >= 3")
    assert store.verify_audit().problems == tuple(
        f"row {n}: not signed with the audit key, but rows before it are: written without the "
        "key, or re-chained with plain SHA-256" for n in (3, 4))


def test_an_edited_row_is_named(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 5)
    _sql(store, "UPDATE audit SET detail = 'nothing to see' WHERE id = 3")
    verdict = store.verify_audit()
    assert verdict.problems == (
        "row 3: changed after it was written (its signature does not match its contents)",)
    assert verdict.summary() == "BROKEN: 1 problem in 5 rows"


def test_a_row_deleted_from_the_middle_is_found(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 6)
    _sql(store, "DELETE FROM audit WHERE id IN (3, 4)")
    assert store.verify_audit().problems == ("row 5: does not follow row 2: rows 3-4 are missing",)


def test_the_first_rows_deleted_are_found(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 3)
    (tmp_path / "home" / "audit.anchors").unlink()  # only the chain itself to go on
    _sql(store, "DELETE FROM audit WHERE id = 1")
    assert store.verify_audit().problems == (
        "row 2: is the first row of the log, but does not start the chain: row 1 is missing",)


# --- anchors: truncation, deletion, a tampered anchor ----------------------------------------


def test_deleting_the_last_rows_is_found_by_the_anchor(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 5)
    anchor = store.anchor_audit(actor="cli:test", note="test")
    assert (anchor.line, anchor.rows, anchor.head_id) == (2, 5, 5)
    assert store.verify_audit().intact
    _sql(store, "DELETE FROM audit WHERE id >= 4")  # the chain of rows 1-3 still holds
    assert store.verify_audit_chain()
    assert store.verify_audit().problems == (
        f"anchor line 2 ({anchor.at}): the log has 3 rows, fewer than the 5 it had then: "
        "rows were deleted",)


def test_deleting_every_row_after_the_anchor_is_found(db_url: str, tmp_path: Path) -> None:
    """An attacker's finding: deleting back to exactly the anchored count passed as intact.
    Every anchor is followed by the row that records it, so that row is missing too."""
    store = _store(db_url, tmp_path / "home")
    _write(store, 5)
    anchor = store.anchor_audit(actor="cli:test", note="nightly")
    _write(store, 4)
    assert store.verify_audit().intact
    _sql(store, f"DELETE FROM audit WHERE id > {anchor.head_id}")
    assert store.verify_audit_chain()
    assert store.verify_audit().problems == (
        f"anchor line 2 ({anchor.at}): the row recording this anchor, written just after row 5, "
        "is missing: rows written after the anchor were deleted",)


def test_deleting_every_row_is_found(db_url: str, tmp_path: Path) -> None:
    store = _store(db_url, tmp_path / "home")
    _write(store, 3)
    anchor = store.anchor_audit(actor="cli:test", note="nightly")
    _sql(store, "DELETE FROM audit")
    assert store.verify_audit_chain()  # an empty chain is a chain
    assert store.verify_audit().problems == (
        f"anchor line 1 ({anchor.at}): the log has 0 rows, fewer than the 1 it had then: "
        "rows were deleted",
        f"anchor line 2 ({anchor.at}): the log has 0 rows, fewer than the 3 it had then: "
        "rows were deleted",
    )


def test_rewriting_history_before_an_anchor_is_found_even_with_every_row_resigned(
        db_url: str, tmp_path: Path) -> None:
    """Someone with the key and the database can re-sign rows, but not the anchors' heads."""
    from pipeline.store.audit_key import GENESIS, signed_hash

    home = tmp_path / "home"
    store = _store(db_url, home)
    _write(store, 4)
    anchor = store.anchor_audit(actor="cli:test", note="nightly")
    key = load_audit_key(home, create=False)
    with store.session() as s:
        prev = GENESIS
        for row in s.scalars(select(db.Audit).order_by(db.Audit.id)):
            if row.id == 2:
                row.detail = "rewritten"
            row.prev_hash = prev
            row.row_hash = signed_hash(key, prev, row.at, row.actor, row.action, row.object,
                                       row.detail)
            s.flush()
            prev = row.row_hash
    assert store.verify_audit_chain()
    assert store.verify_audit().problems == (
        f"anchor line 2 ({anchor.at}): row 4 of the log is not the row anchored then (id 4): "
        "rows up to it were rewritten",)


def test_a_tampered_anchor_line_is_found(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = _store(db_url, home)
    _write(store, 2)
    first = store.anchor_audit(actor="cli:test", note="first")
    _write(store, 2)
    store.anchor_audit(actor="cli:test", note="second")
    anchors = home / "audit.anchors"
    lines = anchors.read_text().splitlines()
    edited = json.loads(lines[first.line - 1])
    edited["rows"] = 1  # an administrator hiding a later deletion
    lines[first.line - 1] = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    anchors.write_text("\n".join(lines) + "\n")
    assert store.verify_audit().problems[0] == (
        f"anchor line {first.line}: its MAC does not match: the line was changed, or written "
        "with another key")


def test_a_removed_anchor_line_is_found(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = _store(db_url, home)
    for note in ("one", "two", "three"):
        _write(store, 1)
        store.anchor_audit(actor="cli:test", note=note)
    anchors = home / "audit.anchors"
    lines = anchors.read_text().splitlines()
    assert _notes(home) == ["audit key adopted", "one", "two", "three"]
    anchors.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    assert store.verify_audit().problems[0] == (
        "anchor line 3: does not follow line 2: a line was removed or changed")


def test_a_replaced_anchors_file_is_found_from_the_log(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = _store(db_url, home)
    _write(store, 2)
    anchor = store.anchor_audit(actor="cli:test", note="nightly")
    (home / "audit.anchors").unlink()
    path = home / "audit.anchors"
    assert store.verify_audit().problems == (
        f"row 3 records an anchor of 2 rows written to {path} at {anchor.at} that {path} "
        "does not hold: the anchors file was truncated or replaced",)


def test_anchors_go_to_the_file_bwv_audit_anchors_names(db_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "worm" / "bwv.anchors"
    elsewhere.parent.mkdir()
    monkeypatch.setenv(ANCHORS_ENV, str(elsewhere))
    store = _store(db_url, tmp_path / "home")
    _write(store, 1)
    store.anchor_audit(actor="cli:test", note="nightly")
    assert not (tmp_path / "home" / "audit.anchors").exists()
    assert len(elsewhere.read_text().splitlines()) == 2
    assert store.verify_audit().intact


def test_an_intact_log_says_so_in_one_line(db_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 27, 1, 30, tzinfo=UTC))
    store = _store(db_url, tmp_path / "home")
    assert store.verify_audit().summary() == (
        f"intact: 0 rows, no anchor yet in {tmp_path / 'home' / 'audit.anchors'}")
    _write(store, 3)
    store.anchor_audit(actor="cli:test", note="nightly")
    _write(store, 1)
    assert store.verify_audit().summary() == (
        "intact: 5 rows, last anchor 2026-11-27T01:30:00Z at 3 rows (row 3)")


# --- the key ---------------------------------------------------------------------------------


def test_a_key_file_is_made_on_first_use_readable_by_its_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    home = tmp_path / "home"
    store = _store(f"sqlite:///{tmp_path / 'db.sqlite3'}", home)
    _write(store, 1)
    key_file = home / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert load_audit_key(home, create=False).source == str(key_file)
    assert store.verify_audit().intact


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    (home / "audit.key").write_text(KEY_A + "\n")
    os.chmod(home / "audit.key", 0o644)
    store = _store(f"sqlite:///{tmp_path / 'db.sqlite3'}", home)
    with pytest.raises(ConfigError) as err:
        _write(store, 1)
    assert str(err.value) == (
        f"{home / 'audit.key'}: the audit key is readable by others (mode 0644); "
        f"run: chmod 600 {home / 'audit.key'}")


@pytest.mark.parametrize("value,message", [
    ("abcd", "BWV_AUDIT_KEY: the audit key is 2 bytes; use at least 32 random bytes, as hex or "
             "base64 (for example: openssl rand -hex 32)"),
    ("not a key!", "BWV_AUDIT_KEY: the audit key is not hex or base64; use at least 32 random "
                   "bytes, as hex or base64 (for example: openssl rand -hex 32)"),
])
def test_a_bad_key_in_the_environment_is_one_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(ConfigError) as err:
        load_audit_key(tmp_path, create=True)
    assert str(err.value) == message


def _key_id(hex_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, hex_key)
    return load_audit_key(tmp_path, create=False).key_id


def test_the_key_may_be_given_as_base64(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    as_hex = _key_id(KEY_A, tmp_path, monkeypatch)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(bytes.fromhex(KEY_A)).decode())
    assert load_audit_key(tmp_path, create=False).key_id == as_hex


def test_a_missing_key_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError) as err:
        load_audit_key(tmp_path / "home", create=False)
    assert str(err.value) == (
        f"no audit key: BWV_AUDIT_KEY is not set and {tmp_path / 'home' / 'audit.key'} does not "
        "exist; set BWV_AUDIT_KEY or restore the key file the audit log was signed with")


def test_the_wrong_key_is_named_when_writing_and_when_checking(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _key_id(KEY_A, tmp_path, monkeypatch)
    store = _store(db_url, tmp_path / "home")
    _write(store, 2)
    b = _key_id(KEY_B, tmp_path, monkeypatch)
    other = Store(db_url, home=tmp_path / "home")
    with pytest.raises(ConfigError) as err:
        _write(other, 1)
    assert str(err.value) == (
        f"the audit log is signed with audit key {a}, but this key (BWV_AUDIT_KEY) is {b}: set "
        "BWV_AUDIT_KEY, or restore the key file, to the key the log was signed with")
    assert other.verify_audit().problems == (
        f"row 1: signed with audit key {a}, but this key (BWV_AUDIT_KEY) is {b}; check it "
        "with the key the log was signed with",
        f"anchor line 1: written with audit key {a}, but this key (BWV_AUDIT_KEY) is {b}",
    )


# --- a database from before the key ----------------------------------------------------------


def _legacy(tmp_path: Path) -> tuple[Store, Path]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(ROOT / "tests" / "data" / "migrations" / "layout1_rev0004.sqlite3",
                    home / "bwv.sqlite3")
    return open_store(f"sqlite:///{home / 'bwv.sqlite3'}", home=home), home


def _count(store: Store) -> int:
    with store.session() as s:
        return len(list(s.scalars(select(db.Audit.id))))


def test_rows_from_before_the_key_are_sealed_by_the_first_signed_row(tmp_path: Path) -> None:
    store, home = _legacy(tmp_path)
    unsigned = _count(store)
    assert unsigned > 0
    verdict = store.verify_audit()
    assert verdict.intact and verdict.unsigned_rows == unsigned
    assert verdict.summary() == (
        f"intact: {unsigned} rows ({unsigned} written before the audit key, not yet sealed: "
        f"the next audited action seals them), no anchor yet in {home / 'audit.anchors'}")
    _write(store, 1)
    with store.session() as s:
        seal, last = list(s.scalars(select(db.Audit).order_by(db.Audit.id.desc()).limit(2)))[::-1]
    assert seal.action == "audit-key-adopted" and seal.key_id is not None
    assert json.loads(seal.detail or "") == {
        "unsigned_rows": unsigned, "unsigned_head_id": seal.id - 1,
        "unsigned_head_hash": seal.prev_hash, "unsigned_chain": "intact"}
    assert last.prev_hash == seal.row_hash
    assert _notes(home) == ["audit key adopted"]
    verdict = store.verify_audit()
    assert verdict.intact
    assert verdict.summary().startswith(
        f"intact: {unsigned + 2} rows ({unsigned} written before the audit key, sealed by row "
        f"{seal.id}), last anchor ")


def test_rows_from_before_the_key_cannot_be_rewritten_once_sealed(tmp_path: Path) -> None:
    store, _home = _legacy(tmp_path)
    _write(store, 1)
    with store.session() as s:  # re-chain only the unsigned rows, up to the seal
        rows = list(s.scalars(select(db.Audit).where(db.Audit.key_id.is_(None))
                              .order_by(db.Audit.id)))
        rows[0].detail = "rewritten"
        prev = "0" * 64
        for row in rows:
            stamp = clock.as_utc(row.at).isoformat()
            payload = json.dumps([prev, stamp, row.actor, row.action, row.object, row.detail])
            row.prev_hash, row.row_hash = prev, hashlib.sha256(payload.encode()).hexdigest()
            s.flush()
            prev = row.row_hash
    seal_id = rows[-1].id + 1
    assert store.verify_audit().problems == (
        f"row {seal_id}: does not follow row {seal_id - 1}: a row before it was changed or "
        "removed, or the chain was re-linked",)


# --- the command line ------------------------------------------------------------------------


def _bwv(home: Path, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_bwv_audit_verify_and_anchor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 27, 1, 30, tzinfo=UTC))
    home = tmp_path / "home"
    home.mkdir()
    store = _store(f"sqlite:///{home / 'bwv.sqlite3'}", home)
    _write(store, 3)
    result = _bwv(home, "audit", "anchor")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"anchored the audit log: 3 rows, head row 3, in {home / 'audit.anchors'}\n")
    result = _bwv(home, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output == "intact: 4 rows, last anchor 2026-11-27T01:30:00Z at 3 rows (row 3)\n"

    _sql(store, "DELETE FROM audit WHERE id >= 3")
    result = _bwv(home, "audit", "verify")
    assert result.exit_code == 2
    assert result.output == (
        "BROKEN: 1 problem in 2 rows\n"
        "  anchor line 2 (2026-11-27T01:30:00Z): the log has 2 rows, fewer than the 3 it had "
        "then: rows were deleted\n")


def test_bwv_audit_verify_without_a_key_is_one_clear_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    home = tmp_path / "home"
    result = _bwv(home, "audit", "verify")
    assert result.exit_code == 2
    assert result.output == (
        f"error: no audit key: BWV_AUDIT_KEY is not set and {home / 'audit.key'} does not "
        "exist; set BWV_AUDIT_KEY or restore the key file the audit log was signed with\n")
    assert not (home / "audit.key").exists()


def test_bwv_report_and_run_leave_an_anchor(tmp_path: Path) -> None:
    home = tmp_path / "home"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert _bwv(home, "-q", "report", "-o", str(tmp_path / "out")).exit_code == 0
    assert _notes(home) == ["audit key adopted", "bwv report"]
    result = _bwv(home, "-q", "run", str(inbox), "--settle-seconds", "0")
    assert result.exit_code == 0, result.output
    assert _notes(home) == ["audit key adopted", "bwv report", "bwv run"]
    assert _bwv(home, "audit", "verify").exit_code == 0


def test_the_review_app_anchors_the_log_while_it_serves(db_url: str, tmp_path: Path) -> None:
    """``bwv serve`` anchors on its own (every 15 minutes with new rows, and when it stops), so
    web activity is not left unanchored until the next nightly run."""
    import threading

    from reviewers.app import ANCHOR_EVERY_S, anchor_while_serving

    store = _store(db_url, tmp_path / "home")
    _write(store, 4)
    stop = threading.Event()
    stop.set()  # one round: the anchor written when the app stops
    anchor_while_serving(store, stop, every_s=0.01)
    verdict = store.verify_audit()
    assert verdict.intact and verdict.last_anchor is not None and verdict.last_anchor.rows == 4
    assert verdict.rows == 5  # the anchor is recorded in the log too
    assert ANCHOR_EVERY_S == 900.0
    _sql(store, "DELETE FROM audit WHERE id > 4")  # the web's rows since: gone
    assert not store.verify_audit().intact
