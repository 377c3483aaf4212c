"""The team picture (issue 18, part 5) on a seeded instance: per team and month, items
reviewed, practice shown and missed, ratings and routine samples with a missed moment; team
level only, small groups suppressed; as a page, charts and CSV, and for trainers only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from test_review_app import Client, _rubric

from conftest import bwv
from pipeline import clock
from pipeline.nightly.teams import SUPPRESSED, build_picture, officer_figures, render_html
from pipeline.store import Store, open_store
from pipeline.store import schema as db
from pipeline.store.meta_tables import FootageMeta
from reviewers.app import create_app

AS_OF = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _reviewed(store: Store, *, n: int, team: str, officers: list[str], at: datetime,
              flags: list[str], rating: int, kind: str = "flagged", missed: str | None = None,
              not_relevant: bool = False) -> None:
    """``n`` reviewed items of a team at ``at``, each with these flags and a rating."""
    with store.session() as s:
        base = (s.query(db.Media).count() or 0) + 1
        for k in range(n):
            i = base + k
            s.execute(insert(db.Media), [{"id": i, "sha256": f"{i:064x}", "state": "done",
                                          "duration_s": 60.0, "created_at": at, "updated_at": at}])
            s.execute(insert(FootageMeta), [{"sha256": f"{i:064x}", "officer_id": officers[k % len(officers)],
                                             "team": team, "source": "t", "imported_by": "t",
                                             "imported_at": at}])
            s.execute(insert(db.ReviewItem), [{"id": i, "media_id": i, "start_s": 0.0, "end_s": 9.0,
                                               "priority": 50, "status": "reviewed", "categories": "",
                                               "created_at": at, "reviewed_at": at, "kind": kind}])
            for category in flags:
                s.add(db.Flag(media_id=i, review_item_id=i, category=category,
                              family=category.split(".")[0], start_s=1.0, end_s=2.0, text="w",
                              context="c", rubric="r@1", pattern="p", severity=2, speaker="wearer"))
            s.add(db.Annotation(media_id=i, review_item_id=i, author_id=1, start_s=1.0, end_s=2.0,
                                labels="[]", rating=rating, feedback="f", teaching=False,
                                created_at=at, updated_at=at, submitted_at=at))
            if missed:
                s.add(db.RubricFeedback(media_id=i, kind="missed", category=missed, start_s=1.0,
                                        end_s=2.0, text="w", reviewer="web:alice", created_at=at))
            s.flush()
            if not_relevant:
                for flag in s.query(db.Flag).filter(db.Flag.review_item_id == i):
                    s.add(db.RubricFeedback(media_id=i, flag_id=flag.id, kind="not_relevant",
                                            category=flag.category, start_s=1.0, end_s=2.0,
                                            text="w", reviewer="web:alice", created_at=at))


def _seed(store: Store) -> None:
    store.add_user("alice", role="tip", password_hash="x")
    six = [f"45{i:02d}" for i in range(6)]
    nov, oct_ = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC)
    # Response A, November: 12 items by six officers; two practice flags and a concern each.
    _reviewed(store, n=12, team="Response A", officers=six, at=nov,
              flags=["practice.explain", "practice.safety", "concern.dismiss"], rating=4)
    # ... and 6 routine samples, 3 with a practice moment the rubric missed.
    _reviewed(store, n=3, team="Response A", officers=six, at=nov, flags=[], rating=3,
              kind="routine", missed="practice.curious")
    _reviewed(store, n=3, team="Response A", officers=six, at=nov, flags=[], rating=3,
              kind="routine")
    # A flag TIPs marked not relevant is not counted.
    _reviewed(store, n=6, team="Response A", officers=six, at=oct_, flags=["practice.choice"],
              rating=2, not_relevant=True)
    # ... and in October two routine samples, both with a miss: too few to give a share of.
    _reviewed(store, n=2, team="Response A", officers=six, at=oct_, flags=[], rating=3,
              kind="routine", missed="practice.curious")
    # Response B: 20 items, but three officers: a small group, suppressed whole.
    _reviewed(store, n=20, team="Response B", officers=["4600", "4601", "4602"], at=nov,
              flags=["practice.validate"], rating=5)
    # A formula for a team name, as a manifest could carry it.
    _reviewed(store, n=6, team="=HYPERLINK(1)", officers=six, at=nov, flags=[], rating=1)


@pytest.fixture()
def store(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    s = open_store(db_url, home=tmp_path)
    _seed(s)
    return s


def test_the_figures_per_team_and_month_with_small_groups_suppressed(store: Store) -> None:
    picture = build_picture(store, as_of=AS_OF)
    assert picture.months == ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12")
    rows = {(r["team"], r["month"]): r for r in picture.teams.to_dict("records")}
    a = rows[("Response A", "2026-11")]
    assert (a["items_reviewed"], a["officers"]) == (18, 6)
    assert (a["practice_shown"], a["practice_missed"]) == (24, 15)  # 12 concerns + 3 missed
    assert a["practice_shown_per_item"] == round(24 / 18, 2)
    assert a["rating_mean"] == round((12 * 4 + 6 * 3) / 18, 2) and a["ratings"] == 18
    assert (a["routine_reviewed"], a["routine_with_missed"]) == (6, SUPPRESSED)  # 3 is too few
    assert rows[("=HYPERLINK(1)", "2026-11")]["routine_reviewed"] == 0
    assert a["routine_missed_share"] == 0.5
    october = rows[("Response A", "2026-10")]
    assert october["items_reviewed"] == 8 and october["practice_shown"] == 0  # not relevant
    assert (october["routine_reviewed"], october["routine_with_missed"],
            october["routine_missed_share"]) == (SUPPRESSED, SUPPRESSED, None)
    # Three officers: every figure of the team-month says only that it is small.
    b = rows[("Response B", "2026-11")]
    assert all(b[k] == SUPPRESSED for k in b if k not in ("team", "month"))
    idle = rows[("Response A", "2026-09")]  # nothing reviewed: a 0, which tells of no one
    assert idle["items_reviewed"] == 0 and idle["officers"] is None
    cats = {(r["team"], r["month"], r["category"]): (r["shown"], r["missed"])
            for r in picture.categories.to_dict("records")}
    assert cats[("Response A", "2026-11", "practice.explain")] == (12, 0)
    assert cats[("Response A", "2026-11", "practice.curious")] == (0, SUPPRESSED)
    assert not any(team == "Response B" for team, _, _ in cats)


def test_no_officer_can_be_read_from_the_page_or_the_files(store: Store, tmp_path: Path) -> None:
    picture = build_picture(store, as_of=AS_OF)
    html = render_html(picture)
    assert html.count("<img") == 4  # four trends, each with the table as its text
    for officer in ("4500", "4501", "4600"):
        assert officer not in html
        assert officer not in picture.teams.to_csv() and officer not in picture.categories.to_csv()
    assert "=HYPERLINK(1)" in html and "<script" not in html
    assert "officer_id" not in picture.teams.columns


def test_bwv_report_teams_writes_the_page_and_escaped_csv(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bwv(home, "user", "list")  # the instance, migrated
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}", home=home)
    _seed(store)
    out = tmp_path / "teams"
    said = bwv(home, "report", "--teams", "--date", "2026-12-06", "-o", str(out)).stdout
    assert {p.name for p in out.iterdir()} == {"teams.html", "teams.csv", "team_categories.csv"}
    assert str(out / "teams.html") in said
    rows = list(csv.DictReader(io.StringIO((out / "teams.csv").read_text(encoding="utf-8"))))
    assert "'=HYPERLINK(1)" in {r["team"] for r in rows}
    assert {r["month"] for r in rows} >= {"2026-11", "2026-12"}
    html = (out / "teams.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # self-contained: loads nothing


def test_trainers_see_the_page_and_an_officer_sees_their_own(review_home) -> None:
    app = create_app(review_home, rubric=_rubric())
    store = app.state.bwv.store
    _reviewed(store, n=2, team="Response A", officers=["4512"], at=clock.now(),
              flags=["practice.safety"], rating=5)
    tom = Client(app, "tom")
    page = tom.get("/teams")
    assert page.status_code == 200 and "Team picture" in page.text
    assert "4512" not in page.text.split("<main", 1)[1]
    for name in ("alice", "olive"):
        assert Client(app, name).get("/teams").status_code == 403
    mine = officer_figures(store, "4512")
    assert mine[-1]["items_reviewed"] == 2 and mine[-1]["practice_shown"] == 2
    assert "Your last six months" in Client(app, "olive").get("/feedback").text
