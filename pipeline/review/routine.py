"""Routine samples (issue 18, part 4): a share of the footage the rubric did not flag goes
into the queue each night, so TIPs see what the rubric's blind spots hide.

Reviewing only flagged moments teaches only what the rubric already finds. A TIP's "missed
moment" on a routine sample is the best evidence of what it misses (``bwv rubric eval
--from-reviews`` reports those separately).

How many: over the last :data:`WINDOW_DAYS` days, ``share`` of the files done with no flag,
rounded down, less the samples already taken in that window; so the share holds over a month
whatever the nights' sizes, and a night with too few files carries its part to the next.

Whose: spread fairly across officers (by the footage's metadata; footage without is one
group). Each pick goes to the officer with the fewest samples in the window, then the one
sampled longest ago, and never to the officer of the sample just before while another has
footage due. Within an officer, the file is drawn at random, seeded by the day, so a night
run again picks the same.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline import clock
from pipeline.errors import InvalidRequestError
from pipeline.store import Store

#: The share of unflagged footage sampled, unless configured otherwise.
DEFAULT_SHARE = 0.02
#: The window over which the share is kept and fairness counted.
WINDOW_DAYS = 30
#: The longest stretch of a file a routine sample asks a TIP to watch.
LONGEST_S = 600.0


@dataclass(frozen=True)
class RoutinePlan:
    """A night's routine samples: the figures behind the number, and the picks."""

    seen: int  # unflagged files done in the window
    taken: int  # routine samples already taken in the window
    due: int
    picks: tuple[tuple[str | None, int], ...]  # (officer, media id)
    item_ids: tuple[int, ...] = ()


def choose(pool: Mapping[str | None, Sequence[int]], history: Sequence[str | None], due: int,
           rng: random.Random) -> list[tuple[str | None, int]]:
    """``due`` picks of (officer, media id) from each officer's candidates, fairly (see the
    module's notes); ``history`` is the officers of earlier samples, oldest first."""
    counts = Counter(history)
    last_at = {officer: i for i, officer in enumerate(history)}
    last: object = history[-1] if history else object()
    left = {officer: list(ids) for officer, ids in pool.items() if ids}
    picks: list[tuple[str | None, int]] = []
    for n in range(due):
        if not left:
            break
        options = [o for o in left if o != last] or list(left)
        officer = min(options, key=lambda o: (counts[o], last_at.get(o, -1), str(o)))
        ids = left[officer]
        media_id = ids.pop(rng.randrange(len(ids)))
        if not ids:
            del left[officer]
        picks.append((officer, media_id))
        counts[officer] += 1
        last_at[officer] = len(history) + n
        last = officer
    return picks


def take_routine_samples(store: Store, *, share: float = DEFAULT_SHARE, actor: str,
                         dry_run: bool = False, now: datetime | None = None) -> RoutinePlan:
    """Queue this night's routine samples (with ``dry_run``, only say which)."""
    if not 0.0 <= share <= 1.0:
        raise InvalidRequestError(f"the routine share must be between 0 and 1, not {share}")
    now = now or clock.now()
    since = now - timedelta(days=WINDOW_DAYS)
    seen, candidates = store.routine_pool(since)
    history = store.routine_history(since)
    due = max(0, math.floor(share * seen + 1e-9) - len(history))
    pool: dict[str | None, list[int]] = {}
    length = {}
    for c in candidates:
        pool.setdefault(c.officer_id, []).append(c.media_id)
        length[c.media_id] = c.duration_s
    picks = choose(pool, history, due, random.Random(now.date().isoformat()))
    item_ids: tuple[int, ...] = ()
    if not dry_run:
        item_ids = tuple(store.add_routine_item(media_id, end_s=min(length[media_id], LONGEST_S),
                                                actor=actor, officer_id=officer)
                         for officer, media_id in picks)
    return RoutinePlan(seen=seen, taken=len(history), due=due, picks=tuple(picks),
                       item_ids=item_ids)
