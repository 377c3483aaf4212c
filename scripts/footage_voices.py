"""Generated scenes for measuring how well the public's voice is transcribed (issue 17).

The speaker scenes (:mod:`scripts.footage_speakers`) test who speaks; these test *what*
the voices that are not the camera wearer's say. Every English voice espeak-ng and flite
offer is in them (eight espeak-ng accents with their male, female and croaky variants;
flite's kal, kal16, awb, rms and slt), at 6, 12 and 18 dB below the wearer, over street,
traffic, wind and crowd noise at several levels, with reverberation, and spoken fast and
slow. Most public lines are disclosures, in words of the scenes' own and not the rubric's
examples, so that end-to-end recall of spoken disclosures can be measured.

Left out, and why: espeak-ng's ``mb-*`` English voices need the mbrola program and voice
files, which Debian ships only in non-free; flite's ``awb_time`` speaks only the time of day.

The scenes were written before any tuning; every third (``index % 3 == 2``) is held back
for reporting. The noise-only files (no speech: silence, wind, traffic, street hiss, a far
crowd) are a set of their own: a transcriber should write no words on them. Generation is
deterministic and cached by a hash of each scene's spec.

Example::

    from pathlib import Path
    from scripts.footage_voices import build_voice_scenes

    for scene in build_voice_scenes(Path("data/bench/voices"), which="heldback"):
        print(scene.name, scene.duration_s, len(scene.lines))
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from scripts.footage import _SAMPLE_RATE_HZ, _lowpass, _set_rms, _street_noise, synthesize_line
from scripts.footage_speakers import (
    SEED,
    Role,
    Scene,
    SceneSpec,
    Voice,
    _far_voice,
    _render,
    _sox,
    _trim,
    cached_scene,
    es,
    fl,
    heldback,
    other,
    wearer,
    write_scene,
)

__all__ = ["AMBIENCES", "NOISE_ONLY", "SCENES", "VoiceScene", "build_voice_scene", "build_voice_scenes",
           "disclosure"]

_MIX_HZ = _SAMPLE_RATE_HZ
GENERATOR_VERSION = 1
AMBIENCES = ("traffic", "street", "wind", "crowd")
#: The rubric's disclosure categories: what the public says that a TIP must not miss.
DISCLOSURE_PREFIXES = ("harm.", "ace.", "safeguarding.")


def disclosure(category: str) -> bool:
    """Whether a category is a spoken disclosure (harm, adverse childhood experience, a child
    at risk) rather than the officer's practice or a sign of distress."""
    return category.startswith(DISCLOSURE_PREFIXES)


@dataclass(frozen=True)
class VoiceScene:
    """A speaker scene plus ambience: ``(kind, dBFS RMS)`` pairs laid over the whole mix."""

    scene: SceneSpec
    ambience: tuple[tuple[str, float], ...] = ()

    @property
    def name(self) -> str:
        return self.scene.name

    @property
    def hash(self) -> str:
        key = json.dumps([GENERATOR_VERSION, self.scene.hash, asdict(self)], sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:16]


# --- ambience ------------------------------------------------------------------------------


def _pink(n: int, rng: np.random.Generator, slope: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, d=1.0 / _MIX_HZ)
    spectrum /= np.maximum(freqs, 20.0) ** slope
    return np.fft.irfft(spectrum, n=n).astype(np.float32)


def _wind(n: int, rng: np.random.Generator) -> np.ndarray:
    """Low rumble across the microphone in gusts of one to four seconds."""
    rumble = _lowpass(_pink(n, rng, 1.0), cutoff_hz=400.0, order=2)
    knots = np.cumsum(rng.uniform(1.0, 4.0, size=int(n / _MIX_HZ) + 4)) * _MIX_HZ
    gusts = np.interp(np.arange(n), knots, rng.uniform(0.15, 1.6, size=knots.size))
    return (rumble * gusts).astype(np.float32)


def _street(n: int, rng: np.random.Generator) -> np.ndarray:
    """Broad hiss with footsteps, a door, a trolley: short bright knocks."""
    hiss = _pink(n, rng, 0.5)
    t = float(rng.uniform(0.5, 2.0))
    while t * _MIX_HZ < n - _MIX_HZ:
        at, length = int(t * _MIX_HZ), int(rng.uniform(0.03, 0.12) * _MIX_HZ)
        knock = rng.standard_normal(length).astype(np.float32) * np.exp(-np.linspace(0, 6, length))
        hiss[at : at + length] += knock * float(rng.uniform(2.0, 6.0)) * float(np.std(hiss))
        t += float(rng.uniform(0.4, 2.5))
    return hiss


_CROWD_LINES = (
    "Did you see where they went after the match last night",
    "I told her we would meet at the station at half past",
    "It is far too cold to be standing out here all evening",
    "They are closing the bridge again for the roadworks",
    "My brother said he would bring the car round later",
    "Have you got any change for the bus or not",
    "We were only going to stay for one more drink",
    "The queue for the taxi rank goes right round the corner",
)
_CROWD_VOICES = ("en+m1", "en-us+f2", "en-gb-scotland+m3", "en+f4", "en-gb-x-rp+m7", "en-029+f3",
                 "en-us-nyc+m2", "en-gb-x-gbclan+f1")


def _crowd(n: int, rng: np.random.Generator) -> np.ndarray:
    """Eight people talking at once some way off: far, reverberant, overlapping."""
    out = np.zeros(n, dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="bwv-crowd-") as tmp:
        for i, voice in enumerate(_CROWD_VOICES):
            wav = Path(tmp) / f"c{i}.wav"
            lines = [_CROWD_LINES[(i + k) % len(_CROWD_LINES)] for k in range(len(_CROWD_LINES))]
            synthesize_line(". ".join(lines), voice=voice, speed_wpm=int(rng.uniform(150, 185)), out_wav=wav)
            talk = _far_voice(_trim(_sox(wav)), rng)
            talk /= float(np.std(talk)) or 1.0
            at = 0
            while at < n:  # loop the talker over the whole scene, from a random point
                start = int(rng.uniform(0, talk.size)) if at == 0 else 0
                piece = talk[start : start + n - at]
                out[at : at + piece.size] += piece
                at += piece.size + int(rng.uniform(0.2, 1.5) * _MIX_HZ)
    return _sox(out, "reverb", "60", "50", "100")[:n]


def ambience(kind: str, n: int, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of ``kind`` noise at ``level_dbfs`` RMS (mixing rate)."""
    if kind == "traffic":
        return _street_noise(n, level_dbfs, rng)
    makers = {"street": _street, "wind": _wind, "crowd": _crowd}
    if kind not in makers:
        raise ValueError(f"unknown ambience {kind!r}: expected one of {', '.join(AMBIENCES)}")
    noise = makers[kind](n, rng)
    return _set_rms(np.pad(noise, (0, max(0, n - noise.size)))[:n], level_dbfs)


# --- building ------------------------------------------------------------------------------


def build_voice_scene(spec: VoiceScene, out_dir: Path, *, held: bool = False) -> Scene:
    """Write ``NAME.wav`` (16 kHz mono 16-bit) and ``NAME.json`` unless cached from the same spec."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cached = cached_scene(out_dir, spec.name, spec.hash, heldback=held)
    if cached is not None:
        return cached
    mix, lines = _render(spec.scene)
    rng = np.random.default_rng([SEED, 17, zlib.crc32(spec.name.encode())])
    for kind, level in spec.ambience:
        mix = mix + ambience(kind, mix.size, level, rng)
    peak = float(np.abs(mix).max()) if mix.size else 0.0
    if peak > 0.98:
        mix *= 0.98 / peak
    return write_scene(out_dir, spec.scene, spec.hash, mix, lines, heldback=held)


def build_voice_scenes(out_dir: Path, *, which: str = "all", quick: bool = False) -> list[Scene]:
    """Build (or reuse) ``tuning``, ``heldback``, ``noise`` (the noise-only files) or ``all``.
    ``quick``: the first three of the set."""
    if which not in ("all", "tuning", "heldback", "noise"):
        raise ValueError(f"which: expected all, tuning, heldback or noise, not {which!r}")
    chosen: list[tuple[VoiceScene, bool]] = []
    if which in ("all", "tuning", "heldback"):
        chosen += [(spec, heldback(i)) for i, spec in enumerate(SCENES)
                   if which == "all" or heldback(i) == (which == "heldback")]
    if which in ("all", "noise"):
        chosen += [(spec, False) for spec in NOISE_ONLY]
    return [build_voice_scene(spec, out_dir, held=held) for spec, held in chosen[: 3 if quick else None]]


# --- the scenes: written before any tuning --------------------------------------------------


def scene(name: str, cast: tuple[Role, ...], script: str, *ambience_: tuple[str, float],
          noise_db: float = -52.0, after: tuple[str, ...] = ()) -> VoiceScene:
    return VoiceScene(SceneSpec(name, cast, script, noise_db=noise_db, after=after), tuple(ambience_))


def sl(voice: Voice, speed_wpm: int) -> Voice:
    """The same espeak-ng voice at another pace."""
    return replace(voice, speed_wpm=speed_wpm)


SCENES: tuple[VoiceScene, ...] = (
    scene("flat_above_shop", (wearer(es("en-gb-x-rp")), other("public1", es("en-029+f2", 150), -12)), """
wearer: Hello, it's the police. Are you the lady who called us? | practice.explain
public1: Yes. My boyfriend locked me in the bathroom for two hours. | harm.domestic_abuse
wearer: Are you hurt at all? | practice.safety
public1: He punched me in the stomach when I tried to get out. | harm.domestic_abuse
public1: He takes my wages every month and gives me ten pounds for food. | harm.domestic_abuse
wearer: Thank you for telling me. None of this is your fault. | practice.validate
public1: My little girl was asleep in the next room the whole time. | safeguarding.child
""", ("traffic", -36)),
    scene("park_bench_youth", (wearer(fl("kal16")), other("public1", es("en-gb-x-gbclan+m3", 175), -6, "medium")), """
wearer: You alright, mate? It's late to be out here on your own.
public1: I'm not going back to that flat. They make me sell for them. | harm.exploitation
public1: They took my phone and said I owe them two grand now. | harm.exploitation
wearer: Who are they? You're not in trouble with me. | practice.curious
public1: Older lads. They said they'd stab my sister if I grass. | harm.exploitation
public1 +4: I've been sleeping in the stairwell for three nights.
""", ("wind", -34)),
    scene("hospital_corridor", (wearer(es("en+f3")), other("public1", fl("awb"), -18)), """
wearer: I'm PC Amy Clarke. Can I sit with you for a minute? | practice.explain practice.choice
public1: I took forty of my tablets this afternoon. | harm.self
public1: I wanted to die. I still want to, honestly. | harm.self
wearer: Thank you for being honest with me. I'm glad you're here. | practice.validate
public1 +3: My stepdad used to lock me in the cellar when I was eight. | ace.abuse
""", ("street", -44), after=("reverb", "40", "50", "70")),
    scene("doorstep_nyc_voice", (wearer(es("en-gb-scotland")), other("public1", es("en-us-nyc+f4", 150), -12)), """
wearer: Evening. We had a call about a woman screaming at this address. | practice.explain
public1: He dragged me down the stairs by my hair. | harm.domestic_abuse
public1: He told me if I called you lot he'd burn the house down with me in it. | harm.domestic_abuse
wearer: Where is he now? | practice.safety
public1: Gone to his brother's. The kids saw everything. | safeguarding.child
""", ("traffic", -32)),
    scene("fast_talker_station", (wearer(es("en-us")), other("public1", sl(es("en-gb-x-gbcwmd+m1"), 210), -6)), """
wearer: Slow down for me. What's happened? | practice.curious
public1: My ex turned up at the station with a knife and said he'd cut my face. | harm.domestic_abuse
public1: He's been texting me all day saying I'm dead tonight. | harm.domestic_abuse
wearer: Okay. You're safe here with us now. | practice.validate
public1: I've got my two kids at my mum's and he knows where she lives. | safeguarding.child
""", ("crowd", -36)),
    scene("slow_elderly_man", (wearer(fl("slt")), other("public1", sl(es("en+m7"), 115), -12)), """
wearer: Hello, Mr Ahmed. I'm from the police. Can I come in? | practice.explain practice.choice
public1: My grandson takes my pension card and all my money. | harm.domestic_abuse
public1: He pushed me over last week when I said no. | harm.domestic_abuse
wearer: I'm sorry that's happened. You've done the right thing telling me. | practice.validate
public1 +2: I haven't eaten properly since Tuesday.
""", ("street", -40)),
    scene("school_gate", (wearer(es("en-gb-x-gbcwmd")), other("child", es("en+f4", 175, pitch=80), -6, "medium"),
                           other("public1", fl("kal"), -18)), """
wearer: Hiya. I'm a police officer. Are you okay? | practice.explain
child: My mum's boyfriend hits me with a belt when she's at work. | ace.abuse safeguarding.child
child: There's never any food in the house and I get my own tea. | ace.neglect safeguarding.child
wearer: Thank you for telling me. You're really brave. | practice.validate
public1 +1: I'm her teacher. She's had bruises on her arms twice this term. | safeguarding.child
""", ("traffic", -38)),
    scene("wind_on_the_cliff", (wearer(es("en-gb-x-gbclan")), other("public1", es("en-gb-scotland+f2", 150), -18)), """
wearer: My name's Jack. I'm with the police. Can I talk to you? | practice.explain practice.choice
public1: Don't come any closer. I'm going to jump. | harm.self
public1: I've had enough of living. Everyone would be better off without me. | harm.self
wearer: I'm not going to rush you. I'm staying right here. | practice.choice
public1 +4: My dad used to beat my mum black and blue when I was small. | ace.household_violence
""", ("wind", -30)),
    scene("car_park_caribbean", (wearer(fl("rms")), other("public1", es("en-029+m3", 155), -12)), """
wearer: Can you tell me what happened tonight? | practice.curious
public1: He smashed my head off the car door. | harm.domestic_abuse
public1: He's done it before, loads of times. I've just never said. | harm.domestic_abuse
wearer: Is there anyone hurt who needs an ambulance? | practice.safety
public1: My son's only six, he was in the back seat. | safeguarding.child
""", ("traffic", -34)),
    scene("croaky_neighbour", (wearer(es("en+m3")), other("public1", es("en-gb-x-rp+croak", 140), -6)), """
wearer: Morning. I'm PC Lewis. You rang about next door? | practice.explain
public1: Those children are left on their own for days at a time. | safeguarding.child ace.neglect
public1: The little one was outside in just a nappy at midnight. | safeguarding.child ace.neglect
wearer: Thank you, that's really helpful. | practice.validate
public1 +2: The mother's on drugs, everybody round here knows it. | ace.household_dysfunction
""", ("street", -42)),
    scene("bus_shelter_girl", (wearer(es("en-gb-x-rp+f2")), other("public1", es("en-us+f5", 165), -12)), """
wearer: Hi, are you okay? You look frozen. | practice.safety
public1: A man I met online makes me go to parties with his friends. | harm.exploitation
public1: He gives me vodka and then they do stuff to me. | harm.exploitation
wearer: You've done nothing wrong by telling me. | practice.validate
public1: I'm only fourteen. I ran away from the care home. | safeguarding.child
""", ("crowd", -40)),
    scene("kitchen_knife", (wearer(es("en-us-nyc")), other("public1", fl("kal16"), -12),
                             other("public2", es("en-gb-x-gbcwmd+f3", 150), -18)), """
wearer: Police! Put the knife down on the table for me. | concern.threat
public1: She threatened to stab me while I was asleep.
public2 -0.4: He's been strangling me since Christmas, ask anyone! | harm.domestic_abuse
wearer: Okay, one at a time. I want to hear from both of you. | practice.curious
public2: Last week he held my head under the bath water. | harm.domestic_abuse
""", ("traffic", -40)),
    scene("mother_of_missing_boy", (wearer(es("en-gb-x-gbcwmd+m2")), other("public1", es("en+f5", 140), -6)), """
wearer: I'm PC Craig Holt. Tell me about your son. | practice.explain practice.curious
public1: He's thirteen. He's been gone since Friday and his phone's off. | safeguarding.child
public1: Men in a silver car keep dropping him off with new trainers. | harm.exploitation
public1: He came back last month with a stab wound and wouldn't say how. | harm.exploitation
wearer: We're taking this very seriously. | practice.validate
""", ("wind", -38)),
    scene("slow_lancashire_woman", (wearer(fl("awb")), other("public1", sl(es("en-gb-x-gbclan+f4"), 120), -12)), """
wearer: Hello, love. I'm a police officer. What's happened? | practice.explain
public1: He kicked me in the ribs while I was lying on the floor. | harm.domestic_abuse
public1: I think something's broken. I can't breathe properly. | harm.domestic_abuse
wearer: I'm getting an ambulance for you right now. | practice.safety
public1 +2: I grew up watching my dad do this to my mum. | ace.household_violence
""", ("street", -38)),
    scene("takeaway_worker", (wearer(es("en-gb-scotland+m2")), other("public1", es("en-us+m1", 190), -12)), """
wearer: Are you the owner of this place? | practice.curious
public1: No. The boss keeps my passport and I sleep in the back. | harm.exploitation
public1: I work every day for no money. He says I still owe him. | harm.exploitation
wearer: You're safe to talk to me. Nobody's in trouble. | practice.validate
""", ("crowd", -34)),
    scene("stairwell_reverb", (wearer(es("en+m1")), other("public1", fl("slt"), -18)), """
wearer: Hello? It's the police. Are you alright up there? | practice.safety
public1: I've been cutting myself again. There's blood everywhere. | harm.self
public1: I just want the pain to stop. | harm.self distress
wearer: I'm coming up to you now. We'll get you help. | practice.safety
""", ("traffic", -44), after=("reverb", "70", "50", "100")),
    scene("teen_boy_fast", (wearer(es("en-gb-x-gbclan+m1")), other("child", sl(es("en-gb-x-gbcwmd+m3", pitch=85), 200), -6, "medium")), """
wearer: What's your name, pal? | practice.curious
child: My dad gets drunk and throws stuff at me and my brother. | ace.abuse safeguarding.child
child: Last night he threw a bottle and it hit my head. | ace.abuse safeguarding.child
wearer: That's not okay, and it's not your fault. | practice.validate
child: Please don't tell him I told you. | distress
""", ("street", -36)),
    scene("night_bus_scotland", (wearer(es("en-029")), other("public1", es("en-gb-scotland+m5", 150), -12)), """
wearer: What's happened tonight, sir? | practice.curious
public1: I was in the care system from six. Nobody ever came to see me. | ace.neglect
public1: My mum was on heroin and my dad was inside the whole time. | ace.household_dysfunction
wearer: That sounds like a lot to carry. | practice.validate
public1 +3: Tonight I was going to throw myself in front of a train. | harm.self
""", ("wind", -32)),
    scene("quiet_nyc_man", (wearer(es("en-gb-x-rp+m2")), other("public1", es("en-us-nyc+m7", 145), -18)), """
wearer: Sir, can you hear me? I'm a police officer. | practice.explain
public1: They make me carry packages across town for them. | harm.exploitation
public1: If I say no, they'll hurt my mother. | harm.exploitation
wearer: Okay. We can help with that. | practice.validate
""", ("traffic", -38)),
    scene("flite_kal_mother", (wearer(es("en-us+f3")), other("public1", fl("kal"), -6)), """
wearer: Hello, I'm PC Rosa Diaz. Is everything alright? | practice.explain
public1: My husband hit my daughter across the face. | harm.domestic_abuse safeguarding.child
public1: He said if we leave he will kill us both. | harm.domestic_abuse
wearer: You're safe now. We're going to help you. | practice.validate
""", ("crowd", -42)),
    scene("street_fight_two_public", (wearer(es("en-gb-x-gbcwmd")), other("public1", es("en-029+f4", 160), -12),
                                       other("public2", es("en-gb-scotland+m1", 180), -6)), """
wearer: Right, everybody calm down. What's going on? | practice.curious
public2: He started it, he was shouting at my girlfriend.
public1 -0.3: He slapped me in the face and pulled my hair. | harm.domestic_abuse
public2 -0.5: I never touched her, she's lying!
public1: He's been hitting me since we moved in together. | harm.domestic_abuse
""", ("traffic", -30)),
    scene("mental_health_flat", (wearer(fl("kal16")), other("public1", es("en+f2", 135), -12)), """
wearer: Hi, it's the police. Your sister asked us to check on you. | practice.explain
public1: I've not left this flat for a month. I don't see the point of anything.
public1: Last night I tied a rope to the banister. | harm.self
wearer: I'm really glad you let me in. | practice.validate
public1 +2: My uncle abused me when I was a kid and nobody believed me. | ace.abuse
""", ("street", -44)),
    scene("rp_woman_windy_road", (wearer(es("en-gb-scotland+f3")), other("public1", es("en-gb-x-rp+f2", 155), -6)), """
wearer: Are you hurt? Do you need an ambulance? | practice.safety
public1: He pushed me out of the car on the motorway. | harm.domestic_abuse
public1: He said next time he'll run me over. | harm.domestic_abuse
wearer: You did the right thing flagging us down. | practice.validate
""", ("wind", -34)),
    scene("child_on_phone_rms", (wearer(es("en")), other("public1", fl("rms"), -18),
                                  other("child", es("en-us+f4", 170, pitch=85), -12, "medium")), """
wearer: Hello, I'm a police officer. Who called us? | practice.explain
child: I did. My mum's not woken up since yesterday. | safeguarding.child ace.household_dysfunction
child: She drinks a lot and falls asleep on the floor. | ace.household_dysfunction safeguarding.child
public1 +1: I'm the neighbour. Those kids haven't been to school in weeks. | safeguarding.child
wearer: You've done really well ringing us. | practice.validate
""", ("crowd", -38)),
)

#: Noise without speech: a transcriber should write no words on any of these.
NOISE_ONLY: tuple[VoiceScene, ...] = (
    scene("noise_silence", (), "", noise_db=-70.0),
    scene("noise_wind", (), "", ("wind", -24)),
    scene("noise_traffic", (), "", ("traffic", -22)),
    scene("noise_street", (), "", ("street", -28)),
    scene("noise_far_crowd", (), "", ("crowd", -34)),
)
NOISE_ONLY = tuple(replace(s, scene=replace(s.scene, length_s=30.0, bad_input=True,
                                             expect="no words")) for s in NOISE_ONLY)
