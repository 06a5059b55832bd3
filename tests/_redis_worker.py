"""One worker process of the multi-process RedisRateLimiter test (not a test module).

Runs ``concurrency`` acquire → "send" → release loops for ``duration`` seconds against one
limiter key. The "server" is a Redis counter per fixed window of ``window`` seconds (on the
machine's clock, which every worker shares): a send increments the current window's counter,
and the response reports ``limit - count`` as remaining with the window's end as reset, like
Hub. A send that finds the counter past the limit is what Hub would answer with a 429.

Usage: python tests/_redis_worker.py URL KEY DURATION LIMIT WINDOW CONCURRENCY
Prints one JSON line: {"sends": n, "over": n}.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time

import redis.asyncio as aioredis

from hubasync._ratelimit import BudgetUpdate
from hubasync.redis import RedisRateLimiter


async def run(url: str, key: str, duration: float, limit: int, window: float, conc: int) -> None:
    client = aioredis.Redis.from_url(url)
    limiter = RedisRateLimiter(
        client, key, requests_per_minute=max(1, int(limit * 60 / window / 2)), burst=2, lease_s=10
    )
    counts = {"sends": 0, "over": 0}
    end = time.monotonic() + duration

    async def loop() -> None:
        while time.monotonic() < end:
            await limiter.acquire()
            update: BudgetUpdate | None = None
            try:
                now = time.time()
                win = math.floor(now / window)
                counter = f"{key}:server:{win}"
                count = int(await client.incr(counter))
                counts["sends"] += 1
                await client.expire(counter, 60)
                reset = (win + 1) * window
                if count > limit:
                    counts["over"] += 1
                    await limiter.pause_until(reset)
                await asyncio.sleep(random.uniform(0.001, 0.01))  # the request's latency
                update = BudgetUpdate(
                    limit=limit,
                    remaining=max(0, limit - count),
                    reset_at=reset,
                    observed_at=time.time(),
                    hub_reset=reset,
                )
            finally:
                await limiter.release(update)

    tasks = [asyncio.create_task(loop()) for _ in range(conc)]
    try:
        # At the deadline, stop the loops still waiting for the next window: a cancelled
        # waiter must hand its place back.
        done, pending = await asyncio.wait(tasks, timeout=duration + 0.2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        await limiter.aclose()
        await client.aclose()
    print(json.dumps(counts), flush=True)


def main(argv: list[str]) -> None:
    """Parse the command line and run the loops."""
    url, key, duration, limit, window, conc = argv
    asyncio.run(run(url, key, float(duration), int(limit), float(window), int(conc)))


if __name__ == "__main__":
    main(sys.argv[1:])
