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


def test_sim_run_without_a_scenario_says_what_to_give_and_exits_2() -> None:
    result = runner.invoke(app, ["sim", "run"])
    assert result.exit_code == 2
    assert "--scenario" in result.output and "--demo" in result.output
