"""Who says each line, as TIPs correct it: naming a file's speakers and moving a line to
another speaker.

Only the TIP who holds a review item corrects the speakers of its file, as only they
annotate it; a reviewed or dismissed item is read-only. Each correction is checked, stored
with who made it (:mod:`pipeline.store.speakers`) and audited (``speaker_rename`` and
``speaker_move`` on ``media:ID``); every later view (the review page, its captions, the
exports) shows the names and the moved lines. Errors are those of
:mod:`pipeline.review.items`: :class:`ForbiddenError` (not yours), :class:`ConflictError`
(read-only now), :class:`NotFoundError` and :class:`FormProblems` (a bad name or target).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import ConflictError, NotFoundError
from pipeline.review.items import FormProblems, actor, held_item, may_view_item, shown_span
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.speakers import (
    WEARER,
    SpeakerState,
    default_name,
    next_speaker,
    speaker_number,
)

#: The longest name a TIP may give a speaker, in characters.
MAX_NAME = 60
#: The move form's choice of a voice not heard in the file yet (the next "speaker N").
NEW_SPEAKER = "new"
#: How many colours the other voices take in turn (the wearer has one of its own; review.css).
VOICE_COLOURS = 6


@dataclass(frozen=True)
class Speaker:
    """One of a file's speakers as the review page shows it."""

    id: str  # "wearer", "speaker 2", ...
    name: str  # the name a TIP gave it, else its default name
    default: str  # "Wearer", "Speaker 2", ...

    @property
    def number(self) -> int:
        """1 for the wearer, N for speaker N: for element ids and notes."""
        return speaker_number(self.id)

    @property
    def voice(self) -> str:
        """Its colour's CSS class (always shown with its name: never colour alone)."""
        return voice_class(self.id)

    @property
    def renamed(self) -> bool:
        """Whether a TIP named it."""
        return self.name != self.default


def voice_class(speaker: str | None) -> str:
    """The CSS class of a speaker's colour: the wearer's is always ``voice-w``; the others
    take ``voice-1`` to ``voice-6`` in turn; no speaker, none."""
    if not speaker:
        return ""
    if speaker == WEARER:
        return "voice-w"
    return f"voice-{(speaker_number(speaker) - 2) % VOICE_COLOURS + 1}"


def file_speakers(known: Sequence[str], state: SpeakerState) -> list[Speaker]:
    """A file's speakers (the wearer first), each with the name it is shown under."""
    return [Speaker(sp, state.name(sp), default_name(sp)) for sp in known]


def move_choices(known: Sequence[str], state: SpeakerState) -> list[tuple[str, str]]:
    """What a line may be moved to, as (value, label): the wearer, the file's other
    speakers, and a new speaker."""
    voices = [WEARER, *(sp for sp in known if sp != WEARER)]
    new = default_name(next_speaker(known))
    return [(sp, state.name(sp)) for sp in voices] + [(NEW_SPEAKER, f"a new speaker ({new})")]


#: Letters that show as nothing (Hangul fillers), the joiner of combining marks, and what an
#: undecodable byte becomes.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\ufffd")
_MARKS_IN_A_ROW = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{3,}")
_DEFAULT_NAME = re.compile(r"^(wearer|speaker\s*\d+)$")


def check_speaker_name(name: str, *, speaker: str, known: Sequence[str],
                       state: SpeakerState) -> str:
    """The name a TIP typed for a speaker, tidied (spaces collapsed); "" gives the default
    name back. A :class:`FormProblems` for the field ``name`` when it holds characters no one
    can see, is too long, says nothing, or is another speaker's name in this file."""
    if any(unicodedata.category(c) in ("Cc", "Cf") or c in _BLANK_LETTERS for c in name):
        # Escapes, bells, zero-width and direction marks, fillers that look like nothing and
        # undecodable bytes: invisible on the page and in the captions, and a terminal
        # reading the audit log would act on the escapes.
        raise FormProblems([("name", "the name may hold only visible characters and spaces "
                                     "(no control, zero-width, direction or filler characters)")])
    tidy = " ".join(unicodedata.normalize("NFC", name).split())
    if _MARKS_IN_A_ROW.search(tidy):
        raise FormProblems([("name", "the name has letters piled with accents: at most two on "
                                     "one letter")])
    if not tidy or tidy.casefold() == default_name(speaker).casefold():
        return ""
    if _DEFAULT_NAME.match(tidy.casefold()):
        # "Wearer" or "Speaker 7" on another voice would pass it off as that speaker, now or
        # once that speaker is created or given its default name back.
        raise FormProblems([("name", f"{tidy} is the name bwv gives a speaker: name a role, "
                                     "such as Caller or Officer 2")])
    if len(tidy) > MAX_NAME:
        raise FormProblems([("name", f"the name must be at most {MAX_NAME} characters "
                                     f"(it has {len(tidy)})")])
    if not any(c.isalnum() for c in tidy):
        raise FormProblems([("name", "give a name in words, such as Caller or Officer 2, or "
                                     "leave it empty for the default name")])
    taken = next((other for other in known
                  if other != speaker and state.name(other).casefold() == tidy.casefold()), None)
    if taken is not None:
        raise FormProblems([("name", f"another speaker of this file is called {state.name(taken)} "
                                     "already: choose another name")])
    return tidy


def correctable_item(store: Store, user: db.UserAccount, item_id: int) -> db.ReviewItem:
    """The item, if this TIP may correct its file's speakers: they hold it. Their own
    reviewed or dismissed item is read-only (a conflict); anyone else's is refused as an
    annotation is."""
    item = store.item_view(item_id).item
    if may_view_item(user, item) and item.status in ("reviewed", "dismissed"):
        raise ConflictError(f"review item {item_id} was {item.status}: it is read-only, so its "
                            "speakers can no longer be corrected here")
    return held_item(store, user, item_id)


def rename_speaker(store: Store, user: db.UserAccount, item_id: int, *, speaker: str,
                   name: str) -> str:
    """Name one of the file's speakers ("Caller", "Officer 2"; empty: the default name) for
    the TIP who holds the item; returns the name now shown."""
    item = correctable_item(store, user, item_id)
    known = store.speakers_of(item.media_id)
    if speaker not in known:
        raise NotFoundError(f"the file of review item {item_id} has no speaker {speaker[:40]!r}")
    state = store.speaker_state(item.media_id)
    new = check_speaker_name(name, speaker=speaker, known=known, state=state)
    was = state.name(speaker)
    store.rename_speaker(item.media_id, speaker, new, by=user.id, review_item_id=item.id)
    shown = new or default_name(speaker)
    store.audit(actor=actor(user), action="speaker_rename", obj=f"media:{item.media_id}",
                detail=f"review_item:{item_id} {speaker}: {was!r} -> {shown!r}"
                       + ("" if new else " (the default name)"))
    return shown


def move_line(store: Store, user: db.UserAccount, item_id: int, *, idx: int, to: str) -> str:
    """Give one transcript line of the item's part of the file to another speaker (``to``:
    one of the file's speakers, the wearer, or :data:`NEW_SPEAKER`), for the TIP who holds
    the item; returns the speaker it went to."""
    item = correctable_item(store, user, item_id)
    line = store.transcript_line(item.media_id, idx)
    start_s, end_s = shown_span(item, store.get_media(item.media_id).duration_s)
    if line is None or not (line.end_s > start_s and line.start_s < end_s):
        raise NotFoundError(f"review item {item_id} shows no transcript line {idx}")
    known = store.speakers_of(item.media_id)
    target = next_speaker(known) if to == NEW_SPEAKER else to
    allowed = [value for value, _ in move_choices(known, store.speaker_state(item.media_id))]
    if to not in allowed:
        raise FormProblems([("speaker", f"no speaker {to[:40]!r} in this file: choose one of the "
                                        "list, or a new speaker")])
    if target == line.speaker:
        state = store.speaker_state(item.media_id)
        raise FormProblems([("speaker", f"{state.name(target)} says this line already: choose "
                                        "another speaker")])
    move = store.move_line(item.media_id, idx, target, by=user.id, review_item_id=item.id)
    store.audit(actor=actor(user), action="speaker_move", obj=f"media:{item.media_id}",
                detail=f"review_item:{item_id} line {idx} {move.start_s:.2f}-{move.end_s:.2f} s: "
                       f"{move.from_speaker or 'no speaker'} -> {target}")
    return target
