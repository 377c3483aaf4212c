"""``bwv report``: the nightly report."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click

from pipeline.cli.common import CONTEXT, _apply_shared, _instance, _shared_options, cli

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD (a UTC day), for example 2026-11-27"
        ) from None


@cli.command(context_settings=CONTEXT)
@click.option("--date", "day", callback=_parse_day, metavar="YYYY-MM-DD",
              help="The UTC day to report on (default: today, UTC).")
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html and the CSV tables (created if missing).")
@click.option("--teams", is_flag=True,
              help="The team picture instead: teams.html, teams.csv and team_categories.csv "
              "over the six months to --date's (team level only; small groups suppressed).")
@_shared_options
@click.pass_context
def report(ctx: click.Context, day: date | None, out_dir: Path, teams: bool,
           sub_home: str | None, sub_db: str | None) -> None:
    """Write the nightly report for one UTC day: report.html and its tables as CSV.

    The day runs 00:00-24:00 UTC and covers the files finished or quarantined
    that day (and those ingested that day), the review items created that day
    and the batch runs started that day. report.html is one self-contained
    file: its charts are embedded and it loads nothing from elsewhere.
    Written beside it: summary.csv, files.csv, flags_by_category.csv,
    review_items.csv, quarantine_reasons.csv, runs.csv and audit_head.csv
    (the audit log's rows and last hash at the day's end). The audit log is
    then anchored (see bwv audit anchor).

    \b
    Example:
      bwv report -o /srv/bwv/reports/latest
      bwv report --date 2026-11-27 -o reports/2026-11-27
      bwv report --teams -o reports/teams
    """
    from pipeline.nightly.report import write_report
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    if teams:
        from pipeline.nightly.teams import write_team_report

        for path in write_team_report(store, out_dir, actor=current_actor(), as_of=day):
            click.echo(f"wrote {path}")
        return
    result = write_report(store, out_dir, day=day, actor=current_actor())
    anchor = store.anchor_audit(actor=current_actor(), note="bwv report")
    if not ctx.find_root().obj.get("quiet", False):
        for path in (result.html, *result.csvs):
            click.echo(f"wrote {path}")
        click.echo(f"anchored the audit log: {anchor.rows} rows, head row {anchor.head_id}, "
                   f"in {store.audit_anchors_path()}")
    s = result.summary
    speed = f"{s.x_real_time:.1f}x real time" if s.x_real_time is not None else "no timed run"
    click.echo(
        f"report for {s.day.isoformat()}: {s.files_seen} files seen, {s.done} done, "
        f"{s.quarantined} quarantined, {s.hours_processed:.2f} h of footage, {s.flags} flags, "
        f"{s.review_items} review items, {s.runs} runs, {speed}"
    )
