#!/usr/bin/env python3
"""Benchmark the team picture (``bwv report --teams``) over 10,000 reviewed items.

An instance is seeded with six months of reviewed work: 10,000 review items on footage of
300 officers in 12 teams, with their flags (some marked not relevant), TIPs' ratings, routine
samples and missed moments. In the same run it times:

- plain: one SQL query of the reviewed items joined to their metadata, grouped by team and
  month with pandas (the count a spreadsheet would give, no flags, ratings or suppression);
- bwv: :func:`pipeline.nightly.teams.build_picture` (every count, suppression) and then the
  whole report: the page with its four charts and the two CSV files.

Prints seconds for each and the ratio. Target: the whole report in under 30 s on 2 cores.

Example:
    python scripts/bench_teams.py
    python scripts/bench_teams.py --items 2000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from pipeline.store import Store, open_store  # noqa: E402
from pipeline.store import schema as db  # noqa: E402
from pipeline.store.meta_tables import FootageMeta  # noqa: E402

TARGET_S = 30.0
AS_OF = date(2026, 12, 6)
PRACTICE = ("practice.explain", "practice.safety", "practice.choice", "practice.validate",
            "practice.curious", "practice.signpost")
CONCERN = ("concern.blame", "concern.dismiss", "concern.threat", "concern.profanity")


def seed(store: Store, items: int, *, officers: int = 300, teams: int = 12, seed: int = 7) -> None:
    """``items`` reviewed items over the six months to :data:`AS_OF`, one per file."""
    rng = random.Random(seed)
    start = datetime(AS_OF.year, AS_OF.month, 1, tzinfo=UTC) - timedelta(days=150)
    span = (datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) - start).total_seconds()
    now = datetime(2026, 12, 6, tzinfo=UTC)
    media, meta, review, flags, notes, feedback = [], [], [], [], [], []
    tip = store.add_user("bench-tip", role="tip", password_hash="x")
    for i in range(1, items + 1):
        officer = rng.randrange(officers)
        at = start + timedelta(seconds=rng.random() * span)
        media.append({"id": i, "sha256": f"{i:064x}", "state": "done", "duration_s": 600.0,
                      "created_at": at, "updated_at": at})
        meta.append({"sha256": f"{i:064x}", "officer_id": str(4000 + officer),
                     "team": f"Response {officer % teams}", "source": "bench", "imported_by": "bench",
                     "imported_at": now})
        routine = rng.random() < 0.05
        review.append({"id": i, "media_id": i, "start_s": 0.0, "end_s": 60.0, "priority": 50,
                       "status": "reviewed", "categories": "", "created_at": at,
                       "reviewed_by": tip, "reviewed_at": at, "kind": "routine" if routine else "flagged"})
        if not routine:
            for _ in range(rng.randrange(1, 4)):
                category = rng.choice(PRACTICE + CONCERN)
                flags.append({"media_id": i, "review_item_id": i, "category": category,
                              "family": category.split(".")[0], "start_s": 1.0, "end_s": 2.0,
                              "text": "w", "context": "c", "rubric": "r@1", "pattern": "p",
                              "severity": 2, "speaker": "wearer"})
        notes.append({"media_id": i, "review_item_id": i, "author_id": tip, "start_s": 1.0,
                      "end_s": 2.0, "labels": "[]", "rating": rng.randrange(1, 6), "feedback": "f",
                      "teaching": False, "created_at": at, "updated_at": at, "submitted_at": at})
        if routine and rng.random() < 0.4:
            feedback.append({"media_id": i, "kind": "missed", "category": rng.choice(PRACTICE),
                             "start_s": 1.0, "end_s": 2.0, "text": "w", "reviewer": "web:bench-tip",
                             "created_at": at})
    with store.session() as s:
        for table, rows in ((db.Media, media), (FootageMeta, meta), (db.ReviewItem, review),
                            (db.Flag, flags), (db.Annotation, notes), (db.RubricFeedback, feedback)):
            for k in range(0, len(rows), 1000):
                s.execute(insert(table), rows[k:k + 1000])
        # A tenth of the flags marked not relevant by the TIP.
        ids = list(s.scalars(select(db.Flag.id)))
        marks = [{"media_id": 1, "flag_id": f, "kind": "not_relevant", "category": "x",
                  "start_s": 0.0, "end_s": 1.0, "text": "", "reviewer": "web:bench-tip",
                  "created_at": now} for f in ids[::10]]
        for k in range(0, len(marks), 1000):
            s.execute(insert(db.RubricFeedback), marks[k:k + 1000])


def plain(store: Store) -> float:
    start = time.perf_counter()
    with store.session() as s:
        rows = s.execute(select(FootageMeta.team, db.ReviewItem.reviewed_at)
                         .join(db.Media, db.Media.id == db.ReviewItem.media_id)
                         .join(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
                         .where(db.ReviewItem.status == "reviewed")).all()
    frame = pd.DataFrame(rows, columns=["team", "at"])
    frame["month"] = pd.to_datetime(frame["at"]).dt.strftime("%Y-%m")
    frame.groupby(["team", "month"]).size()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args(argv)
    from pipeline.nightly.teams import build_picture, write_team_report

    with tempfile.TemporaryDirectory(prefix="bwv-bench-teams-") as tmp:
        d = Path(tmp)
        store = open_store(f"sqlite:///{d / 'bwv.sqlite3'}", home=d)
        seed(store, args.items)
        print(f"{args.items:,} reviewed items, 300 officers in 12 teams, six months; SQLite",
              flush=True)
        plain_s = plain(store)
        start = time.perf_counter()
        picture = build_picture(store, as_of=AS_OF)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        write_team_report(store, d / "out", actor="bench", as_of=AS_OF)
        whole_s = time.perf_counter() - start
        shown = int((picture.teams["items_reviewed"] != "fewer than 5").sum())
        print(f"  {'plain SQL + pandas groupby':32s} {plain_s:7.2f} s")
        print(f"  {'bwv: the tables':32s} {build_s:7.2f} s  {build_s / plain_s:6.1f}x plain")
        print(f"  {'bwv: the whole report':32s} {whole_s:7.2f} s  {whole_s / plain_s:6.1f}x plain"
              f"  ({len(picture.teams)} team-months, {shown} shown)")
        ok = whole_s < TARGET_S
        print(f"target: the report over {args.items:,} items in under {TARGET_S:.0f} s: "
              f"{'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
