"""What an answer means (``_sansio.interpret`` / ``interpret_fault``): pure, no server, no loop."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from hubasync._ratelimit import RateLimitInfo
from hubasync._retry import MAX_CONSECUTIVE_429, FailureKind, RetryState
from hubasync._sansio import (
    Fail,
    Outcome,
    Policy,
    Redirect,
    Refresh,
    Request,
    Response,
    Retry,
    interpret,
    interpret_fault,
)
from hubasync.errors import (
    AuthenticationError,
    HubError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)

NOW = 1_700_000_000.0
POLICY = Policy(
    base_url=URL("https://hub.docker.com"), max_retries=2, max_wait=60.0, can_login=True
)
GET = Request(operation="t.get", method="GET", path="/v2/thing")
POST = Request(operation="t.create", method="POST", path="/v2/thing", json={"a": 1})


def answer(
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    req: Request = GET,
    state: RetryState | None = None,
    authenticated: bool = True,
    policy: Policy = POLICY,
    secrets: tuple[str, ...] = (),
) -> Outcome:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
    headers = headers or {}
    return interpret(
        req,
        state if state is not None else RetryState(),
        status,
        headers,
        raw,
        policy=policy,
        info=RateLimitInfo.from_headers(headers, NOW),
        authenticated=authenticated,
        now=NOW,
        to_local=lambda t: t,
        last_reset_at=None,
        secrets=lambda: secrets,
    )


def test_a_2xx_is_the_response_with_its_json_and_ends_a_run_of_429s() -> None:
    state = RetryState(consecutive_429=3)
    out = answer(200, {"x": 1}, {"X-Thing": "y"}, state=state)
    assert out == Response(200, {"X-Thing": "y"}, {"x": 1})
    assert state.consecutive_429 == 0
    head = Request(operation="t.head", method="HEAD", path="/v2/thing", expect_body=False)
    assert answer(200, b"ignored", req=head) == Response(200, {}, None)


def test_a_404_to_a_retried_delete_means_it_was_done() -> None:
    delete = Request(operation="t.delete", method="DELETE", path="/v2/x", expect_body=False)
    assert answer(404, req=delete, state=RetryState(retries=1)) == Response(404, {}, None)
    first = answer(404, {"detail": "nope"}, req=delete)
    assert isinstance(first, Fail) and isinstance(first.error, NotFoundError)


def test_a_429_within_max_wait_pauses_the_limiter_and_retries_without_a_sleep() -> None:
    state = RetryState()
    out = answer(429, {"detail": "slow"}, {"Retry-After": "30"}, state=state)
    assert isinstance(out, Retry)
    assert out.delay == 0.0 and out.pause_until == pytest.approx(NOW + 30)
    assert out.reason == "HTTP 429, attempt 1/19, limiter paused 30.00 s"
    assert state.consecutive_429 == 1 and state.retries == 0


def test_a_429_beyond_max_wait_fails_with_retry_at_and_still_pauses_the_others() -> None:
    out = answer(429, {"detail": "slow", "txnid": "tx-1"}, {"Retry-After": "600"})
    assert isinstance(out, Fail) and isinstance(out.error, RateLimitError)
    assert out.error.retry_at == pytest.approx(NOW + 600)
    assert out.pause_until == pytest.approx(NOW + 600)
    assert out.error.txnid == "tx-1" and "max_wait=60 s" in str(out.error)
    # the request's own max_wait overrides the client's, both ways
    longer = Request(operation="t.get", method="GET", path="/v2/x", max_wait=900)
    assert isinstance(answer(429, None, {"Retry-After": "600"}, req=longer), Retry)
    shorter = Request(operation="t.get", method="GET", path="/v2/x", max_wait=10)
    out = answer(429, None, {"Retry-After": "30"}, req=shorter)
    assert isinstance(out, Fail) and "max_wait=10 s" in str(out.error)


def test_an_hour_is_the_longest_pause_a_429_asks() -> None:
    out = answer(429, None, {"Retry-After": str(10 * 86400)})
    assert isinstance(out, Fail) and out.pause_until == pytest.approx(NOW + 3600)


def test_429s_in_a_row_end_in_an_error() -> None:
    state = RetryState(consecutive_429=MAX_CONSECUTIVE_429 - 1)
    out = answer(429, None, {"Retry-After": "1"}, state=state)
    assert isinstance(out, Fail) and "in a row" in str(out.error)


def test_a_refused_token_is_refreshed_once_then_fails() -> None:
    state = RetryState()
    first = answer(401, {"detail": "expired"}, state=state)
    assert isinstance(first, Refresh) and isinstance(first.error, AuthenticationError)
    second = answer(401, {"detail": "expired"}, state=state)
    assert isinstance(second, Fail) and isinstance(second.error, AuthenticationError)
    # nothing to refresh with: no client credentials, or no token sent at all
    no_login = Policy(base_url=POLICY.base_url, max_retries=2, max_wait=60, can_login=False)
    assert isinstance(answer(401, policy=no_login), Fail)
    assert isinstance(answer(401, authenticated=False), Fail)


def test_a_refused_per_request_bearer_is_final_and_not_blamed_on_the_login() -> None:
    scim = Request(operation="scim.users", method="GET", path="/v2/scim/Users", bearer="b" * 20)
    out = answer(401, {"detail": "bad token"}, req=scim)
    assert isinstance(out, Fail) and isinstance(out.error, AuthenticationError)
    assert "the bearer token given for this request was refused" in str(out.error)


def test_a_5xx_is_retried_for_idempotent_requests_up_to_max_retries() -> None:
    state = RetryState()
    outs = [answer(503, {"detail": "down"}, state=state) for _ in range(3)]
    assert [type(o) for o in outs] == [Retry, Retry, Fail]
    assert [o.reason for o in outs[:2] if isinstance(o, Retry)] == [
        "HTTP 503, attempt 1/2",
        "HTTP 503, attempt 2/2",
    ]
    assert isinstance(outs[2], Fail) and isinstance(outs[2].error, ServerError)
    assert isinstance(answer(502, req=POST), Fail)  # a creating POST: never
    one = Request(operation="t.get", method="GET", path="/v2/x", max_retries=0)
    assert isinstance(answer(500, req=one), Fail)  # the request's own max_retries


def test_a_503_retry_after_sets_the_delay_within_max_wait() -> None:
    out = answer(503, None, {"Retry-After": "7"})
    assert isinstance(out, Retry) and out.delay == pytest.approx(7.0)
    out = answer(503, None, {"Retry-After": "7200"})
    assert isinstance(out, Retry) and out.delay == pytest.approx(60.0)


def test_a_redirect_inside_the_api_becomes_the_next_request() -> None:
    out = answer(301, None, {"Location": "/v2/thing/?page=2"})
    assert isinstance(out, Redirect)
    assert (out.target.path, out.target.params, out.target.redirects) == (
        "/v2/thing/",
        [("page", "2")],
        1,
    )
    away = answer(302, None, {"Location": "https://evil.example/v2/thing"})
    assert isinstance(away, Fail) and "does not follow" in str(away.error)
    assert type(away.error) is HubError


def test_an_error_body_is_scrubbed_of_the_secrets_given_unless_a_login_needs_it() -> None:
    body = {"detail": "bad password hunter2-secret", "login_2fa_token": "tok-2fa"}
    out = answer(400, body, secrets=("hunter2-secret",))
    assert isinstance(out, Fail)
    assert "hunter2" not in str(out.error) and "hunter2" not in json.dumps(out.error.body)
    assert out.error.body["login_2fa_token"] == "<redacted>"
    login = Request(operation="auth.login", method="POST", path="/v2/users/login", login=True)
    out = answer(401, body, req=login, authenticated=False, secrets=("hunter2-secret",))
    assert isinstance(out, Fail) and out.error.body == body  # the login flow reads it


def test_a_connection_that_never_opened_is_retried_even_for_a_create() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    out = interpret_fault(POST, RetryState(), FailureKind.CONNECT, refused, policy=POLICY)
    assert isinstance(out, Retry)
    assert out.reason == "ConnectionRefusedError ([Errno 111] Connection refused), attempt 1/2"


def test_a_fault_after_sending_fails_a_create_and_retries_a_get() -> None:
    cut = aiohttp.ServerDisconnectedError()
    out = interpret_fault(POST, RetryState(), FailureKind.TRANSPORT, cut, policy=POLICY)
    assert isinstance(out, Fail) and isinstance(out.error, TransportError)
    assert "may have been processed" in str(out.error) and out.cause is cut
    state = RetryState(retries=2)
    assert isinstance(
        interpret_fault(GET, RetryState(), FailureKind.TRANSPORT, cut, policy=POLICY), Retry
    )
    out = interpret_fault(GET, state, FailureKind.TRANSPORT, cut, policy=POLICY)
    assert isinstance(out, Fail) and "check the network" in str(out.error)
