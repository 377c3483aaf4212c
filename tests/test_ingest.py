"""Inbox scanning and the content-addressed store of originals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import age
from pipeline.ingest import scan_inbox, store_original, store_path_for
from pipeline.models import sha256_file


def test_scan_classifies_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "camera 7").mkdir(parents=True)
    (inbox / "a.mp4").write_bytes(b"x" * 10)
    (inbox / "camera 7" / "b.mp4").write_bytes(b"y")
    (inbox / ".partial.mp4").write_bytes(b"z")
    (inbox / "link.mp4").symlink_to(inbox / "a.mp4")
    (inbox / "linkdir").symlink_to(inbox / "camera 7")
    age(*inbox.rglob("*"))
    (inbox / "fresh.mp4").write_bytes(b"still coming")
    kinds = {e.name: e.kind for e in scan_inbox(inbox, settle_s=5)}
    assert kinds == {
        "a.mp4": "file",
        "camera 7/b.mp4": "file",
        "fresh.mp4": "unsettled",
        "link.mp4": "symlink",
        "linkdir": "symlink",
    }


def test_store_original_is_read_only_and_stored_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("one.mp4", "two $(x) 'é'.mp4"):
        (inbox / name).write_bytes(b"same bytes" * 1000)
    age(*inbox.iterdir())
    entries = list(scan_inbox(inbox))
    stored = [store_original(e, store_dir=tmp_path / "store", tmp_dir=tmp_path / "tmp") for e in entries]
    assert stored[0].sha256 == stored[1].sha256 == sha256_file(inbox / "one.mp4")
    assert stored[0].path == store_path_for(tmp_path / "store", stored[0].sha256)
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 1
    mode = stored[0].path.stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not list((tmp_path / "tmp").iterdir())
    # The inbox copy is untouched.
    assert (inbox / "one.mp4").read_bytes() == b"same bytes" * 1000
    assert os.access(inbox / "one.mp4", os.W_OK)


def test_ingest_command_stores_without_transcribing(tmp_path: Path, media_dir: Path) -> None:
    from click.testing import CliRunner

    from conftest import copy_into
    from pipeline.cli import cli
    from pipeline.store import open_store

    inbox = tmp_path / "inbox"
    copy_into(inbox, media_dir / "jfk.mp4", "a.mp4")
    copy_into(inbox, media_dir / "jfk.mp4", "b.mp4")
    home = tmp_path / "home"
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(inbox)])
    assert result.exit_code == 0, result.output
    assert "ingested 1 media item(s)" in result.output
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    assert store.counts() == {"media": 1, "media_name": 2, "segment": 0, "flag": 0, "review_item": 0}
    assert [m.state for m in store.pending_media()] == ["ingested"]
    assert store.verify_audit_chain()
