"""Who says each line, in a real Chromium (issue 16, point 4): a TIP renames speakers and
moves lines to another speaker on the review page, by keyboard and by mouse, at desktop and
phone sizes, with the forms as the page fills them; a refused name comes back with its
problem by the field; the captions speak in voices; every control stays at least 24x24 px.

The fixtures and helpers are tests/test_browser_review.py's: Debian's Chromium, one per
module. Screenshots of each size go to the test's own temporary folder (speakers-*.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from test_browser import sign_in, wait_until
from test_browser_review import (
    DESKTOP,
    PHONE,
    PLAYER,
    _context,
    _focus_moves_to,
    _problem,
    _ready,
    _small_controls,
    _status,
)
from test_review_speakers import give_speakers

from scripts.screenshots import serving

#: The wearer's colour, always the same (review.css: --voice of .voice-w).
WEARER_RGB = "rgb(31, 78, 121)"


@pytest.fixture()
def served(review_home):  # type: ignore[no-untyped-def]
    """The review app on a private copy of the instance whose hallway clip has three voices."""
    from pipeline.store import open_store

    store = open_store(review_home.db_url)
    media = next(m.id for m in store.iter_media() if "hallway" in store.names_by_media()[m.id][0])
    give_speakers(store, media)
    store.engine.dispose()
    with serving(review_home) as url:
        yield url


#: Whether the middle of an element's first line is the element itself on screen (not covered).
_IN_SIGHT = """() => { const e = document.getElementById('%s'); const r = e.getBoundingClientRect();
  const at = document.elementFromPoint(r.left + Math.min(r.width / 2, 40), r.top + 8);
  return r.top > -2 && at !== null && e.contains(at); }"""


def _who(page: Page, line: int) -> str:
    """A line's speaker label, as read (a screen reader hears "Wearer:" before the words)."""
    return (page.locator(f"#line-{line} > .said-by").text_content() or "").strip().removesuffix(":")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_tip_renames_speakers_and_moves_lines_by_keyboard_and_mouse(browser: Browser, served: str,
                                                                       size: tuple[int, int],
                                                                       tmp_path: Path) -> None:
    context, page, problems = _context(browser, size)
    try:
        _speakers(page, served, size, tmp_path)
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
    # The refused name answers 400, which Chromium logs; nothing else may go wrong.
    assert [p for p in problems if "status of 400" not in p] == []


def _speakers(page: Page, url: str, size: tuple[int, int], shots: Path) -> None:
    tag = "desktop" if size == DESKTOP else "phone"
    sign_in(page, url, "alice")
    claim = page.locator("table.queue tbody tr", has_text="hallway").first.locator("button.claim")
    with page.expect_navigation():
        claim.click()
    item = int(page.url.rsplit("/", 1)[1])
    _ready(page)
    # Every line says who speaks, in words, on its speaker's colour; the wearer's is always blue.
    assert [_who(page, i) for i in range(4)] == ["Wearer", "Speaker 2", "Wearer", "Speaker 3"]
    chip = page.locator("#line-0 > .said-by")
    assert chip.is_visible()
    assert chip.evaluate("(e) => getComputedStyle(e).backgroundColor") == WEARER_RGB
    assert page.locator("#speaker-1 .said-by").evaluate("(e) => getComputedStyle(e).backgroundColor") == WEARER_RGB
    assert _small_controls(page) == []
    page.screenshot(path=str(shots / f"speakers-{tag}.png"), full_page=True)

    # Renamed by keyboard: type in the box, Enter sends it; the note is said where the page lands.
    page.focus("#rename-2")
    page.keyboard.type("Caller")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{url}/items/{item}#speaker-2"
    assert _status(page) == "Speaker 2 is now called Caller: the transcript, captions and exports use the name."
    wait_until(page, "() => document.activeElement.id === 'speaker-2'")
    assert _who(page, 1) == "Caller" and page.input_value("#rename-2") == "Caller"

    # A name with an invisible character, by mouse: back with the problem by the box, filled in.
    page.fill("#rename-3", "Child\u200b")
    with page.expect_navigation():
        page.locator("#speaker-3 button.rename").click()
    assert page.url == f"{url}/items/{item}/speakers"
    assert _problem(page, "#rename-3", "rename-name-error").startswith(
        "the name may hold only visible characters and spaces")
    assert page.input_value("#rename-3") == "Child\u200b"
    _focus_moves_to(page, "input#rename-3[name]")
    page.screenshot(path=str(shots / f"speakers-{tag}-refused.png"), full_page=True)
    page.fill("#rename-3", "Child")
    with page.expect_navigation():
        page.locator("#speaker-3 button.rename").click()
    assert _who(page, 3) == "Child"

    # A line moved by keyboard: Enter opens its "Change speaker", Tab to the list, an arrow
    # picks the next speaker, Tab to the button and Enter. The video stays where it was.
    page.goto(f"{url}/items/{item}")
    _ready(page)
    before = float(page.evaluate(f"{PLAYER}.currentTime"))
    page.focus("#line-0 summary")
    page.keyboard.press("Enter")
    assert page.locator("#line-0 details").get_attribute("open") is not None
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "move-0"
    assert page.input_value("#move-0") == "speaker 2"  # Caller, the first voice that is not the wearer
    page.keyboard.press("ArrowDown")
    assert page.input_value("#move-0") == "speaker 3"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "move"
    assert float(page.evaluate(f"{PLAYER}.currentTime")) == before and page.evaluate(f"{PLAYER}.paused")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{url}/items/{item}#line-0"
    assert _status(page) == "Line moved: Child says it now."
    wait_until(page, "() => document.activeElement.id === 'line-0'")
    assert _who(page, 0) == "Child"
    assert "voice-2" in (page.locator("#line-0").get_attribute("class") or "")
    # The moved line and its note are in sight, not under the pinned player (WCAG 2.4.11; a
    # tester found them hidden on phones and tablets).
    _ready(page)
    wait_until(page, _IN_SIGHT % "line-0")

    # ... and by mouse, to a new speaker; clicking in the form does not seek the video.
    _ready(page)
    page.locator("#line-2 summary").click()
    before = float(page.evaluate(f"{PLAYER}.currentTime"))
    page.select_option("#move-2", "new")
    assert float(page.evaluate(f"{PLAYER}.currentTime")) == before
    page.screenshot(path=str(shots / f"speakers-{tag}-move.png"), full_page=True)
    with page.expect_navigation():
        page.locator("#line-2 button.move").click()
    assert _who(page, 2) == "Speaker 4"
    assert [s.strip() for s in page.locator("ul.speakers .said-by").all_inner_texts()] == [
        "Wearer", "Caller", "Child", "Speaker 4"]
    assert _small_controls(page) == []

    # The captions speak in voices, under the names the TIP gave them.
    _ready(page)
    wait_until(page, f"() => ({PLAYER}.textTracks[0].cues || []).length >= 3")
    cues = page.evaluate(f"Array.from({PLAYER}.textTracks[0].cues, c => c.text)")
    assert cues[0].startswith("<v Child>") and any(c.startswith("<v Caller>") for c in cues)
    assert cues[2].startswith("<v Speaker 4>")
