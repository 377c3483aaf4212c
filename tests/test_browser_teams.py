"""Queues by team in a real Chromium (issue 18, part 3): an admin sets a TIP's default team on
the users page by keyboard; the TIP's queue opens on it on a phone, and she picks another team
with the mouse, each form submitted with the values the page put there."""

from __future__ import annotations

from playwright.sync_api import Browser
from test_browser import TIMEOUT_MS, sign_in  # noqa: F401 - the fixtures
from test_queue_teams import _seed

from pipeline.store import open_store

DESKTOP, PHONE = (1400, 900), (390, 844)


def test_an_admin_sets_a_team_and_the_tips_queue_opens_on_it(browser: Browser, base_url: str,
                                                              review_home) -> None:
    store = open_store(review_home.db_url)
    items = _seed(store)
    alice_id = store.user_by_name("alice").id

    admin = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    admin.set_default_timeout(TIMEOUT_MS)
    try:
        page = admin.new_page()
        sign_in(page, base_url, "ada")
        page.goto(f"{base_url}/admin/users")
        box = page.get_by_label("Default teams of alice", exact=True)
        assert box.input_value() == ""  # what the page puts there: none yet
        box.focus()
        page.keyboard.type("Response A")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("#done").inner_text() == "alice's default teams were changed."
        assert page.get_by_label("Default teams of alice", exact=True).input_value() == "Response A"
    finally:
        admin.close()
    assert store.default_teams(alice_id) == ["Response A"]

    tip = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]})
    tip.set_default_timeout(TIMEOUT_MS)
    try:
        page = tip.new_page()
        sign_in(page, base_url, "alice")
        page.goto(f"{base_url}/queue?status=all")
        team = page.locator("#queue-team")
        assert team.locator("option:checked").inner_text().startswith("my teams (Response A)")
        shown = {int(x) for x in page.locator("tr[data-item]").evaluate_all(
            "rows => rows.map(r => r.dataset.item)")}
        assert {items["a1.mp4"], items["a2.mp4"], items["x1.mp4"]} <= shown
        assert items["b1.mp4"] not in shown
        # The whole form as the page fills it, but Response B chosen with the mouse.
        team.select_option(label="Response B")
        with page.expect_navigation():
            page.click("#filter")
        assert "team=Response+B" in page.url and "officer=&incident=&shift=" in page.url
        rows = page.locator("tr[data-item]")
        assert rows.count() == 1 and rows.first.get_attribute("data-item") == str(items["b1.mp4"])
        assert "Response B · missing person" in rows.first.inner_text()
        assert team.locator("option:checked").inner_text() == "Response B"
    finally:
        tip.close()
