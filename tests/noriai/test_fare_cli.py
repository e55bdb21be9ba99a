"""`noriai fare quote` contract: JSON on stdout with integer total_yen and the breakdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from noriai.cli import app

runner = CliRunner()
SHIN_YAMAGUCHI = "34.0942142,131.3962014"
YUDA = "34.1649106,131.4575504"


def _quote(at: str, *extra: str) -> dict[str, Any]:
    """Run `noriai fare quote` from Shin-Yamaguchi Station to Yuda Onsen and parse its JSON."""
    r = runner.invoke(
        app, ["fare", "quote", "--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", at, *extra, "--json"]
    )
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def test_quote_json_has_integer_total_and_breakdown() -> None:
    d = _quote("2026-11-24T12:00")
    assert isinstance(d["total_yen"], int) and d["total_yen"] == 4440  # 12,583 m on the demo tariff
    assert sum(x["amount_yen"] for x in d["breakdown"]) == d["total_yen"]
    assert d["inputs"]["distance_m"] == 12583 and d["tariff_version"]


def test_night_and_disability_concession_apply() -> None:
    d = _quote("2026-11-24T23:00", "--concession", "disability")
    codes = [x["code"] for x in d["breakdown"]]
    assert "night" in codes and "concession" in codes
    assert d["total_yen"] == 4800  # 4,440 x 1.2 = 5,328 -> 5,330; x 0.9 = 4,797 -> 4,800


def test_shared_with_other_riders_lowers_each_fare() -> None:
    d = _quote(
        "2026-11-24T12:00",
        "--shared-with",
        "34.10,131.40:34.16,131.46",
        "--shared-with",
        "34.12,131.42:34.17,131.47",
    )
    assert len(d["shared"]) == 3
    assert d["total_yen"] < d["solo_total_yen"]
    assert all(s["total_yen"] <= s["solo_total_yen"] for s in d["shared"])


def test_bad_input_gives_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    cases = [
        (["--from", "34.09", "--to", YUDA, "--at", "2026-11-24T12:00"], "expected LAT,LON"),
        (["--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", "tomorrow"], "Invalid isoformat"),
        (["--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", "2026-11-24T12:00", "--passengers", "12"], "1..9"),
        (
            ["--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", "2026-11-24T12:00", "--concession", "vip"],
            "--concession must be one of",
        ),
        (
            ["--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", "2026-11-24T12:00", "--shared-with", "1,2"],
            "PICKUP_LAT,LON:DROPOFF_LAT,LON",
        ),
        (["--from", SHIN_YAMAGUCHI, "--to", YUDA, "--at", "2030-01-01T12:00"], "not on 2030-01-01"),
        (
            [
                "--from",
                SHIN_YAMAGUCHI,
                "--to",
                YUDA,
                "--at",
                "2026-11-24T12:00",
                "--tariff",
                str(tmp_path / "missing.toml"),
            ],
            "tariff file not found",
        ),
    ]
    for args, message in cases:
        r = runner.invoke(app, ["fare", "quote", *args, "--json"])
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
        assert "Traceback" not in r.output
