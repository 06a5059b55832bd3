"""Cancelling a task at any await point leaves nothing behind.

Waiting for a concurrency slot, for a limiter token, in the middle of a request, of a
paginated listing, of a login or of a retry backoff: after the cancellation no connection is
checked out of the pool, no limiter token is lost or handed out twice, a later call logs in
and works, no task of the client is left pending once it is closed, and no "Unclosed client
session" warning is emitted.
"""

from __future__ import annotations

import asyncio
import gc
import random
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hubasync import HubClient, _retry
from hubasync._clock import ManualClock
from hubasync.errors import ServerError
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

from .test_faults import FAST, PAT, REPO, USER

N_IMAGES = 60


def client_tasks() -> set[asyncio.Task[Any]]:
    """Pending tasks of the client side: not FakeHub's request handlers, not this test."""
    me = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not me
        and not t.done()
        and not getattr(t.get_coro(), "__qualname__", "").startswith(
            ("RequestHandler", "BaseRequestHandler")
        )
    }


async def until(condition: Callable[[], bool], *, steps: int = 2000) -> None:
    """Let the loop run until ``condition`` holds (a task reached the await point we want)."""
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the tasks never reached the expected await point")


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has unwound."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def assert_clean(hub: HubClient) -> None:
    """Nothing checked out of the pool; every limiter reservation given back."""
    session = hub._transport._session
    if session is not None and session.connector is not None:
        assert not session.connector._acquired, "a connection was not returned to the pool"
    limiter: Any = hub.rate_limiter
    assert limiter.in_flight == 0, "a limiter token was lost"
    assert limiter.waiting == 0, "a cancelled waiter is still queued"


@pytest.fixture
async def server() -> AsyncIterator[FakeHub]:
    async with FakeHub(image_api=True) as hub:
        hub.add_user(USER, "pw", pats=[PAT])
        images = [FakeImage(digest_of(f"c{i}"), tags=[f"t{i}"]) for i in range(N_IMAGES)]
        hub.add_repository(USER, REPO, images=images)
        yield hub


@pytest.fixture
def no_leftovers() -> Any:
    """After the test: no client task pending, no unclosed-session warning."""
    before: set[asyncio.Task[Any]] = set()

    def snapshot() -> None:
        before.update(client_tasks())

    def check() -> None:
        left = client_tasks() - before
        assert not left, f"tasks left pending after the client closed: {left}"

    return snapshot, check


# ---------------------------------------------------------------------------------------------
# One await point at a time
# ---------------------------------------------------------------------------------------------


async def test_cancel_while_waiting_for_a_concurrency_slot(server: FakeHub) -> None:
    before = client_tasks()
    server.inject(Fault.latency(0.3, path="/images-summary$", times=1))
    async with HubClient(
        username=USER, secret=PAT, base_url=server.url, max_concurrency=1, **FAST
    ) as hub:
        await hub.login()
        server.reset_log()
        holder = asyncio.ensure_future(hub.images.summary(USER, REPO))
        await until(lambda: hub.rate_limiter.in_flight == 1)  # type: ignore[attr-defined]
        waiter = asyncio.ensure_future(hub.repositories.get(USER, REPO))
        slots = hub._transport._slots
        assert slots is not None
        await until(lambda: bool(getattr(slots, "_waiters", None)))
        await cancel(waiter)
        summary = await holder
        assert summary.statistics.total == N_IMAGES
        assert_clean(hub)
        assert not slots.locked()  # the slot is free again, not held by the cancelled waiter
        assert [r.path.rsplit("/", 1)[-1] for r in server.requests] == ["images-summary"]
        await hub.repositories.get(USER, REPO)  # and the next call gets it
        assert_clean(hub)
    assert not client_tasks() - before


async def test_cancel_while_waiting_for_a_limiter_token(server: FakeHub) -> None:
    clock = ManualClock(1_700_000_000.0)
    before = client_tasks()
    # one request per minute with a burst of one: the second call waits for a token
    async with HubClient(
        token=server.issue_token(USER), base_url=server.url, requests_per_minute=1, clock=clock
    ) as hub:
        limiter: Any = hub.rate_limiter
        await hub.images.summary(USER, REPO)
        waiters = [asyncio.ensure_future(hub.images.summary(USER, REPO)) for _ in range(3)]
        await until(lambda: limiter.waiting == 3)
        await cancel(waiters[0])  # the head of the line
        await cancel(waiters[2])
        assert limiter.waiting == 1
        assert limiter.in_flight == 0
        sent = len(server.requests)
        await until(lambda: clock.sleeping == 1)  # the new head of the line sleeps
        clock.advance(60.0)  # one token more: exactly one request may go
        assert (await waiters[1]).statistics.total == N_IMAGES
        assert len(server.requests) == sent + 1
        assert_clean(hub)
        # the cancelled waiters took nothing: the next call waits for the next token again
        late = asyncio.ensure_future(hub.images.summary(USER, REPO))
        await until(lambda: limiter.waiting == 1 and clock.sleeping == 1)
        assert len(server.requests) == sent + 1
        clock.advance(60.0)
        await late
        assert_clean(hub)
    assert not client_tasks() - before


async def test_cancel_while_paused_by_a_429(server: FakeHub) -> None:
    clock = ManualClock(1_700_000_000.0)
    before = client_tasks()
    async with HubClient(
        token=server.issue_token(USER), base_url=server.url, clock=clock, **FAST
    ) as hub:
        limiter: Any = hub.rate_limiter
        await limiter.pause_until(clock.time() + 30.0)  # as after a 429
        tasks = [asyncio.ensure_future(hub.images.summary(USER, REPO)) for _ in range(4)]
        await until(lambda: limiter.waiting == 4)
        for t in tasks[:3]:
            await cancel(t)
        assert limiter.waiting == 1 and limiter.in_flight == 0
        assert not server.requests
        await until(lambda: clock.sleeping == 1)
        clock.advance(30.0)
        await tasks[3]
        assert_clean(hub)
    assert not client_tasks() - before


async def test_closing_the_client_under_a_waiting_request_says_so(server: FakeHub) -> None:
    clock = ManualClock(1_700_000_000.0)
    hub = HubClient(token=server.issue_token(USER), base_url=server.url, clock=clock, **FAST)
    limiter: Any = hub.rate_limiter
    await hub.images.summary(USER, REPO)  # the session exists
    await limiter.pause_until(clock.time() + 30.0)  # as after a 429
    waiting = asyncio.ensure_future(hub.images.summary(USER, REPO))
    await until(lambda: clock.sleeping == 1)
    await hub.aclose()
    with pytest.raises(RuntimeError, match="this HubClient is closed"):
        # at once, not when the 30 s pause ends; and not aiohttp's bare "Session is closed"
        await asyncio.wait_for(waiting, 5)
    assert not waiting.cancelled()
    assert limiter.in_flight == 0 and limiter.waiting == 0
    assert len(server.requests) == 1


async def test_cancel_mid_request(server: FakeHub) -> None:
    server.inject(Fault.latency(0.5, path="/images-summary$", times=1))
    before = client_tasks()
    async with HubClient(username=USER, secret=PAT, base_url=server.url, **FAST) as hub:
        await hub.login()
        task = asyncio.ensure_future(hub.images.summary(USER, REPO))
        session = hub._transport._session
        assert session is not None and session.connector is not None
        connector = session.connector
        await until(lambda: bool(connector._acquired))  # the request is on the wire
        await cancel(task)
        assert_clean(hub)
        # the limiter counted the abandoned request as spent, and goes on working
        assert (await hub.images.summary(USER, REPO)).statistics.total == N_IMAGES
        assert_clean(hub)
    assert not client_tasks() - before


@pytest.mark.parametrize("prefetch", [1, 8])
async def test_cancel_mid_pagination(server: FakeHub, prefetch: int) -> None:
    server.inject(Fault.latency(0.05, path="/images$"))
    before = client_tasks()
    async with HubClient(username=USER, secret=PAT, base_url=server.url, **FAST) as hub:
        await hub.login()
        seen: list[str] = []

        async def consume() -> None:
            async for image in hub.images.list(USER, REPO, page_size=5, prefetch=prefetch):
                seen.append(image.digest)

        task = asyncio.ensure_future(consume())
        await until(lambda: len(seen) >= 7)  # page 2 yielded, later pages in flight
        await cancel(task)
        assert_clean(hub)
        assert not client_tasks() - before, "prefetched page requests outlived the iteration"
        got = [i.digest for i in await hub.images.list(USER, REPO, page_size=5).to_list()]
        assert len(got) == len(set(got)) == N_IMAGES
        assert got[: len(seen)] == seen  # what was yielded before was in order, no repeats
    assert not client_tasks() - before


async def test_cancel_mid_pagination_never_sends_the_queued_pages(server: FakeHub) -> None:
    clock = ManualClock(1_700_000_000.0)
    before = client_tasks()
    # a burst of 3 tokens and a clock that never moves: pages 4.. queue at the limiter
    async with HubClient(
        token=server.issue_token(USER), base_url=server.url, requests_per_minute=3, clock=clock
    ) as hub:
        limiter: Any = hub.rate_limiter
        seen: list[str] = []

        async def consume() -> None:
            async for image in hub.images.list(USER, REPO, page_size=5, prefetch=8):
                seen.append(image.digest)

        task = asyncio.ensure_future(consume())
        await until(lambda: len(seen) == 15 and limiter.waiting == 8)  # pages 4..11
        task.cancel()
        await until(task.done)  # at once: it does not wait for the queued pages to be sent
        assert task.cancelled()
        assert limiter.waiting == 0
        assert_clean(hub)
        assert [r.query["page"] for r in server.requests] == ["1", "2", "3"]
    assert not client_tasks() - before


async def test_plain_break_then_close_leaves_nothing(server: FakeHub) -> None:
    server.inject(Fault.latency(0.05, path="/images$"))
    before = client_tasks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with HubClient(username=USER, secret=PAT, base_url=server.url, **FAST) as hub:
            async for image in hub.images.list(USER, REPO, page_size=5, prefetch=8):
                if image.digest:
                    break  # no aclosing: the generator is finalised by the loop
        gc.collect()
        await until(lambda: not client_tasks() - before)
    assert not [w for w in caught if "nclosed" in str(w.message)]


async def test_cancel_mid_login_then_log_in_fine(server: FakeHub) -> None:
    server.inject(Fault.latency(0.5, path="^/v2/auth/token$", times=1))
    before = client_tasks()
    async with HubClient(username=USER, secret=PAT, base_url=server.url, **FAST) as hub:
        first = asyncio.ensure_future(hub.images.summary(USER, REPO))
        await until(lambda: server.logins == 1)  # the login is on the wire
        others = [asyncio.ensure_future(hub.repositories.get(USER, REPO)) for _ in range(5)]
        await asyncio.sleep(0.01)  # they queue behind the single-flight login
        await cancel(first)
        # the waiters are not stuck behind the cancelled login: one of them logs in again
        repos = await asyncio.wait_for(asyncio.gather(*others), 5.0)
        assert all(r.name == REPO for r in repos)
        assert server.logins == 2
        assert (await hub.images.summary(USER, REPO)).statistics.total == N_IMAGES
        assert server.logins == 2
        assert_clean(hub)
    assert not client_tasks() - before


async def test_cancel_during_retry_backoff_frees_the_slot(server: FakeHub) -> None:
    clock = ManualClock(1_700_000_000.0)
    before = client_tasks()
    scale = _retry.backoff_scale()
    _retry.set_backoff_scale(1.0)  # a real (manual-clock) backoff sleep to be cancelled in
    try:
        async with HubClient(
            token=server.issue_token(USER),
            base_url=server.url,
            clock=clock,
            max_concurrency=1,
            **FAST,
        ) as hub:
            server.inject(Fault.error(503, path="/images-summary$"))
            failing = asyncio.ensure_future(hub.images.summary(USER, REPO))
            await until(lambda: clock.sleeping >= 1 and hub.stats.retries >= 1)
            # while it backs off, the only slot is free for others
            repo = await asyncio.wait_for(hub.repositories.get(USER, REPO), 5.0)
            assert repo.name == REPO
            await cancel(failing)
            assert_clean(hub)
    finally:
        _retry.set_backoff_scale(scale)
    assert not client_tasks() - before


# ---------------------------------------------------------------------------------------------
# Anywhere at all: random cancellation of a mixed workload
# ---------------------------------------------------------------------------------------------


def _workload(hub: HubClient, i: int) -> Awaitable[Any]:
    kind = i % 5
    if kind == 0:
        return hub.images.list(USER, REPO, page_size=5, prefetch=8).to_list()
    if kind == 1:
        return hub.images.list(USER, REPO, page_size=7, prefetch=1).to_list()
    if kind == 2:
        return hub.images.summary(USER, REPO)
    if kind == 3:
        return hub.repositories.update(USER, REPO, description=f"d{i}")
    return hub.access_tokens.list(page_size=2).to_list()


@pytest.mark.parametrize("seed", range(6))
async def test_random_cancellation_leaves_nothing(server: FakeHub, seed: int) -> None:
    rng = random.Random(seed)
    server.inject(Fault.latency(0.0, jitter=0.03))
    server.inject(Fault.error(503, probability=0.1))
    server.inject(Fault.latency(0.1, path="^/v2/auth/token$", times=1))
    before = client_tasks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with HubClient(
            username=USER,
            secret=PAT,
            base_url=server.url,
            max_concurrency=rng.choice([1, 2, 4, 16]),
            requests_per_minute=rng.choice([3000, 1_000_000]),
        ) as hub:
            tasks = [asyncio.ensure_future(_workload(hub, i)) for i in range(15)]
            await asyncio.sleep(rng.uniform(0.0, 0.15))
            for t in tasks:
                if rng.random() < 0.7:
                    t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for r in results:
                # cancelled, or finished, or one typed error: never a bare exception
                assert not isinstance(r, Exception) or isinstance(r, ServerError), repr(r)
            assert_clean(hub)
            # nothing stuck: a later call (logging in if the login was cancelled) works
            summary = await asyncio.wait_for(hub.images.summary(USER, REPO), 10.0)
            assert summary.statistics.total == N_IMAGES
            assert_clean(hub)
        del hub
        gc.collect()
    assert not client_tasks() - before
    assert not [w for w in caught if "nclosed" in str(w.message)]
