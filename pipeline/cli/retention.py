"""``bwv retention`` and ``bwv hold``: deleting what the retention policy says must go."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.common import (
    CONTEXT,
    EXIT_UNFINISHED,
    _apply_shared,
    _instance,
    _shared_options,
    cli,
)


@cli.group(context_settings=CONTEXT)
def retention() -> None:
    """Delete footage past its time under the retention policy (BWV_HOME/retention.yaml).

    \b
    Example:
      bwv retention show
      bwv retention apply --dry-run
      bwv retention apply
    """


_policy_option = click.option(
    "--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
    help="Policy YAML file (default: retention.yaml in the instance folder, else built-in defaults).",
)


@retention.command("apply", context_settings=CONTEXT)
@click.option("--dry-run", is_flag=True,
              help="List what would be deleted and what is kept beyond the default, and why; change nothing.")
@_policy_option
@_shared_options
@click.pass_context
def retention_apply(ctx: click.Context, dry_run: bool, policy_file: Path | None,
                    sub_home: str | None, sub_db: str | None) -> None:
    """Delete originals, and everything made from them, older than the policy allows.

    Items on legal hold and items with a submitted teaching example are kept
    (a draft keeps nothing). Each deletion leaves a tombstone (id, hash, time,
    rule) and an audit row. A run that stopped part way is finished by the next
    one. A dry run also lists every item kept beyond the default, and why: the
    rule, the annotation or flag behind it and who made it, the legal hold and
    who placed it.

    \b
    Example:
      bwv retention apply --dry-run
      bwv retention apply --policy /etc/bwv/retention.yaml
    """
    from pipeline.nightly.retention import apply_retention, find_policy, load_policy
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    path = find_policy(instance.home, policy_file)
    policy = load_policy(path)
    store = open_instance(instance)
    result = apply_retention(instance, store, policy, actor=current_actor(), dry_run=dry_run,
                             policy_source=str(path) if path else "built-in defaults")
    verb = "would delete" if dry_run else "deleted"
    for d in result.deleted:
        click.echo(f"{verb}  media {d.media_id}  {d.name}  ingested {d.ingested_at:%Y-%m-%d}, "
                   f"{d.age_days:.0f} days ago  ({d.rule})")
    for d in result.kept:
        click.echo(f"kept  media {d.media_id}  {d.name}  past {d.rule}, kept by {d.why}")
    for d in result.extended if dry_run else ():  # the nightly run would list a year's items
        click.echo(f"kept  media {d.media_id}  {d.name}  {d.age_days:.0f} days old, kept by {d.why}")
    for d in result.skipped:
        click.echo(f"skipped  media {d.media_id}  {d.name}  changed while retention ran; "
                   "the next run looks again")
    items = f"{len(result.deleted)} item{'' if len(result.deleted) == 1 else 's'}"
    kept = f"{len(result.kept)} kept past their time (legal hold or teaching example)"
    if dry_run:
        click.echo(f"dry run: {items} would be deleted, {kept}; nothing changed")
        return
    click.echo(f"{items} deleted, {result.files_removed} files removed, {kept}")
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    if result.errors:
        sys.exit(EXIT_UNFINISHED)


@retention.command("show", context_settings=CONTEXT)
@_policy_option
@_shared_options
@click.pass_context
def retention_show(ctx: click.Context, policy_file: Path | None, sub_home: str | None,
                   sub_db: str | None) -> None:
    """Print the policy in force (after validation) and where it comes from.

    \b
    Example:
      bwv retention show
      bwv retention show --policy draft-retention.yaml
    """
    from pipeline.nightly.retention import find_policy, load_policy, policy_yaml

    _apply_shared(ctx, sub_home, sub_db)
    path = find_policy(_instance(ctx).home, policy_file)
    policy = load_policy(path)
    click.echo(f"# {path if path else 'built-in defaults'}")
    click.echo(policy_yaml(policy), nl=False)


@cli.group(context_settings=CONTEXT)
def hold() -> None:
    """Legal holds: footage that retention keeps, whatever its age.

    MEDIA is a media id, a SHA-256 (or at least its first 8 hex digits), or a
    file name it arrived under.

    \b
    Example:
      bwv hold add 2026-11-27_0412.mp4 --reason "IOPC referral 2026/114"
      bwv hold list
      bwv hold remove 42 --reason "case closed"
    """


@hold.command("add", context_settings=CONTEXT)
@click.argument("media")
@click.option("--reason", required=True, help="Why it is held: a case or request reference.")
@_shared_options
@click.pass_context
def hold_add(ctx: click.Context, media: str, reason: str, sub_home: str | None,
             sub_db: str | None) -> None:
    """Put an item on legal hold (audited).

    \b
    Example:
      bwv hold add 3f2a9c1e --reason "IOPC referral 2026/114"
    """
    from pipeline.nightly.retention import place_hold
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    held = place_hold(store, media, reason=reason, actor=current_actor())
    click.echo(f"media {held.media_id} is on legal hold")


@hold.command("remove", context_settings=CONTEXT)
@click.argument("media")
@click.option("--reason", help="Why the hold is lifted (kept in the audit log).")
@_shared_options
@click.pass_context
def hold_remove(ctx: click.Context, media: str, reason: str | None, sub_home: str | None,
                sub_db: str | None) -> None:
    """Lift an item's legal hold (audited); retention then treats it like any other.

    \b
    Example:
      bwv hold remove 42 --reason "case closed"
    """
    from pipeline.nightly.retention import lift_hold
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    lifted = lift_hold(store, media, actor=current_actor(), reason=reason)
    click.echo(f"media {lifted.media_id} is no longer on legal hold")


@hold.command("list", context_settings=CONTEXT)
@_shared_options
@click.pass_context
def hold_list(ctx: click.Context, sub_home: str | None, sub_db: str | None) -> None:
    """List legal holds: media id, hash, when, by whom, the file's name and the reason.

    \b
    Example:
      bwv hold list
    """
    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    holds = open_instance(_instance(ctx)).legal_holds()
    for h in holds:
        click.echo(f"{h.media_id}\t{(h.sha256 or '')[:12]}\t{h.placed_at:%Y-%m-%d %H:%M}\t"
                   f"{h.placed_by}\t{h.name}\t{h.reason}")
    if not holds:
        click.echo("no legal holds", err=True)
