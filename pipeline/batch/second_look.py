"""A second look: the spans that matter decoded again with the larger bundled model.

The first pass (tiny.en) hears the camera wearer well and everyone else worse: the public
are further away, upset, in other accents, and they are the ones who disclose. After the
speaker stage knows who says what, the turns of voices other than the wearer's (and, where
speakers could not be told apart, stretches of low-confidence words) are decoded again by
``base``, within a budget of the file's length, and its words replace the first pass's
there. Words are never lost between the passes: a span where the second model writes no
words keeps the first pass's, and each segment says which model produced it (``model``).
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.batch.speakers import Speakers
from pipeline.batch.transcribe import SAMPLE_RATE
from pipeline.records import Segment, Word
from pipeline.taxonomy import WEARER

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger("bwv.second_look")


@dataclass(frozen=True)
class LookSettings:
    """What is looked at again, and how (chosen on the tuning scenes; see the README)."""

    others: bool = True  # turns of voices other than the wearer's
    below: float = 0.0  # ... and, where speakers are unknown, segments whose mean word probability is below this
    budget: float = 1.0  # at most this share of the file's seconds is decoded again
    gap_s: float = 1.0  # turns closer than this are decoded together
    longest_s: float = 25.0  # a span is at most this long (Whisper hears 30 s at a time)
    pad_s: float = 0.3  # audio either side of a span, so no word is cut
    edge_s: float = 0.15  # second-pass words are kept if their middle is this near the span
    beam_size: int = 3
    join_gap_s: float = 0.6  # silence between spans decoded together
    condition: bool = True  # the joined run conditions on its earlier text
    temperature: tuple[float, ...] = (0.0,)  # fallback temperatures (each costs a decode again)
    log_prob_threshold: float | None = None  # a window below this average log probability falls back
    keep_p: float = 0.5  # a first-pass word the second pass lacks is kept if this sure


@dataclass(frozen=True)
class Span:
    """Segments ``first``..``last`` (inclusive) and the seconds their words cover."""

    first: int
    last: int
    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def _mean_probability(seg: Segment) -> float:
    return float(np.mean([w.probability for w in seg.words])) if seg.words else 1.0


def _wanted(seg: Segment, settings: LookSettings) -> bool:
    if not seg.words:
        return False
    if seg.speaker is not None:
        return settings.others and seg.speaker != WEARER
    return _mean_probability(seg) < settings.below


def plan_spans(segments: Sequence[Segment], audio_s: float, settings: LookSettings) -> list[Span]:
    """The stretches to decode again, in time order, within the budget (lowest confidence
    first when the budget is short)."""
    spans: list[Span] = []
    for i, seg in enumerate(segments):
        if not _wanted(seg, settings):
            continue
        start, end = seg.words[0].start_s, seg.words[-1].end_s
        last = spans[-1] if spans else None
        if (last is not None and last.last == i - 1 and start - last.end_s < settings.gap_s
                and end - last.start_s <= settings.longest_s):
            spans[-1] = Span(last.first, i, last.start_s, max(end, last.end_s))
        else:
            spans.append(Span(i, i, start, end))
    allowed = settings.budget * audio_s
    if sum(s.length_s for s in spans) <= allowed:
        return spans
    ranked = sorted(spans, key=lambda s: np.mean([_mean_probability(x) for x in segments[s.first:s.last + 1]]))
    chosen, used = [], 0.0
    for span in ranked:
        if used + span.length_s <= allowed:
            chosen.append(span)
            used += span.length_s
    return sorted(chosen, key=lambda s: s.start_s)


def _decode_joined(whisper: WhisperModel, samples: np.ndarray, spans: list[Span],
                   settings: LookSettings) -> list[list[Word]]:
    """Every span decoded in one run: the spans' audio laid end to end with short silences
    between, so that each 30-second window the model hears is full of speech (a window costs
    the same however little of it is speech; one span at a time was slower and less accurate,
    see the README). Each span's words, at their times in the file."""
    gap = np.zeros(int(settings.join_gap_s * SAMPLE_RATE), dtype=np.float32)
    pieces, places, at = [], [], 0
    for span in spans:
        lo = max(0, int((span.start_s - settings.pad_s) * SAMPLE_RATE))
        hi = min(len(samples), int((span.end_s + settings.pad_s) * SAMPLE_RATE))
        pieces += [np.asarray(samples[lo:hi], dtype=np.float32) / 32768.0, gap]
        places.append((at, at + hi - lo, lo))
        at += hi - lo + gap.size
    if not pieces:
        return []
    raw, _info = whisper.transcribe(
        np.concatenate(pieces), language="en", beam_size=settings.beam_size, word_timestamps=True,
        vad_filter=False, condition_on_previous_text=settings.condition, temperature=list(settings.temperature),
        log_prob_threshold=settings.log_prob_threshold)
    out: list[list[Word]] = [[] for _ in spans]
    for w in (w for seg in raw for w in (seg.words or ()) if w.word.strip()):
        mid = (float(w.start) + float(w.end)) / 2 * SAMPLE_RATE
        k = min(range(len(places)), key=lambda j: 0 if places[j][0] <= mid < places[j][1]
                else min(abs(mid - places[j][0]), abs(mid - places[j][1])))
        shift = (places[k][2] - places[k][0]) / SAMPLE_RATE
        out[k].append(Word(round(float(w.start) + shift, 3), round(float(w.end) + shift, 3), w.word.strip(),
                           round(float(w.probability), 4)))
    return out


def _nearest(old: list[Word], t: float) -> int:
    return min(range(len(old)), key=lambda k: abs((old[k].start_s + old[k].end_s) / 2 - t))


def _token(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def merge_words(old: Sequence[Word], new: Sequence[Word], keep_p: float) -> list[tuple[Word, bool]]:
    """The two passes' words of one span combined word by word: where they agree or only the
    second pass has words, the second pass's; where only the first pass has a word, it is
    kept if the first model was sure of it (probability ``keep_p`` or more), so the second
    pass never loses a word the first heard clearly; where they differ, the second pass's,
    unless the first was sure of its stretch and the second is less sure of its own (by each
    model's mean word probability) or has under half as many words; even then a word the
    first was sure of stays where no word of the second pass covers its time. Returns each
    word and whether it is the second pass's."""
    a, b = [_token(w.word) for w in old], [_token(w.word) for w in new]
    out: list[tuple[Word, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        first, second = list(old[i1:i2]), list(new[j1:j2])
        p_first = float(np.mean([w.probability for w in first])) if first else 0.0
        p_second = float(np.mean([w.probability for w in second])) if second else 0.0
        if tag == "delete":
            out += [(w, False) for w in first if w.probability >= keep_p]
        elif tag == "replace" and p_first >= keep_p and (p_second < p_first or len(second) * 2 < len(first)):
            out += [(w, False) for w in first]
        else:  # the second pass's, and any sure first-pass word that none of its words covers
            uncovered = [(w, False) for w in first if w.probability >= keep_p
                         and not any(x.start_s < w.end_s and w.start_s < x.end_s for x in second)]
            out += sorted([*((w, True) for w in second), *uncovered], key=lambda pair: pair[0].start_s)
    return out


def _replace_span(segments: Sequence[Segment], span: Span, heard: list[Word], model: str,
                  settings: LookSettings) -> list[Segment] | None:
    """The span's segments with the two passes' words combined, or None to keep the first pass
    (the second wrote no words in it). Each word stays in its first-pass segment (a second-pass
    word in that of the first-pass word nearest in time), and times are kept in order."""
    old_segs = list(segments[span.first:span.last + 1])
    old = [w for s in old_segs for w in s.words]
    owner = {id(w): k for k, s in enumerate(old_segs) for w in s.words}
    lo, hi = span.start_s - settings.edge_s, span.end_s + settings.edge_s
    new = [w for w in heard if lo <= (w.start_s + w.end_s) / 2 <= hi]
    if not new:
        return None
    pieces: list[Segment] = []
    current: list[Word] = []
    key: tuple[int, bool] | None = None
    previous = 0.0  # where the last word ended: the two passes' times may overlap, lines may not
    for word, second in merge_words(old, new, settings.keep_p):
        k = owner[id(old[_nearest(old, (word.start_s + word.end_s) / 2)] if second else word)]
        start = max(word.start_s, previous)
        word = replace(word, start_s=start, end_s=max(word.end_s, start), speaker=old_segs[k].speaker)
        previous = word.end_s
        if current and key is not None and key != (k, second):
            pieces.append(_piece(current, old_segs[key[0]], model if key[1] else None))
            current = []
        current.append(word)
        key = (k, second)
    if current and key is not None:
        pieces.append(_piece(current, old_segs[key[0]], model if key[1] else None))
    return pieces


def _piece(words: list[Word], like: Segment, model: str | None) -> Segment:
    """Words of one pass from one first-pass segment; ``model`` None: the first pass's own."""
    text = " ".join(w.word for w in words)
    if model is None:
        return replace(like, start_s=words[0].start_s, end_s=words[-1].end_s, text=text, words=tuple(words))
    logprob = float(np.mean([np.log(max(w.probability, 1e-6)) for w in words]))
    return replace(like, start_s=words[0].start_s, end_s=words[-1].end_s, text=text, words=tuple(words),
                   avg_logprob=logprob, no_speech_prob=None, model=model)


def second_look(samples: np.ndarray, segments: Sequence[Segment], *, whisper: WhisperModel, model: str,
                settings: LookSettings | None = None) -> tuple[tuple[Segment, ...], dict[str, Any]]:
    """Decode the planned spans again with ``whisper`` (the model named ``model``) and put its
    words in place of the first pass's; returns the segments and what was done."""
    settings = settings or LookSettings()
    started = time.perf_counter()
    audio_s = len(samples) / SAMPLE_RATE
    spans = plan_spans(segments, audio_s, settings)
    out: list[Segment] = []
    at, replaced, kept_first = 0, 0.0, 0
    for span, heard in zip(spans, _decode_joined(whisper, samples, spans, settings), strict=True):
        out.extend(segments[at:span.first])
        new = _replace_span(segments, span, heard, model, settings)
        if new is None:
            out.extend(segments[span.first:span.last + 1])
            kept_first += 1
        else:
            out.extend(new)
            replaced += span.length_s
        at = span.last + 1
    out.extend(segments[at:])
    info = {"model": model, "spans": len(spans), "kept_first_pass": kept_first,
            "seconds": round(replaced, 2), "elapsed_s": round(time.perf_counter() - started, 3)}
    return tuple(out), info


@dataclass(frozen=True)
class LookModel:
    """The model a worker loads for the second look (a checked ``base``)."""

    name: str
    path: str


def look_model(second_look: str, speakers: str, first: str, models_dir: Path) -> LookModel | None:
    """The second look's model: ``base``, or None where it is off or ``base`` is already the
    first pass's model. Asked for without speaker turns (whose turns would it look at?) or
    without ``base`` installed, it is refused before any work, saying why."""
    from pipeline.batch.models import resolve_speech_model
    from pipeline.errors import ConfigError, ModelError

    if second_look == "off" or first == "base":
        return None
    if speakers == "off":
        raise ConfigError("--second-look others decodes the turns of voices other than the wearer's: "
                          "it needs speaker turns, not --speakers off")
    try:
        base = resolve_speech_model("base", models_dir=models_dir)
    except ModelError as exc:
        raise ModelError(f"--second-look others needs the base model: {exc}") from exc
    return LookModel(base.name, str(base.path))


def after_decoding(wav: Path, segments: list[Segment], method: str, *, speaker_cache: str | None,
                   look: LookModel | None, device: str = "cpu", cpu_threads: int = 1) -> Speakers:
    """A worker's work on a file after its parts are decoded: speaker turns (from the audio at
    recorded levels, where the extraction kept it), then the second look at the other
    voices' turns. A failed second look keeps the first pass's words and says why."""
    from pipeline.batch.media import levels_path
    from pipeline.batch.models import SpeechModel
    from pipeline.batch.speakers import assign_speakers, load_method
    from pipeline.batch.transcribe import load_whisper, read_wav

    load_method(method, Path(speaker_cache) if speaker_cache else None)
    recorded = levels_path(wav)
    result = assign_speakers(read_wav(recorded if recorded.exists() else wav), segments, method=method)
    if look is None or result.status == "without speakers":
        return result
    try:
        whisper = load_whisper(SpeechModel(look.name, Path(look.path), "", multilingual=True),
                               device=device, cpu_threads=cpu_threads)
        looked, info = second_look(read_wav(wav), result.segments, whisper=whisper, model=look.name)
    except Exception as exc:  # noqa: BLE001 - the first pass's words are kept whatever happens
        log.error("%s: second look failed: %s", wav.name, exc)
        return replace(result, info={**result.info, "second_look": {"error": f"{type(exc).__name__}: {exc}"[:300]}})
    return replace(result, segments=looked, info={**result.info, "second_look": info})
