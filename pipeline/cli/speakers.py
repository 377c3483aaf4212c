"""``bwv speakers``: tell transcribed files' speakers apart again, without transcribing."""

from __future__ import annotations

import click

from pipeline.cli.common import CONTEXT, _apply_shared, _instance, _shared_options, cli


@cli.command("speakers", context_settings=CONTEXT)
@click.argument("media_ids", nargs=-1, type=click.IntRange(min=1, max=2**31 - 1))
@click.option("--all", "every", is_flag=True, help="Every transcribed file.")
@click.option("--method", type=click.Choice(["ge2e", "mfcc"]), default="ge2e", show_default=True,
              help="How voices are told apart.")
@_shared_options
@click.pass_context
def speakers(ctx: click.Context, media_ids: tuple[int, ...], every: bool, method: str,
             sub_home: str | None, sub_db: str | None) -> None:
    """Tell the speakers of transcribed files apart again (the camera wearer, speaker 2, ...).

    The words stay as transcribed; each file's audio is decoded again from its original.
    TIPs' corrections are kept. Flags keep their categories and take the speakers of their
    words. Use it after an upgrade, or to compare --method.

    \b
    Example:
      bwv speakers 12 14
      bwv speakers --all
    """
    from pipeline.batch.speakers_again import speakers_again
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    if bool(media_ids) == every:
        raise click.UsageError("give media ids, or --all")
    instance = _instance(ctx)
    store = open_instance(instance)
    done = [m.id for m in store.iter_media() if m.state == "done"]
    ids = list(dict.fromkeys(media_ids)) or done  # each once, in the order given
    unknown = [str(i) for i in ids if i not in done]
    if unknown:  # checked before any work: all or nothing
        raise click.UsageError(f"no transcribed media item {', '.join(unknown)} (bwv export "
                               "media lists them; a file is ready once its state is done)")
    if not ids:
        click.echo("no transcribed files yet: nothing to do")
    for media_id in ids:
        result = speakers_again(instance, store, media_id, method=method, actor=current_actor())
        found = sorted({t.speaker for t in result.turns})
        click.echo(f"media {media_id}: {result.status}: {', '.join(found) or 'no speech'}")
