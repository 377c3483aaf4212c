"""The tables of issue 18: footage metadata from the force's evidence system (who wore the
camera, their team and shift, and what the call was), each TIP's default teams, and the
feedback TIPs share with officers.

Part of the schema of :mod:`pipeline.store.schema` (the same ``Base``), kept apart to keep
that module small; :mod:`pipeline.store.metadata` holds its queries. A row is keyed by the
original's SHA-256, not by a media row: a manifest may describe files still waiting in an
inbox, and the row is found again when the file is ingested under any name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.schema import Base


class FootageMeta(Base):
    """One file's metadata, as the last manifest that named it gave it."""

    __tablename__ = "footage_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[str | None] = mapped_column(String(40), index=True)
    officer_name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    shift: Mapped[str | None] = mapped_column(String(100))
    incident_ref: Mapped[str | None] = mapped_column(String(100))
    # One of pipeline.batch.metadata.INCIDENT_TYPES, mapped from incident_text.
    incident_type: Mapped[str | None] = mapped_column(String(40))
    incident_text: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    camera_id: Mapped[str | None] = mapped_column(String(100))
    # Where it came from: the manifest's file name and line, and who imported it when.
    source: Mapped[str] = mapped_column(Text)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserTeam(Base):
    """One of a TIP's default teams: the queue opens on these teams' footage."""

    __tablename__ = "user_team"
    __table_args__ = (UniqueConstraint("user_id", "team", name="uq_user_team"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    team: Mapped[str] = mapped_column(String(100))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SharedFeedback(Base):
    """A TIP's submitted annotation shared with the officer who wore the camera: what the TIP
    wrote for the officer, and the officer's acknowledgement and one reply."""

    __tablename__ = "shared_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotation.id", ondelete="CASCADE"),
                                               unique=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    # Whose footage, from its metadata when it was shared.
    officer_id: Mapped[str] = mapped_column(String(40), index=True)
    note: Mapped[str] = mapped_column(Text)
    shared_by: Mapped[int] = mapped_column(Integer)
    shared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
