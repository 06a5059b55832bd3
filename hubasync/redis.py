"""A rate limiter shared through Redis, for audits spread over processes and machines.

Hub's rate budget belongs to an account (and an IP), not to a process. Give every worker a
:class:`RedisRateLimiter` on the same Redis and ``key`` and they draw from one budget::

    import redis.asyncio as redis
    from hubasync import HubClient
    from hubasync.redis import RedisRateLimiter

    limiter = RedisRateLimiter(redis.from_url("redis://localhost:6379/0"), key="hub:myorg")
    async with HubClient(username=..., secret=..., rate_limiter=limiter) as hub:
        ...

The shared state holds what the in-process limiter learns: Hub's limit, remaining and reset
(reconciled from every worker's responses), the reservations in flight (each with a lease, so
a crashed worker's reservations come back after ``lease_s``) and the pause every worker obeys
after a 429. All decisions are atomic Lua scripts that take the time from Redis ``TIME``, never
from a worker's clock. Waiters sleep until the instant the script names and wake early on a
pub/sub notice when a reservation is released. One waiter per limiter instance stands in the
shared line at a time (the others queue in-process behind it), so a process with a thousand
waiting tasks costs Redis no more than one with a single task.

Use the same ``requests_per_minute``/``burst`` in every worker of a key: each call passes its
own, and the start-up bucket follows whichever worker asks.

Needs the ``redis`` extra: ``pip install 'hubasync[redis]'``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

import attrs

try:
    import redis.asyncio as _aioredis
    from redis.exceptions import NoScriptError as _NoScriptError
    from redis.exceptions import RedisError as _RedisError
except ImportError as _exc:
    raise ImportError(
        "hubasync.redis needs the redis package (redis-py); install it with "
        "`pip install 'hubasync[redis]'`"
    ) from _exc

from . import _budget, _redis_scripts
from ._budget import Wait
from ._budget import finite as _finite
from ._budget import valid_count as _count
from ._clock import Clock, SystemClock
from ._ratelimit import check_start_budget, log_wait, wait_too_long
from ._validate import check_positive
from .errors import HubError, RateLimitError

if TYPE_CHECKING:
    from types import TracebackType

    from ._ratelimit import AdaptiveTokenBucket, BudgetUpdate

__all__ = ["RateLimiterUnavailable", "RedisRateLimiter", "SharedBudget"]

logger = logging.getLogger(__name__)

_KEY_PREFIX = "hubasync:ratelimit"
_MIN_KEY_TTL_S = 3600.0
_FALLBACK_RETRY_S = 30.0
_SUBSCRIBE_TIMEOUT_S = 1.0


class RateLimiterUnavailable(HubError):
    """The shared rate limiter could not reach or use Redis.

    Nothing was sent to Hub. Check that Redis is reachable, or construct the limiter with
    ``fallback="local"`` to fall back to a per-process limiter while Redis is away.
    """


@attrs.frozen(kw_only=True)
class SharedBudget:
    """A snapshot of the budget stored in Redis, as :meth:`RedisRateLimiter.snapshot` reads it.

    Attributes:
        limit: Hub's ``X-RateLimit-Limit``, or ``None`` before any worker saw headers.
        remaining: Hub's remaining budget in this window, less the requests that ended
            without headers (not less ``in_flight``); ``None`` while the start-up token
            bucket rules.
        reset_in: seconds until the window resets, or ``None`` when unknown.
        window_s: the window length (learned from successive resets, 60 s until then).
        in_flight: reservations currently held by any worker (leases not yet expired).
        waiting: workers currently waiting in line.
        pause_in: seconds until the pause after a 429 ends (0 when not paused).
        tokens: tokens in the start-up bucket, or ``None`` once Hub's headers rule.
    """

    limit: int | None
    remaining: int | None
    reset_in: float | None
    window_s: float
    in_flight: int
    waiting: int
    pause_in: float
    tokens: float | None


def _opt(value: Any) -> float | None:
    """A script's optional number ('' = none) as a float."""
    if value is None or value in (b"", ""):
        return None
    return float(value)


def _opt_int(value: Any) -> int | None:
    number = _opt(value)
    return None if number is None else int(number)


def _num_arg(value: float | None) -> str:
    """A number as a script argument; ``None`` becomes '' (unknown)."""
    if value is None:
        return ""
    return repr(float(value))


def _release_args(update: BudgetUpdate | None, now: float) -> tuple[str, str, str, str, str]:
    """Turn a ``BudgetUpdate`` into the RELEASE script's arguments (pure).

    Returns ``(limit, remaining, reset_in, age, hub_reset)`` as strings, ``''`` for unknown.
    ``reset_in`` is the reset measured from the response's arrival and ``age`` how long ago
    (by ``now``, on the same clock) it arrived: both durations, so Redis re-anchors them on
    its own ``TIME`` and no worker's clock leaks into the shared state. ``hub_reset`` is Hub's
    own instant, the same for every worker. What is not a count or a finite number becomes
    ``''``; judging the values is the script's business (``_budget.merge``'s rules).
    """
    if update is None:
        return "", "", "", "0", ""
    limit = _count(update.limit)
    remaining = _count(update.remaining)
    observed = _finite(update.observed_at)
    reset_at = _finite(update.reset_at)
    age = 0.0 if observed is None else max(0.0, now - observed)
    if observed is None:
        observed = now
    reset_in = None if reset_at is None else reset_at - observed
    hub_reset = _finite(getattr(update, "hub_reset", None))
    return (
        "" if limit is None else str(limit),
        "" if remaining is None else str(remaining),
        _num_arg(reset_in),
        repr(age) if math.isfinite(age) else "0",
        _num_arg(hub_reset),
    )


@attrs.frozen
class _Grant:
    granted: bool
    ticket: int
    wait: float  # until the next look (capped at poll_interval except for pauses)
    reason: str = ""  # why not: "pause", "reset", "estimated", "pacing" (see _budget)
    full_wait: float = 0.0  # the whole wait the script sees
    limit: int | None = None  # Hub's limit as Redis knows it
    window: float | None = None  # the window as Redis knows it
    workers: int = 1  # workers that asked within the last two windows (at least 60 s)
    reset_in: float | None = None  # the current window's reset, seconds from now


def _parse_acquire_reply(reply: Any) -> _Grant:
    """The ACQUIRE script's reply ``[granted, ticket, wait_s, reason, full_wait_s, limit,
    window_s, workers, reset_in]`` (bytes or str) as a value."""
    granted, ticket, wait, reason, full, limit, window, workers, reset_in = reply
    return _Grant(
        granted=int(granted) == 1,
        ticket=int(ticket),
        wait=float(wait),
        reason=reason.decode() if isinstance(reason, bytes) else str(reason),
        full_wait=float(full),
        limit=_opt_int(limit),
        window=_opt(window),
        workers=max(1, int(workers)),
        reset_in=_opt(reset_in),
    )


def _positive(value: object) -> bool:
    """A finite number > 0 (not a bool)."""
    number = _finite(value)
    return number is not None and number > 0


def _cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


def _raise_swallowed_cancel(base: int) -> None:
    """Re-raise a cancellation that library code swallowed (``asyncio.wait_for`` on 3.11 does
    when the cancel and the inner result arrive together: redis-py's socket writes use it)."""
    if _cancelling() > base:
        raise asyncio.CancelledError


class _RedisDown(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class RedisRateLimiter:
    """A :class:`~hubasync._ratelimit.RateLimiter` whose budget lives in Redis.

    Every limiter with the same Redis and ``key`` shares one budget, across tasks, processes
    and machines; pass one to ``HubClient(rate_limiter=...)``. Semantics follow the in-process
    ``AdaptiveTokenBucket``: before Hub's headers a token bucket at ``requests_per_minute``
    with a small ``burst``; after them, Hub's remaining budget less the requests in flight
    until the reset, refilled to the limit at the reset; a 429's pause holds every worker.

    Args:
        redis: a ``redis.asyncio.Redis`` client (yours: the limiter never closes it) or a
            URL (``redis://host:port/db``) for a client the limiter owns and closes in
            :meth:`aclose`.
        key: names the budget, one per Hub credential (e.g. ``"hub:myorg"``).
        requests_per_minute: the rate assumed until Hub's headers say otherwise.
        burst: requests allowed at once before headers (default ``min(10, rpm)``).
        lease_s: how long a reservation may stay in flight before it is presumed lost
            (its worker crashed) and returns to the budget; longer than any request.
        fallback: ``None`` (default) raises :class:`RateLimiterUnavailable` when Redis
            fails; ``"local"`` logs a warning and falls back to a per-process
            ``AdaptiveTokenBucket`` (Redis is tried again every 30 s).
        poll_interval: the longest a waiter sleeps before asking Redis again when it waits
            for a release (notices normally wake it earlier).
        clock: the clock the ``BudgetUpdate`` and ``pause_until`` instants are on (the
            client's; :class:`~hubasync._clock.SystemClock` by default). Only differences of
            it reach Redis; the local fallback runs on it.

    Redis errors surface after the client's own retry policy: configure ``retry=`` on the
    ``redis.asyncio.Redis`` you pass to bound how long an unreachable Redis takes to report.
    """

    def __init__(
        self,
        redis: _aioredis.Redis | str,
        key: str,
        *,
        requests_per_minute: int = 180,
        burst: int | None = None,
        lease_s: float = 60.0,
        fallback: Literal["local"] | None = None,
        poll_interval: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(key, str) or not key or "{" in key or "}" in key:
            raise ValueError(
                f"RedisRateLimiter key must be a non-empty string without braces, got {key!r}; "
                "use one key per Hub credential, e.g. key='hub:myorg'"
            )
        default_burst = check_start_budget(requests_per_minute, burst)
        if not _positive(lease_s):
            raise ValueError(
                f"lease_s must be a positive number of seconds, got {lease_s!r}; "
                "make it longer than your slowest request"
            )
        if fallback not in (None, "local"):
            raise ValueError(f"fallback must be None or 'local', got {fallback!r}")
        if not _positive(poll_interval):
            raise ValueError(f"poll_interval must be a positive number, got {poll_interval!r}")
        if isinstance(redis, str):
            self._url: str | None = redis
            self._client: _aioredis.Redis | None = None
        elif isinstance(redis, _aioredis.Redis):
            self._url = None
            self._client = redis
        else:
            raise ValueError(
                "redis must be a redis.asyncio.Redis client or a redis:// URL, "
                f"got {type(redis).__name__}"
            )
        self.key = key
        self.requests_per_minute = requests_per_minute
        self.burst = default_burst
        self.lease_s = float(lease_s)
        self.fallback = fallback
        self.poll_interval = float(poll_interval)
        self._clock: Clock = clock if clock is not None else SystemClock()
        prefix = f"{_KEY_PREFIX}:{{{key}}}"
        self._keys = (
            f"{prefix}:state",
            f"{prefix}:inflight",
            f"{prefix}:queue",
            f"{prefix}:qexp",
            f"{prefix}:ghosts",
            f"{prefix}:workers",
        )
        self._channel = f"{prefix}:wake"
        self._min_ttl = repr(max(_MIN_KEY_TTL_S, 2 * self.lease_s))
        self._grace = repr(max(2.0, 4 * self.poll_interval))
        self._shas: dict[str, str] = {}
        # Created lazily, inside the running loop.
        self._lock: asyncio.Lock | None = None
        self._pubsub: Any = None
        self._pubsub_retry_at = 0.0
        self._waiters = 0
        self._held: collections.deque[str | None] = collections.deque()
        self._local: AdaptiveTokenBucket | None = None
        self._retry_shared_at = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        # what this worker last learned from Redis (for a restarted Redis and the fallback)
        self._known_limit: int | None = None
        self._known_window: float | None = None
        self._known_reset: float | None = None  # time.time() scale
        self._workers = 1
        self._worker_id = uuid.uuid4().hex
        self._wait: Wait | None = None

    def __repr__(self) -> str:
        return f"RedisRateLimiter(key={self.key!r}, on={self._where()})"

    @property
    def using_fallback(self) -> bool:
        """True while this limiter runs on its local fallback because Redis failed."""
        return self._local is not None and self._retry_shared_at > 0

    @property
    def waiting_until(self) -> float | None:
        """Local unix time this limiter's head waiter waits for in Redis, or ``None`` when
        it does not wait (the local fallback reports through its own bucket)."""
        if self._local is not None and self.using_fallback:
            return self._local.waiting_until
        return self._wait.until if self._wait is not None and self._waiters else None

    @property
    def wait_reason(self) -> str | None:
        """Why the head waiter waits (``"pause"``, ``"reset"``, ``"estimated"``,
        ``"pacing"``, as :attr:`AdaptiveTokenBucket.wait_reason`), or ``None``."""
        if self._local is not None and self.using_fallback:
            return self._local.wait_reason
        return self._wait.reason if self._wait is not None and self._waiters else None

    def _note_wait(self, wait: Wait, now: float) -> None:
        """Expose the head's wait, and log it once (not at every poll)."""
        last = self._wait
        self._wait = wait
        if last is None or last.reason != wait.reason or abs(last.until - wait.until) > 1.0:
            log_wait(f"rate limiter key {self.key!r}", wait, now)

    # -- the RateLimiter protocol ---------------------------------------------------------

    async def acquire(self, *, max_wait: float | None = None) -> float:
        """Reserve one request from the shared budget; return the seconds waited.

        Waiters of one limiter queue first come, first served; across workers a ticket line
        in Redis keeps the order. Cancelling a waiter (or the call while it talks to Redis)
        returns any reservation it got and lets the next waiter go.

        Raises:
            RateLimiterUnavailable: Redis failed and ``fallback`` is ``None``.
            RateLimitError: the wait would be longer than ``max_wait``: a shared 429 pause
                or a reset Hub announced that ends later (at once, with ``retry_at``), or
                ``max_wait`` spent waiting for a reset only estimated. Pacing and queueing
                behind other waiters are never refused.
        """
        if max_wait is not None:
            check_positive(max_wait, "max_wait", allow_zero=True)
        started = time.monotonic()
        probing = False
        if self.using_fallback:
            if started < self._retry_shared_at:
                return await self._local_acquire(started, max_wait)
            # This caller probes Redis; the others stay local until it answers.
            self._retry_shared_at = started + _FALLBACK_RETRY_S
            probing = True
        if self._lock is None:
            self._lock = asyncio.Lock()
        rid: str | None = None
        self._waiters += 1
        try:
            async with self._lock:
                if probing or not self.using_fallback:
                    rid = await self._acquire_shared(max_wait)
        except _RedisDown as exc:
            self._fail_over(exc.cause, "acquire")
        finally:
            self._waiters -= 1
            if self._waiters == 0:
                self._drop_pubsub()
        if rid is None:  # Redis failed (now or while this caller waited its turn)
            return await self._local_acquire(started, max_wait)
        self._held.append(rid)
        if probing:
            logger.warning(
                "hubasync: Redis at %s answers again; rate limiter key %r is shared again",
                self._where(),
                self.key,
            )
            self._retry_shared_at = 0.0
        return time.monotonic() - started

    async def release(self, update: BudgetUpdate | None) -> None:
        """End the oldest reservation this limiter holds and share what Hub said.

        ``update=None`` (or one without a remaining count) means no usable headers arrived:
        the request counts as spent. A Redis failure here is logged, not raised (the lease
        returns the reservation), so it never hides the outcome of the request itself.
        """
        rid = self._held.popleft() if self._held else ""
        if rid is None:  # granted by the local fallback
            if self._local is not None:
                await self._local.release(update)
            return
        if self.using_fallback:
            logger.debug(
                "hubasync: Redis is away; the lease of reservation %s returns it", rid or "-"
            )
            return
        args = _release_args(update, self._clock.time())
        try:
            await self._script("RELEASE", _redis_scripts.RELEASE, rid, *args, self._channel)
        except _RedisDown as exc:
            logger.warning(
                "hubasync: could not release a reservation of rate limiter key %r in Redis "
                "at %s (%s); its lease returns it within %g s",
                self.key,
                self._where(),
                exc.cause,
                self.lease_s,
            )

    async def pause_until(self, until: float) -> None:
        """Hold every worker of this key until ``until`` (local unix time), after a 429.

        Raises:
            RateLimiterUnavailable: Redis failed and ``fallback`` is ``None``.
        """
        if (
            isinstance(until, bool)
            or not isinstance(until, int | float)
            or not math.isfinite(until)
        ):
            raise ValueError(
                f"pause_until() needs a finite local unix time, got {until!r}; "
                "compute it from the 429's retry hint"
            )
        if self._local is not None:
            await self._local.pause_until(until)
        if self.using_fallback:
            return
        pause_in = until - self._clock.time()
        try:
            await self._script("PAUSE", _redis_scripts.PAUSE, repr(pause_in), self._channel)
        except _RedisDown as exc:
            self._fail_over(exc.cause, "pause")
            assert self._local is not None
            await self._local.pause_until(until)

    # -- inspection and lifecycle ---------------------------------------------------------

    async def snapshot(self) -> SharedBudget:
        """Read the shared budget as Redis holds it now (for monitoring and tests).

        Raises:
            RateLimiterUnavailable: Redis failed (whatever ``fallback`` says).
        """
        try:
            reply = await self._script(
                "SNAPSHOT",
                _redis_scripts.SNAPSHOT,
                repr(self.requests_per_minute / 60),
                str(self.burst),
            )
        except _RedisDown as exc:
            raise self._unavailable(exc.cause) from exc.cause
        limit, remaining, reset_in, window, in_flight, waiting, pause_in, tokens = reply
        return SharedBudget(
            limit=_opt_int(limit),
            remaining=_opt_int(remaining),
            reset_in=_opt(reset_in),
            window_s=float(window),
            in_flight=int(in_flight),
            waiting=int(waiting),
            pause_in=float(pause_in),
            tokens=_opt(tokens),
        )

    async def aclose(self) -> None:
        """Close the pub/sub connection, and the Redis client if the limiter made it."""
        ps, self._pubsub = self._pubsub, None
        if ps is not None:
            with contextlib.suppress(Exception):
                await ps.aclose()
        for task in list(self._background):
            with contextlib.suppress(BaseException):
                await task
        if self._url is not None and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- shared path ----------------------------------------------------------------------

    async def _acquire_shared(self, max_wait: float | None) -> str:
        """Wait in line in Redis until a reservation is granted; return its id."""
        rid = uuid.uuid4().hex
        ticket = 0
        since: float | None = None  # when this waiter began waiting for an estimated reset
        base = _cancelling()
        try:
            while True:
                grant = await self._shielded_acquire(rid, ticket)
                _raise_swallowed_cancel(base)
                if grant.granted:
                    self._wait = None
                    return rid
                ticket = grant.ticket
                now = time.time()
                wait = Wait(now + grant.full_wait, grant.reason)  # type: ignore[arg-type]
                if max_wait is not None:
                    if wait.reason == _budget.ESTIMATED and since is None:
                        since = now
                    waited = 0.0 if since is None else now - since
                    refused = _budget.refusal(wait, now, max_wait, waited)
                    if refused is not None:
                        raise wait_too_long(refused, now, max_wait)
                self._note_wait(wait, now)
                if self._pubsub is None and time.monotonic() >= self._pubsub_retry_at:
                    # Subscribe, then ask again at once: a release between the script's answer
                    # and the subscription would otherwise be missed.
                    subscribed = await self._subscribe()
                    _raise_swallowed_cancel(base)
                    if subscribed:
                        continue
                if self._pubsub is None:
                    await asyncio.sleep(grant.wait)  # the script capped it at poll_interval
                else:
                    await self._wait_notice(grant.wait)
                _raise_swallowed_cancel(base)
        except (asyncio.CancelledError, RateLimitError):
            with contextlib.suppress(_RedisDown):
                await self._script(
                    "CANCEL", _redis_scripts.CANCEL, rid, str(self.burst), self._channel
                )
            raise

    async def _shielded_acquire(self, rid: str, ticket: int) -> _Grant:
        """Run ACQUIRE; a cancellation waits for the script's answer, so CANCEL comes after."""
        call = asyncio.ensure_future(
            self._script(
                "ACQUIRE",
                _redis_scripts.ACQUIRE,
                rid,
                str(ticket),
                repr(self.lease_s),
                repr(self.requests_per_minute / 60),
                str(self.burst),
                repr(self.poll_interval),
                self._grace,
                "" if self._known_limit is None else str(self._known_limit),
                _num_arg(self._known_window),
                _num_arg(None if self._known_reset is None else self._known_reset - time.time()),
                self._worker_id,
            )
        )
        try:
            reply = await asyncio.shield(call)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await call
            raise
        grant = _parse_acquire_reply(reply)
        if grant.limit is not None and grant.window is not None:
            self._known_limit, self._known_window = grant.limit, grant.window
        if grant.reset_in is not None:
            self._known_reset = time.time() + grant.reset_in
        self._workers = grant.workers
        return grant

    async def _subscribe(self) -> bool:
        """Subscribe to the key's notices; False (and polling for a while) if that fails."""
        ps = self._redis().pubsub()
        try:
            await ps.subscribe(self._channel)
            deadline = time.monotonic() + _SUBSCRIBE_TIMEOUT_S
            while (left := deadline - time.monotonic()) > 0:
                msg = await ps.get_message(timeout=left)
                if msg is not None and msg.get("type") == "subscribe":
                    break
        except (_RedisError, OSError) as exc:
            self._close_later(ps)
            logger.debug(
                "hubasync: no pub/sub for rate limiter key %r (%s); polling", self.key, exc
            )
            self._pubsub_retry_at = time.monotonic() + _FALLBACK_RETRY_S
            return False
        except BaseException:
            self._close_later(ps)
            raise
        self._pubsub = ps
        return True

    async def _wait_notice(self, wait: float) -> None:
        """Sleep ``wait`` seconds, or less if a release/cancel/pause notice arrives."""
        ps = self._pubsub
        try:
            msg = await ps.get_message(ignore_subscribe_messages=True, timeout=wait)
            while msg is not None:  # drain the notices that came together
                msg = await ps.get_message(ignore_subscribe_messages=True, timeout=0.0)
        except asyncio.CancelledError:
            self._drop_pubsub()
            raise
        except (_RedisError, OSError):
            # Notices are only a hint: lose the subscription, keep the deadline.
            self._drop_pubsub()
            await asyncio.sleep(min(wait, self.poll_interval))

    def _drop_pubsub(self) -> None:
        ps, self._pubsub = self._pubsub, None
        if ps is not None:
            self._close_later(ps)

    def _close_later(self, ps: Any) -> None:
        task = asyncio.ensure_future(self._close_quietly(ps))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _close_quietly(ps: Any) -> None:
        with contextlib.suppress(Exception):
            await ps.aclose()

    def _redis(self) -> _aioredis.Redis:
        if self._client is None:
            assert self._url is not None
            self._client = _aioredis.Redis.from_url(self._url)
        return self._client

    async def _script(self, name: str, source: str, *args: str) -> Any:
        """Run one script (EVALSHA, loading it on first use); Redis faults → _RedisDown."""
        client = self._redis()
        argv = (self._min_ttl, *args)
        base = _cancelling()
        try:
            sha = self._shas.get(name)
            reply: Any = None
            loaded = False
            if sha is not None:
                try:
                    reply = await client.evalsha(sha, len(self._keys), *self._keys, *argv)
                    loaded = True
                except _NoScriptError:
                    pass
            if not loaded:
                sha = await client.script_load(source)
                self._shas[name] = sha
                reply = await client.evalsha(sha, len(self._keys), *self._keys, *argv)
        except (_RedisError, OSError) as exc:
            raise _RedisDown(exc) from exc
        _raise_swallowed_cancel(base)
        return reply

    # -- failure and fallback -------------------------------------------------------------

    def _where(self) -> str:
        """Where Redis is, for messages: host:port/db or the socket path, never a password."""
        client = self._client
        if client is None:
            url = self._url or "?"
            return url.split("@")[-1] if "@" in url else url
        kwargs = client.connection_pool.connection_kwargs
        if "path" in kwargs:
            return f"unix:{kwargs['path']}/{kwargs.get('db', 0)}"
        host = kwargs.get("host", "localhost")
        port = kwargs.get("port", 6379)
        return f"{host}:{port}/{kwargs.get('db', 0)}"

    def _unavailable(self, cause: BaseException) -> RateLimiterUnavailable:
        return RateLimiterUnavailable(
            f"the shared rate limiter could not use Redis at {self._where()} for key "
            f"{self.key!r} ({type(cause).__name__}: {cause}); nothing was sent to Docker Hub. "
            "Check that Redis is running and reachable, or pass fallback='local' to "
            "RedisRateLimiter to fall back to a per-process limiter"
        )

    def _fail_over(self, cause: BaseException, during: str) -> None:
        """Switch to the local limiter (fallback='local') or raise RateLimiterUnavailable."""
        if self.fallback != "local":
            raise self._unavailable(cause) from cause
        if self._local is None:
            from ._ratelimit import AdaptiveTokenBucket

            self._local = AdaptiveTokenBucket(
                requests_per_minute=self.requests_per_minute, burst=self.burst, clock=self._clock
            )
        if not self.using_fallback:
            logger.warning(
                "hubasync: Redis at %s failed during %s (%s: %s); rate limiter key %r falls "
                "back to a per-process limiter and retries Redis every %g s",
                self._where(),
                during,
                type(cause).__name__,
                cause,
                self.key,
                _FALLBACK_RETRY_S,
            )
        self._retry_shared_at = time.monotonic() + _FALLBACK_RETRY_S

    async def _local_acquire(self, started: float, max_wait: float | None) -> float:
        assert self._local is not None
        await self._local.acquire(max_wait=max_wait)
        self._held.append(None)
        return time.monotonic() - started
