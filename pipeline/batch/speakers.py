"""Speaker turns: who said each word, and which voice is the camera wearer's.

After transcription, the words are cut into short stretches of speech (at pauses, at most
``chunk_s`` long); each stretch is described by its voice (:mod:`pipeline.batch.voices`)
and by how close it sounds (level and high-frequency share); stretches are grouped into
voices by average-linkage clustering on voice distance plus distance in closeness. The
wearer is the voice closest to the microphone: the loudest and brightest group, if it is
clearly so and close enough in absolute terms; not the one that speaks most, so a wearer
who says little is still the wearer, and a second officer further away is another speaker.
The others are ``speaker 2``, ``speaker 3``, ... in order of first appearance.

A Whisper segment that holds two voices is split at the change. A file with one voice
has only the wearer or only ``speaker 2``, decided by closeness; flags are then made by
language alone (``status == "one voice"``), as they are when this stage fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.batch import voices
from pipeline.records import Segment, Word
from pipeline.taxonomy import WEARER

log = logging.getLogger("bwv.speakers")

METHODS = ("ge2e", "mfcc")
#: "separated": two or more voices told apart (flags know who speaks); "one voice": every word
#: is one speaker's; "without speakers": no speech, or the stage failed (flags by language).
STATUSES = ("separated", "one voice", "without speakers")
#: Each method's clustering threshold (its distances have their own scale).
_THRESHOLDS = {"ge2e": 0.42, "mfcc": 0.9}


@dataclass(frozen=True)
class SpeakerSettings:
    """The stage's tunables (chosen on the tuning scenes; see the README)."""

    method: str = "ge2e"
    chunk_s: float = 1.6  # longest stretch described as one voice
    pause_s: float = 0.3  # a pause this long ends a stretch
    min_chunk_s: float = 0.7  # shorter stretches join the nearest voice afterwards
    threshold: float | None = None  # average-linkage distance at which voices stay apart
    level_weight: float = 0.02  # voice distance added per dB of level difference
    embed_s: float = 1.2  # the voice encoder hears at most this much of a stretch's middle
    fragment_s: float = 2.5  # a voice heard for less than this may be a piece of another
    fragment_margin_db: float = 3.0  # ... unless it is this much louder than the voice nearest
    wearer_margin_db: float = 2.5  # the wearer is this much closer than the next voice
    wearer_floor_db: float = -32.0  # ... and at least this close (level + high-band share)
    high_weight: float = 0.0  # closeness = level + high_weight * high-band share (dB)


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's words."""

    start_s: float
    end_s: float
    speaker: str


@dataclass(frozen=True)
class Speakers:
    """The stage's result: the segments with speakers, the turns, and how it went."""

    segments: tuple[Segment, ...]
    turns: tuple[Turn, ...]
    status: str
    elapsed_s: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Chunk:
    words: list[tuple[int, int]]  # (segment index, word index)
    start_s: float
    end_s: float
    level_db: float = 0.0
    high_db: float = 0.0
    closeness: float = 0.0  # level_db + high_weight * high_db
    voice: int = -1

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


_ENCODERS: dict[int, voices.Ge2eEncoder] = {}
_ENCODER_LOCK = threading.Lock()


def encoder(threads: int = 1, *, cache: Path | None = None) -> voices.Ge2eEncoder:
    """The GE2E encoder, loaded (and its first, slower run made) once per process; ``cache``
    keeps its ONNX graph for the next process (the instance's models folder)."""
    with _ENCODER_LOCK:
        if threads not in _ENCODERS:
            loaded = voices.Ge2eEncoder(threads=threads, cache=cache)
            loaded.embed([np.ones((100, voices.N_MELS), np.float32)] * 4)  # warm-up
            _ENCODERS[threads] = loaded
    return _ENCODERS[threads]


def load_method(method: str, cache: Path | None = None) -> None:
    """Load what a method needs, once per process (a worker does this at its first file's
    speaker stage; ``cache``: see :func:`encoder`)."""
    if method == "ge2e":
        encoder(cache=cache)


def _chunks(segments: Sequence[Segment], settings: SpeakerSettings) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for si, seg in enumerate(segments):
        for wi, w in enumerate(seg.words):
            last = chunks[-1] if chunks else None
            if (last is not None and w.start_s - last.end_s < settings.pause_s
                    and w.end_s - last.start_s <= settings.chunk_s):
                last.words.append((si, wi))
                last.end_s = max(last.end_s, w.end_s)
            else:
                chunks.append(_Chunk([(si, wi)], w.start_s, max(w.end_s, w.start_s + 0.05)))
    return chunks


def _describe(audio: np.ndarray, chunks: list[_Chunk], settings: SpeakerSettings,
              threads: int) -> np.ndarray:
    """Measure each stretch's closeness and return its voice embedding (one row each)."""
    rows, mels = [], []
    for c in chunks:
        lo = max(0, int((c.start_s - 0.05) * voices.SAMPLE_RATE))
        hi = min(len(audio), int((c.end_s + 0.05) * voices.SAMPLE_RATE))
        clip = audio[lo:max(hi, lo + voices.N_FFT)]
        power = voices.power_spectrum(clip)
        c.level_db, c.high_db = voices.closeness(power)
        c.closeness = c.level_db + settings.high_weight * c.high_db
        if settings.method == "mfcc":
            rows.append(voices.mfcc_embedding(power))
        else:
            mel = voices.ge2e_mels(power, float(np.mean(clip.astype(np.float64) ** 2)))
            keep = int(settings.embed_s * 100)
            skip = max(0, (len(mel) - keep) // 2)
            mels.append(mel[skip:skip + keep])
    if settings.method == "mfcc":
        feats = np.array(rows)
        feats = (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-6)
        return feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-9)
    return encoder(threads).embed(mels)


def _distances(emb: np.ndarray, chunks: list[_Chunk], settings: SpeakerSettings) -> np.ndarray:
    cosine = 1.0 - emb @ emb.T
    level = np.array([c.closeness for c in chunks])
    return np.maximum(cosine, 0.0) + settings.level_weight * np.abs(level[:, None] - level[None])


def _cluster(dist: np.ndarray, settings: SpeakerSettings) -> np.ndarray:
    """Voice numbers 0..k-1 by average linkage on a square distance matrix."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(dist) < 2:
        return np.zeros(len(dist), dtype=int)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform((dist + dist.T) / 2, checks=False), method="average")
    threshold = settings.threshold or _THRESHOLDS[settings.method]
    return fcluster(tree, t=threshold, criterion="distance") - 1


def _voices(chunks: list[_Chunk], emb: np.ndarray, settings: SpeakerSettings) -> None:
    dist = _distances(emb, chunks, settings)
    long = [i for i, c in enumerate(chunks) if c.length_s >= settings.min_chunk_s]
    if len(long) < 2:  # too little speech to compare voices: every stretch together
        long = list(range(len(chunks)))
    labels = _cluster(dist[np.ix_(long, long)].copy(), settings)
    for i, label in zip(long, labels, strict=True):
        chunks[i].voice = int(label)
    members = {v: [i for i in long if chunks[i].voice == v] for v in set(labels.tolist())}
    for i, c in enumerate(chunks):
        if c.voice < 0:  # a short stretch joins the voice it is nearest to on average
            c.voice = min(members, key=lambda v: float(dist[i, members[v]].mean()))
    _merge_fragments(chunks, dist, settings)


def _merge_fragments(chunks: list[_Chunk], dist: np.ndarray, settings: SpeakerSettings) -> None:
    """A voice heard for under ``fragment_s`` joins the voice nearest to it, unless it is
    clearly louder than that voice (a wearer who says only a few words stays the wearer)."""
    while True:
        by_voice: dict[int, list[int]] = {}
        for i, c in enumerate(chunks):
            by_voice.setdefault(c.voice, []).append(i)
        speech = {v: sum(chunks[i].length_s for i in idx) for v, idx in by_voice.items()}
        level = {v: float(np.median([chunks[i].closeness for i in idx]))
                 for v, idx in by_voice.items()}
        small = sorted((v for v in by_voice if speech[v] < settings.fragment_s),
                       key=lambda v: speech[v])
        for v in small:
            others = [u for u in by_voice if u != v]
            if not others:
                return
            near = min(others, key=lambda u: float(dist[np.ix_(by_voice[v], by_voice[u])].mean()))
            if level[v] <= level[near] + settings.fragment_margin_db:
                for i in by_voice[v]:
                    chunks[i].voice = near
                break
        else:
            return


def _names(chunks: list[_Chunk], settings: SpeakerSettings) -> tuple[dict[int, str], dict[str, Any]]:
    """Name the voices: the wearer if one is clearly closest, then speaker 2, 3, ..."""
    stats: dict[int, dict[str, float]] = {}
    for v in sorted({c.voice for c in chunks}):
        mine = [c for c in chunks if c.voice == v]
        weights = np.array([c.length_s for c in mine])
        stats[v] = {
            "closeness_db": float(np.average([c.closeness for c in mine], weights=weights)),
            "level_db": float(np.average([c.level_db for c in mine], weights=weights)),
            "high_db": float(np.average([c.high_db for c in mine], weights=weights)),
            "speech_s": float(weights.sum()),
            "first_s": min(c.start_s for c in mine),
        }
    ranked = sorted(stats, key=lambda v: -stats[v]["closeness_db"])
    top = stats[ranked[0]]["closeness_db"]
    margin = top - stats[ranked[1]]["closeness_db"] if len(ranked) > 1 else float("inf")
    wearer = (ranked[0] if margin >= settings.wearer_margin_db
              and top >= settings.wearer_floor_db else None)
    names = {wearer: WEARER} if wearer is not None else {}
    for n, v in enumerate(sorted((v for v in stats if v != wearer),
                                 key=lambda v: stats[v]["first_s"]), start=2):
        names[v] = f"speaker {n}"
    info = {names[v]: {k: round(val, 2) for k, val in s.items()} for v, s in stats.items()}
    return names, info


def _split(segments: Sequence[Segment], speaker_of: dict[tuple[int, int], str]
           ) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for si, seg in enumerate(segments):
        words = [replace(w, speaker=speaker_of[(si, wi)]) for wi, w in enumerate(seg.words)]
        if not words:
            out.append(replace(seg, speaker=out[-1].speaker if out else None, origin=si))
            continue
        groups: list[list[Word]] = []
        for w in words:
            if groups and groups[-1][-1].speaker == w.speaker:
                groups[-1].append(w)
            else:
                groups.append([w])
        if len(groups) == 1:
            out.append(replace(seg, words=tuple(words), speaker=words[0].speaker, origin=si))
            continue
        texts = _cut_text(seg.text, groups)
        for gi, group in enumerate(groups):
            out.append(replace(
                seg, words=tuple(group), speaker=group[0].speaker, origin=si, text=texts[gi],
                start_s=seg.start_s if gi == 0 else group[0].start_s,
                end_s=seg.end_s if gi == len(groups) - 1 else group[-1].end_s,
            ))
    return tuple(out)


def _cut_text(text: str, groups: list[list[Word]]) -> list[str]:
    """Whisper's text of a segment cut where each group of words begins (its own spelling and
    spacing kept); the words joined by spaces where they cannot be found in order."""
    cuts, cursor = [], 0
    for group in groups:
        for n, w in enumerate(group):
            at = text.find(w.word, cursor)
            if at < 0:
                return [" ".join(w.word for w in g) for g in groups]
            if n == 0:
                cuts.append(at)
            cursor = at + len(w.word)
    cuts[0] = 0
    return [text[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]


def turns_of(segments: Sequence[Segment], *, pause_s: float = 1.0) -> tuple[Turn, ...]:
    """Consecutive words of one speaker, as turns; a pause of ``pause_s`` ends a turn."""
    turns: list[Turn] = []
    for w in (w for s in segments for w in s.words):
        if w.speaker is None:
            continue
        if turns and turns[-1].speaker == w.speaker and w.start_s - turns[-1].end_s < pause_s:
            turns[-1] = Turn(turns[-1].start_s, max(turns[-1].end_s, w.end_s), w.speaker)
        else:
            turns.append(Turn(w.start_s, w.end_s, w.speaker))
    return tuple(turns)


def without_speakers(segments: Sequence[Segment], *, why: str, elapsed_s: float = 0.0
                     ) -> Speakers:
    """The segments as they are, no speaker on any word: flags go by language alone."""
    plain = tuple(replace(s, speaker=None, origin=i,
                          words=tuple(replace(w, speaker=None) for w in s.words))
                  for i, s in enumerate(segments))
    return Speakers(plain, (), "without speakers", elapsed_s, {"why": why})


def assign_speakers(samples: np.ndarray, segments: Sequence[Segment], *,
                    method: str | None = None, settings: SpeakerSettings | None = None,
                    threads: int = 1) -> Speakers:
    """Give every word and segment of a transcript its speaker.

    ``samples`` is the file's 16 kHz mono audio (int16, as the batch extracts it). Never
    raises for what the audio holds: no words, one voice or a failed model all give a
    result, the last two flagged by language alone.
    """
    started = time.perf_counter()
    settings = settings or SpeakerSettings()
    if method is not None:
        settings = replace(settings, method=method)
    if settings.method not in METHODS:
        raise ValueError(f"unknown speaker method {settings.method!r}; choose from {METHODS}")
    chunks = _chunks(segments, settings)
    if not chunks:
        return without_speakers(segments, why="no words",
                                elapsed_s=time.perf_counter() - started)
    audio = np.asarray(samples, dtype=np.float32) / 32768.0
    emb = _describe(audio, chunks, settings, threads)
    _voices(chunks, emb, settings)
    names, info = _names(chunks, settings)
    speaker_of = {key: names[c.voice] for c in chunks for key in c.words}
    split = _split(segments, speaker_of)
    status = "separated" if len(names) > 1 else "one voice"
    elapsed = time.perf_counter() - started
    return Speakers(split, turns_of(split), status, elapsed,
                    {"method": settings.method, "elapsed_s": round(elapsed, 3),
                     "speakers": info})
