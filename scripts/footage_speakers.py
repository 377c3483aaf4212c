"""Generated scenes of two to four voices with known speakers, for measuring speaker turns.

Each scene is a 16 kHz mono WAV and a ground truth JSON: every line's speaker
(``wearer``, ``officer2``, ``public1``, ``child``, ...), voice, audible start and
end, text, level relative to the camera wearer, and the rubric categories the
line should raise *given who says it* (rubrics/README.md, "said by": practice
and concern are said by the wearer, disclosures by others, ``safeguarding.child``
by anyone). The camera wearer is close, loud, dry and full band; the public are
6, 12 or 18 dB quieter, duller and reverberant over street noise; a second
officer stands a few metres away. Voices come from espeak-ng (several accents, a
child's pitch), flite and a real two-speaker recording
(``tests/data/speech/stereo_diarization.wav``, one speaker per channel).

The scenes were written before any tuning; every third (``index % 3 == 2``) is
held back for reporting. The bad-input cases (silence, music, a 1-second file,
telephone band, a loud TV, ...) are a set of their own, each with the result a
sensible speaker stage gives. Generation is deterministic and cached by a hash
of each scene's spec.

Example::

    from pathlib import Path
    from scripts.footage_speakers import build_scenes

    for scene in build_scenes(Path("data/bench/speakers"), which="heldback"):
        print(scene.name, scene.duration_s, len(scene.lines))
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scripts.footage import (
    _SAMPLE_RATE_HZ,
    _WEARER_RMS_DBFS,
    FootageError,
    Line,
    _db,
    _far_voice,
    _lowpass,
    _mix,
    _run_tool,
    _trim,
    synthesize_line,
)

__all__ = ["BAD_INPUTS", "SCENES", "Role", "Scene", "SceneSpec", "TruthLine", "Voice",
           "build_scene", "build_scenes", "heldback", "read_scene"]

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "tests" / "data" / "speech" / "stereo_diarization.wav"
SEED = 16
#: Part of every scene's cache key: raise it when a change here changes what is written.
GENERATOR_VERSION = 1
RATE_HZ = 16_000  # what is written: 16 kHz mono 16-bit PCM
_MIX_HZ = _SAMPLE_RATE_HZ  # what scripts.footage mixes at (espeak-ng's rate)
_RAW = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"]
_TIMEOUT_S = 120.0

#: The real recording's lines: channel, and where the speech starts and ends in the file
#: (found from each channel's energy in 20 ms frames, above -36 dBFS: channel 0 speaks from
#: 0.30 to 4.66 s with a pause from 2.40 to 2.70 s; channel 1 from 0.38 to 2.44 s, over it).
_RECORDED = {
    "He began a confused complaint against the wizard, who had vanished behind the curtain "
    "on the left.": (0, 0.30, 4.68),
    "He began a confused complaint against the wizard,": (0, 0.30, 2.40),
    "who had vanished behind the curtain on the left.": (0, 2.70, 4.68),
    "The horizon seems extremely distant.": (1, 0.36, 2.46),
}


# --- what a scene is made of ----------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """A voice: ``espeak-ng`` (a voice name, speed, pitch), ``flite`` or ``recording``."""

    engine: str
    name: str
    speed_wpm: int = 160
    pitch: int | None = None

    def __str__(self) -> str:
        if self.engine == "espeak-ng":
            pitch = f" -p {self.pitch}" if self.pitch is not None else ""
            return f"espeak-ng -v {self.name} -s {self.speed_wpm}{pitch}"
        return f"{self.engine} {self.name}"


def es(name: str, speed_wpm: int = 160, pitch: int | None = None) -> Voice:
    """An espeak-ng voice."""
    return Voice("espeak-ng", name, speed_wpm, pitch)


def fl(name: str) -> Voice:
    """A flite voice (kal, kal16, awb, rms, slt)."""
    return Voice("flite", name)


def rec(channel: int) -> Voice:
    """A speaker of the real two-speaker recording, by channel."""
    return Voice("recording", f"{RECORDING.name} channel {channel}")


@dataclass(frozen=True)
class Role:
    """Who a speaker is in a scene: their voice, level relative to the wearer, and distance.

    ``close``: dry, full band (the wearer). ``medium``: a few metres, a little dull, small
    room. ``far``: duller, with an echo and more reverberation. ``loudspeaker``: a radio or
    TV, band-limited to 300-3400 Hz, in the room.
    """

    speaker: str
    voice: Voice
    level_db: float = 0.0
    distance: str = "close"


@dataclass(frozen=True)
class SceneSpec:
    """A scene as written: its cast, its script and the room.

    ``script`` has one line per spoken line, ``speaker [gap]: text | categories``. The gap
    places the line against the one before: none for a short natural pause, ``+12`` for 12
    seconds of silence, ``-0.8`` to start 0.8 s before the previous line ends (an
    interruption), ``=`` to start with it. ``background`` is a second script on a timeline
    of its own (a TV talking throughout). ``after`` are sox effects over the finished mix.
    """

    name: str
    cast: tuple[Role, ...]
    script: str
    noise_db: float = -48.0
    background: str = ""
    after: tuple[str, ...] = ()
    music: bool = False
    length_s: float | None = None
    bad_input: bool = False
    expect: str = ""

    @property
    def hash(self) -> str:
        """What the cached files were built from (the spec, the seed, this generator)."""
        key = json.dumps([GENERATOR_VERSION, SEED, asdict(self)], sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TruthLine:
    """One spoken line as placed in the scene: the ground truth."""

    speaker: str
    voice: str
    start_s: float
    end_s: float
    text: str
    level_db: float
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Scene:
    """A built scene: its WAV and ground truth."""

    name: str
    wav: Path
    duration_s: float
    lines: tuple[TruthLine, ...]
    heldback: bool
    bad_input: bool
    expect: str
    spec_hash: str

    def to_dict(self) -> dict[str, Any]:
        """The ground truth as written to ``NAME.json``."""
        data = asdict(self)
        data["wav"] = self.wav.name
        return data


def read_scene(path: Path) -> Scene:
    """A scene's ground truth back from its ``NAME.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = tuple(TruthLine(**{**ln, "categories": tuple(ln["categories"])}) for ln in data.pop("lines"))
    return Scene(**{**data, "wav": path.with_name(data["wav"]), "lines": lines})


# --- the script -----------------------------------------------------------------------------

_SAY = re.compile(r"^(?P<who>\w+)\s*(?P<gap>[-+=][\d.]*)?\s*:\s*(?P<text>[^|]+?)\s*(?:\|(?P<cats>.*))?$")


@dataclass(frozen=True)
class _Say:
    speaker: str
    gap: str | None
    text: str
    categories: tuple[str, ...]


def _parse(script: str) -> list[_Say]:
    out = []
    for row in filter(None, (r.strip() for r in script.strip().splitlines())):
        m = _SAY.match(row)
        if not m:
            raise ValueError(f"cannot read script line {row!r}")
        out.append(_Say(m["who"], m["gap"], m["text"], tuple((m["cats"] or "").split())))
    return out


def _starts(says: list[_Say], lengths: list[int], rng: np.random.Generator, lead_s: float) -> list[int]:
    """Each line's start (samples at the mixing rate) from the gaps the script gives."""
    starts: list[int] = []
    for i, say in enumerate(says):
        if not starts:
            starts.append(int(lead_s * _MIX_HZ))
            continue
        prev_start, prev_end = starts[-1], starts[-1] + lengths[i - 1]
        if say.gap is None:
            starts.append(prev_end + int(rng.uniform(0.3, 1.0) * _MIX_HZ))
        elif say.gap.startswith("="):
            starts.append(prev_start + int(float(say.gap[1:] or 0) * _MIX_HZ))
        else:
            starts.append(max(0, prev_end + int(float(say.gap) * _MIX_HZ)))
    return starts


# --- voices ---------------------------------------------------------------------------------


def _sox(source: Path | np.ndarray | None, *effects: str, channels: int = 1, out: Path | None = None,
         out_hz: int = _MIX_HZ) -> np.ndarray:
    """Run sox (argument list) over a file, a mixing-rate array or nothing (``synth``).

    Returns mono float32 at ``out_hz``, or writes 16-bit PCM to ``out``. ``-R`` seeds sox's
    random generators and ``-D`` leaves out dither, so the output is repeatable.
    """
    data = None
    if source is None:
        src = ["-r", "44100", "-c", str(channels), "-n"]
    elif isinstance(source, Path):
        src = [str(source)]
    else:
        src, data = [*_RAW, "-r", str(_MIX_HZ), "-"], source.astype("<f4").tobytes()
    dst = [*_RAW, "-r", str(out_hz), "-"] if out is None else [
        "-t", "wav", "-b", "16", "-e", "signed-integer", "-c", "1", "-r", str(out_hz), str(out)]
    try:
        done = subprocess.run(["sox", "-R", "-D", "-V1", *src, *dst, *effects], input=data,  # noqa: S603, S607
                              capture_output=True, check=True, timeout=_TIMEOUT_S)
    except FileNotFoundError as exc:
        raise FootageError("sox not found: install it (apt-get install sox)") from exc
    except subprocess.CalledProcessError as exc:
        raise FootageError(f"sox {' '.join(effects)} failed: {exc.stderr.decode(errors='replace')}") from exc
    return np.frombuffer(done.stdout, dtype="<f4").copy()


def _speak(voice: Voice, text: str, workdir: Path, index: int) -> np.ndarray:
    """One line in ``voice`` at the mixing rate, from its first sound to its last."""
    if voice.engine == "recording":
        channel, start_s, end_s = _RECORDED[text]
        return _sox(RECORDING, "remix", str(channel + 1), "trim", str(start_s), f"={end_s}")
    wav = workdir / f"line{index:04d}.wav"
    if voice.engine == "flite":
        _run_tool(["flite", "-voice", voice.name, "-t", text, "-o", str(wav)],
                  timeout_s=_TIMEOUT_S, failed=f"flite failed for voice {voice.name!r}")
    elif voice.pitch is None:
        synthesize_line(text, voice=voice.name, speed_wpm=voice.speed_wpm, out_wav=wav)
    else:
        _run_tool(["espeak-ng", "-v", voice.name, "-s", str(voice.speed_wpm), "-p", str(voice.pitch),
                   "-w", str(wav), "--", text],
                  timeout_s=_TIMEOUT_S, failed=f"espeak-ng failed for voice {voice.name!r}")
    return _trim(_sox(wav))


def _at_distance(speech: np.ndarray, role: Role, rng: np.random.Generator) -> np.ndarray:
    """Place a dry voice at the role's distance and level; the level is measured over the
    speech itself (the echo tail after it is not counted)."""
    tail = np.zeros(int(0.6 * _MIX_HZ), dtype=np.float32)
    audio = np.concatenate([speech, tail])
    if role.distance == "medium":
        audio = _sox(_lowpass(audio, cutoff_hz=6000.0, order=1), "reverb", "30", "50", "40")
    elif role.distance == "far":
        audio = _sox(_far_voice(audio, rng)[: audio.size], "reverb", "50", "60", "80", "100", "10", "-3")
    elif role.distance == "loudspeaker":
        audio = _sox(audio, "sinc", "300-3400", "reverb", "20", "50", "30")
    elif role.distance != "close":
        raise ValueError(f"unknown distance {role.distance!r}")
    rms = float(np.sqrt(np.mean(np.square(audio[: speech.size], dtype=np.float64)))) or 1e-9
    return (audio * (_db(_WEARER_RMS_DBFS + role.level_db) / rms)).astype(np.float32)


def _music(seconds: float) -> np.ndarray:
    """Plucked chords (C, A minor, F, G), two seconds each, at about the wearer's level."""
    chords = [("C3", "E3", "G3", "C4"), ("A2", "C3", "E3", "A3"), ("F2", "A2", "C3", "F3"),
              ("G2", "B2", "D3", "G3")]
    bars = [_sox(None, "synth", "2", *[x for note in chords[i % 4] for x in ("pluck", note)], "remix", "-",
                 channels=4) for i in range(int(np.ceil(seconds / 2)))]
    music = np.concatenate(bars)
    rms = float(np.sqrt(np.mean(np.square(music, dtype=np.float64))))
    return (music * _db(_WEARER_RMS_DBFS - 4.0) / rms).astype(np.float32)


# --- building -------------------------------------------------------------------------------


def _render(spec: SceneSpec) -> tuple[np.ndarray, list[TruthLine]]:
    """The scene's mix (mixing rate, before ``after``) and its ground truth."""
    rng = np.random.default_rng([SEED, zlib.crc32(spec.name.encode())])
    roles = {role.speaker: role for role in spec.cast}
    timelines = [_parse(spec.script), _parse(spec.background)]
    says = [say for timeline in timelines for say in timeline]
    with tempfile.TemporaryDirectory(prefix="bwv-speakers-") as tmp, ThreadPoolExecutor(
        max_workers=min(4, os.cpu_count() or 1)
    ) as pool:
        raws = list(pool.map(lambda item: _speak(roles[item[1].speaker].voice, item[1].text, Path(tmp),
                                                 item[0]), enumerate(says)))
    voiced = [_at_distance(raw, roles[say.speaker], rng) for say, raw in zip(says, raws, strict=True)]
    lengths = [raw.size for raw in raws]
    lead_s = float(rng.uniform(0.6, 1.2))
    first = len(timelines[0])
    starts = _starts(timelines[0], lengths[:first], rng, lead_s) + _starts(
        timelines[1], lengths[first:], rng, lead_s)
    # scripts.footage's _mix places lines one after another: give it the lines in order of
    # start, each gap being what puts the next line at its start (negative: an overlap).
    order = sorted(range(len(says)), key=lambda i: starts[i])
    ends = [starts[i] + voiced[i].size for i in order]
    gaps = [(starts[b] - (starts[a] + lengths[a])) / _MIX_HZ for a, b in zip(order, order[1:], strict=False)]
    if order:
        last = order[-1]
        gaps.append(max(0.0, (max(ends) - starts[last] - lengths[last]) / _MIX_HZ))
    lines = [(Line(says[i].speaker, says[i].text), voiced[i], lengths[i]) for i in order]
    mix, spoken = _mix(lines, gaps_s=gaps, lead_in_s=starts[order[0]] / _MIX_HZ if order else lead_s,
                       tail_s=spec.length_s or 1.0, noise_db=spec.noise_db, rng=rng)
    if spec.length_s:
        mix = mix[: int(spec.length_s * _MIX_HZ)]
    if spec.music:
        music = _music(mix.size / _MIX_HZ)[: mix.size]
        mix = mix + np.pad(music, (0, mix.size - music.size))
    peak = float(np.abs(mix).max())
    if peak > 0.98:
        mix *= 0.98 / peak
    truth = [
        TruthLine(line.speaker, str(roles[line.speaker].voice), round(line.start_s, 3),
                  round(line.end_s, 3), line.text, float(roles[line.speaker].level_db), says[i].categories)
        for i, line in zip(order, spoken, strict=True)
    ]
    return mix, truth


def cached_scene(out_dir: Path, name: str, spec_hash: str, *, heldback: bool) -> Scene | None:
    """The scene ``name`` already written to ``out_dir`` from the same spec, else None."""
    wav, truth_json = out_dir / f"{name}.wav", out_dir / f"{name}.json"
    if wav.is_file() and truth_json.is_file():
        cached = read_scene(truth_json)
        if cached.spec_hash == spec_hash and cached.heldback == heldback:
            return cached
    return None


def write_scene(out_dir: Path, spec: SceneSpec, spec_hash: str, mix: np.ndarray, lines: list[TruthLine], *,
                heldback: bool) -> Scene:
    """Write a rendered mix through the spec's ``after`` effects as ``NAME.wav`` (16 kHz mono
    16-bit PCM, atomically) and its ground truth as ``NAME.json``."""
    wav, truth_json = out_dir / f"{spec.name}.wav", out_dir / f"{spec.name}.json"
    partial = wav.with_name(f".{wav.name}.partial")
    _sox(mix, *spec.after, out=partial, out_hz=RATE_HZ)
    with wave.open(str(partial), "rb") as w:
        duration_s = w.getnframes() / w.getframerate()
    scene = Scene(spec.name, wav, round(duration_s, 3), tuple(lines), heldback, spec.bad_input,
                  spec.expect, spec_hash)
    os.replace(partial, wav)
    truth_json.write_text(json.dumps(scene.to_dict(), indent=1) + "\n", encoding="utf-8")
    return scene


def build_scene(spec: SceneSpec, out_dir: Path, *, heldback: bool = False) -> Scene:
    """Write ``NAME.wav`` (16 kHz mono 16-bit PCM) and ``NAME.json``, unless both are there
    already from the same spec."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cached = cached_scene(out_dir, spec.name, spec.hash, heldback=heldback)
    if cached is not None:
        return cached
    mix, lines = _render(spec)
    return write_scene(out_dir, spec, spec.hash, mix, lines, heldback=heldback)


def heldback(index: int) -> bool:
    """Whether the scene at ``index`` of its list is held back: every third, fixed."""
    return index % 3 == 2


def build_scenes(out_dir: Path, *, which: str = "all", quick: bool = False) -> list[Scene]:
    """Build (or reuse) the scenes of a set: ``tuning``, ``heldback``, ``bad`` (the bad-input
    cases) or ``all``. ``quick``: the first three of the set."""
    if which not in ("all", "tuning", "heldback", "bad"):
        raise ValueError(f"which: expected all, tuning, heldback or bad, not {which!r}")
    chosen: list[tuple[SceneSpec, bool]] = []
    if which in ("all", "tuning", "heldback"):
        chosen += [(spec, heldback(i)) for i, spec in enumerate(SCENES)
                   if which == "all" or heldback(i) == (which == "heldback")]
    if which in ("all", "bad"):
        chosen += [(spec, heldback(i)) for i, spec in enumerate(BAD_INPUTS)]
    return [build_scene(spec, out_dir, heldback=held) for spec, held in chosen[: 3 if quick else None]]


# --- the scenes: written before any tuning --------------------------------------------------


def wearer(voice: Voice) -> Role:
    """The camera wearer: close, loud, dry."""
    return Role("wearer", voice)


def other(speaker: str, voice: Voice, level_db: float, distance: str = "far") -> Role:
    """Anyone else, ``level_db`` relative to the wearer."""
    return Role(speaker, voice, level_db, distance)


CHILD_GIRL = es("en+f4", 170, pitch=80)
CHILD_BOY = es("en-gb-x-rp+m3", 170, pitch=85)

SCENES: tuple[SceneSpec, ...] = (
    SceneSpec("domestic_kitchen", (wearer(es("en+m3")), other("public1", es("en+f2", 150), -12)), """
wearer: Hello, I'm PC Daniel Hughes. I'm here because your neighbour rang us about shouting. | practice.explain
public1: He's gone now. He walked out about ten minutes ago.
wearer: Okay. First of all, has anyone been hurt? | practice.safety
public1: He grabbed me by the throat against the fridge. | harm.domestic_abuse
wearer: That sounds frightening. Tell me what happened tonight, in your own words. | practice.validate practice.curious
public1 -0.8: It's no big deal, honestly. He's just stressed at work.
wearer: Nobody is blaming you, and you can stop at any time. | practice.validate practice.choice
public1: He said he'd kill me if I ever called the police again. | harm.domestic_abuse
public1 +11: Sorry. I just need a minute.
wearer: Take as much time as you need. | practice.choice
wearer: I'd like to make a referral, so a specialist can ring you tomorrow. | practice.signpost
public1: Okay. Thank you.
""", noise_db=-48),
    SceneSpec("frightened_teenager", (
        wearer(fl("rms")), other("child", CHILD_GIRL, -6, "medium"),
        other("officer2", es("en-gb-x-rp+m5", 155), -8, "medium")), """
wearer: Oi, you. Get here now. | concern.threat
child -0.3: Leave me alone! I haven't done anything! | distress
wearer: Stop being dramatic. | concern.dismiss
child: Please, I can't do this. I'm so scared. | distress
officer2: You're not in any trouble. You've done nothing wrong.
child: They said they'd hurt me if I stop running for them. | harm.exploitation
wearer -0.6: Right, do that again and you're in the cells. | concern.threat
officer2 +10: Control, she's only fourteen, and she's been reported missing. | safeguarding.child
wearer: Is anything hurting? Do you need a doctor? | practice.safety
child: No. I just want to go home.
""", noise_db=-44),
    SceneSpec("missing_daughter", (wearer(fl("slt")), other("public1", es("en-gb-x-rp+m5", 150), -6)), """
wearer: Good afternoon, I'm PC Sarah Bennett. I'm here because you rang about your daughter. | practice.explain
public1: My daughter hasn't come home since Tuesday. She's fifteen, she's never done this. | safeguarding.child
wearer: I can see how worried you are. When did you last hear from her? | practice.validate
public1: She texted on Tuesday night saying she was at a friend's, but the friend says she never came.
wearer: Talk me through the last few weeks. | practice.curious
public1: There's an older man with a black car who picks her up from school. | harm.exploitation
public1 -0.5: She's got a new phone I never bought, and she comes home with money.
wearer +10: We're treating this as high risk, and officers are out looking for her now.
wearer: Victim Support can ring you tomorrow as well. | practice.signpost
public1: Please just find her.
""", noise_db=-50),
    SceneSpec("pub_fight_four_voices", (
        wearer(es("en-gb-x-rp")), other("officer2", fl("kal16"), -8, "medium"),
        other("public1", es("en-gb-x-gbclan+m1", 165), -12), other("public2", es("en-us+f2", 170), -18)), """
wearer: Police! Everyone step back. I'm PC Mark Ellis, we've been called to a fight. | practice.explain
public1 -0.5: He started it, he glassed my mate!
public2 -0.4: That's not true, your mate went for him first!
officer2: Sir, over here please, I need a word with you.
wearer: Has anybody been injured? Does anyone need an ambulance? | practice.safety
public1: My mate's bleeding from his head.
public2 -0.6: Get off me! Don't touch me! | distress
wearer: Sit down, you idiot. | concern.profanity
officer2 +0.2: The ambulance is on its way, two minutes.
wearer: Talk me through what happened, from the start. | practice.curious
public1: We were just having a quiet drink and he came over.
""", noise_db=-42),
    SceneSpec("wearer_says_little", (
        wearer(es("en-gb-scotland")), other("public1", es("en-gb-x-gbcwmd", 145), -6)), """
wearer: Go on.
public1: When I was little my dad used to belt me every night. | ace.abuse
public1: We had no heating and nobody fed us. | ace.neglect
public1: I used to hide under the bed when he went for my mum. | ace.household_violence
public1: My mum was in and out of hospital, and I was in a children's home from ten. | ace.household_dysfunction
wearer: Thank you for telling me. | practice.validate
public1 +12: I've never told anyone that before.
public1: Now my boyfriend won't let me see my friends, and he took my bank card. | harm.domestic_abuse
public1: I cut myself last week. | harm.self
wearer: Okay.
public1: My dad was in prison for most of my childhood. | ace.household_dysfunction
public1 +3: Sometimes he locks me in the flat when he goes out. | harm.domestic_abuse
public1: I'm scared of what he'll do if he finds out I called you. | harm.domestic_abuse distress
public1 +2: I just want someone to listen to me for once.
""", noise_db=-50),
    SceneSpec("wearer_alone", (wearer(fl("kal16")),), """
wearer: Camera is recording. I'm PC Amy Clarke. Someone has left the baby on her own. | practice.explain safeguarding.child
wearer +3: Control, I'm at the address now. The front door is open.
wearer +10: Hello? It's the police. Is anybody home?
wearer +4: Control, the baby's in the cot in there, on her own. | safeguarding.child
wearer: There's no adult in the flat. I'll wait here with her.
wearer +5: Control, received. Two minutes for the supervisor.
""", noise_db=-52),
    SceneSpec("far_voice_alone", (other("public1", es("en+f2", 140), -12),), """
public1: I don't want to be here any more. | harm.self
public1: There's no point going on. | harm.self
public1 +12: Just leave me alone, please. | distress
public1: I took a whole packet of tablets about an hour ago. | harm.self
public1 +4: Nobody would even notice if I was gone.
""", noise_db=-52),
    SceneSpec("child_at_door", (
        wearer(es("en-029")), other("child", CHILD_BOY, -6, "medium"), other("public1", fl("slt"), -12)), """
wearer: Hiya, I'm a police officer. Is your mum or dad at home? | practice.explain
child: Mummy's upstairs crying. Daddy hit her in front of the baby. | harm.domestic_abuse safeguarding.child
wearer: You've done nothing wrong, sweetheart. You did the right thing opening the door. | practice.validate
public1 +2: Who is it? Come away from the door!
wearer: It's the police, madam. Can I come in and check everyone is okay? | practice.choice
public1: Everything's fine. It was just an argument. It's no big deal.
child -0.5: He pushed mummy into the wall, and the baby was crying! | harm.domestic_abuse safeguarding.child
wearer: Is anybody hurt? Do you feel safe at home? | practice.safety
public1 +1: I'm scared of what he'll do when he gets back. | harm.domestic_abuse distress
""", noise_db=-50),
    SceneSpec("street_argument_overlap", (
        wearer(es("en-us")), other("public1", es("en-gb-x-gbcwmd+m1", 160), -6),
        other("public2", fl("kal"), -12)), """
wearer: Right, what's going on here?
public1: She keyed my car, I saw her do it!
public2 -1.2: I never touched his car, he's lying!
public1 -0.8: You're a liar and everyone on this street knows it!
wearer -0.6: One at a time please. You first, sir, in your own words. | practice.curious
public1: I came out this morning and the whole side was scratched.
public2 -1.0: He shouts at me every time I walk past his house.
wearer: If you don't both calm down, you'll be arrested. | concern.threat
public2 +0.3: I only want to get to work.
wearer +10: Okay, I'll explain what happens next. | practice.explain
""", noise_db=-42),
    SceneSpec("welfare_check_silences", (wearer(es("en+f3")), other("public1", es("en-gb-scotland+m7", 140), -18)), """
wearer: Hello, it's the police. We've been asked to check you're okay. | practice.explain
wearer +12: Mr Reid? It's PC Hannah Shaw. Can you hear me? | practice.explain
public1 +4: I'm here. I fell in the kitchen and I can't get up.
wearer: Are you hurt anywhere? I'm going to get an ambulance for you. | practice.safety
public1 +10: Please help me, I've been on the floor since last night. | distress
wearer: You did the right thing calling out. We'll stay with you. | practice.validate
public1: Thank you, love.
""", noise_db=-54),
    SceneSpec("real_recording", (wearer(rec(0)), other("public1", rec(1), -12)), """
wearer: He began a confused complaint against the wizard, who had vanished behind the curtain on the left.
public1 =: The horizon seems extremely distant.
wearer +2: He began a confused complaint against the wizard,
public1: The horizon seems extremely distant.
wearer: who had vanished behind the curtain on the left.
public1 +12: The horizon seems extremely distant.
wearer -0.6: He began a confused complaint against the wizard, who had vanished behind the curtain on the left.
""", noise_db=-50),
    SceneSpec("stalking_bus_stop", (
        wearer(es("en-gb-x-gbclan")), other("public1", es("en-gb-x-rp+f4", 150), -12),
        other("public2", fl("slt"), -6)), """
wearer: Hi, I'm PC Ryan Doyle. We got a call about a man following someone. | practice.explain
public1: He's been following me for weeks. He turns up at my work every day. | harm.domestic_abuse
public2 -0.5: You've done nothing wrong, babe. It's not your fault.
wearer: Do you know this man?
public1: He's my ex. He says he'll find me and kill me. | harm.domestic_abuse
wearer: Thank you for telling me. I believe you. | practice.validate
wearer: Where would you like to sit while we talk? | practice.choice
public2 +10: She hasn't slept properly in a month.
wearer: We can refer you to a stalking advocate today, if you want. | practice.signpost
""", noise_db=-44),
    SceneSpec("poor_practice_stop", (wearer(es("en-gb-x-gbcwmd")), other("public1", es("en+f5", 155), -6)), """
wearer: What is wrong with you? You were all over the road. | concern.blame
public1: I was trying to get away from him. He's following me. | harm.domestic_abuse
wearer: You only have yourself to blame for this. | concern.blame
public1 -0.4: Please, don't hurt me. | distress
wearer: Shut up and put your hands behind your back. | concern.threat
public1: I'm panicking, my chest is tight. | distress
wearer: Stop crying. | concern.dismiss
public1 +10: He said he'd kill me if I left him. | harm.domestic_abuse
wearer: Why didn't you leave him before, if he's that bad? | concern.blame
""", noise_db=-46),
    SceneSpec("county_lines", (wearer(fl("awb")), other("public1", es("en-gb-x-gbclan+m3", 165), -12)), """
wearer: Hiya, I'm PC Tom Walker. You're not in any trouble. | practice.explain practice.validate
public1: I can't go home. They'll know I've been talking to you.
wearer: Who will know? Tell me what's been going on. | practice.curious
public1: I owe them money, so I have to run drugs for them. | harm.exploitation
public1: If I stop, they'll hurt my little brother. | harm.exploitation
wearer: That is not your fault. | practice.validate
public1 +11: I've been cutting my arms because I don't know how to get out. | harm.self
wearer: Is anything bleeding now? Do you need a doctor? | practice.safety
public1: No. I just want to sleep somewhere warm.
""", noise_db=-46),
    SceneSpec("bridge_crisis", (wearer(es("en+f2")), other("public1", fl("rms"), -18)), """
wearer: Hi, my name's Laura, I'm a police officer. Is it okay if I talk to you? | practice.explain practice.choice
public1: Stay back. There's no point going on. | harm.self
wearer: You can take as long as you need. I'm not going anywhere. | practice.choice
public1: I've got nothing to live for. | harm.self
wearer: Are you thinking of ending your life today? | practice.safety
public1 +10: My mum drank every day when I was a kid. | ace.household_dysfunction
wearer: It makes sense that you feel this way. | practice.validate
wearer: Would you like to sit down with me over here? | practice.choice
""", noise_db=-40),
    SceneSpec("noise_complaint", (
        wearer(es("en-gb-x-rp", 165)), other("public1", es("en-us+m3", 160), -6),
        other("public2", es("en+m7", 150), -12)), """
wearer: Afternoon, I'm PC Owen Jones. We've had a call about noise. | practice.explain
public1: The music's been going since six this morning.
public2 -1.0: It's my birthday, what do you want me to do?
public1 -0.7: Turn it down, that's what!
wearer -0.5: One at a time, please.
public2: I turned it down at midnight, like you asked last time.
public1: The bass comes right through the wall.
wearer: Could you keep it down after ten tonight?
public2 +0.4: Yeah, fine. Whatever.
wearer +10: Thanks, both of you. Have a good afternoon.
""", noise_db=-46),
    SceneSpec("victim_minimising", (wearer(fl("kal16")), other("public1", es("en-gb-x-rp+f4", 150), -6)), """
wearer: Hello, I'm PC Steve Young. We got a call about a disturbance. | practice.explain
public1: It's no big deal, honestly. He just pushed me a bit. | harm.domestic_abuse
wearer: It's not your fault. Has he hurt you before? | practice.validate practice.safety
public1: It's not that serious. I'm fine.
wearer: Do you feel safe at home tonight? | practice.safety
public1 +10: Sometimes I'm scared to go home. | harm.domestic_abuse distress
wearer: You can stop at any time, and we'll go at your pace. | practice.choice
wearer: An advocate from Women's Aid can call you tomorrow. | practice.signpost
""", noise_db=-48),
    SceneSpec("two_officers", (
        wearer(es("en+m1")), other("officer2", fl("slt"), -8, "medium"),
        other("public1", es("en-gb-scotland+f2", 150), -12)), """
officer2: The kids are upstairs asleep, and mum's in the kitchen. | safeguarding.child
wearer: Okay. Has anyone checked on them yet?
officer2: Not yet. I'll go up now.
public1 +3: He hit me with the remote and threw my phone at the wall. | harm.domestic_abuse
wearer: Talk me through what happened earlier. | practice.curious
public1: He came home drunk and started on me.
officer2 -0.4: Has anyone been hurt upstairs? Do you feel safe?
wearer: Thank you for telling me. It's not your fault. | practice.validate
public1 +10: I'm scared he'll come back tonight. | harm.domestic_abuse distress
""", noise_db=-50),
    SceneSpec("care_leaver", (wearer(es("en+m3", 150)), other("public1", fl("awb"), -12)), """
wearer: I'm PC Owen Price. I'll explain what happens next. | practice.explain
public1: I grew up in care. I was in a children's home from ten. | ace.household_dysfunction
public1: My foster dad used to belt me. | ace.abuse
wearer: That must have been really hard. Nobody's cross with you. | practice.validate
public1 +10: I basically brought myself up. | ace.neglect
wearer: Is there somewhere safe you can stay tonight? | practice.safety
public1: My mate's sofa, maybe.
wearer: I can refer you to the leaving care team tomorrow. | practice.signpost
""", noise_db=-46),
    SceneSpec("shop_negations", (
        wearer(es("en-us+m3")), other("public1", es("en-029+f2", 150), -6), other("public2", es("en+m4"), -18)), """
wearer: Hello, I'm PC Nina Shah from the response team. | practice.explain
public1: He didn't touch the kids. Nobody threatened me.
wearer: Did he hit you? | practice.safety
public1: No, I'm not hurt. It was just shouting.
public2 -0.5: The till was open and the money was gone.
wearer: How much was taken, roughly?
public2: About two hundred pounds, I think.
public1 +10: I don't want to make a fuss.
wearer: That's fine. I'll take a few details and then you can go.
""", noise_db=-46),
    SceneSpec("family_home_overlap", (
        wearer(es("en+m7", 155)), other("public1", es("en+f3", 150), -6),
        other("public2", es("en-gb-x-gbclan+m4", 160), -18), other("child", CHILD_GIRL, -12, "medium")), """
wearer: Hello, I'm PC Kate Hill. Someone called us about shouting. | practice.explain
public1: Everything is fine here. We're all fine.
public2 -0.5: Who's that at the door?
child -0.3: He threw a plate at mummy, and the baby was in the kitchen! | harm.domestic_abuse safeguarding.child
wearer: You're so brave telling me that. | practice.validate
public1: He's never hit me. Never.
public2 +0.2: Tell them to go away.
wearer: Is anybody hurt? Has anyone been injured tonight? | practice.safety
child +8: Please make him stop shouting. | distress
wearer: Nobody's cross with you, sweetheart. | practice.validate
""", noise_db=-48),
)

_DIALOGUE = """
wearer: Hello, I'm PC Sam Reed. We've been called about a disturbance. | practice.explain
public1: He grabbed me by the throat and said he'd kill me. | harm.domestic_abuse
wearer: That sounds frightening. Has anyone been hurt? | practice.validate practice.safety
public1: The kids are upstairs asleep. | safeguarding.child
wearer: Thank you for telling me. You can stop at any time. | practice.validate practice.choice
public1: I'm scared to go home. | harm.domestic_abuse distress
"""
_TV = """
tv: Good evening. Here is the news at six.
tv: Heavy rain is expected across the north west tonight, with flooding on some roads.
tv: The council has approved plans for a new swimming pool in the town centre.
tv: In sport, the home side won three goals to one in front of a crowd of twenty thousand.
tv: Shares in the high street chain fell sharply after weaker sales over the summer.
tv: And finally, a cat that went missing for a year has been found safe and well.
tv: Now the weather. A cold start tomorrow, with sunny spells later in the day.
"""

#: Inputs a speaker stage must survive, each with the sensible result (``expect``).
BAD_INPUTS: tuple[SceneSpec, ...] = (
    SceneSpec("bad_one_voice", (other("public1", fl("slt"), -6, "medium"),), """
public1: I'm ringing because my partner hit me last night. | harm.domestic_abuse
public1 +2: He said he'd kill me if I told anyone. | harm.domestic_abuse
public1 +3: The baby was in the room when it happened. | safeguarding.child
public1 +2: I don't know what to do any more.
""", noise_db=-52, bad_input=True,
              expect="one voice: every word one speaker (wearer or speaker 2, by level and closeness); "
                     "status 'one voice'; flagged by language alone, so no disclosure is lost"),
    SceneSpec("bad_silence", (), "", noise_db=-70.0, length_s=20.0, bad_input=True,
              expect="no words; status 'without speakers'; no flags, no error"),
    SceneSpec("bad_music", (), "", noise_db=-60.0, music=True, length_s=30.0, bad_input=True,
              expect="no speech (any words Whisper makes up are kept); no speaker told apart; "
                     "status 'without speakers' or 'one voice'; no error"),
    SceneSpec("bad_one_second", (wearer(es("en+m3")),), "wearer: Stop there!", noise_db=-55.0,
              length_s=1.0, bad_input=True,
              expect="too little speech: status 'without speakers' (or 'one voice'); the words kept"),
    SceneSpec("bad_telephone_band", (wearer(es("en+m3")), other("public1", es("en+f2", 150), -12)),
              _DIALOGUE, noise_db=-48.0, after=("rate", "8000", "sinc", "300-3400"), bad_input=True,
              expect="8 kHz telephone band: separated where the voices still differ, else flagged "
                     "by language alone; transcript and disclosures kept"),
    SceneSpec("bad_loud_tv", (
        wearer(es("en+m3")), other("public1", es("en+f2", 150), -6), other("tv", fl("kal"), -9, "loudspeaker")),
              _DIALOGUE, background=_TV, noise_db=-50.0, bad_input=True,
              expect="the TV is another speaker, never the wearer; the wearer's words stay 'wearer'; "
                     "disclosures kept"),
    SceneSpec("bad_same_voice_two_distances", (
        wearer(es("en+m3")), other("public1", es("en+m3"), -12)), _DIALOGUE, noise_db=-48.0, bad_input=True,
              expect="one TTS voice at two distances: told apart by level and dryness, or status 'one "
                     "voice' and flagged by language alone; never a disclosure lost"),
    SceneSpec("bad_wearer_never_speaks", (
        other("public1", es("en-gb-x-rp+f4", 150), -6), other("public2", es("en-gb-x-gbclan+m1"), -12)), """
public1: Did you hear them last night? He was screaming at her again.
public2: I heard it. He said he'd kill her if she left. I'm scared for her. | harm.domestic_abuse
public1 +1: The kids were there watching the whole thing. | safeguarding.child
public2: Somebody should ring the police.
public1 +8: I'm not getting involved. It's none of our business.
""", noise_db=-48.0, bad_input=True,
              expect="no word labelled wearer (speaker 2 and speaker 3, or one voice); disclosures kept"),
)
