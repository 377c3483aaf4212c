"""Routine samples (issue 18, part 4): each night a share of the footage the rubric did not
flag goes into the queue, spread fairly across officers, over a simulated month with a frozen
clock; TIPs' missed moments on them are reported apart by ``bwv rubric eval --from-reviews``."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from conftest import bwv, copy_into
from pipeline import clock
from pipeline.errors import InvalidRequestError
from pipeline.review.routine import LONGEST_S, choose, take_routine_samples
from pipeline.store import Store, open_store
from pipeline.store import schema as db
from pipeline.store.review import QueueFilter
from pipeline.store.routine import ROUTINE_PRIORITY

START = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
#: Files a night per officer (None: footage no manifest described): unequal on purpose.
NIGHTLY = {"4512": 25, "4513": 9, "4514": 3, None: 2}


def test_choose_spreads_picks_and_never_repeats_an_officer_while_another_is_due() -> None:
    pool = {"A": list(range(100)), "B": [100, 101], "C": [200]}
    picks = choose(pool, history=["A", "B"], due=6, rng=random.Random(1))
    officers = [o for o, _ in picks]
    assert officers[:3] == ["C", "A", "B"]  # C never sampled, then A (sampled longest ago)
    assert officers == ["C", "A", "B", "A", "B", "A"]  # C and B run out; A only when alone
    assert len({m for _, m in picks}) == 6
    # Only one officer has footage: the rule against twice in a row gives way.
    assert [o for o, _ in choose({"A": [1, 2, 3]}, ["A"], 3, random.Random(1))] == ["A"] * 3


def _night(store: Store, night: datetime, counter: list[int]) -> int:
    """One night's files, done at ``night``; every fourth is flagged. Returns the unflagged."""
    unflagged = 0
    meta = []
    for officer, count in NIGHTLY.items():
        for _ in range(count):
            counter[0] += 1
            n = counter[0]
            sha = f"{n:064x}"
            media_id, _ = store.add_original(sha, size=1, store_path="s", inbox="/i",
                                             name=f"BWV_{n:05d}.mp4", mtime_ns=1)
            with store.session() as s:
                s.execute(update(db.Media).where(db.Media.id == media_id).values(
                    state="done", duration_s=300.0 + n % 700, updated_at=night))
                if n % 4 == 0:
                    s.add(db.ReviewItem(media_id=media_id, start_s=0, end_s=5, priority=80,
                                        status="new", categories="harm.self", created_at=night,
                                        kind="flagged"))
                else:
                    unflagged += 1
            if officer:
                meta.append({"sha256": sha, "officer_id": officer, "team": "Response A",
                             "source": f"m.csv:{n}"})
    if meta:
        store.put_metadata(meta, actor="cli:test", manifest=f"{night.date()}.csv")
    return unflagged


def test_a_month_of_nights_samples_the_share_fairly(tmp_path: Path, monkeypatch) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path)
    counter, unflagged, order = [0], 0, []
    for day in range(30):
        night = START + timedelta(days=day)
        monkeypatch.setattr(clock, "now", lambda night=night: night + timedelta(hours=2))
        unflagged += _night(store, night, counter)
        plan = take_routine_samples(store, share=0.02, actor="cli:test")
        order += [o for o, _ in plan.picks]
        assert take_routine_samples(store, share=0.02, actor="cli:test").picks == ()  # rerun: none
    assert len(order) == int(0.02 * unflagged)  # the configured share over the month
    counts = Counter(order)
    assert set(counts) == set(NIGHTLY) and max(counts.values()) - min(counts.values()) <= 1
    assert all(a != b for a, b in zip(order, order[1:], strict=False))  # never twice in a row
    rows, total = store.queue_page(QueueFilter(statuses=(), kind="routine"), offset=0, limit=100)
    assert total == len(order)
    assert all(r.kind == "routine" and r.priority == ROUTINE_PRIORITY and r.categories == ()
               and 0 < r.end_s <= LONGEST_S for r in rows)
    with store.session() as s:
        flagged_media = set(s.scalars(select(db.ReviewItem.media_id)
                                      .where(db.ReviewItem.kind == "flagged")))
        audits = list(s.scalars(select(db.Audit.action).where(db.Audit.action == "routine-sample")))
    assert not flagged_media & {r.media_id for r in rows}  # only footage with no flags
    assert len(audits) == len(order)


def test_a_small_night_carries_its_share_to_the_next(tmp_path: Path, monkeypatch) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path)
    counter = [0]
    monkeypatch.setattr(clock, "now", lambda: START + timedelta(hours=2))
    _night(store, START, counter)  # 39 files, 30 unflagged: 2% is 0.6
    assert take_routine_samples(store, share=0.02, actor="x").picks == ()
    monkeypatch.setattr(clock, "now", lambda: START + timedelta(days=1, hours=2))
    _night(store, START + timedelta(days=1), counter)  # 59 unflagged in all: 1.18
    assert len(take_routine_samples(store, share=0.02, actor="x").picks) == 1
    plan = take_routine_samples(store, share=1.0, actor="x", dry_run=True)
    assert plan.due == 58 and len(plan.picks) == 58  # every one not yet sampled
    assert store.queue_page(QueueFilter(statuses=(), kind="routine"), offset=0, limit=100)[1] == 1
    with pytest.raises(InvalidRequestError, match="between 0 and 1"):
        take_routine_samples(store, share=1.5, actor="x")


def test_the_batch_queues_routine_samples_and_rubric_eval_reports_their_misses(
        tmp_path: Path, media_dir: Path) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    copy_into(inbox, media_dir / "jfk.mp4", "speech.mp4")  # nothing in it for the rubric
    proc = bwv(home, "run", str(inbox), "--routine-share", "1")
    assert "routine samples: queued 1 (share 1 of 1 unflagged file(s)" in proc.stderr
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}", home=home)
    rows, _ = store.queue_page(QueueFilter(statuses=()), offset=0, limit=10)
    assert [(r.name, r.kind) for r in rows] == [("speech.mp4", "routine")]
    assert "would queue 0" in bwv(home, "sample", "--dry-run").stderr
    tip = store.add_user("alice", role="tip", password_hash="x")
    assert store.claim_item(rows[0].id, tip)
    store.add_missed_moment(rows[0].media_id, category="practice.curious", start_s=1.0, end_s=3.0,
                            reviewer="alice", note="asked what happened")
    assert store.finish_item(rows[0].id, tip, status="reviewed")
    said = bwv(home, "rubric", "eval", "--from-reviews").stdout
    assert "routine samples: 1 reviewed, 1 with a missed moment" in said
    assert "missed practice.curious in speech.mp4" in said
