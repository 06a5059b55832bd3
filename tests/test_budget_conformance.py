"""Differential conformance: the Python budget core (_budget.py) and the Lua scripts
(_redis_scripts.py) on a real redis-server take the same events with the same "now" and must
agree at every step: every grant, every wait (until when, and why) and the whole state.

Time is injected on both sides: the scripts run in their test variant that reads "now" from
the last argument (``with_time_from_argv``). Times are multiples of 1/64 s so that both sides'
float arithmetic is exact. One pipeline per sequence keeps it fast.

Named cases: every row of issue 12's table, each also run against a Hub-shaped simulation
(fixed windows on Hub's clock, counting sends over the limit): 0 over-limit sends after the
first window (``tests/test_budget_e2e.py`` runs the same rows through ``HubClient`` against
FakeHub). Then a seeded random generator of event sequences.

Skips when HUBASYNC_REDIS_URL is unset, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import email.utils
import math
import os
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from hubasync import _budget, _redis_scripts
from hubasync._budget import BudgetUpdate, Grant, Refuse, State, Wait
from hubasync._ratelimit_headers import RateLimitInfo

redis = pytest.importorskip("redis")

from hubasync.redis import _release_args  # noqa: E402

URL = os.environ.get("HUBASYNC_REDIS_URL")
RATE, BURST, LEASE = 3.0, 10, 1e9
RANDOM_SEQUENCES = 2000

if not URL and os.environ.get("CI") != "true":
    pytestmark = pytest.mark.skip(reason="HUBASYNC_REDIS_URL is unset (run .ci/start-redis)")

_DUMP = """
return {redis.call('HGETALL', KEYS[1]), redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES'),
        redis.call('ZCARD', KEYS[2])}
"""
_REDIS_ONLY = {"ticket", "ghost_seq"}


@pytest.fixture(scope="module")
def r() -> Iterator[Any]:
    if not URL:
        pytest.fail("CI=true but HUBASYNC_REDIS_URL is unset: .ci/run starts a redis-server")
    client = redis.Redis.from_url(URL)
    shas = {
        name: client.script_load(_redis_scripts.with_time_from_argv(getattr(_redis_scripts, name)))
        for name in ("ACQUIRE", "RELEASE", "PAUSE", "CANCEL")
    }
    shas["DUMP"] = client.script_load(_DUMP)
    client.shas = shas
    yield client
    client.close()


class Twin:
    """One budget held twice: the Python core and the Lua on Redis, fed the same events."""

    def __init__(self, r: Any) -> None:
        self.r = r
        self.s = State(rate=RATE, burst=BURST)
        tag = uuid.uuid4().hex
        self.keys = [
            f"conf:{{{tag}}}:{n}" for n in ("state", "inflight", "queue", "qexp", "ghosts", "w")
        ]
        self.pipe = r.pipeline(transaction=False)
        self.expect: list[tuple[str, Any]] = []
        self.held: deque[str] = deque()
        self.n = 0
        self.known: tuple[int, float, float] | None = None  # limit, window, reset (a worker's)

    def _eval(self, name: str, now: float, *args: str) -> None:
        self.pipe.evalsha(self.r.shas[name], 6, *self.keys, "3600", *args, repr(now))

    def _dump(self, label: str) -> None:
        self.pipe.evalsha(self.r.shas["DUMP"], 6, *self.keys)
        self.expect.append(("state", (label, _py_view(self.s))))

    def acquire(self, now: float, max_wait: float | None = None) -> Grant | Wait | Refuse:
        rid = f"r{self.n}"
        self.n += 1
        known = self.known
        if known is not None and self.s.last_now is None:
            _budget.reseed(self.s, known[0], known[1], known[2], now)
        answer = _budget.take(self.s, now, max_wait=max_wait)
        k = ("", "", "") if known is None else (str(known[0]), repr(known[1]), repr(known[2] - now))
        self._eval("ACQUIRE", now, rid, "0", repr(LEASE), repr(RATE), str(BURST), "0.5",
                   "-1e12", *k, "w1")  # fmt: skip
        self.expect.append(("acquire", (f"acquire@{now}", answer, now, max_wait)))
        if isinstance(answer, Grant):
            self.held.append(rid)
        self._dump(f"after acquire@{now}")
        return answer

    def release(self, now: float, update: BudgetUpdate | None, held: bool = True) -> None:
        rid = self.held.popleft() if held and self.held else ""
        _budget.settle(self.s, update, now, held=bool(rid))
        self._eval("RELEASE", now, rid, *_release_args(update, now), "c")
        self.expect.append(("ok", None))
        self._dump(f"after release@{now} {update}")

    def cancel(self, now: float) -> None:
        if not self.held:
            return
        _budget.cancel(self.s, now)
        self._eval("CANCEL", now, self.held.pop(), str(BURST), "c")
        self.expect.append(("ok", None))
        self._dump(f"after cancel@{now}")

    def pause(self, now: float, until: float) -> None:
        _budget.pause(self.s, until, now)
        self._eval("PAUSE", now, repr(until - now), "c")
        self.expect.append(("ok", None))
        self._dump(f"after pause@{now} until {until}")

    def flush(self) -> None:
        """Redis restarted (or FLUSHALL): the worker keeps what it knew."""
        s = self.s
        if s.limit is not None and s.reset_at is not None:
            self.known = (s.limit, _budget.window(s), s.reset_at)
        self.s = State(rate=RATE, burst=BURST)
        self.held.clear()
        self.pipe.delete(*self.keys)
        self.expect.append(("ok", None))

    def check(self, final: bool = True) -> int:
        """Run the pipeline; assert both sides agreed everywhere. Returns the events run."""
        replies = self.pipe.execute()
        self.pipe = self.r.pipeline(transaction=False)
        for (kind, want), got in zip(self.expect, replies, strict=True):
            if kind == "acquire":
                _check_acquire(want, got)
            elif kind == "state":
                label, view = want
                _same_state(_lua_view(got), view, label)
        count = len(self.expect)
        self.expect = []
        if final:
            self.r.delete(*self.keys)
        return count


def _check_acquire(want: tuple[str, Any, float, float | None], got: list[Any]) -> None:
    label, answer, now, max_wait = want
    granted = int(got[0]) == 1
    assert granted == isinstance(answer, Grant), (label, answer, got)
    if granted:
        return
    lua = Wait(now + float(got[4]), got[3].decode())  # type: ignore[arg-type]
    if isinstance(answer, Refuse):  # the worker decides with the same function
        assert max_wait is not None
        assert _budget.refusal(lua, now, max_wait, 0.0) == answer, label
        return
    assert lua.reason == answer.reason, (label, answer, lua)
    assert lua.until == pytest.approx(answer.until, abs=1e-9), (label, answer, lua)


def _same_state(lua: dict[str, Any], py: dict[str, Any], label: str) -> None:
    assert lua.keys() == py.keys(), (label, lua, py)
    for name, value in py.items():
        other = lua[name]
        if isinstance(value, list):
            assert len(other) == len(value), (label, name, lua, py)
            pairs = list(zip(other, value, strict=True))
        else:
            pairs = [(other, value)]
        for x, y in pairs:
            assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (label, name, lua, py)


def _py_view(s: State) -> dict[str, float | list[float]]:
    view: dict[str, Any] = {}
    for f in ("limit", "remaining", "reset_at", "hub_local", "hub_raw", "pend_local", "pend_raw",
              "pause_until", "tokens", "tokens_at", "last_now"):  # fmt: skip
        value = getattr(s, f)
        if value is not None:
            view[f] = float(value)
    view["from_hub"] = 1.0 if s.from_hub else 0.0
    for i, v in enumerate(s.samples):
        view[f"w{i + 1}"] = v
    if s.sample_i:
        view["wi"] = float(s.sample_i)
    view["ghosts"] = sorted(s.ghosts)
    view["in_flight"] = float(s.in_flight)
    return view


def _lua_view(reply: list[Any]) -> dict[str, float | list[float]]:
    fields, ghosts, in_flight = reply
    view: dict[str, Any] = {"from_hub": 0.0}
    for i in range(0, len(fields), 2):
        name = fields[i].decode()
        if name not in _REDIS_ONLY:
            view[name] = float(fields[i + 1])
    view["ghosts"] = sorted(float(ghosts[i + 1]) for i in range(0, len(ghosts), 2))
    view["in_flight"] = float(in_flight)
    return view


# -- a Hub-shaped simulation --------------------------------------------------------------


class SimHub:
    """Fixed windows of ``window`` s on Hub's clock (``local + offset``), ``limit`` each,
    counted like FakeHub's ``FixedWindowLimiter`` (a window other than the last starts afresh)."""

    def __init__(self, limit: int, window: int, offset: float = 0.0) -> None:
        self.limit, self.window, self.offset = limit, window, offset
        self.current = (0, 0, 0)  # window, index, count
        self.over = 0
        self.sends: list[tuple[float, bool]] = []

    def send(self, now: float) -> tuple[bool, int, int]:
        """One request at local ``now``: (allowed, remaining, reset on Hub's clock)."""
        hub = now + self.offset
        index = math.floor(hub / self.window)
        if self.current[:2] != (self.window, index):  # like FakeHub: one bucket, the latest
            self.current = (self.window, index, 0)
        count = self.current[2]
        reset = (index + 1) * self.window
        ok = count < self.limit
        if ok:
            self.current = (self.window, index, count + 1)
        else:
            self.over += 1
        self.sends.append((now, ok))
        return ok, max(0, self.limit - count - 1), reset

    def update(self, now: float, remaining: int, reset: float) -> BudgetUpdate:
        return BudgetUpdate(
            limit=self.limit,
            remaining=remaining,
            reset_at=reset - self.offset,
            observed_at=now,
            hub_reset=reset,
        )


Fault = Callable[[float, BudgetUpdate, int], BudgetUpdate | None]


def drive(
    twin: Twin,
    hub: SimHub,
    *,
    until: float,
    start: float = 1_000_000.0,
    tasks: int = 16,
    latency: float = 0.25,
    fault: Fault | None = None,
    at: dict[float, Callable[[], None]] | None = None,
    final: bool = True,
) -> float:
    """Tasks acquire, send after the grant, and release ``latency`` later; a 429 pauses until
    Hub's reset. Returns the share of the budget used in the full windows after the first."""
    tick = 1 / 16
    now = start
    flight: list[tuple[float, BudgetUpdate | None, bool]] = []
    n = 0
    hooks = dict(at or {})
    while now < start + until:
        for when in [w for w in hooks if w <= now - start]:
            hooks.pop(when)()
        due = [f for f in flight if f[0] <= now]
        flight = [f for f in flight if f[0] > now]
        for _, upd, ok in due:
            twin.release(now, upd)
            if not ok and upd is not None and upd.reset_at is not None:
                twin.pause(now, upd.reset_at)
        while len(flight) < tasks and isinstance(twin.acquire(now), Grant):
            ok, remaining, reset = hub.send(now)
            upd: BudgetUpdate | None = hub.update(now + latency, remaining, reset)
            if fault is not None and upd is not None:
                upd = fault(now, upd, n)
            n += 1
            flight.append((now + latency, upd, ok))
        now += tick
        if len(twin.expect) > 4000:
            twin.check(final=False)
    twin.check(final)
    return n


def _moved(upd: BudgetUpdate, delta: float) -> BudgetUpdate:
    """The same response naming a reset ``delta`` s later (earlier if negative)."""
    assert upd.reset_at is not None and upd.hub_reset is not None
    return attrs.evolve(upd, reset_at=upd.reset_at + delta, hub_reset=upd.hub_reset + delta)


def over_after_first_window(hub: SimHub, start: float, window: float) -> int:
    return sum(1 for t, ok in hub.sends if not ok and t >= start + window + 1)


T = 1_000_000.0  # a multiple of every window used


def test_window_shrinks_while_requests_are_in_flight(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=40, window=20)

    def shrink() -> None:
        hub.window = 10

    drive(twin, hub, until=100, at={50.5: shrink})
    assert over_after_first_window(hub, T, 20) == 0


def test_one_response_names_a_reset_600_s_ahead(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=40, window=20)

    def bogus(now: float, upd: BudgetUpdate, n: int) -> BudgetUpdate:
        if n == 60:
            return _moved(upd, 600)
        return upd

    sends = drive(twin, hub, until=100, fault=bogus)
    assert over_after_first_window(hub, T, 20) == 0
    assert sends >= 40 * 4  # and it kept going: no stall until the bogus reset


def test_a_backwards_reset_on_the_response_that_spends_the_last_request(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=40, window=20)

    def back(now: float, upd: BudgetUpdate, n: int) -> BudgetUpdate:
        if upd.remaining == 0 and upd.reset_at is not None and upd.hub_reset is not None:
            return _moved(upd, -12)
        return upd

    drive(twin, hub, until=100, fault=back)
    assert over_after_first_window(hub, T, 20) == 0


def test_hubs_clock_steps_back_25_s(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=40, window=20)

    def step() -> None:
        hub.offset -= 25

    drive(twin, hub, until=120, at={50.25: step})
    assert over_after_first_window(hub, T, 20) == 0


def test_ten_percent_without_headers_in_1_s_windows(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=20, window=1)
    rng = random.Random(12)

    def drop(now: float, upd: BudgetUpdate, n: int) -> BudgetUpdate | None:
        return None if rng.random() < 0.1 else upd

    sends = drive(twin, hub, until=20, fault=drop, latency=0.125)
    assert over_after_first_window(hub, T, 1) == 0
    used = sum(1 for t, ok in hub.sends if ok and T + 2 <= t < T + 19)
    assert used / (20 * 17) >= 0.85, (used, sends)


def test_redis_restarted_mid_window_starts_from_no_token_after_the_known_reset(r: Any) -> None:
    twin, hub = Twin(r), SimHub(limit=40, window=20)
    drive(twin, hub, until=50.5, tasks=8, final=False)
    twin.flush()
    drive(twin, hub, start=T + 50.5, until=50, tasks=8)
    assert over_after_first_window(hub, T, 20) == 0


def test_max_wait_with_a_reservation_in_flight_refuses_at_once_on_both(r: Any) -> None:
    twin = Twin(r)
    assert isinstance(twin.acquire(T), Grant)
    twin.release(T, BudgetUpdate(limit=10, remaining=1, reset_at=T + 20, observed_at=T,
                                 hub_reset=T + 20))  # fmt: skip
    assert isinstance(twin.acquire(T + 1), Grant)  # the last unit, in flight
    assert twin.acquire(T + 1, max_wait=5) == Refuse(T + 20, _budget.RESET)
    twin.check()


# -- random sequences ---------------------------------------------------------------------


def _hint_until(rng: random.Random, now: float, offset: float, reset: int) -> float | None:
    form = rng.choice(["x-retry-after", "seconds", "epoch", "http-date", "none"])
    headers = {"X-RateLimit-Reset": str(reset)}
    if form == "x-retry-after":
        headers["X-Retry-After"] = str(reset)
    elif form == "seconds":
        headers["Retry-After"] = str(rng.randint(1, 30))
    elif form == "epoch":
        headers["Retry-After"] = str(reset + rng.randint(0, 5))
    elif form == "http-date":
        headers["Retry-After"] = email.utils.formatdate(reset, usegmt=True)
    info = RateLimitInfo.from_headers(headers, received_at=now)
    return info.retry_instant(lambda hub: hub - offset)


def _sequence(twin: Twin, rng: random.Random) -> None:
    now = T + rng.randint(0, 64 * 100) / 64
    hub = SimHub(limit=rng.choice([5, 10, 40, 180]), window=rng.choice([1, 2, 5, 10, 20, 60]),
                 offset=rng.randint(-64 * 60, 64 * 60) / 64)  # fmt: skip
    sent: deque[BudgetUpdate] = deque()
    for _ in range(rng.randint(8, 24)):
        event = rng.random()
        if event < 0.38:
            if isinstance(twin.acquire(now), Grant):
                _, remaining, reset = hub.send(now)
                sent.append(hub.update(now, remaining, reset))
        elif event < 0.66:
            upd = sent.popleft() if sent else hub.update(now, rng.randint(0, hub.limit), 0)
            upd = _mangle(rng, upd, now, hub.window)
            twin.release(now, upd, held=bool(sent) or rng.random() < 0.9)
        elif event < 0.69:
            twin.cancel(now)
        elif event < 0.75:
            reset = (math.floor((now + hub.offset) / hub.window) + 1) * hub.window
            until = _hint_until(rng, now, hub.offset, reset)
            if until is not None:
                twin.pause(now, until)
        elif event < 0.89:
            now += rng.choice([rng.randint(1, 64) / 64, rng.randint(1, 64 * 30) / 64])
        elif event < 0.92:
            now -= rng.randint(3, 30)
        elif event < 0.95:
            hub.window = rng.choice([1, 2, 5, 10, 20, 60])
            hub.limit = rng.choice([5, 10, 40, 180])
        elif event < 0.97:
            hub.offset -= rng.randint(1, 40)
        elif event < 0.98:
            twin.flush()
        else:
            now += hub.window


def _mangle(rng: random.Random, upd: BudgetUpdate, now: float, window: int) -> BudgetUpdate | None:
    """What the response says: faithful mostly; sometimes no headers, no reset, an old,
    far-ahead, backwards or garbage reset, or no Hub instant."""
    kind = rng.random()
    reset, raw = upd.reset_at, upd.hub_reset
    assert reset is not None and raw is not None
    if kind < 0.5:
        return BudgetUpdate(limit=upd.limit, remaining=upd.remaining, reset_at=reset,
                            observed_at=now, hub_reset=raw)  # fmt: skip
    if kind < 0.6:
        return None
    if kind < 0.65:
        return BudgetUpdate(
            limit=upd.limit, remaining=upd.remaining, reset_at=None, observed_at=now
        )
    if kind < 0.72:
        delta = float(-window)
    elif kind < 0.79:
        delta = 600.0
    elif kind < 0.86:
        delta = -float(rng.randint(2, 20))
    elif kind < 0.9:
        return BudgetUpdate(limit=0, remaining=upd.limit, reset_at=now + 7200, observed_at=now)
    else:
        return BudgetUpdate(limit=upd.limit, remaining=upd.remaining, reset_at=reset,
                            observed_at=now)  # fmt: skip
    return _moved(attrs.evolve(upd, observed_at=now), delta)


def test_random_sequences_agree_step_by_step(r: Any) -> None:
    rng = random.Random(20261205)
    events = 0
    for i in range(RANDOM_SEQUENCES):
        twin = Twin(r)
        _sequence(twin, rng)
        try:
            events += twin.check()
        except AssertionError as exc:
            raise AssertionError(f"sequence {i} diverged: {exc}") from exc
    assert events > RANDOM_SEQUENCES * 10
