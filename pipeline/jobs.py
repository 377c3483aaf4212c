"""The batch: wire the stages to the store, file by file, with every core busy.

``run_batch`` ingests an inbox, then takes every media item that is not yet
done through the remaining stages (probe → extract speech → transcribe →
flag and queue). Each stage commits its own results, so a run that stops
anywhere resumes at the stage where it stopped.

One process loads the speech model once and decodes on ``workers`` lanes at
the same time (CTranslate2 runs concurrent requests on one model): audio is
cut into parts at quiet moments, so one long file keeps every lane busy too.
A preparation thread probes and extracts the next files' speech while the
current ones are transcribed. Measured on 2 cores, two single-threaded lanes
decode 40% more audio per second than one lane with two threads.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from pipeline import store as store_mod
from pipeline.config import Instance
from pipeline.errors import ConfigError, MediaError
from pipeline.flag import FlagEngine, load_nlp
from pipeline.ingest import DEFAULT_SETTLE_S, InboxEntry, scan_inbox, store_original
from pipeline.media import extract_speech, probe_media, select_speech_track
from pipeline.models import SpeechModel, resolve_speech_model
from pipeline.queue import group_flags
from pipeline.rubric import Rubric, load_rubric
from pipeline.transcribe import (
    SAMPLE_RATE,
    DecodeOptions,
    Segment,
    Transcription,
    default_cpu_threads,
    load_whisper,
    plan_parts,
    read_wav,
    transcribe_part,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger("bwv.jobs")

#: What became of one item: (state, reason, duration in seconds, number of flags).
_Result = tuple[str, str | None, float, int]
_T = TypeVar("_T")

_MEMORY_PER_LANE = 500_000_000  # bytes: decoding buffers and audio parts, with headroom


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


def default_workers() -> int:
    """Decoding lanes from cores and memory: one per core, no more than memory allows.

    Long files are cut into parts, so even a single file keeps every lane busy.
    """
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 4 * _MEMORY_PER_LANE
    return max(1, min(cores, memory // _MEMORY_PER_LANE))


# --- the per-item stages ---------------------------------------------------------------------


@dataclass
class _Prepared:
    """An item ready to transcribe (its speech audio and parts), or already finished."""

    media_id: int
    outcome: _Result | None = None
    samples: np.ndarray | None = None
    parts: list[tuple[int, int]] = field(default_factory=list)
    decode_started: float = 0.0


class _Stages:
    """The stages of one batch, sharing one store, one model and one flag engine."""

    def __init__(self, instance: Instance, store: store_mod.Store, model: SpeechModel,
                 rubric: Rubric, options: RunOptions, lanes: int) -> None:
        self.instance, self.store, self.model, self.options = instance, store, model, options
        # spaCy loads in the background: it is first needed when the first file is decoded.
        self._loader = ThreadPoolExecutor(2, thread_name_prefix="bwv-load")
        self._engine = self._loader.submit(lambda: FlagEngine(rubric, load_nlp()))
        self._whisper = self._loader.submit(
            load_whisper, model, device=options.device, cpu_threads=default_cpu_threads(lanes),
            lanes=lanes,
        )
        self._loader.shutdown(wait=False)

    @property
    def whisper(self) -> WhisperModel:
        """The speech model (waits for it to load the first time)."""
        return self._whisper.result()

    @property
    def engine(self) -> FlagEngine:
        """The compiled rubric (waits for it the first time)."""
        return self._engine.result()

    def _guard(self, media_id: int, duration_s: float, work: Callable[[], _T]) -> _T | _Result:
        """Run a stage; a bad file is quarantined (or left for a retry), never raised."""
        try:
            return work()
        except MediaError as exc:
            if not exc.permanent:
                return "failed", exc.reason, duration_s, 0
            self.store.quarantine(media_id, exc.reason)
            return "quarantined", exc.reason, duration_s, 0
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
            log.error("item %s failed:\n%s", media_id, traceback.format_exc())
            reason = f"processing failed: {type(exc).__name__}: {str(exc)[:200]}"
            self.store.quarantine(media_id, reason)
            return "quarantined", reason, duration_s, 0

    def prepare(self, media_id: int) -> _Prepared:
        """Probe and extract speech if not done yet; plan the transcription parts."""
        media = self.store.get_media(media_id)

        def work() -> _Prepared:
            nonlocal media
            if media.state == "ingested":
                original = self.instance.home / (media.store_path or "")
                if (media.size_bytes or 0) == 0:
                    raise MediaError("empty file (0 bytes): the upload failed; upload it again")
                probe = probe_media(original)
                self.store.set_probe(media_id, probe)
                track = select_speech_track(original, probe)
                wav_dir = self.instance.derived_dir / (media.sha256 or "x")[:2]
                wav_dir.mkdir(parents=True, exist_ok=True)
                wav = wav_dir / f"{media.sha256}.speech.wav"
                extract_speech(original, wav, probe=probe, track=track)
                self.store.set_audio(media_id, audio_path=str(wav.relative_to(self.instance.home)),
                                     track=track)
                media = self.store.get_media(media_id)
            if media.state == "extracted":
                samples = read_wav(self.instance.home / (media.audio_path or ""))
                return _Prepared(media_id, samples=samples, parts=plan_parts(samples))
            return _Prepared(media_id)  # transcribed already: only flagging is left

        result = self._guard(media_id, media.duration_s or 0.0, work)
        return result if isinstance(result, _Prepared) else _Prepared(media_id, outcome=result)

    def finish(self, prepared: _Prepared, parts: list[Future[list[Segment]]]) -> _Result:
        """Store the transcript (from its parts), flag it and queue the review items."""
        media = self.store.get_media(prepared.media_id)

        def work() -> _Result:
            if prepared.samples is not None:
                segments = tuple(seg for part in parts for seg in part.result())
                audio_s = len(prepared.samples) / SAMPLE_RATE
                elapsed = time.perf_counter() - prepared.decode_started
                result = Transcription(segments, "en", audio_s, elapsed)
                self.store.save_transcript(
                    prepared.media_id, result, model=self.model.name, model_sha256=self.model.sha256,
                    settings=self.options.decode.to_dict(),
                )
                wav = self.instance.home / (media.audio_path or "")
                wav.unlink(missing_ok=True)  # derived and re-creatable; originals stay
            flags = self.engine.flag_segments(self.store.load_segments(prepared.media_id))
            windows = group_flags(flags, duration_s=media.duration_s)
            self.store.save_flags(prepared.media_id, flags, windows)
            return "done", None, media.duration_s or 0.0, len(flags)

        return self._guard(prepared.media_id, media.duration_s or 0.0, work)


# --- the batch ------------------------------------------------------------------------------


def _ingest_entry(
    entry: InboxEntry, inbox: str, instance: Instance, store: store_mod.Store,
    on_stored: Callable[[], None] | None = None,
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
    on_stored: Callable[[], None] | None = None,
) -> dict[int, str]:
    """The ingest stage alone: store every settled original once; {media id: first name}.

    ``on_stored`` is called after each original newly copied into the store.
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


#: The last item of a batch is cut across the lanes only if each part keeps this much audio.
_MIN_TAIL_PART_S = 15.0


def _split_last(item: _Prepared, lanes: int) -> list[tuple[int, int]]:
    """The batch's last item: cut at quiet moments so every lane helps finish it.

    Otherwise the other lanes sit idle while one lane decodes the last file.
    """
    if item.samples is None or len(item.parts) >= lanes:
        return item.parts
    audio_s = len(item.samples) / SAMPLE_RATE
    part_s = audio_s / lanes
    if part_s < _MIN_TAIL_PART_S:
        return item.parts
    return plan_parts(item.samples, part_s=part_s, search_s=min(10.0, part_s / 3))


def _schedule(stages: _Stages, pending: list[int], lanes: int) -> Iterator[tuple[int, _Result]]:
    """Prepare items one after another while their parts decode on the lanes."""
    queue = deque(pending)
    preparing: deque[tuple[int, Future[_Prepared]]] = deque()
    decoding: dict[int, tuple[_Prepared, list[Future[list[Segment]]]]] = {}
    with ThreadPoolExecutor(1, thread_name_prefix="bwv-prepare") as prep, \
            ThreadPoolExecutor(lanes, thread_name_prefix="bwv-decode") as decode:
        while queue or preparing or decoding:
            # Look ahead a little: one prepared item per lane, so a lane that frees never waits
            # for ffmpeg; not the whole night's audio.
            while queue and len(preparing) + len(decoding) < 2 * lanes:
                media_id = queue.popleft()
                preparing.append((media_id, prep.submit(stages.prepare, media_id)))
            while preparing and preparing[0][1].done():
                media_id, future = preparing.popleft()
                item = future.result()
                if item.outcome is not None:
                    yield media_id, item.outcome
                    continue
                if item.samples is None:  # transcribed in an earlier run: flag it now
                    yield media_id, stages.finish(item, [])
                    continue
                if not queue and not preparing:
                    item.parts = _split_last(item, lanes)
                item.decode_started = time.perf_counter()
                parts = [
                    decode.submit(transcribe_part, item.samples, part, whisper=stages.whisper,
                                  options=stages.options.decode)
                    for part in item.parts
                ]
                decoding[media_id] = (item, parts)
            for media_id in [m for m, (_i, parts) in decoding.items() if all(p.done() for p in parts)]:
                item, parts = decoding.pop(media_id)
                yield media_id, stages.finish(item, parts)
            waiting: list[Future[Any]] = [f for _m, f in preparing]
            waiting += [p for _i, ps in decoding.values() for p in ps if not p.done()]
            if waiting:
                wait(waiting, return_when=FIRST_COMPLETED)


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
    rubric = load_rubric(opts.rubric_path)  # fail fast on a bad rubric, before any work
    summary = RunSummary()
    report = on_file or (lambda _o: None)
    lanes = opts.workers or default_workers()
    summary.workers = lanes
    stages: _Stages | None = None

    def start_loading() -> None:
        # The models load while the rest of the inbox is hashed and stored.
        nonlocal stages
        stages = stages or _Stages(instance, store, model, rubric, opts, lanes)

    if store.pending_media():
        start_loading()
    seen = ingest_inbox(inbox, instance=instance, store=store, settle_s=opts.settle_s,
                        summary=summary, on_file=report, on_stored=start_loading)
    # Largest first, so the batch ends on short files and no lane waits long for the last one.
    pending = [m.id for m in sorted(store.pending_media(), key=lambda m: -(m.size_bytes or 0))]
    names = store.names_by_media()
    if on_start:
        on_start(len(pending))
    results: dict[int, _Result] = {}
    if pending:
        start_loading()
        assert stages is not None
        for media_id, result in _schedule(stages, pending, lanes):
            results[media_id] = result
            _report(result, media_id, names, report)
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


def _report(result: _Result, media_id: int,
            names: dict[int, list[str]], report: Callable[[FileOutcome], None]) -> None:
    state, reason, duration, n_flags = result
    report(FileOutcome((names.get(media_id) or [f"media {media_id}"])[0], state, reason, duration, n_flags))
