"""An officer in a real Chromium (issue 18, part 2): olive signs in on a phone, finds the one
moment a TIP shared with her, watches her own footage of it, says she has read it and replies,
by keyboard and mouse; nothing else of the app opens for her."""

from __future__ import annotations

from playwright.sync_api import Browser
from test_browser import TIMEOUT_MS, sign_in, wait_until  # noqa: F401 - the fixtures
from test_review_app import share_a_moment

from pipeline.store import open_store
from pipeline.store.review import QueueFilter

PHONE = {"width": 390, "height": 844}


def test_an_officer_reads_the_one_moment_shared_with_her(browser: Browser, base_url: str,
                                                         review_home) -> None:
    store = open_store(review_home.db_url)
    alice = store.user_by_name("alice")
    held = next(r for r in store.queue_page(QueueFilter(statuses=()), offset=0, limit=10)[0]
                if "hallway" in r.name)
    _told, _untold, shared = share_a_moment(store, item_id=held.id, media_id=held.media_id,
                                            author_id=alice.id,
                                            words=("Note for trainers only.", "Not shared."))

    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, base_url, "olive")
        assert page.url == f"{base_url}/feedback"  # an officer's home
        links = page.locator("table.feedback-list a")
        assert links.count() == 1
        assert "Note for trainers only." not in page.content()
        with page.expect_navigation():
            links.first.click()
        assert page.url == f"{base_url}/feedback/{shared}"
        wait_until(page, "() => document.getElementById('player').readyState >= 1")
        assert "You asked her what had happened: well done." in page.inner_text("main")
        page.focus("#acknowledge")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "the TIP can see you have read it" in page.inner_text("#status-message")
        page.fill("#reply-text", "Thank you. I will keep asking that first.")
        with page.expect_navigation():
            page.click("#send-reply")
        assert "Your reply was sent to the TIP." in page.inner_text("#status-message")
        assert page.locator("#reply-text").count() == 0  # one reply only
        for url in ("/queue", f"/items/{held.id}", "/annotations", "/admin/users"):
            answer = page.goto(f"{base_url}{url}")
            assert answer is not None and answer.status == 403, url
    finally:
        context.close()
    row = store.shared_with("4512")[0].shared
    assert row.reply == "Thank you. I will keep asking that first." and row.acknowledged_at
