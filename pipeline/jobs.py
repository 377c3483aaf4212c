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

The heavy stages run on an executor (:mod:`pipeline.executors`): worker
processes that each load the model once, or a Ray cluster. This process
plans, extracts ahead (the next files' audio while the current ones are
decoded), flags, and is the only one that writes to the database.
"""

from __future__ import annotations

import heapq
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pipeline import store as store_mod
from pipeline.config import Instance
from pipeline.errors import ConfigError, ConflictError, MediaError
from pipeline.executors import Executor, ExtractOutcome, PartResult, WorkerSpec, make_executor
from pipeline.flag import FlagEngine, load_nlp
from pipeline.ingest import DEFAULT_SETTLE_S, InboxEntry, scan_inbox, store_original
from pipeline.models import SpeechModel, resolve_speech_model
from pipeline.queue import group_flags
from pipeline.rubric import Rubric, load_rubric
from pipeline.transcribe import SAMPLE_RATE, DecodeOptions, Transcription, plan_parts, read_wav

log = logging.getLogger("bwv.jobs")

#: Memory one worker needs: the model, decoding buffers and an audio part, with headroom.
_MEMORY_PER_WORKER = 600_000_000
#: Errors that may pass if the stage is tried again later.
_TRANSIENT = (OSError, TimeoutError, MemoryError)


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs."""

    workers: int | None = None  # None: chosen from cores and memory
    executor: str = "local"
    address: str | None = None  # a Ray cluster to join (ray executor)
    model: str = "tiny.en"
    device: str = "cpu"
    settle_s: float = DEFAULT_SETTLE_S
    rubric_path: Path | None = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    retry_base_s: float = 30.0  # back-off before retry n: retry_base_s * 4 ** (n - 1)
    retry_wait_s: float = 600.0  # a run waits this long at most for a retry, then leaves it

    def backoff_s(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return self.retry_base_s * 4 ** max(0, attempts - 1)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file (reported as the batch goes)."""

    name: str
    state: str  # done, quarantined, deferred, failed, unchanged
    reason: str | None = None
    duration_s: float = 0.0
    flags: int = 0


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
    for path in leftovers:
        with suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    for audio_path in store.finished_audio_paths():
        wav = instance.home / audio_path
        if wav.exists():
            wav.unlink()
            removed += 1
    return removed


# --- one pass of the batch ------------------------------------------------------------------


@dataclass
class _Decoding:
    """An item whose parts are being transcribed."""

    wav: Path
    audio_s: float
    parts: list[Future[PartResult]]
    started: float


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
            self.store = store_mod.open_store(self.instance.db_url)
            self.model: SpeechModel = resolve_speech_model(
                self.options.model, models_dir=self.instance.models_dir
            )
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
                cpu_threads=max(1, (os.cpu_count() or 1) // self.workers),
                decode=self.options.decode,
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
            for media_id, outcome in _Pass(self, run, pending, names).outcomes():
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


class _Pass:
    """The scheduler of one pass: extraction ahead, parts on the workers, flagging here."""

    def __init__(self, batch: Batch, run_id: int, pending: list[int],
                 names: dict[int, list[str]]) -> None:
        self.batch, self.store, self.run_id = batch, batch.store, run_id
        self.instance, self.options = batch.instance, batch.options
        self.names = names
        self.extracting: dict[Future[ExtractOutcome], int] = {}
        self.decoding: dict[int, _Decoding] = {}
        # Items that failed in an earlier run wait out their back-off like this run's own.
        waiting = self.store.waiting_for_retry()
        self.queue = [m for m in reversed(pending) if m not in waiting]  # pop() takes the next
        now = time.monotonic()
        self.retries: list[tuple[float, int]] = sorted(  # (monotonic due time, media id)
            (now + left, m) for m, left in waiting.items() if m in set(pending)
        )
        self.finished: list[tuple[int, FileOutcome]] = []

    def _outcome(self, media_id: int, state: str, reason: str | None = None, flags: int = 0
                 ) -> None:
        media = self.store.get_media(media_id)
        name = (self.names.get(media_id) or [f"media {media_id}"])[0]
        self.finished.append((media_id, FileOutcome(name, state, reason, media.duration_s or 0.0, flags)))

    def _fail(self, media_id: int, stage: str, error: str, *, permanent: bool) -> None:
        failure = self.store.fail_stage(media_id, stage, error, permanent=permanent,
                                        retry_after=self.options.backoff_s)
        if failure.quarantined:
            self._outcome(media_id, "quarantined", self.store.get_media(media_id).reason)
            return
        delay = self.options.backoff_s(failure.attempts)
        log.warning("media %s: %s failed (attempt %d), retrying in %.0f s: %s", media_id, stage,
                    failure.attempts, delay, error)
        heapq.heappush(self.retries, (time.monotonic() + delay, media_id))

    def _guarded(self, media_id: int, stage: str, work: Callable[[], None]) -> None:
        """Run a step of a stage; its failure is recorded, never raised."""
        try:
            work()
        except MediaError as exc:
            self._fail(media_id, stage, exc.reason, permanent=exc.permanent)
        except _TRANSIENT as exc:
            self._fail(media_id, stage, f"{type(exc).__name__}: {exc}"[:300], permanent=False)
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the batch; retrying will not fix it
            log.exception("media %s: %s failed", media_id, stage)
            self._fail(media_id, stage, f"processing failed: {type(exc).__name__}: {str(exc)[:200]}",
                       permanent=True)

    def _advance(self, media_id: int) -> None:
        """Start the next unfinished stage of an item."""
        media = self.store.get_media(media_id)
        if media.state == "ingested":
            self.store.begin_stage(media_id, "extract", run_id=self.run_id)
            original = self.instance.home / (media.store_path or "")
            sha = media.sha256 or "x"
            wav = self.instance.derived_dir / sha[:2] / f"{sha}.speech.wav"
            self.extracting[self.batch.executor.extract(original, wav)] = media_id
        elif media.state == "extracted":
            self.store.begin_stage(media_id, "transcribe", run_id=self.run_id)
            wav = self.instance.home / (media.audio_path or "")
            samples = read_wav(wav)
            # Parts depend on the audio alone, so the transcript never depends on the schedule.
            parts = [self.batch.executor.transcribe(wav, part) for part in plan_parts(samples)]
            self.decoding[media_id] = _Decoding(wav, len(samples) / SAMPLE_RATE, parts,
                                                time.perf_counter())
        elif media.state in ("transcribed", "flagged"):
            self._flag(media_id)
        else:  # done, quarantined or deleted meanwhile
            self._outcome(media_id, media.state, media.reason)

    def _extracted(self, media_id: int, future: Future[ExtractOutcome]) -> None:
        outcome = future.result()
        if outcome.error is not None or outcome.probe is None or outcome.track is None:
            self._fail(media_id, "extract", outcome.error or "extraction gave no audio",
                       permanent=outcome.permanent)
            return
        media = self.store.get_media(media_id)
        sha = media.sha256 or "x"
        wav = self.instance.derived_dir / sha[:2] / f"{sha}.speech.wav"
        self.store.set_probe(media_id, outcome.probe)
        self.store.set_audio(media_id, audio_path=str(wav.relative_to(self.instance.home)),
                             track=outcome.track)
        self.queue.append(media_id)  # transcribed next, ahead of items not yet started

    def _transcribed(self, media_id: int, item: _Decoding) -> None:
        segments = tuple(seg for part in item.parts for seg in part.result().segments)
        elapsed = time.perf_counter() - item.started
        self.store.save_transcript(
            media_id, Transcription(segments, "en", item.audio_s, elapsed),
            model=self.batch.model.name, model_sha256=self.batch.model.sha256,
            settings=self.options.decode.to_dict(),
        )
        item.wav.unlink(missing_ok=True)  # derived and re-creatable; originals stay
        self._flag(media_id)

    def _flag(self, media_id: int) -> None:
        def work() -> None:
            self.store.begin_stage(media_id, "flag", run_id=self.run_id)
            media = self.store.get_media(media_id)
            flags = self.batch.engine.flag_segments(self.store.load_segments(media_id))
            self.store.save_flags(media_id, flags, group_flags(flags, duration_s=media.duration_s))
            self._outcome(media_id, "done", flags=len(flags))

        self._guarded(media_id, "flag", work)

    def _in_flight(self) -> int:
        return len(self.extracting) + len(self.decoding)

    def outcomes(self) -> Iterator[tuple[int, FileOutcome]]:
        """Run the pass, yielding each item's outcome as it ends."""
        lookahead = 2 * self.batch.workers  # keeps the workers fed without holding the night's audio
        while True:
            now = time.monotonic()
            while self.retries and self.retries[0][0] <= now:
                self.queue.append(heapq.heappop(self.retries)[1])
            while self.queue and self._in_flight() < lookahead:
                media_id = self.queue.pop()
                self._guarded(media_id, _next_stage(self.store, media_id),
                              partial(self._advance, media_id))
            yield from self._drain()
            futures: list[Future[Any]] = list(self.extracting)
            futures += [p for d in self.decoding.values() for p in d.parts if not p.done()]
            if futures:
                timeout = max(0.0, self.retries[0][0] - now) if self.retries else None
                wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
            elif not self.queue and not self.decoding:
                if not self.retries:
                    break
                due = self.retries[0][0] - time.monotonic()
                if due > self.options.retry_wait_s:
                    for _due, media_id in self.retries:  # left for the next run
                        job = next(j for j in reversed(self.store.job_states(media_id))
                                   if j.state == "failed")
                        self._outcome(media_id, "failed", job.last_error)
                    self.retries.clear()
                else:
                    time.sleep(max(0.0, due))
            for future in [f for f in self.extracting if f.done()]:
                media_id = self.extracting.pop(future)
                self._guarded(media_id, "extract", partial(self._extracted, media_id, future))
            for media_id in [m for m, d in self.decoding.items() if all(p.done() for p in d.parts)]:
                item = self.decoding.pop(media_id)
                self._guarded(media_id, "transcribe", partial(self._transcribed, media_id, item))
        yield from self._drain()

    def _drain(self) -> Iterator[tuple[int, FileOutcome]]:
        finished, self.finished = self.finished, []
        yield from finished


def _next_stage(store: store_mod.Store, media_id: int) -> str:
    state = store.get_media(media_id).state
    return {"ingested": "extract", "extracted": "transcribe"}.get(state, "flag")


# --- ingest ---------------------------------------------------------------------------------


def _ingest_entry(
    entry: InboxEntry, inbox: str, instance: Instance, store: store_mod.Store,
    on_stored: Callable[[], Any] | None = None,
) -> tuple[int | None, FileOutcome | None]:
    if entry.kind == "unsettled":
        return None, FileOutcome(entry.name, "deferred", "still being written; the next run takes it")
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
