"""The runner lease on a real Redis: one holder at a time, a killed holder is replaced, tokens grow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import redis

from noriai.lease import LeasedRunner, RedisLease
from tests.conftest import RedisServer

CANDIDATE = textwrap.dedent(
    """
    import sys, time, redis
    from noriai.lease import LeasedRunner, RedisLease

    url, name = sys.argv[1], sys.argv[2]
    r = redis.Redis.from_url(url)

    class Beat:
        # A background job: while running it writes who runs it, as the real jobs would do work.
        def __init__(self): self.on = False
        def start(self): self.on = True
        def stop(self): self.on = False

    beat = Beat()
    runner = LeasedRunner(RedisLease(url, "t", ttl_s=2.0, holder=name), [beat], ttl_s=2.0)
    runner.start()
    while True:
        if beat.on:
            r.rpush("beats", f"{name}:{runner.token}")
        time.sleep(0.1)
    """
)


class Counter:
    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1


def test_one_holder_at_a_time_and_a_lost_lease_stops_the_jobs(redis_server: RedisServer) -> None:
    a_job, b_job = Counter(), Counter()
    a = LeasedRunner(RedisLease(redis_server.url, "one", ttl_s=1.0, holder="a"), [a_job], ttl_s=1.0)
    b = LeasedRunner(RedisLease(redis_server.url, "one", ttl_s=1.0, holder="b"), [b_job], ttl_s=1.0)
    a.step()
    b.step()
    assert (a.state().role, b.state().role) == ("runner", "standby")
    assert a_job.started == 1 and b_job.started == 0
    assert b.state().leader == "a"
    time.sleep(1.3)  # a stops renewing (paused, say): the lease expires and b takes it
    b.step()
    assert b.state().role == "runner" and b_job.started == 1
    assert b.token is not None and a.token is not None and b.token > a.token  # fencing tokens grow
    a.step()  # a wakes up: its renewal fails, it stops its jobs
    assert a.state().role == "standby" and a_job.stopped == 1
    b.stop()
    assert b_job.stopped == 1
    assert RedisLease(redis_server.url, "one").current_holder() is None  # released on a clean stop


def test_a_killed_runner_is_replaced_within_the_lease_time(redis_server: RedisServer) -> None:
    r = redis.Redis.from_url(redis_server.url)
    r.delete("beats", "noriai:lease:t", "noriai:lease:t:token")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = {
        name: subprocess.Popen([sys.executable, "-c", CANDIDATE, redis_server.url, name], env=env)
        for name in ("first", "second")
    }
    try:
        deadline = time.monotonic() + 20
        while r.llen("beats") < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        beats = [x.decode() for x in r.lrange("beats", 0, -1)]
        leaders = {b.split(":")[0] for b in beats}
        assert len(leaders) == 1, beats  # exactly one process runs the jobs
        leader = leaders.pop()
        other = "second" if leader == "first" else "first"
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        killed_at = time.monotonic()
        r.delete("beats")
        while time.monotonic() - killed_at < 30:
            got = [x.decode() for x in r.lrange("beats", 0, -1)]
            if got:
                break
            time.sleep(0.1)
        took_over_s = time.monotonic() - killed_at
        assert got and all(b.startswith(other + ":") for b in got), got
        assert took_over_s < 2.0 + 2.0, took_over_s  # ttl plus one try period, with margin
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
