"""``bwv sample``: routine samples of unflagged footage for the review queue."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pipeline.cli.common import CONTEXT, _apply_shared, _instance, _shared_options, cli

if TYPE_CHECKING:
    from pipeline.store import Store


def share_option(fn):  # type: ignore[no-untyped-def]
    """--routine-share, shared by run and sample."""
    from pipeline.review.routine import DEFAULT_SHARE

    return click.option("--routine-share", type=click.FloatRange(0.0, 1.0), default=DEFAULT_SHARE,
                        show_default=True,
                        help="Share of the footage with no flags queued as routine samples "
                        "(over 30 days, spread fairly across officers); 0: none.")(fn)


def sample_and_say(store: Store, share: float, *, dry_run: bool = False) -> None:
    """Take the night's routine samples and print what was queued (shared with run)."""
    from pipeline.review.routine import take_routine_samples
    from pipeline.store import current_actor

    plan = take_routine_samples(store, share=share, actor=current_actor(), dry_run=dry_run)
    verb = "would queue" if dry_run else "queued"
    click.echo(f"routine samples: {verb} {len(plan.picks)} (share {share:g} of {plan.seen} "
               f"unflagged file(s) in 30 days, {plan.taken} already taken)", err=True)
    names = store.names_by_media() if plan.picks else {}
    for officer, media_id in plan.picks:
        name = (names.get(media_id) or [f"media {media_id}"])[0]
        click.echo(f"  {name} (media {media_id}), officer {officer or '(no metadata)'}", err=True)


@cli.command(context_settings=CONTEXT)
@share_option
@click.option("--dry-run", is_flag=True, help="Say which files would be sampled; queue none.")
@_shared_options
@click.pass_context
def sample(ctx: click.Context, routine_share: float, dry_run: bool, sub_home: str | None,
           sub_db: str | None) -> None:
    """Queue routine samples: a share of the footage the rubric did not flag.

    bwv run does this after each batch; run it yourself after bwv watch. A TIP's
    "missed moment" on a routine sample is what the rubric misses (bwv rubric eval
    --from-reviews reports them apart).

    \b
    Example:
      bwv sample --dry-run
      bwv sample --routine-share 0.05
    """
    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    sample_and_say(open_instance(_instance(ctx)), routine_share, dry_run=dry_run)
