#!/usr/bin/env python3
"""Screenshots of the review app for the README, from the shipped sample footage.

Builds a throwaway instance in a temporary folder by running the real batch
over ``data/samples/``, adds a TIP account, serves the app with uvicorn on a
free loopback port and drives Debian's headless Chromium (through
Playwright, never ``playwright install``) to write into OUTDIR:

- ``login.png``: the sign-in form;
- ``queue.png``: the review queue;
- ``review.png``: the top item, claimed, paused inside a flagged moment with
  the spoken word highlighted and a marked range;

at desktop size (1400x900), and the same three at tablet size (820x1180) as
``*-tablet.png`` and at phone size (390x844) as ``*-phone.png``.

Example:
    python scripts/screenshots.py docs/screenshots      (what ``make screenshots`` runs)
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Instance, resolve_instance  # noqa: E402
from pipeline.review.accounts import add_user  # noqa: E402
from pipeline.review.proxy import ensure_proxy  # noqa: E402
from pipeline.store import open_store  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
#: Each screen size, and what its file names end with.
SIZES: dict[str, ViewportSize] = {"": VIEWPORT, "-tablet": {"width": 820, "height": 1180},
                                  "-phone": {"width": 390, "height": 844}}
USER = "alice"


def build_instance(home: Path, samples: Path = SAMPLES) -> Instance:
    """A fresh instance after the real batch over the sample footage, proxies made."""
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    command = [sys.executable, "-m", "pipeline", "--home", str(home), "-q", "run", str(samples),
               "--settle-seconds", "0"]
    done = subprocess.run(command, env=env, cwd=ROOT, timeout=1800,  # noqa: S603 - our CLI, no shell
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bwv run failed (exit status {done.returncode}):\n{done.stdout}{done.stderr}")
    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    try:
        for media in list(store.iter_media()):
            if media.state == "done":
                ensure_proxy(instance, media)
    finally:
        store.engine.dispose()
    return instance


def add_tip(instance: Instance, name: str) -> str:
    """Add a TIP account with a random password, and return the password."""
    password = secrets.token_urlsafe(18)
    store = open_store(instance.db_url)
    try:
        add_user(store, name, role="tip", password=password, actor="screenshots")
    finally:
        store.engine.dispose()
    return password


@contextmanager
def serving(instance: Instance) -> Iterator[str]:
    """The review app on a free loopback port, in a background thread; yields its base URL."""
    import uvicorn

    from reviewers.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    app = create_app(instance)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                          server_header=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            raise RuntimeError("the review app did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.bwv.store.engine.dispose()


def take_screenshots(base_url: str, outdir: Path, *, user: str, password: str,
                     sizes: dict[str, ViewportSize] | None = None,
                     browser: Browser | None = None) -> list[Path]:
    """At each size: sign in, look at the queue, open the top item (claimed at the first
    size) and pause in a flagged moment. Debian's Chromium is started unless given."""
    from playwright.sync_api import sync_playwright

    if browser is None:
        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return take_screenshots(base_url, outdir, user=user, password=password,
                                        sizes=sizes, browser=own)
            finally:
                own.close()
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    item_url = None
    for suffix, viewport in (SIZES if sizes is None else sizes).items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(30_000)

        page.goto(f"{base_url}/login")
        page.fill("#name", user)
        written.append(_shot(page, outdir / f"login{suffix}.png"))

        page.fill("#password", password)
        with page.expect_navigation():
            page.click("#sign-in")
        written.append(_shot(page, outdir / f"queue{suffix}.png"))

        if item_url is None:
            with page.expect_navigation():
                page.locator("table.queue tbody tr button.claim").first.click()
            item_url = page.url
        else:
            page.goto(item_url)
        # Arrow functions only: the CSP (no 'unsafe-eval') blocks re-evaluating an expression.
        page.wait_for_function("() => document.getElementById('player').readyState >= 2")
        _pause_in_flag(page)
        written.append(_shot(page, outdir / f"review{suffix}.png"))
        context.close()
    return written


def _pause_in_flag(page) -> None:  # type: ignore[no-untyped-def]
    """Mark a range around a flag (a disclosure if there is one) and stop inside it."""
    disclosures = page.locator(".flags .flag.family-disclosure .seek")
    flag = disclosures.first if disclosures.count() else page.locator(".flags .flag .seek").first
    start_s = float(flag.get_attribute("data-s") or 0)
    page.evaluate("(t) => { document.getElementById('player').currentTime = t; }", max(0.0, start_s - 1))
    page.locator("h1").click()
    page.keyboard.press("i")
    page.evaluate("(t) => { document.getElementById('player').currentTime = t; }", start_s + 4)
    page.keyboard.press("o")
    flag.click()
    page.wait_for_function("(t) => { const v = document.getElementById('player');"
                           " return !v.seeking && v.readyState >= 2 && Math.abs(v.currentTime - t) < 0.1; }",
                           arg=start_s)
    page.wait_for_selector("#transcript .w.now")
    # Scroll the transcript box (not the page) so the highlighted word sits in its middle.
    page.evaluate("""() => {
      const box = document.getElementById('transcript'), word = box.querySelector('.w.now');
      box.scrollTop = word.offsetTop - box.offsetTop - box.clientHeight / 2;
      window.scrollTo(0, 0);
      document.activeElement.blur();
    }""")
    page.wait_for_timeout(300)  # let the seeked frame paint


def _shot(page, path: Path) -> Path:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    """Build the sample instance, serve it and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="folder for login.png, queue.png and review.png, "
                        "and their -tablet.png and -phone.png")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="footage to run the batch over")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bwv-screenshots-") as tmp:
        print(f"running the batch over {args.samples} ...", flush=True)
        instance = build_instance(Path(tmp) / "home", args.samples)
        password = add_tip(instance, USER)
        with serving(instance) as base_url:
            for path in take_screenshots(base_url, args.outdir, user=USER, password=password):
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
