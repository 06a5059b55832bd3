"""Docker Hub's rate-limit headers, read purely (no I/O, no state).

Every response may carry ``X-RateLimit-Limit`` (requests per window), ``X-RateLimit-Remaining``
and ``X-RateLimit-Reset`` (unix time of the window's reset, on Hub's clock), plus ``Date``.
A 429 carries a retry hint in one of three forms: ``X-Retry-After`` with a unix timestamp
(the seed spec), ``Retry-After`` with delta seconds (the current spec) or ``Retry-After``
with a unix timestamp (seen in the wild); RFC 9110 also allows an HTTP-date.
:meth:`RateLimitInfo.from_headers` reads all of it, raw and on Hub's clock, and never raises:
a value it cannot trust becomes ``None``. Converting Hub's instants to local ones is the
skew estimator's business (``_clock.py``); what the budget makes of them, ``_budget.py``'s.
"""

from __future__ import annotations

import email.utils
import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._budget import BudgetUpdate

__all__ = ["EPOCH_THRESHOLD", "RateLimitInfo", "parse_retry_hint"]


#: A number at least this large is a unix timestamp (2001-09-09), smaller is delta seconds.
EPOCH_THRESHOLD = 1e9
#: Timestamps at or beyond this (year 5138) are garbage.
_EPOCH_MAX = 1e11
#: Counts beyond this are garbage.
_COUNT_MAX = 10**9
_NUMBER_RE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?")
#: aiohttp's case-insensitive header mappings (read as they are).
_MULTIDICTS = (CIMultiDictProxy, CIMultiDict)
#: The retry hints, in order of preference.
_HINT_NAMES = ("x-retry-after", "retry-after")


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
    if type(value) is str:
        return _parse_count_text(value)  # cached: a window's counts are a few hundred values
    return _parse_count_any(value)


@functools.lru_cache(maxsize=1024)
def _parse_count_text(value: str) -> int | None:
    return _parse_count_any(value)


def _parse_count_any(value: object) -> int | None:
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
    if type(value) is str:
        return _parse_http_date_raw(value)  # the usual case: one cache look-up
    text = _text(value)
    if text is None:
        return None
    return _parse_http_date_text(text)


@functools.lru_cache(maxsize=64)
def _parse_http_date_raw(value: str) -> float | None:
    # Cached: every response carries a Date, and within a second they are all the same.
    text = _text(value)
    return None if text is None else _parse_http_date_text(text)


def _parse_http_date_text(text: str) -> float | None:
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
    if type(value) is str:
        number = _reset_number(value)  # cached: Hub repeats one reset for a whole window
    else:
        text = _text(value)
        number = _parse_number(text) if text is not None else None
    if number is None:
        return None
    if number >= EPOCH_THRESHOLD:
        return number if number < _EPOCH_MAX else None
    return date + number if date is not None else None


@functools.lru_cache(maxsize=64)
def _reset_number(value: str) -> float | None:
    text = _text(value)
    return _parse_number(text) if text is not None else None


def _lower_keys(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    """Header names lower-cased; the first of repeated names wins (like ``CIMultiDict.get``).

    aiohttp's case-insensitive multidicts are used as they are (no copy per response).
    """
    if type(headers) in _MULTIDICTS or isinstance(headers, _MULTIDICTS):
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
        get = _lower_keys(headers).get  # only the six names below are read
        date = _parse_http_date(get("date"))
        limit = _parse_count(get("x-ratelimit-limit"))
        retry_at: float | None = None
        retry_after: float | None = None
        for name in _HINT_NAMES:
            value = get(name)
            raw = _text(value) if value is not None else None
            if raw is None:
                continue
            retry_at, retry_after = parse_retry_hint(raw)
            if retry_at is not None or retry_after is not None:
                break
        return cls(
            limit=limit if limit else None,  # a limit of 0 would mean "never send": garbage
            remaining=_parse_count(get("x-ratelimit-remaining")),
            reset=_parse_reset(get("x-ratelimit-reset"), date),
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
