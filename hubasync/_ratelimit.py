"""The rate limiter contract and the in-process limiter: a waiting line around the budget.

The rules of the budget live in :mod:`hubasync._budget` (pure, shared with the Redis Lua);
header parsing in :mod:`hubasync._ratelimit_headers`. :class:`AdaptiveTokenBucket` keeps only
what the rules cannot: the waiting line. It is first come, first served; only the head of
the line sleeps, on one timer that a release or a pause cuts short; capacity is taken after
the await, so a waiter cancelled at any point holds nothing and hands its place on.

Why hand-written
    The rate-limiting libraries on PyPI (aiolimiter, limits, asyncio-throttle, pyrate-limiter)
    all enforce a rate fixed by the caller. None adapts to a budget the server announces and
    corrects on every response, counts requests in flight against it, learns the window, or
    pauses every waiter on a 429. The waiting discipline borrows aiolimiter's good idea (only
    the head of the line sleeps on a timer, and capacity is taken after the await) but queues
    strictly first come, first served.

Logging
    A wait longer than 1 s logs at INFO on the ``hubasync.ratelimit`` logger: how long, why
    (a 429 pause, the budget spent until Hub's reset or until the estimated reset, start-up
    pacing) and until when (wall clock, UTC); shorter waits log at DEBUG. Each wait is logged
    once, not at every wake-up. :attr:`AdaptiveTokenBucket.waiting_until` and
    :attr:`~AdaptiveTokenBucket.wait_reason` expose the same for a progress display.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from . import _budget
from ._budget import GRANT, BudgetUpdate, Grant, Refuse, Wait
from ._clock import Clock, SystemClock
from ._ratelimit_headers import EPOCH_THRESHOLD, RateLimitInfo, parse_retry_hint
from ._validate import check_positive
from .errors import RateLimitError

__all__ = [
    "EPOCH_THRESHOLD",
    "AdaptiveTokenBucket",
    "BudgetUpdate",
    "RateLimitInfo",
    "RateLimiter",
    "parse_retry_hint",
]

logger = logging.getLogger("hubasync.ratelimit")

#: The window assumed before two distinct resets have been seen.
DEFAULT_WINDOW = _budget.DEFAULT_WINDOW
#: Shortest timer the head waiter sets (avoids spinning on float rounding).
_MIN_SLEEP = 0.001
#: Waits longer than this log at INFO, shorter ones at DEBUG.
_LOUD_WAIT_S = 1.0

_WHY = {
    _budget.PAUSE: "a 429 pause",
    _budget.RESET: "the budget is spent until Hub's reset",
    _budget.ESTIMATED: "the budget is spent until the estimated reset",
    _budget.PACING: "start-up pacing",
}


def log_wait(key: str, wait: Wait, now: float) -> None:
    """Log one rate-limit wait (INFO above 1 s, else DEBUG); ``key`` names the limiter."""
    seconds = wait.until - now
    level = logging.INFO if seconds > _LOUD_WAIT_S else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    try:
        at = datetime.fromtimestamp(wait.until, UTC).strftime("%H:%M:%S")
    except (OverflowError, OSError, ValueError):  # pragma: no cover - absurd instants
        at = "?"
    logger.log(
        level,
        "hubasync: %s waits %.1f s for Docker Hub's rate limit (%s) until %s UTC",
        key,
        seconds,
        _WHY.get(wait.reason, wait.reason),
        at,
    )


def wait_too_long(refused: Refuse, now: float, max_wait: float) -> RateLimitError:
    """The error of a limiter whose next wait exceeds ``max_wait``."""
    return RateLimitError(
        f"the rate budget needs a wait of {refused.until - now:.1f} s "
        f"({_WHY.get(refused.reason, refused.reason)}), longer than max_wait={max_wait:g} s; "
        "retry after the reset or raise max_wait",
        retry_at=refused.until,
    )


@runtime_checkable
class RateLimiter(Protocol):
    """Admission control for requests sharing one Hub rate budget (one credential).

    The transport calls :meth:`acquire` before each send and :meth:`release` exactly once
    after it, and :meth:`pause_until` after a 429. Implementations: :class:`AdaptiveTokenBucket`
    (in-process) and ``hubasync.redis.RedisRateLimiter`` (shared between processes).
    """

    async def acquire(self, *, max_wait: float | None = None) -> float:
        """Reserve one request, waiting first come, first served; return the seconds waited.

        ``max_wait``: the longest single wait allowed for the rate limit (not for the queue):
        a wait Hub announced (a 429 pause, its reset with its count spent) that is longer
        raises :class:`~hubasync.errors.RateLimitError` (``retry_at`` set when known) at once,
        holding no reservation; a reset the limiter only estimated is waited for up to
        ``max_wait``; start-up pacing is never refused.
        """
        ...

    async def release(self, update: BudgetUpdate | None) -> None:
        """The reserved request ended; ``update`` is what its response said (``None``: no
        usable headers arrived, and Hub is assumed to have counted the request)."""
        ...

    async def pause_until(self, until: float) -> None:
        """No request of this limiter is sent before local unix time ``until`` (a 429 was seen).

        A later pause extends the current one; an earlier one does not shorten it.
        """
        ...


def check_start_budget(requests_per_minute: object, burst: object) -> int:
    """Validate the start-up assumption of a limiter; return the burst (default min(10, rpm))."""
    if (
        isinstance(requests_per_minute, bool)
        or not isinstance(requests_per_minute, int)
        or requests_per_minute < 1
    ):
        raise ValueError(
            f"requests_per_minute must be an int >= 1, got {requests_per_minute!r}; "
            "Hub's usual budget is 180"
        )
    if burst is None:
        return min(10, requests_per_minute)
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be an int >= 1 (or None for the default), got {burst!r}")
    return burst


class AdaptiveTokenBucket:
    """The in-process :class:`RateLimiter`: the budget of :mod:`hubasync._budget`, in-process.

    Args:
        requests_per_minute: the budget assumed before Hub's headers arrive (Hub's usual
            limit is 180).
        burst: how many requests may start at once before the headers arrive; default
            ``min(10, requests_per_minute)``.
        clock: where time is read and how to sleep (default :class:`SystemClock`).
        share: the part of Hub's budget this limiter may spend (0 < share <= 1; default 1):
            below 1, at most ``floor(share * limit)`` requests per Hub window, counting its
            own grants (rule 11 of :mod:`hubasync._budget`). ``RedisRateLimiter``'s local
            fallback uses it so N processes spend one budget.

    Create one per credential and share it between every task (and every client) using that
    credential. Constructing it creates no asyncio object, so it may be built outside a loop.
    How responses are folded in is the rule book of :mod:`hubasync._budget`: a later reset
    starts a new window, the lowest count of a window wins, a response naming an older window
    is charged, an earlier or far-ahead reset is believed only once a second response names
    it, a response without headers counts as spent, garbage is clamped or ignored, and a
    local clock stepped back moves every deadline with it.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int = 180,
        burst: int | None = None,
        clock: Clock | None = None,
        share: float = 1.0,
    ) -> None:
        burst = check_start_budget(requests_per_minute, burst)
        if check_positive(share, "share") > 1:
            raise ValueError(f"share must be in (0, 1], got {share!r}")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._s = _budget.State(rate=requests_per_minute / 60.0, burst=burst, share=float(share))
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._kick: asyncio.Future[None] | None = None
        self._wait: Wait | None = None  # what the head of the line waits for

    # -- read-only state -------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """Requests reserved and not yet released."""
        return self._s.in_flight

    @property
    def waiting(self) -> int:
        """Tasks waiting in :meth:`acquire`."""
        return len(self._waiters)

    @property
    def limit(self) -> int | None:
        """Hub's limit per window, once a response said it."""
        return self._s.limit

    @property
    def remaining(self) -> int | None:
        """Requests Hub has left in the current window (before subtracting those in flight),
        counting requests that ended without headers as spent; ``None`` before Hub said."""
        now = self._clock.time()
        _budget.sync(self._s, now)
        return _budget.available(self._s, now)

    @property
    def reset_at(self) -> float | None:
        """Local unix time the current window resets, once known."""
        _budget.sync(self._s, self._clock.time())
        return self._s.reset_at

    @property
    def window(self) -> float:
        """Window length in seconds: learned from successive resets, 60 s until then."""
        return _budget.window(self._s)

    @property
    def paused_until(self) -> float | None:
        """Local unix time before which nothing is sent (after a 429), or ``None``."""
        return self._s.pause_until

    @property
    def waiting_until(self) -> float | None:
        """Local unix time the head of the line waits for, or ``None`` when nobody waits
        (e.g. for a progress bar: "waiting for Hub's rate limit until 12:03:15")."""
        return self._wait.until if self._wait is not None and self._waiters else None

    @property
    def wait_reason(self) -> str | None:
        """Why the head of the line waits: ``"pause"`` (a 429), ``"reset"`` (Hub's count is
        spent until its reset), ``"estimated"`` (spent until an extrapolated reset),
        ``"pacing"`` (the start-up bucket); ``None`` when nobody waits."""
        return self._wait.reason if self._wait is not None and self._waiters else None

    def __repr__(self) -> str:
        s = self._s
        return (
            f"AdaptiveTokenBucket(limit={s.limit!r}, remaining={s.remaining!r}, "
            f"reset_at={s.reset_at!r}, window={self.window!r}, "
            f"in_flight={s.in_flight}, waiting={len(self._waiters)})"
        )

    # -- RateLimiter -----------------------------------------------------------------------
    async def acquire(self, *, max_wait: float | None = None) -> float:
        """Reserve one request, waiting first come, first served; return the seconds waited.

        Cancellation-safe: a waiter cancelled at any point holds no reservation and, if it
        was first in line, hands its place to the next waiter.

        ``max_wait`` bounds waits for the rate limit, not for the queue: a wait Hub announced
        (a 429 pause, or its own reset with its count spent) longer than ``max_wait`` raises
        :class:`~hubasync.errors.RateLimitError` with ``retry_at`` at once (a pause even
        before queueing); a wait for a reset the limiter estimated (Hub has not named the
        current window yet) raises once the head of the line has waited ``max_wait`` in vain;
        the start-up bucket's pacing is never refused.
        """
        if self.try_acquire():
            return 0.0  # the fast path: no future, no timer, nothing awaited
        loop = asyncio.get_running_loop()
        started = self._clock.time()
        if max_wait is not None:
            check_positive(max_wait, "max_wait", allow_zero=True)
            paused = self._s.pause_until
            if paused is not None and paused - started > max_wait:
                # Behind others or not, this caller would wait out Hub's pause: say so now.
                raise wait_too_long(Refuse(paused, _budget.PAUSE), started, max_wait)
        me: asyncio.Future[None] = loop.create_future()
        self._waiters.append(me)
        try:
            if self._waiters[0] is not me:
                await me  # resolved when we become first in line
            since: float | None = None  # when the head began waiting for an estimated reset
            while True:
                now = self._clock.time()
                waited = 0.0 if since is None else now - since
                answer = _budget.take(self._s, now, max_wait=max_wait, waited=waited)
                if isinstance(answer, Grant):
                    break
                if isinstance(answer, Refuse):
                    raise wait_too_long(answer, now, max_wait or 0.0)
                until = answer.until
                if max_wait is not None and answer.reason == _budget.ESTIMATED:
                    # responses in flight may correct our estimate: wait for them, up to max_wait
                    since = now if since is None else since
                    until = min(until, since + max_wait)
                self._note_wait(answer, now)
                await self._wait_as_head(loop, until - now)
        except BaseException:
            self._leave(me)
            raise
        # We hold a reservation now; nothing below awaits.
        self._waiters.popleft()
        self._wait = None
        self._promote()
        return max(0.0, self._clock.time() - started)

    def try_acquire(self) -> bool:
        """Reserve one request only if that needs no wait: nobody is in line and the budget
        has one now. ``False`` reserves nothing (then :meth:`acquire` queues). The transport's
        fast path: no coroutine, no future, no timer."""
        return not self._waiters and _budget.take(self._s, self._clock.time()) is GRANT

    async def release(self, update: BudgetUpdate | None) -> None:
        """The reserved request ended; fold what its response said into the budget."""
        self.release_nowait(update)

    def release_nowait(self, update: BudgetUpdate | None) -> None:
        """:meth:`release` without the coroutine (it never awaits anything)."""
        _budget.settle(self._s, update, self._clock.time())
        self._notify()

    async def pause_until(self, until: float) -> None:
        """Hold every request of this limiter until local unix time ``until``."""
        if _budget.finite(until) is None:
            raise ValueError(
                f"pause_until() needs a finite local unix time, got {until!r}; "
                "compute it from the 429's retry hint"
            )
        _budget.pause(self._s, float(until), self._clock.time())
        self._notify()

    async def observe(self, update: BudgetUpdate | None) -> None:
        """Fold in the response to a request this limiter did not grant (e.g. one granted by
        Redis before it failed): what Hub said counts, and the request is charged."""
        _budget.settle(self._s, update, self._clock.time(), held=False)
        self._notify()

    def give_back(self) -> None:
        """Return a reservation that was granted but never used (no request was sent)."""
        _budget.cancel(self._s, self._clock.time())
        self._notify()

    def take_over(self, limit: int, window_s: float, reset_at: float | None, held: int = 0) -> None:
        """Take over (with ``share < 1``) in the middle of a window others spent through
        another limiter: see :func:`hubasync._budget.take_over`."""
        _budget.take_over(self._s, limit, window_s, reset_at, self._clock.time(), held)

    # -- waiting line ----------------------------------------------------------------------
    def _note_wait(self, wait: Wait, now: float) -> None:
        """Expose the head's wait, and log it once (not at every wake-up)."""
        last = self._wait
        self._wait = wait
        if last is None or last.reason != wait.reason or abs(last.until - wait.until) > 1.0:
            log_wait("the in-process limiter", wait, now)

    async def _wait_as_head(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        """First in line: sleep ``delay`` or until the budget changes, whichever is first."""
        kick: asyncio.Future[None] = loop.create_future()
        self._kick = kick
        timer = asyncio.ensure_future(self._clock.sleep(max(delay, _MIN_SLEEP)))
        try:
            await asyncio.wait((kick, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if self._kick is kick:
                self._kick = None

    def _notify(self) -> None:
        """The budget changed: let the head of the line look again."""
        kick = self._kick
        if kick is not None and not kick.done():
            kick.set_result(None)

    def _promote(self) -> None:
        """Tell the new head of the line that it is first."""
        if self._waiters and not self._waiters[0].done():
            self._waiters[0].set_result(None)

    def _leave(self, me: asyncio.Future[None]) -> None:
        """A waiter gave up (cancelled or failed) without a reservation."""
        was_head = bool(self._waiters) and self._waiters[0] is me
        try:
            self._waiters.remove(me)
        except ValueError:  # pragma: no cover - defensive
            return
        if was_head:
            self._wait = None
            self._promote()
