"""The nightly report: one UTC day of the batch as tables (CSV) and one self-contained page.

The report for day D covers the half-open UTC interval [D 00:00, D+1 00:00):

- files: every media item ingested, finished (its ``flag`` stage done) or
  quarantined that day; its state is the state when the report is written, and the
  officer, team, shift and incident a metadata manifest gave it;
- done and hours of footage: the files finished that day (their durations);
- flags: the flags of the files finished that day;
- review items: those created that day (by priority band and current status);
- quarantine reasons: the files quarantined that day;
- runs and throughput: the batch runs started that day (a run that crosses
  midnight counts on the day it started);
- audit head: the audit rows written by the day's end, and the last one's id and hash.

The tables are pandas DataFrames, written as CSV with the columns of
:data:`COLUMNS`; ``report.html`` embeds its charts (matplotlib, Agg, PNG as
``data:`` URIs) and its styles, so it needs no other file and no network.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader

from pipeline import __version__, clock
from pipeline.errors import ConfigError
from pipeline.nightly.charts import barh, hours_chart
from pipeline.store import Store
from pipeline.store.exports import write_csv
from pipeline.store.metadata import META_COLUMNS

_TEMPLATES = Path(__file__).resolve().parent / "templates"

REPORT_HTML = "report.html"

#: Every table of the report, its CSV columns in order (operators' scripts read these).
COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "summary": ("date", "files_seen", "done", "quarantined", "unfinished", "hours_processed",
                "flags", "review_items", "runs", "x_real_time"),
    "files": ("name", "sha256_prefix", "state", "reason", "duration_s", "flags", "ingested_at",
              "finished_at", *META_COLUMNS),
    "flags_by_category": ("category", "family", "count"),
    "review_items": ("priority_band", "status", "count"),
    "quarantine_reasons": ("reason", "count"),
    "runs": ("run_id", "started_at", "finished_at", "state", "host", "executor", "workers",
             "device", "model", "files", "done", "quarantined", "hours_processed", "elapsed_s",
             "x_real_time"),
    "audit_head": ("date", "rows", "head_id", "head_hash"),  # the audit log at the day's end
})

#: Priority bands of review items, highest first: (name, lowest priority in the band).
#: A flag's severity dominates its priority (18 points each, see pipeline.flagging.windows.priority_of),
#: so "high" is severity 4 and 5, "medium" severity 3, "low" the rest.
PRIORITY_BANDS: tuple[tuple[str, int], ...] = (("high", 72), ("medium", 54), ("low", 0))

_SHA_PREFIX = 12


@dataclass(frozen=True)
class Summary:
    """The day's headline figures."""

    day: date
    files_seen: int
    done: int
    quarantined: int
    unfinished: int
    hours_processed: float
    flags: int
    review_items: int
    runs: int
    x_real_time: float | None  # footage seconds per wall second over the day's finished runs

    @property
    def empty(self) -> bool:
        """Whether nothing at all happened that day."""
        return not (self.files_seen or self.review_items or self.runs)


@dataclass(frozen=True, eq=False)
class ReportTables:
    """The report's tables (see :data:`COLUMNS`) and the summary they add up to."""

    summary: Summary
    frames: Mapping[str, pd.DataFrame]
    hours_by_hour: tuple[float, ...]  # footage hours finished in each UTC hour of the day


@dataclass(frozen=True)
class Chart:
    """One chart of the page: a base64 PNG, or the sentence that stands in for it."""

    key: str
    title: str
    png_base64: str | None
    empty_text: str


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote."""

    summary: Summary
    out_dir: Path
    html: Path
    csvs: tuple[Path, ...]


def today() -> date:
    """Today's UTC date, by the pipeline's clock."""
    return clock.now().astimezone(UTC).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC interval ``[start, end)`` a report for ``day`` covers."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def priority_band(priority: int) -> str:
    """The band of :data:`PRIORITY_BANDS` a review item's priority falls in."""
    return next(name for name, low in PRIORITY_BANDS if priority >= low)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def _frame(name: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([dict(r) for r in rows], columns=list(COLUMNS[name]))


def build_tables(store: Store, day: date) -> ReportTables:
    """Query one UTC day and shape it into the report's tables."""
    start, end = day_bounds(day)
    files = store.report_files(start, end)
    runs = store.report_runs(start, end)
    flags = store.report_flags(start, end)
    items = store.report_review_items(start, end)
    metadata = store.metadata_by_sha([f["sha256"] for f in files if f["sha256"]])

    done = [f for f in files if _in(f["finished_at"], start, end)]
    quarantined = [f for f in files if _in(f["quarantined_at"], start, end)]
    footage_s = sum(f["duration_s"] or 0.0 for f in done)
    hours_by_hour = [0.0] * 24
    for f in done:
        hours_by_hour[f["finished_at"].astimezone(UTC).hour] += (f["duration_s"] or 0.0) / 3600

    timed = [r for r in runs if r["elapsed_s"]]
    run_audio_s = sum(r["audio_s"] for r in timed)
    run_elapsed_s = sum(r["elapsed_s"] for r in timed)
    summary = Summary(
        day=day, files_seen=len(files), done=len(done), quarantined=len(quarantined),
        unfinished=max(0, len(files) - len(done) - len(quarantined)),
        hours_processed=round(footage_s / 3600, 4), flags=sum(f["count"] for f in flags),
        review_items=sum(i["count"] for i in items), runs=len(runs),
        x_real_time=round(run_audio_s / run_elapsed_s, 2) if run_elapsed_s else None,
    )

    bands: dict[tuple[str, str], int] = {}
    for item in items:
        key = (priority_band(item["priority"]), item["status"])
        bands[key] = bands.get(key, 0) + item["count"]
    band_order = {name: i for i, (name, _low) in enumerate(PRIORITY_BANDS)}
    reasons: dict[str, int] = {}
    for f in quarantined:
        reason = f["reason"] or "(no reason recorded)"
        reasons[reason] = reasons.get(reason, 0) + 1

    frames = {
        "summary": _frame("summary", [{
            "date": day.isoformat(), "files_seen": summary.files_seen, "done": summary.done,
            "quarantined": summary.quarantined, "unfinished": summary.unfinished,
            "hours_processed": summary.hours_processed, "flags": summary.flags,
            "review_items": summary.review_items, "runs": summary.runs,
            "x_real_time": summary.x_real_time,
        }]),
        "files": _frame("files", [{
            "name": f["name"], "sha256_prefix": (f["sha256"] or "")[:_SHA_PREFIX] or None,
            "state": f["state"], "reason": f["reason"],
            "duration_s": round(f["duration_s"], 3) if f["duration_s"] is not None else None,
            "flags": f["flags"], "ingested_at": _iso(f["ingested_at"]),
            "finished_at": _iso(f["finished_at"] or f["quarantined_at"]),
            **{k: metadata.get(f["sha256"] or "", {}).get(k) for k in META_COLUMNS},
        } for f in files]),
        "flags_by_category": _frame("flags_by_category", flags),
        "review_items": _frame("review_items", [
            {"priority_band": band, "status": status, "count": n}
            for (band, status), n in sorted(bands.items(),
                                            key=lambda kv: (band_order[kv[0][0]], kv[0][1]))
        ]),
        "quarantine_reasons": _frame("quarantine_reasons", [
            {"reason": reason, "count": n}
            for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ]),
        "runs": _frame("runs", [{
            "run_id": r["run_id"], "started_at": _iso(r["started_at"]),
            "finished_at": _iso(r["finished_at"]), "state": r["state"], "host": r["host"],
            "executor": r["executor"], "workers": r["workers"], "device": r["device"],
            "model": r["model"], "files": r["files"], "done": r["done"],
            "quarantined": r["quarantined"], "hours_processed": round(r["audio_s"] / 3600, 4),
            "elapsed_s": round(r["elapsed_s"], 1) if r["elapsed_s"] is not None else None,
            "x_real_time": round(r["audio_s"] / r["elapsed_s"], 2) if r["elapsed_s"] else None,
        } for r in runs]),
        "audit_head": _frame("audit_head", [{"date": day.isoformat(),
                                             **asdict(store.audit_head(before=end))}]),
    }
    return ReportTables(summary=summary, frames=MappingProxyType(frames),
                        hours_by_hour=tuple(hours_by_hour))


# --- charts ---------------------------------------------------------------------------------


def draw_charts(tables: ReportTables) -> list[Chart]:
    """The page's charts; a chart with nothing to show is a sentence instead."""
    f = tables.frames
    flags, items = f["flags_by_category"], f["review_items"]
    reasons, runs = f["quarantine_reasons"], f["runs"]
    timed = runs[runs["x_real_time"].notna()]

    hours = hours_chart(tables.hours_by_hour) if tables.summary.done else None
    by_category: dict[str, dict[str, float]] = {}
    for category, family, n in zip(flags["category"], flags["family"], flags["count"], strict=True):
        by_category.setdefault(family, {})[category] = float(n)
    categories = sorted(flags["category"].unique().tolist())
    flag_png = barh(categories, {
        family: [by_category[family].get(c, 0.0) for c in categories]
        for family in sorted(by_category)
    }, xlabel="flags", integer=True, legend=True) if len(flags) else None
    bands = [name for name, _low in PRIORITY_BANDS]
    statuses = sorted(items["status"].unique().tolist())
    counts = {(band, status): float(n) for band, status, n
              in zip(items["priority_band"], items["status"], items["count"], strict=True)}
    item_png = barh(bands, {
        status: [counts.get((band, status), 0.0) for band in bands] for status in statuses
    }, xlabel="review items created", integer=True, legend=True) if len(items) else None
    reason_png = barh(reasons["reason"].tolist(),
                       {"files": reasons["count"].astype(float).tolist()},
                       xlabel="files quarantined", integer=True,
                       legend=False) if len(reasons) else None
    speed_png = barh([f"run {r}" for r in timed["run_id"]],
                      {"x real time": timed["x_real_time"].astype(float).tolist()},
                      xlabel="footage seconds per wall-clock second (x real time)",
                      integer=False, legend=False) if len(timed) else None
    return [
        Chart("hours", "Footage processed, by hour", hours, "No footage was processed."),
        Chart("flags", "Flags by category", flag_png, "Nothing was flagged."),
        Chart("review_items", "Review items created, by priority band and status", item_png,
              "No review items were created."),
        Chart("quarantine", "Quarantine reasons", reason_png, "No file was quarantined."),
        Chart("throughput", "Throughput per batch run", speed_png,
              "No batch run started and finished this day."),
    ]


# --- the page and the files -----------------------------------------------------------------

_TABLE_TITLES = {
    "files": "Files", "flags_by_category": "Flags by category",
    "review_items": "Review items created", "quarantine_reasons": "Quarantine reasons",
    "runs": "Batch runs", "audit_head": "Audit log at the end of the day (rows, last row)",
}


def cell_text(value: Any) -> str:
    """A table cell as the page shows it: empty for None or NaN."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return ""
    return str(value)


def render_html(tables: ReportTables, charts: Sequence[Chart], *, generated_at: datetime) -> str:
    """The report page (Jinja2, autoescaped: file names and reasons are untrusted text)."""
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    shown = [
        {"key": key, "title": title, "columns": list(COLUMNS[key]),
         "rows": [[cell_text(v) for v in row] for row in tables.frames[key].itertuples(index=False)]}
        for key, title in _TABLE_TITLES.items()
    ]
    return env.get_template("report.html").render(
        summary=tables.summary, charts=charts, tables=shown,
        generated_at=_iso(generated_at), version=__version__,
    )


def frame_csv(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A table as CSV by :func:`~pipeline.store.exports.write_csv`: text that a spreadsheet
    would run as a formula is escaped, missing values are empty cells."""
    out = io.StringIO()
    write_csv(out, columns, frame.astype(object).where(frame.notna(), None).to_dict("records"))
    return out.getvalue()


def csv_text(tables: ReportTables, key: str) -> str:
    """One of the report's tables as CSV (:func:`frame_csv`)."""
    return frame_csv(tables.frames[key], COLUMNS[key])


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all (temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def unwritable(out_dir: Path, exc: OSError, *, what: str = "the report") -> ConfigError:
    """The one-line error for a report folder that cannot be written."""
    return ConfigError(f"cannot write {what} to {out_dir}: {exc.strerror or exc}; "
                       "choose a writable folder with -o")


def write_report(store: Store, out_dir: Path, *, day: date | None = None,
                 actor: str) -> ReportResult:
    """Write ``report.html`` and one CSV per table into ``out_dir``, and audit it.

    ``day`` defaults to today (UTC). Existing files of an earlier report in
    the folder are replaced, each atomically.
    """
    day = day or today()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(out_dir, exc) from exc
    tables = build_tables(store, day)
    html = render_html(tables, draw_charts(tables), generated_at=clock.now())
    csvs = []
    try:
        for key in COLUMNS:
            path = out_dir / f"{key}.csv"
            write_atomic(path, csv_text(tables, key))
            csvs.append(path)
        write_atomic(out_dir / REPORT_HTML, html)
    except OSError as exc:
        raise unwritable(out_dir, exc) from exc
    store.audit(actor=actor, action="report", obj=f"report:{day.isoformat()}", detail=str(out_dir))
    return ReportResult(summary=tables.summary, out_dir=out_dir, html=out_dir / REPORT_HTML,
                        csvs=tuple(csvs))
