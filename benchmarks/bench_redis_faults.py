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


async def _run(redis_url: str, rate_limit: int, window: float) -> list[dict[str, Any]]:
    import redis.asyncio as aioredis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    import hubasync.redis as hubredis
    from hubasync import HubClient, HubError
    from hubasync.redis import RedisRateLimiter
    from hubasync.testing import FakeHub

    hubredis._FALLBACK_RETRY_S = 1.0  # production: 30 s; a bench cannot wait that long
    key = f"bench-faults-{uuid.uuid4().hex[:8]}"
    good = aioredis.Redis.from_url(redis_url)
    dead = aioredis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    limiters = [RedisRateLimiter(good, key, fallback="local") for _ in range(WORKERS)]
    ok = 0
    rows: list[dict[str, Any]] = []
    async with FakeHub(rate_limit=rate_limit, window_s=window, log_requests=False) as server:
        server.add_namespace(NAMESPACE)
        server.add_repository(NAMESPACE, REPOSITORY)
        clients = [
            HubClient(base_url=server.url, rate_limiter=lim, max_concurrency=TASKS)
            for lim in limiters
        ]
        stop = False

        async def loop(hub: HubClient) -> None:
            nonlocal ok
            while not stop:
                try:
                    await hub.repositories.get(NAMESPACE, REPOSITORY)
                except HubError:
                    continue
                ok += 1

        async def phase(name: str, windows: int) -> None:
            nonlocal ok
            over0, ok0 = server.over_limit, ok
            await asyncio.sleep(windows * window)
            rows.append(
                {
                    "phase": name,
                    "windows": windows,
                    "over_limit": server.over_limit - over0,
                    "use": round((ok - ok0) / (rate_limit * windows), 2),
                }
            )

        def point(client: Any, share: float | None = None) -> None:
            for lim in limiters:
                lim._scripts.client = client
                lim.fallback_share = share

        async with contextlib.AsyncExitStack() as stack:
            for hub in clients:
                await stack.enter_async_context(hub)
            await asyncio.sleep((math.floor(time.time() / window) + 1) * window - time.time())
            tasks = [asyncio.create_task(loop(hub)) for hub in clients for _ in range(TASKS)]
            await asyncio.sleep(window)  # warm-up: start-up bucket, headers learned
            await phase("healthy", 3)
            point(dead)
            await phase("redis down (share: live workers)", 4)
            point(good)
            await phase("back to redis", 3)
            point(dead, 1.0)
            await asyncio.sleep(2.0)  # every worker falls back again (the earlier ones linger)
            await phase("redis down, fallback_share=1 (before)", 4)
            point(good)
            await phase("back to redis", 3)
            await asyncio.sleep(window / 2)
            async for name in good.scan_iter(match=f"*{key}*"):
                await good.delete(name)
            await phase("flushed mid-window (+2 windows)", 3)
            stop = True
            await asyncio.gather(*tasks, return_exceptions=True)
    for lim in limiters:
        await lim.aclose()
    await good.aclose()
    await dead.aclose()
    return rows


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
