"""Auth: token expiry (pure), routes, single flight, 2FA, no hammering, no secret leaks."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import pytest

from hubasync import HubClient
from hubasync._auth import (
    Authenticator,
    LoginCall,
    jwt_claims,
    login_route,
    refresh_deadline,
)
from hubasync.errors import AuthenticationError, TwoFactorRequiredError
from hubasync.testing import FakeHub


def make_jwt(**claims: Any) -> str:
    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.c2ln"


@pytest.mark.parametrize(
    ("iat", "exp", "received", "expected"),
    [
        (1000, 1600, 50.0, 50.0 + 540.0),  # 10 min token → refresh after 9 min
        (1000, 1003, 50.0, 50.0 + 2.25),  # 3 s token → 75 % of its life
        (1000, 1240, 0.0, 180.0),  # 4 min: max(180, 180)
        (1000, 4600, 0.0, 3540.0),  # 1 h: 60 s before expiry
        (5000, 5600, 0.0, 540.0),  # Hub's clock far from ours: lifetime still counts from receipt
    ],
)
def test_refresh_deadline_table(iat: int, exp: int, received: float, expected: float) -> None:
    assert refresh_deadline(make_jwt(iat=iat, exp=exp), received) == pytest.approx(expected)


@pytest.mark.parametrize("token", ["opaque-token", "a.b", make_jwt(sub="x"), "x.!!!.y"])
def test_tokens_without_exp_are_opaque(token: str) -> None:
    assert refresh_deadline(token, 10.0) is None


def test_jwt_claims_decodes_payload() -> None:
    assert jwt_claims(make_jwt(sub="me", exp=5)) == {"sub": "me", "exp": 5}
    assert jwt_claims("not-a-jwt") is None


@pytest.mark.parametrize(
    ("secret", "route"),
    [
        ("dckr_pat_abc", "/v2/auth/token"),
        ("dckr_oat_abc", "/v2/auth/token"),
        ("hunter2", "/v2/users/login"),
        ("DCKR_PAT_upper", "/v2/users/login"),
    ],
)
def test_login_route_by_secret_kind(secret: str, route: str) -> None:
    assert login_route(secret) == route


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Hub:
    """A scripted login endpoint."""

    def __init__(self, lifetime: int = 600, *, two_factor_code: str | None = None) -> None:
        self.calls: list[LoginCall] = []
        self.lifetime = lifetime
        self.code = two_factor_code
        self.fail = False
        self.n = 0

    async def __call__(self, req: LoginCall) -> tuple[int, Any]:
        self.calls.append(req)
        await asyncio.sleep(0.001)
        if self.fail:
            return 401, {"detail": "Incorrect authentication credentials"}
        self.n += 1
        token = make_jwt(iat=0, exp=self.lifetime, n=self.n)
        if req.path == "/v2/auth/token":
            return 200, {"access_token": token}
        if req.path == "/v2/users/login":
            if self.code is not None:
                return 401, {
                    "detail": "Require secondary authentication",
                    "login_2fa_token": "2fa-tmp",
                }
            return 200, {"token": token}
        if req.path == "/v2/users/2fa-login":
            if req.body["code"] == self.code and req.body["login_2fa_token"] == "2fa-tmp":
                return 200, {"token": token}
            return 401, {"detail": "Incorrect code"}
        raise AssertionError(req.path)


def auth(clock: Clock, secret: str = "dckr_pat_SECRET", **kw: Any) -> Authenticator:
    return Authenticator(
        username="alice",
        secret=secret,
        token=None,
        two_factor=kw.pop("two_factor", None),
        clock=clock,
        **kw,
    )


async def test_single_flight_under_50_tasks() -> None:
    hub, clock = Hub(), Clock()
    a = auth(clock)
    tokens = await asyncio.gather(*(a.token(hub) for _ in range(50)))
    assert len(hub.calls) == 1
    assert len(set(tokens)) == 1


async def test_refresh_before_expiry_and_only_once() -> None:
    hub, clock = Hub(lifetime=600), Clock()
    a = auth(clock)
    first = await a.token(hub)
    clock.now += 539
    assert await a.token(hub) == first
    clock.now += 2  # past 9 minutes
    tokens = await asyncio.gather(*(a.token(hub) for _ in range(20)))
    assert len(set(tokens)) == 1 and tokens[0] != first
    assert len(hub.calls) == 2


async def test_invalidate_refreshes_once_for_many_tasks() -> None:
    hub, clock = Hub(), Clock()
    a = auth(clock)
    old = await a.token(hub)
    await asyncio.gather(*(a.invalidate(old, hub) for _ in range(10)))
    assert len(hub.calls) == 2
    assert await a.token(hub) != old


async def test_password_goes_to_users_login_and_pat_to_auth_token() -> None:
    hub, clock = Hub(), Clock()
    await auth(clock, secret="hunter2").token(hub)
    await auth(clock, secret="dckr_pat_x").token(hub)
    assert [c.path for c in hub.calls] == ["/v2/users/login", "/v2/auth/token"]
    assert hub.calls[0].body == {"username": "alice", "password": "hunter2"}
    assert hub.calls[1].body == {"identifier": "alice", "secret": "dckr_pat_x"}


async def test_two_factor_with_sync_and_async_callables() -> None:
    for cb in (lambda: "123456", _async_code):
        hub, clock = Hub(two_factor_code="123456"), Clock()
        a = auth(clock, secret="hunter2", two_factor=cb)
        assert await a.token(hub)
        assert [c.path for c in hub.calls] == ["/v2/users/login", "/v2/users/2fa-login"]


async def _async_code() -> str:
    return "123456"


async def test_two_factor_without_callable_raises_and_is_not_hammered() -> None:
    hub, clock = Hub(two_factor_code="123456"), Clock()
    a = auth(clock, secret="hunter2")
    with pytest.raises(TwoFactorRequiredError, match="two_factor"):
        await a.token(hub)
    with pytest.raises(TwoFactorRequiredError):
        await a.token(hub)
    assert len(hub.calls) == 1


async def test_failed_login_is_not_hammered_and_hides_the_secret() -> None:
    hub, clock = Hub(), Clock()
    hub.fail = True
    a = auth(clock, secret="dckr_pat_SUPERSECRET")
    errors = await asyncio.gather(*(a.token(hub) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert len(hub.calls) == 1
    for e in errors:
        assert "SUPERSECRET" not in str(e) and "SUPERSECRET" not in repr(e)
    assert "SUPERSECRET" not in repr(a)


async def test_ready_token_is_used_without_login() -> None:
    hub, clock = Hub(), Clock()
    token = make_jwt(iat=0, exp=600)
    a = Authenticator(username=None, secret=None, token=token, two_factor=None, clock=clock)
    assert await a.token(hub) == token
    assert await a.invalidate(token, hub) is False  # nothing to refresh with
    assert hub.calls == []
    assert token not in repr(a)


async def test_token_nowait_says_when_a_login_is_due() -> None:
    hub, clock = Hub(lifetime=600), Clock()
    a = auth(clock)
    assert a.token_nowait() == (False, None)  # credentials, no token yet: log in first
    first = await a.token(hub)
    assert a.token_nowait() == (True, first)
    clock.now += 541  # past the refresh point (9 of 10 minutes)
    assert a.token_nowait() == (False, None)
    anonymous = Authenticator(username=None, secret=None, token=None, two_factor=None, clock=clock)
    assert anonymous.token_nowait() == (True, None)
    ready = make_jwt(iat=0, exp=600)
    b = Authenticator(username=None, secret=None, token=ready, two_factor=None, clock=clock)
    # past its refresh point but nothing to refresh with: still sent until Hub refuses it
    assert b.token_nowait() == (True, ready)
    assert len(hub.calls) == 1


async def test_logins_refreshes_and_refusals_are_logged_without_a_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hubasync.auth")
    hub, clock = Hub(lifetime=600, two_factor_code="123456"), Clock()
    a = auth(clock, secret="hunter2-SECRET", two_factor=lambda: "123456")
    first = await a.token(hub)
    clock.now += 541  # past the refresh point
    second = await a.token(hub)
    await a.invalidate(second, hub)
    hub.fail = True
    refused = auth(clock, secret="dckr_pat_REFUSED")
    with pytest.raises(AuthenticationError):
        await refused.token(hub)

    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("logging in" in m and "'alice'" in m and "/v2/users/login" in m for m in info)
    assert any("refreshed in 540 s" in m for m in info)  # 90 % of 600 s: 60 s before expiry
    assert any(m.startswith("refreshing the token") for m in info)
    assert any("401" in m and "logging in again" in m for m in info)
    assert any("refused (HTTP 401)" in m for m in info)
    assert any("two-factor" in r.getMessage() for r in caplog.records)
    secrets = ["hunter2-SECRET", "dckr_pat_REFUSED", "123456", "2fa-tmp", first, second]
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert not [s for s in secrets if s in text], text


async def test_stats_count_a_two_factor_login_once(fake_hub: FakeHub) -> None:
    # A password login with 2FA is two requests (login, then 2fa-login) but one login.
    fake_hub.add_user("carol", "carol-pass", totp="123456")
    async with HubClient(
        username="carol",
        secret="carol-pass",
        two_factor=lambda: "123456",
        base_url=fake_hub.url,
        requests_per_minute=1_000_000,
    ) as hub:
        await hub.login()
        assert fake_hub.logins == 2
        assert hub.stats.requests == 2
        assert hub.stats.logins == 1
