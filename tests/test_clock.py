"""Clocks and the Hub skew estimator (hubasync._clock)."""

from __future__ import annotations

import asyncio
import math
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubasync._clock import Clock, ManualClock, SkewEstimator, SystemClock

# ---------------------------------------------------------------------------------------------
# SystemClock
# ---------------------------------------------------------------------------------------------


async def test_system_clock_reads_wall_time_and_sleeps() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    before = time.time()
    now = clock.time()
    assert before <= now <= time.time()
    await clock.sleep(0)
    await clock.sleep(-5)  # negative: just yields
    await clock.sleep(float("nan"))


# ---------------------------------------------------------------------------------------------
# ManualClock
# ---------------------------------------------------------------------------------------------


async def test_manual_clock_sleep_waits_until_advanced_past_deadline() -> None:
    clock = ManualClock(1000.0)
    assert isinstance(clock, Clock)
    task = asyncio.create_task(clock.sleep(5))
    await clock.settle()
    assert not task.done()
    assert clock.next_deadline == 1005.0
    clock.advance(4.9)
    await clock.settle()
    assert not task.done()
    clock.advance(0.1)
    await clock.settle()
    assert task.done()
    assert clock.time() == 1005.0
    assert clock.next_deadline is None


async def test_manual_clock_wakes_equal_deadlines_in_sleep_order() -> None:
    clock = ManualClock()
    woke: list[int] = []

    async def sleeper(i: int) -> None:
        await clock.sleep(3)
        woke.append(i)

    tasks = [asyncio.create_task(sleeper(i)) for i in range(20)]
    await clock.settle()
    clock.advance(3)
    await clock.settle()
    assert woke == list(range(20))
    await asyncio.gather(*tasks)


async def test_manual_clock_cancelled_sleeper_is_skipped() -> None:
    clock = ManualClock()
    first = asyncio.create_task(clock.sleep(1))
    second = asyncio.create_task(clock.sleep(2))
    await clock.settle()
    assert clock.sleeping == 2
    first.cancel()
    await clock.settle()
    assert clock.sleeping == 1
    assert clock.next_deadline == clock.time() + 2
    clock.advance(2)
    await clock.settle()
    assert second.done() and first.cancelled()


async def test_manual_clock_zero_sleep_only_yields() -> None:
    clock = ManualClock()
    await asyncio.wait_for(clock.sleep(0), timeout=1)
    await asyncio.wait_for(clock.sleep(-1), timeout=1)
    assert clock.next_deadline is None


async def test_manual_clock_run_until_jumps_to_deadlines() -> None:
    clock = ManualClock(0.0)
    order: list[tuple[float, str]] = []

    async def worker(name: str, delays: list[float]) -> None:
        for d in delays:
            await clock.sleep(d)
            order.append((clock.time(), name))

    tasks = [
        asyncio.create_task(worker("a", [1, 1, 1])),
        asyncio.create_task(worker("b", [2.5, 10])),
    ]
    await clock.run_until(lambda: all(t.done() for t in tasks))
    assert order == [(1, "a"), (2, "a"), (2.5, "b"), (3, "a"), (12.5, "b")]


async def test_manual_clock_run_until_reports_deadlock() -> None:
    clock = ManualClock()
    never = asyncio.Event()
    task = asyncio.create_task(never.wait())
    with pytest.raises(RuntimeError, match="deadlock"):
        await clock.run_until(task.done)
    task.cancel()


async def test_manual_clock_step_back_and_bad_input() -> None:
    clock = ManualClock(100.0)
    clock.advance(-50)
    assert clock.time() == 50.0
    clock.advance_to(40)  # never backwards
    assert clock.time() == 50.0
    with pytest.raises(ValueError, match="finite"):
        clock.advance(float("nan"))
    with pytest.raises(ValueError, match="finite"):
        clock.advance_to(float("inf"))
    with pytest.raises(ValueError, match="finite"):
        ManualClock(float("inf"))


def test_manual_clock_constructs_outside_a_loop() -> None:
    clock = ManualClock()
    assert clock.time() == clock() == clock.now == 1_700_000_000.0
    assert "ManualClock" in repr(clock)


# ---------------------------------------------------------------------------------------------
# SkewEstimator: tables
# ---------------------------------------------------------------------------------------------


def test_skew_unknown_before_any_date() -> None:
    est = SkewEstimator()
    assert est.bounds is None
    assert est.offset == 0.0
    assert est.to_local(1234.5) == 1234.5


@pytest.mark.parametrize(
    ("date", "sent", "received", "bounds"),
    [
        # Hub's clock equals ours; Date floors to the second
        (1000.0, 1000.2, 1000.4, (-0.4, 0.8)),
        # Hub two minutes ahead
        (1120.0, 1000.0, 1000.5, (119.5, 121.0)),
        # Hub two minutes behind
        (880.0, 1000.0, 1000.5, (-120.5, -119.0)),
    ],
)
def test_skew_single_observation_bounds(
    date: float, sent: float, received: float, bounds: tuple[float, float]
) -> None:
    est = SkewEstimator()
    est.observe(date, sent, received)
    assert est.bounds == pytest.approx(bounds)
    assert est.offset == pytest.approx(sum(bounds) / 2)


def test_skew_intersects_observations_and_to_local_is_conservative() -> None:
    est = SkewEstimator()
    # true offset +120.3 (server = local + 120.3)
    est.observe(1120.0, 999.6, 999.8)  # [120.2, 121.4]
    est.observe(1121.0, 1000.75, 1000.85)  # [120.15, 121.25]
    assert est.bounds == pytest.approx((120.2, 121.25))
    # to_local uses the low bound: the latest local instant consistent with the bounds
    assert est.to_local(2000.0) == pytest.approx(2000.0 - 120.2)
    assert est.to_local(2000.0) >= 2000.0 - 120.3


def test_skew_restarts_when_a_clock_jumps() -> None:
    est = SkewEstimator()
    est.observe(1000.0, 1000.0, 1000.1)  # offset in [-0.1, 1.0]
    est.observe(2000.0, 1000.2, 1000.3)  # Hub jumped an hour ahead -> incompatible
    low, high = est.bounds or (0.0, 0.0)
    assert low == pytest.approx(999.7)
    assert high == pytest.approx(1000.8)
    # and later observations intersect with the new regime only
    est.observe(2001.0, 1001.1, 1001.2)
    assert est.bounds == pytest.approx((999.8, 1000.8))


def test_skew_horizon_forgets_observations_older_than_it() -> None:
    est = SkewEstimator(horizon_s=10.0)
    est.observe(1000.0, 1000.0, 1000.0)  # [0, 1]
    est.observe(1005.0, 1004.5, 1004.5)  # [0.5, 1.5] -> [0.5, 1]
    assert est.bounds == pytest.approx((0.5, 1.0))
    est.observe(1012.0, 1011.2, 1011.2)  # [0.8, 1.8]; the first is 11 s old -> [0.8, 1.5]
    assert est.bounds == pytest.approx((0.8, 1.5))


def test_a_burst_at_one_fraction_does_not_push_out_the_tight_bounds() -> None:
    """With a count-based window, 100 responses at .9 of a second widened the bounds."""
    est = SkewEstimator()
    est.observe(1001.0, 1000.99, 1000.99)  # [0.01, 1.01]: the low bound pinned at 0.01
    for i in range(100):
        t = 1002.9 + i
        est.observe(math.floor(t), t, t)  # each [-0.9, 0.1]
    assert est.bounds == pytest.approx((0.01, 0.1))


@pytest.mark.parametrize(
    ("date", "sent", "received"),
    [
        (float("nan"), 1.0, 2.0),
        (1.0, float("inf"), 2.0),
        (1.0, 1.0, float("-inf")),
        (1000.0, 1001.0, 1000.0),  # received before sent: the local clock stepped
    ],
)
def test_skew_ignores_unusable_observations(date: float, sent: float, received: float) -> None:
    est = SkewEstimator()
    est.observe(date, sent, received)
    assert est.bounds is None


@pytest.mark.parametrize("horizon", [0, -1, float("nan"), float("inf"), "60"])
def test_skew_horizon_must_be_positive(horizon: object) -> None:
    with pytest.raises(ValueError, match="horizon_s"):
        SkewEstimator(horizon_s=horizon)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# SkewEstimator: convergence (±2 min, no one-second bias)
# ---------------------------------------------------------------------------------------------


def _simulate(offset: float, n: int, seed: int) -> tuple[SkewEstimator, float]:
    """Hub = local + offset; requests at random times with 5-60 ms latency each way."""
    rng = random.Random(seed)
    est = SkewEstimator()
    local = 1_700_000_000.0
    naive_sum = 0.0
    for _ in range(n):
        local += rng.uniform(0.05, 2.0)
        sent = local
        stamped = sent + rng.uniform(0.005, 0.06)
        received = stamped + rng.uniform(0.005, 0.06)
        date = math.floor(stamped + offset)
        est.observe(date, sent, received)
        naive_sum += date - received
        local = received
    return est, naive_sum / n


@pytest.mark.parametrize("offset", [-120.0, -119.37, -0.5, 0.0, 0.42, 120.0, 120.81])
def test_skew_converges_inside_true_offset_without_bias(offset: float) -> None:
    est, naive = _simulate(offset, 40, seed=int(offset * 100))
    low, high = est.bounds or (0.0, 0.0)
    assert low <= offset <= high
    assert high - low < 0.25  # a 1 s resolution header, pinned down to about one RTT
    assert abs(est.offset - offset) < 0.125
    # the naive "Date - received_at" estimate is biased by about half a second
    assert offset - naive > 0.3
    # converting a server instant never gives a local instant before the true one
    assert est.to_local(1_700_000_100.0) >= 1_700_000_100.0 - offset - 1e-9


@settings(max_examples=200, deadline=None)
@given(
    offset=st.floats(-300, 300),
    steps=st.lists(
        st.tuples(
            st.floats(0, 5),  # idle before sending
            st.floats(0, 2),  # latency to Hub
            st.floats(0, 2),  # latency back
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_skew_bounds_always_hold_the_true_offset(
    offset: float, steps: list[tuple[float, float, float]]
) -> None:
    est = SkewEstimator(horizon_s=5.0)
    local = 1_700_000_000.0
    for idle, up, down in steps:
        sent = local + idle
        stamped = sent + up
        received = stamped + down
        est.observe(math.floor(stamped + offset), sent, received)
        local = received
        low, high = est.bounds or (0.0, 0.0)
        assert low - 1e-6 <= offset <= high + 1e-6
        assert est.to_local(stamped + offset) >= stamped - 1e-6


# ---------------------------------------------------------------------------------------------
# One ManualClock for the client and FakeHub
# ---------------------------------------------------------------------------------------------


def test_the_testing_manual_clock_is_the_client_s() -> None:
    import hubasync.testing

    assert hubasync.testing.ManualClock is ManualClock
    clock = hubasync.testing.ManualClock(100.0)
    assert isinstance(clock, Clock)  # what HubClient(clock=...) needs: time() and sleep()
    assert clock() == clock.time() == clock.now == 100.0  # what FakeHub(clock=...) calls
    assert clock.advance(5) == 105.0
    clock.set(50.0)
    assert clock.time() == 50.0
    with pytest.raises(ValueError, match="finite"):
        clock.set(float("nan"))


async def test_set_wakes_the_sleepers_that_are_due() -> None:
    clock = ManualClock(0.0)
    woke: list[float] = []

    async def sleeper(s: float) -> None:
        await clock.sleep(s)
        woke.append(s)

    tasks = [asyncio.create_task(sleeper(s)) for s in (1.0, 5.0)]
    await clock.settle()
    clock.set(2.0)
    await clock.settle()
    assert woke == [1.0]
    clock.set(5.0)
    await asyncio.gather(*tasks)
    assert woke == [1.0, 5.0]


async def test_one_clock_drives_the_client_s_token_refresh_and_fakehub_s_expiry() -> None:
    from hubasync import HubClient
    from hubasync.testing import FakeHub

    clock = ManualClock(1_700_000_000.0)
    pat = "dckr_pat_alice_0000000000000000000"
    async with FakeHub(clock=clock, token_lifetime_s=600) as server:
        server.add_user("alice", "pw", pats=[pat])
        async with HubClient(
            username="alice",
            secret=pat,
            base_url=server.url,
            clock=clock,
            requests_per_minute=1_000_000,
        ) as hub:
            assert await hub.repositories.exists("alice", "nothing") is False
            clock.advance(700)  # the token expired on both sides of the connection
            assert await hub.repositories.exists("alice", "nothing") is False
            assert hub.stats.logins == 2
    # The client saw the expiry on the shared clock and logged in again before sending: no
    # request went out with the dead token.
    assert [r.status for r in server.requests if r.status == 401] == []
