"""What a teaching pack says about each moment: its manifest, and the trainer's handout.

Both state exactly what was done to the footage (:func:`what_was_done`), never more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from pipeline import __version__
from pipeline.flagging.rubric import Rubric
from pipeline.records import Segment
from pipeline.store import Store
from pipeline.store import schema as db
from pipeline.store.accounts import web_actor
from pipeline.teach.pii_audio import AUDIO_LEAD_S, AUDIO_PAD_S, MERGE_GAP_S

_TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Seconds of footage kept either side of the annotated range.
PAD_S = 3.0


@dataclass(frozen=True)
class Moment:
    """An annotation checked for export: its file and the padded range to cut."""

    annotation: db.Annotation
    labels: list[str]
    media: db.Media
    original: Path
    start_s: float
    end_s: float


#: How the handout names each kind of personal detail (one, several).
_KIND_WORDS = {"EMAIL": ("email address", "email addresses"), "PHONE": ("phone number", "phone numbers"),
               "POSTCODE": ("postcode", "postcodes"), "VEHICLE": ("vehicle registration", "vehicle registrations"),
               "DOB": ("date of birth", "dates of birth"), "ADDRESS": ("address", "addresses"),
               "NAME": ("name", "names"), "PLACE": ("place", "places"),
               "ID": ("identity number", "identity numbers"), "NUMBER": ("number", "numbers")}


def _counted(counts: dict[str, int]) -> str:
    parts = [f"{n} {_KIND_WORDS.get(kind, (kind.lower(), kind.lower()))[n != 1]}"
             for kind, n in counts.items() if n]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


def what_was_done(redaction: dict[str, Any]) -> list[str]:
    """What the pack's redaction did, in plain words, from its manifest: never more than was done."""
    faces = redaction["faces"]
    if faces.get("detector") is None:
        lines = ["No video: this moment is audio only."]
    else:
        lines = [f"Faces: the automatic detector ({faces['detector']}) looked at "
                 f"{faces['frames_detected']} of the clip's {faces['frames']} frames and found faces "
                 f"in {faces['frames_with_faces']} of them; the regions it found are blurred, "
                 f"{faces['frames_blurred']} frames in all."]
    second = faces.get("checked_before_writing")
    if second:
        lines.append(f"Before the pack was written, a second, different face detector "
                     f"({second['detector'].split(' (')[0]}) looked at {second['frames_checked']} of "
                     f"the redacted clip's {second['frames_total']} frames and found no face in two "
                     f"checked frames in a row.")
    if faces.get("frames_with_boxes"):
        lines.append(f"Regions the trainer marked on the picture are blurred in "
                     f"{faces['frames_with_boxes']} frames.")
    review = redaction.get("review") or {}
    transcript = _counted(redaction["transcript"])
    found = "found automatically" if not review.get("added") else "found automatically or marked"
    lines.append(f"Personal details {found} and replaced in the transcript and by a tone "
                 f"in the audio: {transcript}." if transcript else
                 "No personal details were replaced in the transcript or audio.")
    feedback = _counted(redaction["feedback"])
    if feedback:
        lines.append(f"Replaced in the practitioner's feedback: {feedback}.")
    if review.get("how") == "reviewed":
        kept, added = len(review["removed"]), len(review["added"])
        lines.append(f"{review['by']} reviewed the proposed redactions before export: "
                     f"{kept} kept unredacted, with a reason recorded in the manifest; {added} added.")
    elif review.get("how") == "accepted-proposed":
        lines.append("The proposed redactions were accepted without a person reviewing them.")
    checked = redaction.get("checked_before_writing")
    if checked:
        lines.append(f"Before the pack was written, its redacted audio was transcribed again by a "
                     f"second model ({checked['verifier']}), and what it heard, the subtitles and "
                     f"the feedback were checked again: nothing personal was found.")
        lines.append("Automatic checks can still miss what neither model heard clearly.")
    else:
        lines.append("Automatic detection works on the words as transcribed and can miss what was "
                     "misheard; nothing else was checked.")
    return lines


def render_handout(moment: Moment, segments: Sequence[Segment], feedback: str,
             flags: Sequence[dict[str, Any]], exported: dict[str, Any],
             redaction: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True)
    return env.get_template("handout.html").render(
        moment=moment, annotation=moment.annotation, labels=moment.labels, segments=segments,
        feedback=feedback, flags=flags, exported=exported, version=__version__,
        done=what_was_done(redaction),
    )


def build_manifest(moment: Moment, redacted: Any, feedback: Any, faces: dict[str, Any],
                   exported: dict[str, Any], *, toned: list[tuple[float, float]],
                   files: dict[str, str]) -> dict[str, Any]:
    """What the pack's folder for one moment holds, and what was done to it."""
    kinds: Counter[str] = Counter(r.kind for r in redacted.redactions)
    return {
        "annotation_id": moment.annotation.id,
        "source": {"sha256": moment.media.sha256, "duration_s": moment.media.duration_s,
                   "has_video": bool(moment.media.has_video)},
        "range": {"start_s": round(moment.start_s, 3), "end_s": round(moment.end_s, 3),
                  "annotated_start_s": moment.annotation.start_s,
                  "annotated_end_s": moment.annotation.end_s, "padding_s": PAD_S},
        "redaction": {
            "transcript": dict(sorted(kinds.items())),
            "feedback": dict(sorted(Counter(r.kind for r in feedback.redactions).items())),
            "audio": {"replaced_with": "1 kHz tone", "padding_s": AUDIO_PAD_S, "lead_s": AUDIO_LEAD_S,
                      "merge_gap_s": MERGE_GAP_S, "windows_s": [list(w) for w in toned]},
            "faces": faces,
        },
        "labels": moment.labels,
        "rating": moment.annotation.rating,
        "export": exported,
        "files": files,
    }


def flags_in(store: Store, rubric: Rubric, moment: Moment) -> list[dict[str, Any]]:
    """The rubric's guidance for each flag in the moment (category and time; not its words),
    and whether the TIP who wrote the annotation judged it not relevant (``"not_relevant"``)
    or confirmed it (``"confirmed"``); None where they said nothing."""
    flags = store.flags_between(moment.media.id, moment.start_s, moment.end_s)
    author = store.user_by_id(moment.annotation.author_id)
    judged = (store.flag_feedback_kinds([f.id for f in flags], reviewer=web_actor(author.name))
              if author is not None else {})
    return [{"category": flag.category, "family": flag.family,
             "at_s": round(max(0.0, flag.start_s - moment.start_s), 2),
             "guidance": rubric.guidance_for(flag.category), "judged": judged.get(flag.id)}
            for flag in flags]
