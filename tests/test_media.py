"""ffprobe and speech extraction on real media, and the reasons bad media gets."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from pipeline.batch.media import (
    check_decoded_duration,
    extract_speech,
    probe_media,
    select_speech_track,
)
from pipeline.errors import MediaError


def test_probe_video_with_audio(media_dir: Path) -> None:
    probe = probe_media(media_dir / "jfk.mp4")
    assert probe.has_video and (probe.width, probe.height) == (320, 240)
    assert len(probe.audio) == 1 and probe.audio[0].codec == "aac"
    assert 10.5 < probe.duration_s < 12.0


def test_audio_only_file_is_usable(media_dir: Path) -> None:
    probe = probe_media(media_dir / "audio_only.m4a")
    assert not probe.has_video and probe.width is None
    assert len(probe.audio) == 1


@pytest.mark.parametrize(
    "name,reason",
    [
        ("noaudio.mp4", "no audio track: nothing to transcribe (check the camera's microphone)"),
        ("truncated.mp4", "truncated: moov atom missing (the upload was cut short; upload the file again)"),
        ("text.mp4", "not a media file: it holds text (check what was uploaded under this name)"),
        ("empty.mp4", "empty file (0 bytes): the upload failed; upload it again"),
        ("noise.mp4", "not a media file (it does not start like an MP4; check what was uploaded)"),
    ],
)
def test_bad_media_reasons(media_dir: Path, name: str, reason: str) -> None:
    with pytest.raises(MediaError) as err:
        probe_media(media_dir / name)
    assert err.value.reason == reason
    assert err.value.permanent


def test_pixel_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=8192x8192:rate=1", "-f", "lavfi", "-i",
           "sine=f=440:d=1", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
           str(big))
    with pytest.raises(MediaError, match=r"video too large: 8192x8192 is over the limit"):
        probe_media(big)


def test_speech_track_is_found_when_the_first_is_silent(media_dir: Path) -> None:
    path = media_dir / "two_tracks.mp4"
    probe = probe_media(path)
    assert len(probe.audio) == 2
    assert select_speech_track(path, probe) == 1


def _read(path: Path) -> tuple[int, int, np.ndarray]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return w.getframerate(), w.getnchannels(), data


def test_extract_speech_is_16k_mono_and_lifts_a_quiet_voice(jfk: Path, tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.mp4"
    ffmpeg("-i", str(jfk), "-af", "volume=-30dB", "-ac", "2", "-ar", "44100", "-c:a", "aac", str(quiet))
    probe = probe_media(quiet)
    plain = extract_speech(quiet, tmp_path / "plain.wav", probe=probe, track=0, normalise=False)
    lifted = extract_speech(quiet, tmp_path / "lifted.wav", probe=probe, track=0)
    rate, channels, data = _read(lifted.path)
    assert (rate, channels) == (16000, 1)
    assert abs(lifted.duration_s - probe.duration_s) < 0.5
    plain_rms = np.sqrt(np.mean(_read(plain.path)[2].astype(float) ** 2))
    lifted_rms = np.sqrt(np.mean(data.astype(float) ** 2))
    assert lifted_rms > 8 * plain_rms  # at least +18 dB
    assert not list(tmp_path.glob("*.tmp.wav"))


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory, jfk: Path) -> Path:
    """22 s of real speech with a small picture (MP4)."""
    out = tmp_path_factory.mktemp("long") / "long.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-i", str(jfk), "-i", str(jfk),
           "-filter_complex", "[1:a][2:a]concat=n=2:v=0:a=1[a]", "-map", "0:v", "-map", "[a]",
           "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out))
    return out


@pytest.mark.parametrize("container", ["mp4", "mpegts"])
def test_corrupt_middle_is_damaged(long_speech: Path, tmp_path: Path, container: str) -> None:
    good = tmp_path / f"good.{container}"
    ffmpeg("-i", str(long_speech), "-c", "copy", "-f", container, str(good))
    data = bytearray(good.read_bytes())
    lo, hi = int(len(data) * 0.35), int(len(data) * 0.65)
    data[lo:hi] = bytes(hi - lo)  # zeros over the middle 30%: packets the decoder drops
    bad = tmp_path / f"bad.{container}"
    bad.write_bytes(data)
    probe = probe_media(good)
    assert abs(extract_speech(good, tmp_path / "good.wav", probe=probe, track=0).duration_s - 22.0) < 0.1
    probe = probe_media(bad)
    assert probe.audio[0].duration_s == pytest.approx(22.0, abs=0.1)  # the container still says so
    with pytest.raises(MediaError) as err:
        extract_speech(bad, tmp_path / "bad.wav", probe=probe, track=0)
    assert err.value.permanent
    assert re.fullmatch(
        r"damaged: the audio decodes to 1\d\.\d s of the 22\.0 s the container states "
        r"\(corrupt data inside the file; copy it from the camera again\)",
        err.value.reason,
    ), err.value.reason
    assert not (tmp_path / "bad.wav").exists() and not list(tmp_path.glob("*.tmp.wav"))


@pytest.mark.parametrize(
    "decoded_s,stated_s,damaged",
    [
        (11.01, 11.0, False),  # AAC priming: a frame longer
        (10.9, 11.0, False),
        (9.1, 11.0, False),  # under 2 s short
        (57.1, 60.0, False),  # 2.9 s short, but under 5%
        (56.9, 60.0, True),
        (15.1, 22.0, True),
        (3000.0, 3600.0, True),
        (5.0, None, False),  # the container states no length: nothing to compare
    ],
)
def test_decoded_duration_tolerance(decoded_s: float, stated_s: float | None, damaged: bool) -> None:
    if damaged:
        with pytest.raises(MediaError, match=r"^damaged: the audio decodes to "):
            check_decoded_duration(decoded_s, stated_s)
    else:
        check_decoded_duration(decoded_s, stated_s)


@pytest.mark.parametrize(
    "name,args,stated_s",
    [
        ("a.mp4", ["-c", "copy"], 11.0),
        ("a.mkv", ["-c", "copy"], 11.0),  # only a DURATION tag on the stream
        ("a.ts", ["-c", "copy"], 11.0),
        ("a.avi", ["-c:v", "copy", "-c:a", "pcm_s16le"], None),  # states only the video's length
        ("a.m4a", ["-vn", "-c:a", "copy"], 11.0),
    ],
)
def test_stated_audio_duration(media_dir: Path, tmp_path: Path, name: str, args: list[str],
                               stated_s: float | None) -> None:
    out = tmp_path / name
    ffmpeg("-i", str(media_dir / "jfk.mp4"), *args, str(out))
    stated = probe_media(out).audio[0].duration_s
    if stated_s is None:
        assert stated is None
    else:
        assert stated == pytest.approx(stated_s, abs=0.1)


def test_a_duration_estimated_from_the_bit_rate_is_not_trusted(jfk: Path, tmp_path: Path) -> None:
    # VBR MP3 without a Xing header: ffprobe guesses ~90 s for 31 s of audio from the first frames.
    mp3 = tmp_path / "vbr.mp3"
    ffmpeg("-i", str(jfk), "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-filter_complex",
           "[1:a]atrim=0:20[s];[s][0:a]concat=n=2:v=0:a=1", "-c:a", "libmp3lame", "-q:a", "0",
           "-write_xing", "0", str(mp3))
    probe = probe_media(mp3)
    assert probe.audio[0].duration_s is None
    speech = extract_speech(mp3, tmp_path / "vbr.wav", probe=probe, track=0)
    assert speech.duration_s == pytest.approx(31.0, abs=0.2)


@pytest.mark.parametrize("rate,codec", [(8000, "pcm_s16le"), (192000, "pcm_s24le")])
def test_extract_speech_resamples_any_rate_to_16k(jfk: Path, tmp_path: Path, rate: int,
                                                  codec: str) -> None:
    src = tmp_path / f"{rate}.wav"
    ffmpeg("-i", str(jfk), "-ar", str(rate), "-c:a", codec, str(src))
    probe = probe_media(src)
    assert probe.audio[0].sample_rate_hz == rate
    speech = extract_speech(src, tmp_path / "out.wav", probe=probe, track=0)
    got_rate, channels, data = _read(speech.path)
    assert (got_rate, channels) == (16000, 1)
    assert len(data) / 16000 == pytest.approx(11.0, abs=0.05)
    assert np.sqrt(np.mean(data.astype(float) ** 2)) > 1000  # speech, not silence


def test_damaged_video_with_whole_audio_is_used(long_speech: Path, tmp_path: Path) -> None:
    # Only video packets corrupted: the speech is intact, so the file is transcribed.
    bad = tmp_path / "bad_picture.mp4"
    ffmpeg("-i", str(long_speech), "-c", "copy", "-bsf:v", "noise=amount=3", str(bad))
    probe = probe_media(bad)
    speech = extract_speech(bad, tmp_path / "out.wav", probe=probe, track=0)
    assert speech.duration_s == pytest.approx(22.0, abs=0.1)
