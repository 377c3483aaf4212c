#!/usr/bin/env python3
"""Benchmark the flagging engine against spaCy's bare ``nlp.pipe`` on one core.

The text is body-worn-style dialogue (the footage generator's sentence pools)
mixed with the rubric's labelled example sentences, cut into transcripts of
50 segments as the batch hands them over. In the same run it times:

- bare spaCy: ``nlp.pipe`` over the same segments, same pipeline;
- the whole engine: ``FlagEngine.flag_segments`` (the same spaCy pass plus
  matching, negation, question and childhood rules, word-timestamp mapping
  and merging);

and prints words per second for each and their ratio. Targets: at least
2,000 words per second, and at most 1.5 times the bare pipeline's time.

Example:
    python scripts/bench_flag.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core, one thread: set before numpy and spaCy load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline.flagging.engine import engine_for  # noqa: E402
from pipeline.flagging.evaluate import load_examples  # noqa: E402
from pipeline.records import Segment, Word  # noqa: E402
from scripts.footage import dialogue_turns  # noqa: E402

TRANSCRIPT_SEGMENTS = 50


def corpus(words: int, seed: int = 3) -> list[Segment]:
    """Segments of dialogue and labelled sentences, with made-up word timestamps."""
    texts = [item.text for item in load_examples()]
    turns = dialogue_turns(np.random.default_rng(seed))
    count = sum(len(t.split()) for t in texts)
    while count < words:
        line = next(turns)[0].text
        texts.append(line)
        count += len(line.split())
    rng = np.random.default_rng(seed)
    texts = [texts[i] for i in rng.permutation(len(texts))]
    segments, clock = [], 0.0
    for text in texts:
        tokens = text.split()
        words_ = tuple(Word(clock + i * 0.3, clock + i * 0.3 + 0.25, w, 0.9) for i, w in enumerate(tokens))
        segments.append(Segment(clock, clock + 0.3 * len(tokens), text, words_))
        clock += 0.3 * len(tokens) + 0.5
    return segments


def best_of(repeat: int, fn) -> float:  # noqa: ANN001 - a zero-argument callable
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=30_000, help="words of text to flag")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the best counts")
    args = parser.parse_args(argv)
    engine = engine_for()
    nlp = engine.nlp
    segments = corpus(args.words)
    words = sum(len(s.words) for s in segments)
    transcripts = [segments[i : i + TRANSCRIPT_SEGMENTS] for i in range(0, len(segments), TRANSCRIPT_SEGMENTS)]
    texts = [[" ".join(w.word for w in s.words) for s in t] for t in transcripts]
    engine.flag_segments(transcripts[0])  # warm up both paths
    list(nlp.pipe(texts[0], batch_size=64))

    def bare() -> None:
        for chunk in texts:
            for _doc in nlp.pipe(chunk, batch_size=64):
                pass

    flags: list[int] = []

    def whole() -> None:
        flags[:] = [len(engine.flag_segments(t)) for t in transcripts]

    bare_s = best_of(args.repeat, bare)
    engine_s = best_of(args.repeat, whole)
    ratio = engine_s / bare_s
    print(f"flagging {words} words in {len(transcripts)} transcripts, one core, best of {args.repeat}")
    print(f"  bare spaCy nlp.pipe ({', '.join(nlp.pipe_names)}): {bare_s:6.2f} s  {words / bare_s:8.0f} words/s")
    print(f"  bwv flagging engine ({engine.rubric.ref}):  {engine_s:6.2f} s  {words / engine_s:8.0f} words/s"
          f"  ({sum(flags)} flags)")
    print(f"  engine time / bare time: {ratio:.2f}")
    ok_speed, ok_ratio = words / engine_s >= 2000, ratio <= 1.5
    print(f"  >= 2,000 words/s: {'yes' if ok_speed else 'NO'}; <= 1.5x bare spaCy: {'yes' if ok_ratio else 'NO'}")
    return 0 if ok_speed and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
