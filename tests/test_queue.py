"""Review items: nearby flags grouped into windows, priority from severity; the queue's text
search, the next item, and the reasons items were dismissed or released (SQLite and PostgreSQL)."""

from __future__ import annotations

from test_store import _item

from pipeline.flagging.windows import group_flags, priority_of
from pipeline.records import Flag
from pipeline.store import open_store
from pipeline.store.review import QueueFilter


def _f(start: float, severity: int, family: str = "disclosure", category: str = "harm.self") -> Flag:
    return Flag(category, family, start, start + 2, "w", "c", "r@1", "p", severity)


def test_nearby_flags_share_a_window_and_far_ones_do_not() -> None:
    flags = [_f(10, 2, "practice", "practice.safety"), _f(25, 5), _f(200, 3, "concern", "concern.blame")]
    windows = group_flags(flags, duration_s=210, gap_s=30, pad_s=5)
    assert [w.flag_indexes for w in windows] == [(0, 1), (2,)]
    first = windows[0]
    assert (first.start_s, first.end_s) == (5.0, 32.0)
    assert first.categories == ("harm.self", "practice.safety")
    assert windows[1].end_s == 207.0
    assert windows[0].priority > windows[1].priority


def test_priority_orders_by_severity_then_family_then_count() -> None:
    assert priority_of([_f(0, 5)]) > priority_of([_f(0, 4)] * 7)
    assert priority_of([_f(0, 3, "concern")]) > priority_of([_f(0, 3, "practice")])
    assert priority_of([_f(0, 3)] * 3) > priority_of([_f(0, 3)])
    assert 0 <= priority_of([_f(0, 5)] * 50) <= 100


def test_no_flags_no_windows() -> None:
    assert group_flags([]) == []


def test_the_queue_searches_names_and_quotes_and_keeps_who_closed_an_item_and_why(db_url: str) -> None:
    store = open_store(db_url)
    media_a, item_a = _item(store, category="harm.domestic_abuse")  # harm.domestic_abuse.mp4
    media_b, item_b = _item(store, category="practice.validate")
    tip = store.add_user("alice", role="tip", password_hash="x")
    admin = store.add_user("ada", role="admin", password_hash="x")

    def found(text: str) -> list[int]:
        rows, total = store.queue_page(QueueFilter(statuses=(), text=text), offset=0, limit=50)
        assert total == len(rows)
        return sorted(r.id for r in rows)

    assert found("PRACTICE.Val") == [item_b]  # a file name, in any case
    assert found("HE HIT") == sorted([item_a, item_b])  # what their flags quote
    assert found("_") == [item_a] and found("%") == [] and found("hit%me") == []  # literal
    assert found("  ") == sorted([item_a, item_b])  # blank: no search
    assert store.queue_page(QueueFilter(text="stairs"), offset=0, limit=50)[1] == 0  # not speech
    # The next item is the most urgent one nobody holds.
    first = store.next_open_item()
    assert first in (item_a, item_b) and store.claim_item(first, tip)
    assert store.next_open_item() == ({item_a, item_b} - {first}).pop()
    # Released with a reason, by the holder or an admin; dismissed with one; reviewed: done with.
    assert store.release_item(first, tip, reason="needs a Welsh speaker")
    assert store.claim_item(first, tip) and store.release_item(first, tip, by=admin)

    def row(item: int):  # type: ignore[no-untyped-def]
        return next(r for r in store.queue_page(QueueFilter(statuses=()), offset=0, limit=50)[0] if r.id == item)

    assert (row(first).reason, row(first).reason_by) == (None, "ada")
    assert store.claim_item(first, tip) and store.release_item(first, tip, reason="end of shift")
    assert (row(first).status, row(first).reason, row(first).reason_by) == ("new", "end of shift", "alice")
    # "Next" does not hand alice straight back what she released (others still get it first).
    assert first == store.next_open_item() == store.next_open_item(not_released_by=admin)
    assert store.next_open_item(not_released_by=tip) == ({item_a, item_b} - {first}).pop()
    assert store.claim_item(first, tip)
    assert store.finish_item(first, tip, status="dismissed", reason="a test call")
    assert (row(first).reviewer, row(first).reason, row(first).reason_by) == ("alice", "a test call", "alice")
    other = store.next_open_item()
    assert other is not None and store.claim_item(other, tip) and store.next_open_item() is None
    assert store.release_claims_of(tip, reason="account disabled") == [other]
    assert (row(other).reason, row(other).reason_by) == ("account disabled", None)
    assert store.claim_item(other, tip) and store.finish_item(other, tip, status="reviewed")
    assert (row(other).reviewer, row(other).reason, row(other).reason_by) == ("alice", None, None)
    assert media_a != media_b
