"""Docker Hub's rate limit: header parsing and the adaptive in-process limiter.

What Hub says
    Every response may carry ``X-RateLimit-Limit`` (requests per window), ``X-RateLimit-Remaining``
    and ``X-RateLimit-Reset`` (unix time of the window's reset, on Hub's clock), plus ``Date``.
    A 429 carries a retry hint in one of three forms: ``X-Retry-After`` with a unix timestamp
    (the seed spec), ``Retry-After`` with delta seconds (the current spec) or ``Retry-After``
    with a unix timestamp (seen in the wild); RFC 9110 also allows an HTTP-date.
    :meth:`RateLimitInfo.from_headers` reads all of it, raw and on Hub's clock, and never raises:
    a value it cannot trust becomes ``None``.

How the limiter spends the budget
    :class:`AdaptiveTokenBucket` is the in-process :class:`RateLimiter`, one per credential,
    shared by every task. Before any headers it is a token bucket at ``requests_per_minute``
    with a small burst. Once Hub has spoken, the budget until the reset is Hub's remaining
    count minus the requests in flight; at the reset it refills to the limit and the next reset
    is one window later, the window being learned from the distance between successive reset
    instants (60 s until two have been seen). Within one window the lowest remaining count
    wins, since responses overtake each other; a later reset instant starts a new window. A
    request that ended without usable headers counts as spent. A 429 pauses every waiter,
    current and future, until the hinted instant.

Why hand-written
    The rate-limiting libraries on PyPI (aiolimiter, limits, asyncio-throttle, pyrate-limiter)
    all enforce a rate fixed by the caller. None adapts to a budget the server announces and
    corrects on every response, counts requests in flight against it, learns the window, or
    pauses every waiter on a 429. The waiting discipline borrows aiolimiter's good idea (only
    the head of the line sleeps on a timer, and capacity is taken after the await, so a
    cancelled waiter never holds a token) but queues strictly first come, first served.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import math
import re
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any, Protocol, runtime_checkable

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._clock import Clock, SystemClock
from ._validate import check_positive
from .errors import RateLimitError

__all__ = [
    "AdaptiveTokenBucket",
    "BudgetUpdate",
    "RateLimitInfo",
    "RateLimiter",
    "parse_retry_hint",
]

#: A number at least this large is a unix timestamp (2001-09-09), smaller is delta seconds.
EPOCH_THRESHOLD = 1e9
#: Timestamps at or beyond this (year 5138) are garbage.
_EPOCH_MAX = 1e11
#: Counts beyond this are garbage.
_COUNT_MAX = 10**9
_NUMBER_RE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?")


# --------------------------------------------------------------------------------------------
# Header parsing (pure)
# --------------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _parse_count(value: object) -> int | None:
    """A non-negative integer header value; parameters after ``;`` are ignored."""
    text = _text(value)
    if text is None:
        return None
    head = text.split(";", 1)[0].strip() if ";" in text else text
    # ASCII digits only (str.isdigit alone would take "²" or Arabic-Indic digits)
    if not (head.isascii() and head.isdigit() and len(head) <= 10):
        return None
    number = int(head)
    return number if number <= _COUNT_MAX else None


def _parse_number(text: str) -> float | None:
    """A plain non-negative decimal ("12", "12.5"); no sign, exponent, inf or NaN."""
    if not _NUMBER_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _parse_http_date(value: object) -> float | None:
    """An HTTP-date (RFC 9110, also the obsolete forms) as unix seconds, else ``None``."""
    text = _text(value)
    if text is None:
        return None
    return _parse_http_date_text(text)


@functools.lru_cache(maxsize=64)
def _parse_http_date_text(text: str) -> float | None:
    # Cached: every response carries a Date, and within a second they are all the same.
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC without a source zone
        when = when.replace(tzinfo=UTC)
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    if not (math.isfinite(stamp) and 0.0 <= stamp < _EPOCH_MAX):
        return None
    return stamp


def parse_retry_hint(value: str) -> tuple[float | None, float | None]:
    """Parse a retry hint header into ``(retry_at, retry_after)``; at most one is set.

    - a number >= 1e9 is a unix timestamp on Hub's clock: ``(instant, None)``;
    - a number in ``[0, 1e9)`` is a delay in seconds ("12", "12.5"): ``(None, seconds)``;
    - an HTTP-date is an instant: ``(instant, None)``;
    - anything else (empty, negative, exponent, "inf", "NaN", words): ``(None, None)``.
    """
    text = _text(value)
    if text is None:
        return None, None
    number = _parse_number(text)
    if number is not None:
        if number >= EPOCH_THRESHOLD:
            return (number, None) if number < _EPOCH_MAX else (None, None)
        return None, number
    instant = _parse_http_date(text)
    return (instant, None) if instant is not None else (None, None)


def _parse_reset(value: object, date: float | None) -> float | None:
    """``X-RateLimit-Reset``: a unix timestamp; a small number is read as seconds after ``Date``
    (the IETF RateLimit draft's form) when ``Date`` is known, else dropped."""
    text = _text(value)
    if text is None:
        return None
    number = _parse_number(text)
    if number is None:
        return None
    if number >= EPOCH_THRESHOLD:
        return number if number < _EPOCH_MAX else None
    return date + number if date is not None else None


def _lower_keys(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    """Header names lower-cased; the first of repeated names wins (like ``CIMultiDict.get``).

    aiohttp's case-insensitive multidicts are used as they are (no copy per response).
    """
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return headers
    lowered: dict[str, Any] = {}
    for key, value in headers.items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(key, str):
            lowered.setdefault(key.strip().lower(), value)
    return lowered


@attrs.frozen(kw_only=True)
class RateLimitInfo:
    """What one response said about the rate limit, raw and on Hub's clock.

    Attributes:
        limit: ``X-RateLimit-Limit``, requests per window (>= 1), or ``None``.
        remaining: ``X-RateLimit-Remaining``, requests left in this window, or ``None``.
        reset: ``X-RateLimit-Reset``, unix time of the window's reset on Hub's clock, or ``None``.
        retry_at: a 429's retry hint given as an instant (epoch or HTTP-date), Hub's clock.
        retry_after: a 429's retry hint given as delta seconds (counted from ``received_at``).
        date: the ``Date`` header as unix time (Hub's clock, one-second resolution).
        received_at: local unix time when the response arrived.

    ``X-Retry-After`` wins over ``Retry-After`` when both carry a valid hint. No attribute is
    ever negative, NaN or infinite.
    """

    limit: int | None
    remaining: int | None
    reset: float | None
    retry_at: float | None
    retry_after: float | None
    date: float | None
    received_at: float

    @classmethod
    def from_headers(cls, headers: Mapping[str, Any], received_at: float) -> RateLimitInfo:
        """Read the rate-limit headers of one response (names case-insensitive); never raises."""
        lowered = _lower_keys(headers)
        date = _parse_http_date(lowered.get("date"))
        limit = _parse_count(lowered.get("x-ratelimit-limit"))
        retry_at: float | None = None
        retry_after: float | None = None
        for name in ("x-retry-after", "retry-after"):
            raw = _text(lowered.get(name))
            if raw is None:
                continue
            retry_at, retry_after = parse_retry_hint(raw)
            if retry_at is not None or retry_after is not None:
                break
        return cls(
            limit=limit if limit else None,  # a limit of 0 would mean "never send": garbage
            remaining=_parse_count(lowered.get("x-ratelimit-remaining")),
            reset=_parse_reset(lowered.get("x-ratelimit-reset"), date),
            retry_at=retry_at,
            retry_after=retry_after,
            date=date,
            received_at=received_at,
        )

    def retry_instant(self, to_local: Callable[[float], float]) -> float | None:
        """The local instant this response's own hint says to retry at, or ``None``.

        The retry hint wins (``retry_at`` converted with ``to_local``, e.g.
        :meth:`SkewEstimator.to_local`; ``retry_after`` counted from ``received_at``), else
        ``X-RateLimit-Reset`` converted. Falling back further (the last known reset, backoff)
        is the caller's business.
        """
        hint = self.hint_instant(to_local)
        if hint is not None:
            return hint
        if self.reset is not None:
            return to_local(self.reset)
        return None

    def hint_instant(self, to_local: Callable[[float], float]) -> float | None:
        """The local instant of this response's own retry hint alone (no reset fallback).

        ``retry_at`` converted with ``to_local``; ``retry_after`` counted from receipt.
        """
        if self.retry_at is not None:
            return to_local(self.retry_at)
        if self.retry_after is not None:
            return self.received_at + self.retry_after
        return None

    def budget_update(self, to_local: Callable[[float], float]) -> BudgetUpdate:
        """This response as a :class:`BudgetUpdate` for :meth:`RateLimiter.release`."""
        return BudgetUpdate(
            limit=self.limit,
            remaining=self.remaining,
            reset_at=to_local(self.reset) if self.reset is not None else None,
            observed_at=self.received_at,
            hub_reset=self.reset,
        )


# --------------------------------------------------------------------------------------------
# The limiter contract
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BudgetUpdate:
    """Hub's view of the budget after one response, converted to local time by the transport.

    Attributes:
        limit: requests per window, or ``None``.
        remaining: requests left in the window, or ``None``.
        reset_at: local unix time of the window's reset (skew-corrected), or ``None``.
        observed_at: local unix time the response arrived.
        hub_reset: optional, the same reset as Hub sent it (Hub's clock). When given, windows
            are told apart by Hub's own instants, which do not move as the skew estimate
            tightens; :meth:`RateLimitInfo.budget_update` fills it in.
    """

    limit: int | None
    remaining: int | None
    reset_at: float | None
    observed_at: float
    hub_reset: float | None = None


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


# --------------------------------------------------------------------------------------------
# AdaptiveTokenBucket
# --------------------------------------------------------------------------------------------

#: The window assumed before two distinct resets have been seen.
DEFAULT_WINDOW = 60.0
#: Hub reset instants (Hub's clock) closer than this are the same window.
_JITTER = 1.0
#: A window length measured between two local conversions is padded by this much (the
#: conversions drift down as the skew estimate tightens), so it errs long, never short.
_LOCAL_SAMPLE_PAD = 0.5
#: How many window-length samples to keep; the window is their minimum (longer samples are
#: multiples from idle stretches).
_WINDOW_SAMPLES = 8
#: A reset further ahead than this is garbage (it would stall the limiter).
_MAX_RESET_AHEAD = 3600.0
#: The local clock going back more than this is a clock step, not jitter.
_CLOCK_STEP = 2.0
#: A request that ended without headers counts against the window it may have landed in:
#: released after the window's local start minus this margin (skew uncertainty; at most
#: half a window).
_GHOST_MARGIN = 5.0
#: A genuinely overtaken response names a window that ended before the newer one began, so
#: its reset is past (give or take the skew uncertainty); one further ahead is current.
_STALE_SLACK = 5.0
#: Shortest timer the head waiter sets (avoids spinning on float rounding).
_MIN_SLEEP = 0.001
#: Why a waiter waits: a pause or a reset Hub announced (``max_wait`` decides at once), our
#: estimate of a window's end (waited for up to ``max_wait``: responses may correct it), or
#: the start-up bucket's pacing (never refused: it is how the budget is spread).
_ANNOUNCED, _ESTIMATED, _PACING = "announced", "estimated", "pacing"


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
    """The in-process :class:`RateLimiter`: a token bucket that hands over to Hub's budget.

    Args:
        requests_per_minute: the budget assumed before Hub's headers arrive (Hub's usual
            limit is 180).
        burst: how many requests may start at once before the headers arrive; default
            ``min(10, requests_per_minute)``.
        clock: where time is read and how to sleep (default :class:`SystemClock`).

    Create one per credential and share it between every task (and every client) using that
    credential. Constructing it creates no asyncio object, so it may be built outside a loop.

    How responses are folded in (:meth:`release`): a reset later than the last one Hub named
    starts a new window with Hub's count; a response naming the same window can only lower the
    count (responses overtake each other); one naming an older window, or a window already
    over by our clock, is ignored, since Hub counted that request there. Windows are told
    apart by Hub's own reset instants when the update carries them (``hub_reset``), else by
    the local conversions, and then any doubt resolves to the lower count. A request that
    ended without a count (``release(None)``) is charged to the window it may have landed in,
    even against a count Hub reports later for a request it processed earlier. Garbage
    (a limit <= 0, a count above the limit, a reset in the past or hours ahead, NaN) is
    clamped or ignored; the limiter never stalls on it. A local clock stepped back moves
    every deadline with it.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int = 180,
        burst: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        burst = check_start_budget(requests_per_minute, burst)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._rpm = requests_per_minute
        self._burst = burst
        # start-up token bucket (also used again if Hub's limit is never learned)
        self._tokens = float(burst)
        self._refilled_at: float | None = None
        # Hub's view; _remaining is None while the bucket rules
        self._limit: int | None = None
        self._remaining: int | None = None  # lowest count Hub gave for the current window
        self._reset_at: float | None = None  # local instant the current window resets
        self._from_hub = False  # the current window is the one Hub last named (not extrapolated)
        self._hub_local: float | None = None  # last reset Hub named, local time
        self._hub_raw: float | None = None  # ...and on Hub's clock, when the update carried it
        self._window_samples: deque[float] = deque(maxlen=_WINDOW_SAMPLES)
        self._ghosts: deque[float] = deque()  # when requests without headers ended
        self._in_flight = 0
        self._paused_until: float | None = None
        self._last_now: float | None = None
        # waiting line; futures are created lazily inside the running loop
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._kick: asyncio.Future[None] | None = None

    # -- read-only state -------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """Requests reserved and not yet released."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Tasks waiting in :meth:`acquire`."""
        return len(self._waiters)

    @property
    def limit(self) -> int | None:
        """Hub's limit per window, once a response said it."""
        return self._limit

    @property
    def remaining(self) -> int | None:
        """Requests Hub has left in the current window (before subtracting those in flight),
        counting requests that ended without headers as spent; ``None`` before Hub said."""
        now = self._clock.time()
        self._sync(now)
        return self._available(now)

    @property
    def reset_at(self) -> float | None:
        """Local unix time the current window resets, once known."""
        self._sync(self._clock.time())
        return self._reset_at

    @property
    def window(self) -> float:
        """Window length in seconds: learned from successive resets, 60 s until then."""
        return min(self._window_samples) if self._window_samples else DEFAULT_WINDOW

    @property
    def paused_until(self) -> float | None:
        """Local unix time before which nothing is sent (after a 429), or ``None``."""
        return self._paused_until

    def __repr__(self) -> str:
        return (
            f"AdaptiveTokenBucket(limit={self._limit!r}, remaining={self._remaining!r}, "
            f"reset_at={self._reset_at!r}, window={self.window!r}, "
            f"in_flight={self._in_flight}, waiting={len(self._waiters)})"
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
        loop = asyncio.get_running_loop()
        started = self._clock.time()
        if not self._waiters and self._try_take(started) is None:
            return 0.0
        if max_wait is not None:
            check_positive(max_wait, "max_wait", allow_zero=True)
            paused = self._paused_until
            if paused is not None and paused - started > max_wait:
                # Behind others or not, this caller would wait out Hub's pause: say so now.
                raise _wait_too_long(paused - started, started, max_wait)
        me: asyncio.Future[None] = loop.create_future()
        self._waiters.append(me)
        try:
            if self._waiters[0] is not me:
                await me  # resolved when we become first in line
            head_since: float | None = None
            while True:
                now = self._clock.time()
                wait = self._try_take(now)
                if wait is None:
                    break
                delay, kind = wait
                if max_wait is not None and kind != _PACING:
                    if kind == _ANNOUNCED:
                        if delay > max_wait:  # Hub said when: no point waiting to see
                            raise _wait_too_long(delay, now, max_wait)
                    else:
                        # Our own estimate of a window's end: responses in flight may
                        # correct it any moment, so wait for them, up to max_wait.
                        head_since = now if head_since is None else head_since
                        left = head_since + max_wait - now
                        if left <= 0:
                            raise _wait_too_long(delay, now, max_wait)
                        delay = min(delay, left)
                await self._wait_as_head(loop, delay)
        except BaseException:
            self._leave(me)
            raise
        # We hold a reservation now; nothing below awaits.
        self._waiters.popleft()
        self._promote()
        return max(0.0, self._clock.time() - started)

    async def release(self, update: BudgetUpdate | None) -> None:
        """The reserved request ended; fold what its response said into the budget."""
        now = self._clock.time()
        self._sync(now)
        self._in_flight = max(0, self._in_flight - 1)
        self._merge(update, now)
        self._notify()

    async def pause_until(self, until: float) -> None:
        """Hold every request of this limiter until local unix time ``until``."""
        if _finite(until) is None:
            raise ValueError(
                f"pause_until() needs a finite local unix time, got {until!r}; "
                "compute it from the 429's retry hint"
            )
        now = self._clock.time()
        self._sync(now)
        if self._paused_until is not None and until <= self._paused_until:
            return
        self._paused_until = float(until)
        if until > now:
            # The bucket restarts after the pause with one token, not with what it saved up.
            self._tokens = 1.0
            self._refilled_at = float(until)
        self._notify()

    # -- waiting line ----------------------------------------------------------------------
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
            self._promote()

    # -- the budget (pure state transitions; no awaits) ------------------------------------
    def _try_take(self, now: float) -> tuple[float, str] | None:
        """Take one reservation if the budget allows (``None``) or say how long to wait, and
        why (``_ANNOUNCED``, ``_ESTIMATED`` or ``_PACING``)."""
        self._sync(now)
        if self._paused_until is not None and now < self._paused_until:
            return self._paused_until - now, _ANNOUNCED
        available = self._available(now)
        if available is not None and self._reset_at is not None:
            if available - self._in_flight >= 1:
                self._in_flight += 1
                return None
            # Wait for the reset (or for a release to change the picture).
            return self._reset_at - now, _ANNOUNCED if self._from_hub else _ESTIMATED
        rate = self._bucket_rate()
        if self._refilled_at is None:
            self._refilled_at = now
        elif now > self._refilled_at:
            self._tokens = min(float(self._burst), self._tokens + (now - self._refilled_at) * rate)
            self._refilled_at = now
        if self._tokens >= 1.0 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1.0)
            self._in_flight += 1
            return None
        return (1.0 - self._tokens) / rate, _PACING

    def _bucket_rate(self) -> float:
        if self._limit is not None:
            return self._limit / self.window
        return self._rpm / 60.0

    def _sync(self, now: float) -> None:
        """Bring the state up to ``now``: absorb a clock step back, roll a window that ended."""
        if self._last_now is not None and now < self._last_now - _CLOCK_STEP:
            self._shift(now - self._last_now)
        if self._last_now is None or now > self._last_now or now < self._last_now - _CLOCK_STEP:
            self._last_now = now
        if self._reset_at is not None and now >= self._reset_at:
            if self._limit is None:
                # A window ended and Hub never said its limit: back to the assumed rate.
                self._remaining = None
                self._reset_at = None
                self._from_hub = False
            else:
                window = self.window
                periods = math.floor((now - self._reset_at) / window) + 1
                self._reset_at += periods * window
                self._remaining = self._limit
                self._from_hub = False
        self._prune_ghosts(now)

    def _shift(self, delta: float) -> None:
        """The local clock stepped by ``delta`` (< 0): move every stored instant with it."""
        if self._reset_at is not None:
            self._reset_at += delta
        if self._hub_local is not None:
            self._hub_local += delta
        if self._paused_until is not None:
            self._paused_until += delta
        if self._refilled_at is not None:
            self._refilled_at += delta
        self._ghosts = deque(t + delta for t in self._ghosts)

    def _ghost_cutoff(self, now: float) -> float:
        """Requests that ended without headers after this instant count against the window."""
        reset = self._reset_at if self._reset_at is not None else now
        window = self.window
        return reset - window - min(_GHOST_MARGIN, window / 2)

    def _prune_ghosts(self, now: float) -> None:
        if not self._ghosts:
            return  # the usual case: every response carried a count
        keep_after = self._ghost_cutoff(now) - self.window
        while self._ghosts and self._ghosts[0] < keep_after:
            self._ghosts.popleft()

    def _available(self, now: float) -> int | None:
        """Hub's remaining count less the requests that ended without headers (not less the
        requests in flight); ``None`` while the start-up bucket rules."""
        if self._remaining is None:
            return None
        if not self._ghosts:
            return self._remaining
        cutoff = self._ghost_cutoff(now)
        ghosts = sum(1 for t in self._ghosts if t >= cutoff)
        return max(0, self._remaining - ghosts)

    def _merge(self, update: BudgetUpdate | None, now: float) -> None:
        """Fold one response's view into the budget (after ``_sync(now)``)."""
        if update is None:
            self._charge_ghost(now)
            return
        limit = _valid_count(update.limit)
        if limit is not None and limit >= 1:
            self._limit = limit
            if self._remaining is not None:
                self._remaining = min(self._remaining, limit)
        remaining = _valid_count(update.remaining)
        if remaining is None:
            self._charge_ghost(now)  # no count: assume Hub counted it
            return
        if self._limit is not None:
            remaining = min(remaining, self._limit)
        observed = _finite(update.observed_at)
        if observed is None:
            observed = now
        reset_at = _finite(update.reset_at)
        hub_raw = _finite(update.hub_reset)
        if reset_at is not None and reset_at > observed + _MAX_RESET_AHEAD:
            reset_at = None  # garbage: would stall every request for hours
        if reset_at is None:
            # Hub gave a count but no usable reset: it is the current window's count.
            self._merge_into_current(remaining, max(observed, now))
            return
        kind, exact, sample = self._classify(reset_at, hub_raw)
        if kind == "newer":
            if reset_at <= now:
                # Hub names a window that is already over by our clock (skew unknown or
                # broken): trust only the count, against the current window.
                self._merge_into_current(remaining, max(observed, now))
                return
            if sample is not None:
                self._window_samples.append(sample)
            self._hub_local, self._hub_raw = reset_at, hub_raw
            if self._from_hub or self._remaining is None:
                # Hub moved on from the window it last named: its count starts afresh.
                self._remaining = remaining
            else:
                # We extrapolated or guessed the current window: the lowest count is safe.
                self._remaining = min(self._remaining, remaining)
            self._reset_at = reset_at
            self._from_hub = True
            return
        if (
            self._reset_at is not None
            and reset_at > now + _STALE_SLACK
            and reset_at < self._reset_at - _STALE_SLACK
        ):
            # A window that is still running and ends well before the one we track: Hub's
            # resets went back (or the one we track was garbage). Believe the earlier reset.
            self._remaining = min(
                self._remaining if self._remaining is not None else remaining, remaining
            )
            self._reset_at = reset_at
            self._hub_local, self._hub_raw = reset_at, hub_raw
            self._from_hub = True
            return
        if kind == "stale" and exact:
            return  # an older window's response, overtaken by a newer one: counted there
        if reset_at <= now and (kind == "stale" or not self._from_hub):
            return  # that window is over by our clock: Hub counted the request there
        # The window we track. Without Hub's own instants an older window's response cannot
        # always be told apart; taking the lowest count is safe either way.
        if self._remaining is None or self._reset_at is None:
            self._remaining, self._reset_at = remaining, reset_at
        else:
            self._remaining = min(self._remaining, remaining)
        if kind == "same":
            # Each conversion of the same reset is conservative; keep the latest instant.
            if self._from_hub:
                self._reset_at = max(self._reset_at, reset_at)
            else:
                self._reset_at = reset_at
            self._hub_local = reset_at
            if hub_raw is not None:
                self._hub_raw = hub_raw
            self._from_hub = True

    def _charge_ghost(self, now: float) -> None:
        # Only against a count Hub gave: before any count, the start-up bucket rules and the
        # first count Hub sends already includes this request. (Without this, a server that
        # never sends rate-limit headers grew the list by one float per request.)
        if self._remaining is not None:
            self._ghosts.append(now)

    def _merge_into_current(self, remaining: int, observed: float) -> None:
        if self._remaining is None or self._reset_at is None:
            # The window ends at most one window after the response: refill no earlier.
            self._remaining = remaining
            self._reset_at = observed + self.window
            self._from_hub = False
        else:
            self._remaining = min(self._remaining, remaining)

    def _classify(self, reset_at: float, hub_raw: float | None) -> tuple[str, bool, float | None]:
        """Compare a reset with the last one Hub named: ``(kind, exact, window_sample)``.

        ``kind`` is "newer", "same" or "stale". With Hub's own instants on both sides the
        answer is exact. Otherwise local conversions are compared: a conversion of the same
        reset only moves down as the skew estimate tightens (give or take jitter), so only a
        rise of a second or more proves a newer window, and "stale" may still be the same.
        """
        if self._hub_local is None:
            return "newer", True, None
        if hub_raw is not None and self._hub_raw is not None:
            diff, exact = hub_raw - self._hub_raw, True
            sample = diff
        else:
            diff, exact = reset_at - self._hub_local, False
            # the local instants may have drifted down a little: round the sample up
            sample = float(math.ceil(diff + _LOCAL_SAMPLE_PAD))
        if diff >= _JITTER:
            return "newer", exact, sample
        if diff > -_JITTER:
            return "same", exact, None
        return "stale", exact, None


def _wait_too_long(delay: float, now: float, max_wait: float) -> RateLimitError:
    """The error of a limiter whose next wait exceeds ``max_wait`` (the caller names the call)."""
    return RateLimitError(
        f"the rate budget needs a wait of {delay:.1f} s (until the window's reset or the end "
        f"of a 429 pause), longer than max_wait={max_wait:g} s; retry after the reset or "
        "raise max_wait",
        retry_at=now + delay,
    )


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _valid_count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
