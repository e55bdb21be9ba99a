"""Test harness: starts the real servers the tests talk to (Redis now; PostgreSQL when needed) on
loopback, from the binaries `make test` installs, and stops them by PID at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.shared_data import SHARED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    port: int
    pidfile: Path
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pid(self) -> int:
        return int(self.pidfile.read_text().strip())

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run `make test`, which installs it with apt-get")
        subprocess.run(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            check=True,
        )
        # Ready means PING answers PONG: right after a restart Redis accepts connections but replies
        # LOADING while it replays the append-only file.
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.2, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping() and self.pidfile.exists():
                    client.close()
                    return
            except redis.RedisError:
                time.sleep(0.02)
        pytest.fail(f"redis-server did not start on port {self.port}; see {self.workdir / 'redis.log'}")

    def stop(self) -> None:
        if not self.pidfile.exists():
            return
        pid = self.pid()
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.02)
        self.pidfile.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    workdir = tmp_path_factory.mktemp("redis")
    server = RedisServer(free_port(), workdir / "redis.pid", workdir)
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}; it sits beside the project root")
    return SHARED


@dataclass
class PostgresServer:
    port: int
    workdir: Path
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self, name: str) -> str:
        """A fresh, empty database on this server (dropped first if a previous run left it)."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _as_owner(self, args: list[str]) -> None:
        if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres system user
            args = ["su", "postgres", "-c", " ".join(f"'{a}'" for a in args)]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"PostgreSQL command failed: {' '.join(args)}\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        data = self.workdir / "data"
        if not data.exists():
            self._as_owner(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir}"
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

    def stop(self) -> None:
        pidfile = self.workdir / "data" / "postmaster.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 2)  # fast shutdown
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.05)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        pytest.fail("PostgreSQL is not installed: run `make test`, which installs it with apt-get")
    # Not under pytest's own temp dir: it is private to root, and the server runs as postgres.
    workdir = Path(tempfile.mkdtemp(prefix="noriai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    server = PostgresServer(free_port(), workdir, bins[-1].parent)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


# CI runs hypothesis derandomized, so a submission's result does not depend on the random draw;
# developers get fresh random examples locally (HYPOTHESIS_PROFILE=dev is the default).
from hypothesis import settings as _hyp_settings  # noqa: E402

_hyp_settings.register_profile("ci", derandomize=True, print_blob=True)
_hyp_settings.register_profile("dev")
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian chromium driven by Playwright (executable_path), one per test module."""
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        pytest.fail("Debian chromium is not installed: run `make test`, which installs it with apt-get")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()
