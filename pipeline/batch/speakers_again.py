"""Speaker turns computed again for files already transcribed, without transcribing again.

The original's speech track is decoded at its recorded levels (into a temporary file that
is removed), each stored segment is regrouped into the Whisper segment it came from, and
the speaker stage runs on those words; TIPs' corrections are applied again on top. The
flags keep their categories (their review items may already be in a TIP's hands) and take
the speakers of their words.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.exc import NoResultFound

from pipeline.batch.media import extract_speech, probe_media
from pipeline.batch.speakers import Speakers, assign_speakers, load_method
from pipeline.batch.transcribe import read_wav
from pipeline.config import Instance
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.records import Segment
from pipeline.store import Store


def regroup(segments: Sequence[Segment]) -> list[Segment]:
    """Stored segments joined back into the Whisper segments they were split from (pieces
    that different speech models decoded stay apart, each keeping its model)."""
    out: list[Segment] = []
    for seg in segments:
        last = out[-1] if out else None
        if (last is not None and seg.origin is not None and seg.origin == last.origin
                and seg.model == last.model):
            out[-1] = replace(last, end_s=max(last.end_s, seg.end_s), words=last.words + seg.words,
                              text=f"{last.text} {seg.text}".strip(), speaker=None)
        else:
            out.append(replace(seg, speaker=None))
    return out


def speakers_again(instance: Instance, store: Store, media_id: int, *, method: str,
                   actor: str) -> Speakers:
    """Tell one transcribed file's speakers apart again and store the result (audited)."""
    try:
        media = store.get_media(media_id)
    except NoResultFound:
        raise NotFoundError(f"no media item {media_id}") from None
    if media.state not in ("transcribed", "flagged", "done") or not media.store_path:
        raise InvalidRequestError(f"media {media_id} has no transcript yet (state "
                                  f"{media.state}): run the batch first")
    load_method(method, instance.models_dir)
    original = instance.home / media.store_path
    with tempfile.TemporaryDirectory(dir=instance.tmp_dir) as tmp:
        wav = Path(tmp) / "levels.wav"
        extract_speech(original, wav, probe=probe_media(original), track=media.audio_track or 0,
                       normalise=False)
        result = assign_speakers(read_wav(wav), regroup(store.load_segments(media_id)),
                                 method=method)
    info = {**result.info, "elapsed_s": round(result.elapsed_s, 3), "again": True}
    store.save_speakers(media_id, result.segments, status=result.status, info=info)
    store.set_flag_speakers(media_id, store.load_segments(media_id))
    store.audit(actor=actor, action="speakers_again", obj=f"media:{media_id}",
                detail=f"method={method} status={result.status}")
    return result
