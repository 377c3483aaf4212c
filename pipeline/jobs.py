"""The batch: wire the stages to the store, file by file, in worker processes.

``run_batch`` ingests an inbox, then takes every media item that is not yet
done through the remaining stages (probe → extract speech → transcribe →
flag and queue). Each stage commits its own results, so a run that stops
anywhere resumes at the stage where it stopped. Each worker process loads
the speech model and the spaCy pipeline once.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from pipeline import store as store_mod
from pipeline.config import Instance
from pipeline.errors import BwvError, ConfigError, MediaError
from pipeline.flag import engine_for
from pipeline.ingest import DEFAULT_SETTLE_S, InboxEntry, scan_inbox, store_original
from pipeline.media import extract_speech, probe_media, select_speech_track
from pipeline.models import SpeechModel, resolve_speech_model
from pipeline.queue import group_flags
from pipeline.rubric import load_rubric
from pipeline.transcribe import DecodeOptions, default_cpu_threads, load_whisper, transcribe_audio

log = logging.getLogger("bwv.jobs")

_MEMORY_PER_WORKER = 1_200_000_000  # bytes: model, spaCy and decoding buffers, with headroom


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs."""

    workers: int | None = None  # None: chosen from cores and memory
    executor: str = "local"
    model: str = "tiny.en"
    device: str = "cpu"
    settle_s: float = DEFAULT_SETTLE_S
    rubric_path: Path | None = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)


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


def default_workers(pending: int) -> int:
    """Workers from cores and memory: one per two cores, no more than files or memory allow.

    CTranslate2 scales well to two threads per decode; measured on 2 cores,
    one worker with 2 threads finished the sample footage in 29 s against
    36 s for two single-threaded workers (model loading included).
    """
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 4 * _MEMORY_PER_WORKER
    return max(1, min(cores // 2, pending, memory // _MEMORY_PER_WORKER))


# --- the per-process context and the per-item stages ----------------------------------------


@dataclass
class _Context:
    instance: Instance
    store: store_mod.Store
    model: SpeechModel
    options: RunOptions
    threads: int


_CTX: _Context | None = None


def _init_worker(instance: Instance, model: SpeechModel, options: RunOptions, threads: int) -> None:
    global _CTX
    _CTX = _Context(instance, store_mod.Store(instance.db_url), model, options, threads)
    load_whisper(model, device=options.device, cpu_threads=threads)
    engine_for(str(options.rubric_path) if options.rubric_path else None)


def _process(media_id: int) -> tuple[str, str | None, float, int]:
    """Take one item through its remaining stages: (state, reason, duration, flags)."""
    ctx = _CTX
    assert ctx is not None, "worker not initialised"  # noqa: S101 - internal invariant
    store = ctx.store
    media = store.get_media(media_id)
    original = ctx.instance.home / (media.store_path or "")
    try:
        if media.state == "ingested":
            if (media.size_bytes or 0) == 0:
                raise MediaError("empty file (0 bytes): the upload failed; upload it again")
            probe = probe_media(original)
            store.set_probe(media_id, probe)
            track = select_speech_track(original, probe)
            wav_dir = ctx.instance.derived_dir / (media.sha256 or "x")[:2]
            wav_dir.mkdir(parents=True, exist_ok=True)
            wav = wav_dir / f"{media.sha256}.speech.wav"
            extract_speech(original, wav, probe=probe, track=track)
            store.set_audio(
                media_id, audio_path=str(wav.relative_to(ctx.instance.home)), track=track
            )
            media = store.get_media(media_id)
        if media.state == "extracted":
            wav = ctx.instance.home / (media.audio_path or "")
            whisper = load_whisper(ctx.model, device=ctx.options.device, cpu_threads=ctx.threads)
            result = transcribe_audio(wav, whisper=whisper, model=ctx.model, options=ctx.options.decode)
            store.save_transcript(
                media_id, result, model=ctx.model.name, model_sha256=ctx.model.sha256,
                settings=ctx.options.decode.to_dict(),
            )
            wav.unlink(missing_ok=True)  # derived and re-creatable; originals stay
            media = store.get_media(media_id)
        if media.state == "transcribed":
            engine = engine_for(str(ctx.options.rubric_path) if ctx.options.rubric_path else None)
            flags = engine.flag_segments(store.load_segments(media_id))
            windows = group_flags(flags, duration_s=media.duration_s)
            store.save_flags(media_id, flags, windows)
            return "done", None, media.duration_s or 0.0, len(flags)
        return media.state, media.reason, media.duration_s or 0.0, 0
    except MediaError as exc:
        if not exc.permanent:
            return "failed", exc.reason, media.duration_s or 0.0, 0
        store.quarantine(media_id, exc.reason)
        return "quarantined", exc.reason, media.duration_s or 0.0, 0
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
        log.error("item %s failed:\n%s", media_id, traceback.format_exc())
        reason = f"processing failed: {type(exc).__name__}: {str(exc)[:200]}"
        store.quarantine(media_id, reason)
        return "quarantined", reason, media.duration_s or 0.0, 0


# --- the batch ------------------------------------------------------------------------------


def _ingest_entry(
    entry: InboxEntry, inbox: str, instance: Instance, store: store_mod.Store
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
    return media_id, None


def ingest_inbox(
    inbox: Path,
    *,
    instance: Instance,
    store: store_mod.Store,
    settle_s: float = DEFAULT_SETTLE_S,
    summary: RunSummary | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> dict[int, str]:
    """The ingest stage alone: store every settled original once; {media id: first name}."""
    inbox = inbox.resolve()
    if not inbox.is_dir():
        raise ConfigError(f"inbox {inbox} is not a folder")
    summary = summary if summary is not None else RunSummary()
    seen: dict[int, str] = {}
    for entry in scan_inbox(inbox, settle_s=settle_s):
        summary.files += 1
        media_id, outcome = _ingest_entry(entry, str(inbox), instance, store)
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
    """Ingest an inbox and take every item not yet done through the pipeline."""
    opts = options or RunOptions()
    started = time.perf_counter()
    store = store_mod.open_store(instance.db_url)
    model = resolve_speech_model(opts.model, models_dir=instance.models_dir)
    load_rubric(opts.rubric_path)  # fail fast on a bad rubric, before any work
    summary = RunSummary()
    report = on_file or (lambda _o: None)
    seen = ingest_inbox(inbox, instance=instance, store=store, settle_s=opts.settle_s,
                        summary=summary, on_file=report)
    pending = [m for m in store.pending_media()]
    names = store.names_by_media()
    workers = opts.workers or default_workers(len(pending))
    workers = max(1, min(workers, len(pending) or 1))
    summary.workers = workers
    threads = default_cpu_threads(workers)
    if on_start:
        on_start(len(pending))
    results: dict[int, tuple[str, str | None, float, int]] = {}
    if workers == 1:
        _init_worker(instance, model, opts, threads)
        for media in pending:
            results[media.id] = _process(media.id)
            _report(results[media.id], media.id, names, report)
    else:
        ctx = get_context("spawn")
        try:
            with ProcessPoolExecutor(
                workers, mp_context=ctx, initializer=_init_worker,
                initargs=(instance, model, opts, threads),
            ) as pool:
                futures = {pool.submit(_process, m.id): m.id for m in pending}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    _report(results[futures[future]], futures[future], names, report)
        except BrokenProcessPool as exc:
            raise BwvError(
                "a worker process failed to start or died (see the log above); "
                "finished items are kept: run again to resume"
            ) from exc
    for media_id, (state, _reason, duration, _n) in results.items():
        if state == "done":
            summary.processed_audio_s += duration
        seen.setdefault(media_id, (names.get(media_id) or ["?"])[0])
    for media_id, name in seen.items():
        if media_id not in results:
            media = store.get_media(media_id)
            summary.outcomes.append(FileOutcome(name, "unchanged" if media.state == "done" else media.state, media.reason, media.duration_s or 0.0))
        else:
            state, reason, duration, n_flags = results[media_id]
            summary.outcomes.append(FileOutcome(name, state, reason, duration, n_flags))
    totals = store.summarise(list(seen))
    summary.audio_s = totals.audio_s
    summary.flags_by_category = totals.flags_by_category
    summary.review_items = totals.review_items
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _report(result: tuple[str, str | None, float, int], media_id: int,
            names: dict[int, list[str]], report: Callable[[FileOutcome], None]) -> None:
    state, reason, duration, n_flags = result
    report(FileOutcome((names.get(media_id) or [f"media {media_id}"])[0], state, reason, duration, n_flags))
