"""Where the heavy stages run: worker processes on this machine, or a Ray cluster.

The job layer (:mod:`pipeline.batch.jobs`) owns the database and decides what runs
next; an executor only runs the two costly, database-free stages:

- **extract**: probe an original and write its speech track as a 16 kHz WAV;
- **transcribe**: decode one part of that WAV with Whisper.

Both executors give the same results for the same file. A part is decoded by
one worker at a time with the random seed reset first (temperature fallback
samples), and parts are planned from the audio alone, so a transcript never
depends on which worker took a part, how many there were, or whether an
earlier run was killed half way.

``LocalExecutor`` runs ``workers`` processes (started fresh, not forked), each
loading the model once; extraction runs on threads of the calling process
(ffmpeg does the work in its own process), so the next file's audio is
extracted while the current one is transcribed. ``RayExecutor`` runs the same
functions in long-lived Ray actors: extractors, and transcribers that hold the
model (GPU actors with ``device="cuda"``). Actors rather than tasks for
extraction: a task paid about a second of worker start-up per file.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline.batch.media import extract_speech, probe_media, select_speech_track
from pipeline.batch.second_look import LookModel, after_decoding
from pipeline.batch.speakers import Speakers
from pipeline.batch.transcribe import DecodeOptions, read_wav, transcribe_part
from pipeline.errors import ConfigError, MediaError
from pipeline.records import MediaProbe, Segment

log = logging.getLogger("bwv.executors")


# --- the stages, as plain functions any executor can run ----------------------------------


@dataclass(frozen=True)
class ExtractOutcome:
    """What extraction found: the probe and the speech track, or why the file is unusable."""

    probe: MediaProbe | None = None
    track: int | None = None
    error: str | None = None
    permanent: bool = True  # for an error: whether retrying could help


def extract_file(original: Path, wav: Path) -> ExtractOutcome:
    """Probe an original and write its speech track to ``wav`` (atomically); no database.

    Errors come back as values, so they cross process and machine boundaries intact.
    """
    try:
        if original.stat().st_size == 0:
            raise MediaError("empty file (0 bytes): the upload failed; upload it again")
        probe = probe_media(original)
        track = select_speech_track(original, probe)
        wav.parent.mkdir(parents=True, exist_ok=True)
        extract_speech(original, wav, probe=probe, track=track, levels=True)
        return ExtractOutcome(probe=probe, track=track)
    except MediaError as exc:
        return ExtractOutcome(error=exc.reason, permanent=exc.permanent)
    except OSError as exc:  # a full disk, a store path this node cannot read: worth a retry
        return ExtractOutcome(error=f"cannot extract the speech audio: {exc}", permanent=False)


@dataclass(frozen=True)
class WorkerSpec:
    """What every transcription worker loads: the model, where it runs, how it decodes."""

    model_name: str
    model_path: str
    device: str = "cpu"
    cpu_threads: int = 1
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    speaker_cache: str | None = None  # where the voice encoder keeps its ONNX graph
    look: LookModel | None = None  # the second look's model (None: no second look)


@dataclass(frozen=True)
class PartResult:
    """One transcribed part, with who decoded it and that worker's peak memory so far."""

    segments: list[Segment]
    worker: str
    peak_rss_bytes: int


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


class Transcriber:
    """A loaded model that decodes parts of speech WAVs, one at a time."""

    def __init__(self, spec: WorkerSpec) -> None:
        from pipeline.batch.models import SpeechModel
        from pipeline.batch.transcribe import load_whisper

        self.spec = spec
        model = SpeechModel(spec.model_name, Path(spec.model_path), "", multilingual=False)
        self.whisper = load_whisper(model, device=spec.device, cpu_threads=spec.cpu_threads)
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def transcribe(self, wav: str, part: tuple[int, int]) -> PartResult:
        """Decode ``part`` (sample offsets) of ``wav``; times are from the start of the file."""
        import ctranslate2

        ctranslate2.set_random_seed(0)  # the same part gives the same words on any worker
        segments = transcribe_part(read_wav(Path(wav)), part, whisper=self.whisper,
                                   options=self.spec.decode)
        return PartResult(segments, self.name, _peak_rss_bytes())

    def ready(self) -> PartResult:
        """Nothing decoded: says the model is loaded (and the memory it took)."""
        return PartResult([], self.name, _peak_rss_bytes())

    def speakers(self, wav: str, segments: list[Segment], method: str) -> Speakers:
        """Speaker turns and the second look of a file, on a worker between parts (one
        thread, like decoding: the stage never competes with the workers)."""
        return after_decoding(Path(wav), segments, method, speaker_cache=self.spec.speaker_cache,
                              look=self.spec.look, device=self.spec.device, cpu_threads=self.spec.cpu_threads)


# --- worker processes on this machine -----------------------------------------------------

_TRANSCRIBER: Transcriber | None = None


def _die_with_parent() -> None:
    """Linux: a worker is killed when the batch process dies (a power cut, ``kill -9``)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: workers notice the closed pipe instead
        pass


def _init_worker(spec: WorkerSpec) -> None:
    global _TRANSCRIBER
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    _TRANSCRIBER = Transcriber(spec)


def _transcribe_in_worker(wav: str, part: tuple[int, int] | None) -> PartResult:
    assert _TRANSCRIBER is not None, "worker not initialised"
    return _TRANSCRIBER.ready() if part is None else _TRANSCRIBER.transcribe(wav, part)


def _speakers_in_worker(wav: str, segments: list[Segment], method: str) -> Speakers:
    assert _TRANSCRIBER is not None, "worker not initialised"
    return _TRANSCRIBER.speakers(wav, segments, method)


class Executor(Protocol):
    """What the job layer needs from an executor."""

    workers: int
    name: str

    def extract(self, original: Path, wav: Path) -> Future[ExtractOutcome]: ...

    def transcribe(self, wav: Path, part: tuple[int, int]) -> Future[PartResult]: ...

    def speakers(self, wav: Path, segments: list[Segment], method: str) -> Future[Speakers]: ...

    def peak_rss_by_worker(self) -> dict[str, int]: ...

    def close(self) -> None: ...


class _PeakMemory:
    """Peak resident memory reported by each worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_worker: dict[str, int] = {}

    def watch(self, future: Future[PartResult]) -> Future[PartResult]:
        def note(done: Future[PartResult]) -> None:
            result = None if done.cancelled() or done.exception() else done.result()
            if isinstance(result, PartResult):  # a speaker stage's result has no memory figure
                with self._lock:
                    prev = self.by_worker.get(result.worker, 0)
                    self.by_worker[result.worker] = max(prev, result.peak_rss_bytes)

        future.add_done_callback(note)
        return future


class LocalExecutor:
    """``workers`` processes, each loading the model once; extraction on threads."""

    name = "local"

    def __init__(self, spec: WorkerSpec, workers: int, *, extract_threads: int = 2) -> None:
        self.workers, self.spec = workers, spec
        self._extract = ThreadPoolExecutor(extract_threads, thread_name_prefix="bwv-extract")
        self._peaks = _PeakMemory()
        self._pool = self._start_pool()

    def _start_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(self.spec,),
        )
        # The workers start with OMP_NUM_THREADS set to their threads, as Ray starts an actor:
        # numpy's BLAS (the mel spectrogram) reads it when it loads, and its thread count
        # changes the last bits of the features, and so sometimes a word.
        saved = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(self.spec.cpu_threads)
        try:
            for _ in range(self.workers):  # starts every worker; they load the model now
                self._peaks.watch(pool.submit(_transcribe_in_worker, "", None))
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
        return pool

    def extract(self, original: Path, wav: Path) -> Future[ExtractOutcome]:
        """Extract on a thread of this process (ffmpeg runs in its own)."""
        return self._extract.submit(extract_file, original, wav)

    def transcribe(self, wav: Path, part: tuple[int, int]) -> Future[PartResult]:
        """Queue a part for the next free worker; a crashed pool is started again."""
        try:
            return self._peaks.watch(self._pool.submit(_transcribe_in_worker, str(wav), part))
        except RuntimeError:  # BrokenProcessPool: a worker died (out of memory, say)
            log.warning("a worker process died; starting the workers again")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start_pool()
            return self._peaks.watch(self._pool.submit(_transcribe_in_worker, str(wav), part))

    def speakers(self, wav: Path, segments: list[Segment], method: str) -> Future[Speakers]:
        """Queue a file's speaker stage for the next free worker (a failure falls back to
        flags without speakers: no restart here)."""
        return self._pool.submit(_speakers_in_worker, str(wav), segments, method)

    def peak_rss_by_worker(self) -> dict[str, int]:
        """Each worker's peak resident memory (bytes)."""
        return dict(self._peaks.by_worker)

    def close(self) -> None:
        """Stop the workers (parts not started are dropped: the job table has them)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._extract.shutdown(wait=True, cancel_futures=True)


# --- a Ray cluster ------------------------------------------------------------------------


class Extractor:
    """A long-lived Ray actor for extraction: a task would pay a worker's start-up per file."""

    def extract(self, original: Path, wav: Path) -> ExtractOutcome:
        """See :func:`extract_file`."""
        return extract_file(original, wav)


class _ActorPool:
    """Calls spread over Ray actors, each given one call at a time, the next to the first free."""

    def __init__(self, actors: list[Any], on_result: Callable[[Future[Any]], object] | None = None
                 ) -> None:
        self.actors = actors
        self._on_result = on_result
        self._lock = threading.Lock()
        self._idle: deque[Any] = deque(actors)
        self._waiting: deque[tuple[str, tuple[Any, ...], Future[Any]]] = deque()

    def submit(self, method: str, *args: Any) -> Future[Any]:
        """Call ``method`` on the next free actor."""
        out: Future[Any] = Future()
        with self._lock:
            actor = self._idle.popleft() if self._idle else None
            if actor is None:
                self._waiting.append((method, args, out))
        if actor is not None:
            self._call(actor, method, args, out)
        return out

    def _call(self, actor: Any, method: str, args: tuple[Any, ...], out: Future[Any]) -> None:
        inner: Future[Any] = getattr(actor, method).remote(*args).future()

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            if exc is not None:
                out.set_exception(exc)
            else:
                out.set_result(f.result())
                if self._on_result:
                    self._on_result(f)
            with self._lock:
                if not self._waiting:
                    self._idle.append(actor)
                    return
                method_, args_, out_ = self._waiting.popleft()
            self._call(actor, method_, args_, out_)

        inner.add_done_callback(done)


class RayExecutor:
    """The same stages on Ray, in long-lived actors: extractors, and transcribers holding the model.

    With ``address`` it joins a running cluster (``ray start --head`` on one node,
    ``ray start --address HEAD:6379`` on the others); without, it starts a
    local one for this run. Every node must see the instance folder at the same
    path (a shared file system), because extractors read originals and write the
    speech audio there, and transcribers read it.
    """

    name = "ray"

    def __init__(self, spec: WorkerSpec, workers: int, *, address: str | None = None) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(
                "--executor ray needs Ray: pip install 'bwv[ray]' (make setup installs it)"
            ) from exc
        self._ray = ray
        self.workers, self.spec = workers, spec
        self._started_here = not ray.is_initialized()
        if self._started_here:
            try:
                ray.init(
                    address=address, num_cpus=None if address else (os.cpu_count() or 1),
                    include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot reach the Ray cluster at {address or 'local'}: {exc}") from exc
        gpu = 1.0 if spec.device == "cuda" else 0.0
        transcriber = ray.remote(num_cpus=0 if gpu else spec.cpu_threads, num_gpus=gpu,
                                 max_restarts=2, max_task_retries=1)(Transcriber)
        # Extraction mostly waits on ffmpeg, which runs in its own process: no CPU reserved.
        extractor = ray.remote(num_cpus=0, max_restarts=2, max_task_retries=1)(Extractor)
        self._peaks = _PeakMemory()
        self._transcribers = _ActorPool(
            [transcriber.remote(spec) for _ in range(workers)],  # type: ignore[attr-defined]
            on_result=self._peaks.watch,
        )
        self._extractors = _ActorPool([extractor.remote() for _ in range(2)])  # type: ignore[attr-defined]
        for _ in range(workers):  # the models load now, not at the first part
            self._transcribers.submit("ready")

    def extract(self, original: Path, wav: Path) -> Future[ExtractOutcome]:
        """Extract on the next free extractor actor (on any node that sees the store)."""
        return self._extractors.submit("extract", original, wav)

    def transcribe(self, wav: Path, part: tuple[int, int]) -> Future[PartResult]:
        """Give a part to the next free transcriber (each decodes one part at a time)."""
        return self._transcribers.submit("transcribe", str(wav), part)

    def speakers(self, wav: Path, segments: list[Segment], method: str) -> Future[Speakers]:
        """Give a file's speaker stage to the next free transcriber."""
        return self._transcribers.submit("speakers", str(wav), segments, method)

    def peak_rss_by_worker(self) -> dict[str, int]:
        """Each transcriber's peak resident memory (bytes)."""
        return dict(self._peaks.by_worker)

    def close(self) -> None:
        """Release the actors; stop the local cluster if this run started it."""
        for actor in [*self._transcribers.actors, *self._extractors.actors]:
            self._ray.kill(actor)
        if self._started_here:
            self._ray.shutdown()


def make_executor(kind: str, spec: WorkerSpec, workers: int, *, address: str | None = None
                  ) -> Executor:
    """The executor named on the command line."""
    if kind == "local":
        return LocalExecutor(spec, workers)
    if kind == "ray":
        return RayExecutor(spec, workers, address=address)
    raise ConfigError(f"unknown executor {kind!r}: use local or ray")

