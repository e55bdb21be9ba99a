"""Cordeau instances: both layouts, the JSON contract, and malformed files."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noriai.cli import app
from solver import check, solve
from solver.cordeau import InstanceError, parse_instance


def test_both_layouts_parse(shared_dir: Path) -> None:
    a = parse_instance(shared_dir / "benchmarks/darp/instances/cordeau2006/a2-16.txt")
    assert (a.n, a.vehicles, a.capacity, a.max_ride) == (16, 2, 3, 30)
    pr = parse_instance(shared_dir / "benchmarks/darp/instances/cordeau-laporte2003/pr01.txt")
    assert (pr.n, pr.vehicles, pr.max_duration) == (24, 3, 480)
    assert (pr.xy[0] == pr.xy[2 * pr.n + 1]).all()  # end depot appended as a copy of node 0
    j = parse_instance(shared_dir / "benchmarks/darp/instances/cordeau2006/a7-84.jinete-modified.txt")
    assert j.n == 84 and j.latest[0] == 720


def test_a2_16_is_solved_feasibly_near_the_best_known(shared_dir: Path) -> None:
    inst = parse_instance(shared_dir / "benchmarks/darp/instances/cordeau2006/a2-16.txt")
    problem = inst.to_problem()
    result = solve(problem, time_limit_s=2)
    assert check(problem, result) == []
    assert not result.unassigned
    assert inst.cost(result) <= 294.25 * 1.05


def test_cli_json_contract(shared_dir: Path) -> None:
    path = shared_dir / "benchmarks/darp/instances/cordeau2006/a2-16.txt"
    r = CliRunner().invoke(app, ["darp", "solve", str(path), "--time-limit", "1", "--json", "--workers", "1"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["instance"] == "a2-16" and out["unserved"] == []
    inst = parse_instance(path)
    total = 0.0
    seen = set()
    for route in out["routes"]:
        nodes = [s["node"] for s in route["stops"]]
        assert nodes[0] == 0 and nodes[-1] == 33
        seen.update(nodes[1:-1])
        total += sum(inst.distance(a, b) for a, b in itertools.pairwise(nodes))
        times = [s["time"] for s in route["stops"]]
        for node, t in zip(nodes, times, strict=True):
            assert inst.earliest[node] - 1e-6 <= t <= inst.latest[node] + 1e-6
    assert seen == set(range(1, 33))
    assert math.isclose(out["cost"], total, abs_tol=1e-3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", r"bad\.txt:1: empty file"),
        ("2 16 480 3\n", r"bad\.txt:1: header must have 5 numbers"),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 0 1440\n2 2 2 3 -1 0 1440\n3 0 0 0 0 0 480 9\n",
            r"bad\.txt:5: node line needs 7 fields",
        ),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 0 1440\n2 2 x 3 -1 0 1440\n3 0 0 0 0 0 480\n",
            r"bad\.txt:4: node line must be numbers",
        ),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 90 10\n2 2 2 3 -1 0 1440\n3 0 0 0 0 0 480\n",
            r"bad\.txt:3: time window \[90\.0, 10\.0\] closes",
        ),
    ],
)
def test_malformed_instance_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InstanceError, match=message):
        parse_instance(bad)
    r = CliRunner().invoke(app, ["darp", "solve", str(bad), "--json"])
    assert r.exit_code == 2 and "Traceback" not in r.output
