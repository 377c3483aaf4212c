"""A person reviews a teaching pack's redactions before anything leaves.

The detectors *propose*; a trainer decides. For each moment the trainer sees the
transcript and the TIP's feedback with every proposed redaction marked, and may:

- remove a proposal, with a reason (its words then stay in the pack: an age, a
  public place that matters to the account);
- add a redaction: a run of words, or a time range of the audio (toned out in
  full, the words inside replaced too), with its kind;
- add a box on the picture for something that is not a face (a number plate, a
  letter, a screen), for a time range: blurred in every frame of the range.

The same decisions come from the web app's export page or, for the CLI, from a
review file (:func:`review_document` writes it; the trainer edits it; the export
reads it back through :func:`read_review`). ``--accept-proposed`` takes the
proposals as they are and says so in the manifest. Whatever the route, every
decision is checked against the moment as it is now (a file written before the
transcript changed is refused) and recorded in the manifest with its reason.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import InvalidRequestError
from pipeline.records import Segment
from pipeline.teach.pii import KINDS, Changes, Redacted, word_list

FORMAT = "bwv-teach-review/1"
#: The two texts of a moment whose redactions are reviewed.
TEXTS = ("speech", "feedback")
MAX_REASON = 500
HOW_TO = (
    "Review every moment before the pack is built. Under speech and feedback, 'words' lists "
    "each word as [number, start_s, end_s, text]; a proposal 'heard_by_second_model' is a "
    "detail a second model heard at that time, where the transcript has other words (or "
    "none). For each entry of 'proposed', leave "
    "\"redact\": true, or set it to false and give a \"reason\" to keep its words. To add a "
    "redaction, append to 'added' {\"words\": [first, last], \"kind\": \"NAME\"} or (speech "
    "only) {\"start_s\": 1.5, \"end_s\": 2.4, \"kind\": \"NAME\"}. To blur something that is not "
    "a face, append to 'boxes' {\"start_s\": 0, \"end_s\": 4, \"x\": 0.1, \"y\": 0.6, \"width\": "
    "0.2, \"height\": 0.1, \"what\": \"number plate\"}: x, y, width and height are fractions of "
    "the picture (0 to 1, from its top left) and the times are seconds into the clip. Kinds: "
    + ", ".join(KINDS) + ". Then run bwv teach export ... --review THIS_FILE. This file holds "
    "the unredacted words: keep it on this machine and delete it after the export."
)


@dataclass(frozen=True)
class Box:
    """A region of the picture to blur for a time range (fractions of the picture)."""

    start_s: float
    end_s: float
    x: float
    y: float
    width: float
    height: float
    what: str = ""


@dataclass(frozen=True)
class MomentTexts:
    """What a trainer reviews for one moment: its words, and what the detectors propose."""

    annotation_id: int
    source_sha256: str
    duration_s: float  # of the clip
    has_video: bool
    speech: Sequence[Segment]
    feedback: Sequence[Segment]
    proposed_speech: Redacted
    proposed_feedback: Redacted
    heard: Sequence[Segment] = ()  # the second model's transcript of the speech, if any

    def text(self, where: str) -> tuple[Sequence[Segment], Redacted]:
        return ((self.speech, self.proposed_speech) if where == "speech"
                else (self.feedback, self.proposed_feedback))

    def transcript_sha256(self) -> str:
        """A fingerprint of both texts' words and times: a review is only valid for these."""
        words = {where: [[w.start_s, w.end_s, w.word] for w in word_list(self.text(where)[0])]
                 for where in TEXTS}
        return hashlib.sha256(json.dumps(words, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class MomentReview:
    """A trainer's decisions on one moment."""

    speech: Changes = Changes()
    feedback: Changes = Changes()
    reasons: dict[str, str] = field(default_factory=dict)  # "speech:w3-4" -> why it stays
    boxes: tuple[Box, ...] = ()

    def changes(self, where: str) -> Changes:
        return self.speech if where == "speech" else self.feedback


@dataclass(frozen=True)
class Review:
    """How a pack's redactions were decided, and by whom."""

    how: str  # "reviewed" or "accepted-proposed"
    route: str  # "web app", "review file review.json (sha256 ...)", "--accept-proposed"
    moments: dict[int, MomentReview] = field(default_factory=dict)

    @classmethod
    def accept_proposed(cls) -> Review:
        return cls("accepted-proposed", "--accept-proposed")

    def of(self, annotation_id: int) -> MomentReview:
        return self.moments.get(annotation_id, MomentReview())

    def manifest(self, texts: MomentTexts, by: str) -> dict[str, Any]:
        """What was decided for one moment, for its manifest (kinds, times and reasons; no words)."""
        decided = self.of(texts.annotation_id)
        removed = [{"where": where, "kind": p.kind, "start_s": round(p.start_s, 2),
                    "end_s": round(p.end_s, 2), "reason": decided.reasons.get(f"{where}:{p.id}", "")}
                   for where in TEXTS for p in texts.text(where)[1].proposals
                   if p.id in decided.changes(where).removed]
        added = []
        for where in TEXTS:
            words = word_list(texts.text(where)[0])
            added += [{"where": where, "kind": kind, "start_s": round(words[first].start_s, 2),
                       "end_s": round(words[last].end_s, 2), "how": "words"}
                      for first, last, kind in decided.changes(where).words]
        added += [{"where": "speech", "kind": kind, "start_s": a, "end_s": b, "how": "time range"}
                  for a, b, kind in decided.speech.times]
        return {"how": self.how, "by": by, "route": self.route,
                "proposed": {where: len(texts.text(where)[1].proposals) for where in TEXTS},
                "removed": removed, "added": added,
                "boxes": [vars(box) for box in decided.boxes]}


def review_document(moments: Sequence[MomentTexts], *, exporter: str) -> dict[str, Any]:
    """The review file for the CLI: every moment's words and proposals, ready to edit."""
    out = []
    for m in moments:
        entry: dict[str, Any] = {"annotation_id": m.annotation_id, "source_sha256": m.source_sha256,
                                 "transcript_sha256": m.transcript_sha256(),
                                 "clip_duration_s": round(m.duration_s, 3), "has_video": m.has_video}
        for where in TEXTS:
            segments, redacted = m.text(where)
            words = word_list(segments)
            entry[where] = {
                "words": [[i, round(w.start_s, 3), round(w.end_s, 3), w.word.strip()]
                          for i, w in enumerate(words)],
                "proposed": [{"id": p.id, "kind": p.kind, "words": [p.first, p.last],
                              "start_s": round(p.start_s, 3), "end_s": round(p.end_s, 3),
                              "text": " ".join(w.word.strip() for w in words[p.first:p.last + 1])
                              if p.first >= 0 else "", "heard_by_second_model": p.heard,
                              "redact": True, "reason": ""} for p in redacted.proposals],
                "added": [],
            }
        entry["boxes"] = []
        out.append(entry)
    return {"format": FORMAT, "how_to": HOW_TO, "exporter": exporter, "moments": out}


def read_review(doc: Any, moments: Sequence[MomentTexts], *, route: str) -> Review:
    """A trainer's decisions from a review document, checked against the moments as they are now.

    Every problem is listed in one :class:`InvalidRequestError`, each with where it is
    (``moments[0].speech.added[1]``); nothing is exported from a review with a problem.
    """
    problems: list[str] = []
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidRequestError(f"not a bwv review file: its \"format\" must be {FORMAT!r} "
                                  "(write one with bwv teach review)")
    entries = doc.get("moments")
    if not isinstance(entries, list):
        raise InvalidRequestError("the review file has no \"moments\" list")
    by_id = {m.annotation_id: m for m in moments}
    reviews: dict[int, MomentReview] = {}
    seen: set[int] = set()
    for n, entry in enumerate(entries):
        here = f"moments[{n}]"
        aid = entry.get("annotation_id") if isinstance(entry, dict) else None
        if aid not in by_id or isinstance(aid, bool):
            problems.append(f"{here}: annotation {aid!r} is not among the moments being exported")
            continue
        if aid in seen:
            problems.append(f"{here}: annotation {aid} is reviewed twice")
            continue
        seen.add(aid)
        texts = by_id[aid]
        if entry.get("source_sha256") != texts.source_sha256:
            problems.append(f"{here}: it was written for another original (SHA-256 differs)")
            continue
        if entry.get("transcript_sha256") != texts.transcript_sha256():
            problems.append(f"{here}: the transcript or feedback of annotation {aid} has changed "
                            "since the review file was written; write a new one with bwv teach review")
            continue
        reviews[aid] = _read_moment(entry, texts, here, problems)
    problems += [f"annotation {aid} is not reviewed in the file" for aid in by_id if aid not in seen]
    if problems:
        raise InvalidRequestError("the review cannot be used: " + "; ".join(problems))
    return Review("reviewed", route, reviews)


def _read_moment(entry: dict[str, Any], texts: MomentTexts, here: str,
                 problems: list[str]) -> MomentReview:
    changes, reasons = {}, {}
    for where in TEXTS:
        section = entry.get(where) if isinstance(entry.get(where), dict) else {}
        segments, redacted = texts.text(where)
        count = len(word_list(segments))
        known = {p.id for p in redacted.proposals}
        removed = set()
        for i, item in enumerate(_items(section, "proposed", f"{here}.{where}", problems)):
            at = f"{here}.{where}.proposed[{i}]"
            if item.get("id") not in known:
                problems.append(f"{at}: no proposal {item.get('id')!r} in this moment")
            elif item.get("redact", True) is False:
                reason = str(item.get("reason") or "").strip()
                if not reason:
                    problems.append(f"{at}: say why the words stay (\"reason\")")
                elif len(reason) > MAX_REASON:
                    problems.append(f"{at}: the reason must be at most {MAX_REASON} characters")
                removed.add(item["id"])
                reasons[f"{where}:{item['id']}"] = reason[:MAX_REASON]
            elif item.get("redact", True) is not True:
                problems.append(f"{at}: \"redact\" must be true or false")
        words, times = [], []
        for i, item in enumerate(_items(section, "added", f"{here}.{where}", problems)):
            at = f"{here}.{where}.added[{i}]"
            kind = item.get("kind")
            if kind not in KINDS:
                problems.append(f"{at}: \"kind\" must be one of {', '.join(KINDS)}")
            elif "words" in item:
                span = item["words"]
                if (not isinstance(span, list) or len(span) != 2
                        or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
                        or not 0 <= span[0] <= span[1] < count):
                    problems.append(f"{at}: \"words\" must be [first, last] word numbers "
                                    f"between 0 and {count - 1}")
                else:
                    words.append((span[0], span[1], kind))
            elif where == "speech" and range_ok(item, texts.duration_s):
                times.append((float(item["start_s"]), float(item["end_s"]), kind))
            else:
                problems.append(f"{at}: give \"words\": [first, last]" + (
                    f" or \"start_s\" and \"end_s\" with 0 <= start_s < end_s <= "
                    f"{texts.duration_s:.3f}" if where == "speech" else ""))
        changes[where] = Changes(frozenset(removed), tuple(words), tuple(times))
    boxes = []
    for i, item in enumerate(_items(entry, "boxes", here, problems)):
        at = f"{here}.boxes[{i}]"
        box = _box(item, texts.duration_s)
        if not texts.has_video:
            problems.append(f"{at}: annotation {texts.annotation_id} has no video to put a box on")
        elif box is None:
            problems.append(f"{at}: a box needs 0 <= start_s < end_s <= {texts.duration_s:.3f} and "
                            "x, y, width, height as fractions of the picture (0 to 1, inside it)")
        else:
            boxes.append(box)
    return MomentReview(changes["speech"], changes["feedback"], reasons, tuple(boxes))


def _items(section: Any, key: str, here: str, problems: list[str]) -> list[dict[str, Any]]:
    items = section.get(key, []) if isinstance(section, dict) else []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(f"{here}.{key}: must be a list of objects")
        return []
    return items


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def range_ok(item: dict[str, Any], duration_s: float) -> bool:
    """Whether ``item``'s ``start_s`` and ``end_s`` are numbers that run forwards inside a clip
    of ``duration_s``."""
    a, b = _number(item.get("start_s")), _number(item.get("end_s"))
    return a is not None and b is not None and 0 <= a < b <= duration_s + 1e-6


def _box(item: dict[str, Any], duration_s: float) -> Box | None:
    values = [_number(item.get(k)) for k in ("x", "y", "width", "height")]
    if not range_ok(item, duration_s) or any(v is None for v in values):
        return None
    x, y, w, h = (float(v or 0.0) for v in values)
    if not (0 <= x < 1 and 0 <= y < 1 and w > 0 and h > 0 and x + w <= 1 + 1e-6 and y + h <= 1 + 1e-6):
        return None
    return Box(float(item["start_s"]), float(item["end_s"]), x, y, w, h,
               str(item.get("what") or "")[:100])
