"""The review app through its HTTP interface: roles, objects, CSRF, escaping, Range, claims."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import HOSTILE_NAME, HOSTILE_WORDS, PASSWORD
from pipeline import clock
from pipeline.flagging.rubric import load_rubric
from reviewers.app import create_app, make_templates

ROLES = ("anonymous", "alice", "tom", "ada", "olive")  # a TIP, a trainer, an admin, an officer
ROLE_OF = {"alice": "tip", "tom": "trainer", "ada": "admin", "olive": "officer"}
SIGNED_IN = ("alice", "tom", "ada", "olive")


@cache
def _rubric():
    return load_rubric()


class Client:
    """A browser stand-in: cookies, the page's CSRF token, no automatic redirects."""

    def __init__(self, app, name: str | None = None, *, base_url: str = "http://testserver") -> None:
        self.http = TestClient(app, follow_redirects=False, base_url=base_url)
        self.csrf = ""
        if name:
            response = self.sign_in(name)
            assert response.status_code == 303, response.text

    def sign_in(self, name: str, password: str = PASSWORD):
        page = self.http.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        response = self.http.post("/login", data={"name": name, "password": password,
                                                  "login_token": token, "next": ""})
        if response.status_code == 303:
            home = self.http.get(response.headers["location"])
            self.csrf = re.search(r'name="csrf-token" content="([^"]*)"', home.text).group(1)
        return response

    def get(self, url: str, **kwargs):
        return self.http.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        return self.http.post(url, data=body, **kwargs)


@pytest.fixture()
def app(review_home):
    return create_app(review_home, rubric=_rubric())


@pytest.fixture()
def store(app):
    return app.state.bwv.store


@pytest.fixture()
def world(store):
    """Ids of the objects the route tests act on: alice holds one item and has a draft on it."""
    users = {u.name: u.id for u in store.list_users()}
    items = [row for row in store.queue_page(_all(), offset=0, limit=100)[0]]
    hallway = [r for r in items if "hallway" in r.name]
    held, spare = hallway[0], next(r for r in items if r.id != hallway[0].id)
    assert store.claim_item(held.id, users["alice"])
    flag = store.item_flags(held.id)[0]
    from pipeline.errors import AuthError
    from pipeline.review.accounts import sign_in

    with pytest.raises(AuthError):  # someone guessing: a sign-in throttle for the admin page
        sign_in(store, "mallory", "a wrong guess", client="203.0.113.9")
    annotation = store.add_annotation(
        media_id=held.media_id, review_item_id=held.id, author_id=users["alice"],
        start_s=held.start_s, end_s=held.start_s + 2, labels=["good practice"], rating=4,
        feedback="alice's draft", teaching=False,
    )
    return {"item": held.id, "spare": spare.id, "flag": flag.id, "annotation": annotation,
            "user": users["bob"], "media": held.media_id, "users": users,
            "start": held.start_s, "hostile_item": next(r.id for r in items if r.name == HOSTILE_NAME),
            "throttle": store.list_throttles()[0].id, "line": 0}


def share_a_moment(store, *, item_id: int, media_id: int, author_id: int,
                   words: tuple[str, str] = ("Told the officer.", "Kept for trainers."),
                   note: str = "You asked her what had happened: well done.") -> tuple[int, int, int]:
    """Two submitted annotations on an item's first flag, the first shared with officer 4512
    (olive): (shared annotation, unshared annotation, share)."""
    flag = store.item_flags(item_id)[0]
    told, untold = (store.add_annotation(
        media_id=media_id, review_item_id=item_id, author_id=author_id, start_s=flag.start_s,
        end_s=flag.end_s, labels=["good practice"], rating=5, feedback=w, teaching=False)
        for w in words)
    submit(store, told, untold)
    shared = store.share_feedback(told, media_id=media_id, officer_id="4512", note=note,
                                  by=author_id)
    return told, untold, shared


def shared_world(store, world: dict) -> dict:
    """The world with two submitted annotations of alice's on the held item (the hallway
    clip, olive's footage), one shared with olive: for the officer's routes."""
    shared_ann, submitted, shared = share_a_moment(
        store, item_id=world["item"], media_id=world["media"], author_id=world["users"]["alice"],
        words=("alice's shared", "alice's submitted"), note="You asked her what happened.")
    return {**world, "shared": shared, "shared_annotation": shared_ann, "submitted": submitted}


def submit(store, *annotation_ids: int) -> None:
    """Annotations submitted, as marking their item reviewed does (the item stays held)."""
    from sqlalchemy import update

    from pipeline.store import schema as db

    with store.session() as s:
        s.execute(update(db.Annotation).where(db.Annotation.id.in_(annotation_ids))
                  .values(submitted_at=clock.now()))


def _all():
    from pipeline.store.review import QueueFilter

    return QueueFilter(statuses=())


# --- the role x route matrix -----------------------------------------------------------------

# method, path, who may, what they get, form data
ANNOTATION = {"start_s": "{start}", "end_s": "{end}", "labels": ["good practice", "distress"],
              "rating": "4", "feedback": "Calm and clear.", "teaching": "on"}
ROUTES = [
    ("GET", "/", {"alice", "tom", "ada", "olive"}, 303, None),
    ("GET", "/feedback", {"olive"}, 200, None),
    ("GET", "/feedback/{shared}", {"olive"}, 200, None),
    ("GET", "/feedback/{shared}/media", {"olive"}, 200, None),
    ("GET", "/feedback/{shared}/media/captions.vtt", {"olive"}, 200, None),
    ("POST", "/feedback/{shared}/acknowledge", {"olive"}, 303, {}),
    ("POST", "/feedback/{shared}/reply", {"olive"}, 303, {"reply": "Thank you, I will."}),
    ("POST", "/annotations/{submitted}/share", {"alice"}, 303, {"note": "Well done."}),
    ("POST", "/annotations/{shared_annotation}/unshare", {"alice"}, 303, {}),
    ("GET", "/queue", {"alice"}, 200, None),
    ("POST", "/items/{spare}/claim", {"alice"}, 303, {}),
    ("POST", "/items/{item}/release", {"alice"}, 303, {"reason": "needs a Welsh speaker"}),
    ("POST", "/queue/next", {"alice"}, 303, {}),
    ("GET", "/items/{item}", {"alice"}, 200, None),
    ("GET", "/items/{item}/media", {"alice"}, 200, None),
    ("GET", "/items/{item}/media/captions.vtt", {"alice"}, 200, None),
    ("POST", "/items/{item}/reviewed", {"alice"}, 303, {}),
    ("POST", "/items/{item}/dismiss", {"alice"}, 303, {"reason": "a duplicate of another item"}),
    ("POST", "/items/{item}/annotations", {"alice"}, 303, ANNOTATION),
    ("POST", "/items/{item}/speakers", {"alice"}, 303, {"speaker": "wearer", "name": "Officer 1"}),
    ("POST", "/items/{item}/lines/{line}/speaker", {"alice"}, 303, {"speaker": "new"}),
    ("POST", "/items/{item}/missed", {"alice"}, 303,
     {"category": "distress", "start_s": "{start}", "end_s": "{end}", "note": "sobbing"}),
    ("POST", "/flags/{flag}/feedback", {"alice"}, 303, {"relevant": "no"}),
    ("GET", "/annotations", {"tom"}, 200, None),
    ("GET", "/teams", {"tom", "ada"}, 200, None),
    # The gate is what is tested here; an export with no moments is a 400 (see test_teach.py).
    ("POST", "/teach/export", {"tom"}, 400, {"reason": "module 3", "recipient": "L&D"}),
    ("POST", "/teach/review", {"tom"}, 400, {"reason": "module 3", "recipient": "L&D"}),
    # alice's draft: not exportable, so no frame of it either (a submitted one: test_teach.py).
    ("GET", "/teach/frame/{annotation}", {"tom"}, 404, None),
    ("GET", "/annotations/{annotation}/edit", {"alice"}, 200, None),
    ("POST", "/annotations/{annotation}", {"alice"}, 303, ANNOTATION),
    ("POST", "/annotations/{annotation}/delete", {"alice"}, 303, {}),
    ("GET", "/admin/users", {"ada"}, 200, None),
    ("POST", "/admin/users", {"ada"}, 303,
     {"name": "carol", "role": "tip", "password": "another long passphrase"}),
    ("POST", "/admin/users/{user}", {"ada"}, 303, {"action": "disable"}),
    ("GET", "/admin/audit", {"ada"}, 200, None),
    ("GET", "/admin/claims", {"ada"}, 200, None),
    ("POST", "/admin/claims/{item}/release", {"ada"}, 303, {}),
    ("GET", "/sessions", {"alice", "tom", "ada", "olive"}, 200, None),
    # A session that is not the asker's: not found (ending one: test_sessions_page...).
    ("POST", "/sessions/end", {"alice", "tom", "ada", "olive"}, 404, {"session": "0" * 16}),
    ("POST", "/sessions/end-others", {"alice", "tom", "ada", "olive"}, 303, {}),
    ("GET", "/admin/throttles", {"ada"}, 200, None),
    ("POST", "/admin/throttles/{throttle}/clear", {"ada"}, 303, {}),
    ("GET", "/account/password", {"alice", "tom", "ada", "olive"}, 200, None),
    ("POST", "/account/password", {"alice", "tom", "ada", "olive"}, 303,
     {"current_password": PASSWORD, "new_password": "plum kettle orbit lantern",
      "new_password_again": "plum kettle orbit lantern"}),
    ("POST", "/logout", {"alice", "tom", "ada", "olive"}, 303, {}),
]
PUBLIC = {("GET", "/login"), ("POST", "/login")}  # tested on their own below


def _fill(template: str, world: dict) -> str:
    return template.format(end=world["start"] + 3, **world)


def _form(data: dict | None, world: dict) -> dict:
    return {k: ([_fill(x, world) for x in v] if isinstance(v, list) else _fill(v, world))
            for k, v in (data or {}).items()}


def test_the_matrix_covers_every_route() -> None:
    import importlib
    import pkgutil

    import reviewers.pages

    routes = {
        (m, r.path)
        for info in pkgutil.iter_modules(reviewers.pages.__path__)
        for r in importlib.import_module(f"reviewers.pages.{info.name}").router.routes
        if isinstance(r, APIRoute) for m in r.methods
    }
    assert len(routes) > 20
    listed = {(m, re.sub(r"\{(\w+)\}", "{x}", p)) for m, p, *_ in ROUTES} | PUBLIC
    assert {(m, re.sub(r"\{(\w+)\}", "{x}", p)) for m, p in routes} == listed


@pytest.mark.parametrize("method,path,allowed,ok,data", ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_role_route_matrix(app, store, world, method, path, allowed, ok, data) -> None:
    if "{shared" in path or "{submitted" in path:
        world = shared_world(store, world)
    url = _fill(path, world)
    form = _form(data, world)
    # Anonymous: pages send the browser to sign in; media, captions and changes get 401.
    anon = Client(app)
    response = anon.get(url) if method == "GET" else anon.post(url, form)
    if method == "GET" and "/media" not in url:
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == 401
    # Signed in with another role: 403, with a valid CSRF token so only the role refuses it.
    for name in SIGNED_IN:
        if name in allowed:
            continue
        other = Client(app, name)
        response = other.get(url) if method == "GET" else other.post(url, form)
        assert response.status_code == 403, (name, response.text[:300])
    # Every right role: the route works for each (a page every role may see, each of them).
    for name in sorted(allowed):
        who = Client(app, name)
        response = who.get(url) if method == "GET" else who.post(url, form)
        assert response.status_code == ok, (name, response.text[:500])


# --- object-level access ---------------------------------------------------------------------


def test_a_tip_cannot_reach_another_tips_item_or_draft(app, store, world) -> None:
    bob = Client(app, "bob")
    item, annotation = world["item"], world["annotation"]
    assert bob.get(f"/items/{item}").status_code == 403
    assert bob.get(f"/items/{item}/media", headers={"Range": "bytes=0-9"}).status_code == 403
    assert bob.post(f"/items/{item}/annotations", _form(ANNOTATION, world)).status_code == 403
    assert bob.post(f"/items/{item}/release").status_code == 403
    assert bob.post(f"/items/{item}/reviewed").status_code == 403
    assert bob.post(f"/flags/{world['flag']}/feedback", {"relevant": "no"}).status_code == 403
    # Another's draft does not exist as far as bob can tell.
    assert bob.get(f"/annotations/{annotation}/edit").status_code == 404
    assert bob.post(f"/annotations/{annotation}", _form(ANNOTATION, world)).status_code == 404
    assert bob.post(f"/annotations/{annotation}/delete").status_code == 404
    # Claiming a held item is a conflict that names the holder.
    response = bob.post(f"/items/{item}/claim")
    assert response.status_code == 409 and "alice" in response.text
    assert store.annotation(annotation).feedback == "alice's draft"
    assert store.item_view(item).item.claimed_by == world["users"]["alice"]


def test_unknown_ids_are_404(app, world) -> None:
    alice = Client(app, "alice")
    assert alice.get("/items/999999").status_code == 404
    assert alice.get("/items/999999/media").status_code == 404
    assert alice.post("/items/999999/claim").status_code == 404
    assert alice.post("/flags/999999/feedback", {"relevant": "no"}).status_code == 404
    assert alice.get("/annotations/999999/edit").status_code == 404
    assert alice.get("/items/not-a-number").status_code == 422


def test_trainers_see_submitted_annotations_only(app, store, world) -> None:
    tom, alice = Client(app, "tom"), Client(app, "alice")
    assert "alice&#39;s draft" not in tom.get("/annotations").text
    assert tom.get(f"/items/{world['item']}").status_code == 403
    assert tom.get(f"/items/{world['item']}/media").status_code == 403
    assert tom.get("/queue").status_code == 403
    assert alice.post(f"/items/{world['item']}/reviewed").status_code == 303
    page = tom.get("/annotations").text
    assert "alice&#39;s draft" in page
    assert "alice&#39;s draft" not in tom.get("/annotations?teaching=1").text
    assert "alice&#39;s draft" in tom.get("/annotations?label=good+practice").text
    assert "alice&#39;s draft" not in tom.get("/annotations?label=distress").text
    assert tom.get("/annotations?label=nonsense").status_code == 400


# --- reviewing -------------------------------------------------------------------------------


def test_annotate_edit_delete_and_mark_reviewed(app, store, world) -> None:
    alice = Client(app, "alice")
    item = world["item"]
    response = alice.post(f"/items/{item}/annotations", _form(ANNOTATION, world))
    assert response.status_code == 303
    new_id = int(response.headers["location"].rsplit("-", 1)[1])
    row = store.annotation(new_id)
    assert (row.rating, row.teaching, row.submitted_at) == (4, True, None)
    assert row.labels == '["good practice", "distress"]'
    page = alice.get(f"/items/{item}").text
    assert "Calm and clear." in page and "(draft)" in page
    edit = {**_form(ANNOTATION, world), "rating": "", "labels": ["missed opportunity"],
            "feedback": "Ask about the children."}
    assert alice.post(f"/annotations/{new_id}", edit).status_code == 303
    row = store.annotation(new_id)
    assert (row.rating, row.labels, row.feedback) == (None, '["missed opportunity"]', "Ask about the children.")
    assert alice.post(f"/annotations/{world['annotation']}/delete").status_code == 303
    with pytest.raises(Exception, match="no annotation"):
        store.annotation(world["annotation"])
    # Mark one flag not relevant, add a missed moment, then finish: the rest are confirmed.
    flags = store.item_flags(item)
    assert alice.post(f"/flags/{flags[0].id}/feedback", {"relevant": "no"}).status_code == 303
    missed = {"category": "ace.neglect", "start_s": str(world["start"]), "end_s": str(world["start"] + 2)}
    assert alice.post(f"/items/{item}/missed", missed).status_code == 303
    assert alice.post(f"/items/{item}/reviewed").status_code == 303
    kinds = sorted(row.kind for row, _ in store.rubric_feedback())
    assert kinds == sorted(["not_relevant", "missed"] + ["confirmed"] * (len(flags) - 1))
    view = store.item_view(item).item
    assert (view.status, view.claimed_by, view.reviewed_by) == ("reviewed", None, world["users"]["alice"])
    assert store.annotation(new_id).submitted_at is not None
    # She can still open what she reviewed, read-only: no forms to change it.
    page = alice.get(f"/items/{item}").text
    assert 'id="annotate"' not in page and 'id="mark-reviewed"' not in page
    assert alice.post(f"/items/{item}/annotations", _form(ANNOTATION, world)).status_code == 403


def test_a_bad_annotation_lists_every_problem(app, store, world) -> None:
    alice = Client(app, "alice")
    bad = {"start_s": "30", "end_s": "10", "labels": ["good practice", "not-a-label"],
           "rating": "7", "feedback": "x"}
    response = alice.post(f"/items/{world['item']}/annotations", bad)
    assert response.status_code == 400
    text = response.text
    assert "must run forwards inside the file" in text
    assert "unknown labels: &#39;not-a-label&#39;" in text
    assert "the rating must be from 1 to 5" in text
    response = alice.post(f"/items/{world['item']}/annotations", {**bad, "start_s": "soon"})
    assert response.status_code == 400 and "the time range must be numbers of seconds" in response.text
    none = {"start_s": "1", "end_s": "2", "rating": ""}
    assert "choose at least one label" in alice.post(f"/items/{world['item']}/annotations", none).text
    assert len(store.item_annotations(world["item"], viewer_id=world["users"]["alice"])) == 1


def test_release_returns_the_item_to_the_queue(app, store, world) -> None:
    alice, bob = Client(app, "alice"), Client(app, "bob")
    assert alice.post(f"/items/{world['item']}/release", {"reason": "I know the family"}).status_code == 303
    assert store.item_view(world["item"]).item.status == "new"
    assert alice.get(f"/items/{world['item']}").status_code == 403
    assert bob.post(f"/items/{world['item']}/claim").status_code == 303
    assert bob.get(f"/items/{world['item']}").status_code == 200


def test_queue_filters_and_sorting(app, store, world) -> None:
    alice = Client(app, "alice")

    def ids(query: str) -> list[int]:
        response = alice.get(f"/queue?{query}")
        assert response.status_code == 200, response.text[:300]
        return [int(x) for x in re.findall(r'data-item="(\d+)"', response.text)]

    everything = ids("status=all")
    rows = {r.id: r for r in store.queue_page(_all(), offset=0, limit=100)[0]}
    assert everything == sorted(rows, key=lambda i: (-rows[i].priority, i))
    assert ids("status=claimed") == [world["item"]]
    assert ids("mine=1&status=all") == [world["item"]]
    assert world["item"] not in ids("status=new")
    disclosures = ids("status=all&family=disclosure")
    assert disclosures and all(rows[i].flags_by_family.get("disclosure") for i in disclosures)
    practice = ids("status=all&category=practice.validate")
    assert practice and all("practice.validate" in rows[i].categories for i in practice)
    assert ids("status=all&category=practice.validate&family=disclosure") == []
    assert ids("status=all&date_from=2000-01-01") == everything
    assert ids("status=all&date_to=2000-01-01") == []
    page = alice.get("/queue?status=all").text
    assert "alice" in page  # who holds the claimed item
    for bad in ("status=closed", "family=other", "category=ace", "sort=random", "date_from=yesterday"):
        assert alice.get(f"/queue?{bad}").status_code in (400, 422), bad


# --- CSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path,allowed,ok,data",
                         [r for r in ROUTES if r[0] == "POST"], ids=[p for m, p, *_ in ROUTES if m == "POST"])
def test_every_change_needs_the_csrf_token(app, store, world, method, path, allowed, ok, data) -> None:
    if "{shared" in path or "{submitted" in path:
        world = shared_world(store, world)
    who_name = sorted(allowed)[0]
    who = Client(app, who_name)
    url, form = _fill(path, world), _form(data, world)
    before = store.audit_page(offset=0, limit=1)[1]
    assert who.post(url, form, csrf=False).status_code == 403
    assert who.post(url, {**form, "csrf_token": "forged"}).status_code == 403
    other = Client(app, sorted(allowed)[0])  # a token from another session is no good either
    assert who.post(url, {**form, "csrf_token": other.csrf}).status_code == 403
    assert who.post(url, form, headers={"Origin": "https://evil.example"}).status_code == 403
    # Nothing changed (the one new audit row per sign-in aside), and each refusal is audited.
    rows, total = store.audit_page(offset=0, limit=6)
    assert total == before + 2 + 4
    assert [(r.actor, r.object, (r.detail or "").split(":")[0]) for r in rows if r.action == "refused"] == [
        (f"web:{who_name}", url, "403 POST")] * 4
    assert store.item_view(world["item"]).item.claimed_by == world["users"]["alice"]
    assert who.post(url, form).status_code == ok  # and with the token it works


def test_login_form_needs_its_token(app) -> None:
    anon = Client(app)
    response = anon.http.post("/login", data={"name": "alice", "password": PASSWORD, "login_token": "x"})
    assert response.status_code == 403
    assert "bwv_session" not in anon.http.cookies


# --- escaping ----------------------------------------------------------------------------------


def test_markup_from_footage_and_names_is_shown_as_text(app, store, world) -> None:
    alice = Client(app, "alice")
    queue = alice.get("/queue").text
    assert HOSTILE_NAME not in queue
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; call.mp4" in queue
    item = world["hostile_item"]
    assert alice.post(f"/items/{item}/claim").status_code == 303
    page = alice.get(f"/items/{item}").text
    for raw in HOSTILE_WORDS:
        assert raw not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    tags = _tags(page)
    assert not [t for t in tags if t[0] == "img" or any(a.startswith("on") for a, _ in t[1])]
    assert [dict(a).get("src") for t, a in tags if t == "script"] == ["/static/review.js"]
    assert not [t for t in tags if "style" in dict(t[1])]
    # Markup typed by a user (feedback) and a hostile sign-in name in the audit log.
    form = {"start_s": "1", "end_s": "2", "labels": ["distress"], "feedback": HOSTILE_WORDS[1]}
    assert alice.post(f"/items/{item}/annotations", form).status_code == 303
    assert HOSTILE_WORDS[1] not in alice.get(f"/items/{item}").text
    Client(app).sign_in("<b>mallory</b>", "wrong password here")
    audit = Client(app, "ada").get("/admin/audit").text
    assert "<b>mallory</b>" not in audit and "&lt;b&gt;mallory&lt;/b&gt;" in audit


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag in a page, as a browser's parser sees it."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(page)
    return found


def test_templates_autoescape_everything() -> None:
    env = make_templates().env
    assert env.autoescape is True  # not select_autoescape: whatever the file's extension
    assert env.from_string("{{ x }}").render(x="<i>") == "&lt;i&gt;"
    templates = Path(__file__).resolve().parent.parent / "reviewers" / "templates"
    for path in templates.iterdir():
        text = path.read_text()
        assert "|safe" not in text.replace(" ", "") and "Markup(" not in text, path.name
        assert "<script>" not in text and "style=" not in text, path.name


# --- media: Range requests and headers ----------------------------------------------------------


def test_media_supports_range_requests(app, store, world, review_home) -> None:
    alice = Client(app, "alice")
    url = f"/items/{world['item']}/media"
    full = alice.get(url)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes"
    data, size = full.content, len(full.content)
    assert data[4:8] == b"ftyp"
    from pipeline.review.proxy import proxy_path

    proxy = proxy_path(review_home, store.item_view(world["item"]).media.sha256)  # this item's
    assert size > 10_000
    part = alice.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == data[100:200]
    tail = alice.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    rest = alice.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert rest.status_code == 206 and rest.content == data[-10:]
    beyond = alice.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    for response in (full, part, beyond):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    # The proxy is H.264/AAC, made from the original, which is untouched.
    import json
    import subprocess

    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                            "-of", "json", str(proxy)], capture_output=True, check=True, text=True)
    assert sorted(s["codec_name"] for s in json.loads(probe.stdout)["streams"]) == ["aac", "h264"]
    assert proxy.read_bytes() == data
    media = store.get_media(world["media"])
    import hashlib

    original = (review_home.home / media.store_path).read_bytes()
    assert hashlib.sha256(original).hexdigest() == media.sha256
    streams = [row for row in store.audit_page(offset=0, limit=50, action="stream")[0]]
    assert len(streams) == 5 and all(r.actor == "web:alice" for r in streams)


def test_security_headers_everywhere(app, world) -> None:
    alice = Client(app, "alice")
    for url in ("/login", "/queue", f"/items/{world['item']}", "/static/app.css", "/items/999999",
                "/static/review.js"):
        response = (Client(app) if url == "/login" else alice).get(url)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"  # nothing leaves the site
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
    assert Client(app).get("/docs").status_code == 404  # no unauthenticated API docs
    assert Client(app).get("/openapi.json").status_code == 404


# --- sessions, sign-in and accounts ----------------------------------------------------------


def test_session_cookie_flags_and_revocation(app, store, world) -> None:
    alice = Client(app)
    response = alice.sign_in("alice")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    first = alice.http.cookies["bwv_session"]
    media = f"/items/{world['item']}/media"
    assert alice.get(media, headers={"Range": "bytes=0-1"}).status_code == 206
    assert alice.post("/logout").status_code == 303
    alice.http.cookies.set("bwv_session", first)  # replaying the old cookie does not work
    assert alice.get(media).status_code == 401
    assert alice.get("/queue").status_code == 303
    again = Client(app, "alice")
    assert again.http.cookies["bwv_session"] != first  # a new token at every sign-in
    # Disabling the account ends its sessions at once.
    ada = Client(app, "ada")
    assert ada.post(f"/admin/users/{world['users']['alice']}", {"action": "disable"}).status_code == 303
    assert again.get(media).status_code == 401
    assert Client(app).sign_in("alice").status_code == 401
    assert ada.post(f"/admin/users/{world['users']['ada']}", {"action": "disable"}).status_code == 400


def test_cookies_are_secure_over_https(app) -> None:
    client = Client(app, base_url="https://testserver")
    response = client.sign_in("alice")
    assert "Secure" in response.headers["set-cookie"]
    assert "strict-transport-security" in response.headers


def test_sessions_expire_when_idle(app, world, monkeypatch) -> None:
    alice = Client(app, "alice")
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=20))
    assert alice.get("/queue").status_code == 200  # activity keeps it alive
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=49))
    assert alice.get("/queue").status_code == 200
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=80))
    assert alice.get("/queue").status_code == 303


def test_failed_sign_ins_are_throttled_and_audited(app, store, monkeypatch) -> None:
    # The rules in full (other addresses, known devices, the race): tests/test_sign_in.py.
    anon = Client(app)
    for _ in range(5):
        response = anon.sign_in("alice", "not the password")
        assert response.status_code == 401
        assert "wrong user name or password" in response.text
    response = anon.sign_in("alice")  # the right password, but from here it waits a second
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    actions = [r.action for r in store.audit_page(offset=0, limit=10, actor="web:alice")[0]]
    assert actions[0] == "login-throttled" and actions.count("login-failed") == 5
    assert Client(app).sign_in("bob").status_code == 303  # others are not held up
    later = clock.now() + timedelta(seconds=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert anon.sign_in("alice").status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for_on_this_site_only(app, world) -> None:
    anon = Client(app)
    response = anon.get(f"/items/{world['item']}")
    assert response.headers["location"] == f"/login?next=/items/{world['item']}"
    for target, expected in ((f"/items/{world['item']}", f"/items/{world['item']}"),
                             ("//evil.example/x", "/queue"), ("https://evil.example", "/queue")):
        client = Client(app)
        page = client.http.get("/login", params={"next": target})
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        response = client.http.post("/login", data={"name": "alice", "password": PASSWORD,
                                                     "login_token": token, "next": target})
        assert response.headers["location"] == expected


def test_admin_manages_users(app, store) -> None:
    ada = Client(app, "ada")
    form = {"name": "carol", "role": "trainer", "password": "short"}
    response = ada.post("/admin/users", form)
    assert response.status_code == 400 and "at least 12 characters" in response.text
    response = ada.post("/admin/users", {**form, "password": "password1234"})
    assert response.status_code == 400 and "This is a very common password." in response.text
    assert ada.post("/admin/users", {**form, "password": "a long enough passphrase"}).status_code == 303
    assert ada.post("/admin/users", {**form, "password": "a long enough passphrase"}).status_code == 400
    carol = store.user_by_name("carol")
    assert carol.role == "trainer" and carol.password_hash.startswith("$argon2id$")
    assert Client(app).sign_in("carol", "a long enough passphrase").status_code == 303
    assert ada.post(f"/admin/users/{carol.id}", {"action": "role", "role": "tip"}).status_code == 303
    assert store.user_by_name("carol").role == "tip"
    assert ada.post(f"/admin/users/{carol.id}", {"action": "role", "role": "god"}).status_code == 400
    assert ada.post("/admin/users/999999", {"action": "disable"}).status_code == 404
    weak = ada.post(f"/admin/users/{carol.id}", {"action": "password", "password": "qwertyuiopasdf"})
    assert weak.status_code == 400 and "This is similar to a commonly used password." in weak.text
    assert ada.post(f"/admin/users/{carol.id}",
                    {"action": "password", "password": "plum kettle orbit lantern"}).status_code == 303
    assert Client(app).sign_in("carol", "plum kettle orbit lantern").status_code == 303
    users = ada.get("/admin/users").text
    assert "carol" in users and "argon2" not in users


# --- audit -------------------------------------------------------------------------------------


def test_every_view_stream_and_annotation_is_audited(app, store, world) -> None:
    alice = Client(app, "alice")
    before = store.audit_page(offset=0, limit=1)[1]
    alice.get(f"/items/{world['item']}")
    alice.get(f"/items/{world['item']}/media", headers={"Range": "bytes=0-1"})
    alice.post(f"/items/{world['item']}/annotations", _form(ANNOTATION, world))
    rows, total = store.audit_page(offset=0, limit=3)
    assert total == before + 3
    assert [(r.actor, r.action, r.object.split(":")[0]) for r in reversed(rows)] == [
        ("web:alice", "view", "review_item"), ("web:alice", "stream", "media"),
        ("web:alice", "annotation-add", "annotation"),
    ]
    assert rows[0].at.tzinfo is None or rows[0].at.utcoffset() == timedelta(0)
    assert store.verify_audit_chain()
    page = Client(app, "ada").get("/admin/audit?actor=web:alice").text
    assert "The hash chain is intact." in page and "annotation-add" in page


def test_the_audit_page_shows_a_rewritten_chain_as_broken(app, store) -> None:
    """Issue 14: after editing a row and recomputing the later hashes with plain SHA-256,
    the page said "intact"."""
    from test_store import _rechain_with_sha256

    last = store.audit_page(offset=0, limit=1)[0][0].id
    _rechain_with_sha256(store, last - 1)
    page = Client(app, "ada").get("/admin/audit").text
    assert "The hash chain is intact." not in page
    assert "The hash chain is BROKEN" in page
    assert f"row {last - 1}: changed after it was written" in page


def test_the_audit_page_shows_the_anchors(app, store, review_home) -> None:
    from pipeline.store import open_instance

    open_instance(review_home).anchor_audit(actor="test", note="nightly")
    page = Client(app, "ada").get("/admin/audit").text
    assert "The hash chain is intact." in page
    assert re.search(r"intact: \d+ rows, last anchor \S+Z at \d+ rows", page)


# --- concurrent claims -------------------------------------------------------------------------


# Many claimers at once through the store, on SQLite and PostgreSQL: tests/test_store.py.


def test_two_browsers_claiming_one_item_over_http(app, store, world) -> None:
    alice, bob = Client(app, "alice"), Client(app, "bob")
    item = world["spare"]
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def go(name: str, client: Client) -> None:
        barrier.wait()
        statuses[name] = client.post(f"/items/{item}/claim").status_code

    threads = [threading.Thread(target=go, args=a) for a in (("alice", alice), ("bob", bob))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses.values()) == [303, 409]
    winner = next(n for n, s in statuses.items() if s == 303)
    assert store.item_view(item).item.claimed_by == world["users"][winner]


# --- issue 14: refusals audited, submitted annotations kept, claims released, limits, sessions ----


def test_refusals_are_audited_with_who_where_and_why(app, store, world) -> None:
    """403s, 404s on protected objects, CSRF failures and refused exports left no audit row."""
    bob, tom = Client(app, "bob"), Client(app, "tom")
    item, annotation, spare = world["item"], world["annotation"], world["spare"]
    assert bob.get(f"/items/{item}").status_code == 403
    assert bob.get(f"/annotations/{annotation}/edit").status_code == 404
    assert bob.post(f"/items/{spare}/claim", csrf=False).status_code == 403
    assert tom.get("/queue").status_code == 403
    forged = {"name": "alice", "password": PASSWORD, "login_token": "forged"}
    assert Client(app).http.post("/login", data=forged).status_code == 403
    rows = store.audit_page(offset=0, limit=10, action="refused")[0]
    assert [(r.actor, r.object, r.detail) for r in reversed(rows)] == [
        ("web:bob", f"/items/{item}", f"403 GET: review item {item} is not yours: claim it from the queue first"),
        ("web:bob", f"/annotations/{annotation}/edit", f"404 GET: no annotation {annotation}"),
        ("web:bob", f"/items/{spare}/claim",
         "403 POST: the form has expired or did not come from this site: reload the page"),
        ("web:tom", "/queue", "403 GET: this page is for the tip role"),
        ("anonymous:not-an-address", "/login", "403 POST: the sign-in form has expired: reload the page and try again"),
    ]
    # A refused export is audited once, as the export's refusal.
    form = {"annotation_ids": [str(annotation)], "reason": "module 3", "recipient": "L&D"}
    assert tom.post("/teach/review", form).status_code == 404  # alice's draft
    refused = store.audit_page(offset=0, limit=5, action="teach-export-refused")[0]
    assert [(r.actor, r.object, r.detail) for r in refused] == [
        ("web:tom", f"annotations:{annotation}", f"no submitted annotation {annotation}")]
    assert store.audit_page(offset=0, limit=1, action="refused")[1] == 5


def test_a_pack_of_more_than_50_moments_is_refused_with_a_clear_message(app, store, world) -> None:
    """801 ids were accepted for one teaching pack."""
    tom = Client(app, "tom")
    form = {"annotation_ids": [str(i) for i in range(1, 802)], "reason": "module 3", "recipient": "L&D"}
    for route in ("/teach/review", "/teach/export"):
        response = tom.post(route, form)
        assert response.status_code == 400
        assert "a pack holds at most 50 moments, not 801: export them in several packs" in response.text
    refused = store.audit_page(offset=0, limit=5, action="teach-export-refused")[0]
    assert [(r.actor, r.object.endswith(",...(+781)")) for r in refused] == [("web:tom", True)] * 2


def test_a_submitted_annotation_is_corrected_as_a_new_version_never_changed(app, store, world) -> None:
    """Submitted annotations could be edited and deleted after review, and the audit row did not
    keep the old content."""
    from pipeline.review.items import content_digest

    alice, tom = Client(app, "alice"), Client(app, "tom")
    item, note = world["item"], world["annotation"]
    assert alice.post(f"/items/{item}/reviewed").status_code == 303
    assert "Save the correction" in alice.get(f"/annotations/{note}/edit").text
    edit = {**_form(ANNOTATION, world), "feedback": "Ask about the children.", "teaching": ""}
    response = alice.post(f"/annotations/{note}", edit)
    assert response.status_code == 303
    newer = int(response.headers["location"].rsplit("-", 1)[1])
    old, new = store.annotation(note), store.annotation(newer)
    assert newer != note and (old.feedback, old.superseded_at is not None) == ("alice's draft", True)
    assert (new.feedback, new.supersedes_id, new.submitted_at is not None) == ("Ask about the children.", note, True)
    [row] = store.audit_page(offset=0, limit=5, action="annotation-correct")[0]
    assert (row.actor, row.object, row.detail) == (
        "web:alice", f"annotation:{newer}",
        f"corrects annotation:{note} (kept); old sha256={content_digest(old)} new sha256={content_digest(new)}")
    trainers = tom.get("/annotations").text
    assert "Ask about the children." in trainers and "alice&#39;s draft" not in trainers
    page = alice.get(f"/items/{item}").text
    assert f"corrects annotation {note}" in page and f"/annotations/{newer}/delete" not in page
    # Deleting the submitted version, or correcting the old one again, is refused.
    response = alice.post(f"/annotations/{newer}/delete")
    assert response.status_code == 409 and "cannot be deleted: save a correction instead" in response.text
    response = alice.post(f"/annotations/{note}", edit)
    assert response.status_code == 409 and f"was corrected by annotation {newer}: open that one" in response.text
    assert [r.annotation.id for r in store.item_annotations(item, viewer_id=world["users"]["alice"])] == [newer]
    assert store.annotation(note).feedback == "alice's draft"


def test_disabling_an_account_releases_its_claims_and_an_admin_releases_any(app, store, world,
                                                                            review_home) -> None:
    """A disabled user's claims stayed claimed for ever."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    ada, bob = Client(app, "ada"), Client(app, "bob")
    item, spare = world["item"], world["spare"]
    assert bob.post(f"/items/{spare}/claim").status_code == 303
    page = ada.get("/admin/claims").text
    assert f'id="claim-{item}"' in page and f'id="claim-{spare}"' in page
    assert ada.post(f"/admin/claims/{spare}/release").status_code == 303
    assert store.item_view(spare).item.status == "new"
    response = ada.post(f"/admin/claims/{spare}/release")
    assert response.status_code == 409 and "not claimed: nothing to release" in response.text
    assert ada.post(f"/admin/users/{world['users']['alice']}", {"action": "disable"}).status_code == 303
    assert store.item_view(item).item.status == "new"
    assert store.annotation(world["annotation"]).submitted_at is None  # her draft stays hers
    # bwv user disable does the same.
    assert bob.post(f"/items/{spare}/claim").status_code == 303
    result = CliRunner().invoke(cli, ["--home", str(review_home.home), "user", "disable", "bob"])
    assert (result.exit_code, result.output) == (0, f"disabled bob; released 1 claimed item: {spare}\n")
    assert store.item_view(spare).item.status == "new"
    rows = store.audit_page(offset=0, limit=5, action="release")[0]
    assert [(r.actor.split(":")[0], r.object, r.detail) for r in reversed(rows)] == [
        ("web", f"review_item:{spare}", "claim of bob released by an admin"),
        ("web", f"review_item:{item}", "claim of alice released: account disabled"),
        ("cli", f"review_item:{spare}", "claim of bob released: account disabled"),
    ]


def test_a_missed_moment_must_be_one_of_the_rubrics_categories(app, store, world) -> None:
    """A missed moment accepted `harm.domestic_abuse.anything-goes<b>`."""
    alice = Client(app, "alice")
    bad = {"category": "harm.domestic_abuse.anything-goes<b>", "start_s": str(world["start"]),
           "end_s": str(world["start"] + 2)}
    response = alice.post(f"/items/{world['item']}/missed", bad)
    assert response.status_code == 400
    assert "unknown category &#39;harm.domestic_abuse.anything-goes&lt;b&gt;&#39;" in response.text
    assert "choose one of the categories of rubric trauma_informed@" in response.text
    assert [row for row, _ in store.rubric_feedback() if row.kind == "missed"] == []
    assert alice.post(f"/items/{world['item']}/missed", {**bad, "category": "harm.domestic_abuse"}).status_code == 303


def test_an_item_holds_at_most_200_annotations(app, store, world) -> None:
    """800 annotations of 10,000 characters once made an 8.5 MB review page."""
    alice = Client(app, "alice")
    for _ in range(198):  # with alice's draft, 199
        store.add_annotation(media_id=world["media"], review_item_id=world["item"],
                             author_id=world["users"]["alice"], start_s=world["start"],
                             end_s=world["start"] + 1, labels=["distress"], rating=None, feedback="x",
                             teaching=False)
    assert alice.post(f"/items/{world['item']}/annotations", _form(ANNOTATION, world)).status_code == 303
    response = alice.post(f"/items/{world['item']}/annotations", _form(ANNOTATION, world))
    assert response.status_code == 400
    assert (f"review item {world['item']} already holds 200 annotations, the most one item may hold: "
            "change an existing one, or put several points in one annotation") in response.text
    assert store.count_item_annotations(world["item"], viewer_id=world["users"]["alice"]) == 200
    # An attacker's finding: those drafts, which no one else can see or change, once blocked
    # the item for everyone after alice released it. They do not count against bob.
    assert alice.post(f"/items/{world['item']}/release", {"reason": "end of shift"}).status_code == 303
    bob = Client(app, "bob")
    assert bob.post(f"/items/{world['item']}/claim").status_code == 303
    assert store.count_item_annotations(world["item"], viewer_id=world["users"]["bob"]) == 0
    assert bob.post(f"/items/{world['item']}/annotations", _form(ANNOTATION, world)).status_code == 303


def test_the_sessions_page_lists_live_sessions_and_ends_the_others(app, store, world) -> None:
    """Signing in again left the earlier session valid, with no way to see or end it."""
    laptop, phone = Client(app, "alice"), Client(app, "alice")
    page = laptop.get("/sessions").text
    refs = re.findall(r'id="session-([0-9a-f]{16})"', page)
    assert len(refs) == 2 and page.count("this browser") == 1
    other = next(r for r in refs if f'name="session" value="{r}"' in page)
    own = next(r for r in refs if r != other)
    stored = [w.id for w in store.user_sessions(world["users"]["alice"])]
    assert not [r for r in refs if any(r in s for s in stored)]  # never the stored hash
    response = laptop.post("/sessions/end", {"session": own})
    assert response.status_code == 400 and "use Sign out to end it" in response.text
    assert Client(app, "bob").post("/sessions/end", {"session": other}).status_code == 404  # not bob's
    assert phone.get("/queue").status_code == 200
    assert laptop.post("/sessions/end", {"session": other}).status_code == 303
    assert phone.get("/queue").status_code == 303  # signed out: off to sign in
    assert laptop.get("/queue").status_code == 200
    [row] = store.audit_page(offset=0, limit=5, action="session-end")[0]
    assert (row.actor, row.object) == ("web:alice", f"session:{other}")
    second, third = Client(app, "alice"), Client(app, "alice")
    assert laptop.post("/sessions/end-others").status_code == 303
    assert second.get("/queue").status_code == 303 and third.get("/queue").status_code == 303
    assert laptop.get("/queue").status_code == 200
    assert len(re.findall(r'id="session-', laptop.get("/sessions").text)) == 1


# --- issue 15: forms sent back with their problems, reasons, captions, the next item, search ---


def test_empty_date_boxes_filter_nothing(app, world) -> None:
    """The queue's Filter sends its empty date boxes (and search box): it answered 422."""
    alice = Client(app, "alice")
    everything = alice.get("/queue?status=all").text
    response = alice.get("/queue?q=&status=all&family=&category=&date_from=&date_to=&sort=priority")
    assert response.status_code == 200, response.text[:300]
    assert re.findall(r'data-item="(\d+)"', response.text) == re.findall(r'data-item="(\d+)"', everything)
    assert 'name="date_from" value=""' in response.text


def _error(page: str, field_id: str) -> str:
    """The problem said next to a field, which names it (every one is a role=alert)."""
    found = re.search(rf'<p class="field-error" id="{field_id}-error" role="alert"[^>]*>([^<]*)</p>', page)
    assert found, f"no problem said for {field_id}"
    return found.group(1)


def test_a_refused_form_comes_back_filled_in_with_each_problem_by_its_field(app, store, world) -> None:
    """"choose at least one label" was a full page saying "Bad request"; the form was lost."""
    alice, bob = Client(app, "alice"), Client(app, "bob")
    item = world["item"]
    bad = {"start_s": "30", "end_s": "10", "rating": "7", "feedback": "Calm <b>tone</b>", "teaching": "on"}
    response = alice.post(f"/items/{item}/annotations", bad)
    page = response.text
    assert response.status_code == 400 and 'id="annotate"' in page
    assert "must run forwards inside the file" in _error(page, "annotate-range")
    assert _error(page, "annotate-labels") == "choose at least one label"
    assert _error(page, "annotate-rating") == "the rating must be from 1 to 5"
    # Each field names its problem; the first problem's field has the focus.
    assert re.search(r'id="mark-in"[^>]*value="30.00" aria-invalid="true" '
                     r'aria-describedby="annotate-range-error" autofocus>', page)
    assert re.search(r'id="mark-out"[^>]*value="10.00" aria-invalid="true" '
                     r'aria-describedby="annotate-range-error">', page)
    assert '<fieldset class="labels" aria-describedby="annotate-labels-error">' in page
    assert page.count("autofocus") == 1
    assert ">Calm &lt;b&gt;tone&lt;/b&gt;</textarea>" in page and 'id="teaching" value="on" checked' in page
    # A label sent is kept; a time that is no number is said to be one.
    response = alice.post(f"/items/{item}/annotations", {**bad, "start_s": "soon", "labels": ["distress"]})
    assert _error(response.text, "annotate-range") == "the time range must be numbers of seconds"
    assert 'value="distress" checked' in response.text and "annotate-labels-error" not in response.text
    # A missed moment, a dismissal and a release: each said by its own form.
    response = alice.post(f"/items/{item}/missed", {"category": "distress", "start_s": "9", "end_s": "2",
                                                    "note": "sobbing"})
    assert response.status_code == 400 and "must run forwards" in _error(response.text, "missed-range")
    assert 'value="sobbing"' in response.text and 'value="9.00"' in response.text
    response = alice.post(f"/items/{item}/dismiss", {"reason": "  "})
    assert response.status_code == 400
    assert _error(response.text, "dismiss-reason") == "say why you dismiss this item"
    assert '<details class="close-item" id="dismiss-box" open>' in response.text
    response = alice.post(f"/items/{item}/release", {"reason": "x" * 501})
    assert _error(response.text, "release-reason") == "the reason must be at most 500 characters"
    # Still hers, unchanged; someone else is refused as before, not shown her page.
    assert store.item_view(item).item.status == "claimed"
    assert len(store.item_annotations(item, viewer_id=world["users"]["alice"])) == 1
    assert [r for r, _ in store.rubric_feedback() if r.kind == "missed"] == []
    assert bob.post(f"/items/{item}/dismiss", {"reason": ""}).status_code == 403
    assert bob.post(f"/items/{item}/annotations", bad).status_code == 403


def test_dismiss_and_release_keep_their_reason_audited_and_the_queue_shows_it(app, store, world) -> None:
    alice, bob = Client(app, "alice"), Client(app, "bob")
    item, spare = world["item"], world["spare"]
    response = alice.post(f"/items/{item}/release", {"reason": " needs a Welsh speaker "})
    assert (response.status_code, response.headers["location"]) == (303, "/queue")
    view = store.item_view(item).item
    assert (view.status, view.reason, view.reason_by) == ("new", "needs a Welsh speaker", world["users"]["alice"])
    queue = alice.get("/queue").text  # the note, said once
    assert f"Item {item} released back to the queue." in queue
    assert f"Item {item} released" not in alice.get("/queue").text
    assert "released by alice: <q>needs a Welsh speaker</q>" in queue
    assert bob.post(f"/items/{item}/claim").status_code == 303
    assert bob.post(f"/items/{item}/dismiss", {"reason": "a <b>duplicate</b>"}).status_code == 303
    view = store.item_view(item).item
    assert (view.status, view.reviewed_by, view.reason) == ("dismissed", world["users"]["bob"], "a <b>duplicate</b>")
    assert "dismissed by bob: <q>a &lt;b&gt;duplicate&lt;/b&gt;</q>" in bob.get("/queue?status=dismissed").text
    page = bob.get(f"/items/{item}").text  # read-only, with why
    assert "Dismissed on " in page and "Why: a &lt;b&gt;duplicate&lt;/b&gt;" in page
    assert alice.post(f"/items/{spare}/claim").status_code == 303
    assert alice.post(f"/items/{spare}/reviewed").status_code == 303
    assert "reviewed by alice" in alice.get("/queue?status=reviewed").text
    rows = store.audit_page(offset=0, limit=20)[0]
    assert [(r.actor, r.action, r.object, r.detail) for r in reversed(rows)
            if r.action in ("release", "dismissed", "reviewed")] == [
        ("web:alice", "release", f"review_item:{item}", "needs a Welsh speaker"),
        ("web:bob", "dismissed", f"review_item:{item}", "a <b>duplicate</b>"),
        ("web:alice", "reviewed", f"review_item:{spare}", None),
    ]


def test_captions_are_the_transcript_for_whoever_may_watch_the_footage(app, store, world) -> None:
    alice, bob, tom = Client(app, "alice"), Client(app, "bob"), Client(app, "tom")
    item = world["item"]
    url = f"/items/{item}/media/captions.vtt"
    response = alice.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "text/vtt; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    text = response.text
    assert text.startswith("WEBVTT\n\n")
    # The player plays the whole file: the cues keep the file's times.
    first = store.load_segments(world["media"])[0]
    assert f"{first.start_s // 60:02.0f}:{first.start_s % 60:06.3f} --> " in text.split("\n")[2]
    assert "neighbour" in text
    assert f'<track kind="captions" srclang="en" label="English" src="{url}" default>' in alice.get(
        f"/items/{item}").text
    # Markup spoken in the footage is cue text, never a cue tag.
    hostile = world["hostile_item"]
    assert alice.post(f"/items/{hostile}/claim").status_code == 303
    cues = alice.get(f"/items/{hostile}/media/captions.vtt").text
    assert "<script>" not in cues and "&lt;script&gt;alert('x')&lt;/script&gt;" in cues
    # The footage's rule: another TIP, a trainer and an admin are refused; signed out, 401.
    for other in (bob, tom, Client(app, "ada")):
        assert other.get(url).status_code == 403
    assert Client(app).get(url).status_code == 401
    assert alice.get("/items/999999/media/captions.vtt").status_code == 404
    rows = store.audit_page(offset=0, limit=30)[0]
    assert [(r.actor, r.object, r.detail) for r in reversed(rows) if r.action == "captions"] == [
        ("web:alice", f"media:{world['media']}", f"review_item:{item}"),
        ("web:alice", f"media:{store.item_view(hostile).media.id}", f"review_item:{hostile}"),
    ]
    assert [r.actor for r in reversed(rows) if r.action == "refused" and r.object == url] == [
        "web:bob", "web:tom", "web:ada", "anonymous:not-an-address"]  # the 401 too
    # Once she has reviewed it, she may still watch it, captions too.
    assert alice.post(f"/items/{item}/reviewed").status_code == 303
    assert alice.get(url).status_code == 200


def test_captions_escape_cue_text_and_keep_times_past_an_hour() -> None:
    from pipeline.records import Segment
    from pipeline.review.items import captions_vtt

    vtt = captions_vtt([
        Segment(0.0, 1.5, " a --> b & <c.x>\n\nnew line", ()),
        Segment(2.0, 2.0, "no time", ()), Segment(3.0, 4.0, "   ", ()),  # dropped
        Segment(3725.5, 3726.25, "later", ()),
    ])
    assert vtt == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\na --&gt; b &amp; &lt;c.x&gt; new line\n\n"
                   "01:02:05.500 --> 01:02:06.250\nlater\n")


def test_the_next_item_is_the_most_urgent_nobody_holds(app, store, world) -> None:
    alice = Client(app, "alice")
    item = world["item"]
    response = alice.post(f"/items/{item}/reviewed")
    assert (response.status_code, response.headers["location"]) == (303, "/queue")
    queue = alice.get("/queue").text
    assert f'<p class="done" role="status" id="status-message" tabindex="-1">Item {item} marked reviewed' in queue
    assert '<form method="post" action="/queue/next" class="next">' in queue
    waiting = store.queue_page(_all(), offset=0, limit=100)[0]
    top = max((r for r in waiting if r.status == "new"), key=lambda r: (r.priority, -r.id))
    response = alice.post("/queue/next")
    assert (response.status_code, response.headers["location"]) == (303, f"/items/{top.id}")
    assert store.item_view(top.id).item.claimed_by == world["users"]["alice"]
    [row] = store.audit_page(offset=0, limit=1, action="claim")[0]
    assert (row.actor, row.object, row.detail) == ("web:alice", f"review_item:{top.id}", "next item")
    while (response := alice.post("/queue/next")).headers["location"] != "/queue":
        assert response.headers["location"].startswith("/items/")
    assert "No item is waiting to be claimed." in alice.get("/queue").text
    assert Client(app, "tom").post("/queue/next").status_code == 403


def test_the_queue_search_finds_file_names_and_what_flags_quote(app, store, world) -> None:
    alice = Client(app, "alice")

    def ids(query: str) -> list[int]:
        response = alice.get("/queue", params={"status": "all", "q": query})
        assert response.status_code == 200, response.text[:300]
        return [int(x) for x in re.findall(r'data-item="(\d+)"', response.text)]

    rows = {r.id: r for r in store.queue_page(_all(), offset=0, limit=100)[0]}
    hallway = [i for i in ids("") if "hallway" in rows[i].name]
    assert hallway and ids("HALLWAY") == hallway
    assert ids("<script>alert(") == [world["hostile_item"]]  # the flag's quote, not the file name
    assert ids("%") == [] and ids("no such words") == []
    quoted = store.item_flags(world["item"])[0].text
    assert world["item"] in ids(quoted.upper())
    assert f'value="{HOSTILE_WORDS[0]}"' not in alice.get("/queue", params={"q": HOSTILE_WORDS[0]}).text
    assert alice.get("/queue", params={"q": "x" * 101}).status_code == 422


def test_notes_after_a_change_are_said_once_where_the_page_lands(app, store, world) -> None:
    alice = Client(app, "alice")
    item = world["item"]
    response = alice.post(f"/items/{item}/annotations", _form(ANNOTATION, world))
    saved = int(response.headers["location"].rsplit("-", 1)[1])
    assert "bwv_done=saved" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    page = alice.get(f"/items/{item}").text
    # In the saved annotation, which takes the focus when the page lands on its #fragment.
    assert re.search(rf'<article class="annotation" id="annotation-{saved}" tabindex="-1">(?:(?!</article>).)*'
                     r'<p class="done" role="status" id="status-message">Annotation saved', page, re.S)
    assert "Annotation saved" not in alice.get(f"/items/{item}").text
    flag = world["flag"]
    assert alice.post(f"/flags/{flag}/feedback", {"relevant": "no"}).status_code == 303
    assert re.search(rf'<li id="flag-{flag}" class="flag [^"]*" tabindex="-1">(?:(?!</li>).)*'
                     r'Flag marked not relevant\.', alice.get(f"/items/{item}").text, re.S)
    # A forged note says nothing.
    alice.http.cookies.set("bwv_done", "<b>owned</b>")
    assert "owned" not in alice.get(f"/items/{item}").text


def test_another_tips_closed_item_is_refused_without_sending_them_to_claim_it(app, store, world) -> None:
    """An item another TIP reviewed or dismissed cannot be claimed: the refusal says what
    happened to it, not "claim it from the queue first" (a tester's finding)."""
    item, users = world["item"], world["users"]
    bob = Client(app, "bob")
    assert "claim it from the queue first" in bob.get(f"/items/{item}").text  # open: claimable
    assert store.finish_item(item, users["alice"], status="dismissed", reason="a test call")
    for url in (f"/items/{item}", f"/items/{item}/media/captions.vtt"):
        refused = bob.get(url)
        assert refused.status_code == 403, url
        assert f"review item {item} was dismissed by another TIP" in refused.text, url
        assert "claim it" not in refused.text, url


def test_queue_dates_the_wrong_way_round_say_so_by_the_box(app, world) -> None:
    """From after To is a slip to point out, as the annotations and audit searches do, not an
    empty queue that looks like nothing is waiting (a tester's finding)."""
    alice = Client(app, "alice")
    page = alice.get("/queue", params={"date_from": "2026-12-31", "date_to": "2026-01-01"})
    assert page.status_code == 400 and 'role="alert"' in page.text
    assert "To (2026-01-01) is before from (2026-12-31): swap them" in page.text
    assert 'id="queue-to" value="2026-01-01" aria-invalid="true" aria-describedby="queue-to-error"' in page.text
    assert alice.get("/queue", params={"date_from": "2026-01-01", "date_to": "2026-01-01"}).status_code == 200


def test_what_an_attacker_found_is_refused_and_every_refusal_audited(app, store, world) -> None:
    """An attacker's findings: a reason of only control, zero-width or direction characters
    dismissed an item (and put raw escapes in the audit log); refusals of unknown pages, of
    ids out of range, of the signed-out and of forms sent back left no audit row."""
    item, users = world["item"], world["users"]
    alice = Client(app, "alice")
    for reason in ("\x1b\x07\x08", "\u200b\u200b", "ok\x1b[31mred\x07", "\u202e\u2066", "-- ..."):
        sent = alice.post(f"/items/{item}/dismiss", {"reason": reason})
        assert sent.status_code == 400, reason
        assert "visible characters" in sent.text or "say in words why" in sent.text, reason
    assert store.item_view(item).item.status == "claimed"
    before = store.audit_page(offset=0, limit=1, action="refused")[1]
    assert alice.get("/no/such/page").status_code == 404
    assert alice.get(f"/items/{item}/media/captions.VTT").status_code == 404
    assert alice.get("/items/abc/media/captions.vtt").status_code == 422
    assert Client(app).get(f"/items/{item}/media").status_code == 401
    assert alice.post(f"/items/{item}/release", {"reason": " "}).status_code == 400
    rows = store.audit_page(offset=0, limit=20, action="refused")[0]
    assert store.audit_page(offset=0, limit=1, action="refused")[1] == before + 5
    said = [(r.actor, r.object, r.detail.split(":")[0]) for r in reversed(rows[:5])]
    assert said == [("web:alice", "/no/such/page", "404 GET"),
                    ("web:alice", f"/items/{item}/media/captions.VTT", "404 GET"),
                    ("web:alice", "/items/abc/media/captions.vtt", "422 GET"),
                    ("anonymous:not-an-address", f"/items/{item}/media", "401 GET"),
                    ("web:alice", f"/items/{item}/release", "400 POST")], said
    assert "say why you release this item" in rows[0].detail
    assert users["alice"]


def test_a_refusal_of_a_path_with_a_nul_or_an_escape_is_audited_printably(app, store, world) -> None:
    """A tester's finding (issue 16's review): a path holding %00 was refused but not audited
    (the store refuses a NUL), and %1b put a raw escape in the audit row."""
    item = world["item"]
    alice = Client(app, "alice")
    before = store.audit_page(offset=0, limit=1, action="refused")[1]
    assert alice.post(f"/items/{item}/lines/%00/speaker", {"speaker": "new"}).status_code == 422
    assert alice.get("/queue%1b[31m").status_code == 404
    rows = store.audit_page(offset=0, limit=2, action="refused")[0]
    assert store.audit_page(offset=0, limit=1, action="refused")[1] == before + 2
    assert [r.object for r in reversed(rows)] == [f"/items/{item}/lines/\\x00/speaker",
                                                   "/queue\\x1b[31m"]
    assert not any(ord(c) < 32 for r in rows for c in r.object + (r.detail or ""))
