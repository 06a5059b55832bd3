"""Several processes, one Hub budget: does RedisRateLimiter keep them all under the limit?

Method: a FakeHub in this process enforces ``rate_limit`` requests per fixed window of
``window_s`` seconds per caller; every worker is anonymous on 127.0.0.1, so all of them share
one budget, as the workers of one account do on Hub. N worker processes (8; 4 with
``--quick``) each run ``HubClient(base_url=server.url, rate_limiter=RedisRateLimiter(...))``
with 8 tasks calling ``repositories.get`` in a loop. They start together on a window
boundary and stop after a whole number of windows. Reported:

* sends that arrived over the limit after the first window (the first window may see the
  start-up bucket's burst before any worker has read Hub's headers), and in the first one;
* the combined rate of successful requests finished within the run against the allowed rate
  ``rate_limit / window_s``.

Redis: ``HUBASYNC_REDIS_URL`` (``eval "$(.ci/start-redis)"``), or a ``redis-server`` binary
started on a free loopback port for the run.

    python -m benchmarks.bench_redis_multiprocess [--quick] [--processes 8] [--rate-limit 100]
        [--window 1.0] [--windows 8] [--concurrency 8] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import BenchResult, default_out_dir, print_table

NAME = "redis_multiprocess"
DESCRIPTION = "8 processes sharing one RedisRateLimiter against FakeHub (100 req / 1 s window)"

NAMESPACE, REPOSITORY = "library", "redis"
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# One worker process
# --------------------------------------------------------------------------------------------


async def worker(
    hub_url: str, redis_url: str, key: str, duration: float, concurrency: int
) -> dict[str, Any]:
    """A HubClient on the shared limiter, calling one endpoint from ``concurrency`` tasks.

    Prints ``ready`` once imported and connected, then reads the start instant from stdin.
    """
    import redis.asyncio as aioredis

    from hubasync import HubClient, HubError
    from hubasync.redis import RedisRateLimiter

    client = aioredis.Redis.from_url(redis_url)
    await client.ping()
    limiter = RedisRateLimiter(client, key)
    ok = in_time = failed = 0
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start_at = float(line)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    end = start_at + duration
    async with HubClient(
        base_url=hub_url, rate_limiter=limiter, max_concurrency=concurrency
    ) as hub:

        async def loop() -> None:
            nonlocal ok, in_time, failed
            while time.time() < end:
                try:
                    await hub.repositories.get(NAMESPACE, REPOSITORY)
                except HubError:
                    failed += 1
                    continue
                ok += 1
                in_time += time.time() < end

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        stats = hub.stats
    await limiter.aclose()
    await client.aclose()
    return {
        "ok": ok,
        "ok_in_time": in_time,
        "failed": failed,
        "sent": stats.requests,
        "rate_limited": stats.rate_limited,
        "waited_s": round(stats.waited_s, 3),
    }


# --------------------------------------------------------------------------------------------
# Redis for the run
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_for_run(url: str | None) -> Iterator[str]:
    """``url``, or a throwaway redis-server on a free loopback port."""
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "no Redis: set HUBASYNC_REDIS_URL or install redis-server "
            '(eval "$(.ci/start-redis)" does both)'
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        args = ["--bind", "127.0.0.1", "--port", str(port), "--dir", tmp]
        proc = subprocess.Popen(
            [binary, *args, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# The coordinator
# --------------------------------------------------------------------------------------------


async def coordinate(
    redis_url: str, processes: int, rate_limit: int, window: float, windows: int, concurrency: int
) -> dict[str, Any]:
    """Serve FakeHub, run the workers, and count what arrived over the limit."""
    from hubasync.testing import FakeHub

    key = f"bench-{uuid.uuid4().hex[:8]}"
    duration = windows * window
    async with FakeHub(rate_limit=rate_limit, window_s=window, log_requests=False) as server:
        server.add_namespace(NAMESPACE)
        server.add_repository(NAMESPACE, REPOSITORY)
        spec = json.dumps([server.url, redis_url, key, duration, concurrency])
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.bench_redis_multiprocess",
                "--worker",
                spec,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=ROOT,
            )
            for _ in range(processes)
        ]
        for p in procs:  # every worker imported and connected
            assert p.stdout is not None
            if (await p.stdout.readline()).strip() != b"ready":
                raise RuntimeError("a worker process failed to start")
        # All start together on a window boundary (FakeHub's windows are [k·w, (k+1)·w)).
        start_at = (math.floor((time.time() + 0.2) / window) + 1) * window
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{start_at!r}\n".encode())
            await p.stdin.drain()
        await asyncio.sleep(max(0.0, start_at + window - time.time()))
        over_first = server.over_limit
        outputs = [await p.communicate() for p in procs]
        over_total = server.over_limit
    codes = [p.returncode for p in procs]
    if any(codes):
        raise RuntimeError(f"a worker process failed: exit codes {codes}")
    per_worker = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    in_time = sum(r["ok_in_time"] for r in per_worker)
    allowed = rate_limit / window
    return {
        "requests_ok": sum(r["ok"] for r in per_worker),
        "requests_ok_in_time": in_time,
        "requests_failed": sum(r["failed"] for r in per_worker),
        "sent": sum(r["sent"] for r in per_worker),
        "rate_limited_429": sum(r["rate_limited"] for r in per_worker),
        "over_limit_first_window": over_first,
        "over_limit_after_first_window": over_total - over_first,
        "combined_rate_per_s": in_time / duration,
        "allowed_rate_per_s": allowed,
        "rate_ratio": in_time / duration / allowed,
        "per_worker": per_worker,
    }


def run(
    *,
    quick: bool,
    out_dir: Path,
    processes: int | None = None,
    rate_limit: int = 100,
    window: float = 1.0,
    windows: int | None = None,
    concurrency: int = 8,
) -> dict[str, Any]:
    """Run the benchmark; print the table; write ``<out_dir>/redis_multiprocess.json``."""
    processes = processes or (4 if quick else 8)
    windows = windows or (3 if quick else 8)
    res = BenchResult(NAME, quick)
    res.params = {
        "processes": processes,
        "concurrency_per_process": concurrency,
        "rate_limit": rate_limit,
        "window_s": window,
        "windows": windows,
    }
    with redis_for_run(os.environ.get("HUBASYNC_REDIS_URL")) as redis_url:
        out = asyncio.run(
            coordinate(redis_url, processes, rate_limit, window, windows, concurrency)
        )
    res.results.update(out)
    print_table(
        f"{NAME}: {processes} processes x {concurrency} tasks, {rate_limit} req / {window:g} s",
        ["ok", "429s", "over limit (1st window)", "over limit (after)", "rate", "allowed", "ratio"],
        [
            [
                out["requests_ok"],
                out["rate_limited_429"],
                out["over_limit_first_window"],
                out["over_limit_after_first_window"],
                f"{out['combined_rate_per_s']:.1f}/s",
                f"{out['allowed_rate_per_s']:.1f}/s",
                f"{out['rate_ratio']:.3f}",
            ]
        ],
    )
    res.target(
        "sends over the limit after the first window", out["over_limit_after_first_window"], "==", 0
    )
    res.target("combined rate / allowed rate", out["rate_ratio"], ">=", 0.9)
    res.notes.append(
        "workers are anonymous on 127.0.0.1: FakeHub counts them all against one budget"
    )
    return res.finish(out_dir)


def main() -> None:
    """Command line: run the benchmark, or (``--worker``, internal) one worker process."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="4 processes, 3 windows")
    parser.add_argument("--processes", type=int)
    parser.add_argument("--rate-limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--windows", type=int, help="how many windows the run lasts")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        hub_url, redis_url, key, duration, concurrency = json.loads(opts.worker)
        result = asyncio.run(worker(hub_url, redis_url, key, duration, concurrency))
        print(json.dumps(result), flush=True)
        return
    doc = run(
        quick=opts.quick,
        out_dir=opts.out_dir or default_out_dir(opts.quick),
        processes=opts.processes,
        rate_limit=opts.rate_limit,
        window=opts.window,
        windows=opts.windows,
        concurrency=opts.concurrency,
    )
    sys.exit(0 if all(t["met"] for t in doc["targets"]) else 1)


if __name__ == "__main__":
    main()
