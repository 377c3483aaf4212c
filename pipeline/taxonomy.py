"""The taxonomy of rubric categories and the labels a TIP can give a moment.

The categories, their families and who says each are described in
``rubrics/README.md``; every rubric must define them all. This sits at the bottom of the
house because the store filters by taxonomy id and the rubric, the review app and the
teaching export all name categories.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

#: Who must say a category's words for a match to be a flag of it (a rubric's ``said_by``):
#: the camera wearer, any other voice, or anyone at all.
SaidBy = Literal["wearer", "others", "anyone"]

#: The speaker label of the officer wearing the camera (other voices are "speaker 2", ...).
WEARER = "wearer"

#: Every category id of the shared taxonomy (rubrics/README.md); a rubric must define them all.
TAXONOMY: dict[str, str] = {
    "ace.abuse": "disclosure",
    "ace.neglect": "disclosure",
    "ace.household_violence": "disclosure",
    "ace.household_dysfunction": "disclosure",
    "harm.domestic_abuse": "disclosure",
    "harm.self": "disclosure",
    "harm.exploitation": "disclosure",
    "safeguarding.child": "disclosure",
    "distress": "disclosure",
    "practice.explain": "practice",
    "practice.safety": "practice",
    "practice.choice": "practice",
    "practice.validate": "practice",
    "practice.curious": "practice",
    "practice.signpost": "practice",
    "concern.blame": "concern",
    "concern.dismiss": "concern",
    "concern.threat": "concern",
    "concern.profanity": "concern",
}

#: Who says each category's words (rubrics/README.md, "Rules of judgement"): the officer
#: wearing the camera for practice and concerns, whose practice the feedback is about; the
#: other voices for disclosures; anyone for a child at risk (an officer who says "the children
#: are upstairs" is reporting a child at risk too). The shipped rubric follows it.
SAID_BY: dict[str, SaidBy] = {
    category: "wearer" if family in ("practice", "concern") else "others"
    for category, family in TAXONOMY.items()
} | {"safeguarding.child": "anyone"}

#: Labels a TIP can give an annotated moment beside the taxonomy's categories.
PRACTICE_LABELS = ("good practice", "missed opportunity", "safeguarding follow-up")

#: Every label an annotation may carry.
LABELS: tuple[str, ...] = (*TAXONOMY, *PRACTICE_LABELS)


def taxonomy_parent(category_id: str) -> str | None:
    """The taxonomy id a (sub-)category counts as: itself or its nearest listed ancestor."""
    parts = category_id.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in TAXONOMY:
            return candidate
    return None


def taxonomy_id(category_id: str) -> str:
    """The taxonomy id a flag counts as when filtered (a sub-category counts as its parent)."""
    return taxonomy_parent(category_id) or category_id


def said_by_allows(said_by: SaidBy, speaker: str | None) -> bool:
    """Whether words said by ``speaker`` can be a flag of a category with this ``said_by``.

    An unknown speaker (None: speakers not told apart) is allowed everywhere, so that a
    disclosure is never lost because speaker turns failed.
    """
    if speaker is None or said_by == "anyone":
        return True
    return (speaker == WEARER) == (said_by == "wearer")


def majority_speaker(speakers: Sequence[str | None]) -> str | None:
    """Who said a run of words: the speaker of most of them, a tie going to the first to speak.

    None (unknown) counts as a speaker like any other, so a match mostly of words with no
    speaker is unknown and flags by language alone.
    """
    if not speakers:
        return None
    counts = Counter(speakers)
    best = max(counts.values())
    return next(s for s in speakers if counts[s] == best)
