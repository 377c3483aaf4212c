"""The house's layout: layers and no circles (import-linter), declared dependencies (deptry),
small modules, the taxonomy at home, and nothing outside the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline.taxonomy import TAXONOMY

BIN = Path(sys.executable).parent
#: STYLE.md and issue 12: keep a module under about 400 lines; split it by what it does.
MAX_MODULE_LINES = 400


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # import-linter puts the working folder first on the path, so a copy is checked as itself.
    return subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def test_the_layers_and_the_no_circles_contracts_are_kept() -> None:
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


@pytest.mark.parametrize("module,line,broken", [
    # The store imports no stage.
    ("pipeline/store/base.py", "from pipeline.flagging import rubric", "pipeline.store is not allowed to import pipeline.flagging"),
    # The library never imports the web app.
    ("pipeline/teach/pack.py", "import reviewers.app", "pipeline.teach is not allowed to import reviewers"),
    # Rooms of one layer stay apart.
    ("pipeline/nightly/report.py", "from pipeline.teach import pack", "pipeline.nightly is not allowed to import pipeline.teach"),
    # No two modules import each other (the job layer and its scheduler once did).
    ("pipeline/batch/scheduler.py", "from pipeline.batch import jobs", "- .scheduler -> .jobs (1 import)"),
])
def test_a_broken_layer_fails_the_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    for folder in ("pipeline", "reviewers"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as fh:
        fh.write(f"\n{line}  # noqa\n")
    proc = _lint_imports(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert broken in proc.stdout


def test_dependencies_are_declared_and_used() -> None:
    proc = subprocess.run([str(BIN / "deptry"), "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No dependency issues found" in proc.stdout + proc.stderr


def test_modules_stay_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines())
             for folder in ("pipeline", "reviewers") for p in (ROOT / folder).rglob("*.py")}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_pipeline_folder_holds_only_what_every_room_uses() -> None:
    top = sorted(p.name for p in (ROOT / "pipeline").iterdir() if p.name != "__pycache__")
    assert top == ["__init__.py", "__main__.py", "batch", "cli", "clock.py", "config.py",
                   "errors.py", "flagging", "nightly", "records.py", "review", "store",
                   "taxonomy.py", "teach"]


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True,
                         timeout=60, stdin=subprocess.DEVNULL).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name]


def test_nothing_refers_to_a_folder_outside_the_repository() -> None:
    """A clone anywhere has no sibling folders: the shared data beside it must not be named."""
    outside = "../" + "shared"
    files = _tracked_files()
    assert len(files) > 100
    naming = []
    for path in files:
        if path.suffix in {".mp4", ".flac", ".mp3", ".wav", ".jpg", ".png", ".sqlite3"}:
            continue
        if outside in path.read_text(errors="replace"):
            naming.append(str(path.relative_to(ROOT)))
    assert naming == []


def test_the_tests_data_is_carried_with_its_sources() -> None:
    readme = (ROOT / "tests" / "data" / "README.md").read_text()
    data = [p for p in (ROOT / "tests" / "data").rglob("*") if p.is_file() and p.name != "README.md"]
    assert len(data) >= 7
    for path in data:
        assert f"`{path.relative_to(ROOT / 'tests' / 'data').as_posix()}`" in readme, path


def test_the_taxonomy_document_lists_exactly_the_taxonomy() -> None:
    text = (ROOT / "rubrics" / "README.md").read_text()
    ids = re.findall(r"^\| `([a-z_.]+)` \|", text, flags=re.M)
    assert ids == list(TAXONOMY)
    families = re.findall(r"\(family `([a-z]+)`\)", text)
    assert families == ["disclosure", "practice", "concern"]
