"""Microsoft Presidio's recognisers for UK formats, run on the spaCy parse bwv already made.

Presidio (``presidio-analyzer``) is the maintained engine for personal data in text; bwv
uses its UK recognisers (postcodes, vehicle registrations, NHS and National Insurance
numbers, passports, driving licences) and its phone recogniser (Google's
``phonenumbers``, UK numbering plan) beside its own rules for speech
(:mod:`pipeline.teach.pii_rules`, :mod:`pipeline.teach.pii_cues`). Nothing is loaded
or fetched: Presidio is handed the spaCy pipeline and the parse that bwv made, and its
e-mail and URL recognisers, which look up domain suffixes on the network, are not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.teach.pii_cues import PUBLIC_NUMBERS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Span = tuple[str, int, int]

#: Presidio's entity -> bwv's kind of personal detail.
ENTITY_KINDS = {
    "UK_POSTCODE": "POSTCODE",
    "UK_VEHICLE_REGISTRATION": "VEHICLE",
    "PHONE_NUMBER": "PHONE",
    "UK_NHS": "ID",
    "UK_NINO": "ID",
    "UK_PASSPORT": "ID",
    "UK_DRIVING_LICENCE": "ID",
}


@cache
def _analyzer(nlp: Language) -> tuple[Any, Any]:
    """An AnalyzerEngine with only the recognisers above, over this spaCy pipeline."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer
    from presidio_analyzer.predefined_recognizers.country_specific import uk

    # Presidio's own spaCy-entity recogniser is not used (bwv's rules read the entities), so
    # none of spaCy's labels are handed on; otherwise Presidio warns about each it cannot map.
    labels = getattr(nlp.get_pipe("ner"), "labels", ()) if "ner" in nlp.pipe_names else ()
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": nlp.meta.get("name", "en")}],
                            ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(labels)))
    engine.nlp = {"en": nlp}  # type: ignore[assignment]  # bwv's pipeline: Presidio loads none
    registry = RecognizerRegistry(supported_languages=["en"])
    for recogniser in (uk.uk_postcode_recognizer.UkPostcodeRecognizer(),
                       uk.uk_vehicle_registration_recognizer.UkVehicleRegistrationRecognizer(),
                       uk.uk_nhs_recognizer.NhsRecognizer(), uk.uk_nino_recognizer.UkNinoRecognizer(),
                       uk.uk_passport_recognizer.UkPassportRecognizer(),
                       uk.uk_driving_licence_recognizer.UkDrivingLicenceRecognizer(),
                       PhoneRecognizer(supported_regions=("GB",))):
        if isinstance(recogniser, (uk.uk_postcode_recognizer.UkPostcodeRecognizer,
                                   uk.uk_vehicle_registration_recognizer.UkVehicleRegistrationRecognizer)):
            # Whisper writes codes in capitals; in any case, "M1 for" and "A1 3rd" would match.
            recogniser.global_regex_flags = re.DOTALL | re.MULTILINE
        registry.add_recognizer(recogniser)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"]), engine


def presidio_spans(text: str, doc: Doc, nlp: Language) -> Iterator[Span]:
    """What Presidio's UK recognisers find in ``text``, whose spaCy parse is ``doc``."""
    analyzer, engine = _analyzer(nlp)
    # The parse bwv already made, as Presidio's artefacts: spaCy does not run twice.
    artifacts = engine._doc_to_nlp_artifact(doc, "en")  # noqa: SLF001 - Presidio's own converter
    for result in analyzer.analyze(text=text, language="en", entities=list(ENTITY_KINDS),
                                   nlp_artifacts=artifacts):
        if re.sub(r"\D", "", text[result.start:result.end]) not in PUBLIC_NUMBERS:
            yield ENTITY_KINDS[result.entity_type], result.start, result.end
