"""The ``noriai`` command (typer). Each subcommand is a thin shell over a package's public API.

Results go to stdout (JSON with ``--json``); progress and errors go to stderr, so output can be piped.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="noriai",
    help="Noriai (乗合): demand-responsive shared taxi and MaaS dispatch for Yamaguchi City.",
    no_args_is_help=True,
    add_completion=False,
)
darp_app = typer.Typer(
    help="Solve dial-a-ride (DARP) benchmark instances with the shared-taxi solver.", no_args_is_help=True
)
fare_app = typer.Typer(
    help="Quote fixed taxi fares (事前確定運賃), shared-ride fares and concessions.", no_args_is_help=True
)
gtfs_app = typer.Typer(help="Load and validate GTFS / GTFS-JP timetable feeds.", no_args_is_help=True)
sim_app = typer.Typer(
    help="Replay a day's demand through the real dispatch code to compare policies.", no_args_is_help=True
)
city_app = typer.Typer(
    help="Check and import a city bundle (docs/city-bundle.md): the city's places, zones, fleet, feeds.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="API keys: create, list, rotate and revoke (SECURITY.md).", no_args_is_help=True)
report_app = typer.Typer(help="Reports for the city: fares, concessions and vouchers.", no_args_is_help=True)
app.add_typer(city_app, name="city")
app.add_typer(report_app, name="report")
app.add_typer(keys_app, name="keys")
app.add_typer(darp_app, name="darp")
app.add_typer(fare_app, name="fare")
app.add_typer(gtfs_app, name="gtfs")
app.add_typer(sim_app, name="sim")

err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line to stderr and exit; never a traceback for expected bad input."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
    raise typer.Exit(code)


@app.command(help="Serve the web app: operator console, company view, trip planner and API.")
def serve(
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Import the built-in Yamaguchi demo city and seed its demo API keys"),
    ] = False,
    city: Annotated[
        str | None, typer.Option("--city", help="Import this city bundle folder first, then serve it")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    role: Annotated[
        str,
        typer.Option(
            help="all: API and background jobs (one process); api: requests only; "
            "runner: also a candidate for the background-jobs lease (needs REDIS_URL to share it)"
        ),
    ] = "all",
    workers: Annotated[
        int, typer.Option(help="API worker processes (PostgreSQL + Redis for more than 1)")
    ] = 1,
) -> None:
    import os

    import uvicorn

    from noriai.logs import configure_logging
    from noriai.settings import Settings
    from noriai.web import create_app

    if demo and city:
        fail("give --demo or --city DIR, not both")
    if role not in ("all", "api", "runner"):
        fail(f"--role must be all, api or runner (got {role!r})")
    if workers < 1:
        fail("--workers must be at least 1")
    os.environ["ROLE"] = role
    settings = Settings()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        fail("several workers need PostgreSQL (DATABASE_URL=postgresql+psycopg://...): SQLite is one writer")
    if workers > 1 and role != "api" and not settings.redis_url:
        fail("several workers share the background-jobs lease through Redis: set REDIS_URL or use --role api")
    configure_logging(settings.log_level, json_lines=settings.log_json)
    reference = None
    if demo:
        from noriai.demo import reference_data

        reference = reference_data()
    elif city:
        _import_city(city, settings.database_url)
    web = create_app(settings, reference)
    if workers > 1:
        # Migrations, the city and the keys are done once, here; each worker process builds its own app
        # from the environment and skips that (noriai.web.asgi).
        os.environ["NORIAI_DEMO"] = "1" if demo else "0"
        err.print(f"Noriai serving on http://{host}:{port} with {workers} workers (role {role})")
        uvicorn.run(
            "noriai.web.asgi:app",
            host=host,
            port=port,
            workers=workers,
            # a worker imports the whole stack before it answers the supervisor's ping (~10 s, far
            # more on a loaded machine); uvicorn's default of 5 s kills and restarts it forever
            timeout_worker_healthcheck=120,
            log_config=None,
            log_level=settings.log_level.lower(),
        )
        return
    err.print(
        f"Noriai serving on http://{host}:{port}  (database: {settings.database_url.split('://')[0]}, "
        f"live store: {'redis' if settings.redis_url else 'in-process'})"
    )
    if reference is not None:
        err.print(
            "Demo API keys: operator 'demo-operator'; companies "
            + ", ".join(f"'demo-{c.company_id}'" for c in reference.companies)
        )
    uvicorn.run(web, host=host, port=port, log_config=None, log_level=settings.log_level.lower())


def _print_issues(issues: list[object]) -> None:
    from noriai.city.issues import Issue

    for i in issues:
        assert isinstance(i, Issue)
        colour = "red" if i.severity == "error" else "yellow"
        err.print(f"[{colour}]{i.severity}:[/] {i}", highlight=False, soft_wrap=True, markup=True)


def _import_city(path: str, database_url: str) -> None:
    from dispatch.persistence import ImportRefused
    from noriai.city.commands import check, import_bundle

    bundle, issues = check(path)
    _print_issues(list(issues))
    if bundle is None:
        fail(f"{path}: {len(issues.errors)} error(s); nothing imported")
    try:
        report = import_bundle(bundle, database_url)
    except ImportRefused as exc:
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        fail(f"{path}: import refused; nothing was changed")
    parts = []
    for title, table in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        if table:
            parts.append(f"{title} " + ", ".join(f"{n} {k}" for k, n in sorted(table.items())))
    err.print(
        f"imported {bundle.city.name} ({bundle.city.name_en}): " + ("; ".join(parts) or "no change"),
        highlight=False,
        soft_wrap=True,
    )
    for kind, items in sorted(report.retired.items()):
        for item in items:
            err.print(f"[yellow]retired {kind[:-1]}:[/] {item}", highlight=False, soft_wrap=True)
    for item in report.kept:
        err.print(f"[yellow]kept:[/] {item}", highlight=False, soft_wrap=True)


@city_app.command("check", help="Check a city bundle; every problem as file:line [field]: message.")
def city_check(
    path: Annotated[str, typer.Argument(help="city bundle folder")],
    feeds: Annotated[bool, typer.Option(help="also load and check each local GTFS feed")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the issues as JSON")] = False,
) -> None:
    import json
    from dataclasses import asdict

    from noriai.city.commands import check

    bundle, issues = check(path, feeds=feeds)
    if as_json:
        print(json.dumps([asdict(i) for i in issues], ensure_ascii=False, indent=1))
    else:
        for i in issues:
            print(f"{i.severity}: {i}")
    summary = f"{path}: {len(issues.errors)} error(s), {len(issues.warnings)} warning(s)"
    if bundle is not None:
        ref = bundle.reference
        summary += (
            f"; {len(ref.places)} places, {len(ref.zones)} zones, {len(ref.companies)} companies, "
            f"{sum(len(c.vehicles) for c in ref.companies)} vehicles, {len(ref.riders)} riders, "
            f"{len(bundle.city.feeds)} GTFS feed(s)"
        )
    err.print(summary, highlight=False, soft_wrap=True)
    raise typer.Exit(2 if issues.errors else 0)


@city_app.command(
    "import", help="Check a city bundle and load or update it in the database (one transaction)."
)
def city_import(path: Annotated[str, typer.Argument(help="city bundle folder")]) -> None:
    from noriai.settings import Settings

    _import_city(path, Settings().database_url)


@keys_app.command("create", help="Create an API key; it is printed once and stored only as a digest.")
def keys_create(
    role: Annotated[str, typer.Option(help="operator | company")],
    company: Annotated[str | None, typer.Option(help="company_id (company keys)")] = None,
    label: Annotated[str | None, typer.Option(help="who holds the key (shown in the audit trail)")] = None,
) -> None:
    from noriai.city.commands import CityCommandError, create_key
    from noriai.settings import Settings

    try:
        new = create_key(Settings().database_url, role, company, label)
    except CityCommandError as exc:
        fail(str(exc))
    print(new.key)
    err.print(
        f"created a {new.role} key ({new.label}); it is shown only now: store it safely",
        highlight=False,
        soft_wrap=True,
    )


@fare_app.command("quote", help="Quote the fixed fare for a taxi trip (and each rider's share when pooled).")
def fare_quote(
    from_: Annotated[str, typer.Option("--from", help="pickup LAT,LON")],
    to: Annotated[str, typer.Option("--to", help="drop-off LAT,LON")],
    at: Annotated[str, typer.Option("--at", help="pickup time, local ISO (YYYY-MM-DDTHH:MM, Asia/Tokyo)")],
    passengers: Annotated[int, typer.Option(help="riders in this party")] = 1,
    shared_with: Annotated[
        list[str] | None,
        typer.Option("--shared-with", help="another rider's PICKUP_LAT,LON:DROPOFF_LAT,LON (repeatable)"),
    ] = None,
    concession: Annotated[str | None, typer.Option(help="disability | elderly | child")] = None,
    vehicle_class: Annotated[str | None, typer.Option(help="small | medium | jumbo | welfare")] = None,
    vouchers: Annotated[int, typer.Option(help="group-taxi vouchers presented")] = 0,
    tariff: Annotated[str | None, typer.Option(help="tariff TOML (default: the demo tariff)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    import json
    from datetime import datetime

    from fares import FareError, TariffError
    from geo import LatLon
    from noriai.fare_cli import FareCliError, run_fare_quote

    try:
        pickup = LatLon.parse(from_)
        dropoff = LatLon.parse(to)
        when = datetime.fromisoformat(at)
    except ValueError as exc:
        fail(str(exc))
    try:
        result = run_fare_quote(
            pickup,
            dropoff,
            when,
            passengers=passengers,
            shared_with=shared_with or [],
            concession=concession,
            vehicle_class=vehicle_class,
            vouchers=vouchers,
            tariff_path=tariff,
        )
    except (FareCliError, FareError, TariffError) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"事前確定運賃 / Fixed fare: ¥{result['total_yen']:,}")
    table.add_column("項目 / item")
    table.add_column("円 / yen", justify="right")
    for line in result["breakdown"]:
        table.add_row(f"{line['label_ja']} / {line['label_en']}", f"{line['amount_yen']:,}")
    Console().print(table)
    for r in result.get("shared", []):
        Console().print(f"  rider {r['rider']}: ¥{r['total_yen']:,} (solo ¥{r['solo_total_yen']:,})")


@darp_app.command("solve", help="Solve one Cordeau-format instance and print the routes.")
def darp_solve(
    path: Annotated[str, typer.Argument(help="instance file (Cordeau 2006 or Cordeau-Laporte 2003 layout)")],
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds of search")] = 10.0,
    seed: Annotated[int, typer.Option(help="seed for the search")] = 0,
    workers: Annotated[int, typer.Option(help="parallel searches, one per core, best wins")] = 2,
    method: Annotated[
        str, typer.Option(help="lns (default), ortools (construction + OR-Tools), plain (OR-Tools alone)")
    ] = "lns",
    as_json: Annotated[bool, typer.Option("--json", help="print the contract JSON on stdout")] = False,
) -> None:
    import json

    from solver import check, solve
    from solver.api import METHODS
    from solver.cordeau import InstanceError, parse_instance

    if time_limit <= 0:
        fail("--time-limit must be > 0")
    if method not in METHODS:
        fail(f"--method must be one of {', '.join(METHODS)}, not {method!r}")
    try:
        inst = parse_instance(path)
    except InstanceError as exc:
        fail(str(exc))
    problem = inst.to_problem()
    err.print(f"solving {inst.name}: {inst.n} requests, {inst.vehicles} vehicles, {time_limit:g} s ...")
    result = solve(
        problem,
        time_limit_s=time_limit,
        seed=seed,
        workers=max(1, workers),
        method=method,  # narrowed to a Method by the check against METHODS above
    )
    violations = check(problem, result)
    out = inst.to_json(result)
    err.print(
        f"cost {out['cost']}, unserved {len(result.unassigned)}, "
        f"{'feasible' if not violations else f'{len(violations)} violations'}, {result.runtime_s:.1f} s"
    )
    if as_json:
        print(json.dumps(out))
    else:
        for r in out["routes"]:  # type: ignore[attr-defined]
            print(f"vehicle {r['vehicle']}: " + " ".join(str(s["node"]) for s in r["stops"]))
        print(f"cost {out['cost']}")


@app.command(help="Plan a journey over bus, rail, walking, bike share and the shared taxi.")
def plan(
    gtfs: Annotated[list[str], typer.Option("--gtfs", help="GTFS feed zip or folder (repeatable)")],
    depart: Annotated[str, typer.Option("--depart", help="YYYY-MM-DDTHH:MM, local time of the first feed")],
    from_stop: Annotated[str | None, typer.Option("--from-stop", help="origin stop_id")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="origin LAT,LON")] = None,
    to_stop: Annotated[str | None, typer.Option("--to-stop", help="destination stop_id")] = None,
    to: Annotated[str | None, typer.Option("--to", help="destination LAT,LON")] = None,
    gtfs_rt: Annotated[
        list[str] | None, typer.Option("--gtfs-rt", help="GTFS-Realtime file (repeatable)")
    ] = None,
    gbfs: Annotated[str | None, typer.Option("--gbfs", help="GBFS folder or gbfs.json URL")] = None,
    max_walk_m: Annotated[float, typer.Option("--max-walk-m", help="longest walk, metres")] = 400.0,
    min_transfer_s: Annotated[
        int, typer.Option("--min-transfer-s", help="change time between vehicles")
    ] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    import json

    from noriai.plan_cli import PlanCliError, run_plan

    if (from_stop is None) == (from_ is None):
        fail("give exactly one of --from-stop and --from")
    if (to_stop is None) == (to is None):
        fail("give exactly one of --to-stop and --to")
    try:
        result = run_plan(
            gtfs,
            depart,
            from_stop=from_stop,
            from_point=from_,
            to_stop=to_stop,
            to_point=to,
            gtfs_rt=gtfs_rt or [],
            gbfs=gbfs,
            max_walk_m=max_walk_m,
            min_transfer_s=min_transfer_s,
            warn=lambda m: err.print(f"[yellow]warning:[/] {m}", highlight=False, soft_wrap=True),
        )
    except PlanCliError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    if not result["journeys"]:
        print("no journey found / 経路が見つかりません")
    for j in result["journeys"]:
        print(f"{j['departure'][11:16]} -> {j['arrival'][11:16]}  transfers {j['transfers']}")
        for leg in j["legs"]:
            print(
                f"   {leg['mode']:<4} {leg['departure'][11:16]} {leg['from']['name']} -> "
                f"{leg['arrival'][11:16]} {leg['to']['name']} {leg['route'] or ''}"
            )


@gtfs_app.command("flex-export", help="Write the shared-taxi service as a GTFS-Flex feed (zip).")
def gtfs_flex_export(
    out: Annotated[str, typer.Argument(help="zip file to write")],
    base_url: Annotated[str, typer.Option(help="public URL of this server")] = "http://127.0.0.1:8000",
) -> None:
    from datetime import datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from gtfs.flex import flex_zip
    from noriai.demo import reference_data
    from noriai.flex_export import shared_taxi_flex
    from noriai.settings import Settings

    service = shared_taxi_flex(
        reference_data(),
        booking_phone=Settings().booking_phone,
        base_url=base_url.rstrip("/"),
        today=datetime.now(ZoneInfo("Asia/Tokyo")).date(),
    )
    try:
        Path(out).write_bytes(flex_zip(service))
    except OSError as exc:
        fail(f"{out}: cannot write: {exc}")
    err.print(f"wrote {out}: GTFS-Flex with {len(service.zones)} zone(s)")


@gtfs_app.command("validate", help="Validate GTFS / GTFS-JP feeds; errors and warnings with file and line.")
def gtfs_validate(
    feeds: Annotated[list[str], typer.Argument(help="feed zip files or folders")],
    as_json: Annotated[bool, typer.Option("--json", help="print issues as JSON")] = False,
    max_mb: Annotated[
        int, typer.Option("--max-mb", min=1, help="refuse a feed whose files expand past this many MiB")
    ] = 256,
) -> None:
    import json
    import time
    from dataclasses import replace

    from rich.markup import escape

    from gtfs.loader import inspect_feed
    from gtfs.tables import DEFAULT_BUDGET, MIB, FeedError

    budget = replace(DEFAULT_BUDGET, max_total_bytes=max_mb * MIB, max_member_bytes=max_mb * MIB)
    errors = 0
    report: list[dict[str, object]] = []
    for path in feeds:
        t0 = time.monotonic()
        try:
            feed = inspect_feed(path, budget=budget)
        except FeedError as exc:
            errors += 1
            report.append({"feed": path, "fatal": str(exc), "issues": []})
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        except Exception as exc:  # a loader bug: still one line, never a traceback (the fuzzers hunt these)
            errors += 1
            report.append({"feed": path, "fatal": f"internal error: {type(exc).__name__}", "issues": []})
            err.print(f"error: {path}: internal error ({type(exc).__name__}); please report it", markup=False)
            continue
        secs = time.monotonic() - t0
        issues = feed.issues
        errors += len(feed.errors())
        report.append(
            {
                "feed": path,
                "stops": len(feed.stops),
                "trips": len(feed.trips),
                "stop_times": len(feed.st_trip),
                "load_s": round(secs, 3),
                "issues": [
                    {
                        "severity": i.severity.value,
                        "file": i.file,
                        "line": i.line,
                        "field": i.field,
                        "message": i.message,
                    }
                    for i in issues
                ],
            }
        )
        if not as_json:
            for i in issues:
                print(f"{path}: {i}")
            print(
                f"{path}: {len(feed.stops)} stops, {len(feed.trips)} trips, {len(feed.st_trip)} stop times, "
                f"{len(feed.errors())} errors, {len(feed.warnings())} warnings ({secs:.2f} s)"
            )
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    raise typer.Exit(1 if errors else 0)


def _sim_progress(label: str) -> tuple[object, object]:
    """A rich progress bar on stderr (stdout stays for the JSON)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )
    task = bar.add_task(label, total=None)
    return bar, task


@sim_app.command("run", help="Simulate one day of demand through the real dispatch code; print the KPIs.")
def sim_run(
    scenario: Annotated[str | None, typer.Option("--scenario", help="scenario TOML file")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="the built-in Yamaguchi weekday scenario")] = False,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    requests: Annotated[int | None, typer.Option(help="requests in the day (synthetic demand)")] = None,
    speed_noise: Annotated[
        float | None,
        typer.Option("--speed-noise", help="lognormal sigma of leg times; 0 = the road is the model"),
    ] = None,
    vehicles: Annotated[int | None, typer.Option(help="fleet size (sedans added or removed)")] = None,
    window_s: Annotated[int | None, typer.Option("--window-s", help="pickup window length, seconds")] = None,
    max_ride_factor: Annotated[
        float | None, typer.Option(help="max ride time = factor x direct + extra")
    ] = None,
    shared: Annotated[bool | None, typer.Option("--shared/--no-shared", help="riders may be pooled")] = None,
    out: Annotated[str | None, typer.Option(help="folder for kpis.json, kpis.csv, requests.csv")] = None,
    report: Annotated[
        bool, typer.Option("--report", help="also write report.html with plots (needs --out)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result JSON on stdout")] = False,
) -> None:
    import json
    from pathlib import Path

    from noriai.sim_cli import SimCliError, run_day, scenario_from

    if report and out is None:
        fail("--report needs --out FOLDER")
    try:
        sc = scenario_from(scenario, demo).with_overrides(
            requests=requests,
            speed_noise=speed_noise,
            vehicles=vehicles,
            pickup_window_s=window_s,
            max_ride_factor=max_ride_factor,
            shared=shared,
        )
    except SimCliError as exc:
        fail(str(exc))
    except ValueError as exc:  # pydantic: an override out of range
        fail(f"invalid option: {str(exc).splitlines()[-1] if str(exc) else exc}")
    bar, task = _sim_progress("simulating")

    def progress(_what: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)  # type: ignore[attr-defined]

    try:
        with bar:  # type: ignore[attr-defined]
            result = run_day(sc, seed=seed, out=Path(out) if out else None, report=report, progress=progress)
    except SimCliError as exc:
        fail(str(exc))
    k = result["kpis"]
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"{result['scenario']} {result['service_date']} seed {result['seed']}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, value in k.items():
        if not isinstance(value, dict):
            table.add_row(key, str(value))
    Console().print(table)
    err.print(f"not served: {k['refused_by_reason']}; audit clean: {result['audit']['clean']}")
    if out:
        err.print(f"wrote {out}")


@sim_app.command(
    "sweep", help="Run a grid of scenarios as tasks on Dask distributed; one table and a Pareto plot."
)
def sim_sweep(
    scenario: Annotated[str | None, typer.Option("--scenario", help="scenario TOML file")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="the built-in Yamaguchi weekday scenario")] = False,
    requests: Annotated[int | None, typer.Option(help="requests per simulated day")] = None,
    vehicles: Annotated[str | None, typer.Option(help="fleet sizes, e.g. 6,8,10")] = None,
    window_s: Annotated[
        str | None, typer.Option("--window-s", help="pickup windows (s), e.g. 600,900")
    ] = None,
    max_ride_factor: Annotated[str | None, typer.Option(help="max ride factors, e.g. 1.3,1.5")] = None,
    shared: Annotated[str | None, typer.Option(help="sharing on/off, e.g. true,false")] = None,
    speed_noise: Annotated[
        str | None, typer.Option("--speed-noise", help="noise sigmas, e.g. 0,0.15")
    ] = None,
    seeds: Annotated[str, typer.Option(help="seeds, e.g. 1,2,3")] = "1",
    workers: Annotated[int, typer.Option(help="LocalCluster worker processes")] = 2,
    address: Annotated[
        str | None,
        typer.Option(help="join a running Dask scheduler (tcp://host:8786) instead of a LocalCluster"),
    ] = None,
    out: Annotated[str | None, typer.Option(help="folder for sweep.csv, sweep.json, pareto.png")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the list of results on stdout")] = False,
) -> None:
    import json
    from pathlib import Path

    from noriai.sim_cli import SimCliError, parse_bool, parse_list, run_sweep, scenario_from

    if workers < 1:
        fail("--workers must be >= 1")
    try:
        sc = scenario_from(scenario, demo).with_overrides(requests=requests)
        axes = {
            "vehicles": parse_list(vehicles, int, "--vehicles"),
            "pickup_window_s": parse_list(window_s, int, "--window-s"),
            "max_ride_factor": parse_list(max_ride_factor, float, "--max-ride-factor"),
            "shared": parse_list(shared, parse_bool, "--shared"),
            "speed_noise": parse_list(speed_noise, float, "--speed-noise"),
        }
        seed_list = parse_list(seeds, int, "--seeds") or [sc.scenario.seed]
    except SimCliError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"invalid option: {exc}")
    bar, task = _sim_progress("sweep")

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)  # type: ignore[attr-defined]

    try:
        with bar:  # type: ignore[attr-defined]
            results, facts = run_sweep(
                sc,
                {k: v for k, v in axes.items() if v},
                seed_list,
                address=address,
                workers=workers,
                out=Path(out) if out else None,
                progress=progress,
            )
    except SimCliError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot reach the Dask scheduler: {exc}")
    err.print(
        f"{facts['tasks']} days on {facts['workers']} worker(s) ({facts['scheduler']}) in {facts['wall_s']} s"
    )
    if as_json:
        print(json.dumps(results, ensure_ascii=False))
        return
    from rich.table import Table

    from sim.sweep import table_rows

    rows = table_rows(results)
    table = Table(title="sweep")
    for col in rows[0] if rows else []:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)


@report_app.command(
    "monthly",
    help="Per company: the month's rides, fares, concessions and vouchers (what the city reimburses).",
)
def report_monthly(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    company: Annotated[str | None, typer.Option(help="one company id (default: all)")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="one CSV line per ride instead of the totals")] = False,
) -> None:
    from dispatch.domain import Principal
    from dispatch.errors import DispatchError
    from dispatch.persistence import create_db_engine, migrate
    from dispatch.persistence.reference import load_reference_data
    from dispatch.persistence.repository import Repository
    from dispatch.reports import monthly_report, report_csv
    from noriai.settings import Settings

    engine = create_db_engine(Settings().database_url)
    migrate(engine)
    names = {c.company_id: c.name for c in load_reference_data(engine).companies}
    try:
        reports = monthly_report(Repository(engine), Principal("operator", "cli"), month, names, company)
    except DispatchError as exc:
        fail(f"{exc.message_en} / {exc.message_ja}")
    if csv:
        print(report_csv(reports), end="")
        return
    cols = ("rides", "fare_yen", "concession_yen", "vouchers", "voucher_yen", "paid_yen", "reimbursed_yen")
    print(f"{'company':<16} " + " ".join(f"{c:>14}" for c in cols))
    for r in reports:
        t = r.totals()
        print(f"{r.company_id:<16} " + " ".join(f"{t[c]:>14,}" for c in cols))


def main() -> None:  # pragma: no cover - console entry point
    app()


@keys_app.command("list", help="The API keys: digest prefix, holder, role, created, expires, revoked.")
def keys_list() -> None:
    from noriai.keys_cli import list_keys
    from noriai.settings import Settings

    def t(x: object) -> str:
        return x.isoformat(timespec="minutes") if hasattr(x, "isoformat") else "-"

    for k in list_keys(Settings().database_url):
        print(
            f"{k.digest_prefix}  {k.label:<20} {k.role:<9} {k.company_id or '-':<16} "
            f"created {t(k.created_at)}  expires {t(k.expires_at)}  revoked {t(k.revoked_at)}"
        )


@keys_app.command(
    "rotate", help="A new key for the holder LABEL; the old ones keep working for --grace-hours."
)
def keys_rotate(
    label: Annotated[str, typer.Argument(help="the key holder's label (see `noriai keys list`)")],
    grace_hours: Annotated[float, typer.Option(min=0, max=24 * 30, help="old keys work this long")] = 24,
) -> None:
    from datetime import timedelta

    from noriai.keys_cli import KeyCommandError, rotate_key
    from noriai.settings import Settings

    try:
        r = rotate_key(Settings().database_url, label, timedelta(hours=grace_hours))
    except KeyCommandError as exc:
        fail(str(exc))
    print(r.key)
    err.print(
        f"new {r.principal.role} key for {label}; shown only now: store it safely. "
        f"{r.old_keys} old key(s) work until {r.old_valid_until.isoformat(timespec='minutes')}",
        highlight=False,
    )


@keys_app.command("revoke", help="End every key of the holder LABEL now (a lost or leaked key).")
def keys_revoke(label: Annotated[str, typer.Argument(help="the key holder's label")]) -> None:
    from noriai.keys_cli import KeyCommandError, revoke_keys
    from noriai.settings import Settings

    try:
        n = revoke_keys(Settings().database_url, label)
    except KeyCommandError as exc:
        fail(str(exc))
    err.print(f"revoked {n} key(s) of {label}", highlight=False)
