"""Retry decisions and waits: pure functions (``_sansio.interpret`` applies them).

What is retried (DESIGN.md, "Retries"):

* 429: always (Hub did not process the request), up to ``MAX_CONSECUTIVE_429`` in a row; the
  wait comes from Hub's hint and is enforced by the rate limiter for every request, not by a
  sleep here. 429 retries do not use up ``max_retries``.
* 500/502/503/504, connection faults and timeouts: only for idempotent operations.
* A creating POST only when Hub provably did not process it (the connection never opened).
* 400/403/404/409/422 never; a 401 once, after refreshing the token.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from enum import Enum
from typing import Final

import attrs
import tenacity

__all__ = [
    "MAX_CONSECUTIVE_429",
    "RETRYABLE_STATUSES",
    "FailureKind",
    "RetryState",
    "backoff_delay",
    "backoff_scale",
    "decide",
    "rate_limit_deadline",
    "set_backoff_scale",
]

MAX_CONSECUTIVE_429: Final = 20
RETRYABLE_STATUSES: Final = frozenset({500, 502, 503, 504})

#: Multiplies every backoff delay. The test switch (``hubasync.testing.disable_backoff``)
#: sets it to 0 so the suite does not sleep; rate-limit waits are behaviour and stay.
_backoff_scale: float = 1.0


def set_backoff_scale(scale: float) -> None:
    """Scale every backoff delay (0 turns backoff sleeps off, for test suites)."""
    global _backoff_scale
    if scale < 0 or math.isnan(scale):
        raise ValueError(f"backoff scale must be >= 0, got {scale!r}")
    _backoff_scale = scale


def backoff_scale() -> float:
    """The current backoff scale (1.0 unless a test switched it)."""
    return _backoff_scale


class FailureKind(Enum):
    """What went wrong with one attempt, as far as the retry decision cares.

    (Not ``hubasync.testing.Fault``, which is a fault FakeHub injects.)
    """

    RATE_LIMITED = "rate_limited"  # 429
    SERVER = "server"  # 500/502/503/504
    CONNECT = "connect"  # the connection never opened: Hub cannot have processed it
    TRANSPORT = "transport"  # reset, timeout or truncated body after sending
    UNAUTHORIZED = "unauthorized"  # 401 on an authenticated request
    FINAL = "final"  # any other error: never retried


@attrs.define
class RetryState:
    """Counters of one logical request across its attempts."""

    retries: int = 0  # retries counted against max_retries
    consecutive_429: int = 0
    refreshed_after_401: bool = False


def decide(
    fault: FailureKind,
    state: RetryState,
    *,
    idempotent: bool,
    can_refresh: bool,
    max_retries: int,
) -> bool:
    """Whether to retry after ``fault``; updates ``state``'s counters when it says yes."""
    if fault is FailureKind.RATE_LIMITED:
        if state.consecutive_429 + 1 >= MAX_CONSECUTIVE_429:
            return False
        state.consecutive_429 += 1
        return True
    state.consecutive_429 = 0
    if fault is FailureKind.UNAUTHORIZED:
        if can_refresh and not state.refreshed_after_401:
            state.refreshed_after_401 = True
            return True
        return False
    if fault is FailureKind.FINAL:
        return False
    allowed = fault is FailureKind.CONNECT or idempotent
    if not allowed or state.retries >= max_retries:
        return False
    state.retries += 1
    return True


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))].

    The schedule is tenacity's ``wait_exponential`` (its overflow-safe ceiling); the jitter is
    drawn here from ``rng`` so tests can pin it (tenacity's ``wait_random_exponential`` draws
    from the module-level ``random`` and cannot be seeded per call).
    """
    if attempt < 1:
        return 0.0
    ceiling = tenacity.wait_exponential(multiplier=base, max=cap)(_Attempt(attempt))  # type: ignore[arg-type]
    return rng() * ceiling * _backoff_scale


@attrs.define(slots=True)
class _Attempt:
    """The one field of tenacity's ``RetryCallState`` its wait strategies read."""

    attempt_number: int


def rate_limit_deadline(
    *,
    now: float,
    hinted_at: float | None,
    hinted_after: float | None,
    received_at: float,
    reset_at: float | None,
    last_reset_at: float | None,
    consecutive_429: int,
    rng: Callable[[], float] = random.random,
) -> float:
    """The local instant when a request that got a 429 may be retried.

    Which hint wins (DESIGN.md): the 429's own retry hint (``hinted_at``, an instant already
    converted to local time, or ``hinted_after`` seconds counted from receipt), else the same
    response's reset, else the last known reset, else capped exponential backoff. A hint in
    the past still waits a moment so a storm of retries cannot start.
    """
    floor = now + 0.05
    if hinted_at is not None:
        return max(hinted_at, floor)
    if hinted_after is not None:
        return max(received_at + hinted_after, floor)
    if reset_at is not None and reset_at > now:
        return max(reset_at, floor)
    if last_reset_at is not None and last_reset_at > now:
        return max(last_reset_at, floor)
    # No hint at all: unscaled backoff, since this is Hub asking us to slow down.
    ceiling = min(60.0, 1.0 * (2.0 ** min(consecutive_429, 16)))
    return now + max(0.5, rng() * ceiling)
