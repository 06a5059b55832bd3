"""The live progress display of long commands (``audit``): two lines on stderr, 80 columns.

Line 1 says what is done: ``auditing ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 112/340 0:01:23``.
Line 2 says what is happening: ``412 requests · budget 38/180 · waited 12s``, or while the
rate limiter holds requests back, ``waiting for Hub's rate limit until 12:03:15 (budget
spent) · waited 12s``. "waited" is the wall time during which requests were
held by the limiter, not a sum over requests: ten requests waiting together for 10 s count
10 s (``hub.stats.waited_s`` is that sum, 100 s).

The limiter's live state comes from what it exposes (:func:`wait_state`: ``waiting``,
``waiting_until``, ``wait_reason`` of :class:`~hubasync.AdaptiveTokenBucket`); a limiter
without them (your own :class:`~hubasync.RateLimiter`) shows the counts only. Formatting
(:func:`status_text`) and the wall-time sum (:class:`WaitClock`) are pure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, tzinfo

import attrs
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from .._client import HubClient

__all__ = ["LiveProgress", "WaitClock", "WaitState", "status_text", "wait_state"]

#: The widest a line of the display gets (an 80-column terminal, minus the cursor's cell).
WIDTH = 79
_REASONS = {
    "pause": "a 429 pause",
    "reset": "budget spent",
    "estimated": "budget spent",
    "pacing": "start-up pacing",
}


@attrs.frozen(kw_only=True)
class WaitState:
    """What the rate limiter is doing now.

    Attributes:
        waiting: requests waiting for a turn.
        until: local unix time the head of the line waits for, when the limiter says.
        reason: why (``"pause"``, ``"reset"``, ``"estimated"``, ``"pacing"``), when it says.
    """

    waiting: int = 0
    until: float | None = None
    reason: str | None = None


def wait_state(limiter: object) -> WaitState:
    """Read the live state a limiter exposes (anything it lacks reads as unknown)."""
    waiting = getattr(limiter, "waiting", 0)
    until = getattr(limiter, "waiting_until", None)
    reason = getattr(limiter, "wait_reason", None)
    return WaitState(
        waiting=waiting if isinstance(waiting, int) else 0,
        until=float(until) if isinstance(until, int | float) else None,
        reason=reason if isinstance(reason, str) else None,
    )


@attrs.define
class WaitClock:
    """Wall time during which requests waited, from samples ``observe(now, waiting)``: the
    time between two samples counts when the first of them saw requests waiting."""

    total_s: float = 0.0
    _last: float | None = None
    _was_waiting: bool = False

    def observe(self, now: float, waiting: bool) -> float:
        """Take one sample; returns the total so far."""
        if self._last is not None and self._was_waiting and now > self._last:
            self.total_s += now - self._last
        self._last, self._was_waiting = now, waiting
        return self.total_s


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def status_text(
    *,
    state: WaitState,
    requests: int,
    rate_limited: int,
    remaining: int | None,
    limit: int | None,
    waited_s: float,
    tz: tzinfo | None = None,
    width: int = WIDTH,
) -> str:
    """The second line of the display (at most ``width`` characters). ``tz``: the zone of
    the "until" time (``None``: the local zone)."""
    parts: list[str] = []
    if state.waiting:
        what = "waiting for Hub's rate limit"
        if state.until is not None:
            what += " until " + datetime.fromtimestamp(state.until, tz).strftime("%H:%M:%S")
        if state.reason in _REASONS:
            what += f" ({_REASONS[state.reason]})"
        parts.append(what)
    else:
        parts.append(f"{requests} requests")
    if rate_limited:
        parts.append(f"{rate_limited} 429s")
    if not state.waiting and limit is not None and remaining is not None:
        parts.append(f"budget {remaining}/{limit}")
    parts.append(f"waited {_duration(waited_s)}")
    line = " · ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"


class _Line:
    """A line of text whose content changes (rendered by rich's Live on its own thread)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich__(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis")


class LiveProgress:
    """The two-line display on a terminal ``console``; use as ``with`` inside a coroutine
    (it samples the client's limiter four times a second on the running loop)."""

    def __init__(self, console: Console, hub: HubClient, *, label: str) -> None:
        self._hub = hub
        self._bar = Progress(
            TextColumn(label),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
        )
        self._task = self._bar.add_task(label, total=None)
        self._waits = WaitClock()
        self._line = _Line(self._status(WaitState()))
        self._live = Live(Group(self._bar, self._line), console=console, refresh_per_second=4)
        self._sampler: asyncio.Task[None] | None = None

    @property
    def console(self) -> Console:
        """The console the display draws on (print above it with ``console.print``)."""
        return self._live.console

    @property
    def waited_s(self) -> float:
        """Wall time requests spent waiting for the rate limit so far."""
        return self._waits.total_s

    def __enter__(self) -> LiveProgress:
        self._live.start()
        self._sampler = asyncio.get_running_loop().create_task(self._sample_forever())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        self.sample()
        task = self._bar.tasks[0]
        self._bar.update(self._task, total=task.completed)
        self._live.stop()

    def set_total(self, total: int | None) -> None:
        """How many items there are (``None``: not known yet)."""
        self._bar.update(self._task, total=total)

    def advance(self, steps: int = 1) -> None:
        """Count items done."""
        self._bar.update(self._task, advance=steps)
        self.sample()

    def sample(self) -> None:
        """Read the limiter and the counters now and redraw the status line's text."""
        state = wait_state(self._hub.rate_limiter)
        self._waits.observe(time.time(), state.waiting > 0)
        self._line.text = self._status(state)

    def _status(self, state: WaitState) -> str:
        stats, info = self._hub.stats, self._hub.rate_limit
        return status_text(
            state=state,
            requests=stats.requests,
            rate_limited=stats.rate_limited,
            remaining=info.remaining if info is not None else None,
            limit=info.limit if info is not None else None,
            waited_s=self._waits.total_s,
        )

    async def _sample_forever(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                self.sample()
                await asyncio.sleep(0.25)
