"""Redis faults end to end (issue 12, "Done when"): three workers against a Hub-shaped server.

Each worker is a ``HubClient`` with its own ``RedisRateLimiter(fallback="local")`` on one key
and real Redis (``HUBASYNC_REDIS_URL``), 8 tasks calling Hub in a loop; FakeHub allows 30
requests per 1 s window and counts the sends over it. Redis "fails" by pointing every
worker's client at a closed port (no retries), as ``benchmarks/bench_redis_faults.py`` does
(the harness is its ``Fleet``); the fallback probes Redis every 0.5 s (30 s in production).
Each test asserts 0 sends over the limit after the first window, and a floor on the budget
used that proves the work went on.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.bench_redis_faults import Fleet

URL = os.environ.get("HUBASYNC_REDIS_URL")
LIMIT, WINDOW = 30, 1.0


@pytest.fixture
def redis_url() -> str:
    if not URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but HUBASYNC_REDIS_URL is unset")
        pytest.skip("HUBASYNC_REDIS_URL is unset (run .ci/start-redis)")
    return URL


def fleet(redis_url: str) -> Fleet:
    return Fleet(redis_url, LIMIT, WINDOW, retry_s=0.5)


async def test_redis_down_each_worker_spends_only_its_share(redis_url: str) -> None:
    """Before rule 11 (each worker spent a share of Hub's count as it saw it, views taken at
    different moments, from a switch in the middle of a window on): 3-11 over in this test
    (5 runs)."""
    async with fleet(redis_url) as f:
        await f.phase("healthy", 1.5)  # Redis learns the three workers, the limit, the window
        f.point(down=True)  # in the middle of a window Redis has spent
        down = await f.phase("redis down", 4)
        over = f.server.over_limit
    assert over == 0, f.rows
    assert down["use"] >= 0.5, f.rows  # 3.5 windows of 3 x 10 after the switch window: 0.88


async def test_back_on_redis_no_two_limiters_grant_the_same_units(redis_url: str) -> None:
    """Before: a worker back on Redis spent Redis's whole (stale) budget while the others
    still spent their share locally: 5-14 over in this test (5 runs, the outage included)."""
    async with fleet(redis_url) as f:
        await f.phase("healthy", 1)
        f.point(down=True)
        await f.phase("redis down", 2)
        f.point(down=False)
        back = await f.phase("back to redis", 3)
        over = f.server.over_limit
    assert over == 0, f.rows
    assert back["use"] >= 0.7, f.rows


async def test_redis_emptied_mid_window_starts_without_a_burst(redis_url: str) -> None:
    """The key's state deleted in the middle of a window (a Redis restart or FLUSHALL).
    Without the reseed rule (an empty state starts the start-up bucket with its full burst):
    6 over in this test (3 runs)."""
    async with fleet(redis_url) as f:
        await f.phase("healthy", 1)
        await f.phase("half a window", 0.5)
        await f.flush()
        flushed = await f.phase("flushed", 3)
        over = f.server.over_limit
    assert over == 0, f.rows
    assert flushed["use"] >= 0.6, f.rows
