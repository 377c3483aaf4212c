"""Queues by team (issue 18, part 3): TIPs filter the queue by the footage's team, officer,
incident type and shift; an admin sets a TIP's default teams, and the queue opens on them
(with footage no manifest gave a team, so nothing flagged goes unseen)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from test_review_app import Client

from pipeline.flagging.windows import group_flags
from pipeline.records import Flag, Segment, Transcription, Word
from pipeline.store import Store, open_store
from pipeline.store.review import QueueFilter

#: (name, team, officer, incident type, shift); None: no manifest named it.
FOOTAGE = [
    ("a1.mp4", "Response A", "4512", "domestic_abuse", "Lates"),
    ("b1.mp4", "Response B", "4513", "missing_person", "Days"),
    ("a2.mp4", "Response A", "4514", "exploitation", "Days"),
    ("x1.mp4", None, None, None, None),
]


def _seed(store: Store) -> dict[str, int]:
    """A flagged review item per file, and the metadata a manifest gave each."""
    items, meta = {}, []
    for n, (name, team, officer, incident, shift) in enumerate(FOOTAGE, start=1):
        sha = f"{n:064x}"
        media_id, _ = store.add_original(sha, size=1, store_path="s", inbox="/i", name=name,
                                         mtime_ns=1)
        seg = Segment(0.0, 3.0, "he hit me", (Word(0.0, 1.0, "he", 0.9),))
        store.save_transcript(media_id, Transcription((seg,), "en", 3.0, 0.1), model="m",
                              model_sha256="x", settings={})
        flags = [Flag("harm.domestic_abuse", "disclosure", 1.0, 2.0, "hit me", "he hit me", "r@1",
                      "p", 5)]
        store.save_flags(media_id, flags, group_flags(flags))
        rows = store.queue_page(QueueFilter(statuses=()), offset=0, limit=50)[0]
        items[name] = next(r.id for r in rows if r.media_id == media_id)
        if team:
            meta.append({"sha256": sha, "team": team, "officer_id": officer,
                         "incident_type": incident, "shift": shift, "source": f"m.csv:{n}"})
    store.put_metadata(meta, actor="cli:test", manifest="m.csv")
    return items


def test_the_queue_filters_by_team_officer_incident_and_shift(db_url: str) -> None:
    store = open_store(db_url)
    items = _seed(store)

    def names(**asked) -> list[str]:
        rows, total = store.queue_page(QueueFilter(statuses=(), **asked), offset=0, limit=50)
        assert total == len(rows)
        by_id = {v: k for k, v in items.items()}
        return sorted(by_id[r.id] for r in rows)

    assert names() == ["a1.mp4", "a2.mp4", "b1.mp4", "x1.mp4"]
    assert names(teams=("Response A",)) == ["a1.mp4", "a2.mp4"]
    assert names(teams=("Response A",), or_no_team=True) == ["a1.mp4", "a2.mp4", "x1.mp4"]
    assert names(teams=("Response A", "Response B")) == ["a1.mp4", "a2.mp4", "b1.mp4"]
    assert names(officer_id="4513") == ["b1.mp4"]
    assert names(incident_type="exploitation") == ["a2.mp4"]
    assert names(shift="Days") == ["a2.mp4", "b1.mp4"]
    assert names(teams=("Response A",), shift="Days") == ["a2.mp4"]
    assert names(officer_id="9999") == []
    row = next(r for r in store.queue_page(QueueFilter(statuses=()), offset=0, limit=50)[0]
               if r.id == items["a1.mp4"])
    assert (row.team, row.incident_type) == ("Response A", "domestic_abuse")
    assert store.meta_choices() == {"team": ["Response A", "Response B"], "shift": ["Days", "Lates"],
                                    "officer_id": ["4512", "4513", "4514"]}


def test_default_teams_are_kept_per_account_and_audited(db_url: str) -> None:
    store = open_store(db_url)
    alice = store.add_user("alice", role="tip", password_hash="x")
    bob = store.add_user("bob", role="tip", password_hash="x")
    store.set_default_teams(alice, ["Response B", "Response A", "Response A"], actor="cli:ada")
    assert store.default_teams(alice) == ["Response A", "Response B"]
    assert store.default_teams(bob) == []
    store.set_default_teams(alice, [], actor="cli:ada")
    assert store.default_teams_by_user() == {}
    from sqlalchemy import select

    from pipeline.store import schema as db

    with store.session() as s:
        said = [(a.action, a.object, a.detail) for a in s.scalars(select(db.Audit))]
    assert ("user-teams", f"user:{alice}", "Response A, Response B") in said
    assert ("user-teams", f"user:{alice}", "(none)") in said


@pytest.fixture()
def app(review_home):
    from test_review_app import _rubric

    from reviewers.app import create_app

    return create_app(review_home, rubric=_rubric())


def _ids(client: Client, query: str = "") -> list[int]:
    response = client.get(f"/queue?{query}")
    assert response.status_code == 200, response.text[:300]
    return [int(x) for x in re.findall(r'data-item="(\d+)"', response.text)]


def test_a_tips_queue_opens_on_the_teams_an_admin_set(app) -> None:
    store = app.state.bwv.store
    items = _seed(store)
    ada, alice = Client(app, "ada"), Client(app, "alice")
    everything = _ids(alice, "status=all")
    assert set(items.values()) <= set(everything)
    alice_id = store.user_by_name("alice").id
    users_page = ada.get("/admin/users").text
    assert f'id="teams-{alice_id}"' in users_page  # the form the page puts there, empty
    done = ada.post(f"/admin/users/{alice_id}", {"action": "teams", "teams": " Response A ,"})
    assert done.status_code == 303 and "done=teams" in done.headers["location"]
    assert store.default_teams(alice_id) == ["Response A"]
    assert 'value="Response A"' in ada.get("/admin/users").text

    mine = _ids(alice, "status=all")
    assert items["a1.mp4"] in mine and items["a2.mp4"] in mine and items["x1.mp4"] in mine
    assert items["b1.mp4"] not in mine
    page = alice.get("/queue?status=all").text
    assert "my teams (Response A) and no team" in page
    nobody = set(_ids(alice, "status=all&team=none"))  # footage no manifest gave a team
    assert items["x1.mp4"] in nobody
    assert not nobody & {items["a1.mp4"], items["a2.mp4"], items["b1.mp4"]}
    assert _ids(alice, "status=all&team=all") == everything
    assert _ids(alice, "status=all&team=Response+B") == [items["b1.mp4"]]
    assert _ids(alice, "status=all&team=all&incident=missing_person") == [items["b1.mp4"]]
    assert _ids(alice, "status=all&team=all&officer=4514") == [items["a2.mp4"]]
    assert _ids(alice, "status=all&team=all&shift=Lates") == [items["a1.mp4"]]
    assert "Response B · missing person" in alice.get("/queue?status=all&team=all").text
    # "Claim the next item" keeps to her teams too, however urgent another team's item is.
    from sqlalchemy import update

    from pipeline.store import schema as db

    with store.session() as s:
        s.execute(update(db.ReviewItem).where(db.ReviewItem.id == items["b1.mp4"]).values(priority=100))
    claimed = alice.post("/queue/next")
    assert claimed.status_code == 303
    assert claimed.headers["location"] != f"/items/{items['b1.mp4']}"
    bob = Client(app, "bob")  # no default teams: the most urgent of all
    assert bob.post("/queue/next").headers["location"] == f"/items/{items['b1.mp4']}"
    for bad in ("team=Response+Z", "incident=burglary", "shift=Weekends", "officer=%3D1%2B1"):
        assert alice.get(f"/queue?status=all&{bad}").status_code == 400, bad


def test_an_admin_is_told_what_is_wrong_with_the_teams(app) -> None:
    store = app.state.bwv.store
    ada = Client(app, "ada")
    alice_id = store.user_by_name("alice").id
    many = ", ".join(f"Team {i}" for i in range(21))
    refused = ada.post(f"/admin/users/{alice_id}", {"action": "teams", "teams": many})
    assert refused.status_code == 400 and "at most 20 teams" in refused.text
    assert f'value="{many}"' in refused.text  # what was typed, sent back
    assert store.default_teams(alice_id) == []
    tip = Client(app, "alice")
    assert tip.post(f"/admin/users/{alice_id}", {"action": "teams", "teams": "A"}).status_code == 403


def test_bwv_user_teams_sets_and_clears_them(tmp_path) -> None:
    from conftest import PASSWORD, bwv

    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "pipeline", "--home", str(home), "user", "add",
                           "alice", "--role", "tip"], input=PASSWORD + "\n", text=True,
                          capture_output=True, timeout=120, check=True)
    assert "added user alice" in proc.stdout
    said = bwv(home, "user", "teams", "alice", "Response  B", "Response A").stdout
    assert said.strip() == "alice's default teams: Response A, Response B"
    assert bwv(home, "user", "teams", "alice").stdout.strip() == "alice's default teams: (none)"
    missing = bwv(home, "user", "teams", "nobody", "A", check=False)
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
