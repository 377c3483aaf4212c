"""The database: migrations match the models, results replace cleanly, the audit chain holds."""

from __future__ import annotations

from dataclasses import replace

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pipeline.flagging.windows import group_flags
from pipeline.records import Flag, Segment, Transcription, Word
from pipeline.store import Store, open_store
from pipeline.store.schema import Base


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    store = open_store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        if store.engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert diff == []
    open_store(store.url)  # migrating again is a no-op


def _flag(start: float, category: str = "harm.domestic_abuse") -> Flag:
    return Flag(category, "disclosure", start, start + 1, "he hit me", "he hit me", "r@1", "p", 5)


def test_saving_twice_replaces_rows(db_url: str) -> None:
    store = open_store(db_url)
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
    # A segment that does not say which model decoded it is stored as the transcript's.
    assert store.load_segments(media_id) == [replace(seg, model="tiny.en")]


def test_audit_chain_detects_tampering(db_url: str) -> None:
    store = open_store(db_url)
    for i in range(3):
        store.audit(actor="cli:test", action="export.flags", obj=f"x{i}")
    assert store.verify_audit_chain()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET actor = 'someone else' WHERE id = 2"))
    assert not store.verify_audit_chain()


def _rechain_with_sha256(store: Store, edit_id: int) -> None:
    """Edit a row and recompute its hash and every later one with plain SHA-256, as the
    chain was computed before it had a key (what a database administrator can do)."""
    import hashlib
    import json

    from sqlalchemy import select

    from pipeline import clock
    from pipeline.store import schema as db

    with store.session() as s:
        prev = "0" * 64
        for row in s.scalars(select(db.Audit).order_by(db.Audit.id)):
            if row.id == edit_id:
                row.actor = "someone else"
            if row.id >= edit_id:
                stamp = clock.as_utc(row.at).isoformat()
                payload = json.dumps([prev, stamp, row.actor, row.action, row.object, row.detail])
                row.prev_hash, row.row_hash = prev, hashlib.sha256(payload.encode()).hexdigest()
                s.flush()
            prev = row.row_hash


def test_audit_chain_detects_an_edit_rechained_after_it(db_url: str) -> None:
    """Issue 14: editing a row and recomputing the later hashes used to pass the check."""
    store = open_store(db_url)
    for i in range(4):
        store.audit(actor="cli:test", action="export.flags", obj=f"x{i}")
    _rechain_with_sha256(store, 2)
    assert not store.verify_audit_chain()


def test_old_sessions_and_sign_in_throttles_are_dropped(db_url: str, monkeypatch) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from pipeline import clock
    from pipeline.store import schema as db
    from pipeline.store.accounts import ThrottleKey, ThrottleRule

    store = open_store(db_url)
    user = store.add_user("alice", role="tip", password_hash="x")
    start = clock.now()
    store.create_session("a" * 64, user_id=user, csrf_token="c", expires_at=start + timedelta(hours=1))
    rule = ThrottleRule(free_failures=5)  # forgotten after a day without failures
    assert store.take_sign_in_attempt([ThrottleKey("name", "alice", "1.2.3.4", rule)]) is None
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=2))
    store.create_session("b" * 64, user_id=user, csrf_token="c", expires_at=start + timedelta(days=3))
    assert store.take_sign_in_attempt([ThrottleKey("name", "bob", "1.2.3.4", rule)]) is None
    with store.session() as s:
        assert list(s.scalars(select(db.WebSession.id))) == ["b" * 64]
        assert [(r.name, r.failures) for r in s.scalars(select(db.LoginThrottle))] == [("bob", 1)]


def _item(store, *, category: str = "harm.domestic_abuse") -> tuple[int, int]:
    media_id, _ = store.add_original(category[:1] * 63 + "0", size=1, store_path="s", inbox="/i",
                                     name=f"{category}.mp4", mtime_ns=1)
    seg = Segment(0.0, 3.0, "he hit me by the stairs", (Word(0.0, 1.0, "he", 0.9),))
    store.save_transcript(media_id, Transcription((seg,), "en", 3.0, 0.1), model="m",
                          model_sha256="x", settings={})
    flags = [_flag(1.0, category)]
    store.save_flags(media_id, flags, group_flags(flags))
    item = store.queue_page(_open(), offset=0, limit=10)[0]
    return media_id, next(r.id for r in item if r.media_id == media_id)


def _open():
    from pipeline.store.review import QueueFilter

    return QueueFilter()


def test_concurrent_claims_and_audit_appends(db_url: str) -> None:
    """Eight people claim one item at once, each through its own connection pool: one wins;
    their audit rows, written at the same moment, still chain."""
    import threading

    store = open_store(db_url)
    _, item = _item(store)
    users = [store.add_user(f"tip{i}", role="tip", password_hash="x") for i in range(8)]
    pools = {u: Store(db_url) for u in users}  # like one server process each
    for _round in range(5):
        barrier, results = threading.Barrier(len(users), timeout=60), {}

        def claim(user: int, barrier=barrier, results=results) -> None:
            barrier.wait()
            results[user] = pools[user].claim_item(item, user)
            pools[user].audit(actor=f"web:tip{user}", action="claim-attempt", obj=f"review_item:{item}")

        threads = [threading.Thread(target=claim, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [u for u, won in results.items() if won]
        assert len(results) == 8 and len(winners) == 1
        assert store.release_item(item, winners[0])
    assert store.audit_page(offset=0, limit=1, action="claim-attempt")[1] == 40
    assert store.verify_audit_chain()


def test_queue_and_annotation_search_queries(db_url: str) -> None:
    from pipeline.store.annotations import AnnotationQuery
    from pipeline.store.review import QueueFilter

    store = open_store(db_url)
    media_a, item_a = _item(store, category="harm.domestic_abuse")
    media_b, item_b = _item(store, category="practice.validate")
    tip = store.add_user("alice", role="tip", password_hash="x")
    rows, total = store.queue_page(QueueFilter(categories=("practice.validate",)), offset=0, limit=50)
    assert (total, [r.id for r in rows]) == (1, [item_b])
    assert rows[0].flags_by_family == {"disclosure": 1}
    assert store.claim_item(item_a, tip)
    mine = store.queue_page(QueueFilter(statuses=(), mine_user_id=tip), offset=0, limit=50)[0]
    assert [r.id for r in mine] == [item_a] and mine[0].holder == "alice"
    note = store.add_annotation(media_id=media_a, review_item_id=item_a, author_id=tip, start_s=0.0,
                                end_s=2.0, labels=["good practice"], rating=5,
                                feedback="100% calm_ and kind", teaching=True)
    assert store.search_annotations(AnnotationQuery()) == []  # a draft is not searchable
    assert store.finish_item(item_a, tip, status="reviewed")
    found = store.search_annotations(AnnotationQuery(text="STAIRS", teaching=True, min_rating=5))
    assert [r.annotation.id for r in found] == [note]
    assert [r.annotation.id for r in store.search_annotations(AnnotationQuery(text="0% calm_"))] == [note]
    assert store.search_annotations(AnnotationQuery(text="calm%kind")) == []  # % is literal
    assert [r.annotation.id for r in store.search_annotations(
        AnnotationQuery(category="harm.domestic_abuse"))] == [note]  # flagged in the moment
    assert store.search_annotations(AnnotationQuery(category="practice.validate")) == []
    assert media_b != media_a


def test_date_filters_are_utc_days_whatever_the_server_time_zone(db_url: str, monkeypatch) -> None:
    """An item ingested at 02:30 UTC belongs to that UTC day, on a server set to New York time too
    (where it is still the day before)."""
    from datetime import UTC, date, datetime

    from pipeline import clock
    from pipeline.store.annotations import AnnotationQuery
    from pipeline.store.review import QueueFilter

    if db_url.startswith("postgresql"):
        sep = "&" if "?" in db_url else "?"
        db_url = f"{db_url}{sep}options=-c%20TimeZone%3DAmerica/New_York"
    late = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: late)
    store = open_store(db_url)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar() == "America/New_York"
    media_id, item = _item(store)
    tip = store.add_user("alice", role="tip", password_hash="x")
    assert store.claim_item(item, tip)
    store.add_annotation(media_id=media_id, review_item_id=item, author_id=tip, start_s=0.0,
                         end_s=2.0, labels=["good practice"], rating=4, feedback="calm", teaching=False)
    assert store.finish_item(item, tip, status="reviewed")

    def queue(**days: date) -> list[int]:
        flt = QueueFilter(statuses=(), **days)
        return [r.id for r in store.queue_page(flt, offset=0, limit=10)[0]]

    def submitted(**days: date) -> int:
        return len(store.search_annotations(AnnotationQuery(**days)))

    the_day, next_day, day_before = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 27)
    assert queue(date_from=the_day, date_to=the_day) == [item]
    assert queue(date_from=next_day) == [] and queue(date_to=day_before) == []
    assert submitted(submitted_from=the_day, submitted_to=the_day) == 1
    assert submitted(submitted_from=next_day) == 0 and submitted(submitted_to=day_before) == 0
    store.engine.dispose()


def test_a_submitted_annotation_never_changes_and_a_correction_is_a_new_version(db_url: str) -> None:
    """Issue 14: a submitted annotation could be edited and deleted after the item was reviewed."""
    import threading

    import pytest

    from pipeline.errors import ConflictError
    from pipeline.store.annotations import AnnotationQuery

    store = open_store(db_url)
    media_id, item = _item(store)
    tip = store.add_user("alice", role="tip", password_hash="x")
    assert store.claim_item(item, tip)
    fields = {"start_s": 0.0, "end_s": 2.0, "labels": ["good practice"], "rating": 4,
              "feedback": "calm", "teaching": True}
    note = store.add_annotation(media_id=media_id, review_item_id=item, author_id=tip, **fields)
    store.update_annotation(note, **{**fields, "feedback": "calm and kind"})  # a draft changes
    assert store.finish_item(item, tip, status="reviewed")
    with pytest.raises(ConflictError, match=rf"annotation {note} was submitted on \S+ and cannot be "
                                            "changed: save a correction instead"):
        store.update_annotation(note, **{**fields, "feedback": "rewritten"})
    with pytest.raises(ConflictError, match="cannot be deleted"):
        store.delete_annotation(note)
    assert store.annotation(note).feedback == "calm and kind"

    # Two corrections of one version at once, each through its own pool: exactly one is stored.
    pools = [Store(db_url) for _ in range(4)]
    barrier, results = threading.Barrier(len(pools), timeout=60), {}

    def correct(n: int) -> None:
        barrier.wait()
        try:
            results[n] = pools[n].correct_annotation(note, **{**fields, "feedback": f"version {n}"})
        except ConflictError as exc:
            results[n] = str(exc)

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(len(pools))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [r for r in results.values() if isinstance(r, int)]
    assert len(stored) == 1, results
    newer = stored[0]
    assert sorted(r for r in results.values() if isinstance(r, str)) == [
        f"annotation {note} was corrected already by annotation {newer}: correct that one"] * 3
    old, new = store.annotation(note), store.annotation(newer)
    assert (old.feedback, old.superseded_at is not None, old.supersedes_id) == ("calm and kind", True, None)
    assert (new.supersedes_id, new.submitted_at is not None, new.superseded_at) == (note, True, None)
    assert store.correction_of(note) == newer
    # Trainers, the item page and the count see the current version only.
    assert [r.annotation.id for r in store.search_annotations(AnnotationQuery())] == [newer]
    assert [r.annotation.id for r in store.item_annotations(item, viewer_id=tip)] == [newer]
    assert store.count_item_annotations(item, viewer_id=tip) == 1


def test_releasing_every_claim_of_an_account(db_url: str) -> None:
    store = open_store(db_url)
    _, first = _item(store, category="harm.domestic_abuse")
    _, second = _item(store, category="practice.validate")
    _, third = _item(store, category="distress")
    alice = store.add_user("alice", role="tip", password_hash="x")
    bob = store.add_user("bob", role="tip", password_hash="x")
    assert store.claim_item(first, alice) and store.claim_item(second, alice)
    assert store.claim_item(third, bob)
    assert [(c.item_id, c.holder) for c in store.claimed_items()] == [
        (first, "alice"), (second, "alice"), (third, "bob")]
    assert store.release_claims_of(alice) == [first, second]
    assert store.release_claims_of(alice) == []
    assert [(c.item_id, c.holder) for c in store.claimed_items()] == [(third, "bob")]
    assert store.item_view(first).item.status == "new"


def test_text_with_a_nul_is_refused_on_every_database(db_url: str) -> None:
    """PostgreSQL cannot store a NUL (its driver fails unexpectedly) where SQLite keeps it:
    both refuse it as a bad request, and nothing is stored."""
    import pytest

    from pipeline.errors import InvalidRequestError

    store = open_store(db_url)
    media_id, item = _item(store)
    with pytest.raises(InvalidRequestError, match=r"text may not contain the NUL character"):
        store.add_annotation(media_id=media_id, review_item_id=item, author_id=None, start_s=0.0,
                             end_s=1.0, labels=["distress"], rating=None, feedback="a\x00b",
                             teaching=False)
    assert store.count_item_annotations(item, viewer_id=0) == 0


def test_the_audit_filter_by_person_and_day(db_url: str, monkeypatch) -> None:
    """A plain name finds every row the person is behind, however the row names them, and not
    another person whose name ends the same way; days are UTC and both ends are included; a
    name with a wildcard character matches only itself (on SQLite and PostgreSQL alike)."""
    from datetime import UTC, date, datetime

    from pipeline import clock

    store = open_store(db_url)
    rows = [("web:alice", datetime(2026, 11, 26, 23, 59, 59)), ("cli:alice", datetime(2026, 11, 27, 0, 0)),
            ("cli:root as alice", datetime(2026, 11, 28, 12, 0)), ("web:malice", datetime(2026, 11, 27, 9, 0)),
            ("web:a_ice", datetime(2026, 11, 27, 10, 0)), ("alice", datetime(2026, 11, 29, 0, 0))]
    for actor, at in rows:
        monkeypatch.setattr(clock, "now", lambda at=at: at.replace(tzinfo=UTC))
        store.audit(actor=actor, action="view", obj="queue")

    def actors(**kw: object) -> list[str]:
        found, total = store.audit_page(offset=0, limit=50, **kw)
        assert total == len(found)
        return sorted(r.actor for r in found)

    assert actors(who="alice") == ["alice", "cli:alice", "cli:root as alice", "web:alice"]
    assert actors(who="web:alice") == ["web:alice"]
    assert actors(who="a_ice") == ["web:a_ice"]
    assert actors(who="alice", since=date(2026, 11, 27), until=date(2026, 11, 28)) == [
        "cli:alice", "cli:root as alice"]
    assert actors(since=date(2026, 11, 29)) == ["alice"]
    store.engine.dispose()
