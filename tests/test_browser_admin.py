"""The pages around the review page: accounts, the audit log, one's password, editing an
annotation, the trainer's search and teaching export, and the README's screenshots.

Every form is sent as a person sends it: over HTTP with what the page's fields hold,
and in Debian's headless Chromium by keyboard, with the values the page puts there,
at desktop and phone sizes. A refused form comes back (400) filled in, each problem
under its field (``aria-describedby``) and listed at the top (``role="alert"``).
"""

from __future__ import annotations

import json
import re
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

# The HTTP helpers and fixtures of the review app's tests (store: world needs it).
from test_review_app import Client, app, store, world  # noqa: F401

from conftest import PASSWORD
from scripts.screenshots import SIZES, serving, take_screenshots

SIZE: dict[str, ViewportSize] = {"desktop": {"width": 1400, "height": 900},
                                 "phone": {"width": 390, "height": 844}}
TIMEOUT_MS = 20_000
STRONG = "plum kettle orbit lantern"


def _field_error(html: str, field: str, *, box: str | None = None) -> str:
    """The problem said under a field, checking that the field's box (the field itself, or
    ``box`` for a group of boxes) points at it."""
    box = box or field
    assert re.search(rf'id="{re.escape(box)}"[^>]*aria-invalid="true" aria-describedby="{re.escape(field)}-error"',
                     html), f"{box} does not point at the problem with {field}"
    found = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]*)</span>', html)
    assert found, f"no problem under {field}"
    return found.group(1).replace("&#39;", "'").replace("&#34;", '"')


def _summary(html: str) -> list[str]:
    """The fields the alert at the top of a refused form links to."""
    found = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S)
    assert found, "no summary of the problems"
    return re.findall(r'<a href="#([^"]+)">', found.group(0))


# --- over HTTP -------------------------------------------------------------------------------


def test_the_sign_in_page_sends_people_to_their_administrator(app) -> None:  # noqa: F811
    page = Client(app).get("/login").text
    assert "bwv user add" not in page and "<code>" not in page
    assert "Ask your administrator: they make accounts and set new passwords." in page


def test_a_refused_new_user_comes_back_filled_in_with_every_problem_under_its_field(app, store) -> None:  # noqa: F811
    ada = Client(app, "ada")
    response = ada.post("/admin/users", {"name": "carol smith", "role": "god", "password": "password1234"})
    assert response.status_code == 400
    page = response.text
    assert _field_error(page, "add-name").startswith("user name 'carol smith' is not allowed")
    assert _field_error(page, "add-role") == "choose a role: tip, trainer, admin, officer"
    assert _field_error(page, "add-password").startswith("the password is too easy to guess")
    assert _summary(page) == ["add-name", "add-role", "add-password"]
    assert 'value="carol smith"' in page and "password1234" not in page  # a password never comes back
    taken = ada.post("/admin/users", {"name": "bob", "role": "tip", "password": STRONG}).text
    assert _field_error(taken, "add-name") == "a user named 'bob' already exists: choose another name"
    assert store.user_by_name("carol smith") is None


def test_an_admin_resets_a_password_only_for_someone_else(app, store, world) -> None:  # noqa: F811
    ada, bob = Client(app, "ada"), Client(app, "bob")
    users = world["users"]
    weak = ada.post(f"/admin/users/{users['bob']}", {"action": "password", "password": "qwertyuiopasdf"})
    assert weak.status_code == 400
    assert _field_error(weak.text, f"password-{users['bob']}").startswith("the password is too easy to guess")
    done = ada.post(f"/admin/users/{users['bob']}", {"action": "password", "password": STRONG})
    assert done.headers["location"] == f"/admin/users?done=password&user={users['bob']}"
    said = ada.get(done.headers["location"]).text
    assert "bob&#39;s password was changed; their sessions were ended." in said
    assert bob.get("/queue").status_code == 303  # signed out
    assert Client(app).sign_in("bob", STRONG).status_code == 303
    row = store.audit_page(offset=0, limit=1, action="user-password")[0][0]
    assert (row.actor, row.object) == ("web:ada", f"user:{users['bob']}")
    own = ada.post(f"/admin/users/{users['ada']}", {"action": "password", "password": STRONG})
    assert own.status_code == 400 and "use Change password" in own.text


def test_the_audit_filter_takes_a_plain_name_and_a_date_range(app, store) -> None:  # noqa: F811
    store.audit(actor="cli:root as alice", action="teach-export", obj="annotations:1")
    store.audit(actor="cli:alice", action="user-password", obj="user:1")
    Client(app, "alice").get("/queue")
    ada = Client(app, "ada")
    page = ada.get("/admin/audit", params={"actor": "alice", "action": "", "date_from": "",
                                           "date_to": ""})
    assert page.status_code == 200
    who = set(re.findall(r"</time></td><td>([^<]+)</td>", page.text))
    assert who == {"web:alice", "cli:alice", "cli:root as alice"}
    exact = ada.get("/admin/audit", params={"actor": "web:alice"}).text
    assert set(re.findall(r"</time></td><td>([^<]+)</td>", exact)) == {"web:alice"}
    today = datetime.now(UTC).date()
    times = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", page.text)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)
    for since, until, rows in ((today, today, True), (today - timedelta(days=9), today - timedelta(days=1), False),
                               (today + timedelta(days=1), "", False), ("", today, True)):
        found = ada.get("/admin/audit", params={"actor": "alice", "date_from": str(since),
                                                "date_to": str(until)}).text
        assert ("No audit rows match." not in found) is rows, (since, until)
    wrong = ada.get("/admin/audit", params={"actor": "alice", "date_from": str(today),
                                            "date_to": str(today - timedelta(days=1))})
    assert wrong.status_code == 400
    assert _field_error(wrong.text, "audit-to").endswith("swap them")
    assert f'value="{today}"' in wrong.text and 'value="alice"' in wrong.text


def test_ones_own_password_form_says_each_problem_under_its_field(app) -> None:  # noqa: F811
    tom = Client(app, "tom")
    response = tom.post("/account/password", {"current_password": PASSWORD, "new_password": "password1234",
                                              "new_password_again": "password12345"})
    assert response.status_code == 400
    assert _field_error(response.text, "new-password").startswith("the password is too easy to guess")
    assert _field_error(response.text, "new-password-again") == (
        "the two new passwords are not the same: type it again")
    assert _summary(response.text) == ["new-password", "new-password-again"]
    wrong = tom.post("/account/password", {"current_password": "not it", "new_password": STRONG,
                                           "new_password_again": STRONG})
    assert _field_error(wrong.text, "current-password") == "the current password is not right"


def test_a_refused_edit_comes_back_filled_in(app, world) -> None:  # noqa: F811
    alice = Client(app, "alice")
    form = {"start_s": "1.00", "end_s": "0.50", "rating": "3", "feedback": "Kept as typed."}
    response = alice.post(f"/annotations/{world['annotation']}", form)
    assert response.status_code == 400
    assert _field_error(response.text, "edit-range", box="edit-end").startswith("the time range 1.00-0.50 s must run forwards")
    assert '<fieldset class="labels" id="edit-labels" aria-describedby="edit-labels-error">' in response.text
    assert '<span class="field-error" id="edit-labels-error">choose at least one label</span>' in response.text
    assert _summary(response.text) == ["edit-range", "edit-labels"]
    assert ">Kept as typed.</textarea>" in response.text and 'value="0.50"' in response.text
    assert re.search(r'name="rating" value="3" checked', response.text)


def test_the_trainers_search_takes_empty_boxes_and_says_what_is_wrong(app, world) -> None:  # noqa: F811
    tom = Client(app, "tom")
    defaults = {"label": "", "category": "", "min_rating": "", "max_rating": "", "text": "",
                "date_from": "", "date_to": ""}  # what the form sends untouched
    assert tom.get("/annotations", params=defaults).status_code == 200
    wrong = tom.get("/annotations", params={**defaults, "min_rating": "4", "max_rating": "2",
                                            "date_from": "2026-02-30", "text": "calm"})
    assert wrong.status_code == 400
    assert _field_error(wrong.text, "search-max-rating") == "the highest rating (2) is below the lowest (4)"
    assert _field_error(wrong.text, "search-from").startswith("Submitted from: '2026-02-30' is not a day")
    assert 'value="calm"' in wrong.text and 'id="search-min-rating" min="1" max="5" value="4"' in wrong.text


def test_an_export_without_a_reason_comes_back_with_the_moments_ticked(app, store, world) -> None:  # noqa: F811
    alice = store.user_by_name("alice")
    assert store.finish_item(world["item"], alice.id, status="reviewed")  # submits alice's draft
    tom = Client(app, "tom")
    search = "teaching=&text=draft"
    response = tom.post("/teach/review", {"annotation_ids": [str(world["annotation"])], "reason": " ",
                                          "recipient": "L&D team", "search": search})
    assert response.status_code == 400
    assert _field_error(response.text, "export-reason") == "say the reason for the export"
    assert f'name="annotation_ids" value="{world["annotation"]}" checked' in response.text
    assert 'value="L&amp;D team"' in response.text and 'id="search-text" value="draft"' in response.text
    refused = store.audit_page(offset=0, limit=1, action="teach-export-refused")[0][0]
    assert refused.actor == "web:tom"
    # One refusal, one row: the page sent back does not add a second, generic one.
    assert [r.object for r in store.audit_page(offset=0, limit=50, action="refused")[0]
            if r.object == "/teach/review"] == []


# --- in Chromium -------------------------------------------------------------------------------


def _page(browser: Browser, url: str, name: str, size: str, **options) -> Page:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=SIZE[size], **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    return page


def _typed(page: Page, selector: str, text: str) -> None:
    """Focus a box, clear it and type, as a person does."""
    page.focus(selector)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def _sent(page: Page, key: str = "Enter") -> int:
    """Press a key that sends the focused form; the status of the page it brings."""
    with page.expect_navigation() as sent:
        page.keyboard.press(key)
    answer = sent.value
    assert answer is not None
    return answer.status


@pytest.mark.parametrize("size", list(SIZE))
def test_an_admin_resets_a_password_and_reads_the_audit_by_keyboard(browser: Browser, review_home,
                                                                    size: str) -> None:
    from pipeline.store import open_instance

    with serving(review_home) as url:
        bob = _page(browser, url, "bob", size)
        page = _page(browser, url, "ada", size)
        assert page.url == f"{url}/admin/users"
        bob_id = int((page.locator("tr.user", has_text="bob").get_attribute("id") or "").removeprefix("user-"))
        # The role select has a name now (axe: select-name).
        role = page.get_by_role("combobox", name="Role of bob", exact=True)
        assert role.evaluate("(el) => el.tagName") == "SELECT"
        # A password easy to guess: the page comes back, the problem under the box.
        password = page.get_by_label("New password for bob", exact=True)
        password.focus()
        page.keyboard.type("qwertyuiopasdf")
        assert _sent(page) == 400
        box = page.locator(f"#password-{bob_id}")
        assert box.get_attribute("aria-describedby") == f"password-{bob_id}-error"
        assert page.locator(f"#password-{bob_id}-error").inner_text().startswith(
            "the password is too easy to guess")
        assert page.locator(".error-summary[role=alert] a").get_attribute("href") == f"#password-{bob_id}"
        box.focus()
        page.keyboard.type(STRONG)
        assert _sent(page) == 200
        assert page.locator("#done[role=status]").inner_text() == (
            "bob's password was changed; their sessions were ended.")
        bob.goto(f"{url}/queue")
        assert bob.url.startswith(f"{url}/login")  # bob's session ended
        # The role, by keyboard: the select, then Tab to its button.
        role = page.get_by_role("combobox", name="Role of bob", exact=True)
        role.select_option("trainer")
        role.focus()
        page.keyboard.press("Tab")
        assert _sent(page) == 200
        assert "bob is now trainer" in page.locator("#done").inner_text()
        # The audit log: a plain name, the date boxes left empty as the page has them.
        with page.expect_navigation():
            page.get_by_role("link", name="Audit log").click()
        _typed(page, "#audit-actor", "ada")
        assert _sent(page) == 200
        assert "date_from=&date_to=" in page.url
        who = set(page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts())
        assert who == {"web:ada"}
        assert page.locator("table.audit tbody tr", has_text="user-password").count() == 1
        when = page.locator("table.audit tbody tr td:nth-child(2)").first.inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", when)
        db = open_instance(review_home)
        row = db.audit_page(offset=0, limit=10, action="user-password")[0][0]
        assert (row.actor, row.object) == ("web:ada", f"user:{bob_id}")
        db.engine.dispose()
        for context in (bob.context, page.context):
            context.close()


def _alices_annotation(review_home, *, start_s: float, end_s: float, feedback: str,  # type: ignore[no-untyped-def]
                       teaching: bool, reviewed: bool, from_item_start: bool = True) -> int:
    """Alice claims the hallway clip's item and annotates it (times from the item's start, or
    from the file's); with ``reviewed`` she submits it."""
    from pipeline.store import open_instance
    from pipeline.store.review import QueueFilter

    db = open_instance(review_home)
    alice = db.user_by_name("alice")
    item = next(r for r in db.queue_page(QueueFilter(statuses=()), offset=0, limit=100)[0]
                if "hallway" in r.name)
    assert alice is not None and db.claim_item(item.id, alice.id)
    offset = item.start_s if from_item_start else 0.0
    annotation = db.add_annotation(media_id=item.media_id, review_item_id=item.id, author_id=alice.id,
                                   start_s=offset + start_s, end_s=offset + end_s,
                                   labels=["good practice"], rating=4, feedback=feedback,
                                   teaching=teaching)
    if reviewed:
        assert db.finish_item(item.id, alice.id, status="reviewed")
    db.engine.dispose()
    return annotation


@pytest.mark.parametrize("size", list(SIZE))
def test_a_tip_saves_an_edit_with_the_pages_own_values_by_keyboard(browser: Browser, review_home,
                                                                   size: str) -> None:
    # An end off the box's 0.01 step, as the review page's marks make them.
    draft = _alices_annotation(review_home, start_s=1.3333, end_s=4.6667, feedback="Calm.",
                               teaching=False, reviewed=False)
    with serving(review_home) as url:
        page = _page(browser, url, "alice", size)
        page.goto(f"{url}/annotations/{draft}/edit")
        page.focus("#edit-feedback")
        page.keyboard.press("End")
        page.keyboard.type(" Clear words.")
        page.focus("#save-edit")
        assert _sent(page) == 200  # Chromium sends the form: the times are on the step
        assert re.match(rf"{re.escape(url)}/items/\d+#annotation-\d+$", page.url), page.url
        page.goto(f"{url}/annotations/{draft}/edit")
        assert page.input_value("#edit-feedback") == "Calm. Clear words."
        page.focus('input[name="labels"][value="good practice"]')
        page.keyboard.press("Space")  # untick the only label
        page.focus("#edit-start")
        assert _sent(page) == 400
        assert page.locator(".error-summary[role=alert]").inner_text().count("choose at least one label") == 1
        assert page.locator("#edit-labels-error").inner_text() == "choose at least one label"
        assert page.locator("#edit-labels").get_attribute("aria-describedby") == "edit-labels-error"
        assert page.input_value("#edit-feedback") == "Calm. Clear words."
        page.context.close()


def _on_submit(page: Page, form: str, status: str, button: str) -> None:
    """Log what the page shows the moment a form is sent (after the page's own handler):
    locators would wait for the navigation the form starts, and then the page is gone."""
    page.evaluate("""([form, status, button]) => {
      document.getElementById(form).addEventListener("submit", () => {
        const progress = document.getElementById(form).querySelector("progress");
        console.log(JSON.stringify({status: document.getElementById(status).textContent,
                                    disabled: document.getElementById(button).disabled,
                                    progress: progress !== null && !progress.hidden}));
      });
    }""", [form, status, button])


@pytest.mark.parametrize("size", list(SIZE))
def test_a_trainer_searches_with_empty_boxes_and_sees_the_export_working(
        browser: Browser, review_home, tmp_path: Path, size: str) -> None:
    moment = _alices_annotation(review_home, start_s=5.0, end_s=6.0, feedback="Thanked her.",
                                teaching=True, reviewed=True, from_item_start=False)
    with serving(review_home) as url:
        page = _page(browser, url, "tom", size, accept_downloads=True)
        # Search with every box as the page has it (the dates empty): found, not refused.
        _typed(page, "#search-text", "thanked")
        assert _sent(page) == 200
        assert "date_from=&date_to=" in page.url
        # Dates the wrong way round come back under the box, the search kept.
        page.fill("#search-from", "2026-11-27")
        page.fill("#search-to", "2026-11-01")
        page.focus("#search-text")
        assert _sent(page) == 400
        assert page.locator("#search-to").get_attribute("aria-describedby") == "search-to-error"
        assert "is before submitted from" in page.locator("#search-to-error").inner_text()
        assert page.input_value("#search-text") == "thanked"
        page.fill("#search-from", "")
        page.fill("#search-to", "")
        page.focus("#search-text")
        assert _sent(page) == 200
        # Tick the moment, say why and for whom, and review its redactions.
        page.focus(f'input[name="annotation_ids"][value="{moment}"]')
        page.keyboard.press("Space")
        page.focus("#export-reason")
        page.keyboard.type("Module 3")
        page.keyboard.press("Tab")
        page.keyboard.type("L&D team")
        _on_submit(page, "export-form", "review-status", "export")
        with page.expect_console_message() as seen, page.expect_navigation(timeout=300_000):
            page.keyboard.press("Enter")
        assert json.loads(seen.value.text) == {
            "status": "Finding the details to redact… this takes a few seconds a moment.",
            "disabled": True, "progress": True}
        assert page.locator("h1").inner_text() == "Review the redactions before export"
        # Build the pack: the page says it is working at once, then that the download started.
        status, button = page.locator("#export-status"), page.locator("#build-pack")
        assert status.get_attribute("role") == "status" and status.inner_text() == ""
        page.focus("#export-recipient")
        _on_submit(page, "review-form", "export-status", "build-pack")
        with page.expect_console_message() as seen, page.expect_download(timeout=300_000) as download:
            page.keyboard.press("Enter")
        working = json.loads(seen.value.text)
        assert re.fullmatch(r"Building the pack… this takes about a second per second of "
                            r"footage \(\d+ s here\)\.", working.pop("status")), working
        assert working == {"disabled": True, "progress": True}  # the button waits; progress shows
        name = download.value.suggested_filename
        expect(status).to_have_text(f"The pack is built: your browser is downloading it as {name}. "
                                    "Look in your downloads.", timeout=10_000)
        expect(button).to_be_enabled()
        expect(page.locator("#export-progress")).to_be_hidden()
        saved = tmp_path / name
        download.value.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK"
        page.context.close()


def test_make_screenshots_covers_tablet_and_phone_sizes(browser: Browser, review_home,
                                                       tmp_path: Path) -> None:
    with serving(review_home) as url:
        written = take_screenshots(url, tmp_path, user="alice", password=PASSWORD, browser=browser)
    names = {path.name for path in written}
    assert names == {f"{page}{suffix}.png" for page in ("login", "queue", "review")
                     for suffix in ("", "-tablet", "-phone")}
    for path in written:
        width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the PNG's IHDR
        suffix = path.stem.partition("-")[2]
        assert {"width": width, "height": height} == SIZES[f"-{suffix}" if suffix else ""], path.name
