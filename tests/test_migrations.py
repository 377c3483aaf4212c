"""Instances created by the earlier layout's code upgrade with the migrations where they now live.

The databases in tests/data/migrations/ were made by bwv before `pipeline/` was split into
rooms (tests/data/README.md says which commit made each); opening one with today's store
runs Alembic from `pipeline/store/migrations/` and must keep every row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from conftest import ROOT
from pipeline.store import Store, exports, open_store
from pipeline.store.annotations import AnnotationQuery

FIXTURES = ROOT / "tests" / "data" / "migrations"
#: Tables that migration 0004 added.
ADDED_BY_0004 = {"job", "batch_run", "legal_hold", "tombstone"}


def _head() -> str:
    scripts = ScriptDirectory(str(ROOT / "pipeline" / "store" / "migrations"))
    head = scripts.get_current_head()
    assert head is not None
    return head


def _version(store: Store) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def _sqlite_copy(name: str, tmp_path: Path) -> str:
    db = tmp_path / name
    shutil.copyfile(FIXTURES / name, db)
    return f"sqlite:///{db}"


def _assert_readable(store: Store, *, media: int, segments: int, flags: int) -> None:
    assert _version(store) == _head()
    assert ADDED_BY_0004 <= set(inspect(store.engine).get_table_names())
    counts = store.counts()
    assert (counts["media"], counts["segment"], counts["flag"]) == (media, segments, flags)
    rows = list(exports.flag_rows(store))
    assert len(rows) == flags
    assert {r["source"] for r in rows} <= {"02_missing_daughter.mp4", "05_street_disturbance.mp4"}
    assert all(len(r["sha256"]) == 64 and r["end"] >= r["start"] for r in rows)
    assert store.user_by_name("tip1") is not None
    assert store.verify_audit_chain()


def test_a_sqlite_instance_at_0003_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    url = _sqlite_copy("layout1_rev0003.sqlite3", tmp_path)
    before = create_engine(url)
    with before.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
        segments = conn.execute(text("SELECT count(*) FROM segment")).scalar_one()
        flags = conn.execute(text("SELECT count(*) FROM flag")).scalar_one()
    before.dispose()
    store = open_store(url)
    _assert_readable(store, media=2, segments=segments, flags=flags)
    # Files the earlier code finished stay finished: the next batch has nothing to redo.
    assert [r["state"] for r in exports.media_rows(store)] == ["done", "done"]
    assert store.pending_media() == []
    store.engine.dispose()


def test_a_sqlite_instance_at_0004_opens_with_its_annotations_holds_and_audit(tmp_path: Path) -> None:
    store = open_store(_sqlite_copy("layout1_rev0004.sqlite3", tmp_path))
    _assert_readable(store, media=2, segments=20, flags=7)
    found = store.search_annotations(AnnotationQuery(teaching=True))
    assert [(r.author, r.labels, r.annotation.feedback) for r in found] == [
        ("tip1", ["good practice"], "Calm, open questions.")]
    assert [h.reason for h in store.legal_holds()] == ["fixture hold"]
    assert [a.action for a in store.audit_page(offset=0, limit=10, action="fixture")[0]] == ["fixture"]
    store.engine.dispose()


def test_a_postgresql_instance_made_by_the_earlier_layout_upgrades(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # an instance restored from the earlier layout's dump
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute((FIXTURES / "layout1_rev0004.postgres.sql").read_text())
        raw.commit()
        with raw.cursor() as cur:  # pg_dump leaves the session's search_path empty
            cur.execute("SET search_path TO public")
    finally:
        raw.close()
    engine.dispose()
    store = open_store(postgres_url)
    _assert_readable(store, media=2, segments=20, flags=7)
    store.engine.dispose()


@pytest.mark.parametrize("name", ["layout1_rev0003.sqlite3", "layout1_rev0004.sqlite3"])
def test_the_cli_reads_an_upgraded_instance(tmp_path: Path, name: str) -> None:
    from conftest import bwv

    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(FIXTURES / name, home / "bwv.sqlite3")
    out = bwv(home, "export", "media", "--format", "csv").stdout.splitlines()
    assert out[0].startswith("source,sha256,state,reason,duration,names")
    assert sorted(line.split(",")[0] for line in out[1:]) == [
        "02_missing_daughter.mp4", "05_street_disturbance.mp4"]


def _open_at_once(url: str, processes: int = 4) -> list[str]:
    """Open the same new database from several processes at the same moment; their errors."""
    import subprocess
    import sys
    import time

    start = time.time() + 2.0
    code = ("import sys, time; from pipeline.store import open_store; "
            f"time.sleep(max(0.0, {start!r} - time.time())); open_store(sys.argv[1])")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    errors = []
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        if proc.returncode:
            errors.append(err.strip().splitlines()[-1])
    return errors


def test_processes_that_open_a_new_sqlite_instance_at_once_take_turns(tmp_path: Path) -> None:
    """`bwv watch` and a test (or `bwv serve`) opening a fresh instance together once failed
    with "table media already exists": each ran the first migration."""
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'try{attempt}.sqlite3'}"
        assert _open_at_once(url) == []
        store = Store(url)
        assert _version(store) == _head()
        store.engine.dispose()


def test_processes_that_open_a_new_postgresql_instance_at_once_take_turns(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    for _attempt in range(3):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        assert _open_at_once(postgres_url) == []
    engine.dispose()
    store = Store(postgres_url)
    assert _version(store) == _head()
    store.engine.dispose()


def test_annotations_written_before_versions_stay_current_and_can_be_corrected(tmp_path: Path) -> None:
    """Migration 0007: a submitted annotation from before is the current version of itself;
    correcting it keeps it; the migration goes down and up again."""
    from alembic import command
    from alembic.config import Config

    url = _sqlite_copy("layout1_rev0004.sqlite3", tmp_path)
    store = open_store(url)
    [row] = store.search_annotations(AnnotationQuery(teaching=True))
    old = row.annotation
    assert (old.supersedes_id, old.superseded_at) == (None, None)
    newer = store.correct_annotation(old.id, start_s=old.start_s, end_s=old.end_s, labels=row.labels,
                                     rating=old.rating, feedback="Calm, open questions; good pace.",
                                     teaching=True)
    assert [r.annotation.id for r in store.search_annotations(AnnotationQuery(teaching=True))] == [newer]
    assert store.annotation(old.id).feedback == "Calm, open questions."
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "pipeline" / "store" / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert {"supersedes_id", "superseded_at"}.isdisjoint(
        c["name"] for c in inspect(store.engine).get_columns("annotation"))
    store.engine.dispose()
    store = open_store(url)
    assert _version(store) == _head()
    assert len(store.search_annotations(AnnotationQuery(teaching=True))) == 2  # versions forgotten
    store.engine.dispose()


def test_sign_in_attempts_give_way_to_throttles_and_back(db_url: str) -> None:
    """Migration 0006, on SQLite and PostgreSQL: ``login_attempt`` (read, then written: a
    race) makes way for ``login_throttle``; the migration goes down and up again."""
    from alembic import command
    from alembic.config import Config

    from pipeline.store.accounts import ThrottleKey, ThrottleRule

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "pipeline" / "store" / "migrations"))
    engine = create_engine(db_url)

    def migrate(to: str, *, down: bool = False) -> set[str]:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, to)
        return set(inspect(engine).get_table_names())

    assert "login_attempt" in migrate("0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO login_attempt (name, client, ok, at) "
                          "VALUES ('alice', '192.0.2.1', :no, '2026-12-01 10:00:00+00')"),
                     {"no": False})
    tables = migrate("0006")
    assert "login_throttle" in tables and "login_attempt" not in tables
    tables = migrate("0005", down=True)
    assert "login_attempt" in tables and "login_throttle" not in tables
    engine.dispose()
    store = open_store(db_url)
    assert _version(store) == _head()
    key = ThrottleKey("name", "alice", "192.0.2.1", ThrottleRule(free_failures=1))
    assert store.take_sign_in_attempt([key]) is None
    assert store.take_sign_in_attempt([key]).failures == 1  # waits
    store.engine.dispose()
