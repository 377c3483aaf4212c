"""Media items from arrival to review items: names and originals, probes, speech audio,
transcripts, flags, and the rows that ``bwv export`` and the summaries read.

A mixin of :class:`pipeline.store.Store`. Each stage's results and its job row are
written in one transaction, replacing what an interrupted attempt may have left.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from pipeline import clock
from pipeline.errors import StoreError
from pipeline.records import Flag, MediaProbe, ReviewWindow, Segment, Transcription, Word
from pipeline.store import schema as db
from pipeline.store.jobs import JobQueries


@dataclass(frozen=True)
class Totals:
    """Summary figures over a set of media items."""

    audio_s: float
    flags_by_category: Counter[str]
    review_items: int


class MediaQueries(JobQueries):
    """Media items, transcripts and flags (mixed into ``Store``)."""

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

    def save_transcript(
        self, media_id: int, result: Transcription, *, model: str, model_sha256: str,
        settings: dict[str, Any], speaker_status: str | None = None,
        speaker_info: dict[str, Any] | None = None,
    ) -> None:
        """Store a transcript's segments and words, replacing any earlier attempt.

        The segments carry their speakers where the speaker stage told them apart
        (``speaker_status``, with ``speaker_info`` on how). A segment that does not say which
        speech model produced its words is stored as produced by ``model``.
        """
        with self.session() as s:
            s.execute(delete(db.Segment).where(db.Segment.media_id == media_id))
            s.execute(delete(db.Transcript).where(db.Transcript.media_id == media_id))
            s.add(db.Transcript(
                media_id=media_id, model=model, model_sha256=model_sha256,
                language=result.language, settings_json=json.dumps(settings, sort_keys=True),
                audio_s=result.audio_s, elapsed_s=result.elapsed_s, created_at=clock.now(),
                speaker_status=speaker_status,
                speaker_info=None if speaker_info is None else json.dumps(speaker_info),
            ))
            s.add_all(segment_rows(media_id, result.segments, model=model))
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
                    r.avg_logprob, r.no_speech_prob, r.speaker, r.origin, r.model,
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


def segment_rows(media_id: int, segments: Sequence[Segment], *, model: str | None = None
                 ) -> list[db.Segment]:
    """Rows for a transcript's segments, each word with its speaker in ``words_json``; a
    segment whose ``model`` is None is stored with ``model`` (the transcript's)."""
    return [
        db.Segment(
            media_id=media_id, idx=i, start_s=seg.start_s, end_s=seg.end_s, text=seg.text,
            words_json=json.dumps([asdict(w) for w in seg.words]),
            avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob,
            speaker=seg.speaker, origin=seg.origin, model=model if seg.model is None else seg.model,
        )
        for i, seg in enumerate(segments)
    ]
