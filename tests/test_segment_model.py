"""Which speech model produced each segment (issue 17, the second look): stored with the
segment, filled in from the transcript's model where a segment does not say, kept by the
speaker stage's splitting and regrouping, and exported as ``model`` on transcript rows."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from sqlalchemy import inspect, text

from conftest import ROOT
from pipeline.batch import speakers
from pipeline.batch.speakers_again import regroup
from pipeline.cli import cli
from pipeline.records import Segment, Transcription, Word
from pipeline.store import Store, open_store
from pipeline.store.exports import SEGMENT_FIELDS, segment_rows, write_csv

MIGRATIONS = ROOT / "pipeline" / "store" / "migrations"
HOSTILE = "=HYPERLINK(\"http://evil.example\")"


def _segment(start: float, words: str, *, model: str | None = None, origin: int | None = None,
             speaker: str | None = None) -> Segment:
    found = tuple(Word(start + i * 0.5, start + i * 0.5 + 0.4, w, 0.9, speaker)
                  for i, w in enumerate(words.split()))
    return Segment(start, found[-1].end_s, words, found, -0.2, 0.01, speaker, origin, model)


def _store_with(tmp_path: Path, segments: list[Segment], *, model: str = "tiny.en",
                name: str = "x.mp4") -> tuple[Store, int]:
    store = open_store(f"sqlite:///{tmp_path / 'bwv.sqlite3'}")
    media_id, _ = store.add_original(f"{len(name):064d}", size=1, store_path="s", inbox="/in",
                                     name=name, mtime_ns=1)
    store.save_transcript(media_id, Transcription(tuple(segments), "en", 10.0, 1.0), model=model,
                          model_sha256="0" * 64, settings={})
    return store, media_id


def _column_names(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("segment")}


def test_each_segment_keeps_its_model_and_one_without_gets_the_transcripts(tmp_path: Path) -> None:
    store, media_id = _store_with(tmp_path, [
        _segment(0.0, "stay where you are", model="base"),
        _segment(3.0, "are you hurt"),
        _segment(6.0, "I need help", model="tiny.en"),
    ], model="tiny.en")
    assert [s.model for s in store.load_segments(media_id)] == ["base", "tiny.en", "tiny.en"]
    with store.session() as s:  # stored as such, not only filled in when read back
        stored = s.execute(text("SELECT model FROM segment ORDER BY idx")).scalars().all()
    assert stored == ["base", "tiny.en", "tiny.en"]
    store.engine.dispose()


def test_a_custom_model_folder_name_is_what_segments_say(tmp_path: Path) -> None:
    folder = "whisper-small-ct2-" + "x" * 150  # a CTranslate2 folder's name, as long as any
    store, media_id = _store_with(tmp_path, [_segment(0.0, "hello there")], model=folder)
    assert [s.model for s in store.load_segments(media_id)] == [folder]
    store.engine.dispose()


def test_speakers_computed_again_keep_each_segments_model(tmp_path: Path) -> None:
    store, media_id = _store_with(tmp_path, [
        _segment(0.0, "stay where you are", model="tiny.en", origin=0, speaker="wearer"),
        _segment(2.0, "leave me alone", model="base", origin=0, speaker="speaker 2"),
        _segment(4.0, "okay", model="tiny.en", origin=1, speaker="wearer"),
    ])
    again = speakers.without_speakers(regroup(store.load_segments(media_id)), why="again")
    store.save_speakers(media_id, again.segments, status=again.status, info=again.info)
    after = store.load_segments(media_id)
    assert [(s.text, s.model) for s in after] == [
        ("stay where you are", "tiny.en"), ("leave me alone", "base"), ("okay", "tiny.en")]
    store.engine.dispose()


def test_pieces_of_a_split_segment_keep_its_model() -> None:
    seg = _segment(0.0, "stay back please leave", model="base")
    speaker_of = {(0, 0): "wearer", (0, 1): "wearer", (0, 2): "speaker 2", (0, 3): "speaker 2"}
    pieces = speakers._split([seg], speaker_of)
    assert [(p.text, p.speaker, p.model) for p in pieces] == [
        ("stay back", "wearer", "base"), ("please leave", "speaker 2", "base")]
    one = speakers._split([seg], dict.fromkeys(speaker_of, "wearer"))
    assert [(p.speaker, p.model) for p in one] == [("wearer", "base")]
    empty = speakers._split([Segment(0.0, 1.0, "", (), model="base")], {})
    assert [p.model for p in empty] == ["base"]
    assert [s.model for s in speakers.without_speakers([seg], why="x").segments] == ["base"]


def test_regroup_joins_pieces_of_one_model_and_keeps_other_models_apart() -> None:
    joined = regroup([_segment(0.0, "stay back", model="base", origin=0, speaker="wearer"),
                      _segment(1.0, "please leave", model="base", origin=0, speaker="speaker 2")])
    assert [(s.text, s.model, s.speaker) for s in joined] == [
        ("stay back please leave", "base", None)]
    apart = regroup([_segment(0.0, "stay back", model="tiny.en", origin=0),
                     _segment(1.0, "please leave", model="base", origin=0),
                     _segment(2.0, "now", model="base", origin=0)])
    assert [(s.text, s.model) for s in apart] == [
        ("stay back", "tiny.en"), ("please leave now", "base")]


def test_transcript_rows_carry_each_segments_model(tmp_path: Path) -> None:
    store, _ = _store_with(tmp_path, [_segment(0.0, "stay where you are", model="base"),
                                      _segment(3.0, "are you hurt")], model="tiny.en")
    rows = list(segment_rows(store))
    assert [(r["text"], r["model"]) for r in rows] == [
        ("stay where you are", "base"), ("are you hurt", "tiny.en")]
    assert SEGMENT_FIELDS.index("model") == SEGMENT_FIELDS.index("speaker_name") + 1
    store.engine.dispose()


def test_bwv_export_transcripts_writes_the_model_column(tmp_path: Path) -> None:
    store, _ = _store_with(tmp_path, [_segment(0.0, "stay where you are", model="base"),
                                      _segment(3.0, "are you hurt")], model=HOSTILE)
    base = ["--home", str(tmp_path / "home"), "--db", store.url, "export", "transcripts"]
    out = tmp_path / "t.csv"
    result = CliRunner().invoke(cli, [*base, "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as fh:
        header, *lines = list(csv.reader(fh))
    assert header[header.index("speaker_name") + 1] == "model"
    cells = [dict(zip(header, line, strict=True)) for line in lines]
    # The folder name of a custom model is outside text: escaped like every other cell.
    assert [(c["text"], c["model"]) for c in cells] == [
        ("stay where you are", "base"), ("are you hurt", "'" + HOSTILE)]
    result = CliRunner().invoke(cli, [*base, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [r["model"] for r in rows] == ["base", HOSTILE]
    store.engine.dispose()


def test_write_csv_puts_a_missing_model_as_an_empty_cell() -> None:
    stream = io.StringIO()
    write_csv(stream, SEGMENT_FIELDS, [{"source": "a.mp4", "model": None, "text": "hi"}])
    header, line = list(csv.reader(io.StringIO(stream.getvalue())))
    assert dict(zip(header, line, strict=True))["model"] == ""
    assert "model" in header


def test_segments_stored_before_say_no_model_and_the_migration_goes_down_and_up(
        tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    shutil.copyfile(ROOT / "tests" / "data" / "migrations" / "layout1_rev0004.sqlite3", db)
    store = open_store(f"sqlite:///{db}")  # upgraded to the head on opening
    assert "model" in _column_names(store)
    loaded = [s for m in store.iter_media() for s in store.load_segments(m.id)]
    assert len(loaded) == 20 and {s.model for s in loaded} == {None}
    assert {r["model"] for r in segment_rows(store)} == {None}

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    assert "model" not in _column_names(store)
    assert {"speaker", "origin"} <= _column_names(store)  # 0009's columns stay
    store.engine.dispose()
    store = open_store(f"sqlite:///{db}")
    assert "model" in _column_names(store)
    assert store.counts()["segment"] == 20
    store.engine.dispose()
