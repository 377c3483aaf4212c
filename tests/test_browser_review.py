"""The queue and the review page in a real Chromium, used as a TIP uses them (issue 15).

Every form is sent with the values the page puts there, by mouse and by keyboard: the
queue's Filter with its empty date boxes, an annotation saved without pressing I or O,
forms sent with a problem (each comes back filled in, the problem next to its field),
Dismiss and Release with their reasons, Mark reviewed and the next item. The keys do
what a keyboard user expects (Space presses a focused button; Space on the video plays
it once) and can be turned off. At desktop, tablet and phone sizes, the queue fits the
screen with Claim in reach, the transcript is read beside or under the footage, which
stays on screen, and every control is at least 24x24 px.

The fixtures and helpers are tests/test_browser.py's: Debian's Chromium, one per module.
"""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page
from test_browser import (  # noqa: F401 - the fixtures
    CSP_WATCH,
    TIMEOUT_MS,
    current_time,
    sign_in,
    wait_until,
)

DESKTOP, TABLET, PHONE = (1400, 900), (820, 1180), (390, 844)
PLAYER = "document.getElementById('player')"


def _context(chromium: Browser, size: tuple[int, int]) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh browser profile at a screen size, and the errors its pages log."""
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} ({m.location.get('url', '')})")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.add_init_script(CSP_WATCH)
    return context, page, problems


def _ready(page: Page) -> None:
    """The footage's metadata is loaded and the player stands at the item's start."""
    wait_until(page, f"() => {PLAYER}.readyState >= 1")
    start_s = float(page.locator("#player").get_attribute("data-start") or 0)
    wait_until(page, f"(t) => Math.abs({PLAYER}.currentTime - t) < 0.5", start_s)


def _paused(page: Page) -> bool:
    return bool(page.evaluate(f"{PLAYER}.paused"))


def _status(page: Page) -> str:
    note = page.locator("#status-message")
    assert note.get_attribute("role") == "status"
    return note.inner_text()


FOCUSED = ("() => { const e = document.activeElement;"
           " return `${e.tagName.toLowerCase()}#${e.id}[${e.getAttribute('name') || ''}]`; }")


def _focused(page: Page) -> str:
    """The focused element, as ``tag#id[name]``."""
    return str(page.evaluate(FOCUSED))


def _focus_moves_to(page: Page, where: str) -> None:
    """Wait for the focus to reach ``tag#id[name]`` (autofocus is applied after the page loads)."""
    wait_until(page, f"(want) => ({FOCUSED})() === want", where)


def _problem(page: Page, field_id: str, error_id: str) -> str:
    """The problem said next to a field, which names it in aria-describedby."""
    described = (page.locator(field_id).get_attribute("aria-describedby") or "").split()
    assert error_id in described, (field_id, described)
    error = page.locator(f"#{error_id}")
    assert error.get_attribute("role") == "alert" and error.is_visible()
    return error.inner_text()


def test_every_form_as_the_page_fills_it_by_mouse_and_keyboard(browser: Browser, base_url: str) -> None:
    context, page, problems = _context(browser, DESKTOP)
    try:
        _forms(page, base_url)
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
    # The refused forms answer 400, which Chromium logs; nothing else may go wrong.
    assert [p for p in problems if "status of 400" not in p] == []


def _forms(page: Page, url: str) -> None:
    sign_in(page, url, "alice")

    # The queue's Filter as the page fills it: every date box empty (it answered 422).
    with page.expect_navigation():
        page.click("#filter")
    assert page.url.startswith(f"{url}/queue?") and "date_from=&date_to=&" in page.url
    rows = page.locator("table.queue tbody tr[data-item]")
    assert page.locator("h1").inner_text().startswith("Review queue") and rows.count() == 2
    # A search by keyboard: words a flag quotes find the item whose file is named otherwise.
    page.focus("#queue-search")
    page.keyboard.type("SCRIPT>ALERT")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert rows.count() == 1 and "call.mp4" in rows.first.locator("td.file").inner_text()
    hostile = int(rows.first.get_attribute("data-item") or 0)
    page.fill("#queue-search", "hallway")
    with page.expect_navigation():
        page.click("#filter")
    assert rows.count() == 1 and "hallway" in rows.first.inner_text()
    with page.expect_navigation():
        rows.first.locator("button.claim").click()
    item = int(page.url.rsplit("/", 1)[1])
    _ready(page)

    # Saved by mouse without pressing I or O: the page's own To is off the boxes' 0.01 step
    # in the database (Chromium refused the form), so the page must put it on the step.
    end_s = page.locator("#player").get_attribute("data-end") or ""
    assert round(float(end_s), 2) != float(end_s), f"the item ends on a step ({end_s}): no test"
    assert page.input_value("#mark-out") == f"{int(float(end_s) * 100) / 100:.2f}"
    page.locator("#annotate label.check", has_text="good practice").click()
    with page.expect_navigation():
        page.click("#save")
    assert page.url.startswith(f"{url}/items/{item}#annotation-")
    saved = page.url.rsplit("#", 1)[1]
    # Said in the annotation the page was sent to, which has the focus: a screen reader says it.
    assert page.locator(f"#{saved} #status-message").count() == 1
    assert _status(page).startswith("Annotation saved: a draft")
    wait_until(page, "(id) => document.activeElement.id === id", saved)
    assert "good practice" in page.locator(f"#{saved}").inner_text()

    # Sent by keyboard with no label: the page again, filled in, the problem by the labels.
    page.focus("#feedback")
    page.keyboard.type("Asked about safety late.")
    page.locator("#annotate input[name=rating][value='2']").check()
    page.focus("#save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{url}/items/{item}/annotations"
    assert _problem(page, "fieldset.labels", "annotate-labels-error") == "choose at least one label"
    assert page.input_value("#feedback") == "Asked about safety late."
    assert page.locator("#annotate input[name=rating][value='2']").is_checked()
    _focus_moves_to(page, "input#[labels]")  # the first label, to choose one
    # ... and in sight once the video's size is known (it pushes the form down as it loads).
    wait_until(page, f"() => {PLAYER}.readyState >= 1")
    wait_until(page, "() => { const r = document.getElementById('annotate-labels-error')"
                     ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    # A backwards range, typed; Enter in the To box sends the form.
    page.keyboard.press("Space")  # ticks the focused label
    page.fill("#mark-in", "15")
    page.focus("#mark-out")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "must run forwards inside the file" in _problem(page, "#mark-in", "annotate-range-error")
    assert page.locator("#mark-out").get_attribute("aria-describedby") == "annotate-range-error"
    assert (page.input_value("#mark-in"), page.input_value("#mark-out")) == ("15.00", "5.00")
    assert page.locator("#annotate input[name=labels]:checked").count() == 1
    _focus_moves_to(page, "input#mark-in[start_s]")
    # The same marks as a missed moment: refused by the button that sends them.
    with page.expect_navigation():
        page.click("#add-missed")
    assert "must run forwards" in _problem(page, "#add-missed", "missed-range-error")
    _focus_moves_to(page, "button#add-missed[]")
    # Release with a reason of spaces (Enter on the summary opens it): asked again.
    page.goto(f"{url}/items/{item}")
    _ready(page)
    page.focus("#release-box summary")
    page.keyboard.press("Enter")
    page.focus("#release-reason")
    page.keyboard.type("   ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _problem(page, "#release-reason", "release-reason-error") == "say why you release this item"
    assert page.locator("#release-box").get_attribute("open") is not None
    _focus_moves_to(page, "input#release-reason[reason]")

    # The keys. Space on a focused button presses it (it played the video instead).
    page.goto(f"{url}/items/{item}")
    _ready(page)
    word = page.locator("#transcript .line.in-item .w").nth(4)
    word.click()
    word_s = float(word.get_attribute("data-s") or -9)
    page.focus("#btn-mark-in")
    page.keyboard.press("Space")
    assert abs(float(page.input_value("#mark-in")) - word_s) < 0.05 and _paused(page)
    # Space on the focused video plays it, once (it was toggled twice: nothing happened).
    page.focus("#player")
    page.keyboard.press("Space")
    wait_until(page, f"() => !{PLAYER}.paused && {PLAYER}.currentTime > {word_s + 0.2}")
    page.keyboard.press("Space")
    wait_until(page, f"() => {PLAYER}.paused")
    # Letters typed in a box stay there: no play, no mark, no save.
    mark_in = page.input_value("#mark-in")
    page.focus("#missed-form input[name=note]")
    page.keyboard.type("kijos")
    assert page.input_value("#missed-form input[name=note]") == "kijos"
    assert _paused(page) and page.input_value("#mark-in") == mark_in
    # L skips forward 5 s to match J; speed is a labelled select.
    page.locator("h1").click()
    before = current_time(page)
    page.keyboard.press("l")
    assert abs(current_time(page) - (before + 5)) < 0.2
    page.keyboard.press("j")
    assert abs(current_time(page) - before) < 0.2
    page.get_by_label("Speed").select_option("1.5")
    assert page.evaluate(f"{PLAYER}.playbackRate") == 1.5
    # Shortcuts turned off (WCAG 2.1.4) stay off on the next visit, hints hidden too.
    page.get_by_label("Keyboard shortcuts").uncheck()
    page.reload()
    _ready(page)
    assert not page.get_by_label("Keyboard shortcuts").is_checked()
    assert not page.locator("#key-hints").is_visible()
    unmarked = page.input_value("#mark-in")
    word.click()  # the playhead away from the mark
    page.keyboard.press("k")
    page.keyboard.press("i")
    assert _paused(page) and page.input_value("#mark-in") == unmarked and word_s > 0.5
    page.get_by_label("Keyboard shortcuts").check()
    assert page.locator("#key-hints").is_visible()
    # Captions from the transcript, loaded through their authorised route.
    wait_until(page, f"() => {PLAYER}.textTracks[0].mode === 'showing'"
               f" && ({PLAYER}.textTracks[0].cues || []).length >= 3")
    assert "neighbour" in page.evaluate(f"Array.from({PLAYER}.textTracks[0].cues, c => c.text).join(' ')")

    # Mark reviewed: back at the queue with a note, and the next item a Tab away.
    with page.expect_navigation():
        page.click("#mark-reviewed")
    assert page.url == f"{url}/queue"
    assert _status(page) == f"Item {item} marked reviewed: trainers now see its annotations."
    _focus_moves_to(page, "p#status-message[]")
    page.keyboard.press("Tab")
    assert _focused(page) == "button#next-item[]"
    page.reload()
    assert page.locator("#status-message").count() == 0  # said once
    # The reviewed item, read-only: no I/O/S keys or hints, no Edit or Delete; the author may
    # still correct a submitted annotation (a correction is a new version, the old one kept).
    page.goto(f"{url}/items/{item}")
    _ready(page)
    hints = page.locator("#key-hints").inner_text()
    assert "play/pause" in hints and "mark in" not in hints and "save" not in hints
    # The next item's form, and sharing the annotation with the officer: nothing that changes
    # the item or the annotation.
    assert page.locator("main form:not([action$='/share'])").count() == 1
    assert page.locator("#annotations details.share form").count() == 1
    assert page.locator("#annotations button:not(.seek)").count() == \
        page.locator("#annotations details.share button").count() == 1
    assert page.locator("#annotations a").all_inner_texts() == ["Correct"]
    assert page.locator("#annotations .annotation").count() == 1
    # The next item, by keyboard: the most urgent one left, claimed and open.
    page.focus("main form button.next-item")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{url}/items/{hostile}"
    # Dismissed with a reason; the queue says who and why.
    page.click("#dismiss-box summary")
    page.fill("#dismiss-reason", "a test call, not an incident")
    with page.expect_navigation():
        page.click("#dismiss")
    assert _status(page) == f"Item {hostile} dismissed."
    with page.expect_navigation():
        page.click("#next-item")
    assert _status(page) == "No item is waiting to be claimed."
    page.select_option("select[name=status]", "dismissed")
    with page.expect_navigation():
        page.click("#filter")
    assert page.locator(f"tr[data-item='{hostile}'] td.who-why").inner_text() == (
        "dismissed by alice: a test call, not an incident")


def test_every_screen_size_reads_the_transcript_with_the_footage(browser: Browser, base_url: str) -> None:
    for size in (DESKTOP, TABLET, PHONE):
        context, page, problems = _context(browser, size)
        try:
            _screen(page, base_url, size)
        finally:
            context.close()
        assert problems == [], size


def _small_controls(page: Page) -> list[str]:
    """Visible controls in the page's main part smaller than 24x24 px (a check box's target
    is its label, app.css)."""
    return list(page.evaluate("""() => Array.from(document.querySelectorAll(
        'main button, main select, main input:not([type=hidden]), main textarea, main summary, main a[href]'))
      .map((e) => (e.type === 'checkbox' || e.type === 'radio') && e.closest('label') ? e.closest('label') : e)
      .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
      .map((e) => [e, e.getBoundingClientRect()])
      .filter(([e, r]) => r.width < 24 || r.height < 24)
      .map(([e, r]) => `${e.outerHTML.slice(0, 60)} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`)"""))


def _screen(page: Page, url: str, size: tuple[int, int]) -> None:
    """The queue and the review page at one screen size, then the item released by touch."""
    width, height = size
    sign_in(page, url, "alice")
    # The queue fits the screen, and the hallway item's Claim is on it without scrolling sideways.
    table = page.locator("table.queue").bounding_box()
    assert table is not None and table["x"] >= 0 and table["x"] + table["width"] <= width, (size, table)
    claim = page.locator("table.queue tbody tr", has_text="hallway").locator("button.claim")
    claim.scroll_into_view_if_needed()
    box = claim.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= width, (size, box)
    assert _small_controls(page) == [], size
    with page.expect_navigation():
        claim.click()
    _ready(page)
    assert _small_controls(page) == [], size
    video = page.locator("#player").bounding_box()
    transcript = page.locator("#transcript").bounding_box()
    assert video is not None and transcript is not None
    if size == DESKTOP:  # beside the footage, from its top
        assert transcript["x"] >= video["x"] + video["width"] and transcript["y"] < video["y"] + 100
    else:  # under it, and on the first screen
        assert video["y"] + video["height"] <= transcript["y"] < height - 100, (size, video, transcript)
        # Scrolled down to the form, the footage stays on screen above what scrolls under it.
        page.locator("#save").scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 200
        held = page.locator("#player").bounding_box()
        assert held is not None and held["y"] >= 0 and held["y"] + held["height"] <= height, (size, held)
    # Given back, with a reason, for the next size; the queue says who and why.
    page.locator("#release-box summary").click()
    page.fill("#release-reason", f"checked at {width}x{height}")
    with page.expect_navigation():
        page.click("#release")
    assert page.locator("table.queue tr", has_text="hallway").locator("td.who-why").inner_text() == (
        f"released by alice: checked at {width}x{height}")
