"""Feedback reaches the officer (issue 18, part 2).

A TIP decides, per submitted annotation of theirs, whether it is shared with the officer
who wore the camera (default: not), and writes what the officer reads. The officer, signed
in with the ``officer`` role and their collar number, sees only what was shared with them on
their own footage: the moment (through the proxy), the transcript around it, the TIP's words
for them and the rubric's guidance; they can acknowledge it and reply once. They never see
the queue, other officers' footage, unshared annotations or anyone's drafts. Every view,
stream, share, acknowledgement and reply is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import ForbiddenError, InvalidRequestError, NotFoundError
from pipeline.flagging.rubric import Guidance, Rubric
from pipeline.review.items import FormProblems, actor, captions_vtt
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.base import hidden_character
from pipeline.store.officers import SharedRow

#: The longest note a TIP writes for an officer, and the longest reply.
NOTE_CHARS = 2000
REPLY_CHARS = 2000
#: How much transcript the officer sees either side of the moment.
CONTEXT_S = 30.0


@dataclass(frozen=True)
class OfficerLine:
    """A transcript line as the officer reads it: "You" for the camera's wearer."""

    start_s: float
    end_s: float
    who: str
    text: str
    in_moment: bool


@dataclass(frozen=True)
class OfficerMoment:
    """What the officer's page shows of one shared feedback."""

    row: SharedRow
    lines: list[OfficerLine]
    guidance: list[tuple[str, Guidance]]


def clean_words(text: str, *, what: str, most: int) -> str:
    """A note or reply as stored: trimmed, not empty, not too long, no control characters
    other than line breaks and tabs."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidRequestError(f"write the {what}: it is empty")
    if len(text) > most:
        raise InvalidRequestError(f"the {what} has {len(text)} characters: at most {most}")
    if (hidden := hidden_character(text, lines=True)) is not None:
        raise InvalidRequestError(f"the {what} holds a character that cannot be seen ({hidden}): "
                                  "write it as plain text")
    return text


def _own_submitted(store: Store, user: db.UserAccount, annotation_id: int) -> db.Annotation:
    if user.role != "tip":
        raise ForbiddenError("only TIPs share feedback with officers")
    annotation = store.annotation_or_none(annotation_id)
    if annotation is None:
        raise NotFoundError(f"no annotation {annotation_id}")
    if annotation.author_id != user.id:  # another TIP's drafts are theirs alone: not found
        raise NotFoundError(f"no annotation {annotation_id} of yours")
    return annotation


def share(store: Store, user: db.UserAccount, annotation_id: int, *, note: str) -> int:
    """Share a submitted annotation with the officer whose footage it is; its share's id."""
    annotation = _own_submitted(store, user, annotation_id)
    if annotation.submitted_at is None:
        raise InvalidRequestError("a draft is not shared: mark the item reviewed first")
    if annotation.superseded_at is not None:
        raise InvalidRequestError("this annotation was corrected: share its newest version")
    try:
        note = clean_words(note, what="feedback for the officer", most=NOTE_CHARS)
    except InvalidRequestError as exc:  # said under the box on the review page
        raise FormProblems([("note", str(exc))]) from exc
    officer = store.footage_officer(annotation.media_id)
    if officer is None:
        raise InvalidRequestError("no officer is recorded for this footage: its metadata "
                                  "(bwv metadata import) says who wore the camera")
    shared_id = store.share_feedback(annotation_id, media_id=annotation.media_id,
                                     officer_id=officer, note=note, by=user.id)
    store.audit(actor=actor(user), action="feedback-share", obj=f"annotation:{annotation_id}",
                detail=f"officer:{officer} shared:{shared_id}")
    return shared_id


def withdraw(store: Store, user: db.UserAccount, annotation_id: int) -> None:
    """Stop showing a shared annotation to the officer (their acknowledgement is kept)."""
    _own_submitted(store, user, annotation_id)
    shared_id = store.withdraw_feedback(annotation_id)
    store.audit(actor=actor(user), action="feedback-withdraw", obj=f"annotation:{annotation_id}",
                detail=f"shared:{shared_id}")


def _officer(user: db.UserAccount) -> str:
    if user.role != "officer" or not user.officer_id:
        raise ForbiddenError("this page is for officers")
    return user.officer_id


def officer_list(store: Store, user: db.UserAccount) -> list[SharedRow]:
    """Everything shared with this officer, newest first; audited."""
    rows = store.shared_with(_officer(user))
    store.audit(actor=actor(user), action="view", obj="feedback", detail=f"{len(rows)} shared")
    return rows


def officer_moment(store: Store, user: db.UserAccount, shared_id: int, *,
                   rubric: Rubric) -> OfficerMoment:
    """One shared feedback of this officer's, with the transcript around the moment and the
    rubric's guidance for what was flagged in it; audited."""
    row = store.shared_one(shared_id, officer_id=_officer(user))
    ann = row.annotation
    lines = [OfficerLine(seg.start_s, seg.end_s,
                         "You" if seg.speaker == "wearer" else (seg.speaker or "").capitalize()
                         or "Someone", seg.text.strip(),
                         seg.end_s > ann.start_s and seg.start_s < ann.end_s)
             for seg in store.segments_between(ann.media_id, max(0.0, ann.start_s - CONTEXT_S),
                                               ann.end_s + CONTEXT_S)]
    guidance: list[tuple[str, Guidance]] = []
    for category in dict.fromkeys(f.category for f in store.flags_between(
            ann.media_id, ann.start_s, ann.end_s)):
        found = rubric.guidance_for(category)
        if found is not None:
            guidance.append((rubric.category(category).label, found))
    store.audit(actor=actor(user), action="view", obj=f"shared:{shared_id}",
                detail=f"media:{ann.media_id}")
    return OfficerMoment(row=row, lines=lines, guidance=guidance)


def officer_media(store: Store, user: db.UserAccount, shared_id: int) -> db.Media:
    """The footage of a feedback shared with this officer (their own), for the proxy."""
    row = store.shared_one(shared_id, officer_id=_officer(user))
    return store.get_media(row.shared.media_id)


def officer_captions(store: Store, user: db.UserAccount, shared_id: int) -> str:
    """WebVTT captions of the officer's footage of a shared moment; audited."""
    media = officer_media(store, user, shared_id)
    store.audit(actor=actor(user), action="captions", obj=f"media:{media.id}",
                detail=f"shared:{shared_id}")
    return captions_vtt(store.load_segments(media.id))


def acknowledge(store: Store, user: db.UserAccount, shared_id: int) -> None:
    """The officer has read it; audited (once)."""
    officer = _officer(user)
    store.shared_one(shared_id, officer_id=officer)  # NotFoundError for anyone else's
    if store.acknowledge_feedback(shared_id, officer_id=officer):
        store.audit(actor=actor(user), action="feedback-acknowledge", obj=f"shared:{shared_id}")


def reply(store: Store, user: db.UserAccount, shared_id: int, text: str) -> None:
    """The officer's one reply to the TIP; audited."""
    officer = _officer(user)
    text = clean_words(text, what="reply", most=REPLY_CHARS)
    store.reply_to_feedback(shared_id, officer_id=officer, reply=text)
    store.audit(actor=actor(user), action="feedback-reply", obj=f"shared:{shared_id}",
                detail=f"{len(text)} characters")
