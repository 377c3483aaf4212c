"""Database queries of retention and legal holds.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.

Deleting an item and placing a hold on it both start by writing the item's
media row, so on PostgreSQL they queue on its row lock and on SQLite on the
write lock: a hold placed while retention runs either lands first (and the
item is kept) or finds the item already deleted (and is refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.store import schema as db
from pipeline.store.base import Queries, first_name
from pipeline.store.meta_tables import FootageMeta, SharedFeedback
from pipeline.store.speaker_tables import SpeakerMove, SpeakerName
from pipeline.taxonomy import taxonomy_id

#: The states whose footage retention may delete: finished ones. An item still moving through
#: the batch is left until it ends done or quarantined, so the batch never writes to a deleted item.
RETAINABLE_STATES = ("done", "quarantined")

#: The audit action of one deletion (a run looks for it to finish an interrupted one).
DELETE_ACTION = "retention:delete"
#: The audit action that ends a finished run of ``apply_retention``.
APPLY_ACTION = "retention:apply"


@dataclass(frozen=True)
class Keeper:
    """One thing that can keep an item beyond its default time, and who put it there."""

    kind: str  # "legal hold", "teaching example", "annotated" or "category <taxonomy id>"
    reason: str  # e.g. "annotation 12 by alice, submitted 2026-11-30"


@dataclass(frozen=True)
class RetentionFacts:
    """What the policy needs to know about one stored original.

    Only what a trainer (or an admin) can see counts: a submitted annotation's current
    version. A draft, and a version since corrected, keep nothing.
    """

    media_id: int
    sha256: str
    state: str
    ingested_at: datetime
    name: str
    held: bool
    teaching: bool  # a submitted annotation (current version) is marked as a teaching example
    annotated: bool  # has a submitted annotation (drafts do not count)
    categories: tuple[str, ...]  # taxonomy ids flagged, or marked missed by a reviewer
    keepers: tuple[Keeper, ...] = ()  # the evidence for held, teaching, annotated and categories


@dataclass(frozen=True)
class DeletedMedia:
    """A media item retention marked deleted: where its files were."""

    media_id: int
    sha256: str | None
    store_path: str | None
    audio_path: str | None


@dataclass(frozen=True)
class HoldRow:
    """A legal hold with the item it keeps."""

    media_id: int
    sha256: str | None
    name: str
    reason: str
    placed_by: str
    placed_at: datetime


@dataclass(frozen=True)
class MediaMatch:
    """A media item that a reference given on the command line matched."""

    media_id: int
    sha256: str | None
    state: str
    names: tuple[str, ...]


#: An annotation retention counts: submitted, and the current version (what trainers see).
_SEEN = and_(db.Annotation.submitted_at.is_not(None), db.Annotation.superseded_at.is_(None))


def _keepers(s: Session, ids: list[int]) -> Iterator[tuple[int, Keeper]]:
    """What may keep each of these items beyond its default time, with who put it there."""
    a, h = db.Annotation, db.LegalHold
    for media_id, reason, by, at in s.execute(
            select(h.media_id, h.reason, h.placed_by, h.placed_at).where(h.media_id.in_(ids))):
        yield media_id, Keeper("legal hold", f"placed by {by} on {clock.as_utc(at):%Y-%m-%d}: {reason}")
    for media_id, annotation_id, is_teaching, submitted, author in s.execute(
            select(a.media_id, a.id, a.teaching, a.submitted_at, db.UserAccount.name)
            .join(db.UserAccount, db.UserAccount.id == a.author_id)
            .where(a.media_id.in_(ids), _SEEN).order_by(a.id)):
        said = f"annotation {annotation_id} by {author}" + (
            f", submitted {clock.as_utc(submitted):%Y-%m-%d}" if submitted else "")
        yield media_id, Keeper("annotated", said)
        if is_teaching:
            yield media_id, Keeper("teaching example", said)
    flagged = select(db.Flag.media_id, db.Flag.category, db.Flag.rubric).where(db.Flag.media_id.in_(ids))
    for media_id, category, rubric in s.execute(flagged.distinct().order_by(db.Flag.media_id)):
        yield media_id, Keeper(f"category {taxonomy_id(category)}", f"flagged by rubric {rubric}")
    fb = db.RubricFeedback
    missed = select(fb.media_id, fb.category, fb.reviewer).where(fb.media_id.in_(ids), fb.kind == "missed")
    for media_id, category, reviewer in s.execute(missed.distinct().order_by(fb.media_id)):
        yield media_id, Keeper(f"category {taxonomy_id(category)}", f"marked missed by {reviewer}")


class RetentionQueries(Queries):
    """Retention's queries (mixed into ``Store``)."""

    # --- what the policy looks at -----------------------------------------------------------

    def retention_facts(self, *, ingested_before: datetime) -> list[RetentionFacts]:
        """Finished originals ingested before a time, with their holds, annotations and flags,
        and who placed each (:class:`Keeper`).

        Rows without a hash (refused symlinks) hold no footage and are never listed.
        """
        m = db.Media
        held = exists().where(db.LegalHold.media_id == m.id)
        teaching = exists().where(db.Annotation.media_id == m.id, _SEEN, db.Annotation.teaching.is_(True))
        annotated = exists().where(db.Annotation.media_id == m.id, _SEEN)
        with self.session() as s:
            rows = s.execute(
                select(m.id, m.sha256, m.state, m.created_at, first_name(m.id),
                       held, teaching, annotated)
                .where(m.state.in_(RETAINABLE_STATES), m.sha256.is_not(None),
                       m.created_at < ingested_before)
                .order_by(m.id)
            ).all()
            ids = [r[0] for r in rows]
            keepers: dict[int, list[Keeper]] = {}
            for start in range(0, len(ids), 500):  # keep IN lists short
                for media_id, keeper in _keepers(s, ids[start:start + 500]):
                    keepers.setdefault(media_id, []).append(keeper)
        out = []
        for media_id, sha, state, created, name, is_held, is_teaching, is_annotated in rows:
            found = tuple(dict.fromkeys(keepers.get(media_id, ())))
            categories = sorted({k.kind.removeprefix("category ") for k in found
                                 if k.kind.startswith("category ")})
            out.append(RetentionFacts(
                media_id=media_id, sha256=sha or "", state=state, ingested_at=clock.as_utc(created),
                name=name or f"media {media_id}", held=bool(is_held), teaching=bool(is_teaching),
                annotated=bool(is_annotated), categories=tuple(categories), keepers=found,
            ))
        return out

    # --- deleting ----------------------------------------------------------------------------

    def _lock_media(self, s: Session, media_id: int) -> db.Media | None:
        """Write the media row first, so concurrent deletes and holds of it queue on its lock."""
        s.execute(update(db.Media).where(db.Media.id == media_id).values(updated_at=db.Media.updated_at))
        return s.get(db.Media, media_id, populate_existing=True)

    def mark_deleted(self, media_id: int, *, policy: str, actor: str, annotated: bool) -> bool:
        """Delete an item's rows and mark it deleted with a tombstone, in one transaction.

        The facts the decision rested on are checked again under the row's lock: an item
        put on hold, given a submitted teaching example, or (when ``annotated`` is false) given
        a submitted annotation since it was looked at is left alone, and False returned.
        Its files are left for :meth:`deleted_media` to find and remove.
        """
        now = clock.now()
        with self.session() as s:
            media = self._lock_media(s, media_id)
            if media is None or media.state not in RETAINABLE_STATES or media.sha256 is None:
                return False
            ann = db.Annotation
            changed = [
                exists().where(db.LegalHold.media_id == media_id),
                exists().where(ann.media_id == media_id, _SEEN, ann.teaching.is_(True)),
            ]
            if not annotated:
                changed.append(exists().where(ann.media_id == media_id, _SEEN))
            if any(s.scalar(select(cond)) for cond in changed):
                return False
            # Children before parents, so no ON DELETE SET NULL has anything left to do.
            # A TIP's corrections of speakers hold transcript words and names: they go too.
            s.execute(delete(SharedFeedback).where(SharedFeedback.media_id == media_id))
            for table in (db.RubricFeedback, db.Annotation, db.Flag, db.ReviewItem, db.Segment,
                          db.Transcript, db.Job, SpeakerMove, SpeakerName):
                s.execute(delete(table).where(table.media_id == media_id))
            # Who wore the camera and what the call was go with the footage.
            s.execute(delete(FootageMeta).where(FootageMeta.sha256 == media.sha256))
            media.state, media.reason, media.updated_at = "deleted", f"retention: {policy}", now
            s.add(db.Tombstone(media_id=media_id, sha256=media.sha256, deleted_at=now,
                               policy=policy, actor=actor))
            return True

    def deleted_media(self) -> list[DeletedMedia]:
        """Every item retention deleted, with where its files were (for the sweep)."""
        with self.session() as s:
            return [
                DeletedMedia(media_id, sha, store_path, audio_path)
                for media_id, sha, store_path, audio_path in s.execute(
                    select(db.Media.id, db.Media.sha256, db.Media.store_path, db.Media.audio_path)
                    .where(db.Media.state == "deleted").order_by(db.Media.id)
                )
            ]

    def unaudited_tombstones(self) -> list[db.Tombstone]:
        """Tombstones with no deletion audit row: a run stopped between the two.

        Only tombstones since the last finished run are looked at (a finished run audited all
        of its own), so the audit log, which has no index for this, is read once, not per row.
        """
        with self.session() as s:
            last_run = s.scalar(select(func.max(db.Audit.at)).where(db.Audit.action == APPLY_ACTION))
            query = select(db.Tombstone).order_by(db.Tombstone.id)
            if last_run is not None:
                query = query.where(db.Tombstone.deleted_at >= last_run)
            tombs = list(s.scalars(query))
            if not tombs:
                return []
            since = min(t.deleted_at for t in tombs)
            audited = set(s.scalars(select(db.Audit.object).where(
                db.Audit.action == DELETE_ACTION, db.Audit.at >= since)))
        return [t for t in tombs if f"media:{t.media_id}" not in audited]

    def tombstones(self) -> list[db.Tombstone]:
        """Every tombstone, oldest first."""
        with self.session() as s:
            return list(s.scalars(select(db.Tombstone).order_by(db.Tombstone.id)))

    # --- legal holds -------------------------------------------------------------------------

    def add_legal_hold(self, media_id: int, *, reason: str, placed_by: str) -> None:
        """Put an item on legal hold; retention keeps it, whatever its age."""
        with self.session() as s:
            media = self._lock_media(s, media_id)
            if media is None:
                raise NotFoundError(f"no media item {media_id}")
            if media.state == "deleted":
                raise InvalidRequestError(
                    f"media {media_id} was deleted by retention ({media.reason}): nothing is left to hold"
                )
            if media.sha256 is None:
                raise InvalidRequestError(f"media {media_id} was never read ({media.reason}): it holds no footage")
            current = s.scalar(select(db.LegalHold).where(db.LegalHold.media_id == media_id))
            if current is not None:
                raise InvalidRequestError(
                    f"media {media_id} is already on legal hold, placed by {current.placed_by} "
                    f"on {clock.as_utc(current.placed_at):%Y-%m-%d}: {current.reason}"
                )
            s.add(db.LegalHold(media_id=media_id, reason=reason, placed_by=placed_by,
                               placed_at=clock.now()))

    def remove_legal_hold(self, media_id: int) -> str:
        """Lift an item's legal hold; returns the reason it was placed for."""
        with self.session() as s:
            current = s.scalar(select(db.LegalHold).where(db.LegalHold.media_id == media_id))
            if current is None:
                raise NotFoundError(f"media {media_id} is not on legal hold")
            s.delete(current)
            return current.reason

    def legal_holds(self) -> list[HoldRow]:
        """Every legal hold, oldest first."""
        h = db.LegalHold
        with self.session() as s:
            rows = s.execute(
                select(h, db.Media.sha256, first_name(h.media_id))
                .join(db.Media, db.Media.id == h.media_id).order_by(h.placed_at, h.id)
            ).all()
        return [
            HoldRow(hold.media_id, sha, name or f"media {hold.media_id}", hold.reason,
                    hold.placed_by, clock.as_utc(hold.placed_at))
            for hold, sha, name in rows
        ]

    def match_media(self, *, media_id: int | None, sha_prefix: str | None,
                    name: str | None) -> list[MediaMatch]:
        """Media items with this id, a hash starting with this prefix, or arriving under this name."""
        conds = []
        if media_id is not None:
            conds.append(db.Media.id == media_id)
        if sha_prefix:
            conds.append(db.Media.sha256.startswith(sha_prefix.lower(), autoescape=True))
        if name:
            conds.append(db.Media.id.in_(select(db.MediaName.media_id).where(db.MediaName.name == name)))
        if not conds:
            return []
        with self.session() as s:
            media = list(s.execute(
                select(db.Media.id, db.Media.sha256, db.Media.state).where(or_(*conds))
                .order_by(db.Media.id).limit(20)
            ))
            names: dict[int, list[str]] = {}
            ids = [m[0] for m in media]
            for mid, nm in s.execute(
                select(db.MediaName.media_id, db.MediaName.name)
                .where(db.MediaName.media_id.in_(ids)).order_by(db.MediaName.id)
            ):
                names.setdefault(mid, []).append(nm)
        return [MediaMatch(mid, sha, state, tuple(names.get(mid, ()))) for mid, sha, state in media]
