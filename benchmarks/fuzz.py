"""Coverage-guided fuzzing of every feed parser (GTFS zip and tables, GTFS-RT, GBFS, the city bundle)
with atheris.

    .venv/bin/python benchmarks/fuzz.py [--runs 100000] [--target gtfs-rt ...] [--max-seconds 3600]

With ``--target``, the rows of the other targets already in the output file are kept (targets can be
run one at a time and still give one table).

Each target (``benchmarks/fuzz_targets.py``) runs in its own child process under libFuzzer, with our
packages instrumented for coverage, starting from seeds made from the demo feeds. An input passes when
the parser returns or raises our own error; any other exception stops that target and is reported
with the input saved under benchmarks/results/fuzz-crashes/. Prints a table (inputs, parsed, refused,
findings, coverage, inputs/s) and writes benchmarks/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, benchmarks/ comes first on the path, and benchmarks/planner.py would hide the planner
# package: the repository root replaces it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
INSTRUMENTED = [
    "gtfs",
    "bus_location",
    "bikeshare",
    "planner",
    "fares",
    "geo",
    "noriai.city",
    "dispatch.airport",
]


def child(name: str, inputs: int, counts_file: Path, argv: list[str]) -> None:
    """The libFuzzer process for one target. Counts outcomes into ``counts_file`` (every 1,000 inputs,
    and at ``inputs``, where it stops: libFuzzer's own exit skips Python's atexit)."""
    import atheris

    # imported here so that they are instrumented (the stubs lack instrument_imports)
    with atheris.instrument_imports(include=INSTRUMENTED):  # type: ignore[attr-defined]
        import bikeshare.gbfs  # noqa: F401
        import bus_location.snapshot  # noqa: F401
        import gtfs.loader  # noqa: F401
        import noriai.city.bundle  # noqa: F401
        import planner.trip  # noqa: F401
    from benchmarks.fuzz_targets import cleanup, one_input, targets

    target = targets()[name]
    counts = {"parsed": 0, "refused": 0}

    def test_one(data: bytes) -> None:
        counts["parsed" if one_input(target, data) else "refused"] += 1
        done = counts["parsed"] + counts["refused"]
        if done % 1000 == 0 or done >= inputs:
            counts_file.write_text(json.dumps(counts))
        if done >= inputs:
            cleanup()
            os._exit(0)

    atheris.Setup([sys.argv[0], *argv], test_one)
    atheris.Fuzz()


def run_target(name: str, runs: int, max_seconds: int, work: Path) -> dict[str, Any]:
    from benchmarks.fuzz_targets import targets

    target = targets()[name]
    corpus, seeds = work / f"{name}-corpus", work / f"{name}-seeds"
    crashes = RESULTS / "fuzz-crashes"
    for d in (corpus, seeds, crashes):
        d.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(target.seeds()):
        (seeds / f"seed-{i}").write_bytes(s)
    max_len = max(4096, *(len(s) for s in target.seeds()))
    counts_file = work / f"{name}-counts.json"
    argv = [
        f"-max_total_time={max_seconds}",
        f"-max_len={max_len}",
        "-rss_limit_mb=4096",
        f"-timeout={target.timeout_s}",
        f"-artifact_prefix={crashes}/{name}-",
        "-print_final_stats=1",
        str(corpus),
        str(seeds),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", name, str(runs), str(counts_file), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    secs = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    counts = json.loads(counts_file.read_text()) if counts_file.exists() else {"parsed": 0, "refused": 0}
    cov = re.findall(r"cov: (\d+) ft: (\d+)", out)
    corpus_size = re.findall(r"corp: (\d+)/", out)
    finding = None
    if "Uncaught Python exception" in out or proc.returncode != 0:
        tail = out[out.find("=== Uncaught Python exception") :] if "Uncaught" in out else out[-3000:]
        finding = tail[:3000]
    return {
        "target": name,
        "what": target.what,
        "inputs": counts["parsed"] + counts["refused"],
        "corpus": int(corpus_size[-1]) if corpus_size else None,
        "parsed": counts["parsed"],
        "refused_with_our_error": counts["refused"],
        "findings": 0 if finding is None else 1,
        "finding": finding,
        "coverage_edges": int(cov[-1][0]) if cov else None,
        "features": int(cov[-1][1]) if cov else None,
        "seconds": round(secs, 1),
        "inputs_per_s": round((counts["parsed"] + counts["refused"]) / secs, 1) if secs else None,
        "exit_code": proc.returncode,
    }


def main() -> None:
    if len(sys.argv) > 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5:])
        return
    from benchmarks.fuzz_targets import targets

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100_000, help="inputs per target")
    ap.add_argument("--target", action="append", choices=sorted(targets()), help="default: all")
    ap.add_argument("--max-seconds", type=int, default=3600, help="time limit per target")
    ap.add_argument("--jobs", type=int, default=1, help="targets fuzzed at the same time")
    ap.add_argument("--out", default=str(RESULTS / "fuzz.json"))
    args = ap.parse_args()
    rows = []
    print(
        f"{'target':<12} {'inputs':>8} {'parsed':>8} {'refused':>8} {'findings':>8} {'cov':>6} "
        f"{'inputs/s':>8} {'seconds':>8}",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="noriai-fuzz-") as tmp,
        ThreadPoolExecutor(max(1, args.jobs)) as pool,
    ):
        names = args.target or list(targets())
        runs = [pool.submit(run_target, name, args.runs, args.max_seconds, Path(tmp)) for name in names]
        for job in runs:
            r = job.result()
            rows.append(r)
            print(
                f"{r['target']:<12} {r['inputs']:>8} {r['parsed']:>8} {r['refused_with_our_error']:>8} "
                f"{r['findings']:>8} {r['coverage_edges'] or 0:>6} {r['inputs_per_s'] or 0:>8} "
                f"{r['seconds']:>8}",
                flush=True,
            )
            if r["finding"]:
                print(r["finding"], flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python -m benchmarks.fuzz", *sys.argv[1:]])
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for r in rows:
        r["command"], r["when"] = command, when
    if args.target and out.exists():  # keep the other targets' rows
        earlier = json.loads(out.read_text()).get("targets", [])
        ran = {r["target"] for r in rows}
        rows = [r for r in earlier if r["target"] not in ran] + rows
        rows.sort(key=lambda r: list(targets()).index(r["target"]) if r["target"] in targets() else 99)
    out.write_text(
        json.dumps(
            {
                "benchmark": "fuzz",
                "command": command,
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared, loaded)",
                "when": when,
                "targets": rows,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
