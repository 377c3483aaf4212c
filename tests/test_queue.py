"""Review items: nearby flags grouped into windows, priority from severity."""

from __future__ import annotations

from pipeline.flagging.windows import group_flags, priority_of
from pipeline.records import Flag


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
