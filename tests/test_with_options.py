"""hub.with_options(): a view with other per-request settings that shares everything else."""

from __future__ import annotations

import time

import pytest

from hubasync import HubClient
from hubasync.errors import RateLimitError, ServerError, TransportError

from ._scripted import Scripted, reply

FAST = {"requests_per_minute": 1_000_000}


async def test_a_view_s_timeout_applies_to_its_requests_only() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, timeout=30, **FAST) as hub:
        hasty = hub.with_options(timeout=0.1, max_retries=0)
        srv.delay = 0.4
        started = time.monotonic()
        with pytest.raises(TransportError, match="TimeoutError"):
            await hasty.repositories.exists("alice", "app")
        assert time.monotonic() - started < 0.35
        assert await hub.repositories.exists("alice", "app")  # the client's 30 s still hold


async def test_a_view_s_max_retries_and_the_client_s_differ() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_retries=2, **FAST) as hub:
        srv.default = reply(503)
        with pytest.raises(ServerError):
            await hub.with_options(max_retries=0).repositories.exists("alice", "app")
        assert len(srv.seen) == 1
        with pytest.raises(ServerError):
            await hub.repositories.exists("alice", "app")
        assert len(srv.seen) == 4  # the client's own: 1 + 2 retries


async def test_a_view_s_settings_reach_the_raw_login_endpoints() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_retries=2, **FAST) as hub:
        srv.default = reply(503)
        with pytest.raises(ServerError):
            await hub.with_options(max_retries=0).auth.login("alice", "pw")
        assert len(srv.seen) == 1  # the view's 0 retries, not the client's 2
        with pytest.raises(ServerError):
            await hub.auth.login("alice", "pw")
        assert len(srv.seen) == 4


async def test_a_view_s_max_wait_refuses_a_longer_rate_limit_pause() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, max_wait=300, **FAST) as hub:
        srv.then(reply(429, {"detail": "slow down"}, {"Retry-After": "30"}))
        with pytest.raises(RateLimitError, match="max_wait=1"):
            await hub.with_options(max_wait=1).repositories.exists("alice", "app")


async def test_a_view_shares_session_limiter_login_and_stats() -> None:
    async with Scripted() as srv, HubClient(token="tok", base_url=srv.url, **FAST) as hub:
        view = hub.with_options(timeout=5)
        assert view.rate_limiter is hub.rate_limiter
        assert view.stats is hub.stats
        await hub.repositories.exists("alice", "app")
        session = hub._transport._session
        await view.repositories.exists("alice", "app")
        assert view._transport._session is session  # one connection pool
        assert hub.stats.requests == 2
        assert [h["Authorization"] for _, _, h, _ in srv.seen] == ["Bearer tok"] * 2


async def test_closing_a_view_leaves_the_client_open_and_closing_the_client_ends_views() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        async with hub.with_options(max_retries=1) as view:
            assert await view.repositories.exists("alice", "app")
        assert await hub.repositories.exists("alice", "app")  # still open
        assert await view.repositories.exists("alice", "app")  # a closed view still works
    with pytest.raises(RuntimeError, match="closed"):
        await view.repositories.exists("alice", "app")


async def test_a_view_of_a_view_keeps_the_first_view_s_settings() -> None:
    hub = HubClient(max_retries=5, timeout=30)
    view = hub.with_options(max_retries=1).with_options(timeout=2)
    assert (view._config.max_retries, view._config.timeout) == (1, 2)
    assert (hub._config.max_retries, hub._config.timeout) == (5, 30)
    assert "with_options view" in repr(view)
    assert "with_options view" not in repr(hub)
    same = hub.with_options(timeout=30)._requester  # the client's own value: nothing to add
    assert (same.timeout, same.max_retries, same.max_wait) == (None, None, None)
    assert (view._requester.timeout, view._requester.max_retries) == (2, 1)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_wait": -1}, "max_wait"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        HubClient().with_options(**kwargs)  # type: ignore[arg-type]
