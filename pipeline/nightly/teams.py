"""The team picture for trainers (issue 18, part 5): per team and month over the last six
months, the items TIPs reviewed, the practice shown (the rubric's practice flags TIPs kept)
and missed (its concern flags, and the practice moments TIPs marked it missed), TIPs'
ratings, and the share of routine samples with a missed moment; as one self-contained page
with matplotlib charts (``bwv report --teams``, the review app's /teams) and as CSV.

Team level only: no figure names or counts an officer, and a cell of fewer than 5 items, or
of a team-month with fewer than 5 officers, shows "fewer than 5" (so no officer can be
picked out of a small team). An officer sees their own figures on their feedback page
(:func:`officer_figures`): the scheme is about learning, not discipline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline import __version__, clock
from pipeline.nightly.charts import label, png
from pipeline.nightly.report import cell_text, frame_csv, unwritable, write_atomic
from pipeline.store import Store
from pipeline.store.teams import ReviewedItem
from pipeline.taxonomy import TAXONOMY

_TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Fewer than this many items, or officers in a team-month, and a cell is suppressed.
SMALL = 5
SUPPRESSED = "fewer than 5"
MONTHS = 6
NO_TEAM = "(no team)"
#: The team table's CSV columns, in order.
COLUMNS = ("team", "month", "items_reviewed", "officers", "practice_shown", "practice_missed",
           "practice_shown_per_item", "rating_mean", "ratings", "routine_reviewed",
           "routine_with_missed", "routine_missed_share")
CATEGORY_COLUMNS = ("team", "month", "category", "shown", "missed")


@dataclass(frozen=True)
class TeamPicture:
    """The team table (suppressed cells already say so), the category table, the months."""

    months: tuple[str, ...]
    teams: pd.DataFrame
    categories: pd.DataFrame
    generated_at: datetime


def month_starts(as_of: date, months: int = MONTHS) -> list[date]:
    """The first days of the last ``months`` calendar months, up to ``as_of``'s, oldest first."""
    y, m = as_of.year, as_of.month
    out = []
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _practice(categories: Sequence[str]) -> tuple[list[str], list[str]]:
    """(shown, missed): practice flags kept; concern flags, and practice moments marked missed."""
    shown = [c for c in categories if TAXONOMY.get(c) == "practice"]
    missed = [c for c in categories if TAXONOMY.get(c) == "concern"]
    return shown, missed


def _row(items: list[ReviewedItem]) -> dict[str, Any]:
    shown = sum(len(_practice(i.categories)[0]) for i in items)
    missed = sum(len(_practice(i.categories)[1]) + sum(TAXONOMY.get(c) == "practice"
                                                       for c in i.missed) for i in items)
    ratings = [r for i in items for r in i.ratings]
    routine = [i for i in items if i.kind == "routine"]
    with_missed = sum(1 for i in routine if i.missed)
    return {
        "items_reviewed": len(items),
        "officers": len({i.officer_id for i in items if i.officer_id}),
        "practice_shown": shown, "practice_missed": missed,
        "practice_shown_per_item": round(shown / len(items), 2) if items else None,
        "rating_mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings), "routine_reviewed": len(routine),
        "routine_with_missed": with_missed,
        "routine_missed_share": round(with_missed / len(routine), 2) if routine else None,
    }


def _count(n: int | str) -> int | str:
    """A count as shown: 0, 5 or more, or "fewer than 5" (which stays as it is)."""
    return n if isinstance(n, str) or n == 0 or n >= SMALL else SUPPRESSED


def build_picture(store: Store, *, as_of: date | None = None) -> TeamPicture:
    """The last six months' team table and category table, small cells suppressed."""
    as_of = as_of or clock.now().date()
    starts = month_starts(as_of)
    items = store.reviewed_items(_start(starts[0]), _start(_next_month(starts[-1])))
    groups: dict[tuple[str, str], list[ReviewedItem]] = {}
    for item in items:
        groups.setdefault((item.team or NO_TEAM, item.reviewed_at.strftime("%Y-%m")), []).append(item)
    months = tuple(d.strftime("%Y-%m") for d in starts)
    teams = sorted({team for team, _ in groups})
    rows, cat_rows = [], []
    for team in teams:
        for month in months:
            members = groups.get((team, month), [])
            row = {"team": team, "month": month, **_row(members)}
            small = row["items_reviewed"] < SMALL or row["officers"] < SMALL
            if small and not members:  # no item at all: say so (it tells of no one)
                row = {"team": team, "month": month, "items_reviewed": 0,
                       **{k: None for k in COLUMNS[3:]}}
            elif small:  # nothing of a small group is shown, not even how small
                row = {"team": team, "month": month,
                       **{k: SUPPRESSED for k in COLUMNS[2:]}}
            else:  # counts of 1 to 4 say too much of too few; a share of fewer than 5 too
                if isinstance(row["routine_reviewed"], int) and 0 < row["routine_reviewed"] < SMALL:
                    row["routine_missed_share"] = None  # a share of fewer than 5, and its count
                    row["routine_with_missed"] = SUPPRESSED
                for key in ("practice_shown", "practice_missed", "ratings", "routine_reviewed",
                            "routine_with_missed"):
                    row[key] = _count(row[key])
            rows.append(row)
            if small:
                continue
            counts: dict[str, list[int]] = {}
            for item in members:
                shown, missed = _practice(item.categories)
                missed += [c for c in item.missed if TAXONOMY.get(c) == "practice"]
                for c in shown:
                    counts.setdefault(c, [0, 0])[0] += 1
                for c in missed:
                    counts.setdefault(c, [0, 0])[1] += 1
            for category, (shown_n, missed_n) in sorted(counts.items()):
                cat_rows.append({"team": team, "month": month, "category": category,
                                 "shown": _count(shown_n), "missed": _count(missed_n)})
    return TeamPicture(months=months, teams=pd.DataFrame(rows, columns=list(COLUMNS)),
                       categories=pd.DataFrame(cat_rows, columns=list(CATEGORY_COLUMNS)),
                       generated_at=clock.now())


def officer_figures(store: Store, officer_id: str, *, as_of: date | None = None
                    ) -> list[dict[str, Any]]:
    """One officer's own figures per month (not suppressed: they are theirs)."""
    starts = month_starts(as_of or clock.now().date())
    items = store.reviewed_items(_start(starts[0]), _start(_next_month(starts[-1])),
                                 officer_id=officer_id)
    return [{"month": d.strftime("%Y-%m"),
             **_row([i for i in items if i.reviewed_at.strftime("%Y-%m") == d.strftime("%Y-%m")])}
            for d in starts]


# --- charts, page and files -----------------------------------------------------------------


def _trend(picture: TeamPicture, column: str, ylabel: str) -> str | None:
    """One line per team over the months; suppressed months are gaps."""
    frame = picture.teams
    values = pd.to_numeric(frame[column].where(frame[column] != SUPPRESSED), errors="coerce")
    if values.notna().sum() == 0:
        return None
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    where = list(range(len(picture.months)))  # every month on the axis, with data or not
    for team in sorted(frame["team"].unique()):
        mask = frame["team"] == team
        series = values[mask].tolist()
        if any(v == v for v in series):  # not all NaN
            ax.plot(where, series, marker="o", label=label(team).replace("$", r"\$"))
    ax.set_xticks(where, labels=list(picture.months))
    low, high = LIMITS.get(column, (0.0, None))
    if high is None:  # counts: whole numbers, and an axis of at least 1 when all are 0
        high = max(1.0, float(values.max()) * 1.1)
        if column == "items_reviewed":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=low, top=high)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return png(fig)


#: Each chart's y range: counts from 0, ratings 1 to 5, shares 0 to 1.
LIMITS: dict[str, tuple[float, float | None]] = {"rating_mean": (1.0, 5.0),
                                                 "routine_missed_share": (0.0, 1.0)}
CHARTS = (("items_reviewed", "Items reviewed", "items"),
          ("practice_shown_per_item", "Practice shown per reviewed item", "practice flags per item"),
          ("rating_mean", "TIPs' mean rating", "rating (1-5)"),
          ("routine_missed_share", "Routine samples with a missed moment", "share"))


def render_html(picture: TeamPicture, *, standalone: bool = True) -> str:
    """The team picture as one page (autoescaped; charts as data: URIs)."""
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    charts = [(key, title, _trend(picture, key, ylabel)) for key, title, ylabel in CHARTS]
    return env.get_template("teams.html").render(
        picture=picture, charts=charts, columns=COLUMNS, category_columns=CATEGORY_COLUMNS,
        rows=[[cell_text(v) for v in r] for r in picture.teams.itertuples(index=False)],
        category_rows=[[cell_text(v) for v in r] for r in picture.categories.itertuples(index=False)],
        generated_at=picture.generated_at.strftime("%Y-%m-%d %H:%M UTC"), version=__version__,
        standalone=standalone, small=SMALL)


def write_team_report(store: Store, out_dir: Path, *, actor: str,
                      as_of: date | None = None) -> tuple[Path, ...]:
    """Write teams.html, teams.csv and team_categories.csv into ``out_dir``; audited."""
    picture = build_picture(store, as_of=as_of)
    files = {"teams.html": render_html(picture), "teams.csv": frame_csv(picture.teams, COLUMNS),
             "team_categories.csv": frame_csv(picture.categories, CATEGORY_COLUMNS)}
    written = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            write_atomic(out_dir / name, text)
            written.append(out_dir / name)
    except OSError as exc:
        raise unwritable(out_dir, exc, what="the team report") from exc
    store.audit(actor=actor, action="report-teams", obj=f"teams:{picture.months[-1]}",
                detail=str(out_dir))
    return tuple(written)
