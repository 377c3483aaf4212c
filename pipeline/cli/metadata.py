"""``bwv metadata import``: footage metadata from the force's evidence system."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import CONTEXT, _apply_shared, _instance, _shared_options, cli


@cli.group(context_settings=CONTEXT)
def metadata() -> None:
    """Footage metadata: who wore the camera, their team and shift, and what the call was.

    \b
    Example:
      bwv metadata import dems-2026-12-05.csv
    """


def import_and_say(manifest: Path, *, ctx: click.Context, inbox: Path | None) -> None:
    """Import a manifest into the instance and print what was written (shared with run)."""
    from pipeline.batch.metadata import import_manifest
    from pipeline.store import current_actor, open_instance

    instance = _instance(ctx)
    store = open_instance(instance)
    result = import_manifest(manifest, store, actor=current_actor(), inbox=inbox,
                             home=instance.home)
    click.echo(f"imported metadata for {result.rows} file(s) from {manifest.name}: "
               f"{result.new} new, {result.replaced} updated, {result.waiting} still in the inbox",
               err=True)


@metadata.command("import", context_settings=CONTEXT)
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--inbox", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also match files waiting in this inbox, not yet ingested.")
@_shared_options
@click.pass_context
def import_(ctx: click.Context, manifest: Path, inbox: Path | None,
            sub_home: str | None, sub_db: str | None) -> None:
    """Import MANIFEST (CSV with a header row, or JSON Lines) from the evidence system.

    Per file: file (the name as uploaded) or sha256, and any of officer_id, officer_name,
    team, shift, incident_ref, incident_type, recorded_at (ISO 8601 with a time zone),
    camera_id. Every row is checked first; any problem (an unknown column or file, two
    rows for one file, a bad time) is listed with its line and nothing is imported.
    A file named again takes the new manifest's columns (an empty cell clears one) and
    keeps the rest.

    \b
    Example:
      bwv metadata import dems-2026-12-05.csv
      bwv metadata import export.jsonl --inbox /srv/bwv/inbox
    """
    _apply_shared(ctx, sub_home, sub_db)
    import_and_say(manifest, ctx=ctx, inbox=inbox)
