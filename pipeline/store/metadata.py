"""Queries of footage metadata (issue 18): writing a checked manifest, and reading each
original's officer, team, shift and incident for exports, reports and queues."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, insert, or_, select

from pipeline import clock
from pipeline.store import schema as db
from pipeline.store.audit import AuditQueries
from pipeline.store.base import chunks
from pipeline.store.meta_tables import FootageMeta, UserTeam

#: The columns a manifest fills (the rest say where a row came from).
_STORED = ("officer_id", "officer_name", "team", "shift", "incident_ref", "incident_type",
           "incident_text", "recorded_at", "camera_id")
#: The metadata columns exports and reports carry, in order.
META_COLUMNS = ("officer_id", "team", "shift", "incident_ref", "incident_type", "recorded_at")


class MetadataQueries(AuditQueries):
    """Footage metadata (mixed into ``Store``)."""

    def media_names_by_sha(self) -> Iterator[tuple[str, str]]:
        """(sha256, name) for every name every readable original arrived under."""
        query = (select(db.Media.sha256, db.MediaName.name)
                 .join(db.MediaName, db.MediaName.media_id == db.Media.id)
                 .where(db.Media.sha256.is_not(None)))
        with self.session() as s:
            yield from ((sha, name) for sha, name in s.execute(query) if sha is not None)

    def put_metadata(self, rows: Sequence[dict[str, Any]], *, actor: str,
                     manifest: str) -> tuple[int, int]:
        """Store checked rows (each with ``sha256``, ``source`` and the columns it gives), in
        one transaction; audited. A file named before keeps the columns a row leaves out.
        Returns (new, updated)."""
        now = clock.now()
        shas = [r["sha256"] for r in rows]
        before: dict[str, dict[str, Any]] = {}
        with self.session() as s:
            for part in chunks(shas):
                for meta in s.scalars(select(FootageMeta).where(FootageMeta.sha256.in_(part))):
                    before[meta.sha256] = {c: getattr(meta, c) for c in _STORED}
                s.execute(delete(FootageMeta).where(FootageMeta.sha256.in_(part)))
            full = [{**dict.fromkeys(_STORED), **before.get(r["sha256"], {}), **r,
                     "imported_by": actor, "imported_at": now} for r in rows]
            replaced = len(before)
            table = cast(Table, FootageMeta.__table__)
            for batch in chunks(full):  # Core's executemany: no ORM objects
                s.connection().execute(insert(table), batch)
        self.audit(actor=actor, action="metadata.import", obj=manifest,
                   detail=f"{len(rows)} rows: {len(rows) - replaced} new, {replaced} updated")
        return len(rows) - replaced, replaced

    def metadata_by_sha(self, shas: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Each original's metadata by its hash (all of it, or of these hashes)."""
        query = select(FootageMeta)
        out: dict[str, dict[str, Any]] = {}
        with self.session() as s:
            parts = ([query] if shas is None else
                     [query.where(FootageMeta.sha256.in_(part)) for part in chunks(shas)])
            for part in parts:
                for meta in s.scalars(part):
                    out[meta.sha256] = meta_values(meta)
        return out


def meta_values(meta: FootageMeta) -> dict[str, Any]:
    """A row's values by column name (``recorded_at`` in UTC, ISO 8601)."""
    at = clock.as_utc(meta.recorded_at) if meta.recorded_at is not None else None
    return {
        "officer_id": meta.officer_id, "officer_name": meta.officer_name, "team": meta.team,
        "shift": meta.shift, "incident_ref": meta.incident_ref,
        "incident_type": meta.incident_type, "incident_text": meta.incident_text,
        "recorded_at": at.isoformat() if at is not None else None,
        "camera_id": meta.camera_id, "source": meta.source,
    }


class TeamQueries(MetadataQueries):
    """The teams, shifts and officers footage metadata names, and TIPs' default teams."""

    def meta_choices(self, keys: Sequence[str] = ("team", "shift", "officer_id")
                     ) -> dict[str, list[str]]:
        """Every value of these columns (team, shift, officer id) some footage's metadata
        names, sorted: what the queue's filters offer."""
        with self.session() as s:
            return {key: sorted(v for v in s.scalars(
                select(getattr(FootageMeta, key)).distinct()) if v) for key in keys}

    def default_teams(self, user_id: int) -> list[str]:
        """A TIP's default teams, sorted."""
        with self.session() as s:
            return sorted(s.scalars(select(UserTeam.team).where(UserTeam.user_id == user_id)))

    def default_teams_by_user(self) -> dict[int, list[str]]:
        """Every account's default teams."""
        out: dict[int, list[str]] = {}
        with self.session() as s:
            for user_id, team in s.execute(select(UserTeam.user_id, UserTeam.team)
                                           .order_by(UserTeam.team)):
                out.setdefault(user_id, []).append(team)
        return out

    def set_default_teams(self, user_id: int, teams: Sequence[str], *, actor: str) -> None:
        """Replace an account's default teams; audited."""
        now = clock.now()
        with self.session() as s:
            s.execute(delete(UserTeam).where(UserTeam.user_id == user_id))
            for team in sorted(set(teams)):
                s.add(UserTeam(user_id=user_id, team=team, set_by=actor, set_at=now))
        self.audit(actor=actor, action="user-teams", obj=f"user:{user_id}",
                   detail=", ".join(sorted(set(teams))) or "(none)")


def media_with_meta(*where: Any, **equal: str) -> Any:
    """The ids of media whose metadata meets these conditions and has these values (a
    subquery for ``IN``)."""
    query = (select(db.Media.id).join(FootageMeta, FootageMeta.sha256 == db.Media.sha256)
             .where(*where))
    for key, value in equal.items():
        query = query.where(getattr(FootageMeta, key) == value)
    return query


def media_in_teams(teams: Sequence[str], *, or_no_team: bool) -> Any:
    """A condition on ``ReviewItem.media_id``: footage of these teams, and (``or_no_team``)
    footage no manifest gave a team."""
    in_teams = db.ReviewItem.media_id.in_(media_with_meta(FootageMeta.team.in_(teams)))
    if not or_no_team:
        return in_teams
    return or_(in_teams, db.ReviewItem.media_id.not_in(
        media_with_meta(FootageMeta.team.is_not(None))))
