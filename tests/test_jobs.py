"""The job engine: resume after kill -9, retries with back-off, the run lock, executors."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ROOT, age, bwv_env, copy_into
from pipeline.batch.jobs import RunLock, run_batch
from pipeline.batch.scheduler import RunOptions
from pipeline.config import resolve_instance
from pipeline.store import Store, open_store
from pipeline.store import schema as db
from pipeline.store.jobs import MAX_ATTEMPTS
from scripts.footage import Line, Scenario, build_clip

LINES = [
    ("wearer", "Hello, I'm from the police. Is everyone safe in here?"),
    ("public", "He hit me again last night and I'm scared to go home."),
    ("wearer", "Thank you for telling me. You're not in trouble. Take your time."),
    ("public", "My daughter hasn't come home since Friday and her phone is off."),
    ("wearer", "Calm down, you're just being dramatic about it."),
    ("public", "When I was little my dad used to beat us all the time."),
    ("wearer", "Would you like me to call someone to be with you?"),
    ("public", "They make him carry drugs for them and he owes them money."),
]


def _scenario(i: int) -> Scenario:
    first, second = LINES[i % len(LINES)], LINES[(i * 3 + 1) % len(LINES)]
    return Scenario(f"s{i}", (Line(*first), Line(*second)))


@pytest.fixture(scope="session")
def eight_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight short clips of speech with rubric phrases, each different bytes."""
    d = tmp_path_factory.mktemp("eight")
    return [
        Path(build_clip(_scenario(i), d / f"clip {i} $(id).mp4", seed=i, public_gain_db=-4.0,
                        size=(320, 180), fps=10).path)
        for i in range(8)
    ]


def _inbox(base: Path, clips: list[Path]) -> Path:
    inbox = base / "inbox"
    for clip in clips:
        copy_into(inbox, clip)
    return inbox


def _bwv(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # its own process group, so kill -9 takes the workers and ffmpeg too
        [sys.executable, "-m", "pipeline", *args], env=bwv_env(home), cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def snapshot(url: str) -> dict[str, list[tuple]]:
    """What a batch produced, without ids or times: media, segments, flags, review items."""
    store = Store(url)
    with store.session() as s:
        sha = dict(s.execute(select(db.Media.id, db.Media.sha256)).all())
        out = {
            "media": sorted(
                (m.sha256, m.state, m.reason, round(m.duration_s or 0, 3), m.has_video,
                 m.audio_track)
                for m in s.scalars(select(db.Media))
            ),
            "segments": sorted(
                (sha[g.media_id], g.idx, g.start_s, g.end_s, g.text, g.words_json)
                for g in s.scalars(select(db.Segment))
            ),
            "flags": sorted(
                (sha[f.media_id], f.category, f.start_s, f.end_s, f.text, f.context, f.rubric,
                 f.speaker)
                for f in s.scalars(select(db.Flag))
            ),
            "review_items": sorted(
                (sha[r.media_id], r.start_s, r.end_s, r.priority, r.status, r.categories)
                for r in s.scalars(select(db.ReviewItem))
            ),
            "names": sorted((sha[n.media_id], n.name) for n in s.scalars(select(db.MediaName))),
        }
    store.engine.dispose()
    return out


def _done_stages(url: str) -> dict[tuple[int, str], object]:
    """Stages done so far (none while the database is not yet there)."""
    from sqlalchemy.exc import OperationalError

    if not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    store = Store(url)
    try:
        with store.session() as s:
            return {(j.media_id, j.stage): j.finished_at
                    for j in s.scalars(select(db.Job).where(db.Job.state == "done"))}
    except OperationalError:  # the schema is being created
        return {}
    finally:
        store.engine.dispose()


def _temp_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*")
            if p.name.endswith((".part", ".tmp", ".tmp.wav")) or ".tmp." in p.name]


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, eight_clips: list[Path]):
    base = tmp_path_factory.mktemp("whole")
    inbox, home = _inbox(base, eight_clips), base / "home"
    proc = _bwv(home, "run", str(inbox), "--workers", "2")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    return inbox, home


def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, eight_clips: list[Path], uninterrupted
) -> None:
    _inbox0, home0 = uninterrupted
    expected = snapshot(resolve_instance(home0).db_url)
    assert len(expected["media"]) == 8 and all(m[1] == "done" for m in expected["media"])
    assert expected["flags"] and expected["review_items"]

    inbox, home = _inbox(tmp_path, eight_clips), tmp_path / "home"
    url = resolve_instance(home).db_url
    rng = random.Random(int(os.environ.get("BWV_KILL_SEED", "6")))
    finished_before: dict[tuple[int, str], object] = {}
    kills = 0
    for _ in range(3):
        proc = _bwv(home, "run", str(inbox), "--workers", "2")
        # A random point: a random moment early on (start-up, ingest, the first decoding), or
        # just after a random number of further stages finished, so that every kill lands while
        # work is left, however fast this machine is.
        done_at_start = len(_done_stages(url))
        deadline = time.monotonic() + rng.uniform(1.0, 8.0)
        more = rng.randint(1, 4) if rng.random() < 0.6 else 10_000
        while proc.poll() is None and time.monotonic() < deadline + 600:
            done = len(_done_stages(url))
            if done >= len(eight_clips) * 3 - 6 and done > done_at_start:
                break  # a fast machine would finish first: kill while work is left, whatever the draw
            if more == 10_000 and time.monotonic() >= deadline:
                break
            if more < 10_000 and done >= done_at_start + more:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            break  # it finished before the kill
        os.killpg(proc.pid, signal.SIGKILL)  # a power cut: the batch, its workers and ffmpeg
        proc.wait()
        kills += 1
        finished_before.update(_done_stages(url))
    assert kills >= 2, "the runs finished before they could be killed"
    proc = _bwv(home, "run", str(inbox), "--workers", "2")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err

    assert snapshot(url) == expected
    assert _temp_files(home) == []
    assert list((home / "derived").rglob("*.speech.wav")) == []  # transcribed audio is removed
    assert list((home / "derived").rglob("*.levels.wav")) == []  # and its recorded-levels copy
    # Work finished before a kill was not done again.
    after = _done_stages(url)
    for key, finished_at in finished_before.items():
        assert after[key] == finished_at, key
    store = Store(url)
    assert {j.state for j in store.job_states()} == {"done"}
    runs = store.batch_runs()
    # Every killed run that had recorded itself is interrupted, none is left running. A kill in
    # the first moments of start-up lands before its run is recorded (a loaded machine makes
    # this likelier), so there may be fewer interrupted runs than kills, never more.
    assert [r.state for r in runs[:-1]] == ["interrupted"] * (len(runs) - 1)
    assert 1 <= len(runs) - 1 <= kills
    assert runs[-1].state == "finished"
    store.engine.dispose()


def test_a_second_run_does_nothing(uninterrupted) -> None:
    inbox, home = uninterrupted
    url = resolve_instance(home).db_url
    before, stages = snapshot(url), _done_stages(url)
    proc = _bwv(home, "run", str(inbox))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert snapshot(url) == before and _done_stages(url) == stages
    assert "unchanged" in out + err


def test_the_run_lock_refuses_a_second_batch(tmp_path: Path, eight_clips: list[Path]) -> None:
    home = tmp_path / "home"
    inbox = _inbox(tmp_path, eight_clips[:1])
    instance = resolve_instance(home)
    with RunLock(instance.home):
        proc = _bwv(home, "run", str(inbox))
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2
        assert f"another batch is running on this instance (pid {os.getpid()} on " in err
        assert f"the lock is {home / 'run.lock'}" in err
    assert open_store(instance.db_url).counts()["media"] == 0  # it touched nothing


def _block_speech_audio(home: Path, clip: Path) -> Path:
    """A folder where the speech WAV must go: a real fault (like a full or broken disk)."""
    from pipeline.batch.models import sha256_file

    sha = sha256_file(clip)
    blocker = home / "derived" / sha[:2] / f"{sha}.speech.wav"
    blocker.mkdir(parents=True)
    (blocker / "x").write_text("in the way")
    return blocker


def test_a_transient_failure_is_retried_with_back_off(tmp_path: Path, eight_clips: list[Path],
                                                     db_url: str) -> None:
    instance = resolve_instance(tmp_path / "home", db_url)
    inbox = _inbox(tmp_path, eight_clips[:2])
    blocker = _block_speech_audio(instance.home, eight_clips[0])
    store = open_store(db_url)

    def clear_after_first_failure() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if any(j.state == "failed" for j in store.job_states()):
                (blocker / "x").unlink()
                blocker.rmdir()
                return
            time.sleep(0.05)

    fixer = threading.Thread(target=clear_after_first_failure)
    fixer.start()
    summary = run_batch(inbox, instance=instance,
                        options=RunOptions(workers=1, settle_s=0, retry_base_s=1.0))
    fixer.join()
    assert [o.state for o in summary.outcomes] == ["done", "done"]
    extract = [j for j in store.job_states() if j.stage == "extract"]
    retried = [j for j in extract if j.attempts == 2]
    assert len(retried) == 1 and retried[0].state == "done"
    assert "IsADirectoryError" in (retried[0].last_error or "") or "Is a directory" in (
        retried[0].last_error or "")
    assert sorted(j.attempts for j in extract) == [1, 2]
    store.engine.dispose()


def test_a_failure_that_never_passes_is_quarantined_after_the_last_attempt(
    tmp_path: Path, eight_clips: list[Path], db_url: str
) -> None:
    instance = resolve_instance(tmp_path / "home", db_url)
    inbox = _inbox(tmp_path, eight_clips[:1])
    _block_speech_audio(instance.home, eight_clips[0])
    summary = run_batch(inbox, instance=instance,
                        options=RunOptions(workers=1, settle_s=0, retry_base_s=0.05))
    [outcome] = summary.outcomes
    assert outcome.state == "quarantined"
    assert outcome.reason is not None
    assert outcome.reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts: cannot extract the speech audio: ")
    store = open_store(db_url)
    [job] = [j for j in store.job_states() if j.stage == "extract"]
    assert (job.state, job.attempts) == ("quarantined", MAX_ATTEMPTS)
    store.engine.dispose()


def test_a_long_back_off_is_left_for_the_next_run(tmp_path: Path, eight_clips: list[Path]) -> None:
    home = tmp_path / "home"
    inbox = _inbox(tmp_path, eight_clips[:1])
    blocker = _block_speech_audio(home, eight_clips[0])
    proc = _bwv(home, "run", str(inbox), "--retry-seconds", "3600")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, out + err  # unfinished: waiting for a retry
    assert "failed" in err and "cannot extract the speech audio" in err
    (blocker / "x").unlink()
    blocker.rmdir()
    # Still in its back-off: the next run leaves it alone.
    proc = _bwv(home, "run", str(inbox), "--retry-seconds", "3600")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, out + err
    store = open_store(resolve_instance(home).db_url)
    [extract] = [j for j in store.job_states() if j.stage == "extract"]
    assert (extract.state, extract.attempts) == ("failed", 1)
    store.engine.dispose()


def test_ray_executor_gives_the_same_results_as_local(tmp_path: Path, eight_clips: list[Path],
                                                       uninterrupted) -> None:
    _inbox0, home0 = uninterrupted
    inbox, home = _inbox(tmp_path, eight_clips[:3]), tmp_path / "home"
    proc = _bwv(home, "run", str(inbox), "--workers", "2", "--executor", "ray")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    local = snapshot(resolve_instance(home0).db_url)
    ray = snapshot(resolve_instance(home).db_url)
    shas = {m[0] for m in ray["media"]}
    assert len(shas) == 3
    for table, rows in ray.items():
        assert rows == [r for r in local[table] if r[0] in shas], table
    store = Store(resolve_instance(home).db_url)
    assert [r.executor for r in store.batch_runs()] == ["ray"]
    store.engine.dispose()


def test_address_needs_the_ray_executor(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    proc = _bwv(tmp_path / "home", "run", str(tmp_path / "inbox"), "--address", "10.0.0.1:6379")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "--address is for --executor ray" in err


def test_watch_takes_files_once_they_stop_growing(tmp_path: Path, eight_clips: list[Path]) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    url = resolve_instance(home).db_url
    watcher = _bwv(home, "watch", str(inbox), "--interval", "0.5", "--settle-seconds", "2",
                   "--workers", "1")
    try:
        data = eight_clips[0].read_bytes()
        growing = inbox / "upload.mp4"
        with growing.open("wb") as fh:  # an upload in progress: a chunk every half second
            for i in range(8):
                fh.write(data[i * len(data) // 8:(i + 1) * len(data) // 8])
                fh.flush()
                time.sleep(0.5)
                assert open_store(url).counts()["media"] == 0, "took a file still being written"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            media = list(open_store(url).iter_media())
            if media and media[0].state == "done":
                break
            time.sleep(0.5)
        assert [m.state for m in media] == ["done"]
        copy_into(inbox, eight_clips[1], "second.mp4")
        age(inbox / "second.mp4")
        while time.monotonic() < deadline and [m.state for m in open_store(url).iter_media()] != ["done", "done"]:
            time.sleep(0.5)
        assert [m.state for m in open_store(url).iter_media()] == ["done", "done"]
        # The watcher holds the lock: a batch run on the same instance is refused.
        proc = _bwv(home, "run", str(inbox))
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and "another batch is running on this instance" in err
    finally:
        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, err
    assert "stopped" in err
    assert snapshot(url)["names"] == sorted(
        (m.sha256, n) for m, n in zip(open_store(url).iter_media(), ["upload.mp4", "second.mp4"],
                                      strict=True)
    )


def test_the_batch_on_postgresql_gives_the_same_rows_as_on_sqlite(
    tmp_path: Path, eight_clips: list[Path], uninterrupted, postgres_url: str
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # a clean schema: other tests share the database
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _inbox0, home0 = uninterrupted
    inbox, home = _inbox(tmp_path, eight_clips[:2]), tmp_path / "home"
    proc = _bwv(home, "--db", postgres_url, "run", str(inbox))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    on_pg = snapshot(postgres_url)
    on_sqlite = snapshot(resolve_instance(home0).db_url)
    shas = {m[0] for m in on_pg["media"]}
    assert len(shas) == 2
    for table, rows in on_pg.items():
        assert rows == [r for r in on_sqlite[table] if r[0] in shas], table
    assert not (home / "bwv.sqlite3").exists()  # everything went to PostgreSQL
    store = Store(postgres_url)
    assert {j.state for j in store.job_states()} == {"done"}
    assert store.verify_audit_chain()
    store.engine.dispose()


def test_the_report_after_a_real_run(uninterrupted, tmp_path: Path) -> None:
    import csv

    from pipeline import clock

    _inbox, home = uninterrupted
    day = clock.now().date().isoformat()
    proc = _bwv(home, "report", "--date", day, "-o", str(tmp_path / "report"))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    [summary] = list(csv.DictReader((tmp_path / "report" / "summary.csv").open()))
    assert (summary["files_seen"], summary["done"], summary["quarantined"]) == ("8", "8", "0")
    runs = list(csv.DictReader((tmp_path / "report" / "runs.csv").open()))
    assert runs[0]["executor"] == "local" and runs[0]["workers"] == "2"
    assert float(runs[0]["x_real_time"]) > 0 and float(runs[0]["hours_processed"]) > 0
    expected = snapshot(resolve_instance(home).db_url)
    flags = list(csv.DictReader((tmp_path / "report" / "flags_by_category.csv").open()))
    assert sum(int(f["count"]) for f in flags) == len(expected["flags"])
