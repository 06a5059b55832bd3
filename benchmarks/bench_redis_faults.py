"""What Redis faults cost RedisRateLimiter: over-limit sends and budget use per fault.

Method: one FakeHub allows ``rate_limit`` requests per fixed window of ``window_s`` seconds
(every worker is anonymous on 127.0.0.1: one shared budget). Three workers, each a
``HubClient`` with 8 tasks calling ``repositories.get`` in a loop through its own
``RedisRateLimiter(fallback="local")`` on one key (workers are limiter instances in one
process, each with its own client, limiter, fallback bucket and worker id, as separate
processes would have). The run goes through phases, each a whole number of windows:

1. ``healthy``: Redis answers (after one warm-up window);
2. ``redis down``: every worker's Redis client points at a closed port: each falls back to
   its local limiter (its share: 1/3 of the budget, counted in Redis before the outage);
3. ``redis down, share=1``: the same with ``fallback_share=1`` (every worker spends the whole
   budget, the behaviour before issue 12), for comparison;
4. ``back to redis``: Redis answers again; the fallback probes it every 1 s here (30 s in
   production) and hands its queued tasks over;
5. ``flushed``: the key's state is deleted in the middle of a window (a Redis restart or
   FLUSHALL), then two more windows.

Reported per phase: sends over Hub's limit (FakeHub's ``over_limit``) and budget use (the
successful requests over ``rate_limit`` x the phase's windows).

    python -m benchmarks.bench_redis_faults [--rate-limit 40] [--window 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import time
import uuid
from typing import Any

from benchmarks._common import print_table
from benchmarks.bench_redis_multiprocess import redis_for_run

DESCRIPTION = "RedisRateLimiter under Redis faults: over-limit sends and budget use per fault"

NAMESPACE, REPOSITORY = "library", "redis"
WORKERS, TASKS = 3, 8


class Fleet:
    """``workers`` workers against one FakeHub allowing ``rate_limit`` per ``window`` s: each
    a ``HubClient`` with ``tasks`` tasks calling ``repositories.get`` in a loop through its own
    ``RedisRateLimiter(fallback="local")`` on one key, probing Redis every ``retry_s`` while
    it is away. Entering starts the tasks at a window boundary and runs one warm-up window
    (start-up bucket, headers learned). Also used by ``tests/test_redis_faults_e2e.py``.
    """

    def __init__(
        self,
        redis_url: str,
        rate_limit: int,
        window: float,
        *,
        retry_s: float = 1.0,
        workers: int = WORKERS,
        tasks: int = TASKS,
    ) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        from hubasync.redis import RedisRateLimiter

        self.rate_limit, self.window, self.tasks = rate_limit, window, tasks
        self.key = f"faults-{uuid.uuid4().hex[:8]}"
        self.good = aioredis.Redis.from_url(redis_url)
        self.dead = aioredis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
        self.limiters = [
            RedisRateLimiter(self.good, self.key, fallback="local") for _ in range(workers)
        ]
        for limiter in self.limiters:
            limiter._fallback.retry_s = retry_s  # production: 30 s; a run cannot wait that long
        self.ok = 0
        self.rows: list[dict[str, Any]] = []
        self._stack = contextlib.AsyncExitStack()
        self._stop = False
        self._loops: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Fleet:
        from hubasync import HubClient
        from hubasync.testing import FakeHub

        stack = self._stack
        stack.push_async_callback(self._close)
        self.server = await stack.enter_async_context(
            FakeHub(rate_limit=self.rate_limit, window_s=self.window, log_requests=False)
        )
        self.server.add_namespace(NAMESPACE)
        self.server.add_repository(NAMESPACE, REPOSITORY)
        hubs = [
            HubClient(base_url=self.server.url, rate_limiter=limiter, max_concurrency=self.tasks)
            for limiter in self.limiters
        ]
        for hub in hubs:
            await stack.enter_async_context(hub)
        # Exits run last-in first-out: the loops stop before the clients and FakeHub they use
        # close (closed under them, they kept connecting to a FakeHub shutting down).
        stack.push_async_callback(self._stop_loops)
        await asyncio.sleep((math.floor(time.time() / self.window) + 1) * self.window - time.time())
        self._loops = [
            asyncio.create_task(self._loop(hub)) for hub in hubs for _ in range(self.tasks)
        ]
        await asyncio.sleep(self.window)  # warm-up
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _loop(self, hub: Any) -> None:
        from hubasync import HubError

        while not self._stop:
            try:
                await hub.repositories.get(NAMESPACE, REPOSITORY)
            except HubError:
                continue
            self.ok += 1

    async def _stop_loops(self) -> None:
        self._stop = True
        await asyncio.gather(*self._loops, return_exceptions=True)

    async def _close(self) -> None:
        await self._stop_loops()  # when entering failed after the loops started
        for limiter in self.limiters:
            await limiter.aclose()
        await self.good.aclose()
        await self.dead.aclose()

    async def phase(self, name: str, windows: float) -> dict[str, Any]:
        """Run ``windows`` windows; record (and return) the sends over the limit and the use
        (successful requests over ``rate_limit`` x ``windows``)."""
        over0, ok0 = self.server.over_limit, self.ok
        await asyncio.sleep(windows * self.window)
        row = {
            "phase": name,
            "windows": windows,
            "over_limit": self.server.over_limit - over0,
            "use": round((self.ok - ok0) / (self.rate_limit * windows), 2),
        }
        self.rows.append(row)
        return row

    def point(self, *, down: bool, share: float | None = None) -> None:
        """Every worker's Redis client: the live one, or a closed port (Redis unreachable)."""
        for limiter in self.limiters:
            limiter._scripts.client = self.dead if down else self.good
            limiter.fallback_share = share

    async def flush(self) -> None:
        """Delete the key's state, as a Redis restart or FLUSHALL would."""
        async for name in self.good.scan_iter(match=f"*{self.key}*"):
            await self.good.delete(name)


async def _run(redis_url: str, rate_limit: int, window: float) -> list[dict[str, Any]]:
    async with Fleet(redis_url, rate_limit, window) as fleet:
        await fleet.phase("healthy", 3)
        fleet.point(down=True)
        await fleet.phase("redis down (share: live workers)", 4)
        fleet.point(down=False)
        await fleet.phase("back to redis", 3)
        fleet.point(down=True, share=1.0)
        await asyncio.sleep(2.0)  # every worker falls back again (the earlier ones linger)
        await fleet.phase("redis down, fallback_share=1 (before)", 4)
        fleet.point(down=False)
        await fleet.phase("back to redis", 3)
        await asyncio.sleep(window / 2)
        await fleet.flush()
        await fleet.phase("flushed mid-window (+2 windows)", 3)
    return fleet.rows


def main() -> None:
    """Command line: ``python -m benchmarks.bench_redis_faults``."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--rate-limit", type=int, default=40)
    parser.add_argument("--window", type=float, default=1.0)
    args = parser.parse_args()
    with redis_for_run(os.environ.get("HUBASYNC_REDIS_URL")) as url:
        rows = asyncio.run(_run(url, args.rate_limit, args.window))
    print_table(
        f"RedisRateLimiter, {WORKERS} workers x {TASKS} tasks, "
        f"{args.rate_limit} requests per {args.window:g} s window",
        ["phase", "windows", "over limit", "budget use"],
        [[r["phase"], r["windows"], r["over_limit"], r["use"]] for r in rows],
    )


if __name__ == "__main__":
    main()
