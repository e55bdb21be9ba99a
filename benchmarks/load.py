"""Prefecture-scale load test: several API workers on PostgreSQL and Redis, measured with locust.

    .venv/bin/python benchmarks/load.py [--workers 1,2,4] [--operators 20] [--duration-s 60]
        [--vehicles 1000] [--history 20000] [--seed-bookings 2000] [--think-s 1,3]

A synthetic Yamaguchi Prefecture: its 19 municipalities as service areas (discs around each town
hall, approximate coordinates), 1,000 vehicles shared out by population, one company per area whose
vehicles serve only their own area, 100 riders per area. The database (a real PostgreSQL started
here) holds ``--history`` finished bookings over the previous 20 days; tomorrow's plans are seeded
through the real dispatch service with ``--seed-bookings`` bookings (the advance bookings a call
centre holds by the morning peak); then, for each worker count, a fresh copy of that database is
served by ``noriai serve --role api --workers N`` (+ Redis) and ``--operators`` locust users book
rides for tomorrow (quote, then confirm the first option) for ``--duration-s``. Prints a table (rps,
p50 / p95 / p99 of quote and confirm, errors) and the largest area's re-optimisation time, and writes
benchmarks/results/load.json. Times are this machine's: say how loaded it was when you quote them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from dispatch.booking import Booking, BookingStatus, TimeMode, TimeRequest  # noqa: E402
from dispatch.domain import (  # noqa: E402
    Company,
    Consent,
    MobilityNeeds,
    Rider,
    Shift,
    Vehicle,
    VehicleKind,
    Zone,
    ZoneKind,
)
from geo import LatLon, ServiceZone  # noqa: E402

# name, name_en, lat, lon, population (thousands, rounded; 2020 census order of magnitude)
MUNICIPALITIES = [
    ("下関市", "Shimonoseki", 33.958, 130.941, 255),
    ("宇部市", "Ube", 33.952, 131.247, 162),
    ("山口市", "Yamaguchi", 34.178, 131.474, 193),
    ("萩市", "Hagi", 34.408, 131.399, 44),
    ("防府市", "Hofu", 34.052, 131.563, 114),
    ("下松市", "Kudamatsu", 34.015, 131.870, 57),
    ("岩国市", "Iwakuni", 34.167, 132.219, 130),
    ("光市", "Hikari", 33.962, 131.942, 50),
    ("長門市", "Nagato", 34.371, 131.182, 32),
    ("柳井市", "Yanai", 33.964, 132.101, 31),
    ("美祢市", "Mine", 34.167, 131.206, 23),
    ("周南市", "Shunan", 34.055, 131.806, 138),
    ("山陽小野田市", "Sanyo-Onoda", 34.003, 131.182, 61),
    ("周防大島町", "Suo-Oshima", 33.928, 132.195, 15),
    ("和木町", "Waki", 34.202, 132.220, 6),
    ("上関町", "Kaminoseki", 33.829, 132.108, 3),
    ("田布施町", "Tabuse", 33.955, 132.041, 15),
    ("平生町", "Hirao", 33.938, 132.074, 12),
    ("阿武町", "Abu", 34.505, 131.467, 3),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.bindir = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])

    def _as_owner(self, args: list[str]) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            args = ["su", "postgres", "-c", " ".join(f"'{a}'" for a in args)]
        subprocess.run(args, check=True, capture_output=True)

    def start(self) -> None:
        data = self.workdir / "data"
        self._as_owner([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"])
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir} -c max_connections=300"
        self._as_owner(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.workdir / "log"),
                "-o",
                opts,
                "-w",
                "start",
            ]
        )

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute(sql.encode())

    def stop(self) -> None:
        pid = self.workdir / "data" / "postmaster.pid"
        if pid.exists():
            os.kill(int(pid.read_text().splitlines()[0]), signal.SIGINT)


def start_redis(workdir: Path) -> tuple[str, Path]:
    port = free_port()
    pidfile = workdir / "redis.pid"
    subprocess.run(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(workdir / "redis.log"),
        ],
        check=True,
    )
    return f"redis://127.0.0.1:{port}/0", pidfile


def prefecture(vehicles: int, rng: random.Random) -> tuple[Any, list[dict[str, Any]]]:
    """Reference data for the 19 areas and the locust plan (riders and centre per area)."""
    from noriai.demo import reference_data

    base = reference_data()
    total = sum(m[4] for m in MUNICIPALITIES)
    companies, zones, riders, areas = [], [], [], []
    for i, (name, name_en, lat, lon, pop) in enumerate(MUNICIPALITIES):
        area_id = f"area-{i:02d}"
        centre = LatLon(lat, lon)
        zones.append(Zone(ServiceZone.from_disk(area_id, name, centre, 6000), ZoneKind.DISTRICT, name_en))
        n = max(5, round(vehicles * pop / total))
        fleet = tuple(
            Vehicle(
                f"{area_id}-v{v:03d}",
                f"taxi-{area_id}",
                VehicleKind.WELFARE if v % 10 == 9 else VehicleKind.SEDAN,
                f"山口{i}{v}",
                3 if v % 10 == 9 else 4,
                1 if v % 10 == 9 else 0,
                Shift(dtime(7), dtime(19)),
                frozenset({"ramp", "wheelchair"}) if v % 10 == 9 else frozenset(),
            )
            for v in range(n)
        )
        companies.append(
            Company(
                f"taxi-{area_id}",
                f"{name}交通（合成）",
                f"{name_en} Taxi (synthetic)",
                "083-000-0000",
                "営業所",
                centre,
                fleet,
            )
        )
        ids = []
        for r in range(100):
            rid = f"P{i:02d}{r:03d}"
            ids.append(rid)
            home = LatLon(lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.025, 0.025))
            riders.append(
                Rider(
                    rid,
                    f"利用者{rid}",
                    "りようしゃ",
                    f"083-9{i:02d}-{r:04d}",
                    home,
                    name,
                    1945,
                    MobilityNeeds(),
                    False,
                    False,
                    Consent(False),
                )
            )
        areas.append({"area_id": area_id, "centre": [lat, lon], "riders": ids, "vehicles": n})
    # the whole prefecture is served: no city service area (the demo's is Yamaguchi City), no feeds
    city = base.city and replace(
        base.city,
        name="山口県（合成）",
        name_en="Yamaguchi Prefecture (synthetic)",
        service_area=None,
        feeds=(),
        gbfs_url=None,
        airport=None,
    )
    ref = replace(base, companies=tuple(companies), zones=tuple(zones), riders=tuple(riders), city=city)
    return ref, areas


def history(engine: Any, areas: list[dict[str, Any]], n: int, day: date, rng: random.Random) -> None:
    """``n`` finished bookings over the 20 days before ``day`` (bulk rows; they only fill the tables)."""
    from dispatch.persistence.repository import Repository

    repo = Repository(engine, engine)
    now = datetime.now(UTC)
    with repo.write() as tx:
        for k in range(n):
            a = rng.choice(areas)
            lat, lon = a["centre"]
            pick = rng.randrange(7 * 3600, 18 * 3600)
            tx.save_booking(
                Booking(
                    booking_id=f"H{k:06d}",
                    rider_id=rng.choice(a["riders"]),
                    service_date=day - timedelta(days=1 + k % 20),
                    status=BookingStatus.DROPPED_OFF,
                    created_at=now,
                    updated_at=now,
                    origin_label="自宅",
                    origin_lat=lat + rng.uniform(-0.02, 0.02),
                    origin_lon=lon + rng.uniform(-0.02, 0.02),
                    dest_label="目的地",
                    dest_lat=lat,
                    dest_lon=lon,
                    time_mode="pickup_after",
                    time_s=pick,
                    vehicle_id=f"{a['area_id']}-v000",
                    company_id=f"taxi-{a['area_id']}",
                    planned_pickup_s=pick,
                    planned_dropoff_s=pick + 900,
                    picked_up_at_s=pick,
                    dropped_off_at_s=pick + 900,
                    fare_yen=1500,
                )
            )


def seed_day(url: str, areas: list[dict[str, Any]], n: int, day: date, rng: random.Random) -> float:
    """Book ``n`` rides for ``day`` through the real dispatch service (quote + confirm)."""
    from dispatch.domain import Principal
    from dispatch.errors import Conflict
    from dispatch.persistence import create_db_engine
    from dispatch.persistence.reference import load_reference_data
    from dispatch.persistence.repository import Repository
    from dispatch.service import DispatchService, Endpoint, EndpointKind, QuoteRequest
    from fares import load_tariff
    from geo import StraightLineModel
    from noriai.demo import TARIFF_PATH

    engine = create_db_engine(url)
    svc = DispatchService(
        Repository(engine, reader := create_db_engine(url, read_only=True)),
        load_reference_data(engine),
        load_tariff(TARIFF_PATH),
        StraightLineModel(),
    )
    op = Principal("operator", "seed")
    booked, t0 = 0, time.monotonic()
    for k in range(n * 2):
        if booked >= n:
            break
        a = rng.choice(areas)
        lat, lon = a["centre"]
        minute = rng.randrange(8 * 60, 17 * 60 + 30)
        mode = TimeMode.ARRIVE_BY if k % 2 else TimeMode.PICKUP_AFTER
        q = svc.quote(
            op,
            QuoteRequest(
                rng.choice(a["riders"]),
                Endpoint(EndpointKind.HOME),
                Endpoint(
                    EndpointKind.POINT,
                    point=LatLon(lat + rng.uniform(-0.025, 0.025), lon + rng.uniform(-0.03, 0.03)),
                ),
                day,
                TimeRequest(mode, minute * 60),
            ),
        )
        if q.state is BookingStatus.QUOTED:
            try:
                svc.confirm(op, q.booking_id, 0)
            except Conflict:  # e.g. the same rider's overlapping trip (duplicate_booking): not booked
                continue
            booked += 1
        if k % 200 == 199:
            print(f"  seeding {day}: {booked} bookings ({time.monotonic() - t0:.0f} s)", flush=True)
    engine.dispose()
    reader.dispose()  # (a connection left open would keep the template database busy)
    return time.monotonic() - t0


def run_locust(url: str, plan: Path, users: int, duration_s: int, out: Path) -> dict[str, Any]:
    env = {**os.environ, "NORIAI_LOAD_PLAN": str(plan)}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            "--headless",
            "--host",
            url,
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{duration_s}s",
            "--csv",
            str(out),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        check=False,
        capture_output=True,
    )
    with open(f"{out}_stats.csv", encoding="utf-8") as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}

    def pct(name: str, col: str) -> float | None:
        r = rows.get(name)
        return float(r[col]) if r and r[col] not in ("", "N/A") else None

    return {
        name: {
            "requests": int(rows[name]["Request Count"]) if name in rows else 0,
            "failures": int(rows[name]["Failure Count"]) if name in rows else 0,
            "rps": round(float(rows[name]["Requests/s"]), 2) if name in rows else 0.0,
            "p50_ms": pct(name, "50%"),
            "p95_ms": pct(name, "95%"),
            "p99_ms": pct(name, "99%"),
        }
        for name in ("quote", "confirm", "Aggregated")
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--operators", type=int, default=20)
    ap.add_argument("--duration-s", type=int, default=60)
    ap.add_argument("--vehicles", type=int, default=1000)
    ap.add_argument("--history", type=int, default=20000)
    ap.add_argument("--seed-bookings", type=int, default=2000)
    ap.add_argument("--think-s", default="1,3", help="operator think time between calls, MIN,MAX seconds")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="noriai-load-"))
    tmp.chmod(0o755)  # the postgres user must reach its data folder inside (mkdtemp makes it 0700)
    pg = Postgres(tmp / "pg")
    (tmp / "pg").mkdir()
    pg.start()
    redis_url, redis_pid = start_redis(tmp)
    day = (datetime.now(UTC) + timedelta(hours=9)).date() + timedelta(days=1)  # tomorrow in Tokyo
    results: dict[str, Any] = {"day": day.isoformat(), "args": vars(args), "runs": []}
    try:
        from dispatch.persistence import create_db_engine, migrate, store_reference_data

        ref, areas = prefecture(args.vehicles, rng)
        pg.admin('CREATE DATABASE "template_pref"')
        engine = create_db_engine(pg.url("template_pref"))
        migrate(engine)
        store_reference_data(engine, ref)
        t = time.monotonic()
        history(engine, areas, args.history, day, rng)
        print(f"history: {args.history} finished bookings in {time.monotonic() - t:.0f} s", flush=True)
        engine.dispose()
        seed_s = seed_day(pg.url("template_pref"), areas, args.seed_bookings, day, rng)
        results["seed_s"] = round(seed_s, 1)
        results["vehicles"] = sum(a["vehicles"] for a in areas)
        results["largest_area_reoptimise_s"] = reoptimise_largest(pg.url("template_pref"), areas, day)
        think = [float(x) for x in args.think_s.split(",")]
        plan = tmp / "plan.json"
        plan.write_text(
            json.dumps(
                {
                    "areas": areas,
                    "day": day.isoformat(),
                    "first_minute": 8 * 60,
                    "api_key": "load-operator",
                    "think_min_s": think[0],
                    "think_max_s": think[1],
                }
            )
        )
        for n in [int(x) for x in args.workers.split(",")]:
            db = f"run_w{n}"
            pg.admin(f'CREATE DATABASE "{db}" TEMPLATE "template_pref"')
            port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": pg.url(db),
                "REDIS_URL": redis_url,
                "REOPTIMISE_INTERVAL_S": "0",
                "OPERATOR_API_KEY": "load-operator",
                "LOG_LEVEL": "WARNING",
                "DB_POOL_SIZE": "5",
                "DB_MAX_OVERFLOW": "10",
            }
            log_file = (tmp / f"server_w{n}.log").open("w")  # open while the server runs
            server = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "noriai"),
                    "serve",
                    "--role",
                    "api",
                    "--workers",
                    str(n),
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
            )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            else:
                raise SystemExit(f"server with {n} workers did not start; see {tmp}/server_w{n}.log")
            print(f"workers={n}: {args.operators} operators for {args.duration_s} s ...", flush=True)
            stats = run_locust(url, plan, args.operators, args.duration_s, tmp / f"locust_w{n}")
            audit = httpx.get(
                f"{url}/api/v1/days/{day}/check", headers={"X-API-Key": "load-operator"}, timeout=120
            ).json()
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            results["runs"].append({"workers": n, "stats": stats, "day_audit_ok": audit.get("ok")})
    finally:
        pg.stop()
        if redis_pid.exists():
            os.kill(int(redis_pid.read_text().strip()), signal.SIGTERM)
    print(
        f"\nprefecture: {results['vehicles']} vehicles in 19 areas, {args.history} past bookings, "
        f"{args.seed_bookings} booked for {day} before the peak; {args.operators} operators"
    )
    head = [
        "workers",
        "req/s",
        "quote p50",
        "quote p95",
        "quote p99",
        "confirm p50",
        "confirm p95",
        "confirm p99",
        "errors",
        "audit",
    ]
    print(" ".join(f"{h:>11}" for h in head))
    for r in results["runs"]:
        q, c, agg = r["stats"]["quote"], r["stats"]["confirm"], r["stats"]["Aggregated"]
        cells = [
            r["workers"],
            agg["rps"],
            q["p50_ms"],
            q["p95_ms"],
            q["p99_ms"],
            c["p50_ms"],
            c["p95_ms"],
            c["p99_ms"],
            agg["failures"],
            r["day_audit_ok"],
        ]
        print(" ".join(f"{x!s:>11}" for x in cells))
    print(f"largest area's re-optimisation: {results['largest_area_reoptimise_s']} s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2, default=str))


def reoptimise_largest(url: str, areas: list[dict[str, Any]], day: date) -> float:
    """Wall time of one re-optimisation of the day's plan (5 s solver budget): the whole prefecture
    today, since vehicles are not yet partitioned by area."""
    from dispatch.persistence import create_db_engine
    from dispatch.persistence.reference import load_reference_data
    from dispatch.persistence.repository import Repository
    from dispatch.service import DispatchService
    from fares import load_tariff
    from geo import StraightLineModel
    from noriai.demo import TARIFF_PATH

    engine = create_db_engine(url)
    svc = DispatchService(
        Repository(engine, reader := create_db_engine(url, read_only=True)),
        load_reference_data(engine),
        load_tariff(TARIFF_PATH),
        StraightLineModel(),
    )
    # Not yet partitioned by area (issue #19): this is one re-optimisation of the whole day.
    t = time.monotonic()
    svc.reoptimise_day(day, time_limit_s=5.0)
    engine.dispose()
    reader.dispose()
    return round(time.monotonic() - t, 1)


if __name__ == "__main__":
    main()
