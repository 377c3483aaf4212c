"""Reviewing an item: who may open, claim and annotate what, and the rules an annotation obeys.

The web app calls these; each checks the person's right to the object,
changes the store and writes one audit row. Errors say what was refused:
:class:`ForbiddenError` (not yours), :class:`NotFoundError`,
:class:`ConflictError` (someone else got there first) and
:class:`InvalidRequestError` (a bad value).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from pipeline.flagging.rubric import Rubric
from pipeline.records import Segment
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.accounts import web_actor
from pipeline.store.base import hidden_character, inside_file
from pipeline.store.exports import to_vtt
from pipeline.store.review import ItemView
from pipeline.store.speakers import SpeakerState
from pipeline.taxonomy import LABELS

#: The longest feedback one annotation may carry, in characters.
MAX_FEEDBACK = 10_000
#: The longest reason for dismissing or releasing an item, in characters.
MAX_REASON = 500
#: The most annotations one review item may hold (drafts and current versions): 800 of them
#: once made an 8.5 MB review page.
MAX_ANNOTATIONS_PER_ITEM = 200
#: Transcript shown either side of an item's window on its review page, for the lead-in.
CONTEXT_S = 30.0


@dataclass(frozen=True)
class AnnotationInput:
    """What a TIP entered for an annotation."""

    start_s: float
    end_s: float
    labels: tuple[str, ...]
    rating: int | None
    feedback: str
    teaching: bool


class FormProblems(InvalidRequestError):
    """Bad values in a form, each said for its field, so a page can show it next to the field.

    ``problems`` maps a field (``range``, ``labels``, ``rating``, ``feedback``, ``category``,
    ``note``, ``reason``) to what is wrong with it; the message joins them all with '; '.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: dict[str, str] = {}
        for name, problem in problems:
            self.problems[name] = f"{self.problems[name]}; {problem}" if name in self.problems else problem
        super().__init__("; ".join(problem for _, problem in problems))


def actor(user: db.UserAccount) -> str:
    """How a web user appears in the audit log and in rubric feedback."""
    return web_actor(user.name)


def check_annotation(value: AnnotationInput, *, duration_s: float | None) -> AnnotationInput:
    """Validate an annotation; every problem is reported, joined by '; '."""
    problems = _range_problems(value.start_s, value.end_s, duration_s=duration_s)
    unknown = [label for label in value.labels if label not in LABELS]
    if unknown:
        problems.append(("labels", f"unknown labels: {', '.join(repr(u) for u in unknown)}"))
    if not value.labels:
        problems.append(("labels", "choose at least one label"))
    if value.rating is not None and not 1 <= value.rating <= 5:
        problems.append(("rating", "the rating must be from 1 to 5"))
    if len(value.feedback) > MAX_FEEDBACK:
        problems.append(("feedback", f"the feedback must be at most {MAX_FEEDBACK} characters"))
    if (hidden := hidden_character(value.feedback, lines=True)) is not None:
        problems.append(("feedback", f"the feedback holds a character that cannot be seen "
                                     f"({hidden}): write it as plain text"))
    if problems:
        raise FormProblems(problems)
    labels = tuple(dict.fromkeys(value.labels))  # keep order, drop repeats
    return AnnotationInput(round(value.start_s, 3), round(value.end_s, 3), labels,
                           value.rating, value.feedback.strip(), value.teaching)


def _range_problems(start_s: float, end_s: float, *, duration_s: float | None) -> list[tuple[str, str]]:
    """What is wrong with a marked time range, if anything (field ``range``)."""
    if not (math.isfinite(start_s) and math.isfinite(end_s)):
        return [("range", "the time range must be numbers of seconds")]
    if not inside_file(start_s, end_s, duration_s):
        return [("range", f"the time range {start_s:.2f}-{end_s:.2f} s must run forwards inside "
                          f"the file (0-{duration_s or 0.0:.2f} s): set mark in before mark out")]
    return []


def check_reason(reason: str | None, *, doing: str) -> str:
    """The reason given for dismissing or releasing an item, stripped; blank or too long is a
    :class:`FormProblems` for the field ``reason``."""
    why = (reason or "").strip()
    if not why:
        raise FormProblems([("reason", f"say why you {doing} this item")])
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in why):
        # Escapes, bells, zero-width and direction marks: invisible on the page, and a terminal
        # reading the audit log would act on them.
        raise FormProblems([("reason", "the reason may hold only visible characters and spaces "
                                       "(no control, zero-width or direction characters)")])
    if not any(c.isalnum() for c in why):
        raise FormProblems([("reason", f"say in words why you {doing} this item")])
    if len(why) > MAX_REASON:
        raise FormProblems([("reason", f"the reason must be at most {MAX_REASON} characters")])
    return why


def _require_tip(user: db.UserAccount) -> None:
    if user.role != "tip":
        raise ForbiddenError("only TIPs review items")


def may_view_item(user: db.UserAccount, item: db.ReviewItem) -> bool:
    """A TIP may open an item they hold or reviewed."""
    return user.role == "tip" and user.id in (item.claimed_by, item.reviewed_by)


def holds(user: db.UserAccount, item: db.ReviewItem) -> bool:
    """Whether this TIP holds the item now (and so may change it)."""
    return user.role == "tip" and item.status == "claimed" and item.claimed_by == user.id


def _not_yours(item: db.ReviewItem) -> str:
    """Why a TIP may not open an item, and what they can do: only an open item can be claimed."""
    if item.status in ("new", "claimed"):
        return f"review item {item.id} is not yours: claim it from the queue first"
    return (f"review item {item.id} was {item.status} by another TIP: only they, and trainers "
            "through its annotations, see it")


def open_item(store: Store, user: db.UserAccount, item_id: int) -> ItemView:
    """The item for its review page, audited as a view."""
    view = store.item_view(item_id)
    if not may_view_item(user, view.item):
        raise ForbiddenError(_not_yours(view.item))
    store.audit(actor=actor(user), action="view", obj=f"review_item:{item_id}")
    return view


def held_item(store: Store, user: db.UserAccount, item_id: int) -> db.ReviewItem:
    """The item, if this TIP holds it now."""
    item = store.item_view(item_id).item
    if not holds(user, item):
        raise ForbiddenError(f"you do not hold review item {item_id}: claim it first")
    return item


def claim(store: Store, user: db.UserAccount, item_id: int) -> None:
    """Take an item from the queue; someone else's claim wins if it came first."""
    _require_tip(user)
    view = store.item_view(item_id)
    if not store.claim_item(item_id, user.id):
        current = store.item_view(item_id)
        if current.item.claimed_by == user.id:
            return
        who = f" by {current.holder}" if current.holder else ""
        raise ConflictError(f"review item {item_id} is already {current.item.status}{who}")
    store.audit(actor=actor(user), action="claim", obj=f"review_item:{view.item.id}")


def claim_next(store: Store, user: db.UserAccount) -> int | None:
    """Claim the most urgent item nobody holds (the queue's first row; items this TIP released
    come last; of a TIP with default teams, among their teams' footage and footage with no
    team, as their queue opens); its id, or None when there is none. If someone takes it first, the next one is
    tried."""
    _require_tip(user)
    teams = store.default_teams(user.id)  # a TIP with teams: their teams' and no team's
    for _ in range(10):
        item_id = store.next_open_item(not_released_by=user.id, teams=teams)
        if item_id is None:
            return None
        if store.claim_item(item_id, user.id):
            store.audit(actor=actor(user), action="claim", obj=f"review_item:{item_id}",
                        detail="next item")
            return item_id
    raise ConflictError("other TIPs are claiming the next items as fast as you: try again")


def release(store: Store, user: db.UserAccount, item_id: int, *, reason: str | None = None) -> None:
    """Give an item back to the queue, saying why (the web form must; ``None``: no reason kept)."""
    held_item(store, user, item_id)
    why = None if reason is None else check_reason(reason, doing="release")
    if not store.release_item(item_id, user.id, reason=why):
        raise ConflictError(f"review item {item_id} is no longer yours")
    store.audit(actor=actor(user), action="release", obj=f"review_item:{item_id}", detail=why)


def finish(store: Store, user: db.UserAccount, item_id: int, *, status: str,
           reason: str | None = None) -> None:
    """Mark a held item reviewed (flags nobody marked count as confirmed) or dismissed, which
    needs a reason (kept on the item for the queue, and audited)."""
    if status not in ("reviewed", "dismissed"):
        raise InvalidRequestError(f"an item can be marked reviewed or dismissed, not {status!r}")
    held_item(store, user, item_id)
    why = check_reason(reason, doing="dismiss") if status == "dismissed" else None
    if not store.finish_item(item_id, user.id, status=status, reason=why):
        raise ConflictError(f"review item {item_id} is no longer yours")
    if status == "reviewed":
        store.confirm_unmarked_flags(item_id, reviewer=actor(user))
    store.audit(actor=actor(user), action=status, obj=f"review_item:{item_id}", detail=why)


def annotate(store: Store, user: db.UserAccount, item_id: int, value: AnnotationInput) -> int:
    """Add a draft annotation to a held item (at most :data:`MAX_ANNOTATIONS_PER_ITEM` per item)."""
    item = held_item(store, user, item_id)
    media = store.get_media(item.media_id)
    value = check_annotation(value, duration_s=media.duration_s)
    if store.count_item_annotations(item.id, viewer_id=user.id) >= MAX_ANNOTATIONS_PER_ITEM:
        raise InvalidRequestError(
            f"review item {item_id} already holds {MAX_ANNOTATIONS_PER_ITEM} annotations, the most "
            "one item may hold: change an existing one, or put several points in one annotation")
    annotation_id = store.add_annotation(
        media_id=item.media_id, review_item_id=item.id, author_id=user.id, start_s=value.start_s,
        end_s=value.end_s, labels=value.labels, rating=value.rating, feedback=value.feedback,
        teaching=value.teaching,
    )
    store.audit(actor=actor(user), action="annotation-add", obj=f"annotation:{annotation_id}",
                detail=f"review_item:{item_id} {value.start_s:.2f}-{value.end_s:.2f}")
    return annotation_id


def own_annotation(store: Store, user: db.UserAccount, annotation_id: int) -> db.Annotation:
    """An annotation its author may change or correct; anyone else is told it does not exist.

    A version since corrected is refused with the id of its correction.
    """
    row = store.annotation(annotation_id)
    if user.role != "tip" or row.author_id != user.id:
        raise NotFoundError(f"no annotation {annotation_id}")
    if row.superseded_at is not None:
        newer = store.correction_of(annotation_id)
        raise ConflictError(f"annotation {annotation_id} was corrected"
                            + (f" by annotation {newer}: open that one" if newer else ""))
    return row


def content_digest(row: db.Annotation | AnnotationInput) -> str:
    """SHA-256 of what an annotation says (range, labels, rating, feedback, teaching mark), so
    the audit log pins each version's content."""
    labels = json.loads(row.labels) if isinstance(row, db.Annotation) else list(row.labels)
    said = [round(row.start_s, 3), round(row.end_s, 3), labels, row.rating, row.feedback, bool(row.teaching)]
    return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode()).hexdigest()


def edit_annotation(store: Store, user: db.UserAccount, annotation_id: int,
                    value: AnnotationInput) -> int:
    """Change one's own draft, or correct one's own submitted annotation; returns the id now current.

    A submitted annotation never changes: the correction is a new, submitted version, and
    the one it corrects is kept. Its audit row names both, with the SHA-256 of each one's
    content (``annotation-correct``).
    """
    row = own_annotation(store, user, annotation_id)
    value = check_annotation(value, duration_s=store.get_media(row.media_id).duration_s)
    fields: dict[str, Any] = {
        "start_s": value.start_s, "end_s": value.end_s, "labels": value.labels,
        "rating": value.rating, "feedback": value.feedback, "teaching": value.teaching,
    }
    if row.submitted_at is None:
        store.update_annotation(annotation_id, **fields)
        store.audit(actor=actor(user), action="annotation-edit", obj=f"annotation:{annotation_id}",
                    detail="draft, changed in place")
        return annotation_id
    new_id = store.correct_annotation(annotation_id, **fields)
    store.audit(actor=actor(user), action="annotation-correct", obj=f"annotation:{new_id}",
                detail=f"corrects annotation:{annotation_id} (kept); old sha256={content_digest(row)} "
                       f"new sha256={content_digest(value)}")
    return new_id


def delete_annotation(store: Store, user: db.UserAccount, annotation_id: int) -> int | None:
    """Delete one's own draft; returns its review item's id (a submitted one cannot be deleted)."""
    row = own_annotation(store, user, annotation_id)
    store.delete_annotation(annotation_id)
    store.audit(actor=actor(user), action="annotation-delete", obj=f"annotation:{annotation_id}",
                detail=f"draft, sha256={content_digest(row)}")
    return row.review_item_id


def judge_flag(store: Store, user: db.UserAccount, flag_id: int, *, relevant: bool) -> int:
    """Confirm a flag of a held item or mark it "not relevant"; returns the item's id."""
    flag = store.flag(flag_id)
    if flag.review_item_id is None:
        raise NotFoundError(f"flag {flag_id} is not in a review item")
    held_item(store, user, flag.review_item_id)
    store.record_flag_feedback(flag_id, relevant=relevant, reviewer=actor(user))
    return flag.review_item_id


def add_missed(store: Store, user: db.UserAccount, item_id: int, *, category: str,
               start_s: float, end_s: float, note: str | None, rubric: Rubric) -> None:
    """Record a moment of a held item that the rubric should have flagged, in one of the
    rubric's categories."""
    item = held_item(store, user, item_id)
    problems = _range_problems(start_s, end_s, duration_s=store.get_media(item.media_id).duration_s)
    known = [c.id for c in rubric.categories]
    if category not in known:
        hint = difflib.get_close_matches(category, known, n=1)
        problems.append(("category", f"unknown category {category[:100]!r}"
                         + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f": choose one of the categories of rubric {rubric.ref}"))
    if problems:
        raise FormProblems(problems)
    store.add_missed_moment(item.media_id, category=category, start_s=start_s, end_s=end_s,
                            reviewer=actor(user), note=note)


def release_claims_of(store: Store, user_id: int, *, actor: str, why: str) -> list[int]:
    """Give back to the queue every item an account holds (it was disabled, say); each release
    is audited with why. Returns the items' ids."""
    account = store.user_by_id(user_id)
    holder = account.name if account else f"user:{user_id}"
    released = store.release_claims_of(user_id, reason=why)
    for item_id in released:
        store.audit(actor=actor, action="release", obj=f"review_item:{item_id}",
                    detail=f"claim of {holder} released: {why}")
    return released


def release_any(store: Store, user: db.UserAccount, item_id: int) -> str:
    """An admin gives back an item whoever holds it (audited); returns the holder's name."""
    if user.role != "admin":
        raise ForbiddenError("only an admin releases another person's claim")
    view = store.item_view(item_id)
    holder = view.item.claimed_by
    if view.item.status != "claimed" or holder is None:
        raise ConflictError(f"review item {item_id} is {view.item.status}, not claimed: nothing to release")
    if not store.release_item(item_id, holder, by=user.id):
        raise ConflictError(f"review item {item_id} changed hands meanwhile: look again")
    store.audit(actor=actor(user), action="release", obj=f"review_item:{item_id}",
                detail=f"claim of {view.holder or f'user:{holder}'} released by an admin")
    return view.holder or f"user {holder}"


def labels_from(values: Sequence[str]) -> tuple[str, ...]:
    """Labels as submitted by a form (blank entries dropped)."""
    return tuple(v.strip() for v in values if v.strip())


def shown_span(item: db.ReviewItem, duration_s: float | None) -> tuple[float, float]:
    """The stretch of the file an item's review page shows: the item, with :data:`CONTEXT_S`
    of lead-in and aftermath (what a TIP holding it reads, and may correct)."""
    duration = duration_s or item.end_s
    return max(0.0, item.start_s - CONTEXT_S), min(duration, item.end_s + CONTEXT_S)


def item_captions(store: Store, user: db.UserAccount, item_id: int) -> str:
    """The WebVTT captions of an item's footage, for whoever may watch it (audited like a stream).

    The player plays the whole file's proxy, so the cues keep the file's own times. Each
    line is said in its speaker's voice span, under the name a TIP gave the speaker.
    """
    view = store.item_view(item_id)
    if not may_view_item(user, view.item):
        raise ForbiddenError(_not_yours(view.item))
    store.audit(actor=actor(user), action="captions", obj=f"media:{view.media.id}",
                detail=f"review_item:{item_id}")
    return captions_vtt(store.load_segments(view.media.id), speakers=store.speaker_state(view.media.id))


def captions_vtt(segments: Sequence[Segment], *, speakers: SpeakerState | None = None) -> str:
    """WebVTT with one cue per transcribed segment, written by the exports' writer
    (:func:`pipeline.store.exports.to_vtt`): cue text escaped, on one line, and a line with a
    speaker in a voice span (``<v Caller>``). Segments with no words or no length are left
    out. No row names a file, so the captions carry no NOTE.
    """
    state = speakers or SpeakerState(None)
    return to_vtt(
        {"sha256": None, "source": None, "start": seg.start_s, "end": seg.end_s, "text": seg.text,
         "speaker": seg.speaker, "speaker_name": state.name(seg.speaker) if seg.speaker else None}
        for seg in segments if seg.text.strip() and seg.end_s > seg.start_s)
