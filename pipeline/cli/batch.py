"""Batch commands: ``bwv run``, ``bwv ingest``, ``bwv export``."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from pipeline.cli.common import (
    CONTEXT,
    EXIT_UNFINISHED,
    _apply_shared,
    _instance,
    _shared_options,
    cli,
)
from pipeline.cli.routine import share_option


def _processing_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--workers, --model, --device, --rubric, --speakers and --second-look, shared by run and watch."""
    fn = click.option("--second-look", type=click.Choice(["others", "off"]), default="off",
                      show_default=True,
                      help="others: decode the turns of every voice but the camera wearer's again "
                      "with the larger base model, combining the two passes word by word (slower; "
                      "see the README for what it gains and costs).")(fn)
    fn = click.option("--speakers", type=click.Choice(["ge2e", "mfcc", "off"]), default="ge2e",
                      show_default=True,
                      help="How voices are told apart (the camera wearer and speaker 2, 3, ...): "
                      "the GE2E voice encoder, cepstral statistics, or off (flags then go by "
                      "language alone).")(fn)
    fn = click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                      help="Rubric YAML (default: rubrics/trauma_informed.yaml).")(fn)
    fn = click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu",
                      show_default=True)(fn)
    fn = click.option("--model", default="tiny.en", show_default=True,
                      help="Speech model: tiny.en, base, or a CTranslate2 model folder.")(fn)
    return click.option("--workers", type=click.IntRange(min=1),
                        help="Worker processes (default: from cores and memory).")(fn)


@cli.command(context_settings=CONTEXT)
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_processing_options
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where the stages run.")
@click.option("--settle-seconds", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Leave files modified more recently than this for the next run.")
@click.option("--address", help="Ray executor: a running cluster to join (HEAD:6379); "
              "default: start a local one for this run.")
@click.option("--retry-seconds", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Back-off before the first retry of a failed stage (x4 each time after).")
@share_option
@click.option("--metadata", "manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Import this footage metadata manifest first (see bwv metadata import); "
              "a manifest with problems stops the run before any work.")
@_shared_options
@click.pass_context
def run(ctx: click.Context, inbox: Path, workers: int | None, executor: str, model: str,
        device: str, rubric: Path | None, speakers: str, second_look: str, settle_seconds: float,
        address: str | None, retry_seconds: float, manifest: Path | None, routine_share: float,
        sub_home: str | None, sub_db: str | None) -> None:
    """Run the whole batch over INBOX: ingest, transcribe, flag, queue.

    Every file not yet done is processed; broken files are quarantined with a
    reason and the batch goes on. A run that was killed resumes where it
    stopped. Exits 0 when every file ended done or quarantined, 3 when some
    must wait for the next run (still being written, or a failure to retry).
    The audit log is then anchored (see bwv audit anchor).

    \b
    Example:
      bwv run data/samples
      bwv --home /srv/bwv run /srv/bwv/inbox --workers 2
      bwv run /srv/bwv/inbox --executor ray --address 10.0.0.5:6379
      bwv run /srv/bwv/inbox --metadata /srv/bwv/dems/2026-12-05.csv
    """
    from pipeline.batch.jobs import run_batch
    from pipeline.batch.scheduler import RunOptions
    from pipeline.cli.metadata import import_and_say
    from pipeline.cli.routine import sample_and_say
    from pipeline.store import current_actor, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    if address and executor != "ray":
        raise click.UsageError("--address is for --executor ray")
    instance = _instance(ctx)
    quiet = ctx.find_root().obj.get("quiet", False)
    if manifest is not None:
        import_and_say(manifest, ctx=ctx, inbox=inbox)
    options = RunOptions(workers=workers, executor=executor, address=address, model=model,
                         device=device, settle_s=settle_seconds, rubric_path=rubric,
                         retry_base_s=retry_seconds, speakers=speakers, second_look=second_look)
    with _Progress(quiet=quiet) as progress:
        summary = run_batch(inbox, instance=instance, options=options, on_file=progress.file,
                            on_start=progress.start)
    _print_summary(summary)
    store = open_instance(instance)
    if routine_share > 0:
        sample_and_say(store, routine_share)
    anchor = store.anchor_audit(actor=current_actor(), note="bwv run")
    if not quiet:
        click.echo(f"anchored the audit log: {anchor.rows} rows, head row {anchor.head_id}, "
                   f"in {store.audit_anchors_path()}", err=True)
    if summary.unfinished:
        sys.exit(EXIT_UNFINISHED)


@cli.command(context_settings=CONTEXT)
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--settle-seconds", type=click.FloatRange(min=0), default=5.0, show_default=True)
@_shared_options
@click.pass_context
def ingest(ctx: click.Context, inbox: Path, settle_seconds: float,
           sub_home: str | None, sub_db: str | None) -> None:
    """Only the ingest stage: hash and store every settled file of INBOX once.

    \b
    Example:
      bwv ingest /srv/bwv/inbox
    """
    from pipeline.batch.jobs import RunLock, ingest_inbox
    from pipeline.store import open_instance

    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    with RunLock(instance.home):
        seen = ingest_inbox(inbox, instance=instance, store=open_instance(instance),
                            settle_s=settle_seconds,
                            on_file=lambda o: click.echo(f"{o.state}: {o.name}: {o.reason}"))
    click.echo(f"ingested {len(seen)} media item(s)")


@cli.command(context_settings=CONTEXT)
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds between looks at the inbox.")
@click.option("--settle-seconds", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="A file is taken once its size and time have not changed for this long.")
@_processing_options
@_shared_options
@click.pass_context
def watch(ctx: click.Context, inbox: Path, interval: float, settle_seconds: float,
          workers: int | None, model: str, device: str, rubric: Path | None, speakers: str,
          second_look: str, sub_home: str | None, sub_db: str | None) -> None:
    """Watch INBOX and process files as they arrive, for forces that upload all day.

    A file is taken once it has stopped growing. The workers stay loaded between
    files; the run lock is held throughout, so a `bwv run` on the same instance
    waits its turn. Stop with Ctrl-C or SIGTERM: the file in hand is finished or
    resumed by the next start.

    \b
    Example:
      bwv watch /srv/bwv/inbox --interval 10
    """
    import signal
    import threading

    from pipeline.batch.jobs import Batch
    from pipeline.batch.scheduler import RunOptions

    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    quiet = ctx.find_root().obj.get("quiet", False)
    options = RunOptions(workers=workers, model=model, device=device, settle_s=settle_seconds,
                         rubric_path=rubric, speakers=speakers, second_look=second_look)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    progress = _Progress(quiet=quiet)
    with Batch(instance, options) as batch:
        if not quiet:
            click.echo(f"watching {inbox.resolve()} every {interval:g} s (Ctrl-C to stop)", err=True)
        while not stop.is_set():
            summary = batch.run(inbox, on_file=progress.file)
            if summary.run_id is not None and not quiet:
                done = sum(1 for o in summary.outcomes if o.state == "done")
                click.echo(f"pass finished: {done} done, {len(summary.quarantined)} quarantined, "
                           f"{len(summary.unfinished)} waiting", err=True)
            stop.wait(interval)
    if not quiet:
        click.echo("stopped", err=True)


class _Progress:
    """A progress bar on a terminal; one line per file otherwise."""

    def __init__(self, *, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.quiet = quiet
        self.console = Console(stderr=True)
        self.bar = (
            Progress(TextColumn("{task.description}"), BarColumn(),
                     TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                     console=self.console, transient=True)
            if self.console.is_terminal and not quiet else None
        )
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def start(self, pending: int) -> None:
        if self.bar:
            self.task = self.bar.add_task("processing", total=pending)

    def file(self, outcome: Any) -> None:
        if self.quiet:
            return
        detail = f" ({outcome.reason})" if outcome.reason else ""
        extra = f" {outcome.duration_s:.1f}s audio, {outcome.flags} flags" if outcome.state == "done" else ""
        line = f"{outcome.state:<11} {outcome.name}{extra}{detail}"
        if self.bar:
            self.bar.console.print(line, markup=False, highlight=False)
            if self.task is not None and outcome.state not in ("deferred",):
                self.bar.advance(self.task)
        else:
            click.echo(line, err=True)


def _print_summary(summary: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(width=max(100, Console().width))
    table = Table(title="bwv run: summary", show_header=True)
    add_row = table.add_row
    table.add_row = lambda *cells: add_row(*(Text(str(c)) for c in cells))  # type: ignore[method-assign]
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    states: dict[str, int] = {}
    for o in summary.outcomes:
        states[o.state] = states.get(o.state, 0) + 1
    table.add_row("files in inbox", str(summary.files))
    table.add_row("media items", ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "0")
    table.add_row("hours of footage", f"{summary.audio_s / 3600:.3f} ({summary.audio_s:.0f} s)")
    flags = summary.flags_by_category
    table.add_row("flags", str(sum(flags.values())))
    for category, n in sorted(flags.items()):
        table.add_row(f"  {category}", str(n))
    table.add_row("review items", str(summary.review_items))
    table.add_row("quarantined", str(len(summary.quarantined)))
    for o in summary.quarantined:
        table.add_row(f"  {o.name}", o.reason or "")
    for o in summary.unfinished:
        table.add_row(f"  waiting: {o.name}", o.reason or "")
    table.add_row("workers", f"{summary.workers} ({summary.executor})")
    if summary.peak_rss_by_worker:
        peaks = summary.peak_rss_by_worker.values()
        table.add_row("peak memory per worker", f"{max(peaks) / 1e6:.0f} MB")
    table.add_row("wall time", f"{summary.elapsed_s:.1f} s")
    speed = f"{summary.realtime_factor:.1f}x real time" if summary.processed_audio_s else "nothing new to process"
    table.add_row("throughput", speed)
    console.print(table, markup=False, highlight=False)


# --- exports --------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def export() -> None:
    """Export flags, transcripts or the media list (JSONL, CSV or WebVTT).

    \b
    Example:
      bwv export flags --format csv -o flags.csv
    """


def _write_jsonl(rows: Iterable[dict[str, Any]], stream: Any) -> int:
    count = 0
    for row in rows:
        count += 1
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    return count


def _export_options(formats: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
                          help="File (default: standard output).")(fn)
        fn = click.option("--format", "fmt", type=click.Choice(formats), default="jsonl",
                          show_default=True)(fn)
        return click.pass_context(_shared_options(fn))
    return wrap


def _run_export(ctx: click.Context, kind: str, fmt: str, out: str | None,
                sub_home: str | None, sub_db: str | None) -> None:
    """Write one export and record it in the audit log."""
    from pipeline.store import current_actor, exports, open_instance

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    rows = exports.ROWS[kind](store)
    stream = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    try:
        if fmt == "vtt":
            text = exports.to_vtt(rows)
            stream.write(text)
            count = text.count(" --> ")
        elif fmt == "csv":  # text that would be a formula in a spreadsheet is escaped
            count = exports.write_csv(stream, exports.FIELDS[kind], rows)
        else:
            count = _write_jsonl(rows, stream)
    finally:
        if out:
            stream.close()
    store.audit(actor=current_actor(), action=f"export.{kind}", obj=kind,
                detail=f"{count} rows as {fmt} to {out or 'stdout'}")
    if out:
        click.echo(f"wrote {count} {kind} rows to {out}", err=True)


@export.command("flags", context_settings=CONTEXT)
@_export_options(["jsonl", "csv"])
def export_flags(ctx: click.Context, fmt: str, out: str | None, sub_home: str | None, sub_db: str | None) -> None:
    """One row per flag: source, sha256, start, end, category, rubric, text, context, speaker.

    \b
    Example:
      bwv export flags --format jsonl -o flags.jsonl
    """
    _run_export(ctx, "flags", fmt, out, sub_home, sub_db)


@export.command("transcripts", context_settings=CONTEXT)
@_export_options(["jsonl", "csv", "vtt"])
def export_transcripts(ctx: click.Context, fmt: str, out: str | None, sub_home: str | None, sub_db: str | None) -> None:
    """One row per segment: source, sha256, start, end, speaker, speaker_name, model (the
    speech model that gave its words), text and words (JSONL).

    \b
    Example:
      bwv export transcripts --format vtt -o transcripts.vtt
    """
    _run_export(ctx, "transcripts", fmt, out, sub_home, sub_db)


@export.command("media", context_settings=CONTEXT)
@_export_options(["jsonl", "csv"])
def export_media(ctx: click.Context, fmt: str, out: str | None, sub_home: str | None, sub_db: str | None) -> None:
    """One row per file seen: source, sha256, state, reason, duration, names.

    \b
    Example:
      bwv export media --format csv
    """
    _run_export(ctx, "media", fmt, out, sub_home, sub_db)


# --- rubric ---------------------------------------------------------------------------------


