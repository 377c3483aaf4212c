"""A trainer's decisions on the proposed redactions: applied to the words, read back from a
review file, and every bad entry refused with where it is."""

from __future__ import annotations

import copy
import json

import pytest
from test_pii import segments

from pipeline.errors import InvalidRequestError
from pipeline.teach.pii import Changes, find_pii, load_pii_nlp, word_list
from pipeline.teach.review_doc import FORMAT, MomentTexts, Review, read_review, review_document


@pytest.fixture(scope="module")
def nlp():
    return load_pii_nlp()


SPEECH = (" My name is Sarah Miller and I am fifteen.", " I live at 22 Church Street, Leeds.",
          " He took my phone and hit me.")
FEEDBACK = " Good that Sarah was believed."


def texts(nlp, speech=SPEECH, feedback=FEEDBACK, *, aid: int = 7) -> MomentTexts:
    spoken, said = segments(*speech), segments(feedback, start_s=0.0)
    return MomentTexts(annotation_id=aid, source_sha256="ab" * 32, duration_s=20.0, has_video=True,
                       speech=spoken, feedback=said, proposed_speech=find_pii(spoken, nlp=nlp),
                       proposed_feedback=find_pii(said, nlp=nlp))


def _index(segs, word: str) -> int:
    return next(i for i, w in enumerate(word_list(segs)) if w.word.strip(" ,.") == word)


def test_proposals_are_stable_and_changes_apply_to_the_words(nlp) -> None:
    spoken = segments(*SPEECH)
    first, again = find_pii(spoken, nlp=nlp), find_pii(spoken, nlp=nlp)
    assert first.proposals == again.proposals and first.proposals
    name = next(p for p in first.proposals if p.kind == "NAME")
    assert name.id == f"w{name.first}-{name.last}" and name.start_s < name.end_s
    # The trainer keeps the name (a reason is the review's business), and adds "phone".
    phone = _index(spoken, "phone")
    changed = find_pii(spoken, nlp=nlp, changes=Changes(
        removed=frozenset({name.id}), words=((phone, phone, "NUMBER"),), times=((15.0, 15.5, "NAME"),)))
    text = " ".join(s.text for s in changed.segments)
    assert "Sarah Miller" in text and "my [NUMBER]" in text and "phone" not in text
    assert "Church Street" not in text  # the other proposals stand
    assert changed.proposals == first.proposals  # what was proposed, before the changes
    assert [r.by for r in changed.redactions if r.kind == "NUMBER"] == ["trainer"]
    assert all(r.by == "automatic" for r in changed.redactions if r.kind != "NUMBER")
    assert (15.0, 15.5) in changed.windows  # a time range is toned out even with no word in it
    assert not any(r.kind == "NAME" and r.start_s == name.start_s for r in changed.redactions)


def test_a_review_file_round_trips_the_trainers_decisions(nlp) -> None:
    moment = texts(nlp)
    doc = json.loads(json.dumps(review_document([moment], exporter="tom")))
    assert doc["format"] == FORMAT and doc["exporter"] == "tom" and "how_to" in doc
    entry = doc["moments"][0]
    assert [w[3] for w in entry["speech"]["words"]][:3] == ["My", "name", "is"]
    proposed = entry["speech"]["proposed"]
    assert all(p["redact"] is True for p in proposed)
    name = next(p for p in proposed if p["kind"] == "NAME")
    assert name["text"] == "Sarah Miller"
    name.update(redact=False, reason="a made-up name used in training")
    entry["speech"]["added"].append({"start_s": 12.0, "end_s": 13.0, "kind": "NAME"})
    entry["feedback"]["added"].append({"words": [3, 3], "kind": "NAME"})
    entry["boxes"].append({"start_s": 0, "end_s": 4, "x": 0.1, "y": 0.7, "width": 0.3,
                           "height": 0.1, "what": "number plate"})
    review = read_review(doc, [moment], route="review file r.json")
    decided = review.of(7)
    assert review.how == "reviewed" and decided.speech.removed == {name["id"]}
    assert decided.speech.times == ((12.0, 13.0, "NAME"),)
    assert decided.feedback.words == ((3, 3, "NAME"),)
    assert decided.boxes[0].what == "number plate" and decided.boxes[0].width == 0.3
    manifest = review.manifest(moment, "tom")
    assert manifest["removed"] == [{"where": "speech", "kind": "NAME", "start_s": round(
        next(p for p in moment.proposed_speech.proposals if p.id == name["id"]).start_s, 2),
        "end_s": manifest["removed"][0]["end_s"], "reason": "a made-up name used in training"}]
    assert {(a["where"], a["how"]) for a in manifest["added"]} == {("speech", "time range"),
                                                                  ("feedback", "words")}
    assert "Sarah" not in json.dumps(manifest)  # kinds, times and reasons; never the words
    assert Review.accept_proposed().manifest(moment, "tom")["how"] == "accepted-proposed"


@pytest.mark.parametrize("edit,problem", [
    (lambda d: d["moments"][0]["speech"]["proposed"][0].update(redact=False),
     "moments[0].speech.proposed[0]: say why the words stay (\"reason\")"),
    (lambda d: d["moments"][0]["speech"]["proposed"][0].update(id="w999-1000"),
     "moments[0].speech.proposed[0]: no proposal 'w999-1000' in this moment"),
    (lambda d: d["moments"][0]["speech"]["added"].append({"words": [5, 999], "kind": "NAME"}),
     "moments[0].speech.added[0]: \"words\" must be [first, last] word numbers between 0 and"),
    (lambda d: d["moments"][0]["speech"]["added"].append({"words": [1, 2], "kind": "SECRET"}),
     "moments[0].speech.added[0]: \"kind\" must be one of EMAIL, PHONE"),
    (lambda d: d["moments"][0]["feedback"]["added"].append({"start_s": 1, "end_s": 2, "kind": "NAME"}),
     "moments[0].feedback.added[0]: give \"words\": [first, last]"),
    (lambda d: d["moments"][0]["speech"]["added"].append({"start_s": 5, "end_s": 25, "kind": "NAME"}),
     "or \"start_s\" and \"end_s\" with 0 <= start_s < end_s <= 20.000"),
    (lambda d: d["moments"][0]["boxes"].append({"start_s": 0, "end_s": 1, "x": 0.9, "y": 0.1,
                                                "width": 0.2, "height": 0.1}),
     "moments[0].boxes[0]: a box needs 0 <= start_s < end_s <= 20.000 and x, y, width, height"),
    (lambda d: d["moments"][0].update(transcript_sha256="0" * 64),
     "the transcript or feedback of annotation 7 has changed since the review file was written"),
    (lambda d: d["moments"][0].update(annotation_id=8),
     "moments[0]: annotation 8 is not among the moments being exported; annotation 7 is not "
     "reviewed in the file"),
    (lambda d: d["moments"].append(copy.deepcopy(d["moments"][0])),
     "moments[1]: annotation 7 is reviewed twice"),
    (lambda d: d.update(format="something else"), "not a bwv review file"),
])
def test_every_bad_entry_is_refused_with_where_it_is(nlp, edit, problem) -> None:
    moment = texts(nlp)
    doc = review_document([moment], exporter="tom")
    edit(doc)
    with pytest.raises(InvalidRequestError) as caught:
        read_review(doc, [moment], route="review file")
    assert problem in str(caught.value)


def test_a_box_on_audio_only_footage_is_refused(nlp) -> None:
    moment = texts(nlp)
    audio = MomentTexts(**{**vars(moment), "has_video": False})
    doc = review_document([audio], exporter="tom")
    doc["moments"][0]["boxes"].append({"start_s": 0, "end_s": 1, "x": 0, "y": 0, "width": 1, "height": 1})
    with pytest.raises(InvalidRequestError, match="annotation 7 has no video to put a box on"):
        read_review(doc, [audio], route="review file")


def test_a_detail_the_second_model_heard_is_proposed_where_the_first_misheard_it(nlp) -> None:
    misheard = segments(" She said I led my forty part role near the shops.")
    heard = segments(" She said I live at 14 Park Road near the shops.")
    alone = find_pii(misheard, nlp=nlp)
    assert not alone.proposals  # nothing personal in the words as the first model heard them
    both = find_pii(misheard, nlp=nlp, heard=heard)
    [proposal] = both.proposals
    assert proposal.heard and proposal.kind == "ADDRESS" and proposal.id.startswith("h")
    assert proposal.first >= 0 and proposal.start_s < proposal.end_s
    text = " ".join(s.text for s in both.segments)
    assert "[ADDRESS]" in text and "near the shops" in text and "She said" in text
    assert (proposal.start_s, proposal.end_s) in both.windows  # the time is toned out
    # The trainer may remove it like any other proposal (with a reason, in the review).
    kept = find_pii(misheard, nlp=nlp, heard=heard, changes=Changes(removed=frozenset({proposal.id})))
    assert "[ADDRESS]" not in " ".join(s.text for s in kept.segments) and not kept.windows
    # Where the first transcript's own proposal covers it already, nothing is added twice.
    same = segments(" She said I live at 14 Park Road near the shops.")
    assert not any(p.heard for p in find_pii(same, nlp=nlp, heard=heard).proposals)
