"""Incident types (issue 18): the evidence system's free text ("Domestic - verbal", "MISPER",
"S136", "ASB youths") mapped to a short list by words, which an instance may change in
``BWV_HOME/incident_types.yaml``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from pipeline.errors import ConfigError

#: The short list incident types are mapped to, with the words shown for each.
INCIDENT_TYPES: Mapping[str, str] = {
    "domestic_abuse": "domestic abuse",
    "missing_person": "missing person",
    "violence_weapons": "violence or weapons",
    "exploitation": "exploitation",
    "antisocial_behaviour": "anti-social behaviour",
    "mental_health": "mental health",
    "other": "other",
}

#: Words in the evidence system's free text that name each type, tried in this order (the
#: first type with a word in the text wins; none: ``other``). An instance's
#: ``incident_types.yaml`` replaces the words of the types it lists.
DEFAULT_TERMS: Mapping[str, tuple[str, ...]] = {
    "domestic_abuse": ("domestic", "da", "dv", "coercive control", "coercive", "stalking",
                       "honour based", "domestic abuse", "domestic violence"),
    "exploitation": ("exploitation", "cse", "cce", "county lines", "trafficking",
                     "modern slavery", "grooming", "cuckooing"),
    "missing_person": ("missing", "mfh", "misper", "absent", "absconded"),
    "mental_health": ("mental health", "mh", "s136", "section 136", "concern for welfare",
                      "welfare", "suicidal", "suicide", "self harm", "crisis"),
    "violence_weapons": ("violence", "violent", "assault", "abh", "gbh", "wounding", "weapon",
                         "weapons", "knife", "knives", "bladed", "firearm", "firearms", "gun",
                         "stabbing", "stab", "affray", "robbery", "shooting"),
    "antisocial_behaviour": ("asb", "anti social", "antisocial", "nuisance", "disorder",
                             "public order", "criminal damage"),
}


def incident_terms(home: Path | None) -> dict[str, tuple[str, ...]]:
    """The words per incident type: the defaults, with an instance's ``incident_types.yaml``
    (``{type: [words, ...]}``, types from :data:`INCIDENT_TYPES`) replacing the ones it lists."""
    terms = dict(DEFAULT_TERMS)
    path = home / "incident_types.yaml" if home else None
    if path is None or not path.exists():
        return terms
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the incident types: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of incident type to a list of words")
    for key, words in data.items():
        if key not in INCIDENT_TYPES or key == "other":
            raise ConfigError(f"{path}: unknown incident type {key!r}; the types are "
                              + ", ".join(k for k in INCIDENT_TYPES if k != "other"))
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise ConfigError(f"{path}: {key}: expected a list of words")
        terms[key] = tuple(words)
    return terms


def _words(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split()) + " "


class IncidentTypes:
    """Maps an evidence system's free text to the short list, each distinct text once."""

    def __init__(self, terms: Mapping[str, tuple[str, ...]]) -> None:
        self._terms = [(key, tuple(_words(w) for w in words)) for key, words in terms.items()]
        self._seen: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if text not in self._seen:
            said = _words(text)
            self._seen[text] = next((key for key, words in self._terms
                                     if any(w in said for w in words)), "other")
        return self._seen[text]


def incident_type(text: str, terms: Mapping[str, tuple[str, ...]]) -> str:
    """The short-list type of an evidence system's free text (``other`` when none fits)."""
    return IncidentTypes(terms)(text)
