"""The ``bwv`` command group and what every command shares: the instance, errors, options."""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from pipeline import __version__
from pipeline.config import Instance, resolve_instance
from pipeline.errors import BwvError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_ERROR = 2
EXIT_UNFINISHED = 3


def _instance(ctx: click.Context) -> Instance:
    obj = ctx.find_root().obj or {}
    return resolve_instance(obj.get("home"), obj.get("db"))


def _fail(exc: BwvError) -> None:
    lines = str(exc).splitlines() or [type(exc).__name__]
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(EXIT_ERROR)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BwvError as exc:
            _fail(exc)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--home", type=click.Path(file_okay=False), envvar="BWV_HOME",
              help="Instance folder (database, media store, exports). Env: BWV_HOME.")
@click.option("--db", envvar="BWV_DB", help="Database URL (any SQLAlchemy URL). Env: BWV_DB.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to standard error.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary.")
@click.version_option(__version__, prog_name="bwv")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None, verbose: bool, quiet: bool) -> None:
    """bwv: body-worn video review for trauma-informed policing.

    \b
    Example:
      bwv run /srv/bwv/inbox
      bwv export flags --format jsonl -o flags.jsonl
    """
    ctx.obj = {"home": home, "db": db, "quiet": quiet}
    level = logging.DEBUG if verbose else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _shared_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--home and --db are accepted after the subcommand too."""
    fn = click.option("--db", "sub_db", help="Database URL (overrides BWV_DB).")(fn)
    fn = click.option("--home", "sub_home", type=click.Path(file_okay=False),
                      help="Instance folder (overrides BWV_HOME).")(fn)
    return fn


def _apply_shared(ctx: click.Context, sub_home: str | None, sub_db: str | None) -> None:
    obj = ctx.find_root().obj
    if sub_home:
        obj["home"] = sub_home
    if sub_db:
        obj["db"] = sub_db


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``bwv`` console script."""
    cli.main(args=argv, prog_name="bwv")
