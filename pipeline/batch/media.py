"""ffprobe and ffmpeg: what a file holds, and its speech track as 16 kHz mono WAV.

ffmpeg and ffprobe are always run with an argument list, ``-nostdin`` (for
ffmpeg; ffprobe gets a closed standard input), and a time limit. Problems
become :class:`MediaError` with a one-line reason a person can act on.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from pipeline.errors import MediaError
from pipeline.records import AudioStream, MediaProbe

log = logging.getLogger("bwv.media")

#: Frames larger than this many pixels are refused (8K UHD is 33.2 million).
MAX_PIXELS = 35_000_000
SPEECH_SAMPLE_RATE = 16_000
#: Speech-oriented level normalisation: lifts a quiet voice far from the camera
#: without pumping the noise floor between words, and cuts rumble below 80 Hz.
SPEECH_FILTERS = "highpass=f=80,dynaudnorm=f=250:g=15:p=0.9:m=30:s=0"
#: Audio that decodes shorter than its container states by more than both of these is damaged
#: (corrupt packets the decoder drops). Good files differ by a frame or two (AAC priming, the
#: last packet), never by seconds; the timestamps after a dropped stretch would be wrong too.
DAMAGED_SHORT_S = 2.0
DAMAGED_SHORT_FRACTION = 0.05
_ESTIMATED = "estimating duration from bitrate"


@dataclass(frozen=True)
class SpeechAudio:
    """A speech WAV extracted from an original."""

    path: Path
    track: int
    duration_s: float


def run_tool(args: list[str], *, timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg or ffprobe from an argument list with closed stdin and a time limit."""
    try:
        return subprocess.run(  # noqa: S603 - argument list, never a shell
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError(
            f"{args[0]} took longer than {timeout_s:.0f} s; the file may be damaged",
            permanent=False,
        ) from exc
    except FileNotFoundError as exc:
        raise MediaError(
            f"{args[0]} is not installed; run `make setup` or `apt-get install ffmpeg`",
            permanent=False,
        ) from exc


_ISO_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"}


def _sniff(path: Path) -> str | None:
    """A reason from the file's first bytes when they show it is not media at all."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if not head:
        return "empty file (0 bytes): the upload failed; upload it again"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and all(c.isprintable() or c in "\r\n\t" for c in decoded):
        return "not a media file: it holds text (check what was uploaded under this name)"
    return None


def _probe_failure_reason(path: Path, stderr: str) -> str:
    sniffed = _sniff(path)
    if sniffed:
        return sniffed
    text = stderr.lower()
    if "moov atom not found" in text:
        with path.open("rb") as fh:
            head = fh.read(12)
        if head[4:8] not in _ISO_BOXES:
            return "not a media file (it does not start like an MP4; check what was uploaded)"
        return "truncated: moov atom missing (the upload was cut short; upload the file again)"
    if "invalid data found" in text or "could not find codec parameters" in text:
        return "not a media file (ffprobe cannot read it)"
    if "permission denied" in text:
        return "cannot read the file: permission denied"
    last = stderr.strip().splitlines()[-1:] or ["no message"]
    return f"not a readable media file (ffprobe: {last[0][:200]})"


def probe_media(path: Path, *, timeout_s: float = 60.0) -> MediaProbe:
    """Probe a file with ffprobe; raise :class:`MediaError` when it is not usable footage."""
    # Warnings too: ffprobe says when it only estimated a duration from the bit rate.
    args = ["ffprobe", "-v", "warning", "-show_format", "-show_streams", "-of", "json", str(path)]
    proc = run_tool(args, timeout_s=timeout_s)
    if proc.returncode != 0:
        raise MediaError(_probe_failure_reason(path, proc.stderr.decode("utf-8", "replace")))
    info = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    streams = info.get("streams") or []
    fmt = info.get("format") or {}
    estimated = _ESTIMATED in proc.stderr.decode("utf-8", "replace").lower()
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio_streams = [st for st in streams if st.get("codec_type") == "audio"]
    sole = not videos and len(audio_streams) == 1
    audio = tuple(
        AudioStream(
            index=i,
            codec=str(s.get("codec_name", "?")),
            channels=int(s.get("channels") or 0),
            sample_rate_hz=int(s.get("sample_rate") or 0),
            duration_s=None if estimated else _stated_seconds(s, fmt, sole=sole),
        )
        for i, s in enumerate(audio_streams)
    )
    if not videos and not audio:
        raise MediaError("not a media file (no audio or video streams)")
    width = height = None
    if videos:
        width, height = int(videos[0].get("width") or 0), int(videos[0].get("height") or 0)
        if width * height > MAX_PIXELS:
            raise MediaError(
                f"video too large: {width}x{height} is over the limit of {MAX_PIXELS:,} pixels"
            )
    duration = _duration(fmt, streams)
    if not audio:
        raise MediaError("no audio track: nothing to transcribe (check the camera's microphone)")
    return MediaProbe(
        container=str(fmt.get("format_name", "?")),
        duration_s=duration,
        has_video=bool(videos),
        width=width,
        height=height,
        audio=audio,
    )


def _duration(fmt: dict[str, object], streams: list[dict[str, object]]) -> float:
    return _first_positive([fmt.get("duration"), *(s.get("duration") for s in streams)]) or 0.0


def _first_positive(values: list[object]) -> float | None:
    """The first value that reads as a positive number of seconds."""
    for value in values:
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return None


def _stated_seconds(stream: dict[str, object], fmt: dict[str, object], *, sole: bool) -> float | None:
    """An audio stream's length as its container states it (None when it does not say).

    Matroska and WebM state it only in a ``DURATION`` tag; the file's own duration
    stands in only for a file holding this one stream (a video may run longer than its audio).
    """
    tags = stream.get("tags")
    tag = tags.get("DURATION") if isinstance(tags, dict) else None
    return _first_positive(
        [stream.get("duration"), _clock_seconds(tag), fmt.get("duration") if sole else None]
    )


def _clock_seconds(value: object) -> float | None:
    """``HH:MM:SS.fraction`` (a Matroska ``DURATION`` tag) in seconds."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", value.strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


_MEAN_VOLUME = re.compile(r"mean_volume:\s*(-?[\d.]+|-inf) dB")


def track_loudness_db(path: Path, track: int, *, seconds: float = 300.0) -> float:
    """Mean loudness (dBFS) of one audio track over its first ``seconds``."""
    args = (
        ffmpeg.input(str(path), t=seconds)
        .output("-", map=f"0:a:{track}", af="volumedetect", f="null")
        .global_args("-nostdin", "-hide_banner", "-nostats")
        .compile()
    )
    proc = run_tool(args, timeout_s=60.0 + seconds)
    match = _MEAN_VOLUME.search(proc.stderr.decode("utf-8", "replace"))
    if proc.returncode != 0 or not match or match.group(1) == "-inf":
        return float("-inf")
    return float(match.group(1))


def select_speech_track(path: Path, probe: MediaProbe) -> int:
    """Pick the audio track that carries speech: the loudest when there are several."""
    if len(probe.audio) == 1:
        return 0
    levels = {a.index: track_loudness_db(path, a.index) for a in probe.audio}
    best = max(levels, key=lambda i: levels[i])
    if levels[best] == float("-inf"):
        raise MediaError("every audio track is silent: nothing to transcribe")
    log.info("%s: %d audio tracks, loudness %s; using track %d", path.name, len(levels), levels, best)
    return best


def levels_path(speech_wav: Path) -> Path:
    """Where the speech track is kept at its recorded levels beside the normalised WAV."""
    return speech_wav.with_name(speech_wav.name.removesuffix(".wav") + ".levels.wav")


def extract_speech(
    path: Path, out_wav: Path, *, probe: MediaProbe, track: int, normalise: bool = True,
    levels: bool = False,
) -> SpeechAudio:
    """Write the speech track as a level-normalised 16 kHz mono WAV (atomically).

    Any sample rate is resampled to 16 kHz. Audio that decodes much shorter than
    its container states is refused as damaged (see :func:`check_decoded_duration`).
    With ``levels``, the same decoding also writes the track as recorded, not normalised,
    to :func:`levels_path`: how loud each voice is tells the camera wearer apart.
    """
    tmp = out_wav.with_name(f".{out_wav.name}.{os.getpid()}.tmp.wav")
    tmp_levels = out_wav.with_name(f".{out_wav.name}.{os.getpid()}.levels.tmp.wav")
    out_kwargs: dict[str, object] = {
        "map": f"0:a:{track}",
        "ac": 1,
        "ar": SPEECH_SAMPLE_RATE,
        "acodec": "pcm_s16le",
        "f": "wav",
    }
    source = ffmpeg.input(str(path))
    outputs = [source.output(str(tmp), **out_kwargs, **({"af": SPEECH_FILTERS} if normalise
                                                         else {}))]
    if levels:
        outputs.append(source.output(str(tmp_levels), **out_kwargs))
    args = (
        ffmpeg.merge_outputs(*outputs)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
        .compile()
    )
    try:
        proc = run_tool(args, timeout_s=120.0 + probe.duration_s)
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
            raise MediaError(f"cannot decode the audio track {track}: {detail[0][:200]}")
        decoded_s = _wav_seconds(tmp)
        if decoded_s < 0.1:
            raise MediaError("the audio track decodes to nothing: the file is damaged")
        stated = next((a.duration_s for a in probe.audio if a.index == track), None)
        check_decoded_duration(decoded_s, stated)
        if levels:
            os.replace(tmp_levels, levels_path(out_wav))
        os.replace(tmp, out_wav)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_levels.unlink(missing_ok=True)
    return SpeechAudio(path=out_wav, track=track, duration_s=decoded_s)


def check_decoded_duration(decoded_s: float, stated_s: float | None) -> None:
    """Raise :class:`MediaError` when audio decodes much shorter than its container states.

    A decoder drops the packets it cannot read, so corrupt data inside a file shows as
    missing seconds; transcribing the rest would put every later word at the wrong time.
    Nothing is checked when the container states no duration.
    """
    if not stated_s:
        return
    short_s = stated_s - decoded_s
    if short_s > DAMAGED_SHORT_S and short_s > DAMAGED_SHORT_FRACTION * stated_s:
        raise MediaError(
            f"damaged: the audio decodes to {decoded_s:.1f} s of the {stated_s:.1f} s the "
            "container states (corrupt data inside the file; copy it from the camera again)"
        )


def _wav_seconds(path: Path) -> float:
    """The length of a PCM WAV that ffmpeg wrote, from its header."""
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError):
        return path.stat().st_size / (2 * SPEECH_SAMPLE_RATE)  # 16-bit mono, minus a header
