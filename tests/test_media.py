"""ffprobe and speech extraction on real media, and the reasons bad media gets."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from pipeline.errors import MediaError
from pipeline.media import extract_speech, probe_media, select_speech_track


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
