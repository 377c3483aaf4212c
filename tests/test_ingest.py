"""Inbox scanning and the content-addressed store of originals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import age
from pipeline.batch.ingest import (
    ProcWriters,
    lease_says_writing,
    scan_inbox,
    store_original,
    store_path_for,
)
from pipeline.batch.models import sha256_file

#: What a /proc scan that finds no writer can say: root sees every process, so "no writer";
#: another user cannot look into root's processes, so "cannot tell".
NO_WRITER_SEEN = False if os.geteuid() == 0 else None


def test_scan_classifies_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "camera 7").mkdir(parents=True)
    (inbox / "a.mp4").write_bytes(b"x" * 10)
    (inbox / "camera 7" / "b.mp4").write_bytes(b"y")
    (inbox / ".partial.mp4").write_bytes(b"z")
    (inbox / "link.mp4").symlink_to(inbox / "a.mp4")
    (inbox / "linkdir").symlink_to(inbox / "camera 7")
    age(*inbox.rglob("*"))
    (inbox / "copied just now.mp4").write_bytes(b"complete, and closed")
    with (inbox / "uploading.mp4").open("wb") as upload:
        upload.write(b"still coming")
        upload.flush()
        kinds = {e.name: e.kind for e in scan_inbox(inbox, settle_s=5)}
    assert kinds == {
        "a.mp4": "file",
        "camera 7/b.mp4": "file",
        "copied just now.mp4": "file",
        "uploading.mp4": "unsettled",
        "link.mp4": "symlink",
        "linkdir": "symlink",
    }


def _deferred(inbox: Path, **kwargs: object) -> dict[str, str | None]:
    return {e.name: e.deferred_by for e in scan_inbox(inbox, **kwargs)}  # type: ignore[arg-type]


def test_a_read_lease_tells_an_open_writer_from_a_closed_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 100)
    assert lease_says_writing(path) is False
    with path.open("ab") as writer:
        writer.write(b"more")
        assert lease_says_writing(path) is True
        with path.open("rb"):  # readers do not count
            assert lease_says_writing(path) is True
    assert lease_says_writing(path) is False
    assert lease_says_writing(tmp_path / "gone.mp4") is None


def test_an_old_file_still_held_open_for_writing_waits(tmp_path: Path) -> None:
    """A stalled upload: its mtime is an hour old, but the uploader still has it open."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with (inbox / "stalled.mp4").open("wb") as upload:
        upload.write(b"half a file")
        upload.flush()
        age(inbox / "stalled.mp4", seconds=3600)
        assert _deferred(inbox) == {
            "stalled.mp4": "open for writing by another process (a read lease was refused)"
        }
        # Where no lease can be taken, the /proc scan finds the writer.
        assert _deferred(inbox, checks=("proc",)) == {
            "stalled.mp4": "open for writing by another process (seen in /proc/*/fd)"
        }
    assert _deferred(inbox) == {"stalled.mp4": None}
    assert _deferred(inbox, checks=("proc",)) == {"stalled.mp4": None}


def test_the_size_and_time_check_decides_where_no_open_file_check_can(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.mp4").write_bytes(b"x")
    age(inbox / "old.mp4", seconds=60)
    (inbox / "new.mp4").write_bytes(b"y")
    deferred = _deferred(inbox, settle_s=30, checks=())
    assert deferred["old.mp4"] is None
    assert deferred["new.mp4"] == (
        "modified 0 s ago, under the 30 s settle time "
        "(size-and-time check: no open-file check works on this file)"
    )


def test_an_incomplete_proc_scan_proves_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes this user may not look into: "no writer seen" must fall back, not take."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x")
    assert ProcWriters().says_writing(path.stat()) is NO_WRITER_SEEN
    real_listdir = os.listdir

    def another_users(folder: os.PathLike[str] | str) -> list[str]:
        if Path(folder).name == "fd" and Path(folder).parent.name == "1":
            raise PermissionError(13, "Permission denied", str(folder))  # as a non-root user
        return real_listdir(folder)

    monkeypatch.setattr(os, "listdir", another_users)
    assert ProcWriters().says_writing(path.stat()) is None
    # No /proc at all (not Linux): cannot tell either.
    assert ProcWriters(proc=tmp_path / "no proc").says_writing(path.stat()) is None


@pytest.mark.parametrize("mode", ["r+b", "ab", "wb"])
def test_the_proc_scan_sees_every_kind_of_write_open(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x")
    with path.open(mode):
        assert ProcWriters().says_writing(path.stat()) is True
    assert ProcWriters().says_writing(path.stat()) is NO_WRITER_SEEN


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
