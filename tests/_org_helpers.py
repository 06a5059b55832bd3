"""Shared helpers of the organization-administration resource tests (aioresponses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

from hubasync import HubClient

BASE = "https://hub.test"
TOKEN_ID = "a7a5ef25-8889-43a0-8cc7-f2a94268e861"


@pytest.fixture
async def hub() -> AsyncIterator[HubClient]:
    async with HubClient(token="tok", base_url=BASE, requests_per_minute=1_000_000) as client:
        yield client


def calls(m: Any) -> list[tuple[str, URL, dict[str, Any]]]:
    """Every request aioresponses saw: (method, url with query, kwargs)."""
    out = []
    for (method, url), reqs in m.requests.items():
        for r in reqs:
            out.append((method, url, r.kwargs))
    return out


def one_call(m: Any) -> tuple[str, URL, dict[str, Any]]:
    """The only request sent."""
    got = calls(m)
    assert len(got) == 1, got
    return got[0]
