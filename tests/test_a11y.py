"""Every page of the review app in a real Chromium, checked by axe-core for WCAG 2.1 A and AA.

axe-core comes from the npm registry, pinned in package-lock.json and installed by
``make setup`` into ./node_modules; nothing is fetched here. It is served to the page
from the app's own origin (a Playwright route), so the pages run under their real
Content-Security-Policy. Each page, at desktop (1400x900) and phone (390x844) sizes,
must have no axe violation, every control at least 24x24 CSS px (WCAG 2.5.8) and, on
each control reached with Tab, a focus ring of at least 2 px and 3:1 against what is
behind it. The teaching pack's handout is a file of its own (its CSP is its own too),
checked the same way from a pack exported through the app.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize
from test_review_app import share_a_moment
from test_review_speakers import give_speakers

from conftest import PASSWORD, ROOT
from scripts.screenshots import serving

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Where the pages load axe from: a path on the app's own origin, answered by the test.
AXE_PATH = "/static/__axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES: dict[str, ViewportSize] = {"desktop": {"width": 1400, "height": 900},
                                  "phone": {"width": 390, "height": 844}}
TIMEOUT_MS = 30_000
#: How many controls the focus check tabs through on one page.
TABS = 40

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")),
  }));
}"""

#: Controls smaller than 24x24 CSS px. A checkbox's or radio's label is part of its target; a
#: link in a sentence is exempt (WCAG 2.5.8, "inline").
SMALL_TARGETS = """() => {
  const small = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    ' "' + (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 30) + '"';
  const inSentence = (el) => Array.from(el.parentNode.childNodes).some(
    (n) => n !== el && n.nodeType === Node.TEXT_NODE && /\\w/.test(n.textContent));
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
  for (const el of controls) {
    if (el.closest("[hidden]") || getComputedStyle(el).visibility === "hidden") continue;
    const target = el.matches("input") && el.closest("label") ? el.closest("label") : el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown
    if (el.matches("a") && inSentence(el)) continue;
    if (box.width < 23.5 || box.height < 23.5) {
      small.push(name(el) + " is " + box.width.toFixed(1) + "x" + box.height.toFixed(1));
    }
  }
  return small;
}"""

#: The focused control's ring: its outline, and the contrast of the outline's colour with the
#: background behind it (the first opaque background of an ancestor; the page's is white).
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let behind = "rgb(255, 255, 255)";
  for (let p = el.parentElement; p; p = p.parentElement) {
    const bg = getComputedStyle(p).backgroundColor;
    const parts = rgb(bg);
    if (parts.length >= 3 && (parts.length < 4 || parts[3] > 0)) { behind = bg; break; }
  }
  const style = getComputedStyle(el);
  const a = lum(style.outlineColor), b = lum(behind);
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + ' "' +
    (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 30) + '"';
  return {name, style: style.outlineStyle, width: parseFloat(style.outlineWidth), ratio,
          visible: el.matches(":focus-visible")};
}"""


@dataclass(frozen=True)
class Site:
    """The app served for this module, and the objects its pages show."""

    url: str
    home: Path
    ids: dict[str, int]


@pytest.fixture(scope="module")
def site(review_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The review instance with alice holding an item (a draft on it) and having reviewed
    another (a submitted teaching example), a counted failed sign-in, served for the module."""
    from pipeline.config import resolve_instance
    from pipeline.errors import AuthError
    from pipeline.review.accounts import sign_in
    from pipeline.store import open_store
    from pipeline.store.review import QueueFilter

    home = tmp_path_factory.mktemp("a11y") / "home"
    shutil.copytree(review_template, home)
    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    alice = store.user_by_name("alice")
    assert alice is not None
    items = store.queue_page(QueueFilter(statuses=()), offset=0, limit=100)[0]
    held = next(r for r in items if "hallway" in r.name)
    done = next(r for r in items if r.id != held.id)  # the clip with a name full of markup
    for item in (held, done):
        assert store.claim_item(item.id, alice.id)
    draft = store.add_annotation(
        media_id=held.media_id, review_item_id=held.id, author_id=alice.id, start_s=held.start_s,
        end_s=held.start_s + 2.3333, labels=["good practice"], rating=4,
        feedback="Calm opening.", teaching=False)
    submitted = store.add_annotation(
        media_id=done.media_id, review_item_id=done.id, author_id=alice.id, start_s=done.start_s + 1,
        end_s=done.start_s + 2, labels=["good practice", "distress"], rating=5,
        feedback="Thanked her for telling him.", teaching=True)
    assert store.finish_item(done.id, alice.id, status="reviewed")
    # Three voices on the held item's file, one named by a TIP (issue 16): names and colours.
    give_speakers(store, held.media_id)
    store.rename_speaker(held.media_id, "speaker 2", "Caller", by=alice.id, review_item_id=held.id)
    # Footage metadata (issue 18): the held item's file is Response A's, the other has none;
    # alice's queue opens on her default team, and shows both.
    media = {m.id: m for m in store.iter_media()}
    store.put_metadata([{"sha256": media[held.media_id].sha256, "team": "Response A",
                         "officer_id": "4512", "incident_type": "domestic_abuse", "shift": "Nights",
                         "source": "a11y.csv:2"}], actor="test", manifest="a11y.csv")
    store.set_default_teams(alice.id, ["Response A"], actor="test")
    # Two submitted annotations of alice's on the flagged moment, one shared with olive, the
    # officer who wore the camera (issue 18): her pages, and the share form on the TIP's.
    _told, untold, shared = share_a_moment(store, item_id=held.id, media_id=held.media_id,
                                           author_id=alice.id)
    with pytest.raises(AuthError):  # a counted failure, for the throttles page
        sign_in(store, "mallory", "a wrong guess", client="203.0.113.9")
    store.engine.dispose()
    with serving(instance) as url:
        yield Site(url, home, {"held": held.id, "reviewed": done.id, "draft": draft,
                               "submitted": submitted, "shared": shared, "untold": untold})


@pytest.fixture(scope="module")
def signed_in(browser: Browser, site: Site) -> dict[str, Any]:
    """Each user's cookies after signing in through the form once."""
    assert AXE.is_file(), f"{AXE} is missing: run make setup (npm ci installs axe-core)"
    states: dict[str, Any] = {}
    for name in ("alice", "tom", "ada", "olive"):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{site.url}/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#sign-in")
        states[name] = context.storage_state()
        context.close()
    return states


@pytest.fixture(scope="module")
def handout(browser: Browser, site: Site, signed_in: dict[str, Any],
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """handout.html of a teaching pack exported through the app (the submitted moment)."""
    context = browser.new_context(storage_state=signed_in["tom"])
    try:
        page = context.new_page()
        page.goto(f"{site.url}/annotations")
        csrf = page.get_attribute('meta[name="csrf-token"]', "content")
        answer = context.request.post(f"{site.url}/teach/export", timeout=300_000, form={
            "csrf_token": csrf or "", "annotation_ids": str(site.ids["submitted"]),
            "reason": "Module 3", "recipient": "L&D team"})
        assert answer.status == 200, answer.text()[:2000]
        folder = tmp_path_factory.mktemp("pack")
        with zipfile.ZipFile(io.BytesIO(answer.body())) as z:
            z.extractall(folder)
    finally:
        context.close()
    return folder / f"moment-{site.ids['submitted']}" / "handout.html"


def _teach_review(page: Page, site: Site) -> None:
    """The annotations page's export form, ticked and filled in, sent by keyboard."""
    page.goto(f"{site.url}/annotations")
    page.check(f'input[name="annotation_ids"][value="{site.ids["submitted"]}"]')
    page.fill("#export-reason", "Module 3")
    page.fill("#export-recipient", "L&D team")
    with page.expect_navigation(timeout=300_000):
        page.press("#export-recipient", "Enter")
    assert page.locator("h1").inner_text() == "Review the redactions before export"


def _refused_edit(page: Page, site: Site) -> None:
    """The edit form sent back with its problems (no label ticked)."""
    page.goto(f"{site.url}/annotations/{site.ids['draft']}/edit")
    for box in page.locator('input[name="labels"]:checked').all():
        box.uncheck()
    with page.expect_navigation():
        page.press("#edit-start", "Enter")
    assert page.locator(".error-summary").count() == 1


def _refused_user(page: Page, site: Site) -> None:
    """The users page sent back with its problems (a password easy to guess)."""
    page.goto(f"{site.url}/admin/users")
    page.fill("#add-name", "carol")
    page.fill("#add-password", "password1234")
    with page.expect_navigation():
        page.press("#add-password", "Enter")
    assert page.locator(".error-summary").count() == 1


def _refused_speaker_name(page: Page, site: Site) -> None:
    """The review page sent back with a speaker's name that says nothing."""
    page.goto(f"{site.url}/items/{site.ids['held']}")
    page.fill("#rename-3", "-- !")
    with page.expect_navigation():
        page.press("#rename-3", "Enter")
    assert page.locator("#rename-name-error").count() == 1


def _line_speaker_open(page: Page, site: Site) -> None:
    """The review page with a line's "Change speaker" open, its list of speakers shown."""
    page.goto(f"{site.url}/items/{site.ids['held']}")
    page.locator("#line-1 summary").click()
    assert page.locator("#move-1").is_visible()


def _share_open(page: Page, site: Site) -> None:
    """The review page with an annotation's "Share with the officer" open."""
    page.goto(f"{site.url}/items/{site.ids['held']}")
    page.locator(f"#annotation-{site.ids['untold']} details.share summary").click()
    assert page.locator(f"#share-note-{site.ids['untold']}").is_visible()


def _refused_share(page: Page, site: Site) -> None:
    """The review page sent back with a share of spaces (past the box's ``required``): the
    problem under the box, the box open and focused with what was typed."""
    page.goto(f"{site.url}/items/{site.ids['held']}")
    box = f"#share-note-{site.ids['untold']}"
    page.locator(f"#annotation-{site.ids['untold']} details.share summary").click()
    page.fill(box, "   ")
    with page.expect_navigation():
        page.click(f"#share-{site.ids['untold']}")
    assert page.locator("#share-note-error").inner_text().startswith("write the feedback for the officer")
    assert page.evaluate("document.activeElement.id") == box[1:]
    assert page.locator(box).input_value() == "   "


def _refused_reply(page: Page, site: Site) -> None:
    """The officer's feedback page sent back with its problem (a reply of spaces)."""
    page.goto(f"{site.url}/feedback/{site.ids['shared']}")
    page.fill("#reply-text", "   ")
    with page.expect_navigation():
        page.click("#send-reply")
    assert page.locator("#reply-text-error").count() == 1


#: Each page: who looks at it, and how they get there (a path, or steps).
PAGES: dict[str, tuple[str | None, str | Callable[[Page, Site], None]]] = {
    "sign-in": (None, "/login"),
    "queue": ("alice", "/queue"),
    "feedback-list": ("olive", "/feedback"),
    "feedback": ("olive", "/feedback/{shared}"),
    "feedback-reply-refused": ("olive", _refused_reply),
    "review-share-open": ("alice", _share_open),
    "review-share-refused": ("alice", _refused_share),
    "review": ("alice", "/items/{held}"),
    "reviewed-item": ("alice", "/items/{reviewed}"),
    "review-speaker-refused": ("alice", _refused_speaker_name),
    "review-line-speaker-open": ("alice", _line_speaker_open),
    "annotation-edit": ("alice", "/annotations/{draft}/edit"),
    "annotation-edit-refused": ("alice", _refused_edit),
    "annotations": ("tom", "/annotations"),
    "teams": ("tom", "/teams"),
    "teach-review": ("tom", _teach_review),
    "admin-users": ("ada", "/admin/users"),
    "admin-users-refused": ("ada", _refused_user),
    "audit": ("ada", "/admin/audit"),
    "claims": ("ada", "/admin/claims"),
    "sessions": ("ada", "/sessions"),
    "throttles": ("ada", "/admin/throttles"),
    "account-password": ("tom", "/account/password"),
    "error": ("alice", "/items/999999"),
}


def _context(browser: Browser, site: Site, size: str, state: Any) -> BrowserContext:
    context = browser.new_context(viewport=SIZES[size], storage_state=state)
    context.set_default_timeout(TIMEOUT_MS)
    context.route(f"{site.url}{AXE_PATH}",
                  lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
    return context


def _problems(page: Page, *, axe_from: str | None) -> list[str]:
    """What axe finds, the controls under 24x24 px and the focus rings missing or too faint."""
    if axe_from:
        page.add_script_tag(url=axe_from)
    else:
        page.add_script_tag(path=str(AXE))
    found = [f"axe {v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["nodes"])
             for v in page.evaluate(RUN_AXE, WCAG_TAGS)]
    found += [f"target under 24x24 px: {small}" for small in page.evaluate(SMALL_TARGETS)]
    page.evaluate("() => { window.scrollTo(0, 0); document.activeElement.blur(); }")
    for _ in range(TABS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:  # past the last control
            break
        if not ring["visible"]:  # inside a media element's own controls: the browser's ring
            continue
        if ring["style"] in ("none", "auto") or ring["width"] < 2 or ring["ratio"] < 3:
            found.append(f"focus ring of {ring['name']}: outline {ring['style']} {ring['width']}px, "
                         f"contrast {ring['ratio']:.2f}:1 (needs a 2 px outline at 3:1)")
    return found


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_meets_wcag_21_aa(browser: Browser, site: Site, signed_in: dict[str, Any],
                                     name: str, size: str) -> None:
    who, how = PAGES[name]
    context = _context(browser, site, size, signed_in[who] if who else None)
    try:
        page = context.new_page()
        if callable(how):
            how(page, site)
        else:
            page.goto(site.url + how.format(**site.ids))
        found = _problems(page, axe_from=site.url + AXE_PATH)
    finally:
        context.close()
    assert found == [], f"{name} page at {size} size ({page.url}):\n  " + "\n  ".join(found)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_handout_meets_wcag_21_aa(browser: Browser, handout: Path, size: str) -> None:
    # The handout's own CSP allows no script at all: axe goes in past it.
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(handout.as_uri())
        found = _problems(page, axe_from=None)
    finally:
        context.close()
    assert found == [], f"handout at {size} size:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_skip_link_is_the_first_tab_and_moves_focus_to_the_page(
        browser: Browser, site: Site, signed_in: dict[str, Any], size: str) -> None:
    context = _context(browser, site, size, signed_in["ada"])
    try:
        page = context.new_page()
        page.goto(f"{site.url}/admin/users")
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.innerText, "
                                "document.activeElement.getAttribute('href')]")
        assert focused == ["Skip to main content", "#main"]
        box = page.locator(".skip-link").bounding_box()
        assert box is not None and box["y"] >= 0 and box["height"] >= 24  # shown while focused
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the next Tab goes on inside the page, not back to the menu
        assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    finally:
        context.close()
