"""Rows for ``bwv export``: flags, transcript segments and media, per the CLI contract."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.store import Store


def _source(names: dict[int, list[str]], media_id: int) -> str | None:
    """The name a media item first arrived under."""
    found = names.get(media_id)
    return found[0] if found else None


FLAG_FIELDS = [
    "source", "sha256", "start", "end", "category", "family", "rubric", "text", "context",
    "speaker", "severity", "pattern", "review_item",
]
SEGMENT_FIELDS = ["source", "sha256", "start", "end", "text", "words"]
MEDIA_FIELDS = ["source", "sha256", "state", "reason", "duration", "names", "audio_track", "has_video"]


def flag_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One row per flag, with the original file name as ``source``."""
    names = store.names_by_media()
    for flag, sha in store.iter_flags():
        yield {
            "source": _source(names, flag.media_id),
            "sha256": sha,
            "start": flag.start_s,
            "end": flag.end_s,
            "category": flag.category,
            "family": flag.family,
            "rubric": flag.rubric,
            "text": flag.text,
            "context": flag.context,
            "speaker": flag.speaker,
            "severity": flag.severity,
            "pattern": flag.pattern,
            "review_item": flag.review_item_id,
        }


def segment_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One row per transcript segment, words with ``start``, ``end``, ``word``, ``probability``."""
    names = store.names_by_media()
    for seg, sha in store.iter_segments():
        words = [
            {"start": w["start_s"], "end": w["end_s"], "word": w["word"], "probability": w["probability"]}
            for w in json.loads(seg.words_json)
        ]
        yield {
            "source": _source(names, seg.media_id),
            "sha256": sha,
            "start": seg.start_s,
            "end": seg.end_s,
            "text": seg.text,
            "words": words,
        }


def media_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One row per media item seen in an inbox, with every name it arrived under."""
    names = store.names_by_media()
    for media in store.iter_media():
        all_names = names.get(media.id) or []
        yield {
            "source": all_names[0] if all_names else None,
            "sha256": media.sha256,
            "state": media.state,
            "reason": media.reason,
            "duration": media.duration_s,
            "names": all_names,
            "audio_track": media.audio_track,
            "has_video": media.has_video,
        }


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(rows: Iterable[dict[str, Any]]) -> str:
    """WebVTT of transcript rows; each file starts with a NOTE naming it."""
    out = ["WEBVTT", ""]
    current = None
    for row in rows:
        if row["sha256"] != current:
            current = row["sha256"]
            source = str(row["source"]).replace("-->", "->")
            out += [f"NOTE {source} sha256={current}", ""]
        text = str(row["text"]).replace("-->", "->")
        out += [f"{_timestamp(row['start'])} --> {_timestamp(row['end'])}", text, ""]
    return "\n".join(out)


#: Row builders and CSV columns by export kind (``bwv export KIND``).
ROWS = {"flags": flag_rows, "transcripts": segment_rows, "media": media_rows}
FIELDS = {"flags": FLAG_FIELDS, "transcripts": SEGMENT_FIELDS, "media": MEDIA_FIELDS}
