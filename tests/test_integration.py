"""HubClient against FakeHub on loopback: real sockets, real rate-limit windows."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from hubasync import HubClient
from hubasync.errors import (
    AuthenticationError,
    PermissionDeniedError,
    TwoFactorRequiredError,
)
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

FAST = {"requests_per_minute": 1_000_000}


@pytest.fixture
async def server() -> AsyncIterator[FakeHub]:
    async with FakeHub(image_api=True) as hub:
        hub.add_user("alice", "pw", pats=["dckr_pat_alice"])
        images = [FakeImage(digest_of(str(i)), tags=[f"v{i}"]) for i in range(230)]
        hub.add_repository("alice", "app", images=images)
        yield hub


async def exhaust(server: FakeHub, token: str, n: int) -> None:
    """Spend the caller's window with raw requests, early in a fresh window.

    FakeHub's windows are aligned to the epoch on the real clock here: spending the last
    moments of one would let the window roll over before the client's first request, and
    the 429 the test is about would never come (a CI flake).
    """
    window = server.window_s
    into = time.time() % window
    if into > window / 4:
        await asyncio.sleep(window - into + 0.01)
    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            url = f"{server.url}/v2/namespaces/alice/repositories/app/images-summary"
            async with s.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
                await r.read()


@pytest.mark.parametrize("prefetch", [1, 4, 16])
async def test_images_list_exact_under_prefetch(server: FakeHub, prefetch: int) -> None:
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, **FAST
    ) as hub:
        got = await hub.images.list("alice", "app", page_size=7, prefetch=prefetch).to_list()
    expected = server.image_digests("alice", "app")
    assert sorted(i.digest for i in got) == sorted(expected)
    assert len(got) == len(expected) == 230


async def test_early_break_returns_every_connection(server: FakeHub) -> None:
    server.inject(Fault("latency", latency_s=0.05, path="/images$"))
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, **FAST
    ) as hub:
        paginator = hub.images.list("alice", "app", page_size=10, prefetch=8)
        async with paginator:
            async for image in paginator:
                if image.digest:
                    break
        session = hub._transport._session
        assert session is not None
        connector = session.connector
        assert connector is not None
        await asyncio.sleep(0.1)
        assert not connector._acquired  # nothing checked out of the pool


async def test_window_budget_is_used_without_over_limit_sends() -> None:
    async with FakeHub(image_api=True, rate_limit=25, window_s=1.0) as server:
        server.add_user("alice", "pw", pats=["dckr_pat_alice"])
        server.add_repository("alice", "app", images=[FakeImage(digest_of("x"), tags=["t"])])
        async with HubClient(username="alice", secret="dckr_pat_alice", base_url=server.url) as hub:
            results = await asyncio.gather(*(hub.images.summary("alice", "app") for _ in range(70)))
        assert len(results) == 70
        assert server.over_limit == 0
        assert hub.stats.rate_limited == 0
        assert hub.rate_limit is not None and hub.rate_limit.limit == 25


@pytest.mark.parametrize(
    "hint", ["x-retry-after-epoch", "retry-after-seconds", "retry-after-epoch", "http-date", "none"]
)
async def test_429_pauses_every_request_until_the_window_resets(hint: str) -> None:
    async with FakeHub(image_api=True, rate_limit=5, window_s=1.0, retry_hint=hint) as server:  # type: ignore[arg-type]
        server.add_user("alice", "pw")
        server.add_repository("alice", "app", images=[FakeImage(digest_of("x"), tags=["t"])])
        token = server.issue_token("alice")
        await exhaust(server, token, 5)  # someone else spent this window
        server.reset_log()
        async with HubClient(token=token, base_url=server.url, max_concurrency=2) as hub:
            results = await asyncio.gather(*(hub.images.summary("alice", "app") for _ in range(8)))
        assert len(results) == 8
        statuses = [r.status for r in server.requests]
        # only the two requests in flight when the window was spent got a 429: the rest
        # waited for the pause instead of storming
        assert statuses.count(429) <= 2
        assert hub.stats.rate_limited == statuses.count(429) >= 1
        first_429 = min(r.time for r in server.requests if r.status == 429)
        window_end = math.floor(first_429) + 1.0
        assert all(r.time >= window_end - 0.01 for r in server.requests if r.status == 200)


async def test_plain_text_hap429_is_retried(server: FakeHub) -> None:
    server.inject(Fault("hap429", times=2))
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, **FAST
    ) as hub:
        summary = await hub.images.summary("alice", "app")
    assert summary.statistics.total == 230
    assert hub.stats.rate_limited == 2


@pytest.mark.parametrize("skew", [-120.0, 120.0])
async def test_server_clock_skew_does_not_break_the_budget(skew: float) -> None:
    async with FakeHub(image_api=True, rate_limit=10, window_s=1.0, clock_skew_s=skew) as server:
        server.add_user("alice", "pw", pats=["dckr_pat_alice"])
        server.add_repository("alice", "app", images=[FakeImage(digest_of("x"), tags=["t"])])
        async with HubClient(username="alice", secret="dckr_pat_alice", base_url=server.url) as hub:
            await asyncio.gather(*(hub.images.summary("alice", "app") for _ in range(25)))
            lo_hi = hub._transport.skew.bounds
        assert server.over_limit == 0
        assert lo_hi is not None and lo_hi[0] - 0.5 <= skew <= lo_hi[1] + 0.5


async def test_password_login_with_two_factor(server: FakeHub) -> None:
    server.add_user("bob", "hunter2", totp="123456")
    async with HubClient(
        username="bob", secret="hunter2", base_url=server.url, two_factor=lambda: "123456", **FAST
    ) as hub:
        await hub.login()
        await hub.repositories.get("bob", "bob") if await hub.repositories.exists(
            "bob", "bob"
        ) else None
    assert server.logins >= 1
    async with HubClient(username="bob", secret="hunter2", base_url=server.url, **FAST) as hub:
        with pytest.raises(TwoFactorRequiredError):
            await hub.images.summary("alice", "app")


async def test_wrong_secret_fails_once_and_is_not_hammered(server: FakeHub) -> None:
    async with HubClient(
        username="alice", secret="dckr_pat_wrong", base_url=server.url, **FAST
    ) as hub:
        for _ in range(3):
            with pytest.raises(AuthenticationError) as info:
                await hub.images.summary("alice", "app")
            assert "dckr_pat_wrong" not in str(info.value)
    assert server.logins == 1


async def test_token_refreshed_before_expiry() -> None:
    async with FakeHub(image_api=True, token_lifetime_s=2.0) as server:
        server.add_user("alice", "pw", pats=["dckr_pat_alice"])
        server.add_repository("alice", "app", images=[FakeImage(digest_of("x"), tags=["t"])])
        async with HubClient(
            username="alice", secret="dckr_pat_alice", base_url=server.url, **FAST
        ) as hub:
            await hub.images.summary("alice", "app")
            await asyncio.sleep(1.6)  # past 75 % of a 2 s token
            await hub.images.summary("alice", "app")
        assert server.logins == 2
        assert all(r.status == 200 for r in server.requests)  # refreshed before any 401


async def test_anonymous_paging_past_1000_needs_auth() -> None:
    async with FakeHub(image_api=True) as server:
        server.add_namespace("big")
        for i in range(1050):
            server.add_repository("big", f"r{i:04d}")
        async with HubClient(base_url=server.url, **FAST) as anon:
            assert len(await anon.repositories.list("big").to_list(limit=1000)) == 1000
            with pytest.raises(PermissionDeniedError, match="authenticate"):
                await anon.repositories.list("big").to_list()


async def test_foreign_next_links_are_never_followed(server: FakeHub) -> None:
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, **FAST
    ) as hub:
        await hub.images.list("alice", "app", page_size=50).to_list()
    # FakeHub's next links point at https://hub.docker.com, like Hub's and Prism's do
    assert all(r.path.startswith("/v2/") for r in server.requests)
