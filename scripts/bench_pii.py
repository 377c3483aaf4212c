"""Measure personal-detail redaction on speech: what detection leaves in the text, what it
redacts that is not personal, and how much audio padding leaves no syllable of a detail.

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

In the text: a detail is *left* when any transcribed word mostly inside its true span is not
redacted; a *false redaction* is a redacted word outside every detail's span.

Usage::

    python scripts/bench_pii.py
    python scripts/bench_pii.py --pads 0,0.05,0.1,0.15,0.2,0.25,0.3
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.batch.models import tiny_en  # noqa: E402
from pipeline.batch.transcribe import load_whisper, transcribe_audio  # noqa: E402
from pipeline.records import Segment, Word  # noqa: E402
from pipeline.teach.pii import Redaction, find_pii, load_pii_nlp  # noqa: E402
from pipeline.teach.pii_audio import MERGE_GAP_S, redact_audio, toned_windows_s  # noqa: E402
from pipeline.teach.verify import base_verifier, details_heard  # noqa: E402
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
    ("His name's", "Connor Walsh", "and he's fifteen years old."),
    ("I'm P C", "Adebayo", "collar number four one two."),
    ("She lives at", "nine Coronation Terrace", "with two kids."),
    ("Our postcode is", "B S three four Q T", "but the buzzer's broken."),
    ("Date of birth", "thirtieth of November two thousand and one", "and I'm not on any medication."),
    ("The best number is", "oh two oh seven nine four six one three three eight", "during the day."),
    ("Send it to", "mo dot hussain at outlook dot com", "and I'll read it tonight."),
    ("D S", "Rebecca Lowe", "is dealing with the case."),
    ("My partner", "Gary Hebden", "kicked the door in."),
    ("We're staying at", "the Premier Inn on Canal Street", "for two nights."),
    ("My NHS number is", "four eight five seven seven three four five six one", "I think."),
    ("Her national insurance number is", "Q Q one two three four five six C", "on the letter."),
    ("It's registered", "K M twelve L B X", "a black Corsa."),
    ("I go by", "Shay", "everyone calls me that."),
    ("Constable", "Lewis Grant", "took my statement last week."),
    ("My sister", "Amira", "is twelve and she was there."),
    ("He lives on", "Fenwick Lane", "near the park."),
    ("Ring my nan on", "double seven four nine one oh two", "she'll come."),
    ("I was born in", "nineteen seventy three on the ninth of May", "in Leeds."),
    ("You can reach", "Mrs Doreen Platt", "at the school office."),
    ("The flat is", "number forty one Hollins Court", "on the top floor."),
    ("My email's", "kez ninety one at yahoo dot com", "I check it every day."),
    ("Officer", "Sam Kowalski", "was really kind to me."),
    ("Tell him", "Dean", "is not allowed near the house."),
    ("Sergeant", "Mike O'Brien", "said to wait here."),
    ("It was at", "sixty three Moorland Road", "on Saturday night."),
    ("My postcode's", "M fourteen five R T", "if you're sending a letter."),
    ("Her birthday is the", "first of February twenty ten", "so she's still a child."),
    ("His number was", "oh seven four one two five five five nine one two", "on the phone bill."),
    ("My social worker", "Gemma Ryder", "knows all about it."),
    ("The van had the plate", "W X seventeen D G N", "I wrote it down."),
    ("I'm", "Bethany Carr", "and I called you earlier."),
    ("We used to live in", "Harehills", "before we moved."),
    ("Inspector", "Tom Fairweather", "will review the footage."),
    ("My landline is", "oh one four eight four five one two two three four", "but it's cut off."),
    ("His date of birth is", "fifth of January ninety nine", "he's older than me."),
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


def _inside(word: Word, detail: tuple[float, float]) -> bool:
    """Whether a transcribed word lies mostly inside the detail's true span."""
    overlap = min(word.end_s, detail[1]) - max(word.start_s, detail[0])
    return overlap > 0.5 * max(word.end_s - word.start_s, 0.01)


def _redacted(word: Word, redactions: Sequence[Redaction]) -> bool:
    return any(r.start_s - 1e-3 <= word.start_s and word.end_s <= r.end_s + 1e-3 for r in redactions)


#: Words that identify no one, left out when checking whether a detail's words remain.
_COMMON = frozenset("""of the at dot on and in a an to is my number flat road street lane court
    avenue grove terrace registration underscore co uk com double triple oh zero one two three four
    five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
    eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand first
    second third fourth fifth sixth seventh eighth ninth tenth twelfth thirtieth mr mrs ms
    auntie p c d s""".split())
_TOKEN = re.compile(r"[a-z0-9']+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def _identifying(detail: str) -> set[str]:
    return {t for t in _tokens(detail) if t not in _COMMON and len(t) > 1}


def _left_in_text(sentence: tuple[str, str, str], redacted_text: str) -> bool:
    """Whether the redacted transcript still shows the detail: one of its identifying words,
    or (for a detail with numbers or letters spelled out) a run of digits the rest of the
    sentence does not say."""
    before, detail, after = sentence
    heard = set(_tokens(redacted_text))
    if _identifying(detail) & heard:
        return True
    numeric = any(t in _COMMON and t not in {"of", "the", "at", "dot", "and", "on", "in", "a",
                                              "to", "is", "my"} for t in _tokens(detail))
    own = set(re.findall(r"\d+", before + " " + after))
    runs = [r for r in re.findall(r"\d[\d ,.-]*\d|\d", redacted_text) if re.sub(r"\D", "", r) not in own]
    return numeric and any(len(re.sub(r"\D", "", r)) >= 2 for r in runs)


def _detail_word(word: Word, sentence: tuple[str, str, str], span: tuple[float, float]) -> bool:
    """Whether a transcribed word belongs to the detail: by its spelling when it is one of the
    detail's words, else by time (mostly inside the detail's true span)."""
    token = "".join(_tokens(word.word))
    if token and token in set(_tokens(sentence[1])):
        return True
    if token and token in set(_tokens(sentence[0] + " " + sentence[2])):
        return False
    return _inside(word, span)


def _found_whole(segments: Sequence[Segment], redactions: Sequence[Redaction],
                 detail: tuple[float, float]) -> bool:
    """Whether every transcribed word mostly inside the detail's true span was redacted."""
    words = [w for seg in segments for w in seg.words if _inside(w, detail)]
    return bool(words) and all(_redacted(w, redactions) for w in words)


def _covered(frame: tuple[float, float], windows: list[tuple[float, float]]) -> bool:
    return any(a <= frame[0] and frame[1] <= b for a, b in windows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pads", default="0,0.05,0.1,0.15,0.2,0.25,0.3,0.4",
                        help="paddings to try, seconds, comma-separated")
    parser.add_argument("--verbose", action="store_true", help="list each detail left in the text")
    parser.add_argument("--tune-only", action="store_true", help="report the tuning two thirds only")
    parser.add_argument("--one-hearing", action="store_true",
                        help="detect on tiny.en's transcript only (no second hearing by base)")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the check before writing (the base model on the redacted audio)")
    args = parser.parse_args()
    pads = [float(p) for p in args.pads.split(",")]
    model = tiny_en()
    whisper = load_whisper(model)
    nlp = load_pii_nlp()
    verifier = None if args.no_check else base_verifier(Path(tempfile.mkdtemp(prefix="bench-models-")))
    results: dict[int, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pii-") as tmp:
        for i in range(len(SENTENCES)):
            if args.tune_only and i % 3 == 2:
                continue
            spoken = speak(i, Path(tmp))
            segments = transcribe_audio(spoken.wav, whisper=whisper, model=model).segments
            alone = find_pii(segments, nlp=nlp)
            # The second hearing: the base model's transcript of the same audio, its details
            # proposed where tiny.en's are not (what an export does).
            second = verifier.transcribe(spoken.wav).segments if verifier and not args.one_hearing else ()
            redacted = find_pii(segments, nlp=nlp, heard=second)
            heard = " ".join(s.text.strip() for s in segments)
            a, b = spoken.detail_s
            found = _found_whole(segments, redacted.redactions, (a, b))
            left = _left_in_text(SENTENCES[i], " ".join(x.text for x in redacted.segments))
            words = [w for seg in segments for w in seg.words]
            others = [w for w in words if not _detail_word(w, SENTENCES[i], (a, b))]
            false_words = [w.word for w in others if _redacted(w, redacted.redactions)]
            false = len(false_words)
            n = int((b + 2.0) * RATE) * 2
            caught = False
            if verifier is not None:  # the check before writing: the base model on the redacted audio
                noisy, _rate = _read(spoken.wav)
                silent = redact_audio(noisy, RATE, redacted.windows, mode="silence")
                check_wav = Path(tmp) / f"check{i}.wav"
                with wave.open(str(check_wav), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(RATE)
                    w.writeframes((np.clip(silent, -1, 1) * 32767).astype("<i2").tobytes())
                toned_now = toned_windows_s(redacted.windows, RATE, len(noisy))
                caught = bool(details_heard(verifier.transcribe(check_wav).segments, toned_now, nlp))
            row: dict[str, object] = {"heard": heard, "found": found, "left": left, "caught": caught,
                                      "left_alone": _left_in_text(SENTENCES[i], " ".join(
                                          x.text for x in alone.segments)),
                                      "leaks": {}, "extra_s": {},
                                      "others": len(others), "false": false, "false_words": false_words,
                                      "redacted": " ".join(x.text.strip() for x in redacted.segments)}
            for pad in pads:
                toned = toned_windows_s(redacted.windows, RATE, n, pad_s=pad, merge_gap_s=MERGE_GAP_S,
                                        lead_s=None)
                left = [f for f in spoken.speech_frames if not _covered(f, toned)]
                row["leaks"][pad] = len(left)  # type: ignore[index]
                row["extra_s"][pad] = FRAME_S * sum(_covered(f, toned) for f in spoken.other_frames)  # type: ignore[index]
            results[i] = row
    tune = [i for i in results if i % 3 != 2]
    held = [] if args.tune_only else [i for i in results if i % 3 == 2]
    print(f"{len(SENTENCES)} sentences: {len(tune)} to tune on, {len(held)} held back "
          f"(every third); tiny.en transcribes, find_pii finds, merge gap {MERGE_GAP_S} s\n")
    for name, ids in (("tune", tune), ("held back", held)):
        missed = [i for i in ids if results[i]["left"]]
        others = sum(int(results[i]["others"]) for i in ids)  # type: ignore[call-overload]
        false = sum(int(results[i]["false"]) for i in ids)  # type: ignore[call-overload]
        alone = sum(1 for i in ids if results[i]["left_alone"])
        print(f"{name}: details left in the text {len(missed)} of {len(ids)} (tiny.en's transcript "
              f"alone: {alone}); non-personal words redacted {false} of {others} "
              f"({100 * false / max(others, 1):.1f}%)")
        if not args.no_check:
            stopped = [i for i in missed if results[i]["caught"]]
            false_stops = [i for i in ids if results[i]["caught"] and not results[i]["left"]]
            print(f"  the check before writing stops {len(stopped)} of those {len(missed)}: left after "
                  f"both {len(missed) - len(stopped)} of {len(ids)}; it also stops {len(false_stops)} "
                  f"of the {len(ids) - len(missed)} with nothing left")
        if args.verbose:
            for i in missed:
                print(f"  left: {SENTENCES[i][1]!r} -> {results[i]['redacted']!r}")
            for i in ids:
                if results[i]["false_words"]:
                    print(f"  redacted, not personal: {results[i]['false_words']} in {results[i]['redacted']!r}")
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
