"""The rate budget's rule book: a pure state machine both limiters obey.

No I/O, no asyncio, no clock: every function takes ``now`` (local unix time) and a
:class:`State` and changes the state in place. :class:`~hubasync._ratelimit.AdaptiveTokenBucket`
keeps only a waiting line around it; the Lua scripts of ``hubasync.redis``
(``_redis_scripts.py``) are a line-by-line port, each script naming the function it mirrors,
and ``tests/test_budget_conformance.py`` drives both with the same events and asserts they
agree at every step. Change a rule here and in the Lua together.

The rules
    1. Before Hub's first count, a token bucket at ``rate`` per second with a small ``burst``
       paces the start (the start-up rule). A pause after a 429 restarts it with one token.
    2. Once Hub gave a count, the budget until the reset is Hub's remaining count, less the
       requests that ended without one (:func:`settle` with ``None``: "ghosts"), less the
       requests in flight. At the reset it refills to the limit and the next reset is one
       window later. The window is the shortest distance seen between two successive resets
       Hub named (60 s before two were seen).
    3. Within one window the lowest count wins: responses overtake each other.
    4. A reset later than the known one starts a new window with Hub's count.
    5. A response naming an older window is *charged, never dropped*: its request counts as a
       ghost against the current window (Hub may have counted it anywhere).
    6. A reset earlier than the known one whose window is still running (Hub's windows shrank,
       or its clock stepped back) lowers the count at once but moves the reset only when a
       second response names the same reset (``pend_local``/``pend_raw`` hold the first). A single
       response never makes the limiter refill early. Issue 12's "or when the limit is
       refilled" is the refill at the known reset (rule 2), which ends the wait anyway; a count
       that merely looks refilled confirms nothing: a mangled reset may sit on an answer with a
       high count, and a count above the known one comes from answers overtaking (rule 3).
    7. A reset further ahead than ``2 * window + 2`` s is suspect: its count is taken, its
       reset waits for a second response naming it (rule 6's confirmation). A reset more than
       an hour ahead is garbage.
    8. A request that ended without headers counts against the window it may have landed in:
       the window's start less a margin of ``min(5, window / 2)`` seconds (skew uncertainty).
    9. A 429 pauses everything until the hinted instant; a later pause extends, an earlier
       one never shortens it.
    10. The local clock stepping back more than 2 s moves every stored instant with it.
    11. A limiter with ``share < 1`` (a process spending its part of a budget others spend
        too, e.g. ``RedisRateLimiter``'s local fallback) grants at most its quota,
        ``max(1, floor(share * limit))`` requests, per window of Hub's, counting its own
        grants. The counted window ends at ``quota_reset`` and follows Hub's resets: when it
        ends, the count restarts at the requests still in flight (they may land in the next
        window); a response naming a later window restarts it there (counting that request);
        a reset Hub names less than half a window later extends the counted window to it; one
        Hub names earlier than the counted one moves it there and counts that window
        as spent. Hub's count only lowers the quota (``min(quota left, count left)``), never
        raises it. :func:`take_over` starts such a limiter in the middle of a window others
        spent through another limiter: that window counts as spent (no grant before its
        reset), so the quotas of every sharer add up to at most the limit in every window.
        Only Python applies it (Redis never runs a share).

``take`` answers :class:`Grant`, :class:`Wait` (until when, and why) or :class:`Refuse` (the
wait is longer than the caller's ``max_wait``). Why a wait: :data:`PAUSE` (a 429),
:data:`RESET` (Hub's count is spent until the reset it named), :data:`ESTIMATED` (spent until
a reset the limiter extrapolated: responses in flight may correct it) or :data:`PACING` (the
start-up bucket). ``max_wait`` refuses a pause or Hub's reset that ends later at once, an
estimated reset once the caller waited ``max_wait`` for it, and never pacing.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import attrs

__all__ = [
    "GRANT",
    "BudgetUpdate",
    "Grant",
    "Refuse",
    "State",
    "Wait",
    "available",
    "pause",
    "refusal",
    "reseed",
    "settle",
    "take",
    "take_over",
    "window",
]

Reason = Literal["pause", "reset", "estimated", "pacing"]
PAUSE: Final = "pause"
RESET: Final = "reset"
ESTIMATED: Final = "estimated"
PACING: Final = "pacing"

#: The window assumed before two distinct resets have been seen.
DEFAULT_WINDOW: Final = 60.0
#: Reset instants closer than this are the same window.
JITTER: Final = 1.0
#: How many window-length samples are kept (the window is their minimum).
WINDOW_SAMPLES: Final = 8
#: A reset further ahead than this is garbage (it would stall the limiter for hours).
MAX_RESET_AHEAD: Final = 3600.0
#: The local clock going back more than this is a clock step, not jitter.
CLOCK_STEP: Final = 2.0
#: The most a ghost's window margin may be (rule 8); it is also at most half a window.
GHOST_MARGIN: Final = 5.0
#: An earlier reset within this of now names a window that is over (give or take the skew).
STALE_SLACK: Final = 1.5


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


@attrs.frozen
class Grant:
    """One request may go now (the state counts it in flight)."""


#: The one :class:`Grant` (it carries nothing; :func:`take` returns it rather than a new one).
GRANT: Final = Grant()


@attrs.frozen
class Wait:
    """Nothing may go before local unix time ``until``; ``reason`` says why."""

    until: float
    reason: Reason


@attrs.frozen
class Refuse:
    """The wait (``until``, ``reason``) is longer than the caller allows (``max_wait``)."""

    until: float
    reason: Reason


@attrs.define(kw_only=True, eq=False)
class State:
    """Everything one budget knows (the Redis hash ``state`` holds the same fields).

    ``rate``/``burst``/``share`` configure the start-up bucket; ``share`` (0 < share <= 1)
    scales every budget for a process that spends only its part of a shared one.
    """

    rate: float = 3.0
    burst: int = 10
    share: float = 1.0
    limit: int | None = None
    remaining: int | None = None  # lowest count Hub gave for the current window
    reset_at: float | None = None  # local instant the current window resets
    from_hub: bool = False  # the current window is the one Hub last named (not extrapolated)
    hub_local: float | None = None  # the last reset Hub named, local time
    hub_raw: float | None = None  # ... and on Hub's clock, when known
    pend_local: float | None = None  # an unconfirmed reset (rules 6, 7)
    pend_raw: float | None = None
    samples: list[float] = attrs.Factory(list)  # window-length samples, a ring
    sample_i: int = 0  # the ring's last written slot (1-based, 0 = none)
    ghosts: list[float] = attrs.Factory(list)  # when requests without headers ended, sorted
    in_flight: int = 0
    pause_until: float | None = None
    tokens: float | None = None  # start-up bucket (None = full)
    tokens_at: float | None = None
    last_now: float | None = None
    quota_used: int = 0  # rule 11 (share < 1): grants counted in the window ending at ...
    quota_reset: float | None = None  # ... this local instant (None: no window known yet)


def window(s: State) -> float:
    """The window length: the shortest sample, 60 s before any."""
    return min(s.samples) if s.samples else DEFAULT_WINDOW


def _add_sample(s: State, value: float) -> None:
    i = s.sample_i % WINDOW_SAMPLES + 1
    if i > len(s.samples):
        s.samples.append(value)
    else:
        s.samples[i - 1] = value
    s.sample_i = i


def _ghost_cutoff(s: State, now: float) -> float:
    w = window(s)
    reset = s.reset_at if s.reset_at is not None else now
    return reset - w - min(GHOST_MARGIN, w / 2)


def _shift(s: State, delta: float) -> None:
    """The local clock stepped by ``delta``: move every stored instant with it (rule 10)."""
    if s.reset_at is not None:
        s.reset_at += delta
    if s.hub_local is not None:
        s.hub_local += delta
    if s.pend_local is not None:
        s.pend_local += delta
    if s.pause_until is not None:
        s.pause_until += delta
    if s.tokens_at is not None:
        s.tokens_at += delta
    if s.quota_reset is not None:
        s.quota_reset += delta
    s.ghosts = [t + delta for t in s.ghosts]


def _next_boundary(boundary: float, now: float, w: float) -> float:
    """The first window boundary after ``now`` (``boundary <= now``), windows of ``w`` s."""
    return boundary + (math.floor((now - boundary) / w) + 1) * w


def sync(s: State, now: float) -> None:
    """Bring the state up to ``now``: a clock step back, a window that ended, old ghosts."""
    if s.last_now is not None and now < s.last_now - CLOCK_STEP:
        _shift(s, now - s.last_now)
    if s.last_now is None or now > s.last_now or now < s.last_now - CLOCK_STEP:
        s.last_now = now
    if s.reset_at is not None and now >= s.reset_at:
        if s.limit is None:
            s.remaining, s.reset_at = None, None
        else:
            w = window(s)
            s.reset_at = _next_boundary(s.reset_at, now, w)
            s.remaining = s.limit
        s.from_hub = False
    if s.pend_local is not None and s.pend_local <= now:
        s.pend_local, s.pend_raw = None, None
    if s.ghosts:
        keep_after = _ghost_cutoff(s, now) - window(s)
        s.ghosts = [t for t in s.ghosts if t >= keep_after]


def available(s: State, now: float) -> int | None:
    """Hub's count less the ghosts of the current window (not less those in flight); ``None``
    while the start-up bucket rules. Call after :func:`sync`."""
    if s.remaining is None:
        return None
    if not s.ghosts:
        return max(0, s.remaining)
    cutoff = _ghost_cutoff(s, now)
    return max(0, s.remaining - sum(1 for t in s.ghosts if t >= cutoff))


def take(
    s: State, now: float, *, rank: int = 0, max_wait: float | None = None, waited: float = 0.0
) -> Grant | Wait | Refuse:
    """Take one request from the budget, or say until when and why not.

    ``rank``: how many waiters are ahead (the Redis line; 0 in-process). ``max_wait``/
    ``waited``: see :func:`refusal`.
    """
    answer = _take(s, now, rank)
    if isinstance(answer, Wait) and max_wait is not None:
        refused = refusal(answer, now, max_wait, waited)
        if refused is not None:
            return refused
    return answer


def _take(s: State, now: float, rank: int) -> Grant | Wait:
    sync(s, now)
    if s.share < 1:
        _quota_sync(s, now, 0)
    if s.pause_until is not None and now < s.pause_until:
        return Wait(s.pause_until, PAUSE)
    if s.share < 1 and s.quota_reset is not None and _quota(s) - s.quota_used < rank + 1:
        return Wait(s.quota_reset, RESET if s.from_hub else ESTIMATED)  # rule 11
    avail = available(s, now)
    if avail is not None and s.reset_at is not None:
        if avail - s.in_flight >= rank + 1:
            s.in_flight += 1
            s.quota_used += 1
            return GRANT
        return Wait(s.reset_at, RESET if s.from_hub else ESTIMATED)
    rate = (s.limit / window(s) if s.limit is not None else s.rate) * s.share
    burst = max(1.0, math.floor(s.burst * s.share))
    tokens = s.tokens if s.tokens is not None else burst
    if s.tokens_at is None:
        s.tokens_at = now
    elif now > s.tokens_at:
        tokens = min(burst, tokens + (now - s.tokens_at) * rate)
        s.tokens_at = now
    s.tokens = tokens
    if tokens >= rank + 1 - 1e-9:
        s.tokens = max(0.0, tokens - 1)
        s.in_flight += 1
        s.quota_used += 1
        return GRANT
    wait = (rank + 1 - tokens) / rate
    if s.tokens_at > now:
        wait += s.tokens_at - now
    return Wait(now + wait, PACING)


def refusal(answer: Wait, now: float, max_wait: float, waited: float) -> Refuse | None:
    """Whether a caller allowing ``max_wait`` gives up on ``answer``.

    A pause or Hub's own reset: refused at once when it ends more than ``max_wait`` from now.
    An estimated reset: refused once the caller has ``waited`` that long (responses in flight
    may correct the estimate any moment). Pacing: never.
    """
    if answer.reason in (PAUSE, RESET):
        if answer.until - now > max_wait:
            return Refuse(answer.until, answer.reason)
    elif answer.reason == ESTIMATED and waited >= max_wait:
        return Refuse(answer.until, answer.reason)
    return None


def cancel(s: State, now: float) -> None:
    """A granted request was never sent: it returns to the budget (and to the bucket)."""
    sync(s, now)
    s.in_flight = max(0, s.in_flight - 1)
    s.quota_used = max(0, s.quota_used - 1)
    if s.remaining is None and s.tokens is not None:
        s.tokens = min(float(s.burst), s.tokens + 1)


def pause(s: State, until: float, now: float) -> None:
    """A 429: nothing goes before ``until`` (rule 9)."""
    sync(s, now)
    if s.pause_until is not None and until <= s.pause_until:
        return
    s.pause_until = until
    if until > now:
        s.tokens, s.tokens_at = 1.0, until


def reseed(s: State, limit: int, window_s: float, resume_at: float, now: float) -> None:
    """An empty shared state (Redis restarted or flushed) while a worker knew Hub's limit,
    window and reset: Hub's count for the window is unknown (other workers spent it), so
    the start-up bucket runs at that rate from no token, counted from the reset the worker
    knew (``resume_at``) or from now if that passed. Never a burst."""
    s.limit = limit
    _add_sample(s, window_s)
    s.tokens, s.tokens_at = 0.0, max(now, resume_at)


def settle(s: State, update: BudgetUpdate | None, now: float, *, held: bool = True) -> None:
    """A request ended: ``update`` is what its response said; ``None`` means no usable headers
    (or no response at all): Hub is assumed to have counted it. ``held``: it was in flight."""
    sync(s, now)
    if s.share < 1:
        _quota_sync(s, now, 0)
    if held:
        s.in_flight = max(0, s.in_flight - 1)
    merge(s, update, now)
    if s.share < 1:
        _quota_sync(s, now, 1)  # a later window Hub named counts this request in it


def _quota(s: State) -> int:
    """Rule 11: the requests a limiter with ``share < 1`` may grant per window."""
    limit = s.limit if s.limit is not None else s.rate * window(s)
    return max(1, math.floor(limit * s.share))


def _quota_sync(s: State, now: float, landed: int) -> None:
    """Rule 11: move the counted window along Hub's resets (``landed``: the request just
    settled, which counts in a later window its response named)."""
    w = window(s)
    hub = s.reset_at if s.from_hub else None
    if s.quota_reset is None:
        s.quota_reset = hub  # every grant so far counts in the first window Hub names
        return
    if hub is not None and hub > s.quota_reset + w / 2:  # Hub moved on to a later window
        s.quota_reset, s.quota_used = hub, s.in_flight + landed
        return
    if hub is not None and hub > s.quota_reset:  # the same window, ending a little later
        s.quota_reset = hub
    if now >= s.quota_reset:
        s.quota_reset = _next_boundary(s.quota_reset, now, w)
        s.quota_used = s.in_flight
    if hub is not None and hub < s.quota_reset - w / 2:  # Hub's window ends earlier
        s.quota_reset, s.quota_used = hub, max(s.quota_used, _quota(s))


def take_over(
    s: State, limit: int, window_s: float, reset_at: float | None, now: float, held: int = 0
) -> None:
    """Rule 11's start: this limiter takes over in the middle of a window spent through
    another limiter (Redis failed), knowing Hub's ``limit``, the window and (if known) one of
    its resets. That window counts as spent: no grant before its reset (before
    ``now + window_s`` when no reset is known), then the quota per window (``share < 1``),
    from the start-up bucket's pacing at the share of the rate until Hub's count arrives.
    With ``share == 1`` the start-up bucket's first token comes at that reset: the same
    hold, as this worker may have spent the window itself. ``held``: reservations the other
    limiter granted that are still in flight (they count here)."""
    s.limit = limit
    s.in_flight += held
    _add_sample(s, window_s)
    if reset_at is None:
        reset_at = now + window_s
    elif reset_at <= now:
        reset_at = _next_boundary(reset_at, now, window_s)
    s.quota_reset, s.quota_used = reset_at, _quota(s)
    s.tokens, s.tokens_at = 0.0, reset_at


def _ghost(s: State, now: float) -> None:
    # Only against a count Hub gave: before it, the start-up bucket rules and Hub's first
    # count already includes this request.
    if s.remaining is not None:
        s.ghosts.append(now)


def _same(a_local: float, a_raw: float | None, b_local: float, b_raw: float | None) -> bool:
    if a_raw is not None and b_raw is not None:
        return abs(a_raw - b_raw) < JITTER
    return abs(a_local - b_local) < JITTER


def _into_current(s: State, remaining: int, observed: float) -> None:
    if s.remaining is None or s.reset_at is None:
        # the window ends at most one window after the response: refill no earlier
        s.remaining, s.reset_at, s.from_hub = remaining, observed + window(s), False
    else:
        s.remaining = min(s.remaining, remaining)


def _adopt(s: State, reset_at: float, raw: float | None, remaining: int, fresh: bool) -> None:
    s.hub_local, s.hub_raw = reset_at, raw
    s.pend_local, s.pend_raw = None, None
    if fresh or s.remaining is None:
        s.remaining = remaining
    else:
        s.remaining = min(s.remaining, remaining)
    s.reset_at, s.from_hub = reset_at, True


def _confirmed(s: State, reset_at: float, raw: float | None) -> bool:
    """Whether an unconfirmed reset was named before (rules 6, 7); else remember it."""
    if s.pend_local is not None and _same(reset_at, raw, s.pend_local, s.pend_raw):
        return True
    s.pend_local, s.pend_raw = reset_at, raw
    return False


def valid_count(value: object) -> int | None:
    """``value`` if it is an int >= 0 (not a bool), else ``None``."""
    if type(value) is int:  # the usual case, checked first (a bool is not exactly an int)
        return value if value >= 0 else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def finite(value: object) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else ``None``."""
    if type(value) is float:  # the usual case, checked first
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def merge(s: State, update: BudgetUpdate | None, now: float) -> None:
    """Fold one response's view into the budget (after :func:`sync`)."""
    if update is None:
        _ghost(s, now)
        return
    limit = valid_count(update.limit)
    if limit is not None and limit >= 1:
        s.limit = limit
        if s.remaining is not None:
            s.remaining = min(s.remaining, limit)
    remaining = valid_count(update.remaining)
    if remaining is None:
        _ghost(s, now)  # no count: assume Hub counted it
        return
    if s.limit is not None:
        remaining = min(remaining, s.limit)
    observed = finite(update.observed_at)
    if observed is None:
        observed = now
    seen = max(observed, now)
    reset_at = finite(update.reset_at)
    raw = finite(update.hub_reset)
    if reset_at is not None and reset_at > observed + MAX_RESET_AHEAD:
        reset_at = None  # garbage (rule 7)
    if reset_at is None:
        _into_current(s, remaining, seen)  # a count without a usable reset
        return
    kind, sample = _classify(s, reset_at, raw)
    if kind == "newer":
        if reset_at <= now:
            _into_current(s, remaining, seen)  # over by our clock: only the count
            return
        if reset_at > seen + 2 * window(s) + 2 and not _confirmed(s, reset_at, raw):
            _into_current(s, remaining, seen)  # suspect (rule 7): the count, not the reset
            return
        if sample is not None:
            _add_sample(s, sample)
        _adopt(s, reset_at, raw, remaining, s.from_hub)
        return
    if kind == "stale":
        if reset_at <= now + STALE_SLACK:
            _ghost(s, now)  # an older window's response: charged, never dropped (rule 5)
            return
        _into_current(s, remaining, seen)  # the reset went back (rule 6)
        if _confirmed(s, reset_at, raw):
            _adopt(s, reset_at, raw, remaining, False)
        return
    # the window we track
    if reset_at <= now and not s.from_hub:
        _ghost(s, now)  # we rolled past that window already: charged (rule 5)
        return
    if s.remaining is None or s.reset_at is None:
        s.remaining, s.reset_at = remaining, reset_at
    else:
        s.remaining = min(s.remaining, remaining)
        if not s.from_hub:
            s.reset_at = reset_at
        elif raw is not None and raw == s.hub_raw:
            # one Hub instant seen through several skew estimates: each conversion is the
            # latest the instant can be, so the earliest of them is still never early
            s.reset_at = min(s.reset_at, reset_at)
        else:
            s.reset_at = max(s.reset_at, reset_at)  # conservative: keep the latest
    s.hub_local = reset_at
    if raw is not None:
        s.hub_raw = raw
    s.from_hub = True


def _classify(s: State, reset_at: float, raw: float | None) -> tuple[str, float | None]:
    """Compare a reset with the last one Hub named: ``("newer"|"same"|"stale", sample)``.

    With Hub's own instants on both sides the answer is exact. Otherwise local conversions are
    compared: they only move down as the skew estimate tightens, so the sample is rounded up.
    """
    if s.hub_local is None:
        return "newer", None
    if raw is not None and s.hub_raw is not None:
        diff = raw - s.hub_raw
        sample = diff
    else:
        diff = reset_at - s.hub_local
        sample = float(math.ceil(diff + 0.5))
    if diff >= JITTER:
        return "newer", sample
    if diff > -JITTER:
        return "same", None
    return "stale", None
