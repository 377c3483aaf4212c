"""Who says each line: the speaker stage's results and TIPs' corrections to them.

Turns are stored with the transcript (each segment row and each word in it has its
speaker). They can be computed again without transcribing again
(:meth:`SpeakerQueries.save_speakers`); TIPs' corrections (a line moved to another
speaker) are kept apart and applied again on top, and their names for speakers ("Caller",
"Officer 2") are shown by every view and export.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from pipeline import clock
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.records import Segment
from pipeline.store import schema as db
from pipeline.store.accounts import web_actor
from pipeline.store.base import Queries, first_name
from pipeline.store.media import segment_rows
from pipeline.store.speaker_tables import SpeakerMove, SpeakerName
from pipeline.taxonomy import WEARER, majority_speaker

_SPEAKER_ID = re.compile(r"^(wearer|speaker [2-9]|speaker [1-9][0-9])$")


def speaker_number(speaker: str) -> int:
    """1 for the wearer, N for ``speaker N``."""
    return 1 if speaker == WEARER else int(speaker.rsplit(" ", 1)[-1])


def next_speaker(known: Sequence[str]) -> str:
    """The speaker a line moved to "a new speaker" becomes: one past the highest heard."""
    others = [speaker_number(sp) for sp in known if sp != WEARER]
    return f"speaker {max(others, default=1) + 1}"


def default_name(speaker: str | None) -> str:
    """How a speaker is shown when no TIP has named it: "Wearer", "Speaker 2", "Unknown"."""
    return speaker.capitalize() if speaker else "Unknown"


@dataclass(frozen=True)
class SpeakerState:
    """How a file's speakers were told apart, and the names TIPs gave them."""

    status: str | None  # "separated", "one voice", "without speakers"; None: not run
    info: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def name(self, speaker: str | None) -> str:
        """The TIP's name for a speaker, else its default name."""
        return self.names.get(speaker or "", default_name(speaker))

    @property
    def scoped(self) -> bool:
        """Whether flags knew who spoke (else they went by language alone)."""
        return self.status == "separated"


def apply_moves(segments: Sequence[Segment], moves: Sequence[SpeakerMove]
                ) -> list[Segment]:
    """TIPs' moves applied to segments: a segment inside a moved range takes its speaker."""
    out = list(segments)
    for move in moves:
        for i, seg in enumerate(out):
            middle = (seg.start_s + seg.end_s) / 2
            if move.start_s <= middle <= move.end_s:
                out[i] = replace(seg, speaker=move.to_speaker,
                                 words=tuple(replace(w, speaker=move.to_speaker)
                                             for w in seg.words))
    return out


@dataclass(frozen=True)
class SpeakerFeedback:
    """A TIP's word on who says one transcript line: counted as feedback by
    ``bwv rubric eval --from-reviews``.

    One per line a TIP moved: ``from_speaker`` is the speaker the speaker stage gave it
    (None: it had none), ``to_speaker`` where the TIP's last move put it; ``reviewer`` is
    ``web:NAME``, as in rubric feedback, and ``at`` when (UTC).
    """

    media_id: int
    source: str | None  # the name the file first arrived under
    start_s: float
    end_s: float
    text: str
    from_speaker: str | None
    to_speaker: str
    reviewer: str
    at: datetime
    review_item_id: int | None

    @property
    def corrected(self) -> bool:
        """Whether the TIP put the line under another speaker than the stage did (a line
        moved away and back again is a confirmation)."""
        return self.from_speaker != self.to_speaker

    @property
    def said_by(self) -> str:
        """Who says it in the rubric's words (``said_by``): "wearer" or "others"."""
        return "wearer" if self.to_speaker == WEARER else "others"


class SpeakerQueries(Queries):
    """Speaker turns, their corrections and names (a mixin of :class:`pipeline.store.Store`)."""

    def save_speakers(self, media_id: int, segments: Sequence[Segment], *, status: str,
                      info: dict[str, Any]) -> None:
        """Replace a transcript's segments by the same words with speakers computed again.

        TIPs' moves are applied again on top, so a correction outlives a new computation.
        """
        with self.session() as s:
            moves = list(s.scalars(select(SpeakerMove).where(
                SpeakerMove.media_id == media_id).order_by(SpeakerMove.id)))
            rows = segment_rows(media_id, apply_moves(segments, moves))
            s.execute(delete(db.Segment).where(db.Segment.media_id == media_id))
            s.add_all(rows)
            s.execute(update(db.Transcript).where(db.Transcript.media_id == media_id).values(
                speaker_status=status, speaker_info=json.dumps(info)))

    def speaker_state(self, media_id: int) -> SpeakerState:
        """How a file's speakers were told apart and what TIPs named them."""
        with self.session() as s:
            row = s.scalar(select(db.Transcript).where(db.Transcript.media_id == media_id))
            names = {n.speaker: n.name for n in s.scalars(
                select(SpeakerName).where(SpeakerName.media_id == media_id))}
        if row is None:
            return SpeakerState(None, {}, names)
        info = json.loads(row.speaker_info) if row.speaker_info else {}
        return SpeakerState(row.speaker_status, info, names)

    def speakers_of(self, media_id: int) -> list[str]:
        """The speakers a file's transcript has, the wearer first, then in order."""
        with self.session() as s:
            found = {sp for sp in s.scalars(select(db.Segment.speaker).where(
                db.Segment.media_id == media_id)) if sp}
        return sorted(found, key=speaker_number)

    def rename_speaker(self, media_id: int, speaker: str, name: str, *, by: int,
                       review_item_id: int | None) -> None:
        """A TIP's name for one of a file's speakers ("" gives the default name back)."""
        if speaker not in self.speakers_of(media_id):
            raise NotFoundError(f"media {media_id} has no speaker {speaker!r}")
        with self.session() as s:
            s.execute(delete(SpeakerName).where(SpeakerName.media_id == media_id,
                                                   SpeakerName.speaker == speaker))
            if name:
                s.add(SpeakerName(media_id=media_id, speaker=speaker, name=name,
                                     review_item_id=review_item_id, set_by=by,
                                     set_at=clock.now()))

    def move_line(self, media_id: int, idx: int, to_speaker: str, *, by: int,
                  review_item_id: int | None) -> SpeakerMove:
        """Give one transcript line (and its words) to another speaker, and keep the move.

        The target is one of the file's speakers, the wearer, or the next new speaker.
        """
        known = self.speakers_of(media_id)
        allowed = {*known, WEARER, next_speaker(known)}
        if not _SPEAKER_ID.match(to_speaker) or to_speaker not in allowed:
            raise InvalidRequestError(
                f"cannot move a line to {to_speaker!r}: choose one of "
                f"{', '.join(sorted(allowed))}")
        with self.session() as s:
            row = s.scalar(select(db.Segment).where(db.Segment.media_id == media_id,
                                                    db.Segment.idx == idx))
            if row is None:
                raise NotFoundError(f"media {media_id} has no transcript line {idx}")
            move = SpeakerMove(
                media_id=media_id, start_s=row.start_s, end_s=row.end_s,
                from_speaker=row.speaker, to_speaker=to_speaker, text=row.text,
                review_item_id=review_item_id, set_by=by, set_at=clock.now())
            s.add(move)
            words = json.loads(row.words_json)
            for w in words:
                w["speaker"] = to_speaker
            row.speaker, row.words_json = to_speaker, json.dumps(words)
        return move

    def transcript_line(self, media_id: int, idx: int) -> db.Segment | None:
        """One line (segment row) of a file's transcript by its index, if there is one."""
        with self.session() as s:
            return s.scalar(select(db.Segment).where(db.Segment.media_id == media_id,
                                                     db.Segment.idx == idx))

    def speaker_feedback(self) -> list[SpeakerFeedback]:
        """TIPs' moves of lines between speakers as feedback, one per line, by file and time.

        A line moved twice counts once: from the speaker the stage gave it to where the last
        move put it, by whoever moved it last. Files retention deleted are left out.
        """
        with self.session() as s:
            rows = s.execute(
                select(SpeakerMove, db.UserAccount.name, first_name(SpeakerMove.media_id))
                .join(db.Media, db.Media.id == SpeakerMove.media_id)
                .outerjoin(db.UserAccount, db.UserAccount.id == SpeakerMove.set_by)
                .where(db.Media.state != "deleted").order_by(SpeakerMove.id)).all()
        lines: dict[tuple[int, float, float], SpeakerFeedback] = {}
        for move, who, source in rows:
            key = (move.media_id, move.start_s, move.end_s)
            first = lines.get(key)
            lines[key] = SpeakerFeedback(
                media_id=move.media_id, source=source, start_s=move.start_s, end_s=move.end_s,
                text=move.text.strip(),
                from_speaker=first.from_speaker if first else move.from_speaker,
                to_speaker=move.to_speaker, reviewer=web_actor(who or f"user:{move.set_by}"),
                at=move.set_at, review_item_id=move.review_item_id)
        return sorted(lines.values(), key=lambda f: (f.media_id, f.start_s))

    def speaker_names_by_media(self) -> dict[int, dict[str, str]]:
        """Every name TIPs gave a speaker, by media item (for exports)."""
        out: dict[int, dict[str, str]] = {}
        with self.session() as s:
            for row in s.scalars(select(SpeakerName)):
                out.setdefault(row.media_id, {})[row.speaker] = row.name
        return out

    def speaker_status_by_media(self) -> dict[int, str | None]:
        """How each transcribed file's speakers were told apart (for exports and reports)."""
        with self.session() as s:
            rows = s.execute(select(db.Transcript.media_id, db.Transcript.speaker_status))
            return {media_id: status for media_id, status in rows}

    def set_flag_speakers(self, media_id: int, segments: Sequence[Segment]) -> int:
        """Give each of a file's flags the speaker most of its words have now; how many
        changed."""
        words = [w for seg in segments for w in seg.words]
        changed = 0
        with self.session() as s:
            for flag in s.scalars(select(db.Flag).where(db.Flag.media_id == media_id)):
                said = majority_speaker([w.speaker for w in words
                                         if w.end_s > flag.start_s and w.start_s < flag.end_s])
                speaker = said or "unknown"
                if speaker != flag.speaker:
                    flag.speaker, changed = speaker, changed + 1
        return changed

    def speaker_moves(self, media_id: int | None = None) -> list[SpeakerMove]:
        """TIPs' moves of lines between speakers (of one file, or all), oldest first."""
        query = select(SpeakerMove).order_by(SpeakerMove.id)
        if media_id is not None:
            query = query.where(SpeakerMove.media_id == media_id)
        with self.session() as s:
            return list(s.scalars(query))
