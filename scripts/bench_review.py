#!/usr/bin/env python3
"""Benchmark the review app's queue and review pages against a bare FastAPI route.

It builds a throwaway instance in a temporary folder and seeds it through the
store's own tables with the shape of a busy deployment: 10,000 review items
over 1,000 processed files of 5 to 30 minutes each, every file with a
Whisper-shaped transcript (two to three segments per 10 seconds, word timings
in ``words_json`` as ``Store.save_transcript`` writes them), flags across the
whole taxonomy, items already claimed or reviewed by another TIP, and an
audit log with history. Seeding writes rows in bulk (about 15 seconds).

Two servers then run in subprocesses (so client and server do not share a
GIL), each under uvicorn with one worker, on free ports of 127.0.0.1:

- the bwv review app, ``reviewers.app.create_app`` on the seeded instance;
- a baseline: a bare FastAPI app whose routes return the same number of
  table rows (50 queue rows; the transcript lines and flags of the item) as
  a plain HTML string built from an in-memory list: no database, no
  templates, no sessions.

The bench signs in as a TIP through the login form, claims 200 items through
the store, and with one keep-alive ``httpx.Client`` times, after 20 warm-up
requests of each, 200 ``GET /queue`` (default, status, family, category, search,
date and "mine" filters, sort by newest, pages 2 and 3) and 200
``GET /items/{id}`` over the claimed items, each followed by the same-sized
baseline request. Every timed response must be a 200 with the expected
content: exactly the item ids the store returns for that filter (50 rows),
or exactly the item's transcript lines, flags and annotations; and the audit
log must have gained one chained ``view`` row per page view. It prints
median and p95 latency for each. Targets: queue page p95 < 150 ms, review
page p95 < 100 ms.

``--profile FILE`` samples the app server's threads (route handlers run in
the thread pool, where cProfile does not see them) and writes the functions
where the time goes to FILE.

Example:
    python scripts/bench_review.py
    python scripts/bench_review.py --items 2000 --requests 100 --profile /tmp/review.txt
"""

from __future__ import annotations

import argparse
import html
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.responses import HTMLResponse  # noqa: E402

from pipeline.config import Instance, resolve_instance  # noqa: E402
from pipeline.review.accounts import add_user  # noqa: E402
from pipeline.store import Store, open_store  # noqa: E402
from pipeline.store.review import QueueFilter  # noqa: E402
from reviewers.app import create_app  # noqa: E402
from reviewers.auth import Viewer  # noqa: E402
from reviewers.pages.queue import queue_filter  # noqa: E402
from reviewers.pages.review import CONTEXT_S  # noqa: E402
from scripts.review_seed import OTHER_TIP, OTHER_TIP_ID, seed_instance, speech_lines  # noqa: E402

CLAIMS = 200
WARMUP = 20
PER_PAGE = 50
TARGET_P95_MS = {"queue": 150.0, "review": 100.0}
TIP_NAME, PASSWORD = "bench-tip", "bench-password-0123"
_READY_TIMEOUT_S = 60.0


# --- the servers --------------------------------------------------------------------------


def baseline_app() -> FastAPI:
    """A bare FastAPI app: tables of rows from in-memory lists, no database or templates."""
    rng = random.Random(1)
    pool = [" ".join(w for w, _, _ in line) for line in speech_lines(1, longest_s=0, count=120).lines]
    queue_rows = [
        (90 - i, f"AXON_Body_3_Video_2025-01-{i % 28 + 1:02d}_1412_X{60000 + i}.mp4",
         "2025-01-02 14:12 UTC", "3:05–3:41", "0:36 of 17:10", f"{i % 3}·{i % 2}·1",
         "harm.domestic_abuse, practice.validate", "new", "")
        for i in range(PER_PAGE)
    ]
    lines = [(i * 4.0, i * 4.0 + 3.5, rng.choice(pool)) for i in range(400)]
    flags = [(i * 9.0, "concern.threat", rng.choice(pool)) for i in range(50)]
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def table(rows: list[tuple[Any, ...]]) -> str:
        body = "".join(
            "<tr data-row>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>\n"
            for row in rows
        )
        return f"<table>\n{body}</table>\n"

    @app.get("/queue", response_class=HTMLResponse)
    def queue() -> str:
        return f"<!doctype html><title>Queue</title>{table(queue_rows)}"

    @app.get("/review", response_class=HTMLResponse)
    def review(lines_n: int = 0, flags_n: int = 0) -> str:
        return f"<!doctype html><title>Review</title>{table(lines[:lines_n])}{table(flags[:flags_n])}"

    return app


class _Sampler:
    """Samples every thread's stack about each millisecond: a small py-spy, in process.

    A thread running Python code holds the GIL and lets the sampler in only at a switch
    interval, while one waiting on SQLite has let it go: so each sample counts for the
    time since the one before, not for one tick, or waits on the database would be
    over-counted several times.
    """

    def __init__(self, interval_s: float = 0.001) -> None:
        self.interval_s, self.busy_s = interval_s, 0.0
        self.own: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> None:
        """Start sampling; threads hand over the GIL each interval, so samples come on time."""
        sys.setswitchinterval(self.interval_s)
        self._thread.start()

    def _run(self) -> None:
        me, last = threading.get_ident(), time.perf_counter()
        while not self._stop.wait(self.interval_s):
            now = time.perf_counter()
            weight, last = now - last, now
            for ident, frame in sys._current_frames().items():
                if ident == me or not self._busy(frame):
                    continue
                self.busy_s += weight
                self.own[self._key(frame)] += weight
                for key in {self._key(f) for f in self._stack(frame)}:
                    self.total[key] += weight

    @staticmethod
    def _stack(frame: Any) -> list[Any]:
        out = []
        while frame is not None:
            out.append(frame)
            frame = frame.f_back
        return out

    @staticmethod
    def _key(frame: Any) -> str:
        code = frame.f_code
        return f"{code.co_filename.replace(str(ROOT) + '/', '')}:{code.co_firstlineno} {code.co_name}"

    @staticmethod
    def _busy(frame: Any) -> bool:
        """Idle threads wait in a lock, a queue or the event loop's selector; skip those."""
        return frame.f_back is None or frame.f_code.co_name not in ("wait", "select", "get")

    def write(self, path: Path) -> None:
        """Stop and write the most expensive functions, by time including callees, then own time."""
        self._stop.set()
        self._thread.join()
        busy = max(self.busy_s, 1e-9)
        out = [f"{self.busy_s:.1f} s of busy threads, sampled every {self.interval_s * 1000:.0f} ms",
               "", "inclusive (the function and what it calls):"]
        out += [f"  {t / busy:6.1%} {t:7.2f} s  {key}" for key, t in self.total.most_common(70)]
        out += ["", "own time (the sampled frame itself):"]
        out += [f"  {t / busy:6.1%} {t:7.2f} s  {key}" for key, t in self.own.most_common(40)]
        path.write_text("\n".join(out) + "\n")


def serve(kind: str, *, port: int, home: str | None, profile: str | None) -> None:
    """Run one server until SIGINT or SIGTERM (the bench's subprocess entry point)."""
    if kind == "app":
        app = create_app(_instance(Path(home or ".")))
    else:
        app = baseline_app()
    sampler = _Sampler() if profile else None
    if sampler:
        sampler.start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)
    if sampler and profile:
        sampler.write(Path(profile))


def _instance(home: Path) -> Instance:
    """The throwaway instance, always on its own SQLite file whatever ``BWV_DB`` says."""
    return resolve_instance(home, db=f"sqlite:///{home.resolve() / 'bwv.sqlite3'}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server subprocess and where it listens."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Shut the server down as Ctrl-C would (so a profile is written), killing it if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(kind: str, *, workdir: Path, home: Path | None = None,
                 profile: Path | None = None) -> Server:
    """Start ``kind`` ("app" or "baseline") in a subprocess and wait until it answers."""
    port = _free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--port", str(port)]
    if home:
        cmd += ["--home", str(home)]
    if profile:
        cmd += ["--profile", str(profile)]
    log = workdir / f"{kind}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603 - argument list
    server = Server(kind, proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {kind} server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(server.url + "/login" if kind == "app" else server.url + "/queue", timeout=2.0)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the {kind} server did not answer within {_READY_TIMEOUT_S:.0f} s:\n"
                       f"{log.read_text()[-3000:]}")


# --- the client ---------------------------------------------------------------------------


class Mismatch(Exception):
    """A timed response was not what the page should show."""


def sign_in(client: httpx.Client, base: str) -> None:
    """Sign in through the login form, as a browser does."""
    form = client.get(f"{base}/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise Mismatch(f"GET /login gave {form.status_code} without a login_token field")
    done = client.post(f"{base}/login", data={"name": TIP_NAME, "password": PASSWORD,
                                              "login_token": token.group(1), "next": "/queue"})
    if done.status_code != 303 or "bwv_session" not in client.cookies:
        raise Mismatch(f"POST /login gave {done.status_code} and no session cookie: {done.text[:300]}")


@dataclass(frozen=True)
class Request:
    """One request to time and what its answer must contain."""

    path: str
    check: Callable[[str], None]


def queue_requests(store: Store, user_id: int) -> list[Request]:
    """Queue page variants, each checked against the store's own answer for its filter."""
    viewer = Viewer(user=store.user_by_id(user_id), token="", csrf_token="")
    month_ago = (date.today() - timedelta(days=30)).isoformat()
    variants = ["", "status=all", "family=disclosure", "page=2", "category=concern.threat",
                "sort=newest", f"date_from={month_ago}", "status=all&page=3",
                "family=practice&page=2", "mine=1", "status=reviewed", "category=harm.self&status=all",
                "q=the", "q=kitchen&status=all", "q=he+said&family=disclosure"]  # the search box
    out = []
    for query in variants:
        args = {k: v[-1] for k, v in parse_qs(query).items()}
        page = int(args.pop("page", 1))
        flt: QueueFilter = queue_filter(
            viewer, status=args.get("status", "open"), category=args.get("category", ""),
            family=args.get("family", ""), mine=args.get("mine") == "1",
            date_from=date.fromisoformat(args["date_from"]) if "date_from" in args else None,
            date_to=None, sort=args.get("sort", "priority"), text=args.get("q", ""))
        rows, total = store.queue_page(flt, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        want = [str(r.id) for r in rows]

        def check(text: str, want: list[str] = want, total: int = total, query: str = query) -> None:
            got = re.findall(r'data-item="(\d+)"', text)
            if got != want or f"{total} item" not in text:
                raise Mismatch(f"/queue?{query}: {len(got)} rows, expected {len(want)} of {total}")

        out.append(Request(f"/queue?{query}" if query else "/queue", check))
    return out


@dataclass(frozen=True)
class ReviewRequests:
    """Review page requests, same-sized baseline requests, and the transcript lines of each."""

    pages: list[Request]
    baselines: list[Request]
    lines: list[int]


def _baseline_check(rows: int) -> Callable[[str], None]:
    def check(text: str) -> None:
        if text.count("<tr data-row>") != rows:
            raise Mismatch(f"baseline: {text.count('<tr data-row>')} rows, expected {rows}")
    return check


def review_requests(store: Store, user_id: int, item_ids: list[int]) -> ReviewRequests:
    """The held items' review pages, each checked against the store's rows for it."""
    out = ReviewRequests([], [], [])
    for item_id in item_ids:
        view = store.item_view(item_id)
        item, media = view.item, view.media
        duration = media.duration_s or item.end_s
        window = (max(0.0, item.start_s - CONTEXT_S), min(duration, item.end_s + CONTEXT_S))
        lines = len(store.segments_between(media.id, *window))
        flags = len(store.item_flags(item_id))
        notes = len(store.item_annotations(item_id, viewer_id=user_id))

        def check(text: str, item_id: int = item_id, lines: int = lines, flags: int = flags,
                  notes: int = notes) -> None:
            got = (text.count('<p class="line'), text.count('<li id="flag-'),
                   text.count('<article class="annotation"'))
            if got != (lines, flags, notes) or f'action="/items/{item_id}/reviewed"' not in text:
                raise Mismatch(f"/items/{item_id}: lines, flags, annotations {got}, "
                               f"expected {(lines, flags, notes)} and the held item's actions")

        out.pages.append(Request(f"/items/{item_id}", check))
        out.baselines.append(Request(f"/review?lines_n={lines}&flags_n={flags}",
                                     _baseline_check(lines + flags)))
        out.lines.append(lines)
    return out


def timed(client: httpx.Client, base: str, request: Request) -> float:
    """Milliseconds for one GET; the answer must be a 200 with the expected content."""
    started = time.perf_counter()
    response = client.get(base + request.path)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise Mismatch(f"GET {request.path}: {response.status_code} {response.text[:300]}")
    request.check(response.text)
    return elapsed_ms


def run_pair(client: httpx.Client, app: Server, base: Server, pages: list[Request],
             baselines: list[Request], *, count: int) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Warm up, then time app and baseline requests alternately (the same load on both).

    Returns the app's and the baseline's times, and the app's times by path.
    """
    for i in range(WARMUP):
        timed(client, app.url, pages[i % len(pages)])
        timed(client, base.url, baselines[i % len(baselines)])
    app_ms, base_ms, by_path = [], [], defaultdict(list)
    for i in range(count):
        page = pages[(i + WARMUP) % len(pages)]
        app_ms.append(timed(client, app.url, page))
        by_path[page.path].append(app_ms[-1])
        base_ms.append(timed(client, base.url, baselines[(i + WARMUP) % len(baselines)]))
    return app_ms, base_ms, by_path


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _views(store: Store) -> int:
    return int(store.audit_page(offset=0, limit=1, actor=f"web:{TIP_NAME}", action="view")[1])


def prepare_reviewer(store: Store, *, items: int) -> tuple[int, list[int]]:
    """Accounts (an admin, another TIP, the bench's TIP) and the items the bench's TIP holds."""
    add_user(store, "admin", role="admin", password=PASSWORD, actor="bench")
    other = add_user(store, OTHER_TIP, role="tip", password=PASSWORD, actor="bench")
    tip = add_user(store, TIP_NAME, role="tip", password=PASSWORD, actor="bench")
    if other != OTHER_TIP_ID:
        raise RuntimeError(f"seeded items name user {OTHER_TIP_ID} as the other TIP, but it is {other}")
    claimed: list[int] = []
    for item_id in random.Random(11).sample(range(1, items + 1), items):
        if len(claimed) == CLAIMS:
            break
        if store.claim_item(item_id, tip):  # only new items can be claimed
            claimed.append(item_id)
    for item_id in claimed[::4]:  # a draft annotation on every fourth item held
        item = store.item_view(item_id).item
        store.add_annotation(media_id=item.media_id, review_item_id=item_id, author_id=tip,
                             start_s=item.start_s, end_s=item.end_s, labels=["practice.validate"],
                             rating=4, feedback="Calm tone; checked the children were safe.",
                             teaching=False)
    return tip, claimed


#: Per page: the app's times, the baseline's times, and the app's times by path.
Timings = dict[str, tuple[list[float], list[float], dict[str, list[float]]]]


def measure(workdir: Path, instance: Instance, *, queue_pages: list[Request], reviews: ReviewRequests,
            requests: int, profile: Path | None) -> Timings:
    """Start both servers, sign in, and time both pages against their baselines."""
    servers: list[Server] = []
    try:
        app = start_server("app", workdir=workdir, home=instance.home, profile=profile)
        servers.append(app)
        base = start_server("baseline", workdir=workdir)
        servers.append(base)
        with httpx.Client(timeout=30.0, follow_redirects=False) as client:
            sign_in(client, app.url)
            return {
                "queue": run_pair(client, app, base, queue_pages,
                                  [Request("/queue", _baseline_check(PER_PAGE))], count=requests),
                "review": run_pair(client, app, base, reviews.pages, reviews.baselines, count=requests),
            }
    finally:
        for server in reversed(servers):
            server.stop()


def report(results: Timings) -> bool:
    """Print the table of medians and p95s; whether both targets were met."""
    print(f"  {'page':<30} {'median ms':>10} {'p95 ms':>8} {'target p95':>11}")
    ok = True
    for page, (app_ms, base_ms, _) in results.items():
        target = TARGET_P95_MS[page]
        met = _p95(app_ms) < target
        ok &= met
        path = "GET /queue" if page == "queue" else "GET /items/{id}"
        print(f"  {'bwv ' + path:<30} {statistics.median(app_ms):10.1f} {_p95(app_ms):8.1f} "
              f"{'< ' + format(target, '.0f'):>11} {'ok' if met else 'MISSED'}")
        print(f"  {'baseline, same rows':<30} {statistics.median(base_ms):10.1f} {_p95(base_ms):8.1f}")
        print(f"  {'bwv / baseline (median)':<30} "
              f"{statistics.median(app_ms) / statistics.median(base_ms):9.1f}x")
    slowest = sorted(results["queue"][2].items(), key=lambda kv: -statistics.median(kv[1]))[:4]
    print("  slowest queue filters (median ms): "
          + ", ".join(f"{p.removeprefix('/queue?')} {statistics.median(ms):.0f}" for p, ms in slowest))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000, help="review items to seed")
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each page")
    parser.add_argument("--profile", type=Path, help="sample the app server and write a profile here")
    parser.add_argument("--serve", choices=("app", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, port=args.port, home=args.home,
              profile=str(args.profile) if args.profile else None)
        return 0
    if args.items < CLAIMS or args.requests < 1:
        parser.error(f"--items must be at least {CLAIMS} and --requests at least 1")

    with tempfile.TemporaryDirectory(prefix="bwv-bench-review-") as tmp:
        workdir = Path(tmp)
        instance = _instance(workdir / "instance")
        store = open_store(instance.db_url)
        seeded = seed_instance(store, items=args.items)
        tip, claimed = prepare_reviewer(store, items=seeded.items)
        queue_pages = queue_requests(store, tip)
        reviews = review_requests(store, tip, claimed)
        mb = Path(instance.db_url.removeprefix("sqlite:///")).stat().st_size / 1e6
        print(f"seeded {seeded.items} review items over {seeded.media} files "
              f"({seeded.segments} segments, {seeded.segments / (seeded.footage_s / 10):.1f} per 10 s "
              f"of footage; {seeded.flags} flags; {seeded.audit_rows} audit rows; "
              f"{mb:.0f} MB SQLite) in {seeded.seconds:.1f} s")
        views_before = _views(store)
        try:
            results = measure(workdir, instance, queue_pages=queue_pages, reviews=reviews,
                              requests=args.requests,
                              profile=args.profile.resolve() if args.profile else None)
        except Mismatch as exc:
            print(f"FAILED: {exc}")
            return 1
        views, expected_views = _views(store) - views_before, 2 * (WARMUP + args.requests)
        chain_ok = store.verify_audit_chain()
        store.engine.dispose()

        print(f"{args.requests} timed requests of each (after {WARMUP} warm-up), one keep-alive client; "
              f"{len(claimed)} items held, review pages of {min(reviews.lines)}-{max(reviews.lines)} "
              f"transcript lines (median {statistics.median(reviews.lines):.0f})")
        ok = report(results)
        audit_ok = views == expected_views and chain_ok
        print(f"  audit: {views} view rows written for {expected_views} page views; "
              f"chain {'intact' if chain_ok else 'BROKEN'}{'' if audit_ok else ' (FAILED)'}")
        if args.profile:
            print(f"  profile of the app server: {args.profile}")
        print(f"  queue p95 < {TARGET_P95_MS['queue']:.0f} ms and review p95 < "
              f"{TARGET_P95_MS['review']:.0f} ms: {'yes' if ok else 'NO'}")
        return 0 if ok and audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
