"""Pieces of :mod:`hubasync.redis` without a limiter in them: script arguments and replies,
the snapshot value, cancellation helpers and the pub/sub wake-up notices."""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import logging
import math
import time
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from . import _budget, _redis_scripts
from ._budget import Wait
from ._budget import finite as _finite
from ._budget import valid_count as _count
from ._ratelimit import AdaptiveTokenBucket, log_wait, wait_too_long
from .errors import RateLimitError

if TYPE_CHECKING:
    from ._budget import BudgetUpdate

__all__ = ["Notices", "SharedBudget"]

logger = logging.getLogger("hubasync.redis")

#: How long to wait for a subscription to be confirmed, and to poll after one failed.
SUBSCRIBE_TIMEOUT_S = 1.0
RETRY_S = 30.0
#: How often a ``RedisRateLimiter`` on its local fallback probes Redis (``LocalFallback.retry_s``).
FALLBACK_RETRY_S = 30.0


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

    @classmethod
    def from_reply(cls, reply: Any) -> SharedBudget:
        """The SNAPSHOT script's reply as a value."""
        limit, remaining, reset_in, window, in_flight, waiting, pause_in, tokens = reply
        return cls(
            limit=_opt_int(limit),
            remaining=_opt_int(remaining),
            reset_in=_opt(reset_in),
            window_s=float(window),
            in_flight=int(in_flight),
            waiting=int(waiting),
            pause_in=float(pause_in),
            tokens=_opt(tokens),
        )


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


class Notices:
    """A pub/sub subscription to a key's wake-up channel (release, cancel, pause notices).

    Notices are only a hint: when pub/sub fails, waiters poll, and subscribing is retried
    after :data:`RETRY_S`.
    """

    def __init__(self, channel: str, key: str) -> None:
        self.channel = channel
        self.key = key
        self.ps: Any = None
        self._retry_at = 0.0
        self._background: set[asyncio.Task[Any]] = set()

    def may_subscribe(self) -> bool:
        """Not subscribed, and not in the pause after a failed subscription."""
        return self.ps is None and time.monotonic() >= self._retry_at

    async def subscribe(self, client: Any, errors: tuple[type[BaseException], ...]) -> bool:
        """Subscribe; False (and polling for a while) if that fails."""
        ps = client.pubsub()
        try:
            await ps.subscribe(self.channel)
            deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
            while (left := deadline - time.monotonic()) > 0:
                msg = await ps.get_message(timeout=left)
                if msg is not None and msg.get("type") == "subscribe":
                    break
        except errors as exc:
            self._close_later(ps)
            logger.debug(
                "hubasync: no pub/sub for rate limiter key %r (%s); polling", self.key, exc
            )
            self._retry_at = time.monotonic() + RETRY_S
            return False
        except BaseException:
            self._close_later(ps)
            raise
        self.ps = ps
        return True

    async def wait(
        self, seconds: float, poll: float, errors: tuple[type[BaseException], ...]
    ) -> None:
        """Sleep ``seconds``, or less if a notice arrives (without a subscription: poll)."""
        ps = self.ps
        if ps is None:
            await asyncio.sleep(seconds)
            return
        try:
            msg = await ps.get_message(ignore_subscribe_messages=True, timeout=seconds)
            while msg is not None:  # drain the notices that came together
                msg = await ps.get_message(ignore_subscribe_messages=True, timeout=0.0)
        except asyncio.CancelledError:
            self.drop()
            raise
        except errors:
            # lose the subscription, keep the deadline
            self.drop()
            await asyncio.sleep(min(seconds, poll))

    def drop(self) -> None:
        """Close the subscription (in the background)."""
        ps, self.ps = self.ps, None
        if ps is not None:
            self._close_later(ps)

    async def aclose(self) -> None:
        """Close the subscription and wait for every background close."""
        ps, self.ps = self.ps, None
        if ps is not None:
            with contextlib.suppress(Exception):
                await ps.aclose()
        for task in list(self._background):
            with contextlib.suppress(BaseException):
                await task

    def _close_later(self, ps: Any) -> None:
        task = asyncio.ensure_future(_close_quietly(ps))
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def _close_quietly(ps: Any) -> None:
    with contextlib.suppress(Exception):
        await ps.aclose()


def where(client: Any, url: str | None) -> str:
    """Where Redis is, for messages: host:port/db or the socket path, never a password."""
    if client is None:
        url = url or "?"
        return url.split("@")[-1] if "@" in url else url
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix:{kwargs['path']}/{kwargs.get('db', 0)}"
    host = kwargs.get("host", "localhost")
    port = kwargs.get("port", 6379)
    return f"{host}:{port}/{kwargs.get('db', 0)}"


class Scripts:
    """Runs the limiter's Lua scripts against one Redis client (EVALSHA, loading a script on
    first use and again after a Redis restart); any Redis fault becomes :class:`_RedisDown`."""

    def __init__(
        self,
        client: Any,
        url: str | None,
        keys: tuple[str, ...],
        min_ttl: str,
        errors: tuple[type[BaseException], ...],
        no_script: type[BaseException],
        connect: Any,
    ) -> None:
        self.client, self.url, self.keys, self.min_ttl = client, url, keys, min_ttl
        self.errors, self._no_script, self._connect = errors, no_script, connect
        self._shas: dict[str, str] = {}

    def redis(self) -> Any:
        """The Redis client (made from the URL on first use)."""
        if self.client is None:
            self.client = self._connect(self.url)
        return self.client

    async def run(self, name: str, source: str, *args: str) -> Any:
        """Run one script with the key's KEYS and ``(min_ttl, *args)`` as ARGV."""
        client = self.redis()
        argv = (self.min_ttl, *args)
        base = _cancelling()
        try:
            sha = self._shas.get(name)
            if sha is not None:
                try:
                    reply = await client.evalsha(sha, len(self.keys), *self.keys, *argv)
                except self._no_script:
                    sha = None
            if sha is None:
                sha = await client.script_load(source)
                self._shas[name] = sha
                reply = await client.evalsha(sha, len(self.keys), *self.keys, *argv)
        except self.errors as exc:
            raise _RedisDown(exc) from exc
        _raise_swallowed_cancel(base)
        return reply

    def where(self) -> str:
        """Where Redis is, for messages (never a password)."""
        return where(self.client, self.url)

    async def aclose(self) -> None:
        """Close the client if it was made from a URL (a client passed in is the caller's)."""
        if self.url is not None and self.client is not None:
            client, self.client = self.client, None
            await client.aclose()


@attrs.define
class Held:
    """A reservation a worker holds: its Redis id (``""``: none) and the local buckets that
    count it (each is released with it)."""

    rid: str
    buckets: list[AdaptiveTokenBucket] = attrs.Factory(list)


class LocalFallback:
    """The per-process limiter a ``RedisRateLimiter`` runs on while Redis is away.

    Each outage gets a fresh :class:`AdaptiveTokenBucket` with this worker's ``share``:
    rule 11 of :mod:`hubasync._budget` (the window of the switch counts as spent, then at most
    ``floor(share * limit)`` grants per Hub window, windows following Hub's resets). When
    Redis answers again, the bucket stays in force for ``retry_s`` plus a window: every grant
    must pass it *and* Redis, since siblings may still be granting their share locally until
    they probe Redis again (within ``retry_s``) and their last local window ends.
    """

    def __init__(self, requests_per_minute: int, burst: int, clock: Any) -> None:
        self.rpm, self.burst, self.clock = requests_per_minute, burst, clock
        self.retry_s = FALLBACK_RETRY_S  # how often Redis is probed while it is away
        self.bucket: AdaptiveTokenBucket | None = None
        self.retry_at = 0.0  # > 0 while active: when to probe Redis again
        self.dual_until = 0.0  # back on Redis: the bucket still applies until then

    @property
    def active(self) -> bool:
        """Requests are being granted locally."""
        return self.bucket is not None and self.retry_at > 0

    def in_force(self) -> bool:
        """Grants must pass the local bucket (on the fallback, or just back from it)."""
        return self.bucket is not None and (self.retry_at > 0 or time.monotonic() < self.dual_until)

    def start(
        self,
        share: float,
        known: tuple[int, float] | None,
        reset_in: float | None,
        held: collections.abc.Iterable[Held],
    ) -> None:
        """Redis failed while shared: a new local bucket with ``share`` of the budget, taking
        over the current window (``reset_in``: its reset as Redis knew it, seconds from now).
        ``held``: this worker's reservations; those Redis granted count in the new bucket."""
        bucket = AdaptiveTokenBucket(
            requests_per_minute=self.rpm, burst=self.burst, clock=self.clock, share=share
        )
        redis_held = [entry for entry in held if entry.rid]
        for entry in redis_held:
            entry.buckets.append(bucket)
        if known is not None:
            now = self.clock.time()
            reset = None if reset_in is None else now + reset_in
            bucket.take_over(known[0], known[1], reset, len(redis_held))
        self.bucket = bucket
        self.retry_at = time.monotonic() + self.retry_s

    def head_wait(self) -> tuple[float, str] | None:
        """What the head of the local line waits for, while the bucket is in force."""
        bucket = self.bucket if self.in_force() else None
        if bucket is None or bucket.waiting_until is None:
            return None
        return bucket.waiting_until, bucket.wait_reason or ""

    def failed_again(self) -> None:
        """A probe failed: stay local, probe again after ``retry_s``."""
        self.retry_at = time.monotonic() + self.retry_s

    def recovered(self) -> None:
        """Redis answers again: stop granting locally; the bucket stays in force a while."""
        self.retry_at = 0.0
        window = self.bucket.window if self.bucket is not None else 0.0
        self.dual_until = time.monotonic() + self.retry_s + window


class SharedLine:
    """A limiter's place in the shared line in Redis: one waiter at a time asks ACQUIRE,
    sleeps until the instant it names (or a notice), and decides ``max_wait`` with
    :func:`hubasync._budget.refusal`. Remembers what Redis said about the budget (for a
    restarted Redis and the fallback's share)."""

    def __init__(
        self, scripts: Scripts, notices: Notices, config: tuple[str, ...], poll: float
    ) -> None:
        self.scripts, self.notices = scripts, notices
        self.lease, self.rate, self.burst, self.poll_arg, self.grace = config
        self.poll_interval = poll
        self.known: tuple[int, float] | None = None  # limit, window
        self.known_reset: float | None = None  # time.time() scale
        self.workers = 1
        self.worker_id = uuid.uuid4().hex
        self.wait: Wait | None = None

    async def acquire(self, max_wait: float | None) -> str:
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
                    self.wait = None
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
                if self.notices.may_subscribe():
                    # Subscribe, then ask again at once: a release between the script's answer
                    # and the subscription would otherwise be missed.
                    subscribed = await self.notices.subscribe(
                        self.scripts.redis(), self.scripts.errors
                    )
                    _raise_swallowed_cancel(base)
                    if subscribed:
                        continue
                await self.notices.wait(grant.wait, self.poll_interval, self.scripts.errors)
                _raise_swallowed_cancel(base)
        except (asyncio.CancelledError, RateLimitError):
            self.wait = None
            with contextlib.suppress(_RedisDown):
                await self.scripts.run(
                    "CANCEL", _redis_scripts.CANCEL, rid, self.burst, self.notices.channel
                )
            raise

    def _note_wait(self, wait: Wait, now: float) -> None:
        """Expose the head's wait, and log it once (not at every poll)."""
        last = self.wait
        self.wait = wait
        if last is None or last.reason != wait.reason or abs(last.until - wait.until) > 1.0:
            log_wait(f"rate limiter key {self.notices.key!r}", wait, now)

    async def _shielded_acquire(self, rid: str, ticket: int) -> _Grant:
        """Run ACQUIRE; a cancellation waits for the script's answer, so CANCEL comes after."""
        known = self.known
        reset = self.known_reset
        call = asyncio.ensure_future(
            self.scripts.run(
                "ACQUIRE",
                _redis_scripts.ACQUIRE,
                rid,
                str(ticket),
                self.lease,
                self.rate,
                self.burst,
                self.poll_arg,
                self.grace,
                "" if known is None else str(known[0]),
                "" if known is None else repr(known[1]),
                _num_arg(None if reset is None else reset - time.time()),
                self.worker_id,
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
            self.known = (grant.limit, grant.window)
        if grant.reset_in is not None:
            self.known_reset = time.time() + grant.reset_in
        self.workers = grant.workers
        return grant
