"""Shared helpers of the organization-administration resource tests (aioresponses)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubasync import HubClient, errors

from ._aioresponses_shim import mocked
from .test_resources import calls, one_call

__all__ = [
    "BASE",
    "TOKEN_ID",
    "calls",
    "hub",
    "one_call",
    "rejected_before_sending",
    "sent_once_despite_503",
]

BASE = "https://hub.test"
TOKEN_ID = "a7a5ef25-8889-43a0-8cc7-f2a94268e861"


@pytest.fixture
async def hub() -> AsyncIterator[HubClient]:
    async with HubClient(token="tok", base_url=BASE, requests_per_minute=1_000_000) as client:
        yield client


async def rejected_before_sending(hub: HubClient, call: Any, words: str) -> None:
    """``call(hub)`` raises ValueError matching ``words`` at the call, and nothing is sent."""
    with mocked() as m:
        with pytest.raises(ValueError, match=words):
            result = call(hub)
            if hasattr(result, "__await__"):
                await result
        assert calls(m) == []


async def sent_once_despite_503(hub: HubClient, call: Any) -> None:
    """``call(hub)`` meets 503s and fails after one request: it is never retried."""
    with mocked() as m:
        for method in ("post", "patch"):
            getattr(m, method)(re.compile(r".*"), status=503, repeat=True)
        with pytest.raises(errors.ServerError):
            await call(hub)
        assert len(calls(m)) == 1
