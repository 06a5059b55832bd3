"""pytest plugin for hubasync (entry point ``pytest11: hubasync``): ``fake_hub`` and ``hub_client``.

``fake_hub`` is an async, function-scoped fixture yielding a started :class:`FakeHub`.
By default it serves a generous rate limit (:data:`DEFAULT_RATE_LIMIT` requests per 60 s
window) *with* Hub's ``X-RateLimit-*`` headers, so a client reads a huge budget from the
first answer and never paces itself: tests run at full speed. Configure it per test with a
marker whose keyword arguments go to ``FakeHub(...)``; pacing is opt-in::

    @pytest.mark.fake_hub(rate_limit=5, window_s=1)      # Hub-like limits, 429s and all
    async def test_throttled(fake_hub): ...

    @pytest.mark.fake_hub(rate_limit=None)               # no limit and no headers at all
    async def test_no_headers(fake_hub): ...

``hub_client`` is a ready :class:`~hubasync.HubClient` on ``fake_hub``, logged in (lazily)
as the user :data:`HUB_CLIENT_USERNAME` (``"tester"``, who owns the namespace ``"tester"``)
with a personal access token FakeHub accepts; the fixture creates that user, so do not
``add_user("tester", ...)`` yourself. Keyword arguments of ``@pytest.mark.hub_client(...)``
go to ``HubClient(...)`` (e.g. ``max_retries=0``)::

    async def test_listing(fake_hub, hub_client):
        fake_hub.add_repository("tester", "app")
        assert [r.name async for r in hub_client.repositories.list("tester")] == ["app"]

Both fixtures are ``pytest_asyncio`` fixtures, so they work in pytest-asyncio's strict and
auto modes alike; in strict mode mark your async tests ``@pytest.mark.asyncio`` (harmless
in auto mode). Without pytest-asyncio, using a fixture fails with a clear message (and the
plugin stays harmless for projects that never use it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import pytest

from .._client import HubClient
from ._fakehub import FakeHub

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "HUB_CLIENT_TOKEN",
    "HUB_CLIENT_USERNAME",
    "fake_hub",
    "hub_client",
    "pytest_configure",
]

#: Requests per window the ``fake_hub`` fixture allows unless its marker says otherwise.
DEFAULT_RATE_LIMIT: Final = 1_000_000
#: The user ``hub_client`` logs in as (its namespace has the same name).
HUB_CLIENT_USERNAME: Final = "tester"
#: The personal access token ``hub_client`` logs in with (a FakeHub-only value).
HUB_CLIENT_TOKEN: Final = "dckr_pat_hubasync-pytest-fixture"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_hub`` and ``hub_client`` markers."""
    config.addinivalue_line(
        "markers",
        "fake_hub(**options): keyword arguments for the FakeHub behind the fake_hub fixture",
    )
    config.addinivalue_line(
        "markers",
        "hub_client(**options): keyword arguments for the HubClient of the hub_client fixture",
    )


def _options(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{name} takes keyword arguments only")
    return dict(marker.kwargs)


def fake_hub_options(marker_options: dict[str, Any]) -> dict[str, Any]:
    """The ``FakeHub(...)`` keyword arguments for a marker's: a generous rate limit with
    headers unless the marker sets ``rate_limit`` (``None`` turns limits and headers off)."""
    return {"rate_limit": DEFAULT_RATE_LIMIT, **marker_options}


async def _serve(request: pytest.FixtureRequest) -> AsyncIterator[FakeHub]:
    """A started FakeHub on 127.0.0.1 (options from ``@pytest.mark.fake_hub``), closed after."""
    async with FakeHub(**fake_hub_options(_options(request, "fake_hub"))) as server:
        yield server


async def _client(request: pytest.FixtureRequest, fake_hub: FakeHub) -> AsyncIterator[HubClient]:
    """A HubClient on ``fake_hub`` logged in (lazily) as ``tester``, closed after."""
    fake_hub.add_user(HUB_CLIENT_USERNAME, "tester-password", pats=[HUB_CLIENT_TOKEN])
    options = {"base_url": fake_hub.url, **_options(request, "hub_client")}
    async with HubClient(username=HUB_CLIENT_USERNAME, secret=HUB_CLIENT_TOKEN, **options) as hub:
        yield hub


def _missing() -> Any:
    """Stands in for the fixtures when pytest-asyncio is not installed."""
    raise pytest.UsageError("the fake_hub and hub_client fixtures need pytest-asyncio installed")


fake_hub: Any
hub_client: Any
try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    fake_hub = pytest.fixture(_missing, name="fake_hub")
    hub_client = pytest.fixture(_missing, name="hub_client")
else:
    fake_hub = pytest_asyncio.fixture(_serve, name="fake_hub")
    hub_client = pytest_asyncio.fixture(_client, name="hub_client")
