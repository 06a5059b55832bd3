"""FakeHub's rate limiter: fixed windows on the server clock, and Hub's 429 retry hints."""

from __future__ import annotations

import math
from typing import Literal, get_args

from ._clock import format_http_date

__all__ = ["RETRY_HINTS", "FixedWindowLimiter", "RetryHint", "retry_hint_headers"]

RetryHint = Literal[
    "x-retry-after-epoch", "retry-after-seconds", "retry-after-epoch", "http-date", "none"
]
"""How a 429 says when to come back.

``x-retry-after-epoch``: ``X-Retry-After: <unix seconds>`` (the seed spec);
``retry-after-seconds``: ``Retry-After: <delta seconds>`` (the current spec);
``retry-after-epoch``: ``Retry-After: <unix seconds>`` (seen from Hub);
``http-date``: ``Retry-After: <HTTP-date>``; ``none``: no hint (only ``X-RateLimit-Reset``).
"""

RETRY_HINTS: tuple[str, ...] = get_args(RetryHint)


class FixedWindowLimiter:
    """``limit`` requests per ``window_s`` for each key, in windows aligned to the epoch.

    A window is ``[k * window_s, (k + 1) * window_s)`` on the server clock; its reset is the
    window's end rounded up to whole seconds (Hub sends integer unix seconds).
    """

    __slots__ = ("_buckets", "limit", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"rate_limit must be a positive integer, got {limit!r}")
        if not window_s > 0:
            raise ValueError(f"window_s must be a positive number of seconds, got {window_s!r}")
        self.limit = limit
        self.window_s = float(window_s)
        self._buckets: dict[str, list[int]] = {}

    def reset_at(self, now: float) -> int:
        """The integer unix time at which the window containing ``now`` ends."""
        index = math.floor(now / self.window_s)
        return math.ceil((index + 1) * self.window_s)

    def hit(self, key: str, now: float) -> tuple[bool, int, int]:
        """Count one request for ``key`` at ``now``.

        Returns ``(allowed, remaining, reset)``: whether it fits in the window, how many
        requests remain after it, and the window's reset (integer unix seconds). A refused
        request does not use up anything.
        """
        index = math.floor(now / self.window_s)
        bucket = self._buckets.get(key)
        if bucket is None or bucket[0] != index:
            bucket = [index, 0]
            self._buckets[key] = bucket
        reset = math.ceil((index + 1) * self.window_s)
        if bucket[1] >= self.limit:
            return False, 0, reset
        bucket[1] += 1
        return True, self.limit - bucket[1], reset

    def resized(self, limit: int, window_s: float, now: float) -> FixedWindowLimiter:
        """The same callers under ``limit`` per ``window_s`` from ``now`` on: each caller's
        count of the window running at ``now`` carries into the new window that contains
        ``now`` (changing the window refills nothing); older windows are forgotten."""
        new = FixedWindowLimiter(limit, window_s)
        index = math.floor(now / self.window_s)
        moved = math.floor(now / new.window_s)
        for key, (bucket_index, count) in self._buckets.items():
            if bucket_index == index:
                new._buckets[key] = [moved, count]
        return new

    def clear(self) -> None:
        """Forget every window (all keys get a full budget)."""
        self._buckets.clear()


def retry_hint_headers(hint: str, reset: int, now: float) -> dict[str, str]:
    """The retry header(s) a 429 carries for ``hint``, pointing at ``reset`` (unix seconds)."""
    if hint == "x-retry-after-epoch":
        return {"X-Retry-After": str(reset)}
    if hint == "retry-after-epoch":
        return {"Retry-After": str(reset)}
    if hint == "retry-after-seconds":
        return {"Retry-After": str(max(1, math.ceil(reset - now)))}
    if hint == "http-date":
        return {"Retry-After": format_http_date(reset)}
    return {}
