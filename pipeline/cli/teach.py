"""Teaching commands: ``bwv teach search``, ``review`` and ``export``."""
from __future__ import annotations

import hashlib
import json
import os
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
from pipeline.errors import InvalidRequestError


@cli.group(context_settings=CONTEXT)
def teach() -> None:
    """Find annotated moments and export redacted teaching packs.

    \b
    Example:
      bwv teach search --teaching --label "good practice"
      bwv teach review 12 15 --as jo.trainer -o review.json
      bwv teach export 12 15 --as jo.trainer --review review.json --reason "Module 3" \\
          --recipient "L&D team" -o pack.zip
    """


@teach.command("search", context_settings=CONTEXT)
@click.option("--label", help="A label: a taxonomy id, 'good practice', 'missed opportunity', ...")
@click.option("--category", help="A taxonomy id, in the labels or flagged in the moment.")
@click.option("--min-rating", type=click.IntRange(1, 5))
@click.option("--max-rating", type=click.IntRange(1, 5))
@click.option("--teaching", is_flag=True, help="Only moments marked as teaching examples.")
@click.option("--text", help="Words in the feedback or in the transcript of the moment.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Submitted on or after.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Submitted on or before.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@_shared_options
@click.pass_context
def teach_search(ctx: click.Context, label: str | None, category: str | None,
                 min_rating: int | None, max_rating: int | None, teaching: bool, text: str | None,
                 date_from: Any, date_to: Any, limit: int, fmt: str, sub_home: str | None,
                 sub_db: str | None) -> None:
    """Search submitted annotations (what trainers may export).

    \b
    Example:
      bwv teach search --category harm.domestic_abuse --min-rating 4 --format jsonl
    """
    from pipeline.store import current_actor, open_instance
    from pipeline.teach.search import search

    _apply_shared(ctx, sub_home, sub_db)
    store = open_instance(_instance(ctx))
    rows = search(store, label=label, category=category, min_rating=min_rating,
                  max_rating=max_rating, teaching=True if teaching else None, text=text,
                  date_from=date_from.date() if date_from else None,
                  date_to=date_to.date() if date_to else None, limit=limit, actor=current_actor())
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo(f"{'id':>5}  {'file':<32} {'range':<13} {'rating':<6} {'teach':<5} labels / feedback")
    for row in rows:
        span = f"{row['start_s']:.0f}-{row['end_s']:.0f} s"
        click.echo(f"{row['id']:>5}  {row['file'][:32]:<32} {span:<13} {row['rating'] or '':<6} "
                   f"{'yes' if row['teaching'] else '':<5} {', '.join(row['labels'])}: "
                   f"{row['feedback'][:60]}")
    click.echo(f"{len(rows)} annotation{'' if len(rows) == 1 else 's'}")


@teach.command("review", context_settings=CONTEXT)
@click.argument("annotation_ids", nargs=-1, required=True, type=int)
@click.option("--as", "as_user", required=True, metavar="NAME",
              help="The trainer (or admin) account reviewing the redactions; audited.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The review file to write (JSON; it holds the unredacted words).")
@_shared_options
@click.pass_context
def teach_review(ctx: click.Context, annotation_ids: tuple[int, ...], as_user: str, out: Path,
                 sub_home: str | None, sub_db: str | None) -> None:
    """Write the proposed redactions of these moments to a file, for a trainer to review.

    The file lists each moment's words, the TIP's feedback and every proposed
    redaction. Keep a proposal, remove it with a reason, add words, time
    ranges or boxes on the picture (its "how_to" says how), then export with
    --review FILE. The file holds the unredacted words: it is written readable
    by its owner only; delete it after the export.

    \b
    Example:
      bwv teach review 12 15 --as jo.trainer -o review.json
    """
    from pipeline.store import current_actor, open_instance
    from pipeline.teach.moments import exporting_account
    from pipeline.teach.pack import proposals
    from pipeline.teach.review_doc import review_document

    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    store = open_instance(instance)
    user = exporting_account(store, as_user, actor=current_actor())
    texts = proposals(instance, store, annotation_ids, actor=f"{current_actor()} as {user.name}")
    doc = review_document(texts, exporter=user.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        json.dump(doc, fh, indent=1, ensure_ascii=False)
    store.audit(actor=f"{current_actor()} as {user.name}", action="teach-review-written",
                obj="annotations:" + ",".join(str(t.annotation_id) for t in texts), detail=str(out))
    proposed = sum(len(t.proposed_speech.proposals) + len(t.proposed_feedback.proposals) for t in texts)
    click.echo(f"wrote {out}: {len(texts)} moment{'' if len(texts) == 1 else 's'}, {proposed} "
               "proposed redaction" + ("" if proposed == 1 else "s") + "; review it, then run bwv "
               f"teach export ... --review {out}")


@teach.command("export", context_settings=CONTEXT)
@click.argument("annotation_ids", nargs=-1, required=True, type=int)
@click.option("--as", "as_user", required=True, metavar="NAME",
              help="The trainer (or admin) account the export is made for; audited and in the pack.")
@click.option("--reason", required=True, help="Why the moments leave the review system.")
@click.option("--recipient", required=True, help="Who receives the pack.")
@click.option("--review", "review_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A review file from `bwv teach review`, with the trainer's decisions.")
@click.option("--accept-proposed", is_flag=True,
              help="Take the proposed redactions without a review (recorded as such in the pack).")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The pack to write (a .zip).")
@_shared_options
@click.pass_context
def teach_export(ctx: click.Context, annotation_ids: tuple[int, ...], as_user: str, reason: str,
                 recipient: str, review_file: Path | None, accept_proposed: bool, out: Path,
                 sub_home: str | None, sub_db: str | None) -> None:
    """Export annotated moments as a redacted teaching pack (faces, names, places, numbers).

    A person decides what is redacted: give the trainer's review (--review FILE,
    from `bwv teach review`), or --accept-proposed to take the automatic
    proposals as they are, which the pack's manifest and handout then say.

    \b
    Example:
      bwv teach export 12 15 --as jo.trainer --review review.json \\
          --reason "Module 3: first disclosures" --recipient "L&D team" -o pack.zip
    """
    from pipeline.store import current_actor, open_instance
    from pipeline.teach.moments import ExportRequest, exporting_account
    from pipeline.teach.pack import export_with_defaults
    from pipeline.teach.review_doc import Review, read_review

    if (review_file is None) == (not accept_proposed):
        raise InvalidRequestError(
            "say how the redactions were decided: --review FILE (write one with bwv teach review) "
            "or --accept-proposed" if review_file is None else
            "give either --review FILE or --accept-proposed, not both")
    _apply_shared(ctx, sub_home, sub_db)
    instance = _instance(ctx)
    store = open_instance(instance)
    user = exporting_account(store, as_user, actor=current_actor())
    if review_file is not None:
        raw = review_file.read_bytes()
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequestError(f"{review_file}: not a JSON review file ({exc})") from exc
        route = f"review file {review_file.name} (sha256 {hashlib.sha256(raw).hexdigest()[:16]})"

        def decide(texts: Any) -> Review:
            return read_review(doc, texts, route=route)
    else:
        def decide(texts: Any) -> Review:
            return Review.accept_proposed()
    result = export_with_defaults(instance, store, ExportRequest(
        annotation_ids=annotation_ids, reason=reason, recipient=recipient,
        actor=f"{current_actor()} as {user.name}", exporter=user.name, role=user.role,
    ), out, decide=decide)
    click.echo(f"wrote {result.path} ({len(result.moments)} moment"
               f"{'' if len(result.moments) == 1 else 's'}, sha256 {result.sha256})")
