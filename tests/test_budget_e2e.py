"""Both limiters end to end against FakeHub (fixed windows, counting sends over the limit):
Hub's clock stepping back mid-run gives 0 over-limit sends after the first window (before
issue 12: 16 over in this test, in-process and Redis alike, as responses naming the older
window were dropped uncharged).

The other rows of issue 12's table (a window shrinking, a reset 600 s ahead, a backwards
reset on the last request, responses without headers) run against a Hub-shaped simulation
in tests/test_budget_conformance.py, through both the Python core and the Lua; a window
shrinking from 4 s to 2 s held before issue 12 too at FakeHub's scale, so it is not here.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hubasync import AdaptiveTokenBucket, HubClient, HubError
from hubasync.testing import FakeHub, Fault, FaultPlan

NS, REPO = "library", "e2e"
URL = os.environ.get("HUBASYNC_REDIS_URL")


@pytest.fixture(params=["in-process", "redis"])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Any]]:
    if request.param == "in-process":
        yield AdaptiveTokenBucket
        return
    if not URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but HUBASYNC_REDIS_URL is unset")
        pytest.skip("HUBASYNC_REDIS_URL is unset (run .ci/start-redis)")
    import redis.asyncio as aioredis

    from hubasync.redis import RedisRateLimiter

    client = aioredis.Redis.from_url(URL)
    key = f"e2e-{uuid.uuid4().hex[:8]}"
    made: list[RedisRateLimiter] = []

    def factory() -> RedisRateLimiter:
        made.append(RedisRateLimiter(client, key))
        return made[-1]

    yield factory
    for limiter in made:
        await limiter.aclose()
    async for name in client.scan_iter(match=f"*{key}*"):
        await client.delete(name)
    await client.aclose()


async def drive(
    server: FakeHub, limiter: Any, *, seconds: float, window: float, at: float, change: Any
) -> int:
    """16 tasks call Hub in a loop from a window boundary; ``change()`` runs ``at`` s in.
    Returns the sends over the limit after the first window."""
    server.add_namespace(NS)
    server.add_repository(NS, REPO)
    async with HubClient(base_url=server.url, rate_limiter=limiter, max_concurrency=16) as hub:
        await asyncio.sleep((math.floor(time.time() / window) + 1) * window - time.time())
        start = time.monotonic()

        async def loop() -> None:
            while time.monotonic() - start < seconds:
                try:
                    await hub.repositories.get(NS, REPO)
                except HubError:
                    pass

        tasks = [asyncio.create_task(loop()) for _ in range(16)]
        await asyncio.sleep(window)
        over_first = server.over_limit
        await asyncio.sleep(at - window)
        change()
        await asyncio.gather(*tasks)
        return server.over_limit - over_first


async def test_hubs_clock_steps_back(make_limiter: Callable[[], Any]) -> None:
    latency = FaultPlan(Fault("latency", latency_s=0.02, jitter_s=0.03))
    async with FakeHub(rate_limit=20, window_s=2.0, faults=latency) as server:

        def step_back() -> None:
            server.clock_skew_s = -2.5

        over = await drive(server, make_limiter(), seconds=6.0, window=2.0, at=3.1,
                           change=step_back)  # fmt: skip
    assert over == 0
