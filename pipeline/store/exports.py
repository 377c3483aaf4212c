"""Rows for ``bwv export``: flags, transcript segments and media, per the CLI contract;
and :func:`write_csv`, which every CSV bwv writes goes through."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

from pipeline.store import Store
from pipeline.store.metadata import META_COLUMNS
from pipeline.store.speakers import default_name


def _source(names: dict[int, list[str]], media_id: int) -> str | None:
    """The name a media item first arrived under."""
    found = names.get(media_id)
    return found[0] if found else None


FLAG_FIELDS = [
    "source", "sha256", "start", "end", "category", "family", "rubric", "text", "context",
    "speaker", "severity", "pattern", "review_item",
]
SEGMENT_FIELDS = ["source", "sha256", "start", "end", "speaker", "speaker_name", "model", "text",
                  "words"]
MEDIA_FIELDS = ["source", "sha256", "state", "reason", "duration", "names", "audio_track",
                "has_video", "speakers", *META_COLUMNS]


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
    """One row per transcript segment with its ``speaker`` (``wearer``, ``speaker 2``, ...;
    null where speakers were not told apart) and the name it is shown under (a TIP's, else
    "Wearer", "Speaker 2"), the ``model`` whose decoding gave its words ("tiny.en", "base";
    null for transcripts stored before this was recorded); words with ``start``, ``end``,
    ``word``, ``probability``, ``speaker``."""
    names = store.names_by_media()
    speaker_names = store.speaker_names_by_media()
    for seg, sha in store.iter_segments():
        words = [
            {"start": w["start_s"], "end": w["end_s"], "word": w["word"],
             "probability": w["probability"], "speaker": w.get("speaker")}
            for w in json.loads(seg.words_json)
        ]
        yield {
            "source": _source(names, seg.media_id),
            "sha256": sha,
            "start": seg.start_s,
            "end": seg.end_s,
            "speaker": seg.speaker,
            "speaker_name": speaker_names.get(seg.media_id, {}).get(
                seg.speaker or "", default_name(seg.speaker)),
            "model": seg.model,
            "text": seg.text,
            "words": words,
        }


def media_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One row per media item seen in an inbox, with every name it arrived under, and who
    wore the camera and what the call was where a manifest said (null where none did)."""
    names = store.names_by_media()
    speakers = store.speaker_status_by_media()
    metadata = store.metadata_by_sha()
    for media in store.iter_media():
        all_names = names.get(media.id) or []
        meta = metadata.get(media.sha256 or "", {})
        yield {
            "source": all_names[0] if all_names else None,
            "sha256": media.sha256,
            "state": media.state,
            "reason": media.reason,
            "duration": media.duration_s,
            "names": all_names,
            "audio_track": media.audio_track,
            "has_video": media.has_video,
            # "separated", "one voice" (flagged by language alone), "without speakers" (the
            # same), or null before transcription.
            "speakers": speakers.get(media.id),
            **{key: meta.get(key) for key in META_COLUMNS},
        }


#: How a spreadsheet tells a formula: a cell starting with one of these (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell as a spreadsheet must show it: text, never a formula.

    A string starting like a formula gets a leading ``'`` (OWASP's escape: the file named
    ``=2+3.mp4`` reads ``'=2+3.mp4``). Only strings: numbers bwv itself writes stay numbers
    (-3.5 is not a formula). Lists and dicts are written as JSON.
    """
    if isinstance(value, list | dict):
        value = json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(stream: TextIO, fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a header and one line per row (``None`` is an empty cell), every cell through
    :func:`safe_cell`; return the number of rows.

    Lines end in CRLF (RFC 4180): the csv module quotes a cell holding any character of the
    line ending, and a spreadsheet ends a row at a lone CR too, so with LF endings a name
    like ``a\r=1+1`` would start a row with a formula.
    """
    writer = csv.DictWriter(stream, fieldnames=list(fields), extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        count += 1
    return count


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _cue_text(text: str) -> str:
    """Text safe inside a WebVTT cue: markup characters escaped, on one line."""
    one_line = " ".join(str(text).split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(rows: Iterable[dict[str, Any]]) -> str:
    """WebVTT of transcript rows; each file starts with a NOTE naming it.

    A row with a speaker is a voice span, ``<v Wearer>`` or ``<v Speaker 2>`` (or the name a
    TIP gave it, from ``speaker_name``); a row without one is plain text.
    """
    out = ["WEBVTT", ""]
    current = None
    for row in rows:
        if row["sha256"] != current:
            current = row["sha256"]
            source = " ".join(str(row["source"]).split()).replace("-->", "->")
            out += [f"NOTE {source} sha256={current}", ""]
        text = _cue_text(row["text"])
        if row.get("speaker"):
            name = _cue_text(row.get("speaker_name") or default_name(row["speaker"]))
            text = f"<v {name}>{text}"
        out += [f"{_timestamp(row['start'])} --> {_timestamp(row['end'])}", text, ""]
    return "\n".join(out)


#: Row builders and CSV columns by export kind (``bwv export KIND``).
ROWS = {"flags": flag_rows, "transcripts": segment_rows, "media": media_rows}
FIELDS = {"flags": FLAG_FIELDS, "transcripts": SEGMENT_FIELDS, "media": MEDIA_FIELDS}
