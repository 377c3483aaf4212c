"""Check a teaching pack's moment before it is written: is anything personal left?

Detection on a transcript Whisper got wrong will always miss something, so the pack is
checked again on what it will show and play:

- its **audio**, after redaction, is transcribed again by a different model (``base``,
  where the batch used ``tiny.en``) and the detectors run on what that model heard; a
  detail it hears outside the redacted windows is a leak (it listens with the windows
  silent rather than toned: a tone sends Whisper into loops of invented words);
- its **subtitles** and the **handout's feedback**, placeholders and all, go through the
  detectors once more (a town said just after an ``[ADDRESS]`` is found in context).

Any finding stops the export; the trainer is shown the kind and the time, never the words.
A detail the trainer decided to keep (a proposal removed with a reason) is not a finding:
what the check hears within it is counted in the manifest as kept.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.batch.media import run_tool
from pipeline.errors import InvalidRequestError, MediaError
from pipeline.records import Segment, Transcription
from pipeline.teach.pii import find_pii
from pipeline.teach.pii_cues import PLACEHOLDER

#: How far outside a toned window a detail the verifier hears may start and still count as
#: inside it (word times from a second model differ a little).
WINDOW_SLACK_S = 0.15

@dataclass(frozen=True)
class Verifier:
    """The second model that listens to a pack's redacted audio."""

    name: str  # as the manifest and handout name it
    transcribe: Callable[[Path], Transcription]  # a 16 kHz mono WAV -> what it heard


def base_verifier(models_dir: Path) -> Verifier:
    """The bundled ``base`` model (assembled once into ``models_dir``) as the verifier."""
    from pipeline.batch.models import resolve_speech_model
    from pipeline.batch.transcribe import load_whisper, transcribe_audio

    model = resolve_speech_model("base", models_dir=models_dir)
    whisper = load_whisper(model)
    return Verifier(f"whisper base ({model.sha256[:12]})",
                    partial(transcribe_audio, whisper=whisper, model=model))


@dataclass(frozen=True)
class Finding:
    """Something personal found in a pack about to be written: where, what kind, when."""

    moment: int  # the annotation id
    where: str  # "audio", "subtitles", "handout" or "picture"
    kind: str
    at_s: float | None  # seconds into the moment's clip (None for the handout's feedback)
    #: For a face in the picture: regions that cover it while it was found, as a trainer's
    #: boxes (``start_s, end_s, x, y, width, height``; times in the clip, sizes as fractions).
    boxes: tuple[tuple[float, float, float, float, float, float], ...] = ()

    def describe(self) -> str:
        """One line for the trainer, without the words themselves."""
        at = f" at {self.at_s:.1f} s" if self.at_s is not None else ""
        return f"moment {self.moment}: {self.kind.lower()} in the {self.where}{at}"


class PackNotClean(InvalidRequestError):
    """The check found personal details left: the pack was not written."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__(
            "the teaching pack was not written: the check before writing found personal details "
            "left in it (" + "; ".join(f.describe() for f in self.findings) + "). Redact them "
            "or leave the moment out, then export again"
        )


def _outside(start_s: float, end_s: float, toned: Sequence[tuple[float, float]]) -> bool:
    """Whether a detail the verifier heard lies mostly outside the toned-out windows: a model
    listening to a tone may put words inside it or at its very edge, which are no leak."""
    length = max(end_s - start_s, 1e-3)
    covered = sum(max(0.0, min(end_s, b + WINDOW_SLACK_S) - max(start_s, a - WINDOW_SLACK_S))
                  for a, b in toned)
    return covered < 0.5 * length


def details_heard(heard: Sequence[Segment], toned: Sequence[tuple[float, float]], nlp: Any) -> list[Any]:
    """The details the verifier heard mostly outside the redacted windows."""
    return [r for r in find_pii(list(heard), nlp=nlp).redactions if _outside(r.start_s, r.end_s, toned)]


def _new_details(segments: Sequence[Segment], nlp: Any) -> list[Any]:
    """What the detectors find in already-redacted text, less the placeholders themselves."""
    words = [w for seg in segments for w in seg.words]
    found = []
    for r in find_pii(segments, nlp=nlp).redactions:
        covered = [w for w in words if r.start_s <= w.start_s and w.end_s <= r.end_s]
        if not all(PLACEHOLDER.fullmatch(w.word.strip(" ,.;:!?'\"")) for w in covered):
            found.append(r)
    return found


def listen(verifier: Verifier, audio_wav: Path, *, why: str = "the pack's audio for its check") -> Transcription:
    """What the verifier's model hears in a WAV file (any rate: made 16 kHz mono first);
    ``why`` names the audio in an error ("cannot prepare {why}")."""
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        wav16 = Path(tmp) / "speech.wav"
        proc = run_tool(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                         "-i", str(audio_wav), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le",
                         str(wav16)], timeout_s=300.0)
        if proc.returncode != 0:
            raise MediaError(f"cannot prepare {why}: "
                             f"{proc.stderr.decode('utf-8', 'replace')[-200:]}")
        return verifier.transcribe(wav16)


def check_moment(moment: int, *, audio_wav: Path, toned: Sequence[tuple[float, float]],
                 subtitles: Sequence[Segment], feedback: Sequence[Segment], nlp: Any,
                 verifier: Verifier, kept: Mapping[str, Sequence[tuple[float, float]]] | None = None,
                 ) -> tuple[list[Finding], dict[str, Any]]:
    """Findings for one moment, and what was checked (for the manifest).

    ``kept`` holds the times of the details the trainer kept, under ``"speech"`` and
    ``"feedback"``: what is found there is theirs to keep, not a finding.
    """
    heard = listen(verifier, audio_wav)
    speech_kept, feedback_kept = (kept or {}).get("speech", ()), (kept or {}).get("feedback", ())
    found = [(Finding(moment, "audio", r.kind, round(r.start_s, 2)), _outside(r.start_s, r.end_s, speech_kept))
             for r in details_heard(heard.segments, toned, nlp)]
    found += [(Finding(moment, "subtitles", r.kind, round(r.start_s, 2)),
               _outside(r.start_s, r.end_s, speech_kept)) for r in _new_details(subtitles, nlp)]
    found += [(Finding(moment, "handout", r.kind, None), _outside(r.start_s, r.end_s, feedback_kept))
              for r in _new_details(feedback, nlp)]
    findings = [f for f, new in found if new]
    checked = {"audio_retranscribed_s": round(heard.audio_s, 2),
               "audio_words_heard": heard.word_count,
               "texts": ["subtitles", "handout feedback"], "found": len(findings),
               "found_where_the_trainer_kept_details": len(found) - len(findings)}
    return findings, checked
