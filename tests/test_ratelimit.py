"""Rate-limit header parsing and the adaptive limiter (hubasync._ratelimit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from hubasync._clock import ManualClock, SkewEstimator
from hubasync._ratelimit import (
    AdaptiveTokenBucket,
    BudgetUpdate,
    RateLimiter,
    RateLimitInfo,
    parse_retry_hint,
)
from hubasync.errors import RateLimitError

T0 = 1_700_000_000.0
DATE_T0 = "Tue, 14 Nov 2023 22:13:20 GMT"  # == T0
HTTP_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
HTTP_DATE_TS = 1445412480.0

# ---------------------------------------------------------------------------------------------
# parse_retry_hint
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # unix timestamp (seed: X-Retry-After; seen in Retry-After)
        ("1700000060", (1700000060.0, None)),
        ("1700000060.25", (1700000060.25, None)),
        ("1000000000", (1e9, None)),
        (" 1700000060 ", (1700000060.0, None)),
        # delta seconds (current spec: Retry-After)
        ("12", (None, 12.0)),
        ("12.5", (None, 12.5)),
        ("0", (None, 0.0)),
        ("999999999", (None, 999999999.0)),
        # HTTP-date, all three RFC 9110 forms
        (HTTP_DATE, (HTTP_DATE_TS, None)),
        ("Wed, 21 Oct 2015 07:28:00 -0000", (HTTP_DATE_TS, None)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", (784111777.0, None)),
        ("Sun Nov  6 08:49:37 1994", (784111777.0, None)),
        # garbage
        ("", (None, None)),
        ("   ", (None, None)),
        ("abc", (None, None)),
        ("-1", (None, None)),
        ("-5", (None, None)),
        ("+5", (None, None)),
        ("1e400", (None, None)),
        ("1e3", (None, None)),
        ("NaN", (None, None)),
        ("inf", (None, None)),
        ("-inf", (None, None)),
        ("12s", (None, None)),
        ("0x10", (None, None)),
        ("1_000", (None, None)),
        ("\u0661\u0662", (None, None)),  # Arabic-Indic "12": int() would take it
        ("99999999999999", (None, None)),  # beyond year 5000
        ("9" * 400, (None, None)),
        ("Wed, 32 Oct 2015 07:28:00 GMT", (None, None)),
    ],
)
def test_parse_retry_hint(value: str, expected: tuple[float | None, float | None]) -> None:
    assert parse_retry_hint(value) == expected


# ---------------------------------------------------------------------------------------------
# RateLimitInfo.from_headers
# ---------------------------------------------------------------------------------------------

RECEIVED = T0 + 0.5


def _info(**fields: Any) -> RateLimitInfo:
    base: dict[str, Any] = {
        "limit": None,
        "remaining": None,
        "reset": None,
        "retry_at": None,
        "retry_after": None,
        "date": None,
        "received_at": RECEIVED,
    }
    base.update(fields)
    return RateLimitInfo(**base)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {
                "X-RateLimit-Limit": "180",
                "X-RateLimit-Remaining": "179",
                "X-RateLimit-Reset": "1700000060",
                "Date": DATE_T0,
            },
            _info(limit=180, remaining=179, reset=1700000060.0, date=T0),
            id="ok-response",
        ),
        pytest.param(
            {"X-Retry-After": "1700000042", "X-RateLimit-Remaining": "0"},
            _info(remaining=0, retry_at=1700000042.0),
            id="seed-429-x-retry-after-epoch",
        ),
        pytest.param(
            {"Retry-After": "30"},
            _info(retry_after=30.0),
            id="current-429-retry-after-seconds",
        ),
        pytest.param(
            {"Retry-After": "1700000042"},
            _info(retry_at=1700000042.0),
            id="observed-429-retry-after-epoch",
        ),
        pytest.param(
            {"Retry-After": HTTP_DATE},
            _info(retry_at=HTTP_DATE_TS),
            id="retry-after-http-date",
        ),
        pytest.param(
            {"X-Retry-After": "1700000042", "Retry-After": "30"},
            _info(retry_at=1700000042.0),
            id="x-retry-after-wins",
        ),
        pytest.param(
            {"X-Retry-After": "abc", "Retry-After": "30"},
            _info(retry_after=30.0),
            id="invalid-x-retry-after-falls-back",
        ),
        pytest.param(
            {"X-Retry-After": "", "Retry-After": "-1"},
            _info(),
            id="both-hints-garbage",
        ),
        pytest.param({}, _info(), id="missing"),
        pytest.param(
            {"x-ratelimit-limit": "60", "X-RATELIMIT-REMAINING": "7", "x-RateLimit-reset": "1e400"},
            _info(limit=60, remaining=7),
            id="case-insensitive-and-garbage-reset",
        ),
        pytest.param(
            {
                "X-RateLimit-Limit": "abc",
                "X-RateLimit-Remaining": "-5",
                "X-RateLimit-Reset": "NaN",
                "Retry-After": "inf",
                "Date": "yesterday",
            },
            _info(),
            id="garbage-everywhere",
        ),
        pytest.param(
            {"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0"},
            _info(remaining=0),
            id="limit-zero-is-garbage-remaining-zero-is-not",
        ),
        pytest.param(
            {"X-RateLimit-Limit": "99999999999", "X-RateLimit-Remaining": "12.5"},
            _info(),
            id="huge-and-fractional-counts",
        ),
        pytest.param(
            {"X-RateLimit-Limit": "180;w=60", "X-RateLimit-Remaining": " 3 "},
            _info(limit=180, remaining=3),
            id="count-with-parameters",
        ),
        pytest.param(
            {"X-RateLimit-Reset": "42", "Date": DATE_T0},
            _info(reset=T0 + 42, date=T0),
            id="reset-as-delta-after-date",
        ),
        pytest.param(
            {"X-RateLimit-Reset": "42"},
            _info(),
            id="reset-as-delta-without-date-is-unusable",
        ),
        pytest.param(
            {"X-RateLimit-Limit": 180, "X-RateLimit-Remaining": b"4"},
            _info(remaining=4),
            id="non-text-values",
        ),
    ],
)
def test_from_headers(headers: Mapping[str, Any], expected: RateLimitInfo) -> None:
    assert RateLimitInfo.from_headers(headers, RECEIVED) == expected


def test_from_headers_reads_aiohttp_multidict_first_value_wins() -> None:
    raw: CIMultiDict[str] = CIMultiDict()
    raw.add("x-ratelimit-remaining", "5")
    raw.add("X-RateLimit-Remaining", "9")
    raw.add("RETRY-AFTER", "3")
    info = RateLimitInfo.from_headers(CIMultiDictProxy(raw), RECEIVED)
    assert info.remaining == 5
    assert info.retry_after == 3.0


def test_retry_instant_precedence() -> None:
    def shift(t: float) -> float:
        return t - 100.0  # Hub runs 100 s ahead

    reset = T0 + 60
    assert _info(retry_at=T0 + 30, reset=reset).retry_instant(shift) == T0 - 70
    assert _info(retry_after=12.0, reset=reset).retry_instant(shift) == RECEIVED + 12.0
    assert _info(reset=reset).retry_instant(shift) == T0 - 40
    assert _info().retry_instant(shift) is None


def test_budget_update_converts_with_skew() -> None:
    skew = SkewEstimator()
    skew.observe(T0 + 120, T0 - 0.2, T0)  # Hub ~2 min ahead: offset in [120, 121.2]
    info = _info(limit=180, remaining=3, reset=T0 + 180)
    update = info.budget_update(skew.to_local)
    assert update == BudgetUpdate(
        limit=180, remaining=3, reset_at=T0 + 60, observed_at=RECEIVED, hub_reset=T0 + 180
    )
    assert _info().budget_update(skew.to_local).reset_at is None


# ---------------------------------------------------------------------------------------------
# AdaptiveTokenBucket: helpers
# ---------------------------------------------------------------------------------------------


def upd(
    clock: ManualClock,
    *,
    remaining: int | None,
    reset_in: float | None = None,
    limit: int | None = 100,
    hub: bool = True,
) -> BudgetUpdate:
    """A response that arrived now; Hub's clock = ours (hub_reset given unless hub=False)."""
    reset_at = None if reset_in is None else clock.time() + reset_in
    return BudgetUpdate(
        limit=limit,
        remaining=remaining,
        reset_at=reset_at,
        observed_at=clock.time(),
        hub_reset=reset_at if hub else None,
    )


class Crowd:
    """Tasks calling acquire(); records the order in which they got through."""

    def __init__(self, limiter: AdaptiveTokenBucket) -> None:
        self.limiter = limiter
        self.granted: list[int] = []
        self.waited: dict[int, float] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def spawn(self, *ids: int) -> None:
        for i in ids:
            self.tasks[i] = asyncio.create_task(self._one(i))

    async def _one(self, i: int) -> None:
        self.waited[i] = await self.limiter.acquire()
        self.granted.append(i)


async def held(limiter: AdaptiveTokenBucket, n: int) -> None:
    """Take n reservations directly (they stay in flight)."""
    for _ in range(n):
        await limiter.acquire()


async def settled_limiter(
    clock: ManualClock, *, remaining: int, reset_in: float = 30.0, limit: int = 100
) -> AdaptiveTokenBucket:
    """A limiter that has seen one response: `remaining` left, nothing in flight."""
    limiter = AdaptiveTokenBucket(clock=clock)
    await limiter.acquire()
    await limiter.release(upd(clock, remaining=remaining, reset_in=reset_in, limit=limit))
    assert limiter.in_flight == 0
    return limiter


async def exhausted(clock: ManualClock, *, reset_in: float = 60.0) -> AdaptiveTokenBucket:
    """A limiter with no budget left until the reset and one request in flight."""
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 2)
    await limiter.release(upd(clock, remaining=1, reset_in=reset_in))
    assert limiter.in_flight == 1
    assert limiter.remaining == 1
    return limiter


# ---------------------------------------------------------------------------------------------
# AdaptiveTokenBucket: construction
# ---------------------------------------------------------------------------------------------


def test_limiter_constructs_outside_a_loop_with_neutral_state() -> None:
    limiter = AdaptiveTokenBucket()
    assert isinstance(limiter, RateLimiter)
    assert limiter.in_flight == 0
    assert limiter.waiting == 0
    assert limiter.limit is None
    assert limiter.remaining is None
    assert limiter.reset_at is None
    assert limiter.window == 60.0
    assert limiter.paused_until is None
    assert "AdaptiveTokenBucket" in repr(limiter)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"requests_per_minute": -1}, "requests_per_minute"),
        ({"requests_per_minute": 1.5}, "requests_per_minute"),
        ({"requests_per_minute": True}, "requests_per_minute"),
        ({"burst": 0}, "burst"),
        ({"burst": 2.0}, "burst"),
    ],
)
def test_limiter_rejects_bad_configuration(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaptiveTokenBucket(**kwargs)


# ---------------------------------------------------------------------------------------------
# Before any headers: a token bucket with a small burst
# ---------------------------------------------------------------------------------------------


async def test_conservative_start_small_burst_then_assumed_rate() -> None:
    clock = ManualClock(T0)
    crowd = Crowd(AdaptiveTokenBucket(requests_per_minute=60, clock=clock))
    crowd.spawn(*range(30))
    await clock.settle()
    assert crowd.granted == list(range(10))  # default burst: min(10, rpm)
    clock.advance(0.999)
    await clock.settle()
    assert len(crowd.granted) == 10
    clock.advance(0.001)
    await clock.settle()
    assert len(crowd.granted) == 11  # 60 per minute = 1 per second
    clock.advance(5)
    await clock.settle()
    assert crowd.granted == list(range(16))
    for task in crowd.tasks.values():
        task.cancel()


@pytest.mark.parametrize(("rpm", "burst", "first"), [(5, None, 5), (180, 3, 3), (180, None, 10)])
async def test_start_burst_is_bounded(rpm: int, burst: int | None, first: int) -> None:
    clock = ManualClock(T0)
    crowd = Crowd(AdaptiveTokenBucket(requests_per_minute=rpm, burst=burst, clock=clock))
    crowd.spawn(*range(50))
    await clock.settle()
    assert len(crowd.granted) == first
    for task in crowd.tasks.values():
        task.cancel()


async def test_limit_without_remaining_sets_the_bucket_rate() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(requests_per_minute=600, burst=1, clock=clock)
    await limiter.acquire()
    await limiter.release(upd(clock, remaining=None, limit=6))  # 6 per 60 s window
    crowd = Crowd(limiter)
    crowd.spawn(0)
    clock.advance(9.9)
    await clock.settle()
    assert crowd.granted == []  # 600/min would have let it through after 0.1 s
    clock.advance(0.1)
    await clock.settle()
    assert crowd.granted == [0]


# ---------------------------------------------------------------------------------------------
# After headers: Hub's remaining minus in flight, refill at the reset
# ---------------------------------------------------------------------------------------------


async def test_budget_is_remaining_minus_in_flight() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 3)
    await limiter.release(upd(clock, remaining=5, reset_in=30, limit=50))
    assert limiter.in_flight == 2
    assert limiter.remaining == 5
    crowd = Crowd(limiter)
    crowd.spawn(*range(10))
    await clock.settle()
    assert crowd.granted == [0, 1, 2]  # 5 remaining - 2 in flight
    clock.advance(29.9)
    await clock.settle()
    assert len(crowd.granted) == 3
    clock.advance(0.1)  # the reset: refill to the limit (50), minus 5 in flight
    await clock.settle()
    assert crowd.granted == list(range(10))
    assert limiter.remaining == 50
    assert limiter.in_flight == 12


async def test_refill_at_reset_and_next_reset_one_window_later() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=0, reset_in=10, limit=4)
    reset = T0 + 10
    crowd = Crowd(limiter)
    crowd.spawn(*range(9))
    await clock.run_until(lambda: len(crowd.granted) >= 4)
    assert clock.time() == reset
    assert crowd.granted == list(range(4))
    assert limiter.reset_at == reset + 60  # default window before two resets
    for _ in range(4):
        await limiter.release(None)  # spent in this window, not the next
    await clock.run_until(lambda: len(crowd.granted) >= 8)
    assert clock.time() == reset + 60
    assert crowd.granted == list(range(8))
    crowd.tasks[8].cancel()


async def test_window_is_learned_from_successive_resets() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=10, reset_in=5, limit=10)
    assert limiter.window == 60.0
    clock.advance(6)
    await held(limiter, 1)
    await limiter.release(upd(clock, remaining=9, reset_in=29, limit=10))  # reset T0 + 35
    assert limiter.window == 30.0
    clock.advance(0.2)  # jitter below a second is the same window
    await held(limiter, 1)
    await limiter.release(upd(clock, remaining=8, reset_in=28.6, limit=10))
    assert limiter.window == 30.0
    assert limiter.remaining == 8
    # no further response: the next resets are extrapolated with the learned window
    clock.advance_to(T0 + 35)
    assert limiter.reset_at == T0 + 65
    assert limiter.remaining == 10
    clock.advance_to(T0 + 100)
    assert limiter.reset_at == T0 + 125


async def test_window_ignores_multiples_from_idle_stretches() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=10, reset_in=5, limit=10)
    for reset_in, expected in [(20, 20.0), (60, 20.0), (20, 20.0)]:
        clock.advance_to(limiter.reset_at or 0.0)
        await held(limiter, 1)
        await limiter.release(upd(clock, remaining=9, reset_in=reset_in))
        assert limiter.window == expected


async def test_window_learned_from_local_instants_is_never_short() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 1)
    await limiter.release(upd(clock, remaining=10, reset_in=5, hub=False))
    clock.advance(6)
    await held(limiter, 1)
    # the skew estimate tightened: the next reset converts 0.8 s earlier than Hub's 30 s
    await limiter.release(upd(clock, remaining=9, reset_in=29 - 0.8, hub=False))
    assert limiter.window >= 30.0


async def test_min_remaining_within_a_window_and_new_window_starts_afresh() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 5)
    await limiter.release(upd(clock, remaining=10, reset_in=40))
    await limiter.release(upd(clock, remaining=12, reset_in=40))  # overtaken response
    assert limiter.remaining == 10
    await limiter.release(upd(clock, remaining=7, reset_in=40))
    assert limiter.remaining == 7
    clock.advance(39.5)
    # a later reset instant: a new window (Hub's clock runs a little ahead of ours)
    await limiter.release(upd(clock, remaining=95, reset_in=60.5))
    assert limiter.remaining == 95
    assert limiter.reset_at == T0 + 100
    # a response from the old window arriving late is charged (its request counts against
    # the current window: never dropped), but its old count does not lower the new window's
    clock.advance(0.2)
    await limiter.release(upd(clock, remaining=0, reset_in=0.3))
    assert limiter.remaining == 94
    assert limiter.reset_at == T0 + 100
    # without Hub's own instants too, once that window is over by our clock
    clock.advance(1)
    await held(limiter, 1)
    await limiter.release(upd(clock, remaining=0, reset_in=-0.7, hub=False))
    assert limiter.remaining == 93


async def test_release_without_headers_counts_as_spent() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=10)
    await held(limiter, 3)
    await limiter.release(None)
    assert limiter.remaining == 9
    assert limiter.in_flight == 2
    # a response processed before that request cannot undo it ...
    await limiter.release(upd(clock, remaining=8, reset_in=30))
    # ... 8 counts the two requests before it; the header-less one may have come after
    assert limiter.remaining == 7
    await limiter.release(upd(clock, remaining=None, limit=100))  # headers without a count
    assert limiter.remaining == 6


async def test_hundred_acquirers_never_overspend() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=20, reset_in=30, limit=20)
    crowd = Crowd(limiter)
    crowd.spawn(*range(100))
    await clock.settle()
    assert len(crowd.granted) == 20
    # they finish out of order; Hub's counts arrive out of order too
    for remaining in [5, 19, 0, 12, 3]:
        await limiter.release(upd(clock, remaining=remaining, reset_in=30, limit=20))
        await clock.settle()
    assert len(crowd.granted) == 20
    await clock.run_until(lambda: len(crowd.granted) > 20)
    assert clock.time() == T0 + 30
    assert len(crowd.granted) == 25  # refilled to 20, 15 still in flight
    assert limiter.in_flight == 20
    for task in crowd.tasks.values():
        task.cancel()


# ---------------------------------------------------------------------------------------------
# Waiting: FIFO and cancellation-safe
# ---------------------------------------------------------------------------------------------


async def test_fifo_order_and_newcomers_do_not_jump_the_line() -> None:
    clock = ManualClock(T0)
    limiter = await exhausted(clock)
    crowd = Crowd(limiter)
    crowd.spawn(*range(5))
    await clock.settle()
    assert limiter.waiting == 5
    # budget appears (the in-flight request reports a new window) as a newcomer arrives
    await limiter.release(upd(clock, remaining=2, reset_in=90))
    crowd.spawn(99)
    await clock.settle()
    assert crowd.granted == [0, 1]
    clock.advance_to(T0 + 90)
    await clock.settle()
    assert crowd.granted == [0, 1, 2, 3, 4, 99]


async def test_cancelled_head_and_middle_waiters_take_no_token() -> None:
    clock = ManualClock(T0)
    limiter = await exhausted(clock)
    crowd = Crowd(limiter)
    crowd.spawn(*range(6))
    await clock.settle()
    assert limiter.waiting == 6
    crowd.tasks[0].cancel()  # head: sleeping on the reset timer
    crowd.tasks[3].cancel()  # middle
    await clock.settle()
    assert limiter.waiting == 4
    await limiter.release(upd(clock, remaining=3, reset_in=90))  # new window: 3 left
    await clock.settle()
    assert crowd.granted == [1, 2, 4]
    assert limiter.in_flight == 3
    assert limiter.waiting == 1
    assert crowd.tasks[0].cancelled() and crowd.tasks[3].cancelled()
    crowd.tasks[5].cancel()


async def test_head_cancelled_after_being_woken_passes_the_token_on() -> None:
    clock = ManualClock(T0)
    limiter = await exhausted(clock)
    crowd = Crowd(limiter)
    crowd.spawn(0, 1, 2)
    await clock.settle()
    await limiter.release(upd(clock, remaining=1, reset_in=90))  # wakes the head ...
    crowd.tasks[0].cancel()  # ... which is cancelled before it runs
    await clock.settle()
    assert crowd.granted == [1]
    assert limiter.in_flight == 1
    crowd.tasks[2].cancel()


async def test_promoted_waiter_cancelled_before_running_wakes_the_next() -> None:
    clock = ManualClock(T0)
    limiter = await exhausted(clock)
    order: list[str] = []
    victim: asyncio.Task[None] | None = None

    async def first() -> None:
        await limiter.acquire()
        order.append("first")
        assert victim is not None
        victim.cancel()  # the next in line was just promoted and has not run yet

    async def named(name: str) -> None:
        await limiter.acquire()
        order.append(name)

    tasks = [asyncio.create_task(first())]
    victim = asyncio.create_task(named("victim"))
    tasks.append(asyncio.create_task(named("third")))
    await clock.settle()
    await limiter.release(upd(clock, remaining=3, reset_in=90))
    await clock.settle()
    assert order == ["first", "third"]
    assert victim.cancelled()
    assert limiter.in_flight == 2


async def test_acquire_returns_seconds_waited() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=0, reset_in=12.5)
    crowd = Crowd(limiter)
    crowd.spawn(0)
    await clock.run_until(lambda: bool(crowd.granted))
    assert crowd.waited[0] == pytest.approx(12.5)
    assert await limiter.acquire() == 0.0


async def test_a_free_token_is_granted_without_a_future_or_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The hot path: nobody waits and the budget has a request, so acquire() creates no
    # future and sets no timer (a waiting line of one would cost both on every request).
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=5, reset_in=30)
    loop = asyncio.get_running_loop()
    created: list[object] = []
    original = loop.create_future
    monkeypatch.setattr(loop, "create_future", lambda: created.append(1) or original())
    assert await limiter.acquire() == 0.0
    assert limiter.try_acquire()
    assert created == []
    assert clock.next_deadline is None  # nothing sleeps on the clock
    assert limiter.in_flight == 2


async def test_try_acquire_reserves_only_what_needs_no_wait() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=2, reset_in=30)
    assert limiter.try_acquire()
    assert limiter.try_acquire()
    assert not limiter.try_acquire()  # spent: nothing reserved, nobody queued
    assert (limiter.in_flight, limiter.waiting) == (2, 0)
    crowd = Crowd(limiter)
    crowd.spawn(0)
    await clock.settle()
    assert limiter.waiting == 1
    limiter.release_nowait(upd(clock, remaining=5, reset_in=30))
    # A token is free again, but a waiter is first in line: no jumping it.
    assert not limiter.try_acquire()
    await clock.settle()
    assert crowd.granted == [0]
    assert limiter.in_flight == 2


# ---------------------------------------------------------------------------------------------
# pause_until (a 429)
# ---------------------------------------------------------------------------------------------


async def test_pause_blocks_everyone_and_only_extends() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=100, reset_in=600)
    crowd = Crowd(limiter)
    crowd.spawn(0, 1)
    await clock.settle()
    assert crowd.granted == [0, 1]
    await limiter.pause_until(T0 + 20)
    crowd.spawn(2, 3)  # current waiters ...
    await clock.settle()
    await limiter.pause_until(T0 + 10)  # an earlier pause does not shorten it
    assert limiter.paused_until == T0 + 20
    clock.advance(15)
    crowd.spawn(4)  # ... and future ones
    await clock.settle()
    assert crowd.granted == [0, 1]
    await limiter.pause_until(T0 + 30)  # a later one extends it
    clock.advance_to(T0 + 29.99)
    await clock.settle()
    assert crowd.granted == [0, 1]
    clock.advance_to(T0 + 30)
    await clock.settle()
    assert crowd.granted == [0, 1, 2, 3, 4]
    assert crowd.waited[2] == pytest.approx(30)


async def test_pause_before_headers_restarts_the_bucket_with_one_token() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(requests_per_minute=60, clock=clock)
    await limiter.pause_until(T0 + 100)
    crowd = Crowd(limiter)
    crowd.spawn(*range(5))
    await clock.run_until(lambda: bool(crowd.granted))
    assert clock.time() == T0 + 100
    await clock.settle()
    assert crowd.granted == [0]  # no saved-up burst after a 429
    for task in crowd.tasks.values():
        task.cancel()


@pytest.mark.parametrize("until", [float("nan"), float("inf"), "soon", None])
async def test_pause_until_rejects_non_instants(until: Any) -> None:
    limiter = AdaptiveTokenBucket(clock=ManualClock())
    with pytest.raises(ValueError, match="pause_until"):
        await limiter.pause_until(until)


# ---------------------------------------------------------------------------------------------
# Garbage and odd updates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "limit", "remaining", "reset_at"),
    [
        pytest.param(
            BudgetUpdate(limit=0, remaining=5, reset_at=T0 + 30, observed_at=T0),
            None,
            5,
            T0 + 30,
            id="limit-zero-ignored",
        ),
        pytest.param(
            BudgetUpdate(limit=-3, remaining=5, reset_at=T0 + 30, observed_at=T0),
            None,
            5,
            T0 + 30,
            id="negative-limit-ignored",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=50, reset_at=T0 + 30, observed_at=T0),
            10,
            10,
            T0 + 30,
            id="remaining-above-limit-clamped",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=-1, reset_at=T0 + 30, observed_at=T0),
            10,
            None,
            None,
            id="negative-remaining-is-no-count",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=4, reset_at=T0 - 30, observed_at=T0),
            10,
            4,
            T0 + 60,
            id="reset-in-the-past-assumes-at-most-one-window",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=4, reset_at=float("nan"), observed_at=T0),
            10,
            4,
            T0 + 60,
            id="reset-nan",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=4, reset_at=T0 + 86400 * 365, observed_at=T0),
            10,
            4,
            T0 + 60,
            id="reset-a-year-ahead-would-stall",
        ),
        pytest.param(
            BudgetUpdate(limit=10, remaining=4, reset_at=T0 + 30, observed_at=float("inf")),
            10,
            4,
            T0 + 30,
            id="observed-at-garbage",
        ),
        pytest.param(
            BudgetUpdate(
                limit=10, remaining=4, reset_at=T0 + 30, observed_at=T0, hub_reset=float("nan")
            ),
            10,
            4,
            T0 + 30,
            id="hub-reset-garbage",
        ),
        pytest.param(
            BudgetUpdate(limit=True, remaining=2.5, reset_at="x", observed_at=T0),  # type: ignore[arg-type]
            None,
            None,
            None,
            id="wrong-types",
        ),
    ],
)
async def test_garbage_updates_are_handled(
    update: BudgetUpdate, limit: int | None, remaining: int | None, reset_at: float | None
) -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 1)
    await limiter.release(update)
    assert limiter.limit == limit
    # a request that ended without a usable count is counted as spent, not forgotten
    assert limiter.remaining == remaining
    assert limiter.reset_at == reset_at
    # and the limiter still lets requests through
    crowd = Crowd(limiter)
    crowd.spawn(0)
    await clock.run_until(lambda: bool(crowd.granted))
    assert clock.time() <= T0 + 60


async def test_no_limit_known_falls_back_to_bucket_after_the_reset() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(requests_per_minute=60, burst=2, clock=clock)
    await held(limiter, 1)
    await limiter.release(upd(clock, remaining=0, reset_in=10, limit=None))
    assert limiter.remaining == 0
    clock.advance(10)
    assert limiter.remaining is None
    assert limiter.reset_at is None
    crowd = Crowd(limiter)
    crowd.spawn(0, 1, 2)
    await clock.settle()
    assert crowd.granted == [0, 1]
    crowd.tasks[2].cancel()


async def test_skew_corrected_reset_that_moves_is_the_same_window() -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(clock=clock)
    await held(limiter, 3)
    await limiter.release(upd(clock, remaining=10, reset_in=30, hub=False))
    # the skew estimate tightened: the same reset now converts 3 s earlier (slow responses)
    await limiter.release(upd(clock, remaining=6, reset_in=27, hub=False))
    assert limiter.remaining == 6
    assert limiter.reset_at == T0 + 30  # the later (conservative) conversion is kept
    await limiter.release(upd(clock, remaining=8, reset_in=29.5, hub=False))
    assert limiter.remaining == 6


async def test_resets_that_go_back_to_a_running_window_are_believed() -> None:
    clock = ManualClock(T0)
    limiter = await exhausted(clock, reset_in=3000)  # a wild reset
    await limiter.release(upd(clock, remaining=50, reset_in=40))
    assert limiter.reset_at == T0 + 40  # no 50-minute stall
    assert limiter.remaining == 1  # the lower count stays: it might be this window's
    clock.advance(40)
    assert limiter.remaining == 100


async def test_local_clock_step_back_moves_deadlines_with_it() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=0, reset_in=30)
    await limiter.pause_until(T0 + 10)
    clock.advance(-3600)  # NTP stepped the clock back an hour
    assert limiter.reset_at == pytest.approx(clock.time() + 30)
    assert limiter.paused_until == pytest.approx(clock.time() + 10)
    crowd = Crowd(limiter)
    crowd.spawn(0)
    start = clock.time()
    await clock.run_until(lambda: bool(crowd.granted))
    assert clock.time() == pytest.approx(start + 30)


async def test_unbalanced_release_does_not_go_negative() -> None:
    limiter = AdaptiveTokenBucket(clock=ManualClock())
    await limiter.release(None)
    assert limiter.in_flight == 0


# -- max_wait: which waits it refuses ----------------------------------------------------------


async def test_max_wait_refuses_a_reset_hub_announced_at_once() -> None:
    clock = ManualClock()
    limiter = await settled_limiter(clock, remaining=0, reset_in=50.0)
    with pytest.raises(RateLimitError, match="max_wait=10") as info:
        await limiter.acquire(max_wait=10.0)
    assert info.value.retry_at == pytest.approx(clock.time() + 50.0)
    assert limiter.waiting == 0 and limiter.in_flight == 0
    assert await asyncio.wait_for(_acquire_after(clock, limiter, 50.0), 1) == 50.0


async def _acquire_after(clock: ManualClock, limiter: AdaptiveTokenBucket, s: float) -> float:
    task = asyncio.ensure_future(limiter.acquire(max_wait=s))
    await clock.settle()
    clock.advance(s)
    return await task


async def test_an_estimated_reset_waits_for_responses_in_flight_before_refusing() -> None:
    clock = ManualClock()
    limiter = await settled_limiter(clock, remaining=2, reset_in=2.0, limit=2)
    clock.advance(2.5)  # the window rolled; the next one is extrapolated (60 s, not learnt)
    await limiter.acquire()
    await limiter.acquire()  # both in flight: the estimate says wait ~60 s for the reset
    waiter = asyncio.ensure_future(limiter.acquire(max_wait=10.0))
    await clock.settle()
    assert not waiter.done()  # not refused on an estimate...
    # ...for a response names the real window (2 s long, with budget) a moment later
    await limiter.release(upd(clock, remaining=1, reset_in=1.5, limit=2))
    await clock.settle()
    clock.advance(1.5)
    await clock.settle()
    assert waiter.done() and waiter.exception() is None


async def test_an_estimated_reset_is_refused_after_max_wait_in_vain() -> None:
    clock = ManualClock()
    limiter = await settled_limiter(clock, remaining=2, reset_in=2.0, limit=2)
    clock.advance(2.5)
    await limiter.acquire()
    await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire(max_wait=10.0))
    await clock.settle()
    clock.advance(10.0)
    await clock.settle()
    assert isinstance(waiter.exception(), RateLimitError)
    assert limiter.waiting == 0


@pytest.mark.parametrize("max_wait", [0.0, 0.1])
async def test_start_up_pacing_is_never_refused(max_wait: float) -> None:
    clock = ManualClock()
    limiter = AdaptiveTokenBucket(requests_per_minute=180, burst=1, clock=clock)
    await limiter.acquire(max_wait=max_wait)
    task = asyncio.ensure_future(limiter.acquire(max_wait=max_wait))
    await clock.settle()
    clock.advance(0.34)  # one token of 180/min later
    await clock.settle()
    assert task.done() and task.exception() is None


async def test_a_queued_waiter_meets_its_own_max_wait_before_queueing() -> None:
    clock = ManualClock()
    limiter = AdaptiveTokenBucket(clock=clock)
    await limiter.pause_until(clock.time() + 4.0)
    patient = asyncio.ensure_future(limiter.acquire(max_wait=100.0))
    await clock.settle()
    with pytest.raises(RateLimitError):  # behind the patient one, but the pause says 4 s
        await limiter.acquire(max_wait=1.0)
    clock.advance(4.0)
    await clock.settle()
    assert patient.done() and patient.exception() is None


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, "5", True])
async def test_a_bad_max_wait_is_a_value_error(bad: Any) -> None:
    clock = ManualClock()
    limiter = AdaptiveTokenBucket(clock=clock)
    await limiter.pause_until(clock.time() + 4.0)
    with pytest.raises(ValueError, match="max_wait"):
        await limiter.acquire(max_wait=bad)


# ---------------------------------------------------------------------------------------------
# Wait logging and the exposed wait state
# ---------------------------------------------------------------------------------------------


async def test_a_long_wait_logs_at_info_with_why_and_until_when(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(T0)  # 22:13:20 UTC
    limiter = await settled_limiter(clock, remaining=0, reset_in=15)
    assert limiter.waiting_until is None and limiter.wait_reason is None
    with caplog.at_level(logging.DEBUG, logger="hubasync.ratelimit"):
        task = asyncio.create_task(limiter.acquire())
        await clock.settle()
        assert limiter.waiting_until == T0 + 15 and limiter.wait_reason == "reset"
        await limiter.release(None)  # a wake-up: the same wait is not logged twice
        await clock.settle()
        clock.advance(15)
        await asyncio.wait_for(task, 1)
    records = [r for r in caplog.records if r.name == "hubasync.ratelimit"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    text = records[0].getMessage()
    assert "15.0 s" in text and "spent until Hub's reset" in text and "22:13:35 UTC" in text
    assert limiter.waiting_until is None and limiter.wait_reason is None


async def test_a_short_wait_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(T0)
    limiter = AdaptiveTokenBucket(requests_per_minute=120, burst=1, clock=clock)
    await limiter.acquire()
    with caplog.at_level(logging.DEBUG, logger="hubasync.ratelimit"):
        task = asyncio.create_task(limiter.acquire())
        await clock.settle()
        assert limiter.wait_reason == "pacing"
        clock.advance(0.5)
        await asyncio.wait_for(task, 1)
    (record,) = [r for r in caplog.records if r.name == "hubasync.ratelimit"]
    assert record.levelno == logging.DEBUG and "start-up pacing" in record.getMessage()


async def test_observe_charges_a_request_this_limiter_did_not_grant() -> None:
    clock = ManualClock(T0)
    limiter = await settled_limiter(clock, remaining=10)
    await held(limiter, 2)
    await limiter.observe(None)  # another limiter's request, no headers: charged
    await limiter.observe(upd(clock, remaining=6, reset_in=30))  # its count lowers ours
    assert limiter.in_flight == 2 and limiter.remaining == 5
