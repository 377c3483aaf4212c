"""How well the public's voice is transcribed (issue 17), on the held-back scenes.

Over the held-back scenes of :mod:`scripts.footage_speakers` and :mod:`scripts.footage_voices`
(written before tuning; never tuned on) and the noise-only files, in one run:

- plain faster-whisper: ``WhisperModel(tiny.en).transcribe(file)`` with the library's
  defaults, timed over the files in one process (model load included); a second run with
  ``word_timestamps=True`` gives its words their times for scoring;
- ``bwv run``: bwv's default;
- ``bwv run --second-look others``: the other voices' turns decoded again with ``base``;
- with ``--with-base``, ``bwv run --model base`` as well: the largest complete Whisper model
  on PyPI (the ``small`` packages found there stop part-way through the decoder) on every voice;
- sequential decoding of each whole file with bwv's settings, for the words lost.

It prints word error rate for the wearer's voice and for the other voices at each level
(each word is scored against the ground-truth line under its middle), end-to-end recall
and precision of the rubric's disclosure flags (what the batch stored), the words each
run wrote on noise-only files, words lost against sequential decoding, speed in times real
time and peak memory of the process tree, against the issue's targets.

Example::

    python scripts/bench_voices.py            # held-back scenes (builds them once)
    python scripts/bench_voices.py --set tuning
    python scripts/bench_voices.py --with-base  # and `--model base` on every voice
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.records import Flag, Segment, Word  # noqa: E402
from scripts.bench_speakers import FlagCounts, fresh_batch, score_flags  # noqa: E402
from scripts.footage_speakers import Scene, TruthLine, build_scenes  # noqa: E402
from scripts.footage_voices import build_voice_scenes, disclosure  # noqa: E402

DATA = ROOT / "data" / "bench"
LINE_SLACK_S = 0.3  # a word this near a ground-truth line may be that line's
TARGET_OTHERS_CUT = 0.20  # others' WER a fifth lower than bwv before the second look
TARGET_RECALL, TARGET_PRECISION = 0.9, 0.85
TARGET_SPEED = 1.5
TARGET_PEAK_BYTES = 2_000_000_000

_WORD = re.compile(r"[a-z0-9']+")


def normalise(text: str) -> str:
    """Lower case, words only, one apostrophe form."""
    return " ".join(_WORD.findall(text.lower().replace("’", "'")))


def group(line: TruthLine) -> str:
    """``wearer``, or ``others -12 dB`` by the voice's level against the wearer."""
    return "wearer" if line.speaker == "wearer" else f"others {int(round(line.level_db))} dB"


def words_by_line(lines: Sequence[TruthLine], words: Sequence[Word]) -> dict[int, list[str]]:
    """Each hypothesis word to the line under its middle (the nearest such line's centre)."""
    out: dict[int, list[str]] = defaultdict(list)
    for w in words:
        mid = (w.start_s + w.end_s) / 2
        near = [i for i, ln in enumerate(lines) if ln.start_s - LINE_SLACK_S <= mid <= ln.end_s + LINE_SLACK_S]
        if near:
            out[min(near, key=lambda i: abs((lines[i].start_s + lines[i].end_s) / 2 - mid))].append(w.word)
    return out


def wer_by_group(scenes: Sequence[Scene], words: dict[str, list[Word]]) -> dict[str, tuple[float, int]]:
    """Word error rate and reference words per group (and ``others`` over every level)."""
    import jiwer

    refs: dict[str, list[str]] = defaultdict(list)
    hyps: dict[str, list[str]] = defaultdict(list)
    for scene in scenes:
        heard = words_by_line(scene.lines, words.get(scene.name, []))
        for i, line in enumerate(scene.lines):
            names = [group(line)] + ([] if line.speaker == "wearer" else ["others"])
            for name in names:
                refs[name].append(normalise(line.text))
                hyps[name].append(normalise(" ".join(heard.get(i, []))))
    return {g: (float(jiwer.wer(refs[g], hyps[g])), sum(len(r.split()) for r in refs[g])) for g in refs}


def disclosure_counts(scenes: Sequence[Scene], flags: dict[str, list[Flag]]) -> FlagCounts:
    """Recall and precision of disclosure flags against the lines' disclosure categories."""
    total = FlagCounts()
    for scene in scenes:
        lines = [replace(ln, categories=tuple(c for c in ln.categories if disclosure(c))) for ln in scene.lines]
        total = total + score_flags([f for f in flags.get(scene.name, []) if disclosure(f.category)], lines)
    return total


# --- the runs -------------------------------------------------------------------------------

_PLAIN = r"""
import json, sys
from faster_whisper import WhisperModel
from pipeline.batch.models import tiny_en
words = sys.argv[1] == "words"
model = WhisperModel(str(tiny_en().path))
out = {}
for path in sys.argv[2:]:
    segments, _info = model.transcribe(path, word_timestamps=words)
    out[path] = [[s.start, s.end, s.text, [[w.start, w.end, w.word, w.probability] for w in (s.words or [])]]
                 for s in segments]
print(json.dumps(out))
"""


@dataclass
class Run:
    """One transcriber over the files: words, flags, time and memory."""

    name: str
    wall_s: float = 0.0
    peak_bytes: int = 0
    words: dict[str, list[Word]] = field(default_factory=dict)
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    flags: dict[str, list[Flag]] = field(default_factory=dict)
    models: dict[str, float] = field(default_factory=dict)  # seconds of words per model


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BWV_DB", None)
    return env


def run_plain(scenes: Sequence[Scene], engine: Any) -> tuple[Run, float]:
    """Plain faster-whisper: timed with the library's defaults; words from a run with word times."""
    from scripts.bench_run import run_measured

    paths = [str(s.wav) for s in scenes]
    wall, peak, _out = run_measured([sys.executable, "-c", _PLAIN, "text", *paths], env=_env())
    _w, _p, out = run_measured([sys.executable, "-c", _PLAIN, "words", *paths], env=_env())
    data = json.loads(out)
    run = Run("plain faster-whisper", wall, peak)
    for scene in scenes:
        segs = [Segment(s, e, t.strip(), tuple(Word(a, b, w.strip(), p) for a, b, w, p in ws if w.strip()))
                for s, e, t, ws in data[str(scene.wav)]]
        run.segments[scene.name] = segs
        run.words[scene.name] = [w for s in segs for w in s.words]
        run.flags[scene.name] = engine.flag_segments(segs, speakers_known=False)
    return run, wall


def run_bwv(name: str, scenes: Sequence[Scene], extra: list[str]) -> Run:
    """``bwv run`` over the files in a fresh instance, timed wall to wall; what it stored."""
    from sqlalchemy import select

    from pipeline.store import schema as db

    with fresh_batch(scenes, extra) as (wall, peak, store):
        run = Run(name, wall, peak)
        with store.session() as session:
            names = {r.media_id: Path(r.name).stem for r in session.scalars(select(db.MediaName))}
            flags = session.scalars(select(db.Flag)).all()
        for media_id, stem in names.items():
            segs = store.load_segments(media_id)
            run.segments[stem] = segs
            run.words[stem] = [w for s in segs for w in s.words]
            for s in segs:
                if s.words:
                    run.models[str(s.model)] = run.models.get(str(s.model), 0.0) + s.end_s - s.start_s
        for f in flags:
            run.flags.setdefault(names[f.media_id], []).append(
                Flag(f.category, f.family, f.start_s, f.end_s, f.text, f.context, f.rubric, f.pattern,
                     f.severity, f.speaker))
    return run


def sequential_words(scenes: Sequence[Scene]) -> dict[str, str]:
    """Each whole file decoded in one sequential pass with bwv's settings (no parts)."""
    from pipeline.batch.executors import extract_file
    from pipeline.batch.models import tiny_en
    from pipeline.batch.transcribe import DecodeOptions, load_whisper, read_wav, transcribe_part

    whisper, out = load_whisper(tiny_en()), {}
    with tempfile.TemporaryDirectory(prefix="bwv-bench-seq-") as tmp:
        for scene in scenes:
            speech = Path(tmp) / f"{scene.name}.wav"
            outcome = extract_file(scene.wav, speech)
            if outcome.error:
                raise SystemExit(f"{scene.name}: {outcome.error}")
            samples = read_wav(speech)
            segs = transcribe_part(samples, (0, len(samples)), whisper=whisper, options=DecodeOptions())
            out[scene.name] = " ".join(s.text for s in segs)
    return out


def words_lost(reference: dict[str, str], run: Run) -> tuple[int, int]:
    """Words of the sequential decoding that the run has nowhere (alignment deletions), and
    how many words the sequential decoding has."""
    import jiwer

    lost = total = 0
    for name, text in reference.items():
        ref = normalise(text)
        if not ref:
            continue
        hyp = normalise(" ".join(w.word for w in run.words.get(name, []))) or "<empty>"
        lost += jiwer.process_words(ref, hyp).deletions
        total += len(ref.split())
    return lost, total


# --- the report -----------------------------------------------------------------------------


def _verdict(label: str, good: bool) -> bool:
    print(f"  {label}: {'yes' if good else 'NO'}")
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("heldback", "tuning"), default="heldback")
    parser.add_argument("--quick", action="store_true", help="three scenes of each kind (a smoke run)")
    parser.add_argument("--with-base", action="store_true",
                        help="also `bwv run --model base`: the largest complete model on PyPI on every voice")
    args = parser.parse_args(argv)

    from pipeline.flagging.engine import FlagEngine, load_nlp
    from pipeline.flagging.rubric import load_rubric

    scenes = (build_scenes(DATA / "speakers", which=args.set, quick=args.quick)
              + build_voice_scenes(DATA / "voices", which=args.set, quick=args.quick))
    noise = build_voice_scenes(DATA / "voices", which="noise", quick=args.quick)
    files = [*scenes, *noise]
    audio_s = sum(s.duration_s for s in files)
    print(f"{len(scenes)} {args.set} scenes ({sum(s.duration_s for s in scenes) / 60:.1f} min) and "
          f"{len(noise)} noise-only files; {audio_s / 60:.1f} min in all", flush=True)
    engine = FlagEngine(load_rubric(), load_nlp())

    plain, plain_s = run_plain(files, engine)
    before = run_bwv("bwv (default)", files, [])
    now = run_bwv("bwv --second-look others", files, ["--second-look", "others"])
    runs = [plain, before, now]
    if args.with_base:
        runs.append(run_bwv("bwv --model base", files, ["--model", "base"]))
    reference = sequential_words(scenes)

    wers = {r.name: wer_by_group(scenes, r.words) for r in runs}
    groups = sorted(wers[now.name], key=lambda g: (g != "wearer", g != "others", g))
    print("\nWord error rate by voice (words: reference words)")
    print(f"  {'voice':16s} {'words':>6s} " + " ".join(f"{r.name:>22s}" for r in runs))
    for g in groups:
        print(f"  {g:16s} {wers[now.name][g][1]:6d} " + " ".join(f"{wers[r.name][g][0]:22.3f}" for r in runs))

    print("\nDisclosure flags end to end (spoken -> Whisper -> rubric), and the rubric on the true text")
    truth_flags = {s.name: engine.flag_segments(
        [Segment(ln.start_s, ln.end_s, ln.text, (Word(ln.start_s, ln.end_s, ln.text, 1.0, ln.speaker),),
                 speaker="wearer" if ln.speaker == "wearer" else "speaker 2", origin=i)
         for i, ln in enumerate(s.lines)], speakers_known=True) for s in scenes}
    counts = {r.name: disclosure_counts(scenes, r.flags) for r in runs}
    ceiling = disclosure_counts(scenes, truth_flags)
    for name, c in [*counts.items(), ("the true text", ceiling)]:
        print(f"  {name:22s} recall {c.recall:.3f} ({c.found}/{c.truths})  precision {c.precision:.3f} "
              f"({c.right}/{c.flags})")

    print("\nWords on noise-only files")
    for r in runs:
        print(f"  {r.name:22s} " + ", ".join(f"{s.name}: {len(r.words.get(s.name, []))}" for s in noise))

    print("\nWords lost against sequential decoding of the whole file (alignment deletions)")
    for r in runs[1:]:
        lost, total = words_lost(reference, r)
        print(f"  {r.name:22s} {lost} of {total} ({100 * lost / max(1, total):.1f}%)")
    if now.models:
        print("  seconds of speech by the model that wrote them: "
              + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(now.models.items())))

    print("\nSpeed and memory (the same files, 2 cores)")
    for r in runs:
        print(f"  {r.name:22s} {r.wall_s:6.1f} s  {audio_s / r.wall_s:5.1f}x real time  "
              f"{plain_s / r.wall_s:4.2f}x plain  peak {r.peak_bytes / 1e9:.2f} GB")

    print("\nTargets")
    others_before, others_now = wers[before.name]["others"][0], wers[now.name]["others"][0]
    ok = [
        _verdict(f"other voices' WER a fifth lower than the default ({others_before:.3f} -> {others_now:.3f}, "
                 f"{100 * (1 - others_now / others_before):.0f}% lower)", others_now <= others_before * (1 - TARGET_OTHERS_CUT)),
        _verdict("no voice or level worse than plain faster-whisper: " + ", ".join(
            f"{g} {wers[now.name][g][0]:.3f}/{wers[plain.name][g][0]:.3f}" for g in groups),
            all(wers[now.name][g][0] <= wers[plain.name][g][0] for g in groups)),
        _verdict(f"disclosure recall >= {TARGET_RECALL} ({counts[now.name].recall:.3f})",
                 counts[now.name].recall >= TARGET_RECALL),
        _verdict(f"disclosure precision >= {TARGET_PRECISION} ({counts[now.name].precision:.3f})",
                 counts[now.name].precision >= TARGET_PRECISION),
        _verdict("no words on silence or noise", not any(now.words.get(s.name) for s in noise)),
        _verdict(f"batch at least {TARGET_SPEED}x plain ({plain_s / now.wall_s:.2f}x)",
                 plain_s / now.wall_s >= TARGET_SPEED),
        _verdict(f"peak under 2 GB ({now.peak_bytes / 1e9:.2f} GB)", now.peak_bytes < TARGET_PEAK_BYTES),
    ]
    print(f"\n{sum(ok)} of {len(ok)} targets met by the second look (the default: "
          f"{plain_s / before.wall_s:.2f}x plain, others' WER {others_before:.3f})")
    if args.with_base:
        every = runs[-1]
        others_base = wers[every.name]["others"][0]
        print(f"`--model base` on every voice: others' WER {others_base:.3f} "
              f"({100 * (1 - others_base / others_before):.0f}% lower than the default), "
              f"{plain_s / every.wall_s:.2f}x plain, recall {counts[every.name].recall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
