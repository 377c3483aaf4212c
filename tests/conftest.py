"""Shared fixtures: real media, the real models, a fresh instance per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The small real recordings and photos the tests use (sources in tests/data/README.md).
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))  # so tests can import scripts.footage
# One audit key for the session (a real key, given the way operators may give it), so the
# stores tests open in-process and the `bwv` subprocesses they start on the same database
# sign with the same key. tests/test_audit.py unsets it to test the key file.
os.environ.setdefault("BWV_AUDIT_KEY", "5e" * 32)


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly (argument list) and fail the test on error."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args],
        check=True, timeout=300, stdin=subprocess.DEVNULL,
    )


def age(*paths: Path, seconds: float = 60.0) -> None:
    """Make files look settled (modified a while ago) to the inbox scan."""
    for p in paths:
        st = p.lstat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)), follow_symlinks=False)


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real recordings and photos carried in tests/data/."""
    return DATA


@pytest.fixture(scope="session")
def jfk(test_data: Path) -> Path:
    return test_data / "speech" / "jfk.flac"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory, jfk: Path) -> Path:
    """Small real media files made once per session with ffmpeg."""
    d = tmp_path_factory.mktemp("media")
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"]
    ffmpeg(*video, "-i", str(jfk), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", str(d / "jfk.mp4"))
    ffmpeg(*video, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", str(d / "noaudio.mp4"))
    ffmpeg("-i", str(jfk), "-c:a", "aac", str(d / "audio_only.m4a"))
    # Two audio tracks, the first silent: the speech is on the second.
    ffmpeg(*video, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-i", str(jfk),
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-shortest", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", str(d / "two_tracks.mp4"))
    data = (d / "jfk.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "text.mp4").write_text("this is a text file, not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    (d / "noise.mp4").write_bytes(bytes(range(256)) * 64)  # binary, but not media
    return d


@pytest.fixture()
def instance(tmp_path: Path):
    """A fresh bwv instance (its own SQLite database and store)."""
    from pipeline.config import resolve_instance

    return resolve_instance(tmp_path / "home")


@pytest.fixture(scope="session")
def tiny_model():
    from pipeline.batch.models import tiny_en

    return tiny_en()


@pytest.fixture(scope="session")
def whisper(tiny_model):
    from pipeline.batch.transcribe import load_whisper

    return load_whisper(tiny_model)


@pytest.fixture(scope="session")
def engine():
    from pipeline.flagging.engine import engine_for

    return engine_for()


def copy_into(inbox: Path, src: Path, name: str | None = None) -> Path:
    """Copy a file into an inbox and make it look settled."""
    inbox.mkdir(parents=True, exist_ok=True)
    dst = inbox / (name or src.name)
    shutil.copyfile(src, dst)
    age(dst)
    return dst


def bwv_env(home: Path) -> dict[str, str]:
    """The environment of a `bwv` subprocess on the instance ``home`` (SQLite inside it)."""
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    return env


def bwv(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as an operator's script runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env=bwv_env(home), cwd=ROOT, capture_output=True,
        text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"bwv {args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


# --- the review app --------------------------------------------------------------------------

#: A file name and transcript words that would run script if a page failed to escape them.
HOSTILE_NAME = '"><img src=x onerror=alert(1)> call.mp4'
HOSTILE_WORDS = ("<script>alert('x')</script>", '"><img src=x onerror=alert(2)>')
PASSWORD = "correct horse battery staple"
USERS = {"alice": "tip", "bob": "tip", "tom": "trainer", "ada": "admin", "olive": "officer"}
#: olive's collar number: the hallway clip's metadata says she wore the camera.
OLIVE = "4512"


@pytest.fixture(scope="session")
def review_template(tmp_path_factory: pytest.TempPathFactory, media_dir: Path) -> Path:
    """An instance after a real batch run, with accounts and proxies; copied for each test.

    One clip is a spoken dialogue that the rubric flags; the other arrives under a
    hostile file name and is then given a transcript and a flag full of markup.
    """
    from pipeline.config import resolve_instance
    from pipeline.flagging.windows import group_flags
    from pipeline.records import Flag, Segment, Transcription, Word
    from pipeline.review.accounts import add_user
    from pipeline.review.proxy import ensure_proxy
    from pipeline.store import open_store
    from scripts.footage import Line, Scenario, build_clip

    base = tmp_path_factory.mktemp("review")
    inbox, home = base / "inbox", base / "home"
    scenario = Scenario("hallway", (
        Line("wearer", "Hello, I'm PC Jones. I'm here because your neighbour was worried about you."),
        Line("public", "He grabbed me by the throat last night and said he would kill me."),
        Line("wearer", "Thank you for telling me. That sounds really frightening."),
        Line("public", "I'm scared he'll come back tonight."),
        Line("wearer", "Do you feel safe here right now? Take your time."),
    ))
    clip = build_clip(scenario, base / "hallway.mp4", seed=7, public_gain_db=-6.0)
    copy_into(inbox, Path(clip.path), "2026-11-27 hallway.mp4")
    copy_into(inbox, media_dir / "jfk.mp4", HOSTILE_NAME)
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    subprocess.run([sys.executable, "-m", "pipeline", "-q", "run", str(inbox), "--settle-seconds", "0"],
                   env=env, cwd=ROOT, check=True, timeout=600, stdin=subprocess.DEVNULL,
                   capture_output=True)
    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    names = store.names_by_media()
    hostile = next(m for m in list(store.iter_media()) if HOSTILE_NAME in names[m.id])
    words = tuple(Word(1.0 + i, 1.8 + i, f" {w}", 0.9) for i, w in enumerate(HOSTILE_WORDS))
    seg = Segment(1.0, 3.0, "".join(w.word for w in words), words)
    store.save_transcript(hostile.id, Transcription((seg,), "en", hostile.duration_s or 11.0, 0.1),
                          model="test", model_sha256="0" * 64, settings={})
    flag = Flag("distress", "disclosure", 1.0, 2.8, HOSTILE_WORDS[0], seg.text.strip(),
                "trauma_informed@test", "test", 3)
    store.save_flags(hostile.id, [flag], group_flags([flag], duration_s=hostile.duration_s))
    for name, role in USERS.items():
        add_user(store, name, role=role, password=PASSWORD, actor="test",
                 officer_id=OLIVE if role == "officer" else None)
    hallway = next(m for m in list(store.iter_media()) if "hallway" in names[m.id][0])
    store.put_metadata([{"sha256": hallway.sha256, "officer_id": OLIVE, "team": "Response A",
                         "shift": "Nights", "incident_type": "domestic_abuse",
                         "source": "test.csv:2"}], actor="test", manifest="test.csv")
    for media in list(store.iter_media()):
        if media.state == "done":
            ensure_proxy(instance, media)
    store.engine.dispose()
    return home


@pytest.fixture()
def review_home(review_template: Path, tmp_path: Path):
    """A private copy of the review instance for one test."""
    from pipeline.config import resolve_instance

    shutil.copytree(review_template, tmp_path / "home")
    return resolve_instance(tmp_path / "home")


# --- databases: SQLite and a real PostgreSQL server -----------------------------------------


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL database: BWV_TEST_PG_URL, or one made by scripts/ensure_postgres.sh
    (and dropped again at the end)."""
    url = os.environ.get("BWV_TEST_PG_URL")
    if url:
        yield url
        return
    made = subprocess.run([str(ROOT / "scripts" / "ensure_postgres.sh")], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    if made.returncode != 0:
        pytest.fail(f"cannot start PostgreSQL for the store tests:\n{made.stderr}")
    lines = made.stdout.strip().splitlines()
    url = lines[-1]
    yield url
    started = [line.split(" ", 2)[1:] for line in lines[:-1] if line.startswith("started ")]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    engine.dispose()
    for pg_ctl, data in started:  # a private server this session started (not root): stop it
        subprocess.run([pg_ctl, "-D", data, "-m", "fast", "stop"], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the store supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    from sqlalchemy import create_engine, text

    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:  # a clean schema for every test
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium, driven by Playwright (never ``playwright install``), one per
    test module: every browser test's."""
    from playwright.sync_api import sync_playwright

    from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def base_url(review_home):  # type: ignore[no-untyped-def]
    """The review app for a private copy of the review instance, on a free loopback port."""
    from scripts.screenshots import serving

    with serving(review_home) as url:
        yield url
