"""The batch: a resumable job engine that wires the stages to the store.

``run_batch`` ingests an inbox, then takes every media item that is not yet
done through the remaining stages, each tracked in the ``job`` table:

    extract (probe, speech track → WAV)  →  transcribe (parts on the workers)  →  flag and queue

Each stage's results and its job row are committed in one transaction, and
files are written under a temporary name and renamed, so a run killed at any
moment (a power cut, ``kill -9``) leaves no half-written rows or files; the
next run takes every stage that was not finished, and only those. A failure
that may pass (a full disk, a crashed worker) is retried with back-off, within
the run while it is short and otherwise by the next run; a bad file is
quarantined with its reason. One lock file per instance keeps two batch runs
(or ``bwv watch``) from working on one instance at once.

The heavy stages run on an executor (:mod:`pipeline.batch.executors`): worker
processes that each load the model once, or a Ray cluster. This process
plans (:mod:`pipeline.batch.scheduler`), extracts ahead (the next files' audio
while the current ones are decoded), flags, and is the only one that writes
to the database.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import store as store_mod
from pipeline.batch.executors import Executor, WorkerSpec, make_executor
from pipeline.batch.ingest import DEFAULT_SETTLE_S, InboxEntry, scan_inbox, store_original
from pipeline.batch.media import levels_path
from pipeline.batch.models import SpeechModel, resolve_speech_model
from pipeline.batch.scheduler import FileOutcome, RunOptions, StagePass
from pipeline.batch.second_look import look_model
from pipeline.batch.transcribe import default_cpu_threads
from pipeline.config import Instance
from pipeline.errors import ConfigError, ConflictError, MediaError
from pipeline.flagging.engine import FlagEngine, load_nlp
from pipeline.flagging.rubric import Rubric, load_rubric

log = logging.getLogger("bwv.jobs")

#: Memory one worker needs: the model, decoding buffers and an audio part, with headroom.
_MEMORY_PER_WORKER = 600_000_000


@dataclass
class RunSummary:
    """What a batch run did, for the summary table."""

    files: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)
    audio_s: float = 0.0
    processed_audio_s: float = 0.0
    flags_by_category: Counter[str] = field(default_factory=Counter)
    review_items: int = 0
    elapsed_s: float = 0.0
    workers: int = 1
    executor: str = "local"
    peak_rss_by_worker: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    @property
    def quarantined(self) -> list[FileOutcome]:
        """Files quarantined, with their reasons."""
        return [o for o in self.outcomes if o.state == "quarantined"]

    @property
    def unfinished(self) -> list[FileOutcome]:
        """Files neither done nor quarantined (deferred or failed): rerun to finish them."""
        return [o for o in self.outcomes if o.state in ("deferred", "failed")]

    @property
    def realtime_factor(self) -> float:
        """Audio processed this run per second of wall time."""
        return self.processed_audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


def default_workers() -> int:
    """Worker processes from cores and memory: one per core, no more than memory allows.

    Long files are cut into parts, so even a single file keeps every worker busy.
    """
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 4 * _MEMORY_PER_WORKER
    return max(1, min(cores, memory // _MEMORY_PER_WORKER))


# --- the run lock and leftovers -------------------------------------------------------------


class RunLock:
    """An exclusive lock on an instance for one batch process (released by the kernel if it dies)."""

    def __init__(self, home: Path) -> None:
        self.path = home / "run.lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ConflictError(
                f"another batch is running on this instance ({holder}); wait for it to finish, "
                f"or stop it (the lock is {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def sweep_leftovers(instance: Instance, store: store_mod.Store) -> int:
    """Remove what a killed run left: temporary files, and speech audio already transcribed.

    Call it only while holding the run lock. Proxies of the review app are not touched.
    """
    removed = 0
    leftovers = [*instance.tmp_dir.glob("ingest.*.part"), *instance.derived_dir.glob("*/.*.tmp.wav")]
    # The recorded-levels copy of speech audio whose normalised WAV is gone (a kill between
    # the two removals); one beside a WAV still to be transcribed is kept for its speakers.
    leftovers += [p for p in instance.derived_dir.glob("*/*.speech.levels.wav")
                  if not p.with_name(p.name.replace(".levels.wav", ".wav")).exists()]
    for path in leftovers:
        with suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    for audio_path in store.finished_audio_paths():
        wav = instance.home / audio_path
        for path in (wav, levels_path(wav)):
            if path.exists():
                path.unlink()
                removed += 1
    return removed


# --- the batch ------------------------------------------------------------------------------


class Batch:
    """The batch for one instance: its lock, store, models and workers, over one or many passes.

    ``bwv run`` makes one pass; ``bwv watch`` keeps the workers loaded between passes.
    """

    def __init__(self, instance: Instance, options: RunOptions | None = None) -> None:
        self.instance = instance
        self.options = options or RunOptions()
        self.workers = self.options.workers or default_workers()
        self._lock = RunLock(instance.home)
        self._executor: Executor | None = None
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="bwv-load")
        self._engine: Future[FlagEngine] | None = None

    def __enter__(self) -> Batch:
        self._lock.__enter__()
        try:
            self.store = store_mod.open_instance(self.instance)
            self.model: SpeechModel = resolve_speech_model(
                self.options.model, models_dir=self.instance.models_dir
            )
            o = self.options
            self.look = look_model(o.second_look, o.speakers, self.model.name, self.instance.models_dir)
            self.rubric: Rubric = load_rubric(self.options.rubric_path)  # fail fast, before work
            swept = sweep_leftovers(self.instance, self.store)
            if swept:
                log.info("removed %d files left by an interrupted run", swept)
        except BaseException:
            self._lock.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._executor is not None:
                self._executor.close()
            self._loader.shutdown(wait=False, cancel_futures=True)
        finally:
            self._lock.__exit__()

    # --- models and workers, loaded on first need -------------------------------------------

    def _start_loading(self) -> None:
        if self._engine is None:
            rubric = self.rubric
            self._engine = self._loader.submit(lambda: FlagEngine(rubric, load_nlp()))
        if self._executor is None:
            spec = WorkerSpec(
                model_name=self.model.name, model_path=str(self.model.path),
                device=self.options.device,
                cpu_threads=default_cpu_threads(self.workers),
                decode=self.options.decode, speaker_cache=str(self.instance.models_dir), look=self.look,
            )
            self._executor = make_executor(self.options.executor, spec, self.workers,
                                           address=self.options.address)

    def _on_stored(self, begin_run: Callable[[], int]) -> Callable[[], None]:
        """After an original is stored: load the models while the rest of the inbox is hashed."""

        def stored() -> None:
            self._start_loading()
            begin_run()

        return stored

    @property
    def executor(self) -> Executor:
        """The workers (started on first use)."""
        self._start_loading()
        assert self._executor is not None
        return self._executor

    @property
    def engine(self) -> FlagEngine:
        """The compiled rubric (waits for spaCy the first time)."""
        self._start_loading()
        assert self._engine is not None
        return self._engine.result()

    # --- a pass ---------------------------------------------------------------------------

    def run(
        self, inbox: Path, *, on_file: Callable[[FileOutcome], None] | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> RunSummary:
        """Ingest ``inbox`` and take every unfinished item through the stages."""
        started = time.perf_counter()
        summary = RunSummary(workers=self.workers, executor=self.options.executor)
        report = on_file or (lambda _o: None)
        inbox = inbox.resolve()
        run_id: int | None = None

        def begin_run() -> int:
            nonlocal run_id
            if run_id is None:
                run_id = self.store.start_run(
                    inbox=str(inbox), executor=self.options.executor, workers=self.workers,
                    device=self.options.device, model=self.model.name,
                )
            return run_id

        if self.store.pending_media():
            self._start_loading()
            begin_run()
        seen = ingest_inbox(inbox, instance=self.instance, store=self.store,
                            settle_s=self.options.settle_s, summary=summary, on_file=report,
                            on_stored=self._on_stored(begin_run))
        # Largest first, so the batch ends on short files and no worker waits long for the last.
        pending = [m.id for m in sorted(self.store.pending_media(), key=lambda m: -(m.size_bytes or 0))]
        names = self.store.names_by_media()
        if on_start:
            on_start(len(pending))
        results: dict[int, FileOutcome] = {}
        if pending:
            run = begin_run()
            for media_id, outcome in StagePass(self, run, pending, names).outcomes():
                results[media_id] = outcome
                report(outcome)
        for media_id, outcome in results.items():
            if outcome.state == "done":
                summary.processed_audio_s += outcome.duration_s
            seen.setdefault(media_id, outcome.name)
        for media_id, name in seen.items():
            if media_id in results:
                summary.outcomes.append(results[media_id])
            else:
                media = self.store.get_media(media_id)
                state = "unchanged" if media.state == "done" else media.state
                summary.outcomes.append(FileOutcome(name, state, media.reason, media.duration_s or 0.0))
        totals = self.store.summarise(list(seen))
        summary.audio_s = totals.audio_s
        summary.flags_by_category = totals.flags_by_category
        summary.review_items = totals.review_items
        summary.elapsed_s = time.perf_counter() - started
        if self._executor is not None:
            summary.peak_rss_by_worker = self._executor.peak_rss_by_worker()
        if run_id is not None:
            summary.run_id = run_id
            self.store.finish_run(
                run_id, files=summary.files,
                done=sum(1 for o in results.values() if o.state == "done"),
                quarantined=len(summary.quarantined), audio_s=summary.processed_audio_s,
                elapsed_s=summary.elapsed_s,
            )
        return summary


# --- ingest ---------------------------------------------------------------------------------


def _ingest_entry(
    entry: InboxEntry, inbox: str, instance: Instance, store: store_mod.Store,
    on_stored: Callable[[], Any] | None = None,
) -> tuple[int | None, FileOutcome | None]:
    if entry.kind == "unsettled":
        return None, FileOutcome(entry.name, "deferred",
                                 f"still being written; the next run takes it: {entry.deferred_by}")
    if entry.kind in ("symlink", "special"):
        reason = (
            "symlink refused: copy the file itself into the inbox"
            if entry.kind == "symlink"
            else "not a regular file (a device, socket or pipe)"
        )
        if not store.unreadable_known(inbox, entry.name):
            store.record_unreadable(inbox, entry.name, reason)
        return None, FileOutcome(entry.name, "quarantined", reason)
    known = store.media_for_name(inbox, entry.name, size=entry.size_bytes, mtime_ns=entry.mtime_ns)
    if known is not None:
        return known, None
    try:
        stored = store_original(entry, store_dir=instance.store_dir, tmp_dir=instance.tmp_dir)
    except MediaError as exc:
        return None, FileOutcome(entry.name, "deferred", exc.reason)
    media_id, _created = store.add_original(
        stored.sha256, size=stored.size_bytes,
        store_path=str(stored.path.relative_to(instance.home)),
        inbox=inbox, name=entry.name, mtime_ns=entry.mtime_ns,
    )
    store.audit(actor=store_mod.current_actor(), action="ingest", obj=f"media:{media_id}",
                detail=f"{inbox}/{entry.name} sha256={stored.sha256}")
    if on_stored:
        on_stored()
    return media_id, None


def ingest_inbox(
    inbox: Path,
    *,
    instance: Instance,
    store: store_mod.Store,
    settle_s: float = DEFAULT_SETTLE_S,
    summary: RunSummary | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_stored: Callable[[], Any] | None = None,
) -> dict[int, str]:
    """The ingest stage alone: store every settled original once; {media id: first name}.

    ``on_stored`` is called after each original newly copied into the store.
    Call it while holding the instance's :class:`RunLock`.
    """
    inbox = inbox.resolve()
    if not inbox.is_dir():
        raise ConfigError(f"inbox {inbox} is not a folder")
    summary = summary if summary is not None else RunSummary()
    seen: dict[int, str] = {}
    for entry in scan_inbox(inbox, settle_s=settle_s):
        summary.files += 1
        media_id, outcome = _ingest_entry(entry, str(inbox), instance, store, on_stored)
        if outcome:
            summary.outcomes.append(outcome)
            if on_file:
                on_file(outcome)
        if media_id is not None:
            seen.setdefault(media_id, entry.name)
    return seen


def run_batch(
    inbox: Path,
    *,
    instance: Instance,
    options: RunOptions | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunSummary:
    """Ingest an inbox and take every item not yet done through the pipeline (one pass)."""
    with Batch(instance, options) as batch:
        return batch.run(inbox, on_file=on_file, on_start=on_start)
