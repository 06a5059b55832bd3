"""The transport against a real loopback server: retries, statuses, hints, slots, leaks."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import pytest

from hubasync import HubClient
from hubasync._transport import Request
from hubasync.errors import (
    AuthenticationError,
    HubError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TransportError,
)

from ._scripted import Scripted, reply, reset, truncated
from .test_auth import make_jwt
from .test_faults import JumpClock

FAST = {"requests_per_minute": 1_000_000}


def get(op: str = "test.get", path: str = "/v2/thing", **kw: Any) -> Request:
    return Request(operation=op, method="GET", path=path, **kw)


def post(path: str = "/v2/access-tokens") -> Request:
    return Request(operation="test.create", method="POST", path=path, json={"a": 1})


async def test_ok_json_and_query_encoding() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(reply(200, {"x": 1}))
        resp = await hub._transport.request(
            get(params={"flag": True, "off": False, "none": None, "n": 3, "s": "a b"})
        )
        assert resp.data == {"x": 1}
        assert srv.seen[0][1] == "/v2/thing?flag=true&off=false&n=3&s=a%20b"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_idempotent_get_retries_5xx(status: int) -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(reply(status), reply(status), reply(200, {"ok": 1}))
        assert (await hub._transport.request(get())).data == {"ok": 1}
        assert hub.stats.retries == 2 and hub.stats.requests == 3


async def test_creating_post_is_not_retried_after_5xx() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(reply(503), reply(200))
        with pytest.raises(ServerError, match="Hub's side"):
            await hub._transport.request(post())
        assert len(srv.seen) == 1


async def test_max_retries_bounds_5xx() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_retries=2, **FAST) as hub:
        srv.default = reply(500, {"detail": "boom"})
        with pytest.raises(ServerError) as info:
            await hub._transport.request(get())
        assert len(srv.seen) == 3
        assert info.value.status == 500


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_4xx_never_retried(status: int) -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.default = reply(status, {"detail": "no"})
        with pytest.raises(HubError) as info:
            await hub._transport.request(get())
        assert info.value.status == status
        assert len(srv.seen) == 1


async def test_truncated_body_is_a_transport_fault_retried_for_get() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(truncated(), reply(200, {"ok": 1}))
        assert (await hub._transport.request(get())).data == {"ok": 1}


async def test_truncated_body_on_post_is_not_retried() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(truncated(), reply(200))
        with pytest.raises(TransportError, match="may have been processed"):
            await hub._transport.request(post())
        assert len(srv.seen) == 1


async def test_reset_connection_retried_for_get() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(reset(), reply(200, {"ok": 2}))
        assert (await hub._transport.request(get())).data == {"ok": 2}


async def test_complete_non_json_body_is_a_validation_error_not_retried() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.default = reply(200, "<html>oops</html>", {"Content-Type": "text/html"})
        with pytest.raises(ResponseValidationError):
            await hub._transport.request(get())
        assert len(srv.seen) == 1


async def test_connection_refused_is_transport_error() -> None:
    async with HubClient(base_url="http://127.0.0.1:9", max_retries=1, **FAST) as hub:
        with pytest.raises(TransportError, match="no usable response"):
            await hub._transport.request(get())


def _hint_headers(form: str, seconds: float) -> dict[str, str]:
    now = time.time()
    if form == "x-retry-after-epoch":
        return {"X-Retry-After": str(int(now + seconds + 1))}
    if form == "retry-after-seconds":
        return {"Retry-After": str(int(seconds))}
    if form == "retry-after-epoch":
        return {"Retry-After": str(int(now + seconds + 1))}
    if form == "http-date":
        return {"Retry-After": email.utils.formatdate(now + seconds + 1, usegmt=True)}
    return {}


@pytest.mark.parametrize(
    "form", ["x-retry-after-epoch", "retry-after-seconds", "retry-after-epoch", "http-date"]
)
async def test_429_waits_for_the_hint_then_succeeds(form: str) -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(reply(429, {"detail": "Rate limit exceeded"}, _hint_headers(form, 0)))
        srv.then(reply(200, {"ok": 1}))
        assert (await hub._transport.request(post())).data == {"ok": 1}  # even a POST
        assert hub.stats.rate_limited == 1
        assert hub.stats.retries == 1


@pytest.mark.parametrize(
    "form", ["x-retry-after-epoch", "retry-after-seconds", "retry-after-epoch", "http-date"]
)
async def test_429_hint_beyond_max_wait_raises_with_retry_at(form: str) -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_wait=5, **FAST) as hub:
        srv.default = reply(429, {"detail": "Rate limit exceeded"}, _hint_headers(form, 3600))
        before = time.time()
        with pytest.raises(RateLimitError) as info:
            await hub._transport.request(get())
        assert info.value.retry_at is not None
        # an epoch is never read as seconds (that would be ~50 years), nor seconds as an epoch
        assert before + 3000 < info.value.retry_at < before + 3700
        assert len(srv.seen) == 1


async def test_plain_text_hap429_is_a_rate_limit() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.then(
            reply(
                429,
                "Too Many Requests (HAP429).",
                {"Content-Type": "text/plain", "Retry-After": "0"},
            ),
            reply(200, {"ok": 1}),
        )
        assert (await hub._transport.request(get())).data == {"ok": 1}


async def test_401_refreshes_the_token_once() -> None:
    token1, token2 = make_jwt(iat=0, exp=600, n=1), make_jwt(iat=0, exp=600, n=2)
    async with (
        Scripted() as srv,
        HubClient(username="alice", secret="dckr_pat_x", base_url=srv.url, **FAST) as hub,
    ):
        srv.then(
            reply(200, {"access_token": token1}),
            reply(401, {"detail": "expired"}),
            reply(200, {"access_token": token2}),
            reply(200, {"ok": 1}),
        )
        assert (await hub._transport.request(get())).data == {"ok": 1}
        auths = [h.get("Authorization") for (_, path, h, _) in srv.seen if path == "/v2/thing"]
        assert auths == [f"Bearer {token1}", f"Bearer {token2}"]
        assert hub.stats.logins == 2


async def test_401_twice_fails_without_looping() -> None:
    async with (
        Scripted() as srv,
        HubClient(username="alice", secret="dckr_pat_x", base_url=srv.url, **FAST) as hub,
    ):
        srv.then(reply(200, {"access_token": make_jwt(iat=0, exp=600)}))
        srv.then(reply(401), reply(200, {"access_token": make_jwt(iat=0, exp=600, n=2)}))
        srv.default = reply(401, {"detail": "nope"})
        with pytest.raises(AuthenticationError):
            await hub._transport.request(get())
        assert len(srv.seen) == 4


async def test_redirect_is_not_followed() -> None:
    async with (
        Scripted() as srv,
        HubClient(username="alice", token="tok", base_url=srv.url, **FAST) as hub,
    ):
        srv.default = reply(302, None, {"Location": "https://evil.example/steal"})
        with pytest.raises(HubError, match="redirected"):
            await hub._transport.request(get())
        assert len(srv.seen) == 1


async def test_max_concurrency_bounds_requests_in_flight() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_concurrency=3, **FAST) as hub:
        srv.delay = 0.02
        await asyncio.gather(*(hub._transport.request(get()) for _ in range(20)))
        assert srv.max_in_flight <= 3
        assert srv.max_in_flight == 3


async def test_client_closes_its_session_but_not_a_callers() -> None:
    import aiohttp

    async with Scripted() as srv:
        hub = HubClient(base_url=srv.url, **FAST)
        await hub._transport.request(get())
        session = hub._transport._session
        await hub.aclose()
        assert session is not None and session.closed
        async with aiohttp.ClientSession() as mine:
            async with HubClient(base_url=srv.url, session=mine, **FAST) as hub2:
                await hub2._transport.request(get())
            assert not mine.closed


async def test_rate_limit_headers_reach_hub_rate_limit() -> None:
    reset_at = int(time.time()) + 30
    headers = {
        "X-RateLimit-Limit": "180",
        "X-RateLimit-Remaining": "17",
        "X-RateLimit-Reset": str(reset_at),
    }
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        assert hub.rate_limit is None
        srv.then(reply(200, {}, headers))
        await hub._transport.request(get())
        info = hub.rate_limit
        assert info is not None
        assert (info.limit, info.remaining, info.reset) == (180, 17, reset_at)


async def test_404_is_not_found() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.default = reply(404, {"detail": "Object not found"})
        with pytest.raises(NotFoundError, match="Object not found"):
            await hub._transport.request(get())


async def test_a_long_429_hint_fails_the_others_without_sending() -> None:
    hint = {"Retry-After": "3600"}
    async with (
        Scripted() as srv,
        HubClient(base_url=srv.url, max_wait=0.3, max_concurrency=1, **FAST) as hub,
    ):
        srv.default = reply(429, {"detail": "Rate limit exceeded"}, hint)
        results = await asyncio.gather(
            *(hub._transport.request(get()) for _ in range(3)), return_exceptions=True
        )
        paused = hub.rate_limiter.paused_until  # type: ignore[attr-defined]
    # each request fails with the hour Hub asked for, none waited it out
    assert all(isinstance(r, RateLimitError) for r in results)
    assert all(
        r.retry_at is not None and r.retry_at - time.time() > 3000
        for r in results
        if isinstance(r, RateLimitError)
    )
    # the shared pause holds for Hub's hour, and nobody sent into it
    assert paused is not None and paused - time.time() > 3000
    assert len(srv.seen) == 1


async def test_debug_log_names_requests_and_retries_but_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    jwt = make_jwt(iat=0, exp=600, secret="S3CRET-JWT")
    async with (
        Scripted() as srv,
        HubClient(username="alice", secret="dckr_pat_S3CRET", base_url=srv.url, **FAST) as hub,
    ):
        srv.then(reply(200, {"access_token": jwt}), reply(503), reply(200, {"ok": 1}))
        with caplog.at_level(logging.DEBUG, logger="hubasync"):
            await hub._transport.request(get())
    text = caplog.text
    assert "test.get GET /v2/thing -> 503" in text
    assert "test.get: HTTP 503, attempt 1/5; retrying in" in text
    assert "S3CRET" not in text and jwt not in text


async def test_503_retry_after_is_honoured() -> None:
    from hubasync._clock import SystemClock

    class RecordingClock(SystemClock):
        def __init__(self) -> None:
            self.sleeps: list[float] = []

        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)

    clock = RecordingClock()
    async with Scripted() as srv, HubClient(base_url=srv.url, clock=clock, **FAST) as hub:
        srv.then(reply(503, {"detail": "maintenance"}, {"Retry-After": "7"}), reply(200, {"ok": 1}))
        assert (await hub._transport.request(get())).data == {"ok": 1}
    # backoff sleeps are off in the suite: the 7 s comes from the hint alone
    assert len(clock.sleeps) == 1 and 6.5 <= clock.sleeps[0] <= 7.0


async def test_delete_whose_retry_meets_404_succeeded() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        # first answer cut short (Hub processed it), the retry finds nothing to delete
        srv.then(truncated(), reply(404, {"detail": "not found"}))
        resp = await hub._transport.request(
            Request(operation="t.delete", method="DELETE", path="/v2/x", expect_body=False)
        )
        assert resp.status == 404 and len(srv.seen) == 2
        # a first-attempt 404 is still an error
        srv.then(reply(404, {"detail": "not found"}))
        with pytest.raises(NotFoundError):
            await hub._transport.request(
                Request(operation="t.delete", method="DELETE", path="/v2/x", expect_body=False)
            )


@pytest.mark.parametrize("own_session", [True, False])
async def test_fixed_headers_and_timeout_with_either_session(own_session: bool) -> None:
    import aiohttp

    async with Scripted() as srv, aiohttp.ClientSession() as mine:
        session = None if own_session else mine
        async with HubClient(
            token="tok", base_url=srv.url, timeout=0.2, session=session, **FAST
        ) as hub:
            await hub._transport.request(get())
            srv.delay = 0.5
            with pytest.raises(TransportError):
                await hub._transport.request(get(idempotent=False))
        headers = srv.seen[0][2]
        assert headers["User-Agent"].startswith("hubasync/")
        assert headers["Accept"] == "application/json"
        assert headers["Authorization"] == "Bearer tok"


async def test_same_origin_redirect_inside_the_api_is_followed_with_the_token() -> None:
    async with Scripted() as srv, HubClient(token="tok", base_url=srv.url, **FAST) as hub:
        srv.then(
            reply(301, None, {"Location": "/v2/thing/?page=2"}),
            reply(200, {"ok": "moved"}),
        )
        resp = await hub._transport.request(get())
        assert resp.data == {"ok": "moved"}
        (_, first, _, _), (_, second, headers, _) = srv.seen
        assert (first, second) == ("/v2/thing", "/v2/thing/?page=2")
        assert headers["Authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("status", "location", "method"),
    [
        (302, "/v1/other", "GET"),  # outside the API
        (301, "/v2/../etc/passwd", "GET"),  # traversal
        (301, "/v2/x", "POST"),  # a 301 of a POST is ambiguous: refused
        (307, "//evil.example/v2/x", "GET"),  # scheme-relative: another origin
    ],
)
async def test_redirects_leaving_the_api_are_refused(
    status: int, location: str, method: str
) -> None:
    async with Scripted() as srv, HubClient(token="tok", base_url=srv.url, **FAST) as hub:
        srv.default = reply(status, None, {"Location": location})
        req = Request(operation="t.x", method=method, path="/v2/thing", json={"a": 1})
        with pytest.raises(HubError, match="does not follow"):
            await hub._transport.request(req)
        assert len(srv.seen) == 1


async def test_redirect_loops_stop() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        srv.default = reply(307, None, {"Location": "/v2/thing"})
        with pytest.raises(HubError, match="does not follow"):
            await hub._transport.request(get())
        assert len(srv.seen) == 4  # the first and three redirects


# -- per-request overrides (Request.bearer / timeout / max_retries / max_wait) -------------


async def test_a_per_request_bearer_replaces_the_clients_token_and_is_never_refreshed() -> None:
    scim = "scim-bearer-0123456789"
    async with Scripted() as srv, HubClient(token="client-tok", base_url=srv.url, **FAST) as hub:
        srv.then(reply(200, {"ok": 1}))
        await hub._transport.request(get(bearer=scim))
        await hub._transport.request(get())
        assert [h["Authorization"] for (_, _, h, _) in srv.seen] == [
            f"Bearer {scim}",
            "Bearer client-tok",
        ]
        # a 401 on it is final: no refresh, no login, one request; Hub's echo of it is scrubbed
        srv.then(reply(401, {"detail": f"token {scim} is not a SCIM token", "token": scim}))
        with pytest.raises(AuthenticationError) as info:
            await hub._transport.request(get(bearer=scim))
        assert len(srv.seen) == 3 and hub.stats.logins == 0
    error = info.value
    assert scim not in str(error) and scim not in repr(error.body) and scim not in repr(error.args)
    assert "<redacted>" in str(error)
    assert scim not in repr(get(bearer=scim))


async def test_a_per_request_bearer_is_sent_on_an_anonymous_client() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        await hub._transport.request(get(bearer="scim-only"))
        await hub._transport.request(get())
        assert srv.seen[0][2]["Authorization"] == "Bearer scim-only"
        assert "Authorization" not in srv.seen[1][2]


@pytest.mark.parametrize("own_session", [True, False])
async def test_a_per_request_timeout_overrides_the_clients(own_session: bool) -> None:
    import aiohttp

    async with Scripted() as srv, aiohttp.ClientSession() as mine:
        session = None if own_session else mine
        async with HubClient(base_url=srv.url, timeout=30, session=session, **FAST) as hub:
            srv.delay = 0.4
            started = time.monotonic()
            with pytest.raises(TransportError, match="TimeoutError"):
                await hub._transport.request(get(idempotent=False, timeout=0.1))
            assert time.monotonic() - started < 0.35
            # and a longer one than the client's lets a slow answer through
        async with HubClient(base_url=srv.url, timeout=0.1, session=session, **FAST) as hub:
            assert (await hub._transport.request(get(timeout=5))).data == {"ok": True}


async def test_a_per_request_max_retries_overrides_the_clients() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_retries=5, **FAST) as hub:
        srv.default = reply(503)
        with pytest.raises(ServerError):
            await hub._transport.request(get(max_retries=0))
        assert len(srv.seen) == 1
        with pytest.raises(ServerError):
            await hub._transport.request(get(max_retries=1))
        assert len(srv.seen) == 3
    async with Scripted() as srv, HubClient(base_url=srv.url, max_retries=0, **FAST) as hub:
        srv.then(reply(503), reply(503))
        assert (await hub._transport.request(get(max_retries=2))).data == {"ok": True}
        assert len(srv.seen) == 3


async def test_a_per_request_max_wait_overrides_the_clients() -> None:
    hint = {"Retry-After": "60"}
    async with Scripted() as srv, HubClient(base_url=srv.url, max_wait=300, **FAST) as hub:
        # a 429 asking for 60 s: beyond this request's max_wait, within the client's
        srv.then(reply(429, {"detail": "slow down"}, hint))
        with pytest.raises(RateLimitError, match="max_wait=5 s"):
            await asyncio.wait_for(hub._transport.request(get(max_wait=5)), timeout=5)
        # the limiter's pause (60 s) is also refused at once under the request's max_wait
        with pytest.raises(RateLimitError):
            await asyncio.wait_for(hub._transport.request(get(max_wait=1)), timeout=2)
        assert len(srv.seen) == 1
    clock = JumpClock()
    async with (
        Scripted() as srv,
        HubClient(base_url=srv.url, max_wait=0, clock=clock, **FAST) as hub,
    ):
        # a 10 s hint is beyond the client's max_wait=0, within this request's
        srv.then(reply(429, {"detail": "slow down"}, {"Retry-After": "10"}))
        assert (await hub._transport.request(get(max_wait=30))).data == {"ok": True}
        assert len(srv.seen) == 2 and clock.jumped >= 9


# -- the seam: a send of the test's own instead of aiohttp ---------------------------------


class FakeSend:
    """A ``send`` that plays scripted answers (or raises) and records every call."""

    def __init__(self, *answers: tuple[int, dict[str, str], Any] | BaseException) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict[str, str], Any, float | None]] = []

    async def __call__(
        self,
        method: str,
        url: str,
        headers: Any,
        json: Any,
        timeout_s: float | None,
    ) -> tuple[int, dict[str, str], bytes]:
        self.calls.append((method, url, dict(headers or {}), json, timeout_s))
        if url.endswith("/v2/auth/token"):
            body: Any = {"access_token": make_jwt(iat=0, exp=600, n=len(self.calls))}
            return 200, {}, _json_bytes(body)
        item = self.answers.pop(0) if self.answers else (200, {}, {"ok": True})
        if isinstance(item, BaseException):
            raise item
        status, headers_out, body = item
        return status, headers_out, body if isinstance(body, bytes) else _json_bytes(body)


def _json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


async def test_an_injected_send_gets_the_request_and_its_answer_is_interpreted() -> None:
    send = FakeSend((503, {}, {"detail": "down"}), (200, {}, {"x": 1}))
    async with HubClient(token="tok", base_url="https://hub.example", **FAST) as hub:
        hub._transport.send = send
        req = Request(
            operation="t.put",
            method="PUT",
            path="/v2/thing",
            params={"a": True},
            json={"k": "v"},
            timeout=2.5,
        )
        resp = await hub._transport.request(req)
        assert resp.data == {"x": 1} and hub.stats.retries == 1 and hub.stats.requests == 2
        assert hub._transport._session is None  # aiohttp was never touched
    assert send.calls == 2 * [
        (
            "PUT",
            "https://hub.example/v2/thing?a=true",
            {"Authorization": "Bearer tok"},
            {"k": "v"},
            2.5,
        )
    ]


async def test_an_injected_send_drives_refresh_and_redirect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="hubasync.transport")
    send = FakeSend(
        (401, {}, {"detail": "expired"}),
        (307, {"Location": "/v2/moved"}, b""),
        (200, {}, {"moved": True}),
    )
    async with HubClient(
        username="alice", secret="dckr_pat_x", base_url="https://hub.example", **FAST
    ) as hub:
        hub._transport.send = send
        assert (await hub._transport.request(get())).data == {"moved": True}
    paths = [url.removeprefix("https://hub.example") for (_, url, _, _, _) in send.calls]
    assert paths == ["/v2/auth/token", "/v2/thing", "/v2/auth/token", "/v2/thing", "/v2/moved"]
    tokens = [h["Authorization"] for (_, url, h, _, _) in send.calls if "auth/token" not in url]
    assert tokens[0] != tokens[1] == tokens[2]  # refreshed once, then carried by the redirect
    logged = [r.getMessage() for r in caplog.records if r.name == "hubasync.transport"]
    assert logged == [
        "test.get: 401, token refreshed; retrying in 0.00 s",
        "test.get: following a redirect to /v2/moved",
    ]


async def test_a_send_that_fails_otherwise_propagates_and_returns_the_reservation() -> None:
    send = FakeSend(RuntimeError("bug in send"))
    async with HubClient(base_url="https://hub.example", **FAST) as hub:
        hub._transport.send = send
        with pytest.raises(RuntimeError, match="bug in send"):
            await hub._transport.request(get())
        assert hub.rate_limiter.in_flight == 0  # type: ignore[attr-defined]
        assert len(send.calls) == 1


async def test_retries_are_logged_at_info_with_attempt_and_wait_but_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    import aiohttp

    send = FakeSend(
        ConnectionRefusedError(111, "Connection refused"),
        aiohttp.ServerDisconnectedError(),
        (429, {"Retry-After": "0"}, {"detail": "slow"}),
        (200, {}, {"ok": 1}),
    )
    secret = "dckr_pat_TOPSECRET99"
    async with HubClient(
        username="alice", secret=secret, base_url="https://hub.example", max_retries=3, **FAST
    ) as hub:
        hub._transport.send = send
        with caplog.at_level(logging.INFO, logger="hubasync.transport"):
            await hub._transport.request(get("repos.get"))
            # a creating POST is retried only when the connection never opened
            send.answers = [ConnectionRefusedError(111, "Connection refused")]
            await hub._transport.request(post())
    infos = [
        r.getMessage()
        for r in caplog.records
        if r.name == "hubasync.transport" and r.levelno == logging.INFO
    ]
    assert infos[0].startswith("repos.get: ConnectionRefusedError ([Errno 111] Connection refused)")
    assert "attempt 1/3; retrying in" in infos[0]
    assert infos[1].startswith("repos.get: ServerDisconnectedError") and "attempt 2/3" in infos[1]
    assert infos[2].startswith("repos.get: HTTP 429, attempt 1/19, limiter paused")
    assert infos[3].startswith("test.create: ConnectionRefusedError") and "attempt 1/3" in infos[3]
    assert len(infos) == 4
    assert "TOPSECRET" not in caplog.text and "Bearer" not in caplog.text
    assert "eyJ" not in caplog.text  # no JWT (the login token) either
