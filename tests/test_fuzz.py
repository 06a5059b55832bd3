"""Fuzzing (hypothesis) where input crosses into hubasync: headers, bodies, path parameters.

Extends test_ratelimit_properties (header parsing alone) and test_convert (the converter
alone) to the paths the client really takes:

- rate-limit headers → ``RateLimitInfo.from_headers`` → skew conversion → the 429 deadline
  (``_retry.rate_limit_deadline``, through ``Transport._rate_limited``) and the limiter's next
  wait after a 200: never negative, never NaN, never absurd;
- any JSON (and any status) answering any operation → the model, or one ``HubError``;
- any text as any path parameter of any method → ``ValueError``, or a URL on ``base_url``
  under ``/v2/`` with the text confined to one percent-encoded segment.
"""

from __future__ import annotations

import asyncio
import json
import math
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from hubasync import HubClient
from hubasync import models as m
from hubasync._clock import ManualClock, SkewEstimator
from hubasync._ratelimit import AdaptiveTokenBucket, RateLimitInfo
from hubasync._retry import RetryState, rate_limit_deadline
from hubasync._sansio import Fail, Policy, Request, Retry, interpret
from hubasync._transport import Send
from hubasync.errors import HubError, RateLimitError, ResponseValidationError
from hubasync.models import ManifestRef, RestrictedImages

from .test_convert import _mutate, _valid

T0 = 1_700_000_000.0
FAST = {"requests_per_minute": 1_000_000}

# ---------------------------------------------------------------------------------------------
# Rate-limit headers → waits
# ---------------------------------------------------------------------------------------------

HEADER_NAMES = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Retry-After",
    "Retry-After",
    "Date",
]

_NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(0, 4000).map(lambda d: str(int(T0) + d)),  # plausible epochs
    st.integers(0, 10**6).map(lambda d: str(int(T0) + d)),
    st.integers(0, 300).map(str),  # plausible deltas
    st.decimals(0, 10**12, allow_nan=False, places=3).map(str),
)
_DATES = st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789.-+eEinfaNINF ;,:xX", max_size=25),
    _NUMBERS,
    _DATES,
    st.just(""),
)
PLAUSIBLE = st.builds(
    lambda limit, left, reset, date: {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(min(left, limit)),
        "X-RateLimit-Reset": str(int(T0) + reset),
        **({"Date": date} if date else {}),
    },
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(-600, 10**7),
    st.one_of(st.none(), _DATES),
)
HEADERS = st.one_of(
    st.dictionaries(st.sampled_from(HEADER_NAMES), VALUES, max_size=6),
    PLAUSIBLE,
    st.tuples(PLAUSIBLE, st.dictionaries(st.sampled_from(HEADER_NAMES), VALUES, max_size=3)).map(
        lambda pair: {**pair[0], **pair[1]}
    ),
)


def _finite_non_negative(value: float | None) -> None:
    if value is not None:
        assert math.isfinite(value) and value >= 0


@settings(max_examples=400, deadline=None)
@given(
    headers=HEADERS,
    earlier=st.lists(HEADERS, max_size=3),
    delay=st.floats(0.0, 5.0),
    consecutive=st.integers(0, 19),
)
def test_any_429_headers_give_a_finite_deadline_in_the_future(
    headers: dict[str, str], earlier: list[dict[str, str]], delay: float, consecutive: int
) -> None:
    skew = SkewEstimator()
    last_reset: float | None = None
    now = T0
    for h in earlier:  # what the responses before the 429 said
        info = RateLimitInfo.from_headers(h, now)
        if info.date is not None:
            skew.observe(info.date, now - 0.1, now)
        if info.reset is not None:
            last_reset = skew.to_local(info.reset)
        now += 1.0
    info = RateLimitInfo.from_headers(headers, now)
    for name in ("limit", "remaining", "reset", "retry_at", "retry_after", "date"):
        _finite_non_negative(getattr(info, name))
    if info.date is not None:
        skew.observe(info.date, now - 0.1, now)
    low_high = skew.bounds
    assert low_high is None or (math.isfinite(low_high[0]) and low_high[0] <= low_high[1])
    later = now + delay
    deadline = rate_limit_deadline(
        now=later,
        hinted_at=skew.to_local(info.retry_at) if info.retry_at is not None else None,
        hinted_after=info.retry_after,
        received_at=info.received_at,
        reset_at=skew.to_local(info.reset) if info.reset is not None else None,
        last_reset_at=last_reset,
        consecutive_429=consecutive,
    )
    assert math.isfinite(deadline)
    assert deadline >= later + 0.05  # never a negative or zero wait: no retry storm


def _on_429(headers: dict[str, str], max_wait: float) -> tuple[float, list[float], object]:
    """What one 429 with ``headers`` means: the time, the limiter pauses it asks, the outcome
    (a ``Retry``, or the error a ``Fail`` raises)."""
    now = T0
    skew = SkewEstimator()
    info = RateLimitInfo.from_headers(headers, now)
    if info.date is not None:
        skew.observe(info.date, now - 0.05, now)
    policy = Policy(
        base_url=URL("https://hub.docker.com"), max_retries=5, max_wait=max_wait, can_login=False
    )
    outcome = interpret(
        Request(operation="fuzz.get", method="GET", path="/v2/x"),
        RetryState(),
        429,
        headers,
        b"",
        policy=policy,
        info=info,
        authenticated=False,
        now=now,
        to_local=skew.to_local,
        last_reset_at=skew.to_local(info.reset) if info.reset is not None else None,
        secrets=tuple,
    )
    assert isinstance(outcome, Retry | Fail), "a 429 must end in a retry or an error"
    pauses = [] if outcome.pause_until is None else [outcome.pause_until]
    return now, pauses, outcome.error if isinstance(outcome, Fail) else outcome


@settings(max_examples=300, deadline=None)
@given(headers=HEADERS, max_wait=st.sampled_from([0.0, 5.0, 300.0]))
def test_any_429_is_retried_within_max_wait_or_raises_rate_limit_error(
    headers: dict[str, str], max_wait: float
) -> None:
    now, pauses, outcome = _on_429(headers, max_wait)
    assert len(pauses) <= 1
    wait = pauses[0] - now if pauses else 0.0
    assert math.isfinite(wait) and wait >= 0
    if isinstance(outcome, RateLimitError):
        assert outcome.operation == "fuzz.get"
        assert "max_wait" in str(outcome) or "in a row" in str(outcome)
    else:
        assert isinstance(outcome, Retry)  # retried: the wait is within max_wait
        assert wait <= max_wait


@settings(max_examples=200, deadline=None)
@given(headers=HEADERS)
@example(headers={"Retry-After": "86400"})
def test_a_429_that_raises_pauses_the_limiter_an_hour_at_most(headers: dict[str, str]) -> None:
    """The others fail fast while Hub's block lasts, but no hint shuts the client for longer
    than an hour (then one request probes Hub again)."""
    now, pauses, outcome = _on_429(headers, 5.0)
    if isinstance(outcome, RateLimitError):
        assert all(p - now <= 3600.0 for p in pauses), f"limiter paused {max(pauses) - now:.0f} s"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    responses=st.lists(HEADERS, min_size=1, max_size=4),
    steps=st.lists(st.floats(0, 30), min_size=4, max_size=4),
)
@example(
    responses=[
        {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(T0) + 86400),
        }
    ],
    steps=[0.0] * 4,
)
def test_after_any_answers_the_next_request_waits_at_most_an_hour(
    responses: list[dict[str, str]], steps: list[float]
) -> None:
    """Whatever 200s said about the budget, the limiter never stalls for hours."""

    async def run() -> float:
        clock = ManualClock(T0)
        limiter = AdaptiveTokenBucket(requests_per_minute=180, clock=clock)
        skew = SkewEstimator()
        for headers, step in zip(responses, steps, strict=False):
            task = asyncio.ensure_future(limiter.acquire())
            await clock.run_until(task.done)
            sent = clock.time()
            clock.advance(step / 100)
            info = RateLimitInfo.from_headers(headers, clock.time())
            if info.date is not None:
                skew.observe(info.date, sent, clock.time())
            await limiter.release(info.budget_update(skew.to_local))
            clock.advance(step)
        start = clock.time()
        task = asyncio.ensure_future(limiter.acquire())
        await clock.settle()
        waited = 0.0
        while not task.done():
            deadline = clock.next_deadline
            assert deadline is not None, "a waiter with no timer: it would wait forever"
            waited = deadline - start
            assert waited <= 3600.0 + 60.0, f"the next request would wait {waited:.0f} s"
            clock.advance_to(deadline)
            await clock.settle()
        await task
        assert limiter.in_flight == 1
        return waited

    waited = asyncio.run(run())
    assert waited >= 0


# ---------------------------------------------------------------------------------------------
# Any JSON answering any operation
# ---------------------------------------------------------------------------------------------

DIGEST = "sha256:" + "d" * 64
UUID = "0f3d4a4e-7a7e-4b8c-9d3e-2f1a0b9c8d7e"
RI = RestrictedImages(enabled=True, allow_official_images=True, allow_verified_publishers=True)

#: operation → (call, the model its 200 answer should fit)
OPERATIONS: dict[str, tuple[Callable[[HubClient], Any], Any]] = {
    "images.summary": (lambda h: h.images.summary("ns", "repo"), m.ImagesSummary),
    "images.list": (
        lambda h: h.images.list("ns", "repo").to_list(limit=500),
        m.ListResponse[m.Image],
    ),
    "images.tags": (
        lambda h: h.images.tags("ns", "repo", DIGEST).to_list(limit=500),
        m.ListResponse[m.ImageTag],
    ),
    "images.delete": (
        lambda h: h.images.delete("ns", [ManifestRef(repository="repo", digest=DIGEST)]),
        m.DeleteImagesResult,
    ),
    "access_tokens.create": (
        lambda h: h.access_tokens.create("label", ["repo:read"]),
        m.AccessToken,
    ),
    "access_tokens.list": (
        lambda h: h.access_tokens.list().to_list(limit=500),
        m.AccessTokenListResponse,
    ),
    "access_tokens.get": (lambda h: h.access_tokens.get(UUID), m.AccessToken),
    "access_tokens.update": (lambda h: h.access_tokens.update(UUID, label="x"), m.AccessToken),
    "audit_logs.list": (lambda h: h.audit_logs.list("ns").to_list(limit=500), m.AuditLogsResponse),
    "audit_logs.actions": (lambda h: h.audit_logs.actions("ns"), m.AuditActionsResponse),
    "orgs.settings": (lambda h: h.orgs.settings("org"), m.OrgSettings),
    "orgs.update_settings": (lambda h: h.orgs.update_settings("org", RI), m.OrgSettings),
    "repositories.get": (lambda h: h.repositories.get("ns", "repo"), m.Repository),
    "repositories.update": (
        lambda h: h.repositories.update("ns", "repo", description="d"),
        m.Repository,
    ),
    "repositories.list": (
        lambda h: h.repositories.list("ns").to_list(limit=500),
        m.ListResponse[m.Repository],
    ),
    "repositories.tags": (
        lambda h: h.repositories.tags("ns", "repo").to_list(limit=500),
        m.ListResponse[m.Tag],
    ),
    "repositories.tag": (lambda h: h.repositories.tag("ns", "repo", "latest"), m.Tag),
}


def _finite(value: Any) -> Any:
    """``value`` with infinite floats made huge but finite (see the xfail below for inf)."""
    if isinstance(value, float) and math.isinf(value):
        return math.copysign(1e300, value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _serve(status: int, body: bytes) -> Send:
    """A ``send`` answering every request with ``status``/``body`` (later pages: empty)."""

    async def send(
        method: str, url: str, headers: Any, json: Any, timeout_s: float | None
    ) -> tuple[int, dict[str, str], bytes]:
        page = URL(url, encoded=True).query.get("page")
        return status, {}, body if page in (None, "1") else b'{"results": [], "logs": []}'

    return send


def _run(call: Callable[[HubClient], Any], send: Send) -> Any:
    async def go() -> Any:
        async with HubClient(
            token="t", base_url="https://hub.docker.com", max_retries=0, **FAST
        ) as hub:
            hub._transport.send = send
            return await call(hub)

    return asyncio.run(go())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), status=st.sampled_from([200, 200, 200, 400, 404, 409, 422]))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_any_answer_gives_the_model_or_one_hub_error(
    operation: str, data: st.DataObject, status: int
) -> None:
    call, model = OPERATIONS[operation]
    body = _finite(data.draw(st.one_of(_valid(model), _valid(model).flatmap(_mutate))))
    try:
        result = _run(call, _serve(status, json.dumps(body).encode()))
    except HubError as exc:
        assert exc.operation == operation, exc
        assert str(exc).startswith(operation)
        if status == 200:
            assert isinstance(exc, ResponseValidationError)
    else:
        assert status == 200
        assert result is not None or operation == "access_tokens.delete"


def test_an_infinite_count_is_no_count_or_a_validation_error() -> None:
    answer = _serve(200, b'{"count": 1e999, "next": null, "results": []}')
    try:
        items = _run(lambda h: h.access_tokens.list().to_list(), answer)
    except ResponseValidationError:
        pass
    else:
        assert items == []


def test_bare_non_json_and_wrong_shapes_are_validation_errors() -> None:
    for body in (b"<html>502</html>", b"[1, 2", b"\xff\xfe", b'"text"', b"[]", b"null"):
        for operation, (call, _) in OPERATIONS.items():
            try:
                _run(call, _serve(200, body))
            except ResponseValidationError as exc:
                assert exc.operation == operation
            else:
                # an empty answer is fine only where no fields are required
                assert body in (b"null",) or body == b"[]", (operation, body)


# ---------------------------------------------------------------------------------------------
# Any text as any path parameter
# ---------------------------------------------------------------------------------------------

_PIECES = [
    "..",
    ".",
    "/",
    "%2e",
    "%2f",
    "?",
    "#",
    "\\",
    "@",
    ":",
    " ",
    "\n",
    "\x00",
    "a",
    "sha256:",
]
TEXT = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"[a-z0-9._/%:@?#-]{1,16}", fullmatch=True),
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join),
    st.sampled_from(["library", "my-org", "a.b_c-d", "latest", DIGEST, UUID]),
)

PATH_CALLS: dict[str, Callable[[HubClient, str], Any]] = {
    "images.summary": lambda h, v: h.images.summary(v, v),
    "images.list": lambda h, v: h.images.list(v, v).to_list(),
    "images.tags": lambda h, v: h.images.tags("ns", "repo", v).to_list(),
    "images.tags(names)": lambda h, v: h.images.tags(v, v, DIGEST).to_list(),
    "images.delete": lambda h, v: h.images.delete(v, [ManifestRef(repository=v, digest=DIGEST)]),
    "images.delete(digest)": lambda h, v: h.images.delete(
        "ns", [ManifestRef(repository="repo", digest=v)]
    ),
    "access_tokens.get": lambda h, v: h.access_tokens.get(v),
    "access_tokens.update": lambda h, v: h.access_tokens.update(v, is_active=False),
    "access_tokens.delete": lambda h, v: h.access_tokens.delete(v),
    "audit_logs.list": lambda h, v: h.audit_logs.list(v, action=v, name=v, actor=v).to_list(),
    "audit_logs.actions": lambda h, v: h.audit_logs.actions(v),
    "orgs.settings": lambda h, v: h.orgs.settings(v),
    "orgs.update_settings": lambda h, v: h.orgs.update_settings(v, RI),
    "repositories.update": lambda h, v: h.repositories.update(v, v, description=v),
    "repositories.list": lambda h, v: h.repositories.list(v, name=v).to_list(),
    "repositories.get": lambda h, v: h.repositories.get(v, v),
    "repositories.exists": lambda h, v: h.repositories.exists(v, v),
    "repositories.tags": lambda h, v: h.repositories.tags(v, v).to_list(),
    "repositories.tag": lambda h, v: h.repositories.tag("ns", "repo", v),
    "repositories.tag_exists": lambda h, v: h.repositories.tag_exists("ns", "repo", v),
}


class _Sent(Exception):
    """Raised instead of sending: the URL was captured."""


@pytest.mark.parametrize("base", ["https://hub.docker.com", "https://mirror.example/hub/"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=TEXT)
def test_no_input_sends_a_request_outside_v2_on_base_url(base: str, text: str) -> None:
    urls: list[str] = []

    async def send(
        method: str, url: str, headers: Any, json: Any, timeout_s: float | None
    ) -> tuple[int, dict[str, str], bytes]:
        urls.append(url)
        raise _Sent

    prefix = URL(base).path.rstrip("/")

    async def go() -> None:
        async with HubClient(token="t", base_url=base, **FAST) as hub:
            hub._transport.send = send
            for name, call in PATH_CALLS.items():
                try:
                    await call(hub, text)
                except ValueError:
                    continue
                except _Sent:
                    pass
                else:
                    raise AssertionError(f"{name}: neither refused nor sent")

    asyncio.run(go())
    for raw in urls:
        url = URL(raw, encoded=True)
        assert (url.scheme, url.host, url.port) == (
            URL(base).scheme,
            URL(base).host,
            URL(base).port,
        )
        assert url.raw_path.startswith(prefix + "/v2/"), raw
        assert "#" not in raw and raw.count("?") <= 1
        segments = url.raw_path[len(prefix) + 1 :].split("/")
        # every segment but a trailing one is non-empty and never a dot segment, decoded or not
        for seg in segments[:-1]:
            decoded = urllib.parse.unquote(seg)
            assert seg and decoded not in (".", "..") and "/" not in decoded, raw
        assert urllib.parse.unquote(segments[-1]) not in (".", ".."), raw
