"""Measure how much padding the audio redaction needs so that no syllable of a detail remains.

Each test sentence is spoken by espeak-ng in three pieces (what comes before the personal
detail, the detail, what follows), trimmed and joined with no gap, so the detail's true
place in the audio is known to the sample. Street noise is mixed in at several levels. The
sentence goes through what a teaching export does: the bundled tiny.en model transcribes
it with word timestamps, ``find_pii`` finds the details and their audio windows, and
``redact_audio``'s windows (padded, merged) are compared with the detail's true span: a
detail *leaks* when any 20 ms frame of its speech (from the clean piece, louder than
-40 dBFS) is not wholly toned out.

The sentences are written first and split before tuning: every third is held back. The
padding is chosen as the smallest that leaks nothing on the other two thirds, and the
held-back third is reported at that padding. Details that detection did not find whole
(a word of the detail, as transcribed and timed, left unredacted: a detection miss, not a
padding question) are counted apart.

Usage::

    python scripts/bench_pii_audio.py
    python scripts/bench_pii_audio.py --pads 0,0.05,0.1,0.15,0.2,0.25,0.3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.batch.models import tiny_en  # noqa: E402
from pipeline.batch.transcribe import load_whisper, transcribe_audio  # noqa: E402
from pipeline.teach.pii import MERGE_GAP_S, find_pii, load_pii_nlp, toned_windows_s  # noqa: E402
from scripts.footage import synthesize_line  # noqa: E402

RATE = 16_000
FRAME_S = 0.02
SPEECH_DBFS = -40.0

#: (before, the detail, after): written before any tuning; every third is held back.
SENTENCES = [
    ("My name is", "Sarah Thompson", "and I live with my mum."),
    ("This is PC", "Daniel Okafor", "from the response team."),
    ("I live at", "fourteen Park Road", "near the shops."),
    ("The postcode is", "L S six two A B", "if that helps."),
    ("I was born on the", "fourth of March nineteen ninety", "so I'm thirty five."),
    ("My number is", "oh seven seven double oh nine oh oh one two three", "ring me anytime."),
    ("You can email me at", "jo dot smith at gmail dot com", "if it's easier."),
    ("Sergeant", "Priya Shah", "will call you tomorrow."),
    ("He's called", "Kyle Brennan", "and he's my ex."),
    ("We're at", "flat three Alder Court", "on the second floor."),
    ("Her date of birth is the", "twelfth of June two thousand and eight", "she's only young."),
    ("Call me on", "oh one one three four nine six oh two one eight", "after six."),
    ("I'm Detective Constable", "Mark Ellison", "and I'll be looking after you."),
    ("My daughter", "Chloe", "hasn't come home since Friday."),
    ("The car was a", "silver Ford registration Y K one nine R T U", "parked outside."),
    ("I'm staying with Auntie", "Marlene", "for now."),
    ("It happened on", "Whitfield Avenue", "by the bus stop."),
    ("My mobile's", "oh seven nine one one two three four five six seven", "if you need it."),
    ("Inspector", "Hannah Clarke", "is on her way."),
    ("Tell", "Jordan Pike", "I said sorry."),
    ("We moved to", "twenty two Beech Grove", "last year."),
    ("My son", "Tyler Marsh", "is at school."),
    ("I was born", "second of August eighty seven", "in Bradford."),
    ("Message me on", "ellie underscore b at hotmail dot co dot uk", "please."),
]
VOICES = ["en-gb-x-rp+f4", "en+m3", "en-gb-scotland", "en+f2", "en-gb-x-gbclan+m1", "en-us+f2"]


@dataclass
class Spoken:
    """One test sentence as audio, with the detail's true span and its speech frames."""

    index: int
    wav: Path
    detail_s: tuple[float, float]
    speech_frames: list[tuple[float, float]]  # the detail's frames louder than SPEECH_DBFS
    other_frames: list[tuple[float, float]]  # speech frames outside the detail


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    n = int(round(len(x) * RATE / rate))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


def _trim(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 10 ** (-50 / 20))
    return x[loud[0]:loud[-1] + 1] if loud.size else x


def _frames(x: np.ndarray, offset_s: float) -> list[tuple[float, float]]:
    step = int(FRAME_S * RATE)
    out = []
    for i in range(0, len(x) - step + 1, step):
        if 20 * np.log10(np.sqrt(np.mean(x[i:i + step] ** 2)) + 1e-9) > SPEECH_DBFS:
            out.append((offset_s + i / RATE, offset_s + (i + step) / RATE))
    return out


def speak(index: int, work: Path) -> Spoken:
    """Synthesise one sentence in three pieces, joined, at its voice, pace, level and noise."""
    rng = np.random.default_rng(index)
    voice, wpm = VOICES[index % len(VOICES)], 130 + 15 * (index % 5)
    level_db, snr_db = -18.0 - 3 * (index % 4), 30.0 - 5 * (index % 4)
    pieces = []
    for j, text in enumerate(SENTENCES[index]):
        raw = work / f"s{index}_{j}.wav"
        synthesize_line(text, voice=voice, speed_wpm=wpm, out_wav=raw)
        audio, rate = _read(raw)
        pieces.append(_trim(_resample(audio, rate)))
    lead = np.zeros(int(0.6 * RATE), dtype=np.float32)
    clean = np.concatenate([lead, *pieces, lead])
    gain = 10 ** (level_db / 20) / (np.sqrt(np.mean(clean[clean != 0] ** 2)) + 1e-9)
    clean *= gain
    start = (len(lead) + len(pieces[0])) / RATE
    end = start + len(pieces[1]) / RATE
    noise = rng.standard_normal(len(clean)).astype(np.float32)
    noise = np.convolve(noise, np.ones(8) / 8, mode="same")  # duller, like traffic
    noise *= 10 ** ((level_db - snr_db) / 20) / (np.sqrt(np.mean(noise ** 2)) + 1e-9)
    mixed = np.clip(clean + noise, -1, 1)
    wav = work / f"s{index}.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((mixed * 32767).astype("<i2").tobytes())
    detail = clean[int(start * RATE):int(end * RATE)]
    others = np.concatenate([clean[:int(start * RATE)], np.zeros(len(detail), np.float32),
                             clean[int(end * RATE):]])
    return Spoken(index, wav, (start, end), _frames(detail, start),
                  [f for f in _frames(others, 0.0) if not (start <= f[0] < end)])


def _found_whole(segments, redactions, detail: tuple[float, float]) -> bool:  # type: ignore[no-untyped-def]
    """Whether every transcribed word mostly inside the detail's true span was redacted."""
    words = [w for seg in segments for w in seg.words
             if min(w.end_s, detail[1]) - max(w.start_s, detail[0]) > 0.5 * max(w.end_s - w.start_s, 0.01)]
    return bool(words) and all(any(r.start_s - 1e-3 <= w.start_s and w.end_s <= r.end_s + 1e-3
                                   for r in redactions) for w in words)


def _covered(frame: tuple[float, float], windows: list[tuple[float, float]]) -> bool:
    return any(a <= frame[0] and frame[1] <= b for a, b in windows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pads", default="0,0.05,0.1,0.15,0.2,0.25,0.3,0.4",
                        help="paddings to try, seconds, comma-separated")
    args = parser.parse_args()
    pads = [float(p) for p in args.pads.split(",")]
    model = tiny_en()
    whisper = load_whisper(model)
    nlp = load_pii_nlp()
    results: dict[int, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pii-") as tmp:
        for i in range(len(SENTENCES)):
            spoken = speak(i, Path(tmp))
            segments = transcribe_audio(spoken.wav, whisper=whisper, model=model).segments
            redacted = find_pii(segments, nlp=nlp)
            heard = " ".join(s.text.strip() for s in segments)
            a, b = spoken.detail_s
            found = _found_whole(segments, redacted.redactions, (a, b))
            n = int((b + 2.0) * RATE) * 2
            row: dict[str, object] = {"heard": heard, "found": found, "leaks": {}, "extra_s": {}}
            for pad in pads:
                toned = toned_windows_s(redacted.windows, RATE, n, pad_s=pad, merge_gap_s=MERGE_GAP_S)
                left = [f for f in spoken.speech_frames if not _covered(f, toned)]
                row["leaks"][pad] = len(left)  # type: ignore[index]
                row["extra_s"][pad] = FRAME_S * sum(_covered(f, toned) for f in spoken.other_frames)  # type: ignore[index]
            results[i] = row
    tune = [i for i in results if i % 3 != 2]
    held = [i for i in results if i % 3 == 2]
    print(f"{len(SENTENCES)} sentences: {len(tune)} to tune on, {len(held)} held back "
          f"(every third); tiny.en transcribes, find_pii finds, merge gap {MERGE_GAP_S} s\n")
    for name, ids in (("tune", tune), ("held back", held)):
        missed = [i for i in ids if not results[i]["found"]]
        print(f"{name}: {len(ids) - len(missed)} of {len(ids)} details found whole in the transcript"
              + (f"; not found: {', '.join(repr(SENTENCES[i][1]) for i in missed)}" if missed else ""))
    print(f"\n{'pad s':>6} {'tune: details leaking':>22} {'held back: leaking':>19} "
          f"{'other speech toned, s per detail':>33}")
    chosen = None
    for pad in pads:
        def leaking(ids: list[int], pad: float = pad) -> int:
            return sum(1 for i in ids if results[i]["found"] and results[i]["leaks"][pad])  # type: ignore[index]
        found_ids = [i for i in results if results[i]["found"]]
        extra = np.mean([results[i]["extra_s"][pad] for i in found_ids]) if found_ids else 0.0  # type: ignore[index]
        t, h = leaking(tune), leaking(held)
        print(f"{pad:>6.2f} {t:>22} {h:>19} {extra:>33.2f}")
        if chosen is None and t == 0:
            chosen = pad
    if chosen is None:
        print("\nno padding tried leaks nothing on the tuning set")
        return 1
    held_leaks = [i for i in held if results[i]["found"] and results[i]["leaks"][chosen]]  # type: ignore[index]
    print(f"\nsmallest padding with no leak on the tuning set: {chosen:.2f} s; held back at it: "
          f"{len(held_leaks)} of {sum(1 for i in held if results[i]['found'])} found details leak")
    for i in held_leaks:
        print(f"  leaks: {SENTENCES[i][1]!r} (heard: {results[i]['heard']!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
