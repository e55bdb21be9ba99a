"""The API against its own OpenAPI document: Schemathesis (all checks) over every operation, once with
an operator key, once with a company key and once with no key, on the demo app with a fixed clock.

    .venv/bin/python -m benchmarks.contract                   # full run: 30 examples an operation
    .venv/bin/python -m benchmarks.contract --max-examples 5  # CI: tests/noriai/test_contract.py

Writes benchmarks/results/contract.json (cases, failures and seconds per caller) and the JUnit
reports beside it. Rate limits are lifted for the run: they are tested on their own
(tests/noriai/test_guards.py), and a 429 would hide what the contract says about valid input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

RESULTS = Path(__file__).resolve().parent / "results"
CALLERS = {"operator": "demo-operator", "company": "demo-chuo-taxi", "none": None}
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
# The event stream never ends (server-sent events): it has its own tests.
EXCLUDE_PATHS = ("/api/v1/events",)


@dataclass
class CallerResult:
    caller: str
    exit_code: int
    operations: int
    failures: int  # operations with a failure (JUnit)
    cases: int  # test cases Schemathesis generated
    unique_failures: int
    seconds: float
    report: str
    tail: str


def _junit(path: Path) -> tuple[int, int]:
    """(test cases, failed or errored test cases) of a JUnit report."""
    if not path.exists():
        return 0, 0
    root = ET.parse(path).getroot()
    cases = root.iter("testcase")
    n = bad = 0
    for case in cases:
        n += 1
        if case.find("failure") is not None or case.find("error") is not None:
            bad += 1
    return n, bad


def run_contract(
    max_examples: int,
    out_dir: Path,
    phases: str = "examples,coverage,fuzzing",
    exclude_checks: tuple[str, ...] = (),
) -> list[CallerResult]:
    from noriai.demo import reference_data
    from noriai.settings import Settings
    from noriai.web import create_app
    from tests.servers import serve_in_thread

    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'contract.db'}",
            reoptimise_interval_s=0,
            rate_guest_booking="100000/minute",
            rate_guest_phone="100000/minute",
            rate_planner="100000/minute",
            rate_phone_code="100000/minute",
            guest_open_bookings_max=100000,
        )
        app = create_app(settings, reference_data(), clock=lambda: NOW)
        with serve_in_thread(app) as url:
            for caller, key in CALLERS.items():
                report = out_dir / f"contract-{caller}"
                for old in report.glob("*.xml"):  # the JUnit report read below is this run's
                    old.unlink()
                cmd = [
                    str(Path(sys.executable).with_name("schemathesis")),
                    "run",
                    f"{url}/openapi.json",
                    "--checks",
                    "all",
                    "--phases",
                    phases,
                    "--max-examples",
                    str(max_examples),
                    "--seed",
                    "20261123",
                    "--workers",
                    "1",
                    "--report",
                    "junit",
                    "--report-dir",
                    str(report),
                    "--request-timeout",
                    "60",
                    "--suppress-health-check",
                    "all",
                ]
                if exclude_checks:
                    cmd += ["--exclude-checks", ",".join(exclude_checks)]
                for p in EXCLUDE_PATHS:
                    cmd += ["--exclude-path", p]
                if key is not None:
                    cmd += ["-H", f"X-API-Key: {key}"]
                started = time.perf_counter()
                done = subprocess.run(
                    cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
                )
                seconds = time.perf_counter() - started
                junit = next(iter(sorted(report.glob("*.xml"))), report / "missing.xml")
                ops, bad = _junit(junit)
                out = done.stdout + done.stderr
                cases = re.search(r"^\s*(\d+) generated", out, re.M)
                unique = re.search(r"found (\d+) unique failure", out)
                results.append(
                    CallerResult(
                        caller,
                        done.returncode,
                        ops,
                        bad,
                        int(cases.group(1)) if cases else 0,
                        int(unique.group(1)) if unique else 0,
                        round(seconds, 1),
                        str(junit),
                        out[-6000:],
                    )
                )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-examples", type=int, default=30)
    ap.add_argument("--phases", default="examples,coverage,fuzzing")
    ap.add_argument("--exclude-checks", default="", help="comma-separated Schemathesis checks to skip")
    args = ap.parse_args()
    skip = tuple(c for c in args.exclude_checks.split(",") if c)
    results = run_contract(args.max_examples, RESULTS, args.phases, skip)
    print(f"{'caller':<10}{'operations':>11}{'cases':>8}{'failing ops':>12}{'unique':>8}{'seconds':>9}  exit")
    for r in results:
        print(
            f"{r.caller:<10}{r.operations:>11}{r.cases:>8}{r.failures:>12}{r.unique_failures:>8}"
            f"{r.seconds:>9}  {r.exit_code}"
        )
    summary = {
        "max_examples": args.max_examples,
        "phases": args.phases,
        "excluded_checks": list(skip),
        "results": [{k: v for k, v in asdict(r).items() if k != "tail"} for r in results],
    }
    (RESULTS / "contract.json").write_text(json.dumps(summary, indent=2) + "\n")
    for r in results:
        if r.exit_code != 0:
            print(f"--- {r.caller} ---\n{r.tail}")
    sys.exit(0 if all(r.exit_code == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
