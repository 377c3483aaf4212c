#!/usr/bin/env python3
"""Benchmark speaker turns on generated scenes with known speakers (scripts/footage_speakers.py).

Every scene is transcribed once as the batch does it (its speech WAV extracted and
level-normalised, the bundled tiny.en model, bwv's default decoding; the segments are
cached beside the scenes), then given speakers by each method of
``pipeline.batch.speakers.assign_speakers``. On the held-back third of the scenes (the
scenes were written before any tuning; ``--tuning`` for the rest) it reports:

- diarization error rate by pyannote.metrics, with overlapping speech scored and with it
  skipped, forgiving 0.25 s either side of every reference boundary (NIST md-eval's collar;
  ``collar=0.5`` in pyannote's terms, which counts the whole width);
- wearer attribution: of the words whose true speaker is the camera wearer, the share
  labelled ``wearer``; of the other voices' words, the share labelled ``wearer``. A word's
  true speaker is the ground-truth line under its midpoint (where lines of two speakers
  overlap there, the one whose text holds the word); words under no line, or undecidable,
  are counted apart;
- flag precision and recall against the lines' rubric categories, flagged by language
  alone and with the rubric's ``said_by`` scoping (where the file's speakers were told
  apart). A flag is right when its category is among those of a line it overlaps (0.3 s
  tolerance for word timestamps);
- ``bwv run`` over the same scenes with the speaker stage and with ``--speakers off``,
  alternately: the wall time the stage adds, as a share of the batch's wall time (and its
  own seconds on the workers, from the store), and the batch's peak memory;

and, for the bad-input scenes, what each got and whether its transcript and disclosures
were kept. Exit status 1 when a target is missed.

Example:
    python scripts/bench_speakers.py                   # held-back scenes, every method
    python scripts/bench_speakers.py --tuning --method ge2e --verbose
    python scripts/bench_speakers.py --quick           # 3 scenes, no bad input
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import Flag, Segment, Word  # noqa: E402
from scripts.footage_speakers import Scene, TruthLine, build_scenes  # noqa: E402

#: Forgiven either side of each reference boundary when scoring turns (pyannote's collar is
#: the whole width, so it is given twice this).
COLLAR_S = 0.25
#: Word timestamps are not exact: a flag this close to a line counts as overlapping it.
FLAG_TOLERANCE_S = 0.3
WEARER = "wearer"
TARGET_WEARER = 0.95
TARGET_OTHERS = 0.05
TARGET_PRECISION = 0.9
TARGET_STAGE_SHARE = 0.10
TARGET_PEAK_BYTES = 2_000_000_000


# --- scoring against the ground truth (no models) -------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text.lower().replace("'", "").replace("’", "")))


def true_speaker(word: Word, lines: Sequence[TruthLine]) -> str | None:
    """The speaker of the ground-truth line under the word's midpoint.

    None when no line is under it; ``"?"`` when lines of several speakers are and the word's
    text does not pick out one of them.
    """
    mid = (word.start_s + word.end_s) / 2
    under = [line for line in lines if line.start_s <= mid <= line.end_s]
    speakers = {line.speaker for line in under}
    if len(speakers) <= 1:
        return speakers.pop() if speakers else None
    token = _tokens(word.word)
    holding = {line.speaker for line in under if token and token <= _tokens(line.text)}
    return holding.pop() if len(holding) == 1 else "?"


@dataclass
class WordCounts:
    """Words by true speaker and label."""

    wearer: int = 0  # words the wearer said
    wearer_as_wearer: int = 0
    others: int = 0  # words anyone else said
    others_as_wearer: int = 0
    outside: int = 0  # under no ground-truth line
    undecided: int = 0  # under lines of two speakers, the text not telling which

    def __add__(self, other: WordCounts) -> WordCounts:
        return WordCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def wearer_share(self) -> float:
        """Share of the wearer's words labelled wearer (nan with none)."""
        return self.wearer_as_wearer / self.wearer if self.wearer else float("nan")

    @property
    def others_share(self) -> float:
        """Share of other voices' words labelled wearer (nan with none)."""
        return self.others_as_wearer / self.others if self.others else float("nan")


def score_words(words: Iterable[Word], lines: Sequence[TruthLine]) -> WordCounts:
    """Count hypothesis words against the ground truth by their labels."""
    counts = WordCounts()
    for word in words:
        truth, labelled = true_speaker(word, lines), word.speaker == WEARER
        if truth is None:
            counts.outside += 1
        elif truth == "?":
            counts.undecided += 1
        elif truth == WEARER:
            counts.wearer += 1
            counts.wearer_as_wearer += labelled
        else:
            counts.others += 1
            counts.others_as_wearer += labelled
    return counts


def _is(category: str, truth: str) -> bool:
    """A flag's category counts as the truth's id, or as its parent (sub-categories)."""
    return category == truth or category.startswith(truth + ".")


def _overlaps(flag: Flag, line: TruthLine) -> bool:
    return flag.start_s < line.end_s + FLAG_TOLERANCE_S and line.start_s < flag.end_s + FLAG_TOLERANCE_S


@dataclass
class FlagCounts:
    """Flags right and wrong, and the ground truth's (line, category) pairs found."""

    flags: int = 0
    right: int = 0
    truths: int = 0
    found: int = 0

    def __add__(self, other: FlagCounts) -> FlagCounts:
        return FlagCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def precision(self) -> float:
        return self.right / self.flags if self.flags else float("nan")

    @property
    def recall(self) -> float:
        return self.found / self.truths if self.truths else float("nan")


def score_flags(flags: Sequence[Flag], lines: Sequence[TruthLine]) -> FlagCounts:
    """Precision and recall counts of ``flags`` against the lines' categories."""
    right = sum(any(_overlaps(f, ln) and any(_is(f.category, c) for c in ln.categories) for ln in lines)
                for f in flags)
    pairs = [(ln, c) for ln in lines for c in ln.categories]
    found = sum(any(_overlaps(f, ln) and _is(f.category, c) for f in flags) for ln, c in pairs)
    return FlagCounts(len(flags), right, len(pairs), found)


def diarization_error(scenes: Sequence[tuple[Scene, Sequence[Any]]], *, skip_overlap: bool) -> float:
    """pyannote.metrics' diarization error rate over all the scenes (turns: start_s, end_s,
    speaker), forgiving :data:`COLLAR_S` either side of every reference boundary."""
    from pyannote.core import Annotation, Timeline
    from pyannote.core import Segment as Span
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=2 * COLLAR_S, skip_overlap=skip_overlap)
    for scene, turns in scenes:
        reference, hypothesis = Annotation(uri=scene.name), Annotation(uri=scene.name)
        for i, line in enumerate(scene.lines):
            reference[Span(line.start_s, line.end_s), f"line{i}"] = line.speaker
        for i, turn in enumerate(turns):
            if turn.end_s > turn.start_s:
                hypothesis[Span(turn.start_s, turn.end_s), f"turn{i}"] = turn.speaker or "unknown"
        metric(reference, hypothesis, uem=Timeline([Span(0.0, scene.duration_s)]))
    return float(abs(metric))


# --- transcribing as the batch does ---------------------------------------------------------


def _segment(data: dict[str, Any]) -> Segment:
    return Segment(**{**data, "words": tuple(Word(**w) for w in data["words"])})


def transcribe_scenes(scenes: Sequence[Scene], cache: Path) -> dict[str, tuple[Any, list[Segment]]]:
    """Each scene's speech samples and Whisper segments, as the batch makes them: the speech
    WAV extracted and level-normalised for Whisper, with a copy at the recorded levels that
    the speaker stage reads. Transcribed once, cached by scene, model and decoding settings."""
    from pipeline.batch.executors import extract_file
    from pipeline.batch.media import levels_path
    from pipeline.batch.models import resolve_speech_model
    from pipeline.batch.transcribe import DecodeOptions, load_whisper, read_wav, transcribe_audio

    cache.mkdir(parents=True, exist_ok=True)
    model = resolve_speech_model("tiny.en", models_dir=cache / "models")
    options = DecodeOptions()
    whisper = None
    out = {}
    for scene in scenes:
        speech, saved = cache / f"{scene.name}.speech.wav", cache / f"{scene.name}.segments.json"
        key = {"scene": scene.spec_hash, "model": model.sha256, "decode": options.to_dict()}
        if not speech.is_file() or not saved.is_file() or json.loads(saved.read_text())["key"] != key:
            outcome = extract_file(scene.wav, speech)
            if outcome.error:
                raise SystemExit(f"{scene.name}: cannot extract speech: {outcome.error}")
            whisper = whisper or load_whisper(model)
            segments = transcribe_audio(speech, whisper=whisper, model=model, options=options).segments
            saved.write_text(json.dumps({"key": key, "segments": [asdict(s) for s in segments]}))
            print(f"  transcribed {scene.name}", file=sys.stderr)
        data = json.loads(saved.read_text())
        recorded = levels_path(speech)  # what the batch's speaker stage reads, where it is made
        samples = read_wav(recorded if recorded.exists() else speech)
        out[scene.name] = (samples, [_segment(s) for s in data["segments"]])
    return out


# --- the measurements ----------------------------------------------------------------------


def _words(segments: Iterable[Segment]) -> list[Word]:
    return [w for s in segments for w in s.words]


def _speakers_known(status: str) -> bool:
    """Whether the rubric's ``said_by`` applies: only where speakers were told apart."""
    return status == "separated"


@dataclass
class MethodResult:
    """One method over a set of scenes."""

    method: str
    words: WordCounts
    flags_alone: FlagCounts
    flags_scoped: FlagCounts
    der: float
    der_no_overlap: float
    stage_s: float
    audio_s: float
    rows: list[dict[str, Any]]


def run_method(method: str, scenes: Sequence[Scene], heard: dict[str, tuple[Any, list[Segment]]],
               engine: Any) -> MethodResult:
    """Speakers by ``method`` on every scene, scored."""
    from pipeline.batch.speakers import assign_speakers

    words, alone, scoped = WordCounts(), FlagCounts(), FlagCounts()
    turns, rows, stage_s, audio_s = [], [], 0.0, 0.0
    for scene in scenes:
        samples, segments = heard[scene.name]
        result = assign_speakers(samples, segments, method=method)
        counts = score_words(_words(result.segments), scene.lines)
        a = score_flags(engine.flag_segments(segments, speakers_known=False), scene.lines)
        s = score_flags(engine.flag_segments(result.segments, speakers_known=_speakers_known(result.status)),
                        scene.lines)
        words, alone, scoped = words + counts, alone + a, scoped + s
        turns.append((scene, result.turns))
        stage_s += result.elapsed_s
        audio_s += scene.duration_s
        rows.append({"scene": scene.name, "status": result.status,
                     "speakers": len({t.speaker for t in result.turns}),
                     "truth": len({ln.speaker for ln in scene.lines}),
                     "wearer": counts.wearer_share, "others": counts.others_share,
                     "der": diarization_error([(scene, result.turns)], skip_overlap=False),
                     "prec": s.precision, "prec_alone": a.precision})
    return MethodResult(method, words, alone, scoped, diarization_error(turns, skip_overlap=False),
                        diarization_error(turns, skip_overlap=True), stage_s, audio_s, rows)


@dataclass
class BadResult:
    """What a bad-input scene got."""

    name: str
    expect: str
    status: str
    words: int
    kept_words: bool
    labels: str
    wearer_share: float
    disclosures: int
    kept_disclosures: bool


def run_bad_inputs(method: str, scenes: Sequence[Scene], heard: dict[str, tuple[Any, list[Segment]]],
                   engine: Any) -> list[BadResult]:
    """Each bad input through ``method``: its status, and whether the words and the
    disclosures flagged by language alone survived speaker turns."""
    from pipeline.batch.speakers import assign_speakers

    out = []
    for scene in scenes:
        samples, segments = heard[scene.name]
        result = assign_speakers(samples, segments, method=method)
        before, after = _words(segments), _words(result.segments)
        labels = sorted({str(w.speaker) for w in after})
        alone = [f for f in engine.flag_segments(segments, speakers_known=False) if f.family == "disclosure"]
        scoped = engine.flag_segments(result.segments, speakers_known=_speakers_known(result.status))
        kept = all(any(g.category == f.category and g.start_s < f.end_s + FLAG_TOLERANCE_S
                       and f.start_s < g.end_s + FLAG_TOLERANCE_S for g in scoped) for f in alone)
        out.append(BadResult(scene.name, scene.expect, result.status, len(before),
                             [w.word for w in before] == [w.word for w in after], ", ".join(labels),
                             sum(w.speaker == WEARER for w in after) / len(after) if after else float("nan"),
                             len(alone), kept))
    return out


@dataclass
class BatchResult:
    """``bwv run`` over the scenes."""

    wall_s: float
    stage_s: float | None  # the speaker stage's seconds, summed over the files (None: not stored)
    files: int
    statuses: dict[str, int]
    tree_peak_bytes: int  # the whole process tree, sampled
    largest_process_bytes: int  # getrusage(RUSAGE_CHILDREN).ru_maxrss

    @property
    def share(self) -> float:
        return self.stage_s / self.wall_s if self.stage_s is not None else float("nan")


@contextmanager
def fresh_batch(scenes: Sequence[Scene], args: Sequence[str], *,
                prepare: Callable[[Path], None] | None = None) -> Iterator[tuple[float, int, Any]]:
    """``bwv run ARGS`` over the scenes' WAVs in a fresh instance, timed wall to wall; yields
    the wall seconds, the process tree's peak memory and the instance's store (open until
    the block ends). ``prepare`` gets the instance folder before the run."""
    from pipeline.config import resolve_instance
    from pipeline.store import open_store
    from scripts.bench_run import run_measured

    with tempfile.TemporaryDirectory(prefix="bwv-bench-") as tmp:
        inbox, home = Path(tmp) / "inbox", Path(tmp) / "home"
        inbox.mkdir()
        for scene in scenes:
            shutil.copy(scene.wav, inbox / scene.wav.name)
        env = {**os.environ, "BWV_HOME": str(home)}
        env.pop("BWV_DB", None)
        if prepare is not None:
            prepare(home)
        wall, tree_peak, _out = run_measured(
            [sys.executable, "-m", "pipeline", "--quiet", "run", str(inbox), "--settle-seconds", "0", *args],
            env=env)
        store = open_store(resolve_instance(home).db_url)
        try:
            yield wall, tree_peak, store
        finally:
            store.engine.dispose()


def run_batch(scenes: Sequence[Scene], *, speakers: str = "ge2e",
              kept: Path | None = None) -> BatchResult:
    """``bwv run --speakers SPEAKERS`` over the scenes' WAVs in a fresh instance, timed wall
    to wall. ``kept``: a models folder whose voice-encoder graph the instance starts with, as
    an instance has on every night after its first (which builds it, about 0.6 s a worker)."""
    from sqlalchemy import select

    from pipeline.store import schema as db

    def keep_graph(home: Path) -> None:
        graph = kept / "ge2e-resemblyzer-0.1.4.onnx" if kept else None
        if graph is not None and graph.is_file():
            (home / "models").mkdir(parents=True)
            shutil.copy(graph, home / "models" / graph.name)

    with fresh_batch(scenes, ["--speakers", speakers], prepare=keep_graph) as (wall, tree_peak, store):
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: KiB
        with store.session() as session:
            rows = session.scalars(select(db.Transcript)).all()
            infos = [json.loads(r.speaker_info) if r.speaker_info else {} for r in rows]
            statuses: dict[str, int] = {}
            for r in rows:
                statuses[str(r.speaker_status)] = statuses.get(str(r.speaker_status), 0) + 1
    stage = [i.get("elapsed_s") for i in infos]
    stage_s = None if not stage or None in stage else float(sum(stage))
    return BatchResult(wall, stage_s, len(rows), statuses, tree_peak, largest)


# --- the report -----------------------------------------------------------------------------


def _pct(x: float) -> str:
    return "  n/a" if x != x else f"{100 * x:5.1f}%"


def _num(x: float) -> str:
    return " n/a" if x != x else f"{x:.2f}"


def _verdict(name: str, good: bool) -> bool:
    print(f"  {name}: {'yes' if good else 'NO'}")
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tuning", action="store_true", help="the tuning scenes, not the held-back ones")
    parser.add_argument("--method", action="append", help="a speaker method to compare (repeatable; "
                        "default: every method); the targets are judged on the first")
    parser.add_argument("--quick", action="store_true", help="3 scenes, no bad input")
    parser.add_argument("--rounds", type=int, default=3,
                        help="batch runs with and without speakers, alternately (default 3)")
    parser.add_argument("--footage", type=Path, default=ROOT / "data" / "bench" / "speakers")
    parser.add_argument("--no-batch", action="store_true", help="skip timing `bwv run`")
    parser.add_argument("--no-bad-input", action="store_true", help="skip the bad-input scenes")
    parser.add_argument("--verbose", action="store_true", help="a row per scene")
    args = parser.parse_args(argv)

    from pipeline.batch.speakers import METHODS
    from pipeline.flagging.engine import FlagEngine, load_nlp
    from pipeline.flagging.rubric import load_rubric

    methods = args.method or list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method {unknown[0]!r}: choose from {', '.join(METHODS)}")
    which = "tuning" if args.tuning else "heldback"
    print(f"building scenes into {args.footage} ...", file=sys.stderr)
    scenes = build_scenes(args.footage, which=which, quick=args.quick)
    bad = [] if args.quick or args.no_bad_input else build_scenes(args.footage, which="bad")
    heard = transcribe_scenes([*scenes, *bad], args.footage / "heard")
    engine = FlagEngine(load_rubric(), load_nlp())
    results = [run_method(m, scenes, heard, engine) for m in methods]

    audio_min = sum(s.duration_s for s in scenes) / 60
    print(f"\nspeaker turns on the {which} scenes: {len(scenes)} scenes, {audio_min:.1f} min, "
          f"{sum(len(s.lines) for s in scenes)} lines, {os.cpu_count()} cores")
    print(f"DER: pyannote.metrics DiarizationErrorRate, {COLLAR_S} s forgiven either side of each "
          "reference boundary (pyannote collar=0.5)")
    print(f"flags: right when the category is among those of a ground-truth line within "
          f"{FLAG_TOLERANCE_S} s; 'alone' = by language alone, 'scoped' = with said_by\n")
    header = (f"{'method':8} {'DER':>6} {'DER-ovl':>7} {'wearer':>7} {'others':>7} {'words':>6} "
              f"{'outside':>7} {'undec':>5} {'P alone':>7} {'R alone':>7} {'P scoped':>8} "
              f"{'R scoped':>8} {'x real time':>11}")
    print(header)
    for r in results:
        print(f"{r.method:8} {_pct(r.der):>6} {_pct(r.der_no_overlap):>7} {_pct(r.words.wearer_share):>7} "
              f"{_pct(r.words.others_share):>7} {r.words.wearer + r.words.others:>6} {r.words.outside:>7} "
              f"{r.words.undecided:>5} {_num(r.flags_alone.precision):>7} {_num(r.flags_alone.recall):>7} "
              f"{_num(r.flags_scoped.precision):>8} {_num(r.flags_scoped.recall):>8} "
              f"{r.audio_s / max(r.stage_s, 1e-9):>11.0f}")
    print("  wearer: the wearer's words labelled wearer; others: other voices' words labelled wearer;"
          " DER-ovl: overlapping speech not scored")
    if args.verbose:
        for r in results:
            print(f"\n{r.method}, per scene:")
            for row in r.rows:
                print(f"  {row['scene']:30} {row['status']:16} {row['speakers']} of {row['truth']} speakers"
                      f"  wearer {_pct(row['wearer'])}  others {_pct(row['others'])}  DER {_pct(row['der'])}"
                      f"  P scoped {_num(row['prec'])} alone {_num(row['prec_alone'])}")

    first = results[0]
    print(f"\ntargets ({first.method}):")
    ok = _verdict(f"wearer's words labelled wearer >= {TARGET_WEARER:.0%} ({_pct(first.words.wearer_share)})",
                  first.words.wearer_share >= TARGET_WEARER)
    ok &= _verdict(f"other voices' words labelled wearer <= {TARGET_OTHERS:.0%} "
                   f"({_pct(first.words.others_share)})", first.words.others_share <= TARGET_OTHERS)
    ok &= _verdict(f"flag precision with speakers >= {TARGET_PRECISION} ({_num(first.flags_scoped.precision)})",
                   first.flags_scoped.precision >= TARGET_PRECISION)
    ok &= _verdict(f"flag recall with speakers no lower than without ({_num(first.flags_scoped.recall)} vs "
                   f"{_num(first.flags_alone.recall)})", first.flags_scoped.recall >= first.flags_alone.recall)

    if not args.no_batch:
        print(f"\ntiming `bwv run` over the {len(scenes)} scenes, with and without speakers, "
              f"alternately, {args.rounds} rounds ...", file=sys.stderr)
        runs: dict[str, list[BatchResult]] = {"off": [], first.method: []}
        kept = args.footage / "heard" / "models"
        from pipeline.batch.voices import Ge2eEncoder
        Ge2eEncoder(cache=kept)  # builds and keeps the graph, as an instance's first night does
        for _round in range(args.rounds):
            for kind in runs:
                runs[kind].append(run_batch(scenes, speakers=kind, kept=kept))
        batch = min(runs[first.method], key=lambda r: r.wall_s)
        with_s = statistics.median(r.wall_s for r in runs[first.method])
        off_s = statistics.median(r.wall_s for r in runs["off"])
        added = (with_s - off_s) / with_s
        print(f"\nbwv run: {batch.files} files; median wall {with_s:.1f} s with speakers, {off_s:.1f} s "
              f"with --speakers off: the stage adds {with_s - off_s:.2f} s, {_pct(added).strip()} of the "
              f"wall time (runs: {', '.join(f'{r.wall_s:.1f}' for r in runs[first.method])} against "
              f"{', '.join(f'{r.wall_s:.1f}' for r in runs['off'])} s)")
        print(f"  the stage's own seconds on the workers, summed: "
              f"{'not stored' if batch.stage_s is None else f'{batch.stage_s:.1f} s'} "
              f"({_pct(batch.share).strip()} of that run's wall time; it runs beside the decoding)")
        print(f"  statuses {batch.statuses}; peak memory {batch.tree_peak_bytes / 1e6:.0f} MB (process "
              f"tree), largest process {batch.largest_process_bytes / 1e6:.0f} MB")
        ok &= _verdict(f"speaker stage adds <= {TARGET_STAGE_SHARE:.0%} of the batch's wall time",
                       added <= TARGET_STAGE_SHARE)
        ok &= _verdict("peak memory < 2 GB",
                       max(batch.tree_peak_bytes, batch.largest_process_bytes) < TARGET_PEAK_BYTES)

    if bad:
        print(f"\nbad input ({first.method}):")
        print(f"  {'scene':30} {'status':16} {'words':>5} {'kept':>4} {'wearer':>7} {'discl.':>6} "
              f"{'kept':>4}  labels")
        for b in run_bad_inputs(first.method, bad, heard, engine):
            print(f"  {b.name:30} {b.status:16} {b.words:>5} {'yes' if b.kept_words else 'NO':>4} "
                  f"{_pct(b.wearer_share):>7} {b.disclosures:>6} {'yes' if b.kept_disclosures else 'NO':>4}"
                  f"  {b.labels}\n  {'':30} expected: {b.expect}")
            ok &= b.kept_words and b.kept_disclosures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
