"""Shim: aioresponses 0.7.9 builds ``ClientResponse`` without aiohttp 3.14's new
``stream_writer`` argument (``ClientResponse.__init__() missing … 'stream_writer'``).

Until aioresponses ships a fix, ``mocked()`` swaps in a ClientResponse subclass that supplies
a stand-in writer (the response counts as already sent: ``writer=None``). Only the tests use
it; the library's aiohttp requirement is never capped for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import aioresponses.core
from aioresponses import aioresponses as _aioresponses

_NEEDS_SHIM = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class _NullStreamWriter:
    output_size = 0


class _ShimResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NullStreamWriter())
        super().__init__(method, url, **kwargs)


@contextmanager
def mocked(**kwargs: Any) -> Iterator[_aioresponses]:
    """``aioresponses()`` that works on aiohttp 3.14 too."""
    original = aioresponses.core.ClientResponse
    if _NEEDS_SHIM:
        aioresponses.core.ClientResponse = _ShimResponse  # type: ignore[misc]
    try:
        with _aioresponses(**kwargs) as m:
            yield m
    finally:
        aioresponses.core.ClientResponse = original  # type: ignore[misc]
