"""Review-side commands: ``bwv rubric``, ``bwv serve``, ``bwv user``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pipeline.cli.common import (
    CONTEXT,
    _apply_shared,
    _instance,
    _shared_options,
    cli,
)
from pipeline.errors import RubricError


@cli.group(context_settings=CONTEXT)
def rubric() -> None:
    """Check rubric files.

    \b
    Example:
      bwv rubric check rubrics/trauma_informed.yaml
    """


@rubric.command("check", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def rubric_check(file: Path | None) -> None:
    """Validate a rubric: list every error with its path and line, or print its counts.

    \b
    Example:
      bwv rubric check rubrics/trauma_informed.yaml
    """
    from pipeline.flagging.engine import FlagEngine, load_nlp
    from pipeline.flagging.rubric import load_rubric

    try:
        loaded = load_rubric(file)
        FlagEngine(loaded, load_nlp())
    except RubricError as exc:
        for line in exc.errors:
            click.echo(f"{exc.source}:{line}" if line[:1].isdigit() else f"{exc.source}: {line}", err=True)
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    patterns = sum(len(c.patterns) for c in loaded.categories)
    click.echo(f"{loaded.ref}: {len(loaded.categories)} categories, {patterns} patterns")
    for cat in loaded.categories:
        click.echo(f"  {cat.id:<28} {cat.family:<11} severity {cat.severity}  {len(cat.patterns)} patterns")


@rubric.command("eval", context_settings=CONTEXT)
@click.argument("rubric_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.argument("examples_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--min-precision", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--min-recall", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--by", type=click.Choice(["family", "category"]), default="family", show_default=True,
              help="Apply the thresholds to each family or to each category.")
@click.option("--from-reviews", is_flag=True,
              help="Also score against reviewers' decisions in the database: flags confirmed or "
                   "marked not relevant, and moments the rubric missed.")
@_shared_options
@click.pass_context
def rubric_eval(ctx: click.Context, rubric_file: Path | None, examples_file: Path | None,
                min_precision: float, min_recall: float, by: str, from_reviews: bool,
                sub_home: str | None, sub_db: str | None) -> None:
    """Score a rubric against labelled sentences: precision, recall, misses, false alarms.

    Each sentence is run as its speaker (the examples file's `speaker:` wearer,
    others or unknown; by default whoever its category's words come from), and
    the report adds scores per speaker and for the same sentences flagged by
    language alone, as a file whose speakers could not be told apart is.

    With --from-reviews, the rubric is also run over every reviewed
    transcript and scored against the reviewers' decisions (a flag within a
    second of the marked moment counts). Exits 1 when a family (or category,
    with --by category) falls below a threshold in either evaluation.

    \b
    Example:
      bwv rubric eval --min-precision 0.9 --min-recall 0.9
      bwv rubric eval rubrics/trauma_informed.yaml rubrics/trauma_informed.examples.yaml
      bwv rubric eval --from-reviews
    """
    from pipeline.flagging.engine import FlagEngine, load_nlp
    from pipeline.flagging.evaluate import (
        below_thresholds,
        evaluate_reviews,
        evaluate_rubric,
        load_examples,
        speaker_corrections,
    )
    from pipeline.flagging.rubric import load_rubric

    _apply_shared(ctx, sub_home, sub_db)
    engine = FlagEngine(load_rubric(rubric_file), load_nlp())
    click.echo(f"{engine.rubric.ref}\n\nlabelled examples")
    results = [evaluate_rubric(engine, load_examples(examples_file))]
    _print_evaluation(results[0])
    if from_reviews:
        from pipeline import store as store_mod

        store = store_mod.open_instance(_instance(ctx))
        reviews = evaluate_reviews(engine, store)
        store.audit(actor=store_mod.current_actor(), action="rubric-eval", obj="rubric_feedback",
                    detail=engine.rubric.ref)
        click.echo("\n\nreviewers' decisions")
        if reviews is None:
            click.echo("no reviewer decisions recorded yet: nothing to score")
        else:
            _print_evaluation(reviews)
            results.append(reviews)
        _print_speaker_corrections(speaker_corrections(engine, store))
        _print_routine_misses(store)
    failed = [
        line for result in results
        for line in below_thresholds(result, min_precision=min_precision, min_recall=min_recall, by=by)
    ]
    for line in failed:
        click.echo(f"below threshold: {line}", err=True)
    if failed:
        sys.exit(1)


def _proxy_addresses(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--forwarded-allow-ips``: comma-separated addresses or networks, normalised; None
    when empty (forwarding headers off)."""
    import ipaddress

    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} is not an IP address or network: name the reverse proxies that "
                "send X-Forwarded-For, e.g. 127.0.0.1 or 10.0.0.0/24",
                param_hint="--forwarded-allow-ips") from None
    return ",".join(items) or None


@cli.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep 127.0.0.1 behind a TLS reverse proxy).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this certificate (cookies are then Secure).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="The certificate's key.")
@click.option("--forwarded-allow-ips", envvar="BWV_FORWARDED_ALLOW_IPS", metavar="IPS",
              callback=_proxy_addresses,
              help="Believe X-Forwarded-For and X-Forwarded-Proto only from these reverse proxies "
                   "(comma-separated addresses or networks; or BWV_FORWARDED_ALLOW_IPS). "
                   "Default: none; the headers are ignored and the peer's address is logged.")
@_shared_options
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, tls_cert: str | None, tls_key: str | None,
          forwarded_allow_ips: str | None, sub_home: str | None, sub_db: str | None) -> None:
    """Start the review app for TIPs, trainers and admins.

    \b
    Example:
      bwv user add alice --role tip < password.txt
      bwv serve --port 8000
      bwv serve --forwarded-allow-ips 127.0.0.1   (behind a TLS proxy on this machine)
    """
    import os

    import uvicorn

    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    open_instance(instance)  # migrate and fail here, not on the first request
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("give both --tls-cert and --tls-key, or neither")
    os.environ["BWV_HOME"], os.environ["BWV_DB"] = str(instance.home), instance.db_url
    if not ctx.find_root().obj.get("quiet"):
        scheme = "https" if tls_cert else "http"
        click.echo(f"bwv review app on {scheme}://{host}:{port}/ (instance {instance.home})")
    # Loaded by name: the library (pipeline/) never imports the web app.
    # uvicorn believes forwarding headers from 127.0.0.1 unless told otherwise: a header anyone
    # can send would choose the address that throttling counts and the audit log records.
    uvicorn.run("reviewers.app:app_from_environment", factory=True, host=host, port=port,
                ssl_certfile=tls_cert, ssl_keyfile=tls_key, server_header=False,
                log_level="warning", access_log=False,
                proxy_headers=forwarded_allow_ips is not None,
                forwarded_allow_ips=forwarded_allow_ips)


@cli.group(context_settings=CONTEXT)
def user() -> None:
    """Manage review-app accounts.

    \b
    Example:
      bwv user add alice --role tip   (the password is read from standard input)
      bwv user list
    """


def _read_password() -> str:
    """A password from standard input: asked twice, hidden, on a terminal; else the first line."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise click.ClickException("the passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@user.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.option("--role", type=click.Choice(["tip", "trainer", "admin", "officer"]), required=True)
@click.option("--officer-id", help="An officer's collar number (the officer role needs it): "
              "they see the feedback shared on footage the metadata says is theirs.")
@_shared_options
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, officer_id: str | None,
             sub_home: str | None, sub_db: str | None) -> None:
    """Create an account; its password is read from standard input, never the command line.

    \b
    Example:
      printf '%s\\n' "$PASSWORD" | bwv user add alice --role tip
      printf '%s\\n' "$PASSWORD" | bwv user add pc4512 --role officer --officer-id 4512
    """
    from pipeline.review.accounts import add_user
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    user_id = add_user(store, name, role=role, password=_read_password(), actor=current_actor(),
                       officer_id=officer_id)
    stored = store.user_by_id(user_id)
    said = f", officer {stored.officer_id}" if stored and stored.officer_id else ""
    click.echo(f"added user {name} ({role}{said}), id {user_id}")


@user.command("password", context_settings=CONTEXT)
@click.argument("name")
@_shared_options
@click.pass_context
def user_password(ctx: click.Context, name: str, sub_home: str | None, sub_db: str | None) -> None:
    """Give an account a new password, read from standard input; its sessions end.

    The password must be 12 to 128 characters and not easy to guess (the
    error says why one is refused). Signed-in users change their own on the
    review app's "Change password" page.

    \b
    Example:
      printf '%s\\n' "$PASSWORD" | bwv user password alice
    """
    from pipeline.errors import NotFoundError
    from pipeline.review.accounts import set_password
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    account = store.user_by_name(name)
    if account is None:
        raise NotFoundError(f"no user named {name!r}")
    set_password(store, account.id, _read_password(), actor=current_actor())
    click.echo(f"changed the password of {name}")


@user.command("list", context_settings=CONTEXT)
@_shared_options
@click.pass_context
def user_list(ctx: click.Context, sub_home: str | None, sub_db: str | None) -> None:
    """List accounts with their roles and whether they are disabled.

    \b
    Example:
      bwv user list
    """
    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    for account in open_instance(_instance(ctx)).list_users():
        state = "disabled" if account.disabled else "active"
        click.echo(f"{account.name}\t{account.role}\t{state}"
                   + (f"\tofficer {account.officer_id}" if account.officer_id else ""))


@user.command("teams", context_settings=CONTEXT)
@click.argument("name")
@click.argument("teams", nargs=-1)
@_shared_options
@click.pass_context
def user_teams(ctx: click.Context, name: str, teams: tuple[str, ...], sub_home: str | None,
               sub_db: str | None) -> None:
    """Set a TIP's default teams (none: clear them); the queue opens on their footage.

    \b
    Example:
      bwv user teams alice "Response A" "Response B"
    """
    from pipeline.errors import NotFoundError
    from pipeline.review.accounts import set_default_teams
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    account = store.user_by_name(name)
    if account is None:
        raise NotFoundError(f"no user named {name!r}")
    names, unknown = set_default_teams(store, account.id, list(teams), actor=current_actor())
    click.echo(f"{name}'s default teams: {', '.join(names) or '(none)'}")
    if unknown:
        click.echo(f"note: no footage has team {', '.join(map(repr, unknown))} yet", err=True)


@user.command("disable", context_settings=CONTEXT)
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@_shared_options
@click.pass_context
def user_disable(ctx: click.Context, name: str, enable: bool, sub_home: str | None,
                 sub_db: str | None) -> None:
    """Disable an account (its sessions end at once, its claimed items go back to the
    queue) or, with --enable, enable it.

    \b
    Example:
      bwv user disable alice
    """
    from pipeline.errors import NotFoundError
    from pipeline.review.items import release_claims_of
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    account = store.user_by_name(name)
    if account is None:
        raise NotFoundError(f"no user named {name!r}")
    store.update_user(account.id, disabled=not enable)
    store.audit(actor=current_actor(), action="user-enable" if enable else "user-disable",
                obj=f"user:{account.id}")
    released = [] if enable else release_claims_of(store, account.id, actor=current_actor(),
                                                    why="account disabled")
    click.echo(f"{'enabled' if enable else 'disabled'} {name}"
               + (f"; released {len(released)} claimed item{'' if len(released) == 1 else 's'}: "
                  + ", ".join(str(i) for i in released) if released else ""))


def _print_routine_misses(store: Any) -> None:
    """What TIPs found the rubric missed on routine samples (footage it did not flag)."""
    reviewed, with_miss = store.routine_counts()
    misses = store.routine_misses()
    click.echo(f"\n\nroutine samples: {reviewed} reviewed, {with_miss} with a missed moment")
    by_category: dict[str, int] = {}
    for category, _text, _name in misses:
        by_category[category] = by_category.get(category, 0) + 1
    for category, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {category:28s} {n}")
    for category, text, name in misses:
        click.echo(f"  missed {category} in {name}: {text!r}")


def _print_speaker_corrections(found: Any) -> None:
    """TIPs' corrections of who said a line (the speaker stage's feedback)."""
    click.echo("\n\nwho said it (lines TIPs moved to another speaker)")
    if found is None:
        click.echo("no lines moved yet")
        return
    click.echo(f"{found.moved} lines moved, {found.changed} to another speaker than the stage "
               f"gave, {found.crossed} between the wearer and the others")
    for line in found.lines:
        click.echo(f"  flags change: {line}")


def _print_evaluation(result: Any) -> None:
    """Print an evaluation's tables, misses and false alarms."""
    cols = ["precision", "recall", "support", "tp", "fp", "fn"]
    scored = result.table[result.table.support + result.table.fp > 0]
    click.echo(scored[["family", *cols]].round(3).to_string())
    click.echo("\n" + result.families[cols].round(3).to_string())
    click.echo("\n" + result.totals.round(3).to_string())
    speakers = result.speakers
    if speakers is not None and list(speakers.index) != ["unknown"]:
        click.echo("\n" + speakers[["sentences", *cols[:2], *cols[3:]]].round(3).to_string())
    if result.scoping is not None:
        click.echo("\n" + result.scoping.round(3).to_string())
    for title, rows in (("misses", result.misses), ("false alarms", result.false_alarms)):
        click.echo(f"\n{title} ({len(rows)}):")
        for category, text in rows:
            click.echo(f"  {category:<28} {text}")


