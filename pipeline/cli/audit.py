"""``bwv audit``: check the audit log against its key and anchors, and anchor it."""

from __future__ import annotations

import sys

import click

from pipeline.cli.common import CONTEXT, EXIT_ERROR, _apply_shared, _instance, _shared_options, cli


@cli.group(context_settings=CONTEXT)
def audit() -> None:
    """Check the audit log against its key and anchors, or anchor it.

    The key is BWV_AUDIT_KEY or BWV_HOME/audit.key (mode 0600); the anchors
    are appended to BWV_AUDIT_ANCHORS or BWV_HOME/audit.anchors.

    \b
    Example:
      bwv audit verify
      bwv audit anchor
    """


@audit.command("verify", context_settings=CONTEXT)
@_shared_options
@click.pass_context
def audit_verify(ctx: click.Context, sub_home: str | None, sub_db: str | None) -> None:
    """Check every audit row against the key, and the log against the anchors.

    Prints one line, "intact: ...", and exits 0; or "BROKEN: ..." and each
    problem (the first bad row, rows missing, a log shorter than an anchor
    counted, a rewritten head, an anchor line that does not check) and exits 2.

    \b
    Example:
      bwv audit verify
      BWV_AUDIT_ANCHORS=/mnt/worm/bwv.anchors bwv audit verify
    """
    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    verdict = open_instance(_instance(ctx)).verify_audit()
    summary, *problems = verdict.lines()
    click.echo(summary)
    for line in problems:
        click.echo(f"  {line}")
    if not verdict.intact:
        sys.exit(EXIT_ERROR)


@audit.command("anchor", context_settings=CONTEXT)
@click.option("--note", default="bwv audit anchor", show_default=True,
              help="Words kept with the anchor line.")
@_shared_options
@click.pass_context
def audit_anchor(ctx: click.Context, note: str, sub_home: str | None, sub_db: str | None) -> None:
    """Append the log's row count and head hash, signed, to the anchors file.

    bwv run and bwv report do this too; run it from cron as often as a
    deletion must be found (an hour, say).

    \b
    Example:
      bwv audit anchor
      bwv audit anchor --note "before the database upgrade"
    """
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    anchor = store.anchor_audit(actor=current_actor(), note=note)
    click.echo(f"anchored the audit log: {anchor.rows} rows, head row {anchor.head_id}, "
               f"in {store.audit_anchors_path()}")
