"""Clocks and Hub clock-skew estimation.

Every time hubasync handles is a float on the ``time.time()`` scale ("local unix time"),
read through a :class:`Clock` so that tests can inject :class:`ManualClock` and run rate-limit
windows, pauses and token expiry without sleeping.

Hub stamps its own clock on every response (``Date``, one-second resolution) and states
rate-limit instants on that clock (``X-RateLimit-Reset``, ``X-Retry-After``). Hub's clock and
ours differ; :class:`SkewEstimator` bounds the difference from the ``Date`` headers so the
transport can turn Hub's instants into local deadlines without the up-to-one-second bias a
naive ``Date - received_at`` estimate carries.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SkewEstimator", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Where hubasync reads the time and how it sleeps.

    ``time()`` is local unix time (the ``time.time()`` scale); ``sleep()`` waits that many
    seconds of this clock.
    """

    def time(self) -> float:
        """The current local unix time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a non-positive value just yields to the event loop)."""
        ...


class SystemClock:
    """The real clock: :func:`time.time` and :func:`asyncio.sleep`."""

    __slots__ = ()

    #: The current unix time: :func:`time.time` itself (read several times per request, so
    #: without a Python frame of its own).
    time = staticmethod(time.time)

    async def sleep(self, seconds: float) -> None:
        """:func:`asyncio.sleep` for ``seconds`` (negative or NaN sleeps 0)."""
        await asyncio.sleep(seconds if seconds > 0 else 0)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock for tests that moves only when told to, with cooperative sleepers.

    The one ``ManualClock`` (public as ``hubasync.testing.ManualClock``): pass it as
    ``HubClient(clock=...)`` (it has ``time()`` and ``sleep()``) and as ``FakeHub(clock=...)``
    (calling it returns the time), the same clock for both when a test needs them in step.

    ``sleep(s)`` parks the caller until the clock has been moved to at least ``now + s``;
    sleepers with the same deadline wake in the order they went to sleep. ``advance()`` and
    ``advance_to()`` move the time and wake every sleeper whose deadline passed; ``settle()``
    lets the woken tasks (and whatever they wake) run; ``run_until()`` alternates the two,
    jumping straight to the next deadline, so a test with a hundred waiting tasks runs
    deterministically and in no real time.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        if not math.isfinite(start):
            raise ValueError(f"ManualClock needs a finite start time, got {start!r}")
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        """The clock's current time."""
        return self._now

    def __call__(self) -> float:
        """The current time, so the clock also serves where a time function is expected."""
        return self._now

    @property
    def now(self) -> float:
        """The current time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock reaches ``time() + seconds`` (a non-positive wait yields once)."""
        deadline = self._now + seconds if seconds > 0 else self._now
        if not deadline > self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), fut))
        await fut  # a cancelled sleeper leaves a cancelled future behind; waking skips it

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline a task is sleeping towards, or ``None`` when none sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    @property
    def sleeping(self) -> int:
        """How many tasks are sleeping on this clock."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    def advance(self, seconds: float) -> float:
        """Move the clock by ``seconds``, wake the sleepers that are due; the new time.

        A negative value steps the clock back (as NTP may step a real clock); sleepers then
        wait correspondingly longer.
        """
        if not math.isfinite(seconds):
            raise ValueError(f"ManualClock.advance() needs a finite number, got {seconds!r}")
        self._now += seconds
        self._wake()
        return self._now

    def set(self, now: float) -> None:
        """Set the clock to ``now`` (earlier or later) and wake the sleepers that are due."""
        if not math.isfinite(now):
            raise ValueError(f"ManualClock.set() needs a finite time, got {now!r}")
        self._now = float(now)
        self._wake()

    def advance_to(self, instant: float) -> None:
        """Move the clock to ``instant`` (never backwards) and wake the sleepers that are due."""
        if not math.isfinite(instant):
            raise ValueError(f"ManualClock.advance_to() needs a finite time, got {instant!r}")
        self._now = max(self._now, float(instant))
        self._wake()

    def _wake(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def settle(self, *, max_rounds: int = 100_000) -> None:
        """Let every task that can run, run, until all of them wait (on this clock or else).

        Uses the event loop's ready queue when it exposes one (the standard loops do);
        otherwise yields 100 times.
        """
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        rounds = max_rounds if ready is not None else 100
        for _ in range(rounds):
            await asyncio.sleep(0)
            if ready is not None and not ready:
                return

    async def run_until(self, done: Callable[[], bool], *, max_steps: int = 100_000) -> None:
        """Settle, then jump to the next deadline, until ``done()`` is true.

        Raises ``RuntimeError`` when nothing sleeps on the clock while ``done()`` is still false
        (the tasks wait for something this clock cannot bring), or after ``max_steps`` jumps.
        """
        for _ in range(max_steps):
            await self.settle()
            if done():
                return
            deadline = self.next_deadline
            if deadline is None:
                raise RuntimeError(
                    "ManualClock.run_until(): no task sleeps on the clock and the condition "
                    "is still false (deadlock?)"
                )
            self.advance_to(deadline)
        raise RuntimeError(
            f"ManualClock.run_until(): condition still false after {max_steps} steps"
        )

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"


class SkewEstimator:
    """Hub clock minus local clock, estimated from ``Date`` headers (1 s resolution).

    When Hub stamped ``Date: d`` its clock read some instant in ``[d, d + 1)``; our clock then
    read some instant in ``[sent_at, received_at]``. So the offset (server minus local) lies in
    ``[d - received_at, d + 1 - sent_at]``. The estimator intersects the intervals of the
    responses of the last ``horizon_s`` seconds; the intersection narrows as responses land at
    different fractions of Hub's second, and it always holds the true offset (no rounding
    bias). The horizon is a span of time, not a count of responses: a burst of responses all
    landing at the same fraction of a second must not push out the observations that pinned
    the bounds (with a count, the bound drifted by up to a second under bursty traffic). When
    the intersection becomes empty, one of the clocks jumped: the estimate restarts from the
    newest response. ``observe`` is O(1) amortised (monotonic queues for max-low, min-high).
    """

    def __init__(self, *, horizon_s: float = 600.0) -> None:
        if not (isinstance(horizon_s, int | float) and math.isfinite(horizon_s) and horizon_s > 0):
            raise ValueError(
                f"SkewEstimator horizon_s must be a positive number, got {horizon_s!r}"
            )
        self._horizon = float(horizon_s)
        # (received_at, value), values decreasing (for max low) / increasing (for min high)
        self._lows: deque[tuple[float, float]] = deque()
        self._highs: deque[tuple[float, float]] = deque()
        self._bounds: tuple[float, float] | None = None

    def observe(self, date: float, sent_at: float, received_at: float) -> None:
        """Record one response: its ``Date`` (unix seconds) and when it was sent and received.

        Non-finite values and a response "received before it was sent" (a local clock step
        during the request) carry no information and are ignored.
        """
        if not (math.isfinite(date) and math.isfinite(sent_at) and math.isfinite(received_at)):
            return
        if received_at < sent_at:
            return
        low, high = date - received_at, date + 1.0 - sent_at
        lows, highs = self._lows, self._highs
        while lows and lows[-1][1] <= low:
            lows.pop()
        lows.append((received_at, low))
        while highs and highs[-1][1] >= high:
            highs.pop()
        highs.append((received_at, high))
        cutoff = received_at - self._horizon
        while lows[0][0] < cutoff:
            lows.popleft()
        while highs[0][0] < cutoff:
            highs.popleft()
        best_low, best_high = lows[0][1], highs[0][1]
        if best_low > best_high:  # a clock jumped: older observations no longer fit
            lows.clear()
            highs.clear()
            lows.append((received_at, low))
            highs.append((received_at, high))
            best_low, best_high = low, high
        self._bounds = (best_low, best_high)

    @property
    def bounds(self) -> tuple[float, float] | None:
        """``(low, high)`` bounds of the offset in seconds, or ``None`` before any ``Date``."""
        return self._bounds

    @property
    def offset(self) -> float:
        """The midpoint of :attr:`bounds` (server minus local, seconds); 0.0 when unknown."""
        if self._bounds is None:
            return 0.0
        low, high = self._bounds
        return (low + high) / 2.0

    def to_local(self, server_instant: float) -> float:
        """Convert an instant on Hub's clock to local time, conservatively.

        Returns the latest local instant consistent with the bounds (server instant minus the
        low bound), so a deadline computed from it is never early. Unknown skew: unchanged.
        """
        if self._bounds is None:
            return server_instant
        return server_instant - self._bounds[0]

    def __repr__(self) -> str:
        return f"SkewEstimator(bounds={self._bounds!r})"
