"""Sign-in throttling that nobody can use to lock others out, known devices, and passwords
(issue 14, point 1).

Through the review app (each browser with its own client address) and through the library
on SQLite and PostgreSQL: the delays, the race of many guesses at once, what an admin
sees and clears, and changing one's own password.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_review_app import Client, _rubric

from conftest import PASSWORD
from pipeline import clock
from pipeline.errors import AuthError, ConfigError
from pipeline.review.accounts import RateLimited, SessionPolicy, add_user, sign_in
from pipeline.review.devices import DeviceKey, load_device_key
from pipeline.store import Store, open_store
from pipeline.store.accounts import ThrottleRule
from reviewers.app import create_app

NEW_PASSWORD = "plum kettle orbit lantern"
ATTACKER, OFFICE, HOME = "203.0.113.9", "192.0.2.10", "198.51.100.7"


class Browser(Client):
    """A browser at a client address of its own (its cookies kept between sign-ins)."""

    def __init__(self, app, address: str, name: str | None = None, *,
                 device: str | None = None) -> None:
        self.http = TestClient(app, follow_redirects=False, client=(address, 50000),
                               cookies={"bwv_device": device} if device else None)
        self.csrf = ""
        if name:
            response = self.sign_in(name)
            assert response.status_code == 303, response.text


def _site(instance, policy: SessionPolicy | None = None):
    app = create_app(instance, rubric=_rubric(), policy=policy)
    for name, role in {"alice": "tip", "bob": "tip", "ada": "admin"}.items():
        add_user(app.state.bwv.store, name, role=role, password=PASSWORD, actor="test")
    return app


@pytest.fixture()
def site(instance):
    """The review app on a fresh instance with alice and bob (TIPs) and ada (admin)."""
    return _site(instance)


@pytest.fixture()
def store(site):
    return site.state.bwv.store


def _actions(store, actor: str) -> list[str]:
    return [r.action for r in reversed(store.audit_page(offset=0, limit=200, actor=actor)[0])]


# --- no lockout button -------------------------------------------------------------------------


def test_wrong_passwords_from_one_address_do_not_keep_the_name_out_elsewhere(site, store) -> None:
    """Issue 14: five wrong passwords for a name locked it for 15 minutes, and then the
    right password from another address was refused too."""
    mallory = Browser(site, ATTACKER)
    for _ in range(5):
        assert mallory.sign_in("alice", "not the password").status_code == 401
    refused = mallory.sign_in("alice")  # from there, even the right password waits
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "too many failed sign-ins for this name from this address: wait 1 second" in refused.text
    assert Browser(site, HOME).sign_in("alice").status_code == 303  # from anywhere else: in
    # The refusal is audited with the address it came from and why.
    row = store.audit_page(offset=0, limit=5, action="login-throttled")[0][0]
    assert (row.actor, row.object) == ("web:alice", f"client:{ATTACKER}")
    assert row.detail == "5 failures for this name from this address; waits 1 s"


def test_a_browser_that_signed_in_before_passes_while_its_address_waits(site) -> None:
    """A shared address (an office behind NAT) with someone guessing alice's password."""
    alice = Browser(site, OFFICE, "alice")
    assert alice.post("/logout").status_code == 303
    assert alice.http.cookies.get("bwv_device")  # this browser is now known for alice
    mallory = Browser(site, OFFICE)
    assert [mallory.sign_in("alice", "guess").status_code for _ in range(6)] == [401] * 5 + [429]
    assert Browser(site, OFFICE).sign_in("alice").status_code == 429  # a new browser there waits
    assert alice.sign_in("alice").status_code == 303  # hers does not
    # Its own mistakes are counted for it alone, with the same delays.
    assert alice.post("/logout").status_code == 303
    assert [alice.sign_in("alice", "typo").status_code for _ in range(6)] == [401] * 5 + [429]
    assert Browser(site, HOME).sign_in("alice").status_code == 303


def test_a_forged_device_cookie_or_one_for_another_name_counts_for_nothing(site) -> None:
    real = Browser(site, HOME, "alice").http.cookies["bwv_device"]
    bobs = Browser(site, ATTACKER, "bob").http.cookies["bwv_device"]  # an insider's own
    tampered = real[:-1] + ("0" if real[-1] != "0" else "1")
    codes = [Browser(site, ATTACKER, device=cookie).sign_in("alice", "guess").status_code
             for cookie in (tampered, "x.y.z", "~" * 5000, bobs, bobs, bobs)]
    assert codes == [401] * 5 + [429]  # all counted for alice from this address


def test_twenty_failures_from_one_address_do_not_keep_out_everyone_behind_it(site) -> None:
    """Issue 14: twenty failures from one address (a proxy or NAT) locked out everyone."""
    office = Browser(site, OFFICE)
    for i in range(25):
        assert office.sign_in(f"someone{i}", "a wrong guess").status_code == 401
    assert Browser(site, OFFICE).sign_in("bob").status_code == 303


def test_the_per_address_limit_delays_new_browsers_only(instance) -> None:
    policy = SessionPolicy(per_address=ThrottleRule(free_failures=10,
                                                    forget_after=timedelta(minutes=15)))
    site = _site(instance, policy)
    alice = Browser(site, OFFICE, "alice")
    assert alice.post("/logout").status_code == 303
    office = Browser(site, OFFICE)
    assert [office.sign_in(f"someone{i}", "guess").status_code for i in range(11)] == [401] * 10 + [429]
    refused = Browser(site, OFFICE).sign_in("bob")
    assert refused.status_code == 429
    assert "too many failed sign-ins from this address: wait 1 second" in refused.text
    assert alice.sign_in("alice").status_code == 303  # a known device is never held by it
    assert Browser(site, HOME).sign_in("bob").status_code == 303


# --- the delays, through the library on both databases --------------------------------------------


def _try(store: Store, password: str, client: str = ATTACKER) -> str | int:
    """'in', 'wrong', or the seconds a refused attempt must wait."""
    try:
        sign_in(store, "alice", password, client=client)
    except RateLimited as exc:
        return exc.retry_after_s
    except AuthError:
        return "wrong"
    return "in"


def test_each_further_failure_doubles_the_wait_up_to_15_minutes(db_url: str, monkeypatch) -> None:
    store = open_store(db_url)
    add_user(store, "alice", role="tip", password=PASSWORD, actor="test")
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    assert [_try(store, "guess") for _ in range(5)] == ["wrong"] * 5
    waits = []
    for _ in range(12):
        wait = _try(store, PASSWORD)  # refused unchecked, right password or not
        assert isinstance(wait, int)
        waits.append(wait)
        now[0] += timedelta(seconds=wait - 1)
        assert _try(store, "guess") == 1  # a second early
        now[0] += timedelta(seconds=1)
        assert _try(store, "guess") == "wrong"
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    now[0] += timedelta(minutes=15)
    assert _try(store, PASSWORD) == "in"  # the right password starts the name afresh
    assert [_try(store, "guess") for _ in range(5)] == ["wrong"] * 5
    assert _try(store, "guess") == 1
    now[0] += timedelta(days=1, seconds=1)  # a quiet day: forgotten
    assert [_try(store, "guess") for _ in range(5)] == ["wrong"] * 5
    store.engine.dispose()


def test_forty_guesses_at_once_check_no_more_passwords_than_allowed(db_url: str, monkeypatch) -> None:
    """Issue 14: of 40 simultaneous wrong guesses for one name, 26 were checked instead of 5
    (the throttle was read, then written)."""
    store = open_store(db_url)
    add_user(store, "alice", role="tip", password=PASSWORD, actor="test")
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)
    pools = [Store(db_url) for _ in range(4)]  # like four server processes
    barrier, outcomes = threading.Barrier(40, timeout=60), []

    def guess(i: int) -> None:
        barrier.wait()
        outcome = _try(pools[i % 4], f"guess number {i}")
        outcomes.append("waits" if isinstance(outcome, int) else outcome)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(outcomes) == {"wrong": 5, "waits": 35}
    assert Counter(_actions(store, "web:alice")) == {"login-failed": 5, "login-throttled": 35}
    assert _try(store, PASSWORD, client=HOME) == "in"
    assert store.verify_audit_chain()
    for pool in pools:
        pool.engine.dispose()
    store.engine.dispose()


# --- what an admin sees and clears ----------------------------------------------------------------


def test_an_admin_sees_and_clears_a_throttle(site, store) -> None:
    mallory = Browser(site, ATTACKER)
    for _ in range(5):
        mallory.sign_in("alice", "guess")
    ada = Browser(site, HOME, "ada")
    page = ada.get("/admin/throttles")
    assert page.status_code == 200
    row = next(t for t in store.list_throttles() if t.scope == "name")
    assert (row.name, row.source, row.failures) == ("alice", ATTACKER, 5)
    assert f'id="throttle-{row.id}"' in page.text and f"address {ATTACKER}" in page.text
    assert "any name" in page.text  # the address's own count
    assert ada.post(f"/admin/throttles/{row.id}/clear").status_code == 303
    assert ada.post(f"/admin/throttles/{row.id}/clear").status_code == 404
    assert mallory.sign_in("alice").status_code == 303  # cleared: no wait
    cleared = store.audit_page(offset=0, limit=1, action="throttle-clear")[0][0]
    assert (cleared.actor, cleared.object) == ("web:ada", f"throttle:{row.id}")
    assert cleared.detail == f"name 'alice' {ATTACKER}: 5 failures"


# --- passwords ------------------------------------------------------------------------------------


def test_everyone_can_change_their_own_password(site, store) -> None:
    alice, elsewhere = Browser(site, OFFICE, "alice"), Browser(site, HOME, "alice")
    page = alice.get("/account/password")
    assert page.status_code == 200 and 'id="change-password"' in page.text
    assert 'href="/account/password"' in alice.get("/queue").text
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}
    for change, message in (
        ({"current_password": "not my password"}, "the current password is not right"),
        ({"new_password_again": "plum kettle orbit lanterns"},
         "the two new passwords are not the same: type it again"),
        ({"new_password": "password1234", "new_password_again": "password1234"},
         "the password is too easy to guess (strength 1 of 4, at least 3 needed): This is a "
         "very common password. Add another word or two. Uncommon words are better."),
        ({"new_password": PASSWORD, "new_password_again": PASSWORD},
         "the new password is the current one: choose another"),
    ):
        response = alice.post("/account/password", {**form, **change})
        assert response.status_code == 400 and message in response.text, message
    response = alice.post("/account/password", form)
    assert (response.status_code, response.headers["location"]) == (303, "/account/password?done=1")
    assert "Your password has been changed" in alice.get(response.headers["location"]).text
    assert alice.get("/queue").status_code == 200  # this session goes on
    assert elsewhere.get("/queue").status_code == 303  # the others end
    assert Browser(site, ATTACKER).sign_in("alice").status_code == 401
    assert Browser(site, ATTACKER).sign_in("alice", NEW_PASSWORD).status_code == 303
    changes = [a for a in _actions(store, "web:alice") if a.startswith("password-change")]
    assert changes == ["password-change-failed", "password-change"]
    row = store.audit_page(offset=0, limit=1, action="password-change")[0][0]
    assert (row.object, row.detail) == (f"user:{store.user_by_name('alice').id}",
                                        "other sessions ended")


def test_guessing_the_current_password_is_throttled_too(site) -> None:
    alice = Browser(site, OFFICE, "alice")
    form = {"current_password": "guess", "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}
    codes = [alice.post("/account/password", form).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


@pytest.mark.parametrize("password,advice", [
    ("password1234", "This is a very common password."),
    ("alicealice12345", 'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    ("qwertyuiopasdf", "This is similar to a commonly used password."),
])
def test_common_passwords_are_refused_with_advice(instance, password: str, advice: str) -> None:
    store = open_store(instance.db_url)
    with pytest.raises(Exception, match="the password is too easy to guess") as refused:
        add_user(store, "alice", role="tip", password=password, actor="test")
    assert advice in str(refused.value)
    assert store.user_by_name("alice") is None


# --- the known-device cookie ----------------------------------------------------------------------


def test_a_device_cookie_names_only_what_it_signed(tmp_path: Path) -> None:
    key = load_device_key(tmp_path)
    assert (tmp_path / "device.key").stat().st_mode & 0o777 == 0o600
    assert load_device_key(tmp_path) == key  # the same key next time
    cookie = key.remember(None, "alice")
    device = key.device_id(cookie, "alice")
    assert device and key.device_id(cookie, "bob") is None
    both = key.remember(cookie, "bob")
    assert key.device_id(both, "alice") == device and key.device_id(both, "bob")
    assert DeviceKey(b"k" * 32).device_id(both, "alice") is None  # another instance's key
    many = both
    for i in range(20):
        many = key.remember(many, f"user{i}")
    assert len(many.split("~")) == 8 and key.device_id(many, "alice") is None
    (tmp_path / "device.key").chmod(0o640)
    with pytest.raises(ConfigError, match="readable by others .*run: chmod 600"):
        load_device_key(tmp_path)


@pytest.mark.parametrize("host,expected", [
    ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("2001:db8::0001", "2001:db8::1"),
    ("garbage", "not-an-address"), ("A" * 5000, "not-an-address"),
    ("<script>alert(1)</script>", "not-an-address"), ("", "not-an-address"),
])
def test_a_forwarded_client_that_is_not_an_address_is_one_shared_bucket(host: str, expected: str) -> None:
    """An attacker's finding: behind a trusted proxy that passes the client's own
    X-Forwarded-For on, any string became a throttle key and an audit actor of its own."""
    from starlette.requests import Request

    from reviewers.security import client_of

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [],
                       "client": (host, 1234) if host else None})
    assert client_of(request) == expected
