"""Who says each line on the review page (issue 16, point 4): every line's speaker as a name
and a colour, a speaker renamed and a line moved by the TIP who holds the item, each stored
with who made it, audited, confirmed once, used by the page, its captions and the exports,
and counted as feedback; every refusal audited and answered as the app answers the others.
"""

from __future__ import annotations

import html
import re

import pytest

# The review app's fixtures and browser stand-in (store: world needs it).
from test_review_app import Client, app, store, world  # noqa: F401
from test_review_inputs import BAD, _client, _fields, _headers_problems

from pipeline.records import Segment, Word
from pipeline.store import exports
from pipeline.store.speakers import SpeakerState

#: The speakers the hallway clip's lines are given, in turn: two voices and a third that
#: speaks once (a second officer, say).
TURNS = ("wearer", "speaker 2", "wearer", "speaker 3", "wearer", "speaker 2")


def give_speakers(store, media_id: int, *, status: str = "separated") -> list[Segment]:  # noqa: F811
    """The file's stored lines, given speakers in turn (the words too), as the speaker stage
    stores them; returns them."""
    lines = store.load_segments(media_id)
    assert len(lines) >= 3, "the hallway clip has too few lines for these tests"
    voiced = []
    for i, seg in enumerate(lines):
        who = TURNS[i % len(TURNS)] if status != "without speakers" else None
        if status == "one voice":
            who = "wearer"
        voiced.append(Segment(seg.start_s, seg.end_s, seg.text,
                              tuple(Word(w.start_s, w.end_s, w.word, w.probability, who) for w in seg.words),
                              seg.avg_logprob, seg.no_speech_prob, who, i))
    store.save_speakers(media_id, voiced, status=status, info={"method": "test"})
    return voiced


@pytest.fixture()
def voiced(store, world):  # noqa: F811 - the fixtures
    """The held item's file with speakers: its lines, by index."""
    return give_speakers(store, world["media"])


def lines_of(page: str) -> list[dict]:
    """Each transcript line of a review page: its id and classes, its speaker label (the
    label's classes and words) and what is said."""
    transcript = page[page.index('<div id="transcript"'):page.index('<section class="speakers-pane"')]
    out = []
    for chunk in transcript.split('<div class="line')[1:]:
        head = re.match(r'([^"]*)" id="(line-\d+)"', chunk)
        who = re.search(r'<span class="said-by ([^"]+)">([^<]*)<span class="visually-hidden">:</span></span>',
                        chunk)
        said = re.search(r'<span class="said">(.*?)</span>\n', chunk, re.S)
        assert head is not None and said is not None, chunk[:300]
        out.append({"id": head.group(2), "classes": ["line", *head.group(1).split()],
                    "who_class": who.group(1).split() if who else [], "who": who.group(2) if who else "",
                    "said": html.unescape(" ".join(re.sub(r"<[^>]+>", "", said.group(1)).split()))})
    return out


def _audit(store, action: str, limit: int = 10):  # noqa: F811
    return [(r.actor, r.object, r.detail) for r in
            reversed(store.audit_page(offset=0, limit=limit, action=action)[0])]


# --- what the page shows -------------------------------------------------------------------------


def test_every_line_says_its_speaker_in_words_and_a_colour(app, store, world, voiced) -> None:  # noqa: F811
    page = Client(app, "alice").get(f"/items/{world['item']}").text
    shown = lines_of(page)
    assert [line["id"] for line in shown] == [f"line-{i}" for i in range(len(voiced))]
    names = {"wearer": "Wearer", "speaker 2": "Speaker 2", "speaker 3": "Speaker 3"}
    colours = {"wearer": "voice-w", "speaker 2": "voice-1", "speaker 3": "voice-2"}
    for line, seg in zip(shown, voiced, strict=True):
        assert line["who"] == names[seg.speaker], line  # the name in words, never colour alone
        assert colours[seg.speaker] in line["who_class"] and colours[seg.speaker] in line["classes"]
        assert line["said"] == " ".join(seg.text.split())
    # The file's speakers, each with a form to name it; no word that flags went by language alone.
    assert re.findall(r'<label for="rename-(\d+)">Name for ([^<]+)</label>', page) == [
        ("1", "Wearer"), ("2", "Speaker 2"), ("3", "Speaker 3")]
    assert "without knowing who spoke" not in page
    # Each line's own form: the file's other speakers and a new one, as the select offers them.
    form = page[page.index('id="move-0"'):]
    form = form[:form.index("</select>")]
    assert re.findall(r'<option value="([^"]+)">([^<]+)</option>', form) == [
        ("speaker 2", "Speaker 2"), ("speaker 3", "Speaker 3"), ("new", "a new speaker (Speaker 4)")]
    # The flags of the item say who said their words, the same way.
    for flag in store.item_flags(world["item"]):
        said = re.search(rf'id="flag-{flag.id}".*?<span class="said-by (voice-\w)"><span class="visually-hidden">'
                         r"said by </span>([^<]+)</span>", page, re.S)
        assert said is not None, flag.id
        segment = next(s for s in voiced if s.start_s <= (flag.start_s + flag.end_s) / 2 <= s.end_s)
        assert said.groups() == (colours[segment.speaker], names[segment.speaker])


def test_the_wearer_always_has_the_same_colour_and_other_voices_take_turns() -> None:
    from pipeline.review.speakers import voice_class

    assert voice_class("wearer") == "voice-w"
    assert [voice_class(f"speaker {n}") for n in range(2, 10)] == [
        "voice-1", "voice-2", "voice-3", "voice-4", "voice-5", "voice-6", "voice-1", "voice-2"]
    assert voice_class(None) == ""


@pytest.mark.parametrize("status,why", [
    ("one voice", "only one voice was heard"),
    ("without speakers", "the voices could not be told apart"),
])
def test_a_file_whose_speakers_were_not_told_apart_says_so(app, store, world, status, why) -> None:  # noqa: F811
    give_speakers(store, world["media"], status=status)
    page = Client(app, "alice").get(f"/items/{world['item']}").text
    note = re.search(r'<p class="speaker-note" id="speaker-note">([^<]+)</p>', page)
    assert note is not None
    assert note.group(1).startswith(f"Flags on this file were made without knowing who spoke: {why}")
    shown = lines_of(page)
    if status == "one voice":  # the one voice is named on every line
        assert {line["who"] for line in shown} == {"Wearer"}
    else:  # no speaker, no label
        assert {line["who"] for line in shown} == {""}
        assert "No voices were told apart in this file" in page


# --- renaming --------------------------------------------------------------------------------------


def test_a_renamed_speaker_is_stored_audited_confirmed_and_shown_everywhere(app, store, world, voiced) -> None:  # noqa: F811
    alice, item, media = Client(app, "alice"), world["item"], world["media"]
    response = alice.post(f"/items/{item}/speakers", {"speaker": "speaker 2", "name": "  Caller  "})
    assert (response.status_code, response.headers["location"]) == (303, f"/items/{item}#speaker-2")
    assert store.speaker_state(media).names == {"speaker 2": "Caller"}
    assert _audit(store, "speaker_rename") == [
        ("web:alice", f"media:{media}", f"review_item:{item} speaker 2: 'Speaker 2' -> 'Caller'")]
    # Said once, in the speaker's entry the page lands on; the lines and the form use the name.
    page = alice.get(f"/items/{item}").text
    assert ('<li id="speaker-2" tabindex="-1">' in page and '<p class="done" role="status" id="status-message">'
            "Speaker 2 is now called Caller: the transcript, captions and exports use the name.</p>" in page)
    assert "status-message" not in alice.get(f"/items/{item}").text
    assert [line["who"] for line in lines_of(page)] == [
        {"speaker 2": "Caller"}.get(s.speaker or "", s.speaker.capitalize() if s.speaker else "") for s in voiced]
    assert 'id="rename-2" maxlength="60" value="Caller"' in page
    assert '<option value="speaker 2">Caller</option>' in page
    # The player's captions speak in voices, under the names.
    captions = alice.get(f"/items/{item}/media/captions.vtt").text
    assert captions.startswith("WEBVTT\n\n") and "NOTE" not in captions
    cues = re.findall(r"^<v ([^>]+)>", captions, re.M)
    assert cues == [{"speaker 2": "Caller"}.get(s.speaker, s.speaker.capitalize()) for s in voiced
                    if s.text.strip() and s.end_s > s.start_s]
    assert "<v Caller>" in captions and "<v Wearer>" in captions
    # ... and so do the exports.
    rows = [r for r in exports.segment_rows(store) if r["sha256"] == store.get_media(media).sha256]
    assert {r["speaker_name"] for r in rows} == {"Wearer", "Caller", "Speaker 3"}
    assert "<v Caller>" in exports.to_vtt(rows)
    # Empty gives the default name back (so does the default name itself).
    assert alice.post(f"/items/{item}/speakers", {"speaker": "speaker 2", "name": ""}).status_code == 303
    assert store.speaker_state(media).names == {}
    assert "Speaker 2 has its default name again." in alice.get(f"/items/{item}").text
    assert _audit(store, "speaker_rename")[-1] == (
        "web:alice", f"media:{media}",
        f"review_item:{item} speaker 2: 'Caller' -> 'Speaker 2' (the default name)")


# --- moving a line -------------------------------------------------------------------------------


def test_a_moved_line_is_stored_audited_confirmed_shown_and_counted_as_feedback(app, store, world, voiced) -> None:  # noqa: F811
    alice, item, media = Client(app, "alice"), world["item"], world["media"]
    users = world["users"]
    response = alice.post(f"/items/{item}/lines/0/speaker", {"speaker": "speaker 2"})
    assert (response.status_code, response.headers["location"]) == (303, f"/items/{item}#line-0")
    lines = store.load_segments(media)
    assert lines[0].speaker == "speaker 2" and {w.speaker for w in lines[0].words} == {"speaker 2"}
    [move] = store.speaker_moves(media)
    assert (move.from_speaker, move.to_speaker, move.set_by, move.review_item_id) == (
        "wearer", "speaker 2", users["alice"], item)
    assert _audit(store, "speaker_move") == [
        ("web:alice", f"media:{media}",
         f"review_item:{item} line 0 {voiced[0].start_s:.2f}-{voiced[0].end_s:.2f} s: wearer -> speaker 2")]
    page = alice.get(f"/items/{item}").text
    assert re.search(r'<div class="line[^"]*" id="line-0" [^>]*tabindex="-1">', page)
    assert ('<p class="done" role="status" id="status-message">Line moved: Speaker 2 says it now.</p>'
            in page)
    assert lines_of(page)[0]["who"] == "Speaker 2"
    # To a new speaker: one past the highest heard, named as the form said.
    response = alice.post(f"/items/{item}/lines/1/speaker", {"speaker": "new"})
    assert response.status_code == 303
    assert store.load_segments(media)[1].speaker == "speaker 4"
    assert lines_of(alice.get(f"/items/{item}").text)[1]["who"] == "Speaker 4"
    # Moved again: one line, one piece of feedback, from what the stage said to the last word.
    assert alice.post(f"/items/{item}/lines/1/speaker", {"speaker": "wearer"}).status_code == 303
    assert alice.post(f"/items/{item}/speakers", {"speaker": "speaker 2", "name": "Caller"}).status_code == 303
    feedback = store.speaker_feedback()
    assert [(f.media_id, f.from_speaker, f.to_speaker, f.reviewer, f.review_item_id, f.corrected,
             f.said_by) for f in feedback] == [
        (media, "wearer", "speaker 2", "web:alice", item, True, "others"),
        (media, "speaker 2", "wearer", "web:alice", item, True, "wearer"),
    ]
    assert [f.text for f in feedback] == [voiced[0].text.strip(), voiced[1].text.strip()]
    assert all(f.source and "hallway" in f.source and f.at for f in feedback)
    # The captions say it, under the name.
    captions = alice.get(f"/items/{item}/media/captions.vtt").text
    assert captions.split("\n\n")[1].split("\n")[1].startswith("<v Caller>")
    # A flag on a moved line says who says its words now, and who it was flagged for.
    flag = store.item_flags(item)[0]
    idx = next(i for i, s in enumerate(voiced) if s.start_s <= (flag.start_s + flag.end_s) / 2 <= s.end_s)
    store.move_line(media, idx, "speaker 3" if voiced[idx].speaker != "speaker 3" else "wearer",
                    by=users["alice"], review_item_id=item)
    now = store.load_segments(media)[idx].speaker
    page = alice.get(f"/items/{item}").text
    said = re.search(rf'id="flag-{flag.id}".*?<span class="visually-hidden">said by </span>([^<]+)</span>'
                     r'( <span class="hint">\(flagged as said by ([^)]+)\)</span>)?', page, re.S)
    assert said is not None and said.group(1) == {"speaker 2": "Caller"}.get(now, now.capitalize())
    if flag.speaker not in ("unknown", now):
        assert said.group(3) == {"speaker 2": "Caller"}.get(flag.speaker, flag.speaker.capitalize())


# --- refusals --------------------------------------------------------------------------------------


def test_only_the_tip_holding_the_item_corrects_its_speakers(app, store, world, voiced) -> None:  # noqa: F811
    item, media = world["item"], world["media"]
    rename, move = f"/items/{item}/speakers", f"/items/{item}/lines/0/speaker"
    bob, tom, ada = Client(app, "bob"), Client(app, "tom"), Client(app, "ada")
    for who in (bob, tom, ada):
        assert who.post(rename, {"speaker": "speaker 2", "name": "Caller"}).status_code == 403
        assert who.post(move, {"speaker": "speaker 2"}).status_code == 403
    refused = [(r.actor, r.object, r.detail) for r in
               reversed(store.audit_page(offset=0, limit=6, action="refused")[0])]
    assert refused == [
        ("web:bob", rename, f"403 POST: you do not hold review item {item}: claim it first"),
        ("web:bob", move, f"403 POST: you do not hold review item {item}: claim it first"),
        ("web:tom", rename, "403 POST: this page is for the tip role"),
        ("web:tom", move, "403 POST: this page is for the tip role"),
        ("web:ada", rename, "403 POST: this page is for the tip role"),
        ("web:ada", move, "403 POST: this page is for the tip role"),
    ]
    # Signed out: 401; no token: 403.
    assert Client(app).post(rename, {"speaker": "speaker 2", "name": "x"}).status_code == 401
    alice = Client(app, "alice")
    assert alice.post(rename, {"speaker": "speaker 2", "name": "x"}, csrf=False).status_code == 403
    assert store.speaker_state(media).names == {} and store.speaker_moves(media) == []
    # The holder's page has the forms ...
    page = alice.get(f"/items/{item}").text
    assert 'class="rename"' in page and 'class="move-line"' in page
    # ... until she marks it reviewed: read-only, a conflict said as such, and no forms.
    assert alice.post(f"/items/{item}/reviewed").status_code == 303
    for url, form in ((rename, {"speaker": "speaker 2", "name": "Caller"}), (move, {"speaker": "speaker 2"})):
        response = alice.post(url, form)
        assert response.status_code == 409
        assert f"review item {item} was reviewed: it is read-only" in response.text
    assert [r[2] for r in _audit(store, "refused", 2)] == [
        f"409 POST: review item {item} was reviewed: it is read-only, so its speakers can no "
        "longer be corrected here"] * 2
    page = alice.get(f"/items/{item}").text
    assert 'class="rename"' not in page and 'class="move-line"' not in page
    assert '<span class="said-by voice-w">Wearer</span>' in page  # still shown
    assert store.speaker_state(media).names == {} and store.speaker_moves(media) == []


_INVISIBLE = ("the name may hold only visible characters and spaces (no control, zero-width, "
              "direction or filler characters)")


@pytest.mark.parametrize("name,problem", [
    ("Caller\x1b[31m", _INVISIBLE),
    ("Call\u200ber", _INVISIBLE),
    ("Caller\u202e", _INVISIBLE),
    ("Officer\nTwo", _INVISIBLE),
    # What a tester found looked like nothing, or garbled (issue 16's review): fillers,
    # the combining grapheme joiner, undecodable bytes, accents piled on one letter.
    ("\u3164", _INVISIBLE),
    ("x\u034fy", _INVISIBLE),
    ("\ufffd\ufffdab", _INVISIBLE),
    ("A" + "\u0301" * 18, "the name has letters piled with accents: at most two on one letter"),
    ("x" * 61, "the name must be at most 60 characters (it has 61)"),
    ("-- !", "give a name in words, such as Caller or Officer 2, or leave it empty for the default name"),
    # Another voice's name, now or later: a default name is never a TIP's name for a speaker.
    ("speaker 3", "speaker 3 is the name bwv gives a speaker: name a role, such as Caller or Officer 2"),
    (" WEARER ", "WEARER is the name bwv gives a speaker: name a role, such as Caller or Officer 2"),
    ("Speaker 7", "Speaker 7 is the name bwv gives a speaker: name a role, such as Caller or Officer 2"),
])
def test_a_bad_name_comes_back_with_the_problem_by_its_field(app, store, world, voiced, name, problem) -> None:  # noqa: F811
    alice, item = Client(app, "alice"), world["item"]
    response = alice.post(f"/items/{item}/speakers", {"speaker": "speaker 2", "name": name})
    assert response.status_code == 400
    page = response.text
    error = re.search(r'<p class="field-error" id="rename-name-error" role="alert">([^<]*)</p>', page)
    assert error is not None and error.group(1) == problem.replace("'", "&#39;")
    field = re.search(r'<input type="text" name="name" id="rename-2"[^>]*>', page).group(0)
    assert 'aria-describedby="rename-name-error speaker-name-hint"' in field
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert page.count('id="rename-name-error"') == 1  # only by the form that was sent
    assert store.speaker_state(world["media"]).names == {}
    [row] = _audit(store, "refused", 1)
    assert row[:2] == ("web:alice", f"/items/{item}/speakers")
    assert row[2] == f"400 POST: form sent back: {problem}"


def test_a_line_moved_nowhere_comes_back_with_the_problem_by_its_field(app, store, world, voiced) -> None:  # noqa: F811
    alice, item, media = Client(app, "alice"), world["item"], world["media"]
    for target, problem in (("speaker 9", "no speaker 'speaker 9' in this file: choose one of the list, "
                                          "or a new speaker"),
                            ("Caller", "no speaker 'Caller' in this file: choose one of the list, "
                                       "or a new speaker"),
                            ("wearer", "Wearer says this line already: choose another speaker")):
        response = alice.post(f"/items/{item}/lines/2/speaker", {"speaker": target})
        assert response.status_code == 400, target
        page = response.text
        error = re.search(r'<p class="field-error" id="move-speaker-error" role="alert">([^<]*)</p>', page)
        assert error is not None and error.group(1) == problem.replace("'", "&#39;")
        assert re.search(r'<details class="move-line" open>\s*<summary>Change speaker<span '
                         r'class="visually-hidden"> of the line at [0-9:]+</span></summary>\s*'
                         r'<form method="post" action="/items/\d+/lines/2/speaker">', page)
        assert ('<select name="speaker" id="move-2" aria-invalid="true" '
                'aria-describedby="move-speaker-error" autofocus>') in page
        assert _audit(store, "refused", 1)[0][2] == f"400 POST: form sent back: {problem}"
    # A line the item does not show, or no such speaker to name: not found.
    assert alice.post(f"/items/{item}/lines/99999/speaker", {"speaker": "wearer"}).status_code == 404
    assert alice.post(f"/items/{item}/speakers", {"speaker": "speaker 9", "name": "Child"}).status_code == 404
    assert _audit(store, "refused", 2) == [
        ("web:alice", f"/items/{item}/lines/99999/speaker",
         f"404 POST: review item {item} shows no transcript line 99999"),
        ("web:alice", f"/items/{item}/speakers",
         f"404 POST: the file of review item {item} has no speaker 'speaker 9'"),
    ]
    assert store.speaker_moves(media) == [] and store.load_segments(media)[2].speaker == "wearer"


def test_a_line_outside_the_items_part_of_the_file_is_not_the_tips_to_move(app, store, world) -> None:  # noqa: F811
    """Only the lines the page shows (the item and 30 s either side) may be moved."""
    media, item = world["media"], world["item"]
    view = store.item_view(item)
    end = (view.media.duration_s or 0) + 100
    far = Segment(end - 2, end - 1, " far away", (Word(end - 2, end - 1, " far", 0.9, "wearer"),),
                  speaker="wearer")
    store.save_speakers(media, [*give_speakers(store, media), far], status="separated", info={})
    idx = len(store.load_segments(media)) - 1
    response = Client(app, "alice").post(f"/items/{item}/lines/{idx}/speaker", {"speaker": "speaker 2"})
    assert response.status_code == 404
    assert store.load_segments(media)[idx].speaker == "wearer"


def test_out_of_range_values_never_reach_a_server_error(app, world, voiced) -> None:  # noqa: F811
    """The speaker routes, as tests/test_review_inputs.py sends every other route."""
    http = _client(app, "alice")
    failures = []
    for path, form in ((f"/items/{world['item']}/speakers", {"speaker": "speaker 2", "name": "Caller"}),
                       (f"/items/{world['item']}/lines/0/speaker", {"speaker": "speaker 3"})):
        pattern = re.sub(r"/\d+", "/{x}", path)
        for name, (where, kind, many) in _fields("POST", pattern).items():
            for value in BAD[kind]:
                url, data = path, dict(form)
                if where == "path":
                    if not value or "/" in value:
                        continue
                    url = path.replace(f"/{world['item']}/", f"/{value}/") if name == "item_id" else \
                        path.replace("/lines/0/", f"/lines/{value}/")
                else:
                    data[name] = [value] if many else value
                response = http.post(url, data=data)
                if response.status_code >= 500 or _headers_problems(response):
                    failures.append(f"{path} {name}={value[:24]!r}: {response.status_code}")
    assert failures == []


# --- captions and feedback, as functions ---------------------------------------------------------


def test_captions_are_the_exports_vtt_with_voices_under_the_tips_names() -> None:
    from pipeline.review.items import captions_vtt

    state = SpeakerState("separated", {}, {"speaker 2": "Caller <b>&"})
    vtt = captions_vtt([
        Segment(0.0, 1.5, " a --> b & <c.x>", (), speaker="wearer"),
        Segment(2.0, 2.0, "no time", (), speaker="wearer"), Segment(3.0, 4.0, "   ", ()),  # dropped
        Segment(3725.5, 3726.25, "later", (), speaker="speaker 2"),
        Segment(3727.0, 3728.0, "nobody", ()),
    ], speakers=state)
    assert vtt == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v Wearer>a --&gt; b &amp; &lt;c.x&gt;\n\n"
                   "01:02:05.500 --> 01:02:06.250\n<v Caller &lt;b&gt;&amp;>later\n\n"
                   "01:02:07.000 --> 01:02:08.000\nnobody\n")


def test_the_teaching_review_says_who_speaks_under_the_tips_names(app, store, world, voiced) -> None:  # noqa: F811
    """A trainer reviewing a moment's redactions reads who says the words too."""
    alice, tom, item = Client(app, "alice"), Client(app, "tom"), world["item"]
    assert alice.post(f"/items/{item}/speakers", {"speaker": "wearer", "name": "Officer 1"}).status_code == 303
    assert alice.post(f"/items/{item}/reviewed").status_code == 303  # the draft is submitted
    page = tom.post("/teach/review", {"annotation_ids": [str(world["annotation"])], "reason": "Module 3",
                                      "recipient": "L&D team"})
    assert page.status_code == 200, page.text[:500]
    said = page.text[page.text.index("What was said"):page.text.index("The practitioner")]
    assert re.findall(r'<span class="said-by ([\w-]+)">([^<]+)<span class="visually-hidden">:</span>', said) == [
        ("voice-w", "Officer 1")]


def test_moves_are_feedback_on_every_database(db_url: str) -> None:
    """The store's side, on SQLite and PostgreSQL: the lines TIPs moved, one row each, with
    the file's name, who moved it and when; a deleted file's are gone with it."""
    from pipeline import clock
    from pipeline.records import Transcription
    from pipeline.review.accounts import add_user
    from pipeline.store import open_store
    from pipeline.store import schema as db

    database = open_store(db_url)
    media, _ = database.add_original("b" * 64, size=1, store_path="s", inbox="/i", name="kitchen.mp4", mtime_ns=1)
    lines = (Segment(0.0, 2.0, " Are you hurt?", (Word(0.0, 2.0, " hurt", 0.9, "wearer"),), speaker="wearer"),
             Segment(2.0, 4.0, " He hit me.", (Word(2.0, 4.0, " hit", 0.9, "wearer"),), speaker="wearer"))
    database.save_transcript(media, Transcription(lines, "en", 4.0, 0.1), model="m", model_sha256="x",
                             settings={}, speaker_status="one voice", speaker_info={"method": "test"})
    add_user(database, "carol", role="tip", password="correct horse battery staple", actor="test")
    carol = database.user_by_name("carol")
    assert carol is not None and database.transcript_line(media, 1).text == " He hit me."
    assert database.transcript_line(media, 2) is None
    database.move_line(media, 1, "speaker 2", by=carol.id, review_item_id=None)
    database.move_line(media, 1, "speaker 3", by=carol.id, review_item_id=None)  # her second thought
    [row] = database.speaker_feedback()
    assert (row.media_id, row.source, row.start_s, row.end_s, row.text, row.from_speaker,
            row.to_speaker, row.reviewer, row.review_item_id, row.corrected, row.said_by) == (
        media, "kitchen.mp4", 2.0, 4.0, "He hit me.", "wearer", "speaker 3", "web:carol", None, True,
        "others")
    assert row.at.date() == clock.now().date()
    with database.session() as s:
        s.get_one(db.Media, media).state = "deleted"
    assert database.speaker_feedback() == []


def test_two_speakers_never_share_a_name(app, store, world, voiced) -> None:  # noqa: F811
    """A TIP's name for one voice cannot be another's (case and spaces aside), nor, once
    taken, be given to a second voice."""
    alice, item, media = Client(app, "alice"), world["item"], world["media"]
    assert alice.post(f"/items/{item}/speakers", {"speaker": "speaker 3", "name": "Caller"}).status_code == 303
    refused = alice.post(f"/items/{item}/speakers", {"speaker": "speaker 2", "name": " caller "})
    assert refused.status_code == 400
    assert "another speaker of this file is called Caller already" in refused.text
    assert store.speaker_state(media).names == {"speaker 3": "Caller"}
