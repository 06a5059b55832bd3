"""pytest plugin for hubasync (entry point ``pytest11: hubasync``): the ``fake_hub`` fixture.

``fake_hub`` is an async, function-scoped fixture yielding a started :class:`FakeHub`.
Configure it per test with a marker whose keyword arguments go to ``FakeHub(...)``::

    @pytest.mark.fake_hub(rate_limit=5, window_s=1)
    async def test_throttled(fake_hub): ...

It needs pytest-asyncio; without it, using the fixture fails with a clear message (and
the plugin stays harmless for projects that never use it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._fakehub import FakeHub

__all__ = ["fake_hub", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_hub`` marker."""
    config.addinivalue_line(
        "markers",
        "fake_hub(**options): keyword arguments for the FakeHub behind the fake_hub fixture",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("fake_hub")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.fake_hub takes keyword arguments only")
    return dict(marker.kwargs)


async def _serve(request: pytest.FixtureRequest) -> AsyncIterator[FakeHub]:
    """A started FakeHub on 127.0.0.1 (options from ``@pytest.mark.fake_hub``), closed after."""
    async with FakeHub(**_options(request)) as server:
        yield server


def _missing() -> FakeHub:
    """Stands in for fake_hub when pytest-asyncio is not installed."""
    raise pytest.UsageError("the fake_hub fixture needs pytest-asyncio installed")


fake_hub: Any
try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    fake_hub = pytest.fixture(_missing, name="fake_hub")
else:
    fake_hub = pytest_asyncio.fixture(_serve, name="fake_hub")
