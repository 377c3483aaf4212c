"""One pass of the batch: which stage of which file runs next, and where.

The job layer (:mod:`pipeline.batch.jobs`) holds the lock, the store and the
workers; a :class:`StagePass` takes a list of unfinished media items through
their remaining stages, keeping the workers fed: the next files' speech is
extracted while the current ones are decoded, a file's parts decode on every
worker, and each file is flagged and stored (here, the only writer) as its
parts come back. Failures go to the job table with back-off or quarantine;
none is raised.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from pipeline.batch.executors import Executor, ExtractOutcome, PartResult
from pipeline.batch.ingest import DEFAULT_SETTLE_S
from pipeline.batch.media import levels_path
from pipeline.batch.models import SpeechModel
from pipeline.batch.speakers import Speakers, without_speakers
from pipeline.batch.transcribe import SAMPLE_RATE, DecodeOptions, plan_parts, read_wav
from pipeline.config import Instance
from pipeline.errors import MediaError
from pipeline.flagging.engine import FlagEngine
from pipeline.flagging.windows import group_flags
from pipeline.records import Segment, Transcription
from pipeline.store import Store
from pipeline.store import schema as db

log = logging.getLogger("bwv.scheduler")

#: Errors that may pass if the stage is tried again later.
_TRANSIENT = (OSError, TimeoutError, MemoryError)
#: The stage an item in this state needs next.
_NEXT_STAGE = {"ingested": "extract", "extracted": "transcribe", "transcribed": "flag",
               "flagged": "flag"}


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
    speakers: str = "ge2e"  # how voices are told apart (speakers.METHODS), or "off"
    second_look: str = "off"  # "others": their turns decoded again with base (see the README)
    retry_base_s: float = 30.0  # back-off before retry n: retry_base_s * 4 ** (n - 1)
    retry_wait_s: float = 600.0  # a run waits this long at most for a retry, then leaves it

    def backoff_s(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return self.retry_base_s * 4 ** max(0, attempts - 1)


class BatchResources(Protocol):
    """What a pass needs of the batch that runs it (:class:`pipeline.batch.jobs.Batch`): the
    scheduler names these instead of importing the job layer above it."""

    store: Store
    instance: Instance
    options: RunOptions
    model: SpeechModel
    workers: int

    @property
    def engine(self) -> FlagEngine: ...

    @property
    def executor(self) -> Executor: ...


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file (reported as the batch goes)."""

    name: str
    state: str  # done, quarantined, deferred, failed, unchanged
    reason: str | None = None
    duration_s: float = 0.0
    flags: int = 0



@dataclass
class _Decoding:
    """An item whose parts are being transcribed."""

    wav: Path
    audio_s: float
    parts: list[Future[PartResult]]
    started: float
    segments: tuple[Segment, ...] = ()
    decoded_s: float = 0.0
    speakers: Future[Speakers] | None = None


class StagePass:
    """The scheduler of one pass: extraction ahead, parts on the workers, flagging here."""

    def __init__(self, batch: BatchResources, run_id: int, pending: list[int],
                 names: dict[int, list[str]]) -> None:
        self.batch, self.store, self.run_id = batch, batch.store, run_id
        self.instance, self.options = batch.instance, batch.options
        self.names = names
        self.extracting: dict[Future[ExtractOutcome], tuple[int, Path]] = {}  # media id, WAV
        self.decoding: dict[int, _Decoding] = {}
        self.speaking: dict[int, _Decoding] = {}  # decoded, speaker stage on a worker
        # Items that failed in an earlier run wait out their back-off like this run's own.
        waiting = self.store.waiting_for_retry()
        self.queue = [m for m in reversed(pending) if m not in waiting]  # pop() takes the next
        now = time.monotonic()
        self.retries: list[tuple[float, int]] = sorted(  # (monotonic due time, media id)
            (now + left, m) for m, (left, _error) in waiting.items() if m in set(pending)
        )
        # Of items waiting for a retry: reported if the run ends before it is due.
        self.last_error = {m: error for m, (_left, error) in waiting.items()}
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
        self.last_error[media_id] = error
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
        stage = _NEXT_STAGE.get(media.state)
        if stage is None:  # done, quarantined or deleted meanwhile
            self._outcome(media_id, media.state, media.reason)
        elif stage == "flag":
            self._flag(media_id)
        else:
            self._guarded(media_id, stage, partial(self._start, media, stage))

    def _start(self, media: db.Media, stage: str) -> None:
        """Send an item's extraction or its transcription's parts to the workers."""
        self.store.begin_stage(media.id, stage, run_id=self.run_id)
        if stage == "extract":
            original = self.instance.home / (media.store_path or "")
            sha = media.sha256 or "x"
            wav = self.instance.derived_dir / sha[:2] / f"{sha}.speech.wav"
            self.extracting[self.batch.executor.extract(original, wav)] = (media.id, wav)
            return
        wav = self.instance.home / (media.audio_path or "")
        samples = read_wav(wav)
        # Parts depend on the audio alone, so the transcript never depends on the schedule.
        parts = [self.batch.executor.transcribe(wav, part) for part in plan_parts(samples)]
        self.decoding[media.id] = _Decoding(wav, len(samples) / SAMPLE_RATE, parts,
                                            time.perf_counter())

    def _extracted(self, media_id: int, wav: Path, future: Future[ExtractOutcome]) -> None:
        outcome = future.result()
        if outcome.error is not None or outcome.probe is None or outcome.track is None:
            self._fail(media_id, "extract", outcome.error or "extraction gave no audio",
                       permanent=outcome.permanent)
            return
        self.store.set_probe(media_id, outcome.probe)
        self.store.set_audio(media_id, audio_path=str(wav.relative_to(self.instance.home)),
                             track=outcome.track)
        self.queue.append(media_id)  # transcribed next, ahead of items not yet started

    def _transcribed(self, media_id: int, item: _Decoding) -> None:
        """Every part decoded: the speaker stage goes to the workers (unless turned off)."""
        item.segments = tuple(seg for part in item.parts for seg in part.result().segments)
        item.decoded_s = time.perf_counter() - item.started
        if self.options.speakers == "off":
            self._save(media_id, item, without_speakers(item.segments,
                                                        why="turned off (--speakers off)"))
            return
        try:  # the worker reads the levels as recorded beside the WAV, where extraction kept them
            item.speakers = self.batch.executor.speakers(item.wav, list(item.segments), self.options.speakers)
        except Exception as exc:  # noqa: BLE001 - a broken pool: the words are kept regardless
            self._save(media_id, item, without_speakers(
                item.segments, why=f"failed: {type(exc).__name__}: {exc}"[:300]))
            return
        self.speaking[media_id] = item

    def _spoken(self, media_id: int, item: _Decoding) -> None:
        """Who says each word; a failure here never costs the transcript (flags then go by
        language alone, and the file says so)."""
        assert item.speakers is not None
        try:
            speakers = item.speakers.result()
        except Exception as exc:  # noqa: BLE001 - any failure falls back to flags without speakers
            log.error("media %s: telling speakers apart failed: %s", media_id, exc)
            speakers = without_speakers(item.segments,
                                        why=f"failed: {type(exc).__name__}: {exc}"[:300])
        self._save(media_id, item, speakers)

    def _save(self, media_id: int, item: _Decoding, speakers: Speakers) -> None:
        self.store.save_transcript(
            media_id, Transcription(speakers.segments, "en", item.audio_s, item.decoded_s),
            model=self.batch.model.name, model_sha256=self.batch.model.sha256,
            settings=self.options.decode.to_dict(), speaker_status=speakers.status,
            speaker_info={**speakers.info, "elapsed_s": round(speakers.elapsed_s, 3)},
        )
        item.wav.unlink(missing_ok=True)  # derived and re-creatable; originals stay
        levels_path(item.wav).unlink(missing_ok=True)
        self._flag(media_id)

    def _flag(self, media_id: int) -> None:
        def work() -> None:
            self.store.begin_stage(media_id, "flag", run_id=self.run_id)
            media = self.store.get_media(media_id)
            flags = self.batch.engine.flag_segments(
                self.store.load_segments(media_id),
                speakers_known=self.store.speaker_state(media_id).scoped)
            self.store.save_flags(media_id, flags, group_flags(flags, duration_s=media.duration_s))
            self._outcome(media_id, "done", flags=len(flags))

        self._guarded(media_id, "flag", work)

    def _in_flight(self) -> int:
        return len(self.extracting) + len(self.decoding) + len(self.speaking)

    def outcomes(self) -> Iterator[tuple[int, FileOutcome]]:
        """Run the pass, yielding each item's outcome as it ends."""
        lookahead = 2 * self.batch.workers  # keeps the workers fed without holding the night's audio
        while True:
            now = time.monotonic()
            while self.retries and self.retries[0][0] <= now:
                self.queue.append(heapq.heappop(self.retries)[1])
            while self.queue and self._in_flight() < lookahead:
                self._advance(self.queue.pop())
            yield from self._drain()
            futures: list[Future[Any]] = list(self.extracting)
            futures += [p for d in self.decoding.values() for p in d.parts if not p.done()]
            futures += [d.speakers for d in self.speaking.values() if d.speakers is not None]
            if futures:
                timeout = max(0.0, self.retries[0][0] - now) if self.retries else None
                wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
            elif not self.queue and not self.decoding and not self.speaking:
                if not self.retries:
                    break
                due = self.retries[0][0] - time.monotonic()
                if due > self.options.retry_wait_s:
                    for _due, media_id in self.retries:  # left for the next run
                        self._outcome(media_id, "failed", self.last_error.get(media_id))
                    self.retries.clear()
                else:
                    time.sleep(max(0.0, due))
            for future in [f for f in self.extracting if f.done()]:
                media_id, wav = self.extracting.pop(future)
                self._guarded(media_id, "extract", partial(self._extracted, media_id, wav, future))
            for media_id in [m for m, d in self.decoding.items() if all(p.done() for p in d.parts)]:
                item = self.decoding.pop(media_id)
                self._guarded(media_id, "transcribe", partial(self._transcribed, media_id, item))
            for media_id in [m for m, d in self.speaking.items()
                             if d.speakers is not None and d.speakers.done()]:
                item = self.speaking.pop(media_id)
                self._guarded(media_id, "transcribe", partial(self._spoken, media_id, item))
        yield from self._drain()

    def _drain(self) -> Iterator[tuple[int, FileOutcome]]:
        finished, self.finished = self.finished, []
        yield from finished

