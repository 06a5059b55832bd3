"""A rate limiter shared through Redis, for audits spread over processes and machines.

Hub's rate budget belongs to an account (and an IP), not to a process. Give every worker a
:class:`RedisRateLimiter` on the same Redis and ``key`` and they draw from one budget::

    import redis.asyncio as redis
    from hubasync import HubClient
    from hubasync.redis import RedisRateLimiter

    limiter = RedisRateLimiter(redis.from_url("redis://localhost:6379/0"), key="hub:myorg")
    async with HubClient(username=..., secret=..., rate_limiter=limiter) as hub:
        ...

The rules are those of the in-process limiter (:mod:`hubasync._budget`), run as atomic Lua
scripts that take the time from Redis ``TIME``, never from a worker's clock (a test checks
the Lua and the Python agree, event by event). Waiters sleep until the instant the script
names and wake early on a pub/sub notice. One waiter per limiter instance stands in the
shared line at a time (the others queue in-process behind it), so a process with a thousand
waiting tasks costs Redis no more than one with a single task. Use the same
``requests_per_minute``/``burst`` in every worker of a key.

Faults, and what they cost (measured in ``benchmarks/README.md``, "Redis faults"):

- **Redis unreachable, no fallback** (default): :class:`RateLimiterUnavailable`; nothing is
  sent. Cost: the calls fail.
- **Redis unreachable, ``fallback="local"``**: a warning, then a per-process limiter with
  this process's *share*: ``fallback_share`` if given, else 1 / the workers that used the key
  within the last two windows (at least 60 s), as recorded in Redis. The window of the
  switch counts as spent (through Redis): nothing more before its reset, whatever the share.
  Then at most ``floor(share * limit)`` per Hub window, counting its own grants, windows
  following Hub's resets; Hub's count only lowers that (rule 11 of :mod:`hubasync._budget`).
  Redis is probed every 30 s. Cost: 0 sends over the limit (1-8 before this rule, 61-63
  when each spends the whole budget); the rest of the switch window idle; a worker whose
  siblings are idle still spends only its share (budget use 0.73 in 4 windows).
- **Redis answers again**: for 30 s plus a window, every grant needs Redis *and* the local
  share, since siblings may still grant theirs locally until they probe Redis and their last
  local window ends; the requests the local limiter granted are charged in Redis. Cost: 0
  over (1-5 before); the budget use stays at the shares of the busy workers meanwhile.
  These rules assume Redis failed for every worker: one cut off alone spends its share while
  the others, unaware, still spend the whole budget through Redis (up to a share over).
- **Redis restarted or flushed (empty state)**: a worker that knew Hub's limit, window and
  reset starts the shared bucket from no token, after that reset, at the known rate: never a
  start-up burst into a spent window. Cost: 0 over the limit; up to one window idle.
- **A worker dies holding reservations**: each runs out after ``lease_s`` and counts as a
  lost response: charged as spent in its window (never granted again to someone else while
  Hub may have counted it). Cost: those units stay spent until the reset.
- **A release fails**: logged; the lease returns it (as above). **Pub/sub fails**: waiters
  poll every ``poll_interval``.

``max_wait`` behaves as in-process: a pause or Hub's own reset further away is refused at
once; an estimated reset after waiting ``max_wait``; pacing never.

Needs the ``redis`` extra: ``pip install 'hubasync[redis]'``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import TYPE_CHECKING, Literal

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
from ._clock import Clock, SystemClock
from ._ratelimit import check_start_budget
from ._redis_support import (
    Held,
    LocalFallback,
    Notices,
    Scripts,
    SharedBudget,
    SharedLine,
    _positive,
    _RedisDown,
    _release_args,
)
from ._validate import check_positive
from .errors import HubError

if TYPE_CHECKING:
    from types import TracebackType

    from ._ratelimit import BudgetUpdate

__all__ = ["RateLimiterUnavailable", "RedisRateLimiter", "SharedBudget", "_release_args"]

logger = logging.getLogger(__name__)

_KEY_PREFIX = "hubasync:ratelimit"
_MIN_KEY_TTL_S = 3600.0
_ERRORS = (_RedisError, OSError)


class RateLimiterUnavailable(HubError):
    """The shared rate limiter could not reach or use Redis.

    Nothing was sent to Hub. Check that Redis is reachable, or construct the limiter with
    ``fallback="local"`` to fall back to a per-process limiter while Redis is away.
    """


class RedisRateLimiter:
    """A :class:`~hubasync._ratelimit.RateLimiter` whose budget lives in Redis.

    Every limiter with the same Redis and ``key`` shares one budget, across tasks, processes
    and machines; pass one to ``HubClient(rate_limiter=...)``. The rules are the in-process
    ``AdaptiveTokenBucket``'s (:mod:`hubasync._budget`).

    Args:
        redis: a ``redis.asyncio.Redis`` client (yours: the limiter never closes it) or a
            URL (``redis://host:port/db``) for a client the limiter owns and closes in
            :meth:`aclose`.
        key: names the budget, one per Hub credential (e.g. ``"hub:myorg"``).
        requests_per_minute: the rate assumed until Hub's headers say otherwise.
        burst: requests allowed at once before headers (default ``min(10, rpm)``).
        lease_s: how long a reservation may stay in flight before it is presumed lost (its
            worker crashed): then it counts as spent; make it longer than any request.
        fallback: ``None`` (default) raises :class:`RateLimiterUnavailable` when Redis
            fails; ``"local"`` logs a warning and falls back to a per-process
            ``AdaptiveTokenBucket`` spending this process's share (Redis is tried again
            every 30 s; see the module's notes on faults).
        fallback_share: the part of Hub's limit this process may spend per window on the
            local fallback (0 < share <= 1); default: 1 / the live workers Redis saw.
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
        fallback_share: float | None = None,
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
        if fallback_share is not None and not (_positive(fallback_share) and fallback_share <= 1):
            raise ValueError(
                f"fallback_share must be a number in (0, 1], got {fallback_share!r}; "
                "e.g. 1/3 for three worker processes, or None to count them in Redis"
            )
        if not _positive(poll_interval):
            raise ValueError(f"poll_interval must be a positive number, got {poll_interval!r}")
        if not isinstance(redis, str | _aioredis.Redis):
            raise ValueError(
                "redis must be a redis.asyncio.Redis client or a redis:// URL, "
                f"got {type(redis).__name__}"
            )
        self.key = key
        self.requests_per_minute = requests_per_minute
        self.burst = default_burst
        self.lease_s = float(lease_s)
        self.fallback = fallback
        self.fallback_share = fallback_share
        self.poll_interval = float(poll_interval)
        self._clock: Clock = clock if clock is not None else SystemClock()
        prefix = f"{_KEY_PREFIX}:{{{key}}}"
        names = ("state", "inflight", "queue", "qexp", "ghosts", "workers")
        self._scripts = Scripts(
            None if isinstance(redis, str) else redis,
            redis if isinstance(redis, str) else None,
            tuple(f"{prefix}:{name}" for name in names),
            repr(max(_MIN_KEY_TTL_S, 2 * self.lease_s)),
            _ERRORS,
            _NoScriptError,
            _aioredis.Redis.from_url,
        )
        self._notices = Notices(f"{prefix}:wake", key)
        self._lock: asyncio.Lock | None = None  # created lazily, inside the running loop
        self._waiters = 0
        self._held: collections.deque[Held] = collections.deque()  # oldest first
        self._fallback = LocalFallback(requests_per_minute, default_burst, self._clock)
        config = (
            repr(self.lease_s),
            repr(requests_per_minute / 60),
            str(default_burst),
            repr(self.poll_interval),
            repr(max(2.0, 4 * self.poll_interval)),
        )
        self._line = SharedLine(self._scripts, self._notices, config, self.poll_interval)

    def __repr__(self) -> str:
        return f"RedisRateLimiter(key={self.key!r}, on={self._where()})"

    @property
    def using_fallback(self) -> bool:
        """True while this limiter runs on its local fallback because Redis failed."""
        return self._fallback.active

    @property
    def waiting_until(self) -> float | None:
        """Unix time this limiter's head waiter waits for, or ``None`` when nobody waits."""
        head = self._head_wait()
        return None if head is None else head[0]

    @property
    def wait_reason(self) -> str | None:
        """Why the head waiter waits (``"pause"``, ``"reset"``, ``"estimated"``,
        ``"pacing"``, as :attr:`AdaptiveTokenBucket.wait_reason`), or ``None``."""
        head = self._head_wait()
        return None if head is None else head[1]

    def _head_wait(self) -> tuple[float, str] | None:
        local = self._fallback.head_wait()  # waiting for the local share
        if local is not None or self.using_fallback:
            return local
        wait = self._line.wait
        return (wait.until, wait.reason) if wait is not None and self._waiters else None

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
        fallback = self._fallback
        failed = False  # this call saw Redis fail: it does not probe again
        while True:
            bucket = fallback.bucket if fallback.in_force() else None
            if bucket is not None:  # this worker's share first, even back on Redis (rule 11)
                await bucket.acquire(max_wait=max_wait)
                if fallback.active and (failed or time.monotonic() < fallback.retry_at):
                    if bucket is not fallback.bucket:  # granted by the bucket of an outage
                        bucket.give_back()  # that ended: the new one decides
                        continue
                    self._held.append(Held("", [bucket]))
                    return time.monotonic() - started
            # Redis, and if it is away this caller probes it; the others stay local meanwhile.
            probing = fallback.active
            if probing:
                fallback.failed_again()
            try:
                rid = await self._shared_turn(max_wait, probing)
            except BaseException:
                if bucket is not None:
                    bucket.give_back()
                raise
            if rid is None:  # Redis failed (now or while this caller waited its turn)
                failed = True
                if bucket is not None:
                    bucket.give_back()
                continue
            self._held.append(Held(rid, [] if bucket is None else [bucket]))
            if probing:
                logger.warning(
                    "hubasync: Redis at %s answers again; rate limiter key %r is shared again",
                    self._where(),
                    self.key,
                )
                fallback.recovered()
            return time.monotonic() - started

    async def release(self, update: BudgetUpdate | None) -> None:
        """End the oldest reservation this limiter holds and share what Hub said.

        ``update=None`` (or one without a remaining count) means no usable headers arrived:
        the request counts as spent. A Redis failure here is logged, not raised (the lease
        returns the reservation), so it never hides the outcome of the request itself.
        """
        held = self._held.popleft() if self._held else Held("")
        for bucket in held.buckets:  # the local buckets that counted it learn what Hub said
            await bucket.release(update)
        if self.using_fallback:
            logger.debug("hubasync: Redis is away; the lease of %s returns it", held.rid or "-")
            return
        # Redis learns (and charges) what Hub said, for local grants too
        args = _release_args(update, self._clock.time())
        try:
            await self._scripts.run(
                "RELEASE", _redis_scripts.RELEASE, held.rid, *args, self._channel
            )
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
        if _budget.finite(until) is None:
            raise ValueError(
                f"pause_until() needs a finite local unix time, got {until!r}; "
                "compute it from the 429's retry hint"
            )
        if self._fallback.bucket is not None:
            await self._fallback.bucket.pause_until(until)
        if self.using_fallback:
            return
        pause_in = until - self._clock.time()
        try:
            await self._scripts.run("PAUSE", _redis_scripts.PAUSE, repr(pause_in), self._channel)
        except _RedisDown as exc:
            self._fail_over(exc.cause, "pause")
            if self._fallback.bucket is not None:
                await self._fallback.bucket.pause_until(until)

    # -- inspection and lifecycle ---------------------------------------------------------

    async def snapshot(self) -> SharedBudget:
        """Read the shared budget as Redis holds it now (for monitoring and tests).

        Raises:
            RateLimiterUnavailable: Redis failed (whatever ``fallback`` says).
        """
        try:
            reply = await self._scripts.run(
                "SNAPSHOT",
                _redis_scripts.SNAPSHOT,
                repr(self.requests_per_minute / 60),
                str(self.burst),
            )
        except _RedisDown as exc:
            raise self._unavailable(exc.cause) from exc.cause
        return SharedBudget.from_reply(reply)

    async def aclose(self) -> None:
        """Close the pub/sub connection, and the Redis client if the limiter made it."""
        await self._notices.aclose()
        await self._scripts.aclose()

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

    @property
    def _channel(self) -> str:
        return self._notices.channel

    async def _shared_turn(self, max_wait: float | None, probing: bool) -> str | None:
        """This limiter's turn in the shared line: a reservation id, or ``None`` when Redis
        failed (the fallback took over, or :class:`RateLimiterUnavailable` was raised)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._waiters += 1
        try:
            async with self._lock:
                if probing or not self.using_fallback:
                    return await self._line.acquire(max_wait)
        except _RedisDown as exc:
            self._fail_over(exc.cause, "acquire")
        finally:
            self._waiters -= 1
            if self._waiters == 0:
                self._notices.drop()
        return None

    # -- failure and fallback -------------------------------------------------------------

    def _where(self) -> str:
        return self._scripts.where()

    def _unavailable(self, cause: BaseException) -> RateLimiterUnavailable:
        return RateLimiterUnavailable(
            f"the shared rate limiter could not use Redis at {self._where()} for key "
            f"{self.key!r} ({type(cause).__name__}: {cause}); nothing was sent to Docker Hub. "
            "Check that Redis is running and reachable, or pass fallback='local' to "
            "RedisRateLimiter to fall back to a per-process limiter"
        )

    def _fail_over(self, cause: BaseException, during: str) -> None:
        """Switch to a local limiter with this process's share (fallback='local') or raise
        RateLimiterUnavailable."""
        if self.fallback != "local":
            raise self._unavailable(cause) from cause
        if not self.using_fallback:
            share = self.fallback_share or 1.0 / max(1, self._line.workers)
            reset = self._line.known_reset
            reset_in = None if reset is None else reset - time.time()
            self._fallback.start(share, self._line.known, reset_in, self._held)
            logger.warning(
                "hubasync: Redis at %s failed during %s (%s: %s); rate limiter key %r falls "
                "back to a per-process limiter spending %.0f%% of the budget and retries "
                "Redis every %g s",
                self._where(),
                during,
                type(cause).__name__,
                cause,
                self.key,
                100 * share,
                self._fallback.retry_s,
            )
            return
        self._fallback.failed_again()
