"""Database queries of the job engine: stage states, attempts, back-off, batch runs.

A mixin of :class:`pipeline.store.Store`, kept apart so each file stays
readable; it is still the one place these tables are queried.

Each stage's results and its ``job`` row are written in one transaction (see
:meth:`JobQueries._stage_done`), so the job table never says "done" for work
that was lost, and never says "running" for work that was stored.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.store import schema as db
from pipeline.store.base import Queries

#: Attempts at one stage, over all runs, before a transient failure becomes a quarantine.
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class JobState:
    """One stage of one media item, as the job table has it."""

    media_id: int
    stage: str
    state: str
    attempts: int
    last_error: str | None
    not_before: datetime | None
    elapsed_s: float | None


@dataclass(frozen=True)
class Failure:
    """What the store did with a failed stage."""

    quarantined: bool
    attempts: int


class JobQueries(Queries):
    """The job engine's queries (mixed into ``Store``)."""

    # --- batch runs -------------------------------------------------------------------------

    def start_run(self, *, inbox: str, executor: str, workers: int, device: str, model: str) -> int:
        """Record a batch run starting. Runs still marked running were killed: say so.

        Call it only while holding the instance's run lock.
        """
        now = clock.now()
        with self.session() as s:
            s.execute(
                update(db.BatchRun).where(db.BatchRun.state == "running").values(state="interrupted")
            )
            # Stages a killed run left running are taken again; they keep their attempt count.
            s.execute(update(db.Job).where(db.Job.state == "running").values(state="queued"))
            run = db.BatchRun(
                started_at=now, state="running", host=socket.gethostname(), pid=os.getpid(),
                inbox=inbox, executor=executor, workers=workers, device=device, model=model,
                files=0, done=0, quarantined=0, audio_s=0.0,
            )
            s.add(run)
            s.flush()
            return run.id

    def finish_run(
        self, run_id: int, *, files: int, done: int, quarantined: int, audio_s: float,
        elapsed_s: float,
    ) -> None:
        """Record what a batch run did."""
        with self.session() as s:
            run = s.get_one(db.BatchRun, run_id)
            run.state, run.finished_at = "finished", clock.now()
            run.files, run.done, run.quarantined = files, done, quarantined
            run.audio_s, run.elapsed_s = audio_s, elapsed_s

    def batch_runs(self) -> list[db.BatchRun]:
        """Every batch run, oldest first."""
        with self.session() as s:
            return list(s.scalars(select(db.BatchRun).order_by(db.BatchRun.id)))

    # --- stage states -----------------------------------------------------------------------

    def _job(self, s: Session, media_id: int, stage: str) -> db.Job:
        job = s.scalar(select(db.Job).where(db.Job.media_id == media_id, db.Job.stage == stage))
        if job is None:
            job = db.Job(media_id=media_id, stage=stage, state="queued", attempts=0)
            s.add(job)
            s.flush()
        return job

    def begin_stage(self, media_id: int, stage: str, *, run_id: int | None) -> int:
        """Mark a stage running (one more attempt); the attempt number."""
        with self.session() as s:
            job = self._job(s, media_id, stage)
            job.state, job.run_id, job.started_at = "running", run_id, clock.now()
            job.attempts = (job.attempts or 0) + 1
            job.finished_at = None
            return job.attempts

    def _stage_done(self, s: Session, media_id: int, stage: str) -> None:
        """Inside a stage's own result transaction: the stage is done."""
        job = self._job(s, media_id, stage)
        now = clock.now()
        job.state, job.finished_at, job.not_before = "done", now, None
        if job.started_at is not None:
            job.elapsed_s = (now - clock.as_utc(job.started_at)).total_seconds()

    def _stage_quarantined(self, s: Session, media_id: int, reason: str) -> None:
        """Inside a quarantine's transaction: the stage that found the problem gave up."""
        job = s.scalar(
            select(db.Job).where(db.Job.media_id == media_id, db.Job.state.in_(("running", "failed")))
            .order_by(db.Job.id.desc()).limit(1)
        )
        if job is not None:
            job.state, job.last_error, job.finished_at = "quarantined", reason, clock.now()

    def fail_stage(
        self, media_id: int, stage: str, error: str, *, permanent: bool,
        retry_after: Callable[[int], float],
    ) -> Failure:
        """A stage failed: retry later with back-off, or quarantine the item.

        A permanent failure (the file itself is bad) quarantines at once; a
        transient one (a full disk, a timeout) is retried until
        :data:`MAX_ATTEMPTS` attempts, then quarantined with its last error.
        ``retry_after(attempts)`` is the back-off in seconds.
        """
        now = clock.now()
        with self.session() as s:
            job = self._job(s, media_id, stage)
            attempts = job.attempts or 1
            job.last_error, job.finished_at = error, now
            if permanent or attempts >= MAX_ATTEMPTS:
                reason = error if permanent else f"gave up after {attempts} attempts: {error}"
                job.state, job.not_before = "quarantined", None
                media = s.get_one(db.Media, media_id)
                media.state, media.reason, media.updated_at = "quarantined", reason, now
                return Failure(True, attempts)
            job.state = "failed"
            job.not_before = now + timedelta(seconds=retry_after(attempts))
            return Failure(False, attempts)

    def job_states(self, media_id: int | None = None) -> list[JobState]:
        """The job table, for one media item or all, by media then stage order."""
        order = {stage: i for i, stage in enumerate(db.JOB_STAGES)}
        with self.session() as s:
            query = select(db.Job)
            if media_id is not None:
                query = query.where(db.Job.media_id == media_id)
            rows = [
                JobState(j.media_id, j.stage, j.state, j.attempts, j.last_error, j.not_before,
                         j.elapsed_s)
                for j in s.scalars(query)
            ]
        return sorted(rows, key=lambda j: (j.media_id, order.get(j.stage, 99)))

    def waiting_for_retry(self) -> dict[int, tuple[float, str | None]]:
        """Media items whose failed stage is still in its back-off: seconds left, last error."""
        now = clock.now()
        with self.session() as s:
            rows = s.execute(
                select(db.Job.media_id, db.Job.not_before, db.Job.last_error)
                .where(db.Job.state == "failed")
            ).all()
        waiting: dict[int, tuple[float, str | None]] = {}
        for media_id, not_before, last_error in rows:
            left = (clock.as_utc(not_before) - now).total_seconds() if not_before else 0.0
            if left > 0:
                waiting[media_id] = (left, last_error)
        return waiting

    def finished_audio_paths(self) -> list[str]:
        """Speech audio of items past transcription (left behind if a run was killed)."""
        with self.session() as s:
            return list(s.scalars(
                select(db.Media.audio_path).where(
                    db.Media.audio_path.is_not(None),
                    db.Media.state.in_(("transcribed", "flagged", "done", "quarantined", "deleted")),
                )
            ))
