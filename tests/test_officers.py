"""Feedback reaches officers (issue 18, part 2): a TIP shares a submitted annotation with the
officer who wore the camera; the officer sees only that, acknowledges it and replies once."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import select
from test_review_app import Client, _rubric, shared_world, submit

from conftest import HOSTILE_WORDS, PASSWORD, bwv
from pipeline.store import schema as db
from pipeline.store.meta_tables import SharedFeedback
from reviewers.app import create_app


@pytest.fixture()
def app(review_home):  # test_review_app's, with olive's feedback shared below
    return create_app(review_home, rubric=_rubric())


@pytest.fixture()
def store(app):
    return app.state.bwv.store


@pytest.fixture()
def world(store):
    from test_review_app import world as make_world

    return shared_world(store, make_world.__wrapped__(store))


def _actions(store) -> list[tuple[str, str, str]]:
    with store.session() as s:
        return [(a.actor, a.action, a.object) for a in s.scalars(select(db.Audit).order_by(db.Audit.id))]


def test_an_officer_sees_only_what_was_shared_with_them(app, store, world) -> None:
    from pipeline.review.accounts import add_user

    add_user(store, "oscar", role="officer", password=PASSWORD, actor="test", officer_id="4999")
    olive, oscar = Client(app, "olive"), Client(app, "oscar")
    listing = olive.get("/feedback")
    assert listing.status_code == 200
    assert f'href="/feedback/{world["shared"]}"' in listing.text
    assert "You asked her what happened." in listing.text
    for secret in ("alice's draft", "alice's submitted", "alice's shared"):  # the TIP's own notes
        assert secret not in listing.text
    page = olive.get(f"/feedback/{world['shared']}")
    assert page.status_code == 200
    assert "What the TIP wrote for you" in page.text and "You asked her what happened." in page.text
    assert "<strong>You:</strong>" in page.text  # the wearer's lines are the officer's own
    assert "Why it matters:" in page.text  # the rubric's guidance for what was flagged there
    assert olive.get(f"/feedback/{world['shared']}/media").status_code == 200
    # Another officer: nothing listed, and olive's feedback is not found, nor its footage.
    assert "Nothing has been shared with you yet." in oscar.get("/feedback").text
    for url in (f"/feedback/{world['shared']}", f"/feedback/{world['shared']}/media",
                f"/feedback/{world['shared']}/media/captions.vtt"):
        assert oscar.get(url).status_code == 404, url
    assert oscar.post(f"/feedback/{world['shared']}/acknowledge").status_code == 404
    assert oscar.post(f"/feedback/{world['shared']}/reply", {"reply": "hi"}).status_code == 404
    # Officers reach nothing of the TIPs' and trainers' pages.
    for url in ("/queue", f"/items/{world['item']}", f"/items/{world['item']}/media",
                "/annotations", f"/annotations/{world['annotation']}/edit", "/admin/users"):
        assert olive.get(url).status_code == 403, url
    said = _actions(store)
    assert ("web:olive", "view", f"shared:{world['shared']}") in said
    assert ("web:olive", "stream", f"media:{world['media']}") in said
    assert ("web:olive", "view", "feedback") in said
    refused = {a[2] for a in said if a[:2] == ("web:oscar", "refused")}
    assert {f"/feedback/{world['shared']}", f"/feedback/{world['shared']}/media",
            f"/feedback/{world['shared']}/acknowledge"} <= refused


def test_acknowledge_then_reply_once_and_the_tip_sees_both(app, store, world) -> None:
    olive, alice = Client(app, "olive"), Client(app, "alice")
    url = f"/feedback/{world['shared']}"
    assert 'id="acknowledge"' in olive.get(url).text
    done = olive.post(f"{url}/acknowledge")
    assert done.status_code == 303
    page = olive.get(url).text
    assert "the TIP can see you have read it" in page and 'id="acknowledge"' not in page
    empty = olive.post(f"{url}/reply", {"reply": "   "})
    assert empty.status_code == 400 and "write the reply: it is empty" in empty.text
    hostile = HOSTILE_WORDS[0] + " thanks"
    assert olive.post(f"{url}/reply", {"reply": hostile}).status_code == 303
    again = olive.post(f"{url}/reply", {"reply": "and another thing"})
    assert again.status_code == 400 and "one reply each" in again.text
    review = alice.get(f"/items/{world['item']}").text
    assert "Shared with officer 4512" in review and "read " in review
    assert "&lt;script&gt;" in review and HOSTILE_WORDS[0] not in review  # escaped
    row = store.shared_with("4512")[0].shared
    assert row.reply == hostile and row.acknowledged_at is not None
    said = [a for a in _actions(store) if a[0] == "web:olive"]
    assert ("web:olive", "feedback-acknowledge", f"shared:{world['shared']}") in said
    assert ("web:olive", "feedback-reply", f"shared:{world['shared']}") in said


def test_what_a_tip_may_share_and_withdraw(app, store, world) -> None:
    alice, bob = Client(app, "alice"), Client(app, "bob")
    # A draft is never shared; nor another TIP's annotation; nor a second time.
    draft = alice.post(f"/annotations/{world['annotation']}/share", {"note": "x"})
    assert draft.status_code == 400 and "a draft is not shared" in draft.text
    assert bob.post(f"/annotations/{world['submitted']}/share", {"note": "x"}).status_code == 404
    assert alice.post(f"/annotations/{world['submitted']}/share", {"note": " "}).status_code == 400
    assert alice.post(f"/annotations/{world['submitted']}/share",
                      {"note": "Good open question."}).status_code == 303
    assert alice.post(f"/annotations/{world['submitted']}/share",
                      {"note": "again"}).status_code == 409
    # Footage no manifest described has no officer to share with.
    hostile_item = world["hostile_item"]
    media = store.item_view(hostile_item).media.id
    other = store.add_annotation(media_id=media, review_item_id=hostile_item,
                                 author_id=world["users"]["alice"], start_s=1, end_s=2,
                                 labels=["good practice"], rating=3, feedback="f", teaching=False)
    submit(store, other)
    refused = alice.post(f"/annotations/{other}/share", {"note": "x"})
    assert refused.status_code == 400 and "no officer is recorded for this footage" in refused.text
    # Withdrawn: gone from the officer's list and page.
    assert alice.post(f"/annotations/{world['shared_annotation']}/unshare").status_code == 303
    olive = Client(app, "olive")
    assert olive.get(f"/feedback/{world['shared']}").status_code == 404
    assert "You asked her what happened." not in olive.get("/feedback").text
    assert len(store.shared_with("4512")) == 1  # the one shared just now


def test_a_refused_share_comes_back_on_the_review_page_with_its_words(app, store, world) -> None:
    """Not the error page: the item's page, the problem under that annotation's box (which is
    open, and says so to a screen reader), what was typed still in it; a share already made
    (another tab) says so above the annotation, 409."""
    alice = Client(app, "alice")
    url = f"/annotations/{world['submitted']}/share"
    refused = alice.post(url, {"note": "Well done\u200b for asking"})
    assert refused.status_code == 400
    assert "<title>Bad request" not in refused.text and 'id="share-note-error"' in refused.text
    assert "cannot be seen (U+200B)" in refused.text
    box = re.search(rf'<textarea name="note" id="share-note-{world["submitted"]}"[^>]*>([^<]*)</textarea>',
                    refused.text)
    assert box and 'aria-invalid="true"' in box.group(0) and "autofocus" in box.group(0)
    assert box.group(1) == "Well done\u200b for asking"
    assert '<details class="share" open>' in refused.text
    assert store.shared_for_annotations([world["submitted"]]) == {}  # nothing shared
    assert alice.post(url, {"note": "Good open question."}).status_code == 303
    again = alice.post(url, {"note": "from another tab"})
    assert again.status_code == 409 and "<title>Already taken" not in again.text
    assert 'id="share-form-error"' in again.text and "is already shared" in again.text


def test_officer_accounts_need_their_collar_number(tmp_path, app, store) -> None:
    home = tmp_path / "cli-home"  # not the review instance's folder
    add = [sys.executable, "-m", "pipeline", "--home", str(home), "user", "add"]
    made = subprocess.run([*add, "pc4512", "--role", "officer", "--officer-id", "4512"],
                          input=PASSWORD + "\n", text=True, capture_output=True, timeout=120)
    assert made.returncode == 0 and "officer 4512" in made.stdout
    missing = subprocess.run([*add, "pc9", "--role", "officer"], input=PASSWORD + "\n", text=True,
                             capture_output=True, timeout=120)
    assert missing.returncode == 2 and "needs their officer id" in missing.stderr
    twice = subprocess.run([*add, "pc4512b", "--role", "officer", "--officer-id", "4512"],
                           input=PASSWORD + "\n", text=True, capture_output=True, timeout=120)
    assert twice.returncode == 2 and "officer 4512 already has an account" in twice.stderr
    assert "pc4512\tofficer" in bwv(home, "user", "list").stdout
    # The admin page: an officer's account with the id, and no role change into or out of it.
    ada = Client(app, "ada")
    refused = ada.post("/admin/users", {"name": "pc77", "role": "officer", "officer_id": "",
                                        "password": "another long passphrase"})
    assert refused.status_code == 400 and "needs their officer id" in refused.text
    ok = ada.post("/admin/users", {"name": "pc77", "role": "officer", "officer_id": "77",
                                   "password": "another long passphrase"})
    assert ok.status_code == 303
    assert store.user_by_name("pc77").officer_id == "77"
    alice = store.user_by_name("alice").id
    changed = ada.post(f"/admin/users/{alice}", {"action": "role", "role": "officer"})
    assert changed.status_code == 400 and "keeps its role" in changed.text
    assert store.user_by_name("alice").role == "tip"


def test_retention_deletes_shared_feedback_with_its_footage(store, world) -> None:
    with store.session() as s:
        s.get(db.Media, world["media"]).state = "done"
        for item in s.scalars(select(db.ReviewItem).where(db.ReviewItem.media_id == world["media"])):
            item.claimed_by = None
    assert store.mark_deleted(world["media"], policy="default: 31 days", actor="cli:test",
                              annotated=True)
    with store.session() as s:
        assert s.scalars(select(SharedFeedback)).all() == []


def test_a_correction_carries_the_share_and_a_new_officer_ends_it(app, store, world) -> None:
    alice, olive = Client(app, "alice"), Client(app, "olive")
    url = f"/feedback/{world['shared']}"
    corrected = alice.post(f"/annotations/{world['shared_annotation']}", {
        "start_s": str(world["start"] + 1), "end_s": str(world["start"] + 4),
        "labels": ["good practice"], "rating": "5", "feedback": "corrected", "teaching": ""})
    assert corrected.status_code == 303
    newest = store.correction_of(world["shared_annotation"])
    assert newest is not None
    assert store.shared_for_annotations([newest])  # the share moved to the newest version
    page = olive.get(url)
    assert page.status_code == 200 and f"#t={world['start'] + 1}" in page.text
    # The metadata now says another officer wore the camera: olive no longer sees it, and
    # the TIP is told why.
    media = store.get_media(world["media"])
    store.put_metadata([{"sha256": media.sha256, "officer_id": "7788", "source": "fix.csv:2"}],
                       actor="test", manifest="fix.csv")
    assert olive.get(url).status_code == 404
    review = alice.get(f"/items/{world['item']}").text
    assert "now names officer 7788: officer 4512 no longer sees this" in review


def test_a_refused_reply_says_only_what_is_wrong(app, world) -> None:
    olive = Client(app, "olive")
    url = f"/feedback/{world['shared']}"
    assert olive.post(f"{url}/reply", {"reply": "first"}).status_code == 303
    again = olive.post(f"{url}/reply", {"reply": "second, from another tab"})  # not read yet
    assert again.status_code == 400 and "one reply each" in again.text
    assert "Your reply was sent" not in again.text
    hidden = Client(app, "alice").post(f"/annotations/{world['submitted']}/share",
                                       {"note": "\u200b\u200b"})
    assert hidden.status_code == 400 and "cannot be seen (U+200B)" in hidden.text


def test_an_officer_sees_no_rating_that_was_not_shared(app, store, world) -> None:
    from pipeline.nightly.teams import officer_figures

    with store.session() as s:
        item = s.get(db.ReviewItem, world["item"])
        item.status, item.reviewed_at = "reviewed", item.created_at
    mine = officer_figures(store, "4512")
    reviewed = [m for m in mine if m["items_reviewed"]]
    assert len(reviewed) == 1
    assert reviewed[0]["ratings"] == 1 and reviewed[0]["rating_mean"] == 5.0  # the shared one


def test_default_teams_are_for_tips_and_slashes_do_not_redirect(app, store, world) -> None:
    ada = Client(app, "ada")
    tom = store.user_by_name("tom").id
    refused = ada.post(f"/admin/users/{tom}", {"action": "teams", "teams": "Response A"})
    assert refused.status_code == 400 and "opens on default teams" in refused.text
    assert ada.post("/admin/users/999999", {"action": "teams", "teams": "x"}).status_code == 404
    users = ada.get("/admin/users").text
    assert users.count('value="officer"') == 1  # only in the form that adds an officer
    bad = ada.post(f"/admin/users/{store.user_by_name('alice').id}",
                   {"action": "teams", "teams": "Response\u202eA"})
    assert bad.status_code == 400 and "(U+202E)" in bad.text
    slash = Client(app, "olive").http.get(f"/feedback/{world['shared']}/",
                                          headers={"Host": "evil.example"})
    assert slash.status_code == 404 and "location" not in slash.headers


def test_shared_again_the_officer_answers_afresh_and_feedback_text_is_plain(app, store,
                                                                           world) -> None:
    alice, olive = Client(app, "alice"), Client(app, "olive")
    url = f"/feedback/{world['shared']}"
    assert olive.post(f"{url}/reply", {"reply": "noted"}).status_code == 303
    assert alice.post(f"/annotations/{world['shared_annotation']}/unshare").status_code == 303
    assert alice.post(f"/annotations/{world['shared_annotation']}/share",
                      {"note": "New words for you."}).status_code == 303
    page = olive.get(url).text
    assert "New words for you." in page and 'id="reply-text"' in page and 'id="acknowledge"' in page
    assert "not read yet" in alice.get(f"/items/{world['item']}").text
    hidden = alice.post(f"/items/{world['item']}/annotations", {
        "start_s": str(world["start"]), "end_s": str(world["start"] + 2), "labels": ["good practice"],
        "rating": "3", "feedback": "fb\u202ex"})
    assert hidden.status_code == 400 and "cannot be seen (U+202E)" in hidden.text
