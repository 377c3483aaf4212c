"""Accounts from the command line (`bwv user`), and `bwv serve` answering for real."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline.store import open_store


def bwv(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, input=stdin)


def test_user_add_reads_the_password_from_standard_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = bwv(home, "user", "add", "alice", "--role", "tip", stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("added user alice (tip), id ")
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    user = store.user_by_name("alice")
    assert user.role == "tip" and user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash
    assert [r.action for r in store.audit_page(offset=0, limit=5)[0]] == ["user-add"]
    listed = bwv(home, "user", "list")
    assert listed.stdout == "alice\ttip\tactive\n"


@pytest.mark.parametrize("args,stdin,message", [
    (("alice", "--role", "tip"), "short\n", "error: the password must have at least 12 characters"),
    (("alice", "--role", "tip"), "", "error: the password must have at least 12 characters"),
    (("al ice", "--role", "tip"), "correct horse battery\n",
     "error: user name 'al ice' is not allowed: use letters, digits and . _ @ - (at most 100)"),
    (("alice", "--role", "tip"), "password1234\n",
     "error: the password is too easy to guess (strength 1 of 4, at least 3 needed): This is a "
     "very common password. Add another word or two. Uncommon words are better."),
    (("alice", "--role", "tip"), "Alice12345678\n",  # the name and a run of digits
     "error: the password is too easy to guess (strength 1 of 4, at least 3 needed): This is "
     "similar to a commonly used password. Add another word or two. Uncommon words are better."),
])
def test_user_add_refuses_bad_input(tmp_path: Path, args, stdin, message) -> None:
    done = bwv(tmp_path / "home", "user", "add", *args, stdin=stdin)
    assert done.returncode == 2
    assert done.stderr.strip() == message


def test_user_add_refuses_a_taken_name_and_an_unknown_role(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert bwv(home, "user", "add", "bob", "--role", "trainer", stdin="correct horse battery\n").returncode == 0
    again = bwv(home, "user", "add", "bob", "--role", "tip", stdin="correct horse battery\n")
    assert (again.returncode, again.stderr.strip()) == (2, "error: a user named 'bob' already exists")
    role = bwv(home, "user", "add", "eve", "--role", "root", stdin="correct horse battery\n")
    assert role.returncode == 2 and "'root' is not one of 'tip', 'trainer', 'admin'" in role.stderr


def test_user_disable_and_enable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bwv(home, "user", "add", "carol", "--role", "admin", stdin="correct horse battery\n")
    assert bwv(home, "user", "disable", "carol").stdout.strip() == "disabled carol"
    assert bwv(home, "user", "list").stdout == "carol\tadmin\tdisabled\n"
    assert bwv(home, "user", "disable", "carol", "--enable").returncode == 0
    assert bwv(home, "user", "list").stdout == "carol\tadmin\tactive\n"
    missing = bwv(home, "user", "disable", "nobody")
    assert (missing.returncode, missing.stderr.strip()) == (2, "error: no user named 'nobody'")


def test_user_password_sets_a_strong_password_and_ends_sessions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bwv(home, "user", "add", "alice", "--role", "tip", stdin="correct horse battery\n")
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    user = store.user_by_name("alice")
    store.create_session("a" * 64, user_id=user.id, csrf_token="c",
                         expires_at=user.created_at + timedelta(hours=1))
    weak = bwv(home, "user", "password", "alice", stdin="qwertyuiopasdf\n")
    assert (weak.returncode, weak.stderr.strip()) == (
        2, "error: the password is too easy to guess (strength 1 of 4, at least 3 needed): "
           "This is similar to a commonly used password. Add another word or two. Uncommon "
           "words are better.")
    done = bwv(home, "user", "password", "alice", stdin="plum kettle orbit lantern\n")
    assert (done.returncode, done.stdout) == (0, "changed the password of alice\n")
    assert store.user_by_name("alice").password_hash != user.password_hash
    assert store.session_user("a" * 64, idle=timedelta(hours=1), absolute=timedelta(hours=2),
                              touch_after=timedelta(minutes=1)) is None
    assert [r.action for r in store.audit_page(offset=0, limit=1)[0]] == ["user-password"]
    missing = bwv(home, "user", "password", "nobody", stdin="plum kettle orbit lantern\n")
    assert (missing.returncode, missing.stderr.strip()) == (2, "error: no user named 'nobody'")


def test_serve_believes_forwarding_headers_only_from_the_proxies_named(tmp_path: Path,
                                                                        monkeypatch) -> None:
    import uvicorn
    from click.testing import CliRunner

    from pipeline.cli import cli

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("BWV_HOME", str(tmp_path / "home"))  # serve sets both: put them back after
    monkeypatch.setenv("BWV_DB", f"sqlite:///{tmp_path / 'home' / 'bwv.sqlite3'}")
    monkeypatch.delenv("BWV_FORWARDED_ALLOW_IPS", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["-q", "serve"]).exit_code == 0
    assert (calls[-1]["proxy_headers"], calls[-1]["forwarded_allow_ips"]) == (False, None)
    assert runner.invoke(cli, ["-q", "serve", "--forwarded-allow-ips", "127.0.0.1"]).exit_code == 0
    assert (calls[-1]["proxy_headers"], calls[-1]["forwarded_allow_ips"]) == (True, "127.0.0.1")
    monkeypatch.setenv("BWV_FORWARDED_ALLOW_IPS", " 10.0.0.0/24, ::1 ")
    assert runner.invoke(cli, ["-q", "serve"]).exit_code == 0
    assert calls[-1]["forwarded_allow_ips"] == "10.0.0.0/24,::1"
    bad = runner.invoke(cli, ["-q", "serve", "--forwarded-allow-ips", "*"])
    assert bad.exit_code == 2 and "'*' is not an IP address or network" in bad.output
    assert len(calls) == 3


def _serve(home: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """``bwv serve`` on a free port, answering; the process and its base URL."""
    port = _free_port()
    env = {**os.environ, "BWV_HOME": str(home)}
    for name in ("BWV_DB", "BWV_FORWARDED_ALLOW_IPS", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", str(port), *args],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2)  # noqa: S310 - our own server
            return server, base
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    server.terminate()
    raise AssertionError(f"bwv serve did not start: {server.communicate(timeout=10)[1]}")


def _failed_sign_in(base: str, forwarded_for: str) -> str:
    """A wrong password sent with forged forwarding headers; the sign-in form's cookie."""
    import httpx

    forged = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    page = httpx.get(f"{base}/login", headers=forged)
    cookie = page.headers["set-cookie"]
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    answer = httpx.post(f"{base}/login", headers={**forged, "Cookie": cookie.split(";")[0]},
                        data={"name": "alice", "password": "a wrong guess", "login_token": token})
    assert answer.status_code == 401, answer.text
    return cookie


def test_serve_ignores_forged_forwarding_headers(tmp_path: Path) -> None:
    """Issue 14: uvicorn believed X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1, so a
    header chose the address that throttling counted and the audit log recorded."""
    home = tmp_path / "home"
    bwv(home, "user", "add", "alice", "--role", "tip", stdin="correct horse battery\n")
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    server, base = _serve(home)
    try:
        cookies = [_failed_sign_in(base, f"203.0.113.{i}") for i in (1, 2)]  # a rotating header
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert not any("Secure" in cookie for cookie in cookies)  # still plain HTTP
    failed = store.audit_page(offset=0, limit=10, action="login-failed")[0]
    assert [row.object for row in failed] == ["client:127.0.0.1"] * 2
    assert {(t.scope, t.source, t.failures) for t in store.list_throttles()} == {
        ("name", "127.0.0.1", 2), ("address", "127.0.0.1", 2)}
    # Behind a proxy named in --forwarded-allow-ips, its headers are believed.
    server, base = _serve(home, "--forwarded-allow-ips", "127.0.0.1")
    try:
        cookie = _failed_sign_in(base, "203.0.113.7")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "Secure" in cookie
    assert store.audit_page(offset=0, limit=1, action="login-failed")[0][0].object == "client:203.0.113.7"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_with_the_sign_in_page_and_refuses_the_rest(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _free_port()
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                page = urllib.request.urlopen(f"{base}/login", timeout=2)  # noqa: S310 - our own server
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError(f"bwv serve did not start: {server.stderr.read() if server.poll() is not None else ''}")
        assert page.status == 200 and b'id="sign-in"' in page.read()
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers.get("Server") is None  # no version banner
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/items/1/media", timeout=5)  # noqa: S310
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/" in server.stdout.read()


def test_a_password_with_a_control_character_is_refused() -> None:
    """A NUL (or tab, newline, escape) in a new password sets one no browser can type: refused
    before it is scored (an attacker's finding: an admin's reset took one)."""
    from pipeline.errors import InvalidRequestError
    from pipeline.review.accounts import check_password

    check_password("Violet-otter drumming-47")
    for bad in ("Violet-otter\x00drumming-47", "Violet-otter\tdrumming-47", "Violet-otter\x1bdrumming-47"):
        with pytest.raises(InvalidRequestError, match="may not hold control characters"):
            check_password(bad)
