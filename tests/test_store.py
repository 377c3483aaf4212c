"""The database: migrations match the models, results replace cleanly, the audit chain holds."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pipeline.flag import Flag
from pipeline.queue import group_flags
from pipeline.schema import Base
from pipeline.store import open_store
from pipeline.transcribe import Segment, Transcription, Word


def test_migrations_create_exactly_the_models(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        mode = conn.execute(text("PRAGMA journal_mode")).scalar()
    assert diff == []
    assert mode == "wal"
    open_store(store.url)  # migrating again is a no-op


def _flag(start: float, category: str = "harm.domestic_abuse") -> Flag:
    return Flag(category, "disclosure", start, start + 1, "he hit me", "he hit me", "r@1", "p", 5)


def test_saving_twice_replaces_rows(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    media_id, created = store.add_original("a" * 64, size=1, store_path="s", inbox="/i", name="n", mtime_ns=1)
    assert created
    assert store.add_original("a" * 64, size=1, store_path="s", inbox="/i", name="m", mtime_ns=1) == (media_id, False)
    seg = Segment(0.0, 2.0, "he hit me", (Word(0.0, 0.5, "he", 0.9), Word(0.5, 1.0, "hit", 0.9)))
    result = Transcription((seg,), "en", 2.0, 0.1)
    for _ in range(2):
        store.save_transcript(media_id, result, model="tiny.en", model_sha256="x", settings={})
        flags = [_flag(1.0), _flag(100.0)]
        store.save_flags(media_id, flags, group_flags(flags))
    counts = store.counts()
    assert counts == {"media": 1, "media_name": 2, "segment": 1, "flag": 2, "review_item": 2}
    assert store.load_segments(media_id) == [seg]


def test_audit_chain_detects_tampering(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for i in range(3):
        store.audit(actor="cli:test", action="export.flags", obj=f"x{i}")
    assert store.verify_audit_chain()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET actor = 'someone else' WHERE id = 2"))
    assert not store.verify_audit_chain()


def test_old_sessions_and_sign_in_attempts_are_dropped(tmp_path: Path, monkeypatch) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from pipeline import clock
    from pipeline import schema as db

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    user = store.add_user("alice", role="tip", password_hash="x")
    start = clock.now()
    store.create_session("a" * 64, user_id=user, csrf_token="c", expires_at=start + timedelta(hours=1))
    store.record_login_attempt("alice", client="1.2.3.4", ok=False)
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=2))
    store.create_session("b" * 64, user_id=user, csrf_token="c", expires_at=start + timedelta(days=3))
    store.record_login_attempt("alice", client="1.2.3.4", ok=True)
    with store.session() as s:
        assert list(s.scalars(select(db.WebSession.id))) == ["b" * 64]
        assert s.scalar(select(func.count()).select_from(db.LoginAttempt)) == 1
