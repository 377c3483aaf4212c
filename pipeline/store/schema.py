"""The database schema: SQLAlchemy models shared by SQLite and PostgreSQL.

Alembic migrations in ``pipeline/migrations`` create exactly these tables;
``tests/test_store.py`` checks that the two never drift apart. Queries live
in :mod:`pipeline.store`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base for every bwv table."""


#: The largest id a row can have: ids are INTEGER, 32 bits in PostgreSQL (SQLite's are 64),
#: so a larger one names nothing on either database.
MAX_ID = 2**31 - 1

#: The states a media item moves through; ``quarantined`` and ``deleted`` (by retention) are final.
MEDIA_STATES = ("ingested", "extracted", "transcribed", "flagged", "done", "quarantined", "deleted")


class Media(Base):
    """One original file, identified by its bytes (SHA-256)."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Null only for a file that could not be read at all (a symlink, say).
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    store_path: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(String(100))
    duration_s: Mapped[float | None] = mapped_column(Float)
    has_video: Mapped[bool | None]
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    audio_tracks: Mapped[int | None] = mapped_column(Integer)
    audio_track: Mapped[int | None] = mapped_column(Integer)
    audio_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MediaName(Base):
    """A name under which an original arrived in an inbox."""

    __tablename__ = "media_name"
    __table_args__ = (UniqueConstraint("media_id", "inbox", "name", name="uq_media_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    inbox: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    # Size and mtime when last hashed: an unchanged file is not hashed again.
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Transcript(Base):
    """How a media item was transcribed (one per media item)."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), unique=True
    )
    model: Mapped[str] = mapped_column(String(200))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(10))
    settings_json: Mapped[str] = mapped_column(Text)
    audio_s: Mapped[float] = mapped_column(Float)
    elapsed_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Speakers (batch/speakers.py): "separated", "one voice", "without speakers" or None (not
    # run), and how they were told apart (JSON: method, seconds, each speaker's cues).
    speaker_status: Mapped[str | None] = mapped_column(String(20))
    speaker_info: Mapped[str | None] = mapped_column(Text)


class Segment(Base):
    """A transcribed segment; its words (with timestamps) are stored as JSON."""

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("media_id", "idx", name="uq_segment_idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words_json: Mapped[str] = mapped_column(Text)
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)
    # Who says it ("wearer", "speaker 2", ...; None: not told apart); which Whisper segment
    # it is (part of), so that turns computed again regroup its words.
    speaker: Mapped[str | None] = mapped_column(String(40))
    origin: Mapped[int | None] = mapped_column(Integer)
    # The speech model whose decoding gave its words ("tiny.en", "base" where the second look
    # decoded it again; as long as Transcript.model); None: stored before this was recorded.
    model: Mapped[str | None] = mapped_column(String(200))


class ReviewItem(Base):
    """An interaction window of one media item that a TIP reviews."""

    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_queue", "status", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    categories: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Who holds or reviewed the item (user ids; accounts are disabled, never deleted).
    # The claim is taken by a conditional UPDATE, so two people can never hold one item.
    claimed_by: Mapped[int | None] = mapped_column(Integer, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(Integer, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it was last dismissed or released (a reason the TIP must give), and by whom.
    reason: Mapped[str | None] = mapped_column(Text)
    reason_by: Mapped[int | None] = mapped_column(Integer)
    # "flagged" (the rubric's flags) or "routine" (a sample of footage with no flags).
    kind: Mapped[str] = mapped_column(String(20), server_default="flagged")


class Flag(Base):
    """A moment the rubric flagged."""

    __tablename__ = "flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    review_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_item.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(100), index=True)
    family: Mapped[str] = mapped_column(String(40))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text)
    rubric: Mapped[str] = mapped_column(String(200))
    pattern: Mapped[str] = mapped_column(String(200))
    severity: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(40))


#: What a reviewer said about the rubric: a flag confirmed or "not relevant", or a missed moment.
FEEDBACK_KINDS = ("confirmed", "not_relevant", "missed")


class RubricFeedback(Base):
    """A reviewer's judgement of the rubric on one moment, kept for ``bwv rubric eval``.

    The category and time range are copied from the flag, so the judgement
    outlives the flag row when a file is flagged again with a newer rubric.
    """

    __tablename__ = "rubric_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    flag_id: Mapped[int | None] = mapped_column(
        ForeignKey("flag.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    rubric: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: The roles of the review app: TIPs review, trainers see annotations, admins manage accounts,
#: officers read the feedback TIPs shared with them on their own footage.
ROLES = ("tip", "trainer", "admin", "officer")

#: Review item states; ``claimed`` means one TIP holds it.
ITEM_STATES = ("new", "claimed", "reviewed", "dismissed")


class UserAccount(Base):
    """A person who uses the review app. Disabled, never deleted, so the audit log stays whole."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # An officer's collar number: the footage metadata says which footage is theirs.
    officer_id: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (Index("uq_user_account_officer_id", "officer_id", unique=True),)


class WebSession(Base):
    """A signed-in browser. Only the token's SHA-256 is stored; deleting the row signs it out."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed sign-ins counted for one key, and until when that key must wait.

    ``scope`` says what is counted: ``name`` (one name from one client address), ``device``
    (one name from one known device: ``source`` is the device's id) or ``address`` (every
    name from one client address: ``name`` is empty). Sign-in takes the rows it needs in one
    locked transaction (pipeline/store/accounts.py), so attempts at once are counted one by one.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        UniqueConstraint("scope", "name", "source", name="uq_login_throttle_key"),
        Index("ix_login_throttle_last_failed_at", "last_failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int]
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Annotation(Base):
    """A TIP's feedback on a time range of an interaction.

    A draft (``submitted_at`` empty) is seen only by its author, who may change or
    delete it; marking the review item reviewed submits it, and trainers then see it.
    A submitted annotation never changes: a correction is a new, submitted row that
    names the one it corrects (``supersedes_id``), which is kept, marked ``superseded_at``.
    """

    __tablename__ = "annotation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    review_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_item.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    labels: Mapped[str] = mapped_column(Text)  # JSON list
    rating: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str] = mapped_column(Text)
    teaching: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The submitted version this one corrects (an id, like claimed_by: both rows are kept).
    supersedes_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # When a correction replaced this version; set once, by a conditional UPDATE.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Audit(Base):
    """Append-only audit log; each row's hash chains to the previous row's, signed with the
    audit key whose id is ``key_id`` (None: written before the instance had a key)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    # Unique, so two writers can never both append after the same row.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))


#: The stages the job engine tracks per media item, in order.
JOB_STAGES = ("extract", "transcribe", "flag")
#: A stage's state: waiting, being worked on, finished, failed (retried later), or given up on.
JOB_STATES = ("queued", "running", "done", "failed", "quarantined")


class Job(Base):
    """One stage of one media item: its state, attempts and last error.

    A stage left ``running`` by a run that was killed is taken again by the
    next run; its results replace whatever the killed attempt wrote.
    """

    __tablename__ = "job"
    __table_args__ = (UniqueConstraint("media_id", "stage", name="uq_job_stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(Integer)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # retry back-off
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    elapsed_s: Mapped[float | None] = mapped_column(Float)


class BatchRun(Base):
    """One ``bwv run`` (or one pass of ``bwv watch``): when, how, and what it did."""

    __tablename__ = "batch_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # running, finished, or interrupted (found still running by a later run: killed).
    state: Mapped[str] = mapped_column(String(20))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    inbox: Mapped[str] = mapped_column(Text)
    executor: Mapped[str] = mapped_column(String(20))
    workers: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    files: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    audio_s: Mapped[float] = mapped_column(Float, default=0.0)  # footage processed this run
    elapsed_s: Mapped[float | None] = mapped_column(Float)


class LegalHold(Base):
    """Footage that retention must keep, whatever its age."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tombstone(Base):
    """What retention deleted: enough to prove it, nothing of the footage itself."""

    __tablename__ = "tombstone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(Integer, index=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    policy: Mapped[str] = mapped_column(Text)  # the rule that applied, e.g. "default: 31 days"
    actor: Mapped[str] = mapped_column(String(200))
