"""Accounts from the command line (`bwv user`), and `bwv serve` answering for real."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
