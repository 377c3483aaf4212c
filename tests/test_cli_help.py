"""Every command has help text with an example; errors are one clear line."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


ALL = list(_commands(cli))


def test_there_are_commands() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"run", "ingest", "export flags", "export transcripts", "export media", "rubric check"} <= names


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p))
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert len(result.output.splitlines()) > 3


def test_unknown_model_is_one_clear_line(tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "run", str(inbox), "--model", "huge"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --model huge: unknown model; use tiny.en, base, "
        "or the path of a CTranslate2 Whisper model folder"
    )


def test_bad_database_url_is_one_clear_line(tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = CliRunner().invoke(cli, ["--db", "nosuchdb://x", "--home", str(tmp_path), "export", "media"])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot use database URL 'nosuchdb://x'")
