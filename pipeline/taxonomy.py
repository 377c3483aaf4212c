"""The taxonomy of rubric categories and the labels a TIP can give a moment.

The categories, their families and who says each are described in
``rubrics/README.md``; every rubric must define them all. This sits at the bottom of the
house because the store filters by taxonomy id and the rubric, the review app and the
teaching export all name categories.
"""

from __future__ import annotations

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
