"""Time helpers for FakeHub: RFC 3339 / HTTP-date formatting and parsing.

Everything here is pure (no I/O); FakeHub keeps all instants as float unix seconds. The
settable clock is ``hubasync.testing.ManualClock`` (defined in ``hubasync._clock``), the same
one ``HubClient(clock=...)`` takes.
"""

from __future__ import annotations

import calendar
import math
import re
import time
from datetime import UTC, datetime
from email.utils import formatdate

__all__ = [
    "format_http_date",
    "format_ts",
    "month_before",
    "parse_ts",
    "to_epoch",
]


def to_epoch(value: datetime | float | None) -> float | None:
    """Convert a datetime (aware) or unix seconds to unix seconds; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value!r}: give FakeHub timezone-aware datetimes "
                "(e.g. datetime(..., tzinfo=timezone.utc))."
            )
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected an aware datetime or unix seconds, got {value!r}")
    return float(value)


def format_ts(ts: float, digits: int = 6) -> str:
    """Format unix seconds as RFC 3339 UTC with ``digits`` (0 to 9) fraction digits + Z."""
    sec = math.floor(ts)
    frac = ""
    if digits > 0:
        scale = 10**digits
        units = round((ts - sec) * scale)
        if units >= scale:
            sec, units = sec + 1, units - scale
        frac = "." + str(units).zfill(digits)
    t = time.gmtime(sec)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}{frac}Z"
    )


def format_http_date(ts: float) -> str:
    """Format unix seconds as an HTTP-date (RFC 9110 IMF-fixdate, one-second resolution)."""
    return formatdate(math.floor(ts), usegmt=True)


_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_ts(text: str) -> float:
    """Parse an RFC 3339 timestamp (fraction up to 9 digits, Z or offset; none = UTC)."""
    m = _TS_RE.match(text.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour = int(m[4] or 0)
    minute = int(m[5] or 0)
    second = int(m[6] or 0)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError(f"not a valid date/time: {text!r}")
    try:
        datetime(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a valid date: {text!r}") from exc
    frac = float("0." + m[7]) if m[7] else 0.0
    offset = 0
    tz = m[8]
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) + frac - offset


def month_before(ts: float) -> float:
    """The same instant one calendar month earlier (day clamped to the month's length)."""
    dt = datetime.fromtimestamp(ts, UTC)
    year, month = (dt.year, dt.month - 1) if dt.month > 1 else (dt.year - 1, 12)
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day).timestamp()
