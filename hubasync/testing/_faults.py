"""Fault injection for FakeHub: what can go wrong, for which requests, how often.

A :class:`Fault` is one rule; a :class:`FaultPlan` is rules plus the seed of the random
generator that decides probabilistic faults, so a run is reproducible. ``times=N`` makes a
rule fire on the next N matching requests (deterministic tests); ``probability=p`` makes it
fire on each matching request with probability p (soak runs).

Two kinds act on the rate-limit headers of an answer instead of on the request
(:meth:`Fault.no_rate_headers`, :meth:`Fault.shift_reset`): they are decided when the answer
is ready, so ``times``/``probability`` count the answers that qualify, and FakeHub's own
count (``server.over_limit``) keeps following its real windows, whatever the headers say.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = ["FAULT_KINDS", "RATE_HEADER_KINDS", "Fault", "FaultKind", "FaultPlan"]

FaultKind = Literal[
    "latency",
    "error",
    "reset",
    "reset_after_headers",
    "truncate",
    "html",
    "hap429",
    "no_rate_headers",
    "shift_reset",
]
"""What a fault does.

``latency``: delay the request (``latency_s`` plus up to ``jitter_s`` at random), then serve it;
``error``: a JSON 5xx (``status``) instead of the real answer, request not processed;
``reset``: close the connection before any response byte, request not processed;
``reset_after_headers``: process the request, send the status line and headers, then close;
``truncate``: process the request, send headers and part of the body, then close
(``Content-Length`` larger than what was sent);
``html``: an HTML error page (``status``, default 502) from "the proxy", not processed;
``hap429``: HAProxy's plain-text ``Too Many Requests (HAP429).`` 429, not processed;
``no_rate_headers``: the answer goes out without any ``X-RateLimit-*`` header (processed
and counted as usual);
``shift_reset``: the answer's ``X-RateLimit-Reset`` names an instant ``shift_s`` seconds
later (earlier when negative) than FakeHub's real reset; with ``on_last`` only an answer
that spent its window's last request (``X-RateLimit-Remaining: 0``, not a 429) qualifies.
"""

FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
#: The kinds that change an answer's rate-limit headers (decided when the answer is ready).
RATE_HEADER_KINDS: tuple[str, ...] = ("no_rate_headers", "shift_reset")
_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault rule: what happens (``kind``), to which requests, and how often.

    ``path`` is a regular expression searched in the request path, ``method`` an HTTP method
    (both ``None`` = any). ``times`` = fire on the next N matching requests, then stop;
    ``probability`` = chance of firing on each matching request (drawn from the plan's
    seeded generator). Latency rules add up; of the other kinds, the first rule that fires
    for a request wins. The rate-header kinds (``no_rate_headers``, ``shift_reset``: see
    :data:`FaultKind`) are separate: they add to whatever else fires, and the first of them
    that qualifies for an answer wins. ``shift_s`` and ``on_last`` belong to ``shift_reset``.
    """

    kind: FaultKind
    status: int = 503
    latency_s: float = 0.0
    jitter_s: float = 0.0
    probability: float = 1.0
    times: int | None = None
    path: str | None = None
    method: str | None = None
    shift_s: float = 0.0
    on_last: bool = False
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if self.kind == "error" and not 500 <= self.status <= 599:
            raise ValueError(f"an error fault needs a 5xx status, got {self.status!r}")
        if self.kind == "html" and not 400 <= self.status <= 599:
            raise ValueError(f"an html fault needs a 4xx/5xx status, got {self.status!r}")
        if self.kind == "shift_reset":
            if isinstance(self.shift_s, bool) or not isinstance(self.shift_s, int | float):
                raise ValueError(f"shift_s must be a number of seconds, got {self.shift_s!r}")
            if not math.isfinite(self.shift_s) or self.shift_s == 0:
                raise ValueError(
                    f"a shift_reset fault needs a finite, non-zero shift_s, got {self.shift_s!r}"
                    "; e.g. 600 for a reset far ahead, -12 for one going back"
                )
        elif self.shift_s != 0 or self.on_last:
            raise ValueError(f"shift_s and on_last belong to shift_reset faults, not {self.kind!r}")
        if self.latency_s < 0 or self.jitter_s < 0:
            raise ValueError("latency_s and jitter_s must be >= 0 seconds")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {self.probability!r}")
        if self.times is not None and (isinstance(self.times, bool) or self.times < 1):
            raise ValueError(f"times must be a positive integer or None, got {self.times!r}")
        if self.path is not None:
            try:
                object.__setattr__(self, "_regex", re.compile(self.path))
            except re.error as exc:
                raise ValueError(f"fault path {self.path!r} is not a valid regex: {exc}") from exc
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request (ignoring times and probability)."""
        if self.method is not None and self.method != method:
            return False
        return self._regex is None or self._regex.search(path) is not None

    @classmethod
    def latency(
        cls,
        seconds: float = 0.0,
        *,
        jitter: float = 0.0,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Delay matching requests by ``seconds`` plus a uniform random ``[0, jitter]``."""
        return cls(
            "latency",
            latency_s=seconds,
            jitter_s=jitter,
            probability=probability,
            times=times,
            path=path,
            method=method,
        )

    @classmethod
    def error(
        cls,
        status: int = 503,
        *,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Answer matching requests with a JSON ``status`` (500/502/503/504) unprocessed."""
        return cls(
            "error", status=status, probability=probability, times=times, path=path,
            method=method,
        )  # fmt: skip

    @classmethod
    def reset(
        cls,
        *,
        after_headers: bool = False,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Drop the connection: before any byte, or (``after_headers``) after the headers."""
        return cls(
            "reset_after_headers" if after_headers else "reset",
            probability=probability,
            times=times,
            path=path,
            method=method,
        )

    @classmethod
    def truncate(
        cls,
        *,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Send the headers and only part of the body, then close the connection."""
        return cls("truncate", probability=probability, times=times, path=path, method=method)

    @classmethod
    def html(
        cls,
        status: int = 502,
        *,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Answer with an HTML error page (wrong content type), like a failing proxy."""
        return cls(
            "html", status=status, probability=probability, times=times, path=path,
            method=method,
        )  # fmt: skip

    @classmethod
    def hap429(
        cls,
        *,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Answer with HAProxy's plain-text 429 ``Too Many Requests (HAP429).``."""
        return cls("hap429", probability=probability, times=times, path=path, method=method)

    @classmethod
    def no_rate_headers(
        cls,
        *,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Serve matching answers without any ``X-RateLimit-*`` header (the request is
        processed and counted against its window as usual)."""
        return cls(
            "no_rate_headers", probability=probability, times=times, path=path, method=method
        )

    @classmethod
    def shift_reset(
        cls,
        seconds: float,
        *,
        on_last: bool = False,
        probability: float = 1.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Make matching answers name a reset ``seconds`` later than the real one (earlier
        when negative), rounded away from zero to whole seconds: e.g. ``600`` for a bogus
        reset far ahead. ``on_last``: only answers
        that spent their window's last request qualify (``times``/``probability`` count
        those). FakeHub's windows, and ``over_limit``, are not moved."""
        return cls(
            "shift_reset", shift_s=seconds, on_last=on_last, probability=probability,
            times=times, path=path, method=method,
        )  # fmt: skip


class FaultPlan:
    """Fault rules plus the seed of the generator behind probabilities and jitter."""

    __slots__ = ("faults", "seed")

    def __init__(self, *faults: Fault, seed: int = 0) -> None:
        for fault in faults:
            if not isinstance(fault, Fault):
                raise ValueError(f"FaultPlan takes Fault objects, got {fault!r}")
        self.faults: tuple[Fault, ...] = faults
        self.seed = seed

    def __repr__(self) -> str:
        return f"FaultPlan({', '.join(map(repr, self.faults))}, seed={self.seed!r})"


class _Rule:
    __slots__ = ("fault", "remaining")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.remaining = fault.times


class FaultEngine:
    """The live state of a plan: remaining counts and the seeded generator (internal)."""

    __slots__ = ("_rng", "_rules")

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._rng = random.Random(plan.seed if plan is not None else 0)
        self._rules: list[_Rule] = [_Rule(f) for f in plan.faults] if plan is not None else []

    @property
    def active(self) -> bool:
        """Whether any rule is left."""
        return bool(self._rules)

    def add(self, fault: Fault) -> None:
        """Append a rule."""
        if not isinstance(fault, Fault):
            raise ValueError(f"inject() takes a Fault, got {fault!r}")
        self._rules.append(_Rule(fault))

    def clear(self) -> None:
        """Drop every rule."""
        self._rules.clear()

    def pending(self) -> list[tuple[Fault, int | None]]:
        """Each remaining rule with how many times it may still fire (None = unlimited)."""
        return [(r.fault, r.remaining) for r in self._rules]

    def pick(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Decide the faults for one request: total added latency, and at most one fault."""
        delay = 0.0
        chosen: Fault | None = None
        exhausted = False
        for rule in self._rules:
            fault = rule.fault
            if fault.kind in RATE_HEADER_KINDS:
                continue  # decided on the answer: see rate_headers()
            if fault.kind != "latency" and chosen is not None:
                continue
            if not fault.matches(method, path):
                continue
            if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                exhausted = exhausted or rule.remaining <= 0
            if fault.kind == "latency":
                delay += fault.latency_s
                if fault.jitter_s > 0:
                    delay += self._rng.uniform(0.0, fault.jitter_s)
            else:
                chosen = fault
        if exhausted:
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return delay, chosen

    def rate_headers(
        self, method: str, path: str, headers: MutableMapping[str, str], *, last: bool
    ) -> Fault | None:
        """Apply the first rate-header rule that qualifies for an answer (``last``: it spent
        its window's last request) to its ``headers``; return it, or ``None``."""
        for rule in self._rules:
            fault = rule.fault
            if fault.kind not in RATE_HEADER_KINDS or not fault.matches(method, path):
                continue
            if fault.on_last and not last:
                continue
            if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
            if fault.kind == "no_rate_headers":
                for name in _RATE_HEADERS:
                    headers.pop(name, None)
            elif "X-RateLimit-Reset" in headers:
                shift = fault.shift_s
                # whole seconds, like Hub's: away from zero, so a shift always moves it
                moved = math.ceil(shift) if shift > 0 else math.floor(shift)
                reset = int(headers["X-RateLimit-Reset"]) + moved
                headers["X-RateLimit-Reset"] = str(reset)
            return fault
        return None
