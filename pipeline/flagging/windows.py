"""Review items: nearby flags of one file grouped into an interaction window.

A TIP reviews an interaction, not a sentence: flags closer than
``gap_s`` seconds join one window, padded so the clip starts before the
first flagged words. Priority comes from the rubric's severities: the most
severe flag first, then how much was flagged, with disclosures of harm
ahead of practice.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import Flag, ReviewWindow

_FAMILY_WEIGHT = {"disclosure": 2, "concern": 1, "practice": 0}


def priority_of(flags: Sequence[Flag]) -> int:
    """0–100: severity dominates; family and the number of flags break ties."""
    top = max(f.severity for f in flags)
    family = max(_FAMILY_WEIGHT.get(f.family, 0) for f in flags)
    return min(100, top * 18 + family * 3 + min(len(flags) - 1, 6))


def group_flags(
    flags: Sequence[Flag],
    *,
    duration_s: float | None = None,
    gap_s: float = 30.0,
    pad_s: float = 5.0,
) -> list[ReviewWindow]:
    """Group one file's flags into review windows, highest priority first."""
    order = sorted(range(len(flags)), key=lambda i: (flags[i].start_s, flags[i].end_s))
    groups: list[list[int]] = []
    end = float("-inf")
    for i in order:
        if not groups or flags[i].start_s - end > gap_s:
            groups.append([])
            end = flags[i].end_s
        groups[-1].append(i)
        end = max(end, flags[i].end_s)
    windows = []
    for group in groups:
        members = [flags[i] for i in group]
        start = max(0.0, min(f.start_s for f in members) - pad_s)
        stop = max(f.end_s for f in members) + pad_s
        if duration_s:
            stop = min(stop, duration_s)
        windows.append(
            ReviewWindow(
                start_s=round(start, 3),
                end_s=round(max(stop, start), 3),
                priority=priority_of(members),
                categories=tuple(sorted({f.category for f in members})),
                flag_indexes=tuple(group),
            )
        )
    return sorted(windows, key=lambda w: (-w.priority, w.start_s))
