"""Seed an instance with the shape of a busy deployment, for the review app's benchmark.

10,000 review items over 1,000 processed files of 5 to 30 minutes, each with a
Whisper-shaped transcript (two to three segments per 10 seconds, word timings in
``words_json`` byte for byte as ``Store.save_transcript`` writes them), flags across
the whole taxonomy, items claimed or reviewed by another TIP, and an audit log with
history. Rows are written in bulk through the schema's tables (about 15 seconds).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from pipeline.flagging.rubric import load_rubric
from pipeline.flagging.windows import priority_of
from pipeline.records import Flag
from pipeline.store import Store
from pipeline.store import schema as db
from scripts.footage import dialogue_turns

ITEMS_PER_MEDIA = 10
FILE_S = (300.0, 1800.0)  # shortest and longest file
OTHER_TIP = "other-tip"
OTHER_TIP_ID = 2  # accounts are added after seeding: admin, then the other TIP, then the bench's


@dataclass(frozen=True)
class Seeded:
    """What was written, for the report."""

    media: int
    segments: int
    flags: int
    items: int
    audit_rows: int
    seconds: float
    footage_s: float


@dataclass(frozen=True)
class _Speech:
    """Lines to say, split into words, and JSON text prepared for writing millions of words."""

    #: Each line's words: the word, its JSON from ``"word"`` to ``"probability": ``, centiseconds to say.
    lines: list[list[tuple[str, str, int]]]
    #: ``repr(k / 100)``: a time in centiseconds as ``json.dumps`` writes the rounded float.
    times: list[str]
    #: Word probabilities as ``json.dumps`` writes them.
    probabilities: list[str]


def speech_lines(seed: int, *, longest_s: float, count: int = 400) -> _Speech:
    """Officer and public lines from the footage generator's sentence pools."""
    turns = dialogue_turns(np.random.default_rng(seed))
    rng = random.Random(seed)
    lines = [next(turns)[0].text.split() for _ in range(count)]
    return _Speech(
        lines=[[(w, f', "word": {json.dumps(" " + w)}, "probability": ', 12 + 4 * len(w)) for w in line]
               for line in lines],
        times=[repr(k / 100) for k in range(int(longest_s * 100) + 3000)],  # a line may run on
        probabilities=[repr(rng.uniform(0.55, 1.0)) for _ in range(997)],
    )


def _transcript(rng: random.Random, media_id: int, duration_s: float,
                speech: _Speech) -> list[dict[str, Any]]:
    """Segment rows shaped like faster-whisper's output, words as ``save_transcript`` stores them.

    ``words_json`` is put together from prepared strings for speed (millions of words), byte
    for byte what ``json.dumps([asdict(w) for w in seg.words])`` writes for words whose times
    are rounded to centiseconds, as faster-whisper rounds them.
    """
    rows: list[dict[str, Any]] = []
    rand, times, probs, lines = rng.random, speech.times, speech.probabilities, speech.lines
    clock, last, stop = int(50 + 350 * rand()), int(duration_s * 100) - 200, int(duration_s * 100)
    while clock < last:
        if rand() < 0.04:  # a quiet stretch: nobody speaks
            clock += int(500 + 1500 * rand())
            continue
        tokens = lines[int(rand() * len(lines))]
        while tokens and clock < last:
            cut = 6 + int(rand() * 9)
            chunk, tokens = tokens[:cut], tokens[cut:]
            words, t, end = [], clock, clock
            for _, rest, length in chunk:
                end = t + length + int(12 * rand())
                words.append(f'{{"start_s": {times[t]}, "end_s": {times[end]}{rest}'
                             f'{probs[int(rand() * 997)]}}}')
                t = end + 2 + int(16 * rand())
            end = min(end, stop)
            rows.append({
                "media_id": media_id, "idx": len(rows), "start_s": clock / 100, "end_s": end / 100,
                "text": " " + " ".join(w for w, _, _ in chunk), "words_json": f"[{', '.join(words)}]",
                "avg_logprob": -0.6 + 0.5 * rand(), "no_speech_prob": 0.08 * rand(),
            })
            clock = end + int(30 + 130 * rand())
    return rows


def _audit_history(store: Store, rows: int, *, start: datetime) -> None:
    """Earlier activity in the audit log, hash-chained exactly as ``Store.audit`` chains it."""
    with store.session() as s:
        prev = s.scalar(select(db.Audit.row_hash).order_by(db.Audit.id.desc()).limit(1)) or "0" * 64
        batch = []
        for i in range(rows):
            at = start + timedelta(seconds=30 * i)
            actor = f"web:{OTHER_TIP}" if i % 5 else "cli:operator"
            action, obj = ("view", f"review_item:{i % 9000 + 1}") if i % 5 else ("run", "batch")
            payload = json.dumps([prev, at.astimezone(UTC).isoformat(), actor, action, obj, None])
            row_hash = hashlib.sha256(payload.encode()).hexdigest()
            batch.append({"at": at, "actor": actor, "action": action, "object": obj,
                          "detail": None, "prev_hash": prev, "row_hash": row_hash})
            prev = row_hash
        s.execute(db.Audit.__table__.insert(), batch)


def _review_items(rng: random.Random, *, media_id: int, duration_s: float, count: int,
                  segments: list[dict[str, Any]], categories: list[tuple[str, str, int, list[str]]],
                  rubric_ref: str) -> list[tuple[dict[str, Any], list[Flag]]]:
    """Review items spread over a file, each with one to six flags on its transcript's words."""
    starts = [r["start_s"] for r in segments]
    slot = duration_s / max(count, 1)
    out = []
    for k in range(count):
        first = k * slot + rng.uniform(0.0, max(slot - 40.0, 1.0))
        flags = []
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
            cid, family, severity, patterns = rng.choice(categories)
            at = min(first + rng.uniform(0.0, 25.0), duration_s - 2.0)
            context = segments[max(0, bisect.bisect_right(starts, at) - 1)]["text"].strip() if segments else ""
            words = context.split()
            i = rng.randrange(max(1, len(words) - 2))
            flags.append(Flag(cid, family, round(at, 2), round(at + rng.uniform(0.4, 2.0), 2),
                              " ".join(words[i:i + 3]), context, rubric_ref, rng.choice(patterns),
                              severity, rng.choice(("unknown", "wearer", "public"))))
        status, claimed_by, reviewed_by = "new", None, None
        roll = rng.random()
        if roll < 0.15:  # another TIP's work: reviewed, dismissed or held
            status, reviewed_by = "reviewed", OTHER_TIP_ID
        elif roll < 0.20:
            status, reviewed_by = "dismissed", OTHER_TIP_ID
        elif roll < 0.23:
            status, claimed_by = "claimed", OTHER_TIP_ID
        out.append(({
            "media_id": media_id, "start_s": round(max(0.0, min(f.start_s for f in flags) - 5.0), 3),
            "end_s": round(min(max(f.end_s for f in flags) + 5.0, duration_s), 3),
            "priority": priority_of(flags), "status": status,
            "categories": ",".join(sorted({f.category for f in flags})),
            "claimed_by": claimed_by, "reviewed_by": reviewed_by,
        }, flags))
    return out


def seed_instance(store: Store, *, items: int, seed: int = 7) -> Seeded:
    """Write media, names, transcripts, flags, review items and audit history in bulk.

    Rows go through the schema's tables (SQLAlchemy Core inserts, many rows a statement)
    rather than ``save_transcript``/``save_flags``, which write one file per transaction.
    """

    started = time.perf_counter()
    rng = random.Random(seed)
    rubric = load_rubric()
    categories = [(c.id, c.family, c.severity, [p.id or f"{c.id}#{i}" for i, p in enumerate(c.patterns)])
                  for c in rubric.categories]
    speech = speech_lines(seed, longest_s=FILE_S[1])
    now = datetime.now(UTC)
    media_count = max(1, -(-items // ITEMS_PER_MEDIA))
    _audit_history(store, items * 3, start=now - timedelta(days=91))
    tables = (db.Media, db.MediaName, db.Transcript, db.Segment, db.ReviewItem, db.Flag)
    pending: dict[Any, list[dict[str, Any]]] = {t: [] for t in tables}
    written: Counter[Any] = Counter()
    footage_s = 0.0
    with store.session() as s:
        for media_id in range(1, media_count + 1):
            duration = rng.uniform(*FILE_S)
            footage_s += duration
            created = now - timedelta(days=90) + timedelta(minutes=media_id * 90 * 24 * 60 / media_count)
            sha = hashlib.sha256(f"bench-{seed}-{media_id}".encode()).hexdigest()
            size = int(duration * 1_100_000)
            pending[db.Media].append({
                "id": media_id, "sha256": sha, "state": "done", "reason": None, "size_bytes": size,
                "store_path": f"store/{sha[:2]}/{sha[2:4]}/{sha}.mp4", "container": "mov,mp4,m4a,3gp,3g2,mj2",
                "duration_s": duration, "has_video": True, "width": 1920, "height": 1080,
                "audio_tracks": 1, "audio_track": 0, "audio_path": f"derived/{sha}.wav",
                "created_at": created, "updated_at": created,
            })
            pending[db.MediaName].append({
                "media_id": media_id, "inbox": "/srv/bwv/inbox",
                "name": f"AXON_Body_3_Video_{created:%Y-%m-%d_%H%M}_X{60000 + media_id}.mp4",
                "size_bytes": size, "mtime_ns": int(created.timestamp() * 1e9), "first_seen_at": created,
            })
            pending[db.Transcript].append({
                "media_id": media_id, "model": "small.en", "model_sha256": "0" * 64, "language": "en",
                "settings_json": "{}", "audio_s": duration, "elapsed_s": duration / 8, "created_at": created,
            })
            segments = _transcript(rng, media_id, duration, speech)
            pending[db.Segment] += segments
            count = min(ITEMS_PER_MEDIA, items - written[db.ReviewItem] - len(pending[db.ReviewItem]))
            for item, flags in _review_items(rng, media_id=media_id, duration_s=duration, count=count,
                                             segments=segments, categories=categories,
                                             rubric_ref=rubric.ref):
                item_id = written[db.ReviewItem] + len(pending[db.ReviewItem]) + 1
                pending[db.ReviewItem].append({
                    "id": item_id, "created_at": created + timedelta(minutes=20),
                    "claimed_at": created + timedelta(days=1) if item["claimed_by"] else None,
                    "reviewed_at": created + timedelta(days=2) if item["reviewed_by"] else None,
                    **item,
                })
                pending[db.Flag] += ({"media_id": media_id, "review_item_id": item_id, **vars(f)}
                                     for f in flags)
            if len(pending[db.Segment]) >= 50_000 or media_id == media_count:
                for table in tables:  # parents first, for the foreign keys
                    if pending[table]:
                        s.execute(table.__table__.insert(), pending[table])
                        written[table] += len(pending[table])
                        pending[table] = []
    return Seeded(media=media_count, segments=written[db.Segment], flags=written[db.Flag],
                  items=written[db.ReviewItem], audit_rows=items * 3,
                  seconds=time.perf_counter() - started, footage_s=footage_s)
