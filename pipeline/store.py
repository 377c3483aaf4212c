"""All database access: open, migrate, and every query bwv makes.

The same code runs on SQLite (WAL, the embedded default) and PostgreSQL.
Each stage's results are written in one transaction, replacing what an
interrupted earlier attempt may have left, so a stage can always be rerun.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pipeline import clock
from pipeline import schema as db
from pipeline.errors import InvalidRequestError, NotFoundError, StoreError
from pipeline.flag import Flag
from pipeline.media import MediaProbe
from pipeline.queue import ReviewWindow
from pipeline.rubric import TAXONOMY, taxonomy_id
from pipeline.store_jobs import JobQueries
from pipeline.store_report import ReportQueries
from pipeline.store_retention import RetentionQueries
from pipeline.store_review import ReviewQueries, inside_file
from pipeline.transcribe import Segment, Transcription, Word

_GENESIS = "0" * 64
#: The PostgreSQL advisory lock that queues audit appends ("bwv" in ASCII).
_AUDIT_LOCK = 0x627776


def _stamp(at: datetime) -> str:
    """A timestamp as hashed in the audit chain (SQLite hands back naive UTC)."""
    return clock.as_utc(at).isoformat()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def current_actor() -> str:
    """Who is running a command-line action, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@dataclass(frozen=True)
class Totals:
    """Summary figures over a set of media items."""

    audio_s: float
    flags_by_category: Counter[str]
    review_items: int


class Store(ReviewQueries, JobQueries, ReportQueries, RetentionQueries):
    """The bwv database. Its queries are split by concern into mixins: the review app's
    (:mod:`pipeline.store_review`), the job engine's (:mod:`pipeline.store_jobs`), the nightly
    report's (:mod:`pipeline.store_report`) and retention's (:mod:`pipeline.store_retention`).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds for a bad URL
            raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema up to date with Alembic (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreError(f"cannot open the database {self.engine.url!r}: {exc.orig}") from exc

    # --- ingest -----------------------------------------------------------------------------

    def media_for_name(self, inbox: str, name: str, *, size: int, mtime_ns: int) -> int | None:
        """The media item this unchanged file was already hashed as, if any."""
        with self.session() as s:
            return s.scalar(
                select(db.MediaName.media_id).where(
                    db.MediaName.inbox == inbox,
                    db.MediaName.name == name,
                    db.MediaName.size_bytes == size,
                    db.MediaName.mtime_ns == mtime_ns,
                )
            )

    def unreadable_known(self, inbox: str, name: str) -> bool:
        """Whether this name was already recorded as unreadable (a refused symlink, say)."""
        with self.session() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(db.MediaName)
                    .join(db.Media)
                    .where(db.MediaName.inbox == inbox, db.MediaName.name == name)
                    .where(db.Media.sha256.is_(None))
                )
                or 0
            ) > 0

    def record_unreadable(self, inbox: str, name: str, reason: str) -> int:
        """A file that could not be read at all: a quarantined item with no hash."""
        now = clock.now()
        with self.session() as s:
            media = db.Media(state="quarantined", reason=reason, created_at=now, updated_at=now)
            s.add(media)
            s.flush()
            s.add(db.MediaName(media_id=media.id, inbox=inbox, name=name, first_seen_at=now))
            return media.id

    def add_original(
        self, sha256: str, *, size: int, store_path: str, inbox: str, name: str, mtime_ns: int
    ) -> tuple[int, bool]:
        """Record an original and the name it arrived under: (media id, whether it is new)."""
        now = clock.now()
        for _attempt in range(3):
            try:
                with self.session() as s:
                    media = s.scalar(select(db.Media).where(db.Media.sha256 == sha256))
                    created = media is None
                    if media is None:
                        media = db.Media(
                            sha256=sha256, state="ingested", size_bytes=size,
                            store_path=store_path, created_at=now, updated_at=now,
                        )
                        s.add(media)
                        s.flush()
                    name_row = s.scalar(
                        select(db.MediaName).where(
                            db.MediaName.media_id == media.id,
                            db.MediaName.inbox == inbox,
                            db.MediaName.name == name,
                        )
                    )
                    if name_row is None:
                        s.add(db.MediaName(
                            media_id=media.id, inbox=inbox, name=name, size_bytes=size,
                            mtime_ns=mtime_ns, first_seen_at=now,
                        ))
                    else:
                        name_row.size_bytes, name_row.mtime_ns = size, mtime_ns
                    return media.id, created
            except IntegrityError:
                continue  # another process added the same bytes or name first; look again
        raise StoreError(f"could not record original {sha256} after 3 attempts")

    def quarantine(self, media_id: int, reason: str) -> None:
        """Mark an item quarantined with a one-line reason."""
        with self.session() as s:
            media = s.get_one(db.Media, media_id)
            media.state, media.reason, media.updated_at = "quarantined", reason, clock.now()
            self._stage_quarantined(s, media_id, reason)

    def set_probe(self, media_id: int, probe: MediaProbe) -> None:
        """Store what ffprobe found."""
        with self.session() as s:
            media = s.get_one(db.Media, media_id)
            media.container, media.duration_s = probe.container, probe.duration_s
            media.has_video, media.width, media.height = probe.has_video, probe.width, probe.height
            media.audio_tracks = len(probe.audio)
            media.updated_at = clock.now()

    def set_audio(self, media_id: int, *, audio_path: str, track: int) -> None:
        """The speech WAV was extracted from this audio track."""
        with self.session() as s:
            media = s.get_one(db.Media, media_id)
            media.audio_path, media.audio_track = audio_path, track
            media.state, media.updated_at = "extracted", clock.now()
            self._stage_done(s, media_id, "extract")

    def get_media(self, media_id: int) -> db.Media:
        """One media item (detached)."""
        with self.session() as s:
            return s.get_one(db.Media, media_id)

    def pending_media(self) -> list[db.Media]:
        """Items not yet done or quarantined, oldest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(db.Media)
                    .where(db.Media.state.not_in(("done", "quarantined", "deleted")))
                    .order_by(db.Media.id)
                )
            )

    # --- transcripts, flags and the queue ---------------------------------------------------

    def save_transcript(
        self, media_id: int, result: Transcription, *, model: str, model_sha256: str,
        settings: dict[str, Any],
    ) -> None:
        """Store a transcript's segments and words, replacing any earlier attempt."""
        with self.session() as s:
            s.execute(delete(db.Segment).where(db.Segment.media_id == media_id))
            s.execute(delete(db.Transcript).where(db.Transcript.media_id == media_id))
            s.add(db.Transcript(
                media_id=media_id, model=model, model_sha256=model_sha256,
                language=result.language, settings_json=json.dumps(settings, sort_keys=True),
                audio_s=result.audio_s, elapsed_s=result.elapsed_s, created_at=clock.now(),
            ))
            s.add_all(
                db.Segment(
                    media_id=media_id, idx=i, start_s=seg.start_s, end_s=seg.end_s,
                    text=seg.text, words_json=json.dumps([asdict(w) for w in seg.words]),
                    avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob,
                )
                for i, seg in enumerate(result.segments)
            )
            media = s.get_one(db.Media, media_id)
            media.state, media.updated_at = "transcribed", clock.now()
            self._stage_done(s, media_id, "transcribe")

    def load_segments(self, media_id: int) -> list[Segment]:
        """A stored transcript's segments, in order."""
        with self.session() as s:
            rows = s.scalars(
                select(db.Segment).where(db.Segment.media_id == media_id).order_by(db.Segment.idx)
            )
            return [
                Segment(
                    r.start_s, r.end_s, r.text,
                    tuple(Word(**w) for w in json.loads(r.words_json)),
                    r.avg_logprob, r.no_speech_prob,
                )
                for r in rows
            ]

    def save_flags(
        self, media_id: int, flags: Sequence[Flag], windows: Sequence[ReviewWindow]
    ) -> None:
        """Store flags and review items and mark the item done, replacing any earlier attempt."""
        now = clock.now()
        with self.session() as s:
            s.execute(delete(db.Flag).where(db.Flag.media_id == media_id))
            s.execute(delete(db.ReviewItem).where(db.ReviewItem.media_id == media_id))
            item_of: dict[int, int] = {}
            for window in windows:
                item = db.ReviewItem(
                    media_id=media_id, start_s=window.start_s, end_s=window.end_s,
                    priority=window.priority, status="new",
                    categories=",".join(window.categories), created_at=now,
                )
                s.add(item)
                s.flush()
                item_of.update({i: item.id for i in window.flag_indexes})
            s.add_all(
                db.Flag(media_id=media_id, review_item_id=item_of.get(i), **asdict(flag))
                for i, flag in enumerate(flags)
            )
            media = s.get_one(db.Media, media_id)
            media.state, media.updated_at = "done", now
            self._stage_done(s, media_id, "flag")

    # --- exports and summaries --------------------------------------------------------------

    def names_by_media(self) -> dict[int, list[str]]:
        """Every name each media item arrived under, in the order first seen."""
        with self.session() as s:
            out: dict[int, list[str]] = {}
            for media_id, name in s.execute(
                select(db.MediaName.media_id, db.MediaName.name).order_by(db.MediaName.id)
            ):
                out.setdefault(media_id, []).append(name)
            return out

    def iter_media(self) -> Iterator[db.Media]:
        """Every media item, in the order first seen."""
        with self.session() as s:
            yield from s.scalars(select(db.Media).order_by(db.Media.id))

    def iter_segments(self) -> Iterator[tuple[db.Segment, str | None]]:
        """Every segment with its media's hash, by media then position."""
        with self.session() as s:
            query = (
                select(db.Segment, db.Media.sha256)
                .join(db.Media)
                .order_by(db.Segment.media_id, db.Segment.idx)
            )
            for seg, sha in s.execute(query):
                yield seg, sha

    def iter_flags(self) -> Iterator[tuple[db.Flag, str | None]]:
        """Every flag with its media's hash, by media then time."""
        with self.session() as s:
            query = (
                select(db.Flag, db.Media.sha256)
                .join(db.Media)
                .order_by(db.Flag.media_id, db.Flag.start_s, db.Flag.id)
            )
            for flag, sha in s.execute(query):
                yield flag, sha

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for summaries and tests)."""
        with self.session() as s:
            return {
                table.__tablename__: s.scalar(select(func.count()).select_from(table)) or 0
                for table in (db.Media, db.MediaName, db.Segment, db.Flag, db.ReviewItem)
            }

    def summarise(self, media_ids: Sequence[int]) -> Totals:
        """Footage, flags and review items of these media items (done ones only)."""
        ids = list(media_ids)
        with self.session() as s:
            audio = s.scalar(
                select(func.coalesce(func.sum(db.Media.duration_s), 0.0)).where(
                    db.Media.id.in_(ids), db.Media.state == "done"
                )
            )
            flags = Counter(
                dict(
                    s.execute(
                        select(db.Flag.category, func.count())
                        .where(db.Flag.media_id.in_(ids))
                        .group_by(db.Flag.category)
                    ).all()
                )
            )
            items = s.scalar(
                select(func.count()).select_from(db.ReviewItem).where(db.ReviewItem.media_id.in_(ids))
            )
            return Totals(audio_s=float(audio or 0.0), flags_by_category=flags, review_items=items or 0)

    # --- reviewers' judgements of the rubric ------------------------------------------------

    def record_flag_feedback(
        self, flag_id: int, *, relevant: bool, reviewer: str, note: str | None = None
    ) -> int:
        """A reviewer confirms a flag or marks it "not relevant" (their later word replaces it)."""
        kind = "confirmed" if relevant else "not_relevant"
        with self.session() as s:
            flag = s.get(db.Flag, flag_id)
            if flag is None:
                raise NotFoundError(f"no flag {flag_id}")
            s.execute(delete(db.RubricFeedback).where(
                db.RubricFeedback.flag_id == flag_id, db.RubricFeedback.reviewer == reviewer
            ))
            row = db.RubricFeedback(
                media_id=flag.media_id, flag_id=flag.id, kind=kind, category=flag.category,
                start_s=flag.start_s, end_s=flag.end_s, text=flag.context or flag.text,
                rubric=flag.rubric, note=note, reviewer=reviewer, created_at=clock.now(),
            )
            s.add(row)
            s.flush()
            feedback_id = row.id
        self.audit(actor=reviewer, action=f"rubric-feedback:{kind}", obj=f"flag:{flag_id}", detail=note)
        return feedback_id

    def add_missed_moment(
        self, media_id: int, *, category: str, start_s: float, end_s: float, reviewer: str,
        note: str | None = None,
    ) -> int:
        """A moment the rubric should have flagged, as a reviewer marked it on the timeline."""
        if taxonomy_id(category) not in TAXONOMY:
            raise InvalidRequestError(f"unknown category {category!r}: use a taxonomy id from RUBRIC.md")
        with self.session() as s:
            media = s.get(db.Media, media_id)
            if media is None or media.state != "done":
                raise NotFoundError(f"no transcribed media item {media_id}")
            duration = media.duration_s or 0.0
            if not inside_file(start_s, end_s, duration):
                raise InvalidRequestError(
                    f"time range {start_s:.2f}-{end_s:.2f} s is not inside the file (0-{duration:.2f} s)"
                )
        words = [
            seg.text for seg in self.load_segments(media_id)
            if seg.start_s < end_s and seg.end_s > start_s
        ]
        with self.session() as s:
            row = db.RubricFeedback(
                media_id=media_id, flag_id=None, kind="missed", category=category,
                start_s=start_s, end_s=end_s, text=" ".join(words), rubric=None, note=note,
                reviewer=reviewer, created_at=clock.now(),
            )
            s.add(row)
            s.flush()
            feedback_id = row.id
        self.audit(actor=reviewer, action="rubric-feedback:missed", obj=f"media:{media_id}",
                   detail=f"{category} {start_s:.2f}-{end_s:.2f}")
        return feedback_id

    def confirm_unmarked_flags(self, review_item_id: int, *, reviewer: str) -> int:
        """When an item is marked reviewed, its flags nobody marked "not relevant" count as confirmed."""
        with self.session() as s:
            judged = select(db.RubricFeedback.flag_id).where(db.RubricFeedback.flag_id.is_not(None))
            flags = s.scalars(select(db.Flag).where(
                db.Flag.review_item_id == review_item_id, db.Flag.id.not_in(judged)
            )).all()
            ids = [f.id for f in flags]
        for flag_id in ids:
            self.record_flag_feedback(flag_id, relevant=True, reviewer=reviewer)
        return len(ids)

    def rubric_feedback(self) -> list[tuple[db.RubricFeedback, str | None]]:
        """Every reviewer judgement, with the first name of its media item."""
        first_name = (
            select(db.MediaName.name).where(db.MediaName.media_id == db.RubricFeedback.media_id)
            .order_by(db.MediaName.id).limit(1).scalar_subquery()
        )
        with self.session() as s:
            return [(row, name) for row, name in s.execute(
                select(db.RubricFeedback, first_name).order_by(db.RubricFeedback.id)
            )]

    # --- audit ------------------------------------------------------------------------------

    def audit(self, *, actor: str, action: str, obj: str, detail: str | None = None) -> None:
        """Append one hash-chained audit row.

        On PostgreSQL appends queue on an advisory lock held for the transaction,
        so many writers at once never collide; SQLite's write lock does the same.
        The unique ``prev_hash`` still refuses a fork, and a refused append retries.
        """
        for attempt in range(20):
            try:
                with self.session() as s:
                    if self.engine.dialect.name == "postgresql":
                        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
                    prev = s.scalar(select(db.Audit.row_hash).order_by(db.Audit.id.desc()).limit(1))
                    prev = prev or _GENESIS
                    at = clock.now()
                    payload = json.dumps([prev, _stamp(at), actor, action, obj, detail])
                    s.add(db.Audit(
                        at=at, actor=actor, action=action, object=obj, detail=detail,
                        prev_hash=prev, row_hash=hashlib.sha256(payload.encode()).hexdigest(),
                    ))
                    return
            except IntegrityError:
                time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))  # another writer was first
        raise StoreError("could not append to the audit log after 20 attempts")

    def verify_audit_chain(self) -> bool:
        """Whether every audit row chains to the one before it."""
        with self.session() as s:
            prev = _GENESIS
            for row in s.scalars(select(db.Audit).order_by(db.Audit.id)):
                payload = json.dumps(
                    [prev, _stamp(row.at), row.actor, row.action, row.object, row.detail]
                )
                if row.prev_hash != prev or row.row_hash != hashlib.sha256(payload.encode()).hexdigest():
                    return False
                prev = row.row_hash
            return True


def open_store(url: str) -> Store:
    """Open a database and bring its schema up to date."""
    store = Store(url)
    store.migrate()
    return store
