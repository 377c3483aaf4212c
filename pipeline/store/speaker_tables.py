"""The tables of TIPs' corrections to speaker turns (a speaker named, a line moved).

Part of the schema of :mod:`pipeline.store.schema` (the same ``Base``), kept apart to keep
that module small; :mod:`pipeline.store.speakers` holds their queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.schema import Base


class SpeakerName(Base):
    """A TIP's name for one speaker of a file ("Officer 2", "Caller", "Child")."""

    __tablename__ = "speaker_name"
    __table_args__ = (UniqueConstraint("media_id", "speaker", name="uq_speaker_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    review_item_id: Mapped[int | None] = mapped_column(Integer)
    set_by: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpeakerMove(Base):
    """A TIP moved a line to another speaker; applied again over turns computed again."""

    __tablename__ = "speaker_move"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    from_speaker: Mapped[str | None] = mapped_column(String(40))
    to_speaker: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    review_item_id: Mapped[int | None] = mapped_column(Integer)
    set_by: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
