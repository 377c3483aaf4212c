"""Bundled speech models: found through their packages and verified by hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.batch.media import extract_speech, probe_media
from pipeline.batch.models import BASE_SHA256, TINY_EN_SHA256, resolve_speech_model, sha256_file
from pipeline.batch.transcribe import load_whisper, transcribe_audio
from pipeline.errors import ModelError


def test_tiny_en_is_found_and_verified(tmp_path: Path) -> None:
    model = resolve_speech_model("tiny.en", models_dir=tmp_path)
    assert model.sha256 == TINY_EN_SHA256
    assert (model.path / "model.bin").is_file()
    assert not model.multilingual


def test_unknown_model_name_says_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="use tiny.en, base, or the path"):
        resolve_speech_model("large-v9", models_dir=tmp_path)


def test_folder_without_model_bin_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelError, match="not a CTranslate2 model folder"):
        resolve_speech_model(str(tmp_path / "m"), models_dir=tmp_path)


def test_model_folder_is_accepted_and_hashed(tmp_path: Path) -> None:
    tiny = resolve_speech_model("tiny.en", models_dir=tmp_path)
    copy = tmp_path / "my-model"
    shutil.copytree(tiny.path, copy)
    model = resolve_speech_model(str(copy), models_dir=tmp_path)
    assert model.sha256 == TINY_EN_SHA256 and model.path == copy.resolve()


def test_base_is_assembled_once_verified_and_transcribes(tmp_path: Path, jfk: Path) -> None:
    model = resolve_speech_model("base", models_dir=tmp_path)
    assert sha256_file(model.path / "model.bin") == BASE_SHA256
    assert model.multilingual
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (model.path / name).is_file()
    mtime = (model.path / "model.bin").stat().st_mtime_ns
    assert resolve_speech_model("base", models_dir=tmp_path).path == model.path
    assert (model.path / "model.bin").stat().st_mtime_ns == mtime  # not assembled again
    wav = extract_speech(jfk, tmp_path / "j.wav", probe=probe_media(jfk), track=0).path
    result = transcribe_audio(wav, whisper=load_whisper(model), model=model)
    assert result.language == "en"
    assert "country" in " ".join(s.text for s in result.segments).lower()


def test_tampered_base_model_is_refused(tmp_path: Path) -> None:
    model = resolve_speech_model("base", models_dir=tmp_path)
    target = model.path / "model.bin"
    target.chmod(0o644)
    with target.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="has SHA-256 .* expected 905e5bf8"):
        resolve_speech_model("base", models_dir=tmp_path)
