"""The noriai command line."""

from __future__ import annotations

from typer.testing import CliRunner

from noriai.cli import app

runner = CliRunner()


def test_help_lists_every_subcommand_with_a_line_each() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "darp", "plan", "fare", "gtfs", "sim"):
        assert f"│ {name} " in result.output


def test_unbuilt_commands_say_so_and_exit_non_zero() -> None:
    result = runner.invoke(app, ["sim", "run"])
    assert result.exit_code == 3
    assert "not built yet" in result.output
