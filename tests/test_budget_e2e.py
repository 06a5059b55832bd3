"""Both limiters end to end against FakeHub: issue 12's table, row by row.

16 tasks call Hub in a loop through ``HubClient`` against FakeHub's fixed windows, which count
every send over the limit (``server.over_limit``, on Hub's real windows whatever the headers
said). Each row runs with the in-process ``AdaptiveTokenBucket`` and with ``RedisRateLimiter``
on a real redis-server (``HUBASYNC_REDIS_URL``; under ``CI=true`` a missing one fails).
Windows are scaled down from the issue's 20 s to 1-4 s (about 60 s for the file). Each test
names the rule of ``_budget.py`` it protects and what it measured with that rule switched
off, in ``_budget.py`` and the Lua alike ("rule off" below; issue 12's own figure, at its
scale and before its fixes, in brackets).

Sends over the limit after the first window ("use": share of the budget sent after it):

============================================  =====================  ==========  ==============
row (rule of ``_budget.py``)                  rule off: in-process   now, both   issue 12:
                                              / Redis                            in-process /
                                                                                 Redis
============================================  =====================  ==========  ==============
Hub's window shrinks in flight (6)            16 / 16 over           0 over      0 / 53
a reset 30 windows ahead (7)                  0 over, use 0.33 /     0 over,     0 (38 errors)
                                              0.33 (a stall)         use 1.0     / 12 over
a backwards reset on a window's last (6)      16 / 16 over           0 over      38 / 3
Hub's clock steps back (5)                    16 / 16 over           0 over      51 / 57
10 % headerless, 1 s windows (8)              use 0.68-0.72 /        0 over, use use 0.99 /
                                              0.66-0.75 (uncharged:  0.96-0.99   0.61
                                              1-2 over)
``max_wait``, a reservation in flight         waits out the reset /  refuses at  refuses /
(refusal; Redis: a lapsed lease charged)      grants the held unit   once        waits lease
============================================  =====================  ==========  ==============

The Redis-fault rows (Redis down, back to Redis, FLUSHALL) are in
``tests/test_redis_faults_e2e.py``.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest

from hubasync import AdaptiveTokenBucket, HubClient, HubError, RateLimitError
from hubasync.testing import FakeHub, Fault, FaultPlan

NS, REPO = "library", "e2e"
URL = os.environ.get("HUBASYNC_REDIS_URL")
LATENCY = Fault.latency(0.02, jitter=0.03)

Factory = Callable[..., Any]


@pytest.fixture(params=["in-process", "redis"])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """A factory of limiters of one kind; Redis ones share a fresh key (removed after) and
    take ``RedisRateLimiter``'s options (``lease_s``: the in-process limiter has no lease)."""
    if request.param == "in-process":
        yield lambda **_: AdaptiveTokenBucket()
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

    def factory(**options: Any) -> RedisRateLimiter:
        made.append(RedisRateLimiter(client, key, **options))
        return made[-1]

    yield factory
    for limiter in made:
        await limiter.aclose()
    async for name in client.scan_iter(match=f"*{key}*"):
        await client.delete(name)
    await client.aclose()


@attrs.frozen
class Run:
    over: int  # sends over the limit after the first window
    used: float  # share of the budget sent in the full windows after the first
    errors: int  # calls that failed (e.g. RateLimitError)


async def drive(
    server: FakeHub,
    limiter: Any,
    *,
    windows: float,
    changes: dict[float, Callable[[], None]] | None = None,
) -> Run:
    """16 tasks call Hub in a loop from Hub's next whole second. The first window ends at
    Hub's first window boundary at least 0.5 s away (``b``); the run goes on ``windows``
    windows after it, and each ``changes[t]`` runs ``t`` s after ``b``. Over-limit sends and
    budget use count from ``b``."""
    window, limit = server.window_s, server.rate_limit
    assert limit is not None
    server.add_namespace(NS)
    server.add_repository(NS, REPO)
    errors = 0
    async with HubClient(base_url=server.url, rate_limiter=limiter, max_concurrency=16) as hub:
        # start on a whole second of Hub's clock: the first answers pin the skew estimate
        # from its 1 s Date headers tightly (else the limiter may refill up to 1 s late)
        await asyncio.sleep(math.ceil(server.now()) - server.now())
        hub_b = (math.floor((server.now() + 0.5) / window) + 1) * window
        b = time.monotonic() + hub_b - server.now()
        end = b + windows * window

        async def loop() -> None:
            nonlocal errors
            while time.monotonic() < end:
                try:
                    await hub.repositories.get(NS, REPO)
                except HubError:
                    errors += 1

        tasks = [asyncio.create_task(loop()) for _ in range(16)]
        await asyncio.sleep(b - time.monotonic())
        over_first = server.over_limit
        for at, change in sorted((changes or {}).items()):
            await asyncio.sleep(max(0.0, b + at - time.monotonic()))
            change()
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        for task in tasks:  # those waiting for the next reset need not wait it out
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    sent = sum(1 for r in server.requests
               if r.status == 200 and hub_b <= r.time < hub_b + windows * window)  # fmt: skip
    return Run(server.over_limit - over_first, sent / (limit * windows), errors)


async def test_hubs_window_shrinks_while_requests_are_in_flight(make_limiter: Factory) -> None:
    """4 s windows become 2 s 0.3 s into one, its budget part spent (Hub keeps its count):
    the answers name a reset 2 s earlier than the one known. Rule 6: such an answer lowers
    the count at once (rule 5 charges it once its window is over). Answers naming an earlier
    reset dropped (the Lua before issue 12): 16 over, in-process and Redis."""
    slower = FaultPlan(Fault.latency(0.15, jitter=0.1))  # ~75 sends/s: 100 last 1.3 s
    async with FakeHub(rate_limit=100, window_s=4.0, faults=slower) as server:

        def shrink() -> None:
            server.configure_rate_limit(100, window_s=2.0, keep_counts=True)

        run = await drive(server, make_limiter(), windows=1, changes={0.3: shrink})
    assert run.over == 0, run


async def test_one_answer_names_a_reset_30_windows_ahead(make_limiter: Factory) -> None:
    """At 1 s windows, the answer spending a window's last request names a reset 30 s ahead
    (issue 12: 600 s at 20 s windows). Rule 7: a reset further than 2 windows + 2 s ahead is
    suspect; its count is taken, its reset waits for a second answer naming it. With the
    window spent no second answer comes: adopting that reset stalls the budget (rule 7
    off: 0 over but a budget use of 0.25-0.33, in-process and Redis)."""
    async with FakeHub(rate_limit=20, window_s=1.0, faults=FaultPlan(LATENCY)) as server:

        def bogus() -> None:
            server.inject(Fault.shift_reset(30, on_last=True, times=1))

        run = await drive(server, make_limiter(), windows=3, changes={0.0: bogus})
    assert server.pending_faults()[1:] == []  # it fired
    assert run.over == 0, run
    assert run.used >= 0.85 and run.errors == 0, run


async def test_a_backwards_reset_on_the_answer_spending_a_windows_last(
    make_limiter: Factory,
) -> None:
    """At 3 s windows, every answer that spends a window's last request names a reset 1 s
    before the real one (issue 12: 12 s at 20 s windows). Rule 6: an earlier reset of a
    running window moves the limiter's reset only when a second answer confirms it; a single
    answer never makes it refill early (trusting one: 16 over, in-process and Redis)."""
    back = Fault.shift_reset(-1, on_last=True)
    async with FakeHub(rate_limit=20, window_s=3.0, faults=FaultPlan(LATENCY, back)) as server:
        run = await drive(server, make_limiter(), windows=1)
    assert run.over == 0, run


async def test_hubs_clock_steps_back(make_limiter: Factory) -> None:
    """Hub's clock steps back 2.5 s at 2 s windows: answers name an older window. Rule 5:
    they are charged, never dropped (dropped: 16 over, in-process and Redis)."""
    async with FakeHub(rate_limit=20, window_s=2.0, faults=FaultPlan(LATENCY)) as server:

        def step_back() -> None:
            server.clock_skew_s = -2.5

        run = await drive(server, make_limiter(), windows=1.5, changes={1.1: step_back})
    assert run.over == 0, run


async def test_ten_percent_of_answers_without_rate_headers_at_1_s_windows(
    make_limiter: Factory,
) -> None:
    """10 % of answers carry no ``X-RateLimit-*`` header. Rule 8: such a request counts
    against the window it may have landed in, with a margin of ``min(5, window / 2)`` s: 0
    over, and the budget still used (issue 12: Redis used 0.61 with a fixed 5 s margin; a
    fixed 5 s margin here: use 0.66-0.75, in-process and Redis; such requests not charged
    at all: 1-2 over)."""
    plan = FaultPlan(LATENCY, Fault.no_rate_headers(probability=0.1), seed=12)
    async with FakeHub(rate_limit=20, window_s=1.0, faults=plan) as server:
        run = await drive(server, make_limiter(), windows=3)
    assert run.over == 0, run
    assert run.used >= 0.85, run


async def test_max_wait_while_a_reservation_is_in_flight(make_limiter: Factory) -> None:
    """Hub's count is spent but for one request in flight (slow: 1.5 s), its reset 50 s away:
    a call with ``max_wait=5`` is refused at once, on both limiters; and a Redis lease
    shorter than the request (0.5 s) runs out without granting the unit it held (a lease
    that runs out is charged as a lost answer). Hub's reset waited for like an estimated one:
    both waited it out and sent (no ``RateLimitError``); a lease running out uncharged: Redis
    granted the held unit."""
    window = 60.0
    now = time.time()
    skew = (math.floor(now / window) + 1) * window + 10 - now  # Hub is 10 s into a window
    slow = Fault.latency(1.5, path=r"/repositories/slow/?$")
    async with FakeHub(rate_limit=3, window_s=window, clock_skew_s=skew,
                       faults=FaultPlan(slow)) as server:  # fmt: skip
        server.add_namespace(NS)
        for repo in (REPO, "slow"):
            server.add_repository(NS, repo)
        limiter = make_limiter(lease_s=0.5)
        async with HubClient(base_url=server.url, rate_limiter=limiter, max_wait=5.0) as hub:
            for _ in range(2):
                await hub.repositories.get(NS, REPO)
            held = asyncio.create_task(hub.repositories.get(NS, "slow"))
            await asyncio.sleep(0.2)  # granted, in flight
            refused = []
            for pause in (0.0, 0.6):  # before and after a 0.5 s lease ran out
                await asyncio.sleep(pause)
                began = time.monotonic()
                with pytest.raises(RateLimitError) as caught:
                    await hub.repositories.get(NS, REPO)
                refused.append(time.monotonic() - began)
                assert caught.value.retry_at is not None
            assert (await held).name == "slow"
    assert server.over_limit == 0
    assert max(refused) < 2.5, refused  # at once, not after max_wait (5 s)
