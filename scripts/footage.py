"""Synthetic body-worn-video clips with known scripts.

Builds short MP4 clips (and one long file) that look and sound a little like
UK police body-worn video: a loud officer close to the camera, quieter and
duller members of the public further away, continuous street noise, and a
shaky picture. Every spoken line's start and end are recorded, so the demo,
the tests and the benchmarks can compare a transcript with the truth.

Needs ``espeak-ng`` and ``ffmpeg`` on the PATH; Python needs only numpy.

Example::

    from pathlib import Path
    from scripts.footage import SCENARIOS, build_clip

    script = build_clip(SCENARIOS[0], Path("/tmp/clip.mp4"), seed=1)
    print(script.duration_s, script.text)
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scripts.footage_text import (
    FILL,
    PUBLIC,
    PUBLIC_OPENERS,
    PUBLIC_TEMPLATES,
    SCENARIOS,
    WEARER,
    WEARER_OPENERS,
    WEARER_TEMPLATES,
    Line,
    Scenario,
)

__all__ = [
    "PUBLIC", "SCENARIOS", "WEARER", "ClipScript", "FootageError", "Line", "Scenario",
    "SpokenLine", "build_clip", "build_long_file", "synthesize_line", "write_scripts_json",
]

# espeak-ng 1.51 silently drops a variant written after "en-gb" ("en-gb+f2" is
# plain "en-gb"), so British English with a variant is spelt "en+<variant>":
# "en" is the same British voice (gmw/en).

#: The officer: British English, male variant, close to the camera.
WEARER_VOICE = "en+m3"
WEARER_SPEED_WPM = 160

#: Members of the public: a spread of accents and female/male variants, the
#: clearer ones first (the demo clip built with seed ``n`` uses voice ``n``).
#: Others tried and dropped as too hard for a small Whisper model once made
#: distant and noisy: en-029, en-gb-x-gbcwmd, en-gb-scotland+f4.
PUBLIC_VOICES: tuple[str, ...] = (
    "en+f2",
    "en-gb-x-rp+f4",
    "en-gb-x-gbclan+m1",
    "en-gb-scotland",
    "en-gb-x-rp+m5",
    "en+m7",
    "en-us+f2",
)

_SAMPLE_RATE_HZ = 22050  # espeak-ng's native rate; everything is mixed at it
_WEARER_RMS_DBFS = -16.0  # loud: the officer is right at the camera
_SUBPROCESS_TIMEOUT_S = 120.0


class FootageError(RuntimeError):
    """A synthetic clip could not be built (espeak-ng or ffmpeg failed)."""


@dataclass(frozen=True)
class SpokenLine:
    """A line as placed in a built clip, with its exact time span."""

    speaker: str
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ClipScript:
    """The known script of a built clip: every line with its time span."""

    name: str
    path: str
    duration_s: float
    lines: tuple[SpokenLine, ...]

    @property
    def text(self) -> str:
        """All line texts in order, joined by spaces."""
        return " ".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: name, path, duration_s and lines."""
        return {
            "name": self.name,
            "path": self.path,
            "duration_s": round(self.duration_s, 3),
            "lines": [
                {**asdict(line), "start_s": round(line.start_s, 3), "end_s": round(line.end_s, 3)}
                for line in self.lines
            ],
        }


def synthesize_line(text: str, *, voice: str, speed_wpm: int, out_wav: Path) -> float:
    """Speak ``text`` with espeak-ng into ``out_wav``; return its duration in seconds.

    ``--`` ends espeak-ng's options, so a text starting with ``-`` is spoken
    rather than read as a flag.
    """
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-w", str(out_wav), "--", text]
    _run_tool(cmd, timeout_s=_SUBPROCESS_TIMEOUT_S, failed=f"espeak-ng failed for voice {voice!r}")
    with wave.open(str(out_wav), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def _read_wav(path: Path) -> np.ndarray:
    """Read a mono 16-bit WAV at the mixing rate as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as wav:
        if wav.getframerate() != _SAMPLE_RATE_HZ or wav.getnchannels() != 1:
            raise FootageError(
                f"{path}: expected mono {_SAMPLE_RATE_HZ} Hz from espeak-ng, "
                f"got {wav.getnchannels()} channel(s) at {wav.getframerate()} Hz"
            )
        raw = wav.readframes(wav.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def _write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(_SAMPLE_RATE_HZ)
        wav.writeframes(pcm.tobytes())


def _trim(audio: np.ndarray) -> np.ndarray:
    """Cut espeak-ng's leading and trailing silence so spans are exact."""
    loud = np.flatnonzero(np.abs(audio) > 0.01 * max(float(np.abs(audio).max()), 1e-9))
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def _db(level_db: float) -> float:
    return float(10.0 ** (level_db / 20.0))


def _set_rms(audio: np.ndarray, level_dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) or 1e-9
    return (audio * (_db(level_dbfs) / rms)).astype(np.float32)


def _lowpass(audio: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth-shaped magnitude low-pass, applied in the frequency domain."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(audio.size, d=1.0 / _SAMPLE_RATE_HZ)
    spectrum *= 1.0 / np.sqrt(1.0 + (freqs / cutoff_hz) ** (2 * order))
    return np.fft.irfft(spectrum, n=audio.size).astype(np.float32)


def _convolve(audio: np.ndarray, impulse: np.ndarray) -> np.ndarray:
    n = audio.size + impulse.size - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(impulse, size), size)
    return out[:n].astype(np.float32)


def _far_voice(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make a voice sound a few metres away: duller, with a little room echo."""
    dull = _lowpass(audio, cutoff_hz=3800.0, order=1)
    tail = np.arange(int(0.25 * _SAMPLE_RATE_HZ)) / _SAMPLE_RATE_HZ
    impulse = rng.standard_normal(tail.size).astype(np.float32) * np.exp(-tail / 0.06)
    impulse[: int(0.01 * _SAMPLE_RATE_HZ)] = 0.0  # first reflection after ~10 ms
    wet = _convolve(dull, impulse)
    wet *= _db(-18.0) * float(np.std(dull)) / max(float(np.std(wet)), 1e-9)
    wet[: dull.size] += dull
    return wet


def _street_noise(n: int, noise_db: float, rng: np.random.Generator) -> np.ndarray:
    """Rumbling street noise at ``noise_db`` dBFS RMS plus occasional passing cars."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, d=1.0 / _SAMPLE_RATE_HZ)
    spectrum /= np.maximum(freqs, 30.0) ** 0.75  # between pink and brown: traffic rumble
    noise = _set_rms(np.fft.irfft(spectrum, n=n).astype(np.float32), noise_db)
    t_s = 4.0 + float(rng.uniform(0.0, 10.0))
    total_s = n / _SAMPLE_RATE_HZ
    while t_s < total_s:
        length = int(rng.uniform(3.0, 6.0) * _SAMPLE_RATE_HZ)
        start = int(t_s * _SAMPLE_RATE_HZ)
        seg = min(length, n - start)
        car = _lowpass(rng.standard_normal(length).astype(np.float32), cutoff_hz=500.0, order=3)
        envelope = np.hanning(length).astype(np.float32) ** 2
        car = _set_rms(car, noise_db + float(rng.uniform(4.0, 9.0))) * envelope
        noise[start : start + seg] += car[:seg]
        t_s += float(rng.uniform(12.0, 30.0))
    return noise


def _run_tool(cmd: list[str], *, timeout_s: float, failed: str) -> None:
    """Run espeak-ng or ffmpeg from an argument list; failures become :class:`FootageError`."""
    tool = cmd[0]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)  # noqa: S603 - argument list
    except FileNotFoundError as exc:
        raise FootageError(f"{tool} not found: install it (apt-get install {tool})") from exc
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace").strip()
        raise FootageError(f"{failed}: {stderr}") from exc
    except subprocess.TimeoutExpired as exc:
        raise FootageError(f"{tool} took longer than {timeout_s:.0f} s") from exc


def _run_ffmpeg(args: list[str], *, timeout_s: float) -> None:
    _run_tool(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], timeout_s=timeout_s,
              failed="ffmpeg failed")


def _encode(
    audio_wav: Path,
    out: Path,
    *,
    duration_s: float,
    size: tuple[int, int],
    fps: int,
    preset: str,
    rng: np.random.Generator,
) -> None:
    """Mux a shaky, dim street-ish picture with ``audio_wav`` into ``out`` (via a temp name).

    A slowly shifting gradient (the scene) with a small test card drifting
    across it (something moving), shaken like a chest-mounted camera. Smooth
    areas keep the file small at crf 32.
    """
    width, height = size
    margin = max(8, width // 20) // 2 * 2
    card_w, card_h = width // 4 // 2 * 2, height // 4 // 2 * 2
    f1, f2 = float(rng.uniform(0.8, 1.6)), float(rng.uniform(3.0, 5.0))
    p1, p2 = float(rng.uniform(0, 6.28)), float(rng.uniform(0, 6.28))
    shake_x = f"{margin}+{margin * 0.6:.1f}*sin(2*PI*t*{f1:.2f}+{p1:.2f})+{margin * 0.25:.1f}*sin(2*PI*t*{f2:.2f})"
    shake_y = f"{margin}+{margin * 0.5:.1f}*sin(2*PI*t*{f1 * 2:.2f}+{p2:.2f})+{margin * 0.2:.1f}*sin(2*PI*t*{f2 * 1.3:.2f})"
    drift_x = f"{width // 3}+{width // 4}*sin(2*PI*t*{rng.uniform(0.03, 0.07):.3f}+{p2:.2f})"
    drift_y = f"{height // 3}+{height // 8}*sin(2*PI*t*{rng.uniform(0.05, 0.1):.3f}+{p1:.2f})"
    scene = (
        f"gradients=size={width + 2 * margin}x{height + 2 * margin}:rate={fps}:speed={rng.uniform(0.01, 0.02):.3f}"
        f":c0=0x303848:c1=0x706050:c2=0x202020:c3=0x506070:nb_colors=4:seed={int(rng.integers(0, 2**31))}"
    )
    # ffmpeg's first test card: testsrc2's pattern gave the second face check (BlazeFace) 33 to
    # 39 false faces in 300 frames, at scores just over its threshold; testsrc gave none.
    card = f"testsrc=size={card_w}x{card_h}:rate={fps}"
    graph = (
        "[1:v]eq=saturation=0.6,gblur=sigma=1[card];"
        f"[0:v][card]overlay=x='{drift_x}':y='{drift_y}'[scene];"
        f"[scene]crop={width}:{height}:x='{shake_x}':y='{shake_y}',vignette[video]"
    )
    tmp = out.with_name(f".{out.name}.partial")
    try:
        _run_ffmpeg(
            [
                "-f", "lavfi", "-t", f"{duration_s:.3f}", "-i", scene,
                "-f", "lavfi", "-t", f"{duration_s:.3f}", "-i", card,
                "-i", str(audio_wav),
                "-filter_complex", graph, "-map", "[video]", "-map", "2:a",
                "-c:v", "libx264", "-preset", preset, "-crf", "32", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-ac", "1",
                "-t", f"{duration_s:.3f}", "-movflags", "+faststart", "-f", "mp4", str(tmp),
            ],
            timeout_s=120.0 + duration_s,
        )  # fmt: skip
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _mix(
    voiced: list[tuple[Line, np.ndarray, int]],
    *,
    gaps_s: list[float],
    lead_in_s: float,
    tail_s: float,
    noise_db: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[SpokenLine, ...]]:
    """Place processed voices one after another with gaps, over street noise."""
    spoken: list[SpokenLine] = []
    starts: list[int] = []
    cursor = int(lead_in_s * _SAMPLE_RATE_HZ)
    for (line, _, speech_n), gap_s in zip(voiced, gaps_s, strict=True):
        starts.append(cursor)
        # a far voice carries an echo tail; the spoken span ends with the dry speech
        end = cursor + speech_n
        spoken.append(
            SpokenLine(line.speaker, line.text, cursor / _SAMPLE_RATE_HZ, end / _SAMPLE_RATE_HZ)
        )
        cursor = end + int(gap_s * _SAMPLE_RATE_HZ)
    total = cursor + int(tail_s * _SAMPLE_RATE_HZ) + int(0.3 * _SAMPLE_RATE_HZ)
    mix = _street_noise(total, noise_db, rng)
    for start, (_, audio, _) in zip(starts, voiced, strict=True):
        mix[start : start + audio.size] += audio[: total - start]
    peak = float(np.abs(mix).max())
    if peak > 0.98:
        mix *= 0.98 / peak
    return mix, tuple(spoken)


def _voice_line(
    line: Line, raw: np.ndarray, *, public_gain_db: float, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Level (and for the public, distance) a raw line; return audio and its dry speech length."""
    speech = _trim(raw)
    if line.speaker == WEARER:
        return _set_rms(speech, _WEARER_RMS_DBFS), speech.size
    return _far_voice(_set_rms(speech, _WEARER_RMS_DBFS + public_gain_db), rng), speech.size


def _synthesize_all(
    lines: list[tuple[str, str, int]], workdir: Path, *, first_index: int
) -> list[np.ndarray]:
    """Synthesise (text, voice, speed) triples in parallel; return raw audio in order."""

    def one(item: tuple[int, tuple[str, str, int]]) -> np.ndarray:
        index, (text, voice, speed) = item
        wav = workdir / f"line_{first_index + index:05d}.wav"
        synthesize_line(text, voice=voice, speed_wpm=speed, out_wav=wav)
        audio = _read_wav(wav)
        wav.unlink()
        return audio

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, enumerate(lines)))


def build_clip(
    scenario: Scenario,
    out: Path,
    *,
    seed: int = 0,
    public_gain_db: float = -12.0,
    noise_db: float = -38.0,
    size: tuple[int, int] = (640, 360),
    fps: int = 15,
) -> ClipScript:
    """Build one body-worn-video style MP4 of ``scenario``; return its script.

    The officer (``wearer``) is loud; the public voice (picked by ``seed``) is
    ``public_gain_db`` quieter, duller and a little echoey. Street noise sits at
    ``noise_db`` dBFS RMS throughout. Gaps of 0.3-1.2 s separate lines.
    """
    rng = np.random.default_rng(seed)
    public_voice = PUBLIC_VOICES[seed % len(PUBLIC_VOICES)]
    public_speed = int(rng.integers(145, 171))
    requests = [
        (line.text, WEARER_VOICE if line.speaker == WEARER else public_voice,
         WEARER_SPEED_WPM if line.speaker == WEARER else public_speed)
        for line in scenario.lines
    ]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bwv-footage-") as tmp:
        workdir = Path(tmp)
        raws = _synthesize_all(requests, workdir, first_index=0)
        voiced = [
            (line, *_voice_line(line, raw, public_gain_db=public_gain_db, rng=rng))
            for line, raw in zip(scenario.lines, raws, strict=True)
        ]
        gaps = [float(rng.uniform(0.3, 1.2)) for _ in voiced]
        mix, spoken = _mix(
            voiced,
            gaps_s=gaps,
            lead_in_s=float(rng.uniform(0.6, 1.2)),
            tail_s=0.8,
            noise_db=noise_db,
            rng=rng,
        )
        return _render(mix, spoken, workdir, out, size=size, fps=fps, preset="veryfast", rng=rng)


def _render(
    mix: np.ndarray,
    spoken: tuple[SpokenLine, ...],
    workdir: Path,
    out: Path,
    *,
    size: tuple[int, int],
    fps: int,
    preset: str,
    rng: np.random.Generator,
) -> ClipScript:
    """Encode a finished mix with its picture into ``out``; return the clip's script."""
    duration_s = mix.size / _SAMPLE_RATE_HZ
    _write_wav(workdir / "mix.wav", mix)
    _encode(workdir / "mix.wav", out, duration_s=duration_s, size=size, fps=fps, preset=preset, rng=rng)
    return ClipScript(name=out.stem, path=str(out), duration_s=duration_s, lines=spoken)


def write_scripts_json(scripts: list[ClipScript], path: Path) -> None:
    """Write ``scripts`` as a JSON list of :meth:`ClipScript.to_dict` (via a temp name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps([s.to_dict() for s in scripts], indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def dialogue_turns(rng: np.random.Generator) -> Iterator[tuple[Line, str, int]]:
    """Endless back-and-forth (line, voice, speed), in episodes with a new member of the public each."""
    used: set[str] = set()
    recent: dict[str, list[str]] = {WEARER: [], PUBLIC: []}
    pools = {
        WEARER: (WEARER_TEMPLATES, WEARER_OPENERS),
        PUBLIC: (PUBLIC_TEMPLATES, PUBLIC_OPENERS),
    }
    voices = [str(v) for v in rng.permutation(np.array(PUBLIC_VOICES))]
    names = FILL["girl"] + FILL["boy"]

    def pick(values: tuple[str, ...]) -> str:
        return values[int(rng.integers(len(values)))]

    def fill(template: str) -> str:
        return template.format(
            name=pick(names), **{key: pick(values) for key, values in FILL.items()}
        )

    def sentence(speaker: str, *, opener: bool) -> str:
        templates, openers = pools[speaker]
        for _ in range(50):  # a fresh sentence, and no template heard in a while
            template = pick(templates)
            body = fill(template)
            if template not in recent[speaker] and body not in used:
                break
        recent[speaker] = (recent[speaker] + [template])[-(len(templates) * 2 // 3) :]
        used.add(body)
        start = pick(openers) if opener else ""
        if (
            start.endswith(", ")
            and not body.startswith(("I ", "I'"))
            and not template.startswith("{")
        ):
            body = body[0].lower() + body[1:]
        return start + body

    for episode in itertools.count():
        voice = voices[episode % len(voices)]
        speed = int(rng.integers(145, 171))
        yield (
            Line(WEARER, fill("Hello, I'm PC {officer}. I'm here because {reason}.")),
            WEARER_VOICE,
            WEARER_SPEED_WPM,
        )
        speaker = PUBLIC
        for _ in range(int(rng.integers(14, 24))):
            count = 2 if rng.random() < 0.3 else 1
            text = " ".join(sentence(speaker, opener=i == 0) for i in range(count))
            if speaker == WEARER:
                yield Line(speaker, text), WEARER_VOICE, WEARER_SPEED_WPM
            else:
                yield Line(speaker, text), voice, speed
            speaker = PUBLIC if speaker == WEARER else WEARER


def build_long_file(
    out: Path,
    *,
    minutes: float = 10.0,
    seed: int = 0,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
) -> ClipScript:
    """Build one continuous MP4 of at least ``minutes`` of realistic back-and-forth dialogue.

    Short episodes each bring a new member of the public (voice and speed from
    ``seed``); sentences come from templates and fillers, never repeated. Made
    for benchmarking transcription completeness: the words stay intelligible.
    """
    rng = np.random.default_rng(seed)
    turns = dialogue_turns(np.random.default_rng([seed, 1]))
    target_s = minutes * 60.0
    lead_in_s = 1.0
    voiced: list[tuple[Line, np.ndarray, int]] = []
    gaps: list[float] = []
    elapsed_s = lead_in_s
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bwv-footage-") as tmp:
        workdir = Path(tmp)
        while elapsed_s < target_s:
            batch = [next(turns) for _ in range(40)]
            requests = [(line.text, voice, speed) for line, voice, speed in batch]
            raws = _synthesize_all(requests, workdir, first_index=len(voiced))
            for (line, _, _), raw in zip(batch, raws, strict=True):
                if elapsed_s >= target_s:
                    break
                audio, speech_n = _voice_line(line, raw, public_gain_db=-12.0, rng=rng)
                voiced.append((line, audio, speech_n))
                gaps.append(float(rng.uniform(0.25, 0.9)))
                elapsed_s += speech_n / _SAMPLE_RATE_HZ + gaps[-1]
        mix, spoken = _mix(
            voiced, gaps_s=gaps, lead_in_s=lead_in_s, tail_s=0.8, noise_db=-38.0, rng=rng
        )
        return _render(mix, spoken, workdir, out, size=size, fps=fps, preset="ultrafast", rng=rng)
