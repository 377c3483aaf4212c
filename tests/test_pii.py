"""Personal details for teaching exports: found in the transcript, hidden in the audio."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.records import Segment, Word
from pipeline.teach.pii import KINDS, Redacted, Redaction, find_pii, load_pii_nlp
from pipeline.teach.pii_audio import redact_audio


@pytest.fixture(scope="module")
def nlp():
    return load_pii_nlp()


def segments(*texts: str, start_s: float = 1.0, stored: bool = False) -> list[Segment]:
    """Whisper-like segments: words with a leading space and punctuation attached, timed by length.

    ``stored``: the words as the store keeps them, stripped of their spaces.
    """
    out, t = [], start_s
    for text in texts:
        words = []
        for w in re.findall(r"\s*\S+", text):
            length = 0.12 + 0.045 * len(w.strip())
            words.append(Word(round(t, 3), round(t + length, 3), w.strip() if stored else w, 0.91))
            t += length + 0.08
        out.append(Segment(words[0].start_s, words[-1].end_s, "".join(w.word for w in words), tuple(words)))
        t += 0.7
    return out


def redact(nlp, text: str, *, stored: bool = False) -> Redacted:
    """Redact a transcript written with "|" between segments."""
    return find_pii(segments(*(" " + part.strip() for part in text.split("|")), stored=stored), nlp=nlp)


def joined(redacted: Redacted) -> str:
    return "|".join(s.text for s in redacted.segments)


# --- the rule table --------------------------------------------------------------------------

NAME, ADDRESS, PLACE, POSTCODE = "NAME", "ADDRESS", "PLACE", "POSTCODE"
PHONE, VEHICLE, DOB, EMAIL, NUMBER = "PHONE", "VEHICLE", "DOB", "EMAIL", "NUMBER"


@pytest.mark.parametrize(
    "text,kinds",
    [
        # names: entities, cues, titles (an officer's name is a name), spelt out, repeated
        ("My name is Sarah Miller.", [NAME]),
        ("my name's john smith and i live in town", [NAME]),
        ("Hiya, I'm Sarah.", [NAME]),
        ("I'm Sarah Miller, I'm his partner.", [NAME]),
        ("Hello, I'm PC Jones. I'm here because your neighbour was worried.", [NAME]),
        ("Good evening, I'm Sergeant Davies.", [NAME]),
        ("Detective Sergeant Smith is on her way.", [NAME]),
        ("PC 4321 attended.", [NAME]),
        ("It was Mrs. Patel next door who rang you.", [NAME]),
        ("She's called Kayleigh and her son's called Tyler.", [NAME, NAME]),
        ("He goes by Dazza but his real name is Darren.", [NAME, NAME]),
        ("Officer Smith, he's here again!", [NAME]),
        ("Auntie Sue had the kids.", [NAME]),
        ("Surname Smith, first name Jo.", [NAME, NAME]),
        ("My name's Kayleigh, K-A-Y-L-E-I-G-H.", [NAME]),
        ("Kev hit me, Kev did. Ask Kev.", [NAME, NAME, NAME]),
        ("He said Sarah's phone was broken.", [NAME]),
        # not names
        ("I'm scared. I'm sorry. I'm not okay.", []),
        ("My mum and my dad were there. Nan was asleep.", []),
        ("Police! Stay where you are!", []),
        ("Right, okay. Listen to me. Calm down, mate. Sit down for me.", []),
        ("Oh my God. Jesus. Thank God you're here.", []),
        ("I'm English. I'm Polish. I'm Muslim.", []),
        ("I called the police. I called 999.", []),
        ("Call Childline on 0800 1111.", []),
        ("Cheers, love. Bless you. Ta.", []),
        # addresses and places
        ("I live at 22 Acacia Avenue.", [ADDRESS]),
        ("We're at 7b Bramley Close, Leeds.", [ADDRESS]),
        ("It's flat 3, 22 acacia avenue.", [ADDRESS]),
        ("I live at number 14.", [ADDRESS]),
        ("Meet me on Park Road.", [ADDRESS]),
        ("It's 14 Elm Grove, Chapeltown, Leeds.", [ADDRESS]),
        ("She lives at St Mary's Road.", [ADDRESS]),
        ("He lives in Harehills now.", [PLACE]),
        ("We drove up the M1 to Scotland from London.", [PLACE]),
        ("She's from Poland. We were in Scotland.", []),
        ("Go down the road, turn left at the park, up the hill.", []),
        ("I'm on my way. We need to close the door. Please Close it.", []),
        ("He's at Crown Court on Monday.", []),
        # postcodes
        ("Postcode is LS1 4AP.", [POSTCODE]),
        ("It's sw1a 1aa.", [POSTCODE]),
        ("It's SW1A1AA.", [POSTCODE]),
        ("M1 1AE.", [POSTCODE]),
        ("It's B33 8TH, by the shops.", [POSTCODE]),
        ("He was on the M1 for 3 hours.", []),
        ("Come off the A1 at the 3rd exit, the A1 3rd exit.", []),
        ("It's 5pm, M4 5pm at the latest.", []),
        # phone numbers
        ("My mobile's 07700 900123.", [PHONE]),
        ("Ring me on 0770-0900-123.", [PHONE]),
        ("It's 07700900123.", [PHONE]),
        ("It's +44 7700 900123.", [PHONE]),
        ("Plus 44 7700 900123.", [PHONE]),
        ("Landline is 0113 496 0000 or 020 7946 0000.", [PHONE, PHONE]),
        ("Call 0800 123 4567.", [PHONE]),
        ("It's oh seven seven double oh, nine double oh, one two three.", [PHONE]),
        ("It's zero seven seven zero zero nine zero zero one two three.", [PHONE]),
        ("There were two or three of them. One, two, three, four.", []),
        ("Call 999 or 101.", []),
        ("It was about 10 to 11, maybe 11.30.", []),
        # Every run of three or more digits identifies something (issue 13); not public numbers,
        # not counting, not an age.
        ("The incident number is 1234 of the 5th.", [NUMBER]),
        ("His collar number is four one two.", [NUMBER]),
        ("She's fifteen and her brother is twelve.", []),
        ("Call Childline on 0800 1111 or the Samaritans on 116 123.", []),
        ("The code was VS34QT, I think.", [NUMBER]),
        # Presidio's UK recognisers: identity numbers (checked by their own rules) are ID
        ("My national insurance number is JG 10 37 59 A.", ["ID"]),
        ("NHS number 943 476 5919, it's on the letter.", ["ID"]),
        # e-mail
        ("Email me at john.smith@gmail.com.", [EMAIL]),
        ("Send it to mo.percena.look.com, ta.", [EMAIL]),
        ("It's john dot smith at gmail dot com.", [EMAIL]),
        ("It's sarah_m85@hotmail.co.uk, all lower case.", [EMAIL]),
        ("I'll be at home dot, then work.", []),
        # vehicles
        ("The car was AB12 CDE.", [VEHICLE]),
        ("It's an old one, P123 ABC.", [VEHICLE]),
        ("His van's ABC 123D.", [VEHICLE]),
        ("Reg is ab12 cde.", [VEHICLE]),
        ("He drives a BMW, a black one. The CCTV was off. The NHS is great.", []),
        # dates of birth
        ("I was born on the 3rd of March 1990.", [DOB]),
        ("What's your date of birth? | The third of March, nineteen ninety.", [DOB]),
        ("Date of birth? | 12/05/1987.", [DOB]),
        ("DOB 03.03.1990.", [DOB]),
        ("I was born in 1990.", [DOB]),
        ("His birthday's on the fourth of July.", [DOB]),
        ("He was born angry. He was born in the spring.", []),
        ("My birthday is next week.", []),
        ("It happened on the 3rd of March.", []),
        # several in one account
        (
            "Hello, I'm PC Jones. My name is Sarah Miller and I live at 14 Park Road, Leeds, LS1 4AP.",
            [NAME, NAME, ADDRESS, POSTCODE],
        ),
    ],
)
def test_kinds(nlp, text: str, kinds: list[str]) -> None:
    redacted = redact(nlp, text)
    assert [r.kind for r in redacted.redactions] == kinds, joined(redacted)
    # From words as the store keeps them (no leading spaces), nothing found before is missed;
    # spaCy's entity recogniser may tag a word more at the very start of a text.
    stored = redact(nlp, text, stored=True)
    assert set(kinds) <= {r.kind for r in stored.redactions}, joined(stored)


@pytest.mark.parametrize("words,expected", [
    (["I", "live", "at", "14", "-part", "road,", "my", "phone", "number", "is", "077-0-0-9-0-0-0-1-2-3."],
     "I live at [ADDRESS], my phone number is [PHONE]."),
    (["My", "number", "is", "07700,", "900,123.", "He", "don", "'t", "know."],
     "My number is [PHONE]. He don't know."),
])
def test_stored_words_glued_by_whisper(nlp, words: list[str], expected: str) -> None:
    """Stored words lose their spaces; pieces Whisper glued on ("-part", "'t") stay glued."""
    segs = [Segment(0.0, 9.0, " ".join(words),
                    tuple(Word(0.5 * i, 0.5 * i + 0.4, w, 0.9) for i, w in enumerate(words)))]
    assert find_pii(segs, nlp=nlp).segments[0].text == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Hello, I'm PC Jones.", " Hello, I'm PC [NAME]."),
        ("My name is Sarah Miller and I'm scared.", " My name is [NAME] and I'm scared."),
        ("Sarah's phone was broken.", " [NAME]'s phone was broken."),
        ("I live at 14 Park Road, Leeds, LS1 4AP.", " I live at [ADDRESS], [POSTCODE]."),
        ("Call me on 07700 900123, or email john.smith@gmail.com.",
         " Call me on [PHONE], or email [EMAIL]."),
        ("The reg was AB12 CDE? I think so.", " The reg was [VEHICLE]? I think so."),
        ("I was born on the 3rd of March 1990, in Leeds.", " I was born on [DOB], in [PLACE]."),
        ("Is that (Kev) again?", " Is that ([NAME]) again?"),
    ],
)
def test_redacted_text(nlp, text: str, expected: str) -> None:
    assert joined(redact(nlp, text)) == expected


# --- words, times and what is kept ------------------------------------------------------------


def test_placeholder_spans_the_words_it_replaces(nlp) -> None:
    [seg] = segments(" My name is Sarah Jane Miller, and I'm scared.")
    redacted = find_pii([seg], nlp=nlp)
    [out] = redacted.segments
    sarah, miller = seg.words[3], seg.words[5]
    [placeholder] = [w for w in out.words if "[" in w.word]
    assert (placeholder.start_s, placeholder.end_s, placeholder.word) == (sarah.start_s, miller.end_s, " [NAME],")
    assert redacted.redactions == (Redaction("NAME", sarah.start_s, miller.end_s, 3,
                                             sarah.start_s, miller.end_s),)
    assert len(out.words) == len(seg.words) - 2
    assert (out.start_s, out.end_s, out.avg_logprob) == (seg.start_s, seg.end_s, seg.avg_logprob)


def test_speech_outside_details_is_kept_byte_for_byte(nlp) -> None:
    texts = (
        " Hello, I'm PC Jones, I'm here because your neighbour was worried about you.",
        " He grabbed me by the throat—last night—and said he'd \"kill\" me…",
        " Thank you for telling me. Can I take your number?",
        " It's 07700 900123, and I'm at 14 Park Road.",
        " Do you feel safe here right now? Take your time.",
    )
    segs = segments(*texts)
    redacted = find_pii(segs, nlp=nlp)
    for before, after in zip(segs, redacted.segments, strict=True):
        kept = [w for w in after.words if not re.search(r"\[[A-Z]+\]", w.word)]
        assert all(w in before.words for w in kept)
        if not re.search(r"\[[A-Z]+\]", after.text):
            assert after == before
    assert redacted.segments[1] == segs[1]
    assert redacted.segments[0].text == " Hello, I'm PC [NAME], I'm here because your neighbour was worried about you."
    assert redacted.segments[3].text == " It's [PHONE], and I'm at [ADDRESS]."
    assert [w.word for w in redacted.segments[3].words] == [" It's", " [PHONE],", " and", " I'm", " at", " [ADDRESS]."]


def test_detail_across_a_segment_break_is_one_redaction(nlp) -> None:
    segs = segments(" I live at 14 Park", " Road, Leeds. It's a red door.")
    redacted = find_pii(segs, nlp=nlp)
    first, second = redacted.segments
    assert (first.text, second.text) == (" I live at [ADDRESS]", " [ADDRESS]. It's a red door.")
    number, road, leeds = segs[0].words[3], segs[1].words[0], segs[1].words[1]
    assert redacted.redactions == (Redaction("ADDRESS", number.start_s, leeds.end_s, 4,
                                             number.start_s, leeds.end_s),)
    # Each placeholder stays in its own segment, over its own words' times.
    assert first.words[-1] == Word(number.start_s, segs[0].words[4].end_s, " [ADDRESS]", 0.91)
    assert second.words[0] == Word(road.start_s, leeds.end_s, " [ADDRESS].", 0.91)
    assert (first.start_s, first.end_s, second.start_s, second.end_s) == (
        segs[0].start_s, segs[0].end_s, segs[1].start_s, segs[1].end_s)


def test_name_across_a_segment_break(nlp) -> None:
    redacted = redact(nlp, "Hello, my name is | Sarah Miller. I need help.")
    assert joined(redacted) == " Hello, my name is| [NAME]. I need help."
    assert redacted.counts == {"NAME": 1}


def test_redactions_never_hold_the_removed_words(nlp) -> None:
    text = "I'm Sarah Miller, 14 Park Road, LS1 4AP, 07700 900123, sarah.miller@gmail.com, AB12 CDE."
    redacted = redact(nlp, text)
    assert set(redacted.counts) == {"NAME", "ADDRESS", "POSTCODE", "PHONE", "EMAIL", "VEHICLE"}
    removed = ("Sarah", "Miller", "Park", "LS1", "4AP", "07700", "900123", "gmail", "AB12", "CDE")
    everything = repr(redacted)
    assert not [w for w in removed if w in everything]
    assert [f.name for f in dataclasses.fields(Redaction)] == [
        "kind", "start_s", "end_s", "word_count", "audio_start_s", "audio_end_s", "by"]


def test_counts_and_windows(nlp) -> None:
    redacted = redact(nlp, "Kev hit me. Kev lives at 14 Park Road. | Ring 07700 900123.")
    assert redacted.counts == {"NAME": 2, "ADDRESS": 1, "PHONE": 1}
    assert redacted.windows == [(r.start_s, r.end_s) for r in redacted.redactions]
    assert all(r.kind in KINDS and r.end_s > r.start_s for r in redacted.redactions)


def test_a_word_timed_implausibly_short_is_toned_out_to_its_neighbours(nlp) -> None:
    """Whisper gives a word it cannot place zero length: its audio window reaches the
    neighbouring words instead of a sliver around a guessed instant."""
    [seg] = segments(" Her name is Sarah and she lives here.")
    words = list(seg.words)
    is_, sarah, and_ = words[2], words[3], words[4]
    words[3] = Word(sarah.start_s + 0.1, sarah.start_s + 0.1, sarah.word, 0.4)  # zero length
    redacted = find_pii([Segment(seg.start_s, seg.end_s, seg.text, tuple(words))], nlp=nlp)
    [r] = redacted.redactions
    assert (r.kind, r.start_s, r.end_s) == ("NAME", words[3].start_s, words[3].end_s)
    assert redacted.windows == [(is_.end_s, and_.start_s)]
    # A well-timed word keeps its own times.
    [plain] = redact(nlp, "Her name is Sarah and she lives here.").redactions
    assert (plain.audio_start_s, plain.audio_end_s) == (plain.start_s, plain.end_s)


def test_the_widening_stops_at_the_limit_and_the_file_start() -> None:
    from pipeline.teach import pii

    nlp = pii.load_pii_nlp()
    ghost = Word(0.3, 0.3, " Sarah", 0.3)
    later = Word(9.0, 9.4, " said", 0.9)
    seg = Segment(0.0, 9.4, " My name is Sarah said", (
        Word(0.0, 0.1, " My", 0.9), Word(0.1, 0.2, " name", 0.9), Word(0.2, 0.3, " is", 0.9), ghost, later))
    [r] = find_pii([seg], nlp=nlp).redactions
    assert (r.audio_start_s, r.audio_end_s) == (0.3, 0.3 + pii.MAX_WIDEN_S)


def test_default_audio_redaction_is_padded_and_merges_close_windows() -> None:
    from pipeline.teach.pii_audio import AUDIO_LEAD_S, AUDIO_PAD_S, MERGE_GAP_S, toned_windows_s

    n = 10 * RATE
    assert (AUDIO_LEAD_S, AUDIO_PAD_S) == (0.4, 0.25)  # more before: Whisper starts words late
    # Two details whose padded windows are 0.3 s apart become one; one 2 s away stays apart.
    a, b, c = (1.0, 1.4), (1.4 + AUDIO_PAD_S + AUDIO_LEAD_S + 0.3, 2.6), (5.0, 5.5)
    assert toned_windows_s([a, b, c], RATE, n) == [
        (round(a[0] - AUDIO_LEAD_S, 3), round(b[1] + AUDIO_PAD_S, 3)),
        (round(c[0] - AUDIO_LEAD_S, 3), round(c[1] + AUDIO_PAD_S, 3))]
    assert MERGE_GAP_S == 0.5
    # Just over the gap: two windows.
    d = (1.4 + AUDIO_PAD_S + AUDIO_LEAD_S + MERGE_GAP_S + 0.01, 3.0)
    assert len(toned_windows_s([a, d], RATE, n)) == 2
    audio = speechlike(10.0)
    out = redact_audio(audio, RATE, [a, b], mode="silence")
    lo, hi = int((a[0] - AUDIO_LEAD_S + 0.01) * RATE), int((b[1] + AUDIO_PAD_S - 0.01) * RATE)
    assert not out[lo:hi].any()  # the speech between the two details is gone too


def test_nothing_found_leaves_the_transcript_as_it_was(nlp) -> None:
    segs = segments(" Do you feel safe here right now?", " Take your time.")
    redacted = find_pii(segs, nlp=nlp)
    assert redacted.segments == tuple(segs) and redacted.redactions == () and redacted.counts == {}


def test_segment_without_word_timings_redacts_over_the_whole_segment(nlp) -> None:
    seg = Segment(4.0, 6.5, " My name is Sarah, she said.", ())
    redacted = find_pii([seg], nlp=nlp)
    assert redacted.segments == (Segment(4.0, 6.5, " My name is [NAME], she said.", ()),)
    assert redacted.redactions == (Redaction("NAME", 4.0, 6.5, 1, 4.0, 6.5),)


def test_pipeline_without_ner_is_refused() -> None:
    from pipeline.flagging.engine import load_nlp

    with pytest.raises(ModelError) as err:
        find_pii(segments(" I'm Sarah."), nlp=load_nlp())
    assert str(err.value) == (
        "find_pii needs a spaCy pipeline with 'ner'; pass pipeline.teach.pii.load_pii_nlp(), "
        "not pipeline.flagging.engine.load_nlp() (which leaves the entity recogniser out)"
    )


# --- audio ------------------------------------------------------------------------------------

RATE = 16_000


def speechlike(seconds: float = 3.0, *, seed: int = 1) -> np.ndarray:
    """Loud low tones plus noise: nothing near 1 kHz, so a leak shows in the spectrum."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = 0.4 * np.sin(2 * np.pi * 180 * t) + 0.2 * np.sin(2 * np.pi * 2400 * t + 1.0)
    return (x + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))


def spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = x.astype(np.float64) * np.hanning(len(x))
    power = np.abs(np.fft.rfft(x)) ** 2
    return np.fft.rfftfreq(len(x), 1 / RATE), power


def outside(n: int, windows, pad_s: float) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    for s, e in windows:
        keep[max(0, int(np.floor((s - pad_s) * RATE))) : int(np.ceil((e + pad_s) * RATE))] = False
    return keep


WINDOWS = [(0.50, 0.92), (1.70, 2.05)]
#: The mechanics of replacement, with a small pad and no merging (the defaults are generous).
EXACT = {"pad_s": 0.05, "merge_gap_s": 0.0, "lead_s": None}


def test_tone_replaces_each_window_with_a_pure_tone() -> None:
    audio = speechlike()
    out = redact_audio(audio, RATE, WINDOWS, tone_hz=1000.0, level_dbfs=-20.0, **EXACT)
    assert out.dtype == np.float32 and out.shape == audio.shape
    for s, e in WINDOWS:
        window = out[int(s * RATE) : int(e * RATE)]
        assert rms(window) == pytest.approx(0.1 / np.sqrt(2), rel=0.01)
        freqs, power = spectrum(window)
        assert freqs[np.argmax(power)] == pytest.approx(1000.0, abs=RATE / len(window))
        near = np.abs(freqs - 1000.0) <= 30
        assert power[~near].sum() < 1e-4 * power.sum()  # nothing else: the speech is gone
    keep = outside(len(audio), WINDOWS, 0.05)
    assert np.array_equal(out[keep], audio[keep])
    assert not np.shares_memory(out, audio) and np.array_equal(audio, speechlike())


def test_silence_mode_gives_zeros() -> None:
    audio = speechlike()
    out = redact_audio(audio, RATE, WINDOWS, mode="silence", **EXACT)
    for s, e in WINDOWS:
        assert not out[int((s - 0.045) * RATE) : int((e + 0.045) * RATE)].any()
    keep = outside(len(audio), WINDOWS, 0.05)
    assert np.array_equal(out[keep], audio[keep])


def test_edges_fade_without_a_click() -> None:
    # A smooth 200 Hz hum at its peak where each padded window starts and ends: cutting it
    # there steps by 0.5; a fade keeps every step as small as the hum's and the tone's own.
    t = np.arange(3 * RATE) / RATE
    hum = (0.5 * np.cos(2 * np.pi * 200 * t)).astype(np.float32)
    largest = 2 * np.pi * 200 * 0.5 / RATE + 2 * np.pi * 1000 * 0.1 / RATE
    for mode in ("tone", "silence"):
        faded = redact_audio(hum, RATE, WINDOWS, mode=mode, **EXACT)
        assert np.abs(np.diff(faded.astype(np.float64))).max() <= largest, mode
    # Without a pad there is no room for a fade: the cut is a click.
    cut = redact_audio(hum, RATE, WINDOWS, mode="silence", pad_s=0.0, merge_gap_s=0.0, lead_s=None)
    assert np.abs(np.diff(cut.astype(np.float64))).max() > 0.45


def test_int16_and_stereo_keep_their_shape_and_level() -> None:
    audio = (speechlike() * 32767).astype(np.int16)
    out = redact_audio(audio, RATE, WINDOWS, level_dbfs=-6.0, **EXACT)
    assert out.dtype == np.int16
    window = out[int(0.5 * RATE) : int(0.92 * RATE)]
    assert rms(window) == pytest.approx(32767 * 10 ** (-6 / 20) / np.sqrt(2), rel=0.01)
    stereo = np.stack([speechlike(seed=2), speechlike(seed=3)], axis=1)
    out2 = redact_audio(stereo, RATE, WINDOWS, mode="silence", **EXACT)
    assert out2.shape == stereo.shape and not out2[int(0.5 * RATE) : int(0.92 * RATE)].any()


def test_windows_past_the_ends_are_clipped_and_overlaps_merged() -> None:
    audio = speechlike(1.0)
    out = redact_audio(audio, RATE, [(-0.5, 0.2), (0.15, 0.3), (0.9, 5.0)], mode="silence", **EXACT)
    # Silent from the start to the last fade-out, and from the fade-in to the end.
    assert not out[: int(0.345 * RATE)].any() and not out[int(0.855 * RATE) :].any()
    assert np.array_equal(out[int(0.36 * RATE) : int(0.84 * RATE)], audio[int(0.36 * RATE) : int(0.84 * RATE)])


def test_bad_mode_and_tone_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^redact_audio: mode must be 'tone' or 'silence', not 'bleep'$"):
        redact_audio(speechlike(0.1), RATE, [], mode="bleep")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^redact_audio: tone_hz 9000.0 must lie between 0 and 8000.0 Hz$"):
        redact_audio(speechlike(0.1), RATE, [], tone_hz=9000.0)


def test_transcript_windows_hide_the_words_in_the_audio(nlp) -> None:
    """Each word is a burst at its own pitch; after redaction only the redacted words are 1 kHz."""
    segs = segments(" Hello, I'm PC Jones.", " My number is 07700 900123, okay?", start_s=0.3)
    words = [w for s in segs for w in s.words]
    t = np.arange(int((words[-1].end_s + 0.5) * RATE)) / RATE
    audio = np.zeros(t.size, dtype=np.float32)
    for i, w in enumerate(words):
        span = (t >= w.start_s) & (t < w.end_s)
        audio[span] = 0.5 * np.sin(2 * np.pi * (300 + 40 * i) * t[span])
    redacted = find_pii(segs, nlp=nlp)
    assert [r.kind for r in redacted.redactions] == ["NAME", "PHONE"]
    out = redact_audio(audio, RATE, redacted.windows, **EXACT)
    hidden = {" Jones.", " 07700", " 900123,"}
    for i, w in enumerate(words):
        freqs, power = spectrum(out[int(w.start_s * RATE) : int(w.end_s * RATE)])
        peak = freqs[np.argmax(power)]
        expected = 1000.0 if w.word in hidden else 300 + 40 * i
        assert peak == pytest.approx(expected, abs=15), w.word
