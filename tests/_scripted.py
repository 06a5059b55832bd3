"""A scripted loopback HTTP server for transport tests (real sockets, real aiohttp)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if isinstance(body, str | bytes):
            text = body if isinstance(body, bytes) else body.encode()
            return web.Response(status=status, body=text, headers=headers or {})
        return web.Response(
            status=status,
            text=json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=headers or {},
        )

    return handler


def truncated(status: int = 200) -> Handler:
    """Promise a longer body than is sent, then close the connection."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        resp.content_length = 1000
        await resp.prepare(request)
        await resp.write(b'{"count": 1, "res')
        assert request.transport is not None
        request.transport.close()
        return resp

    return handler


def reset() -> Handler:
    """Drop the connection before any header."""

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.01)
        return web.Response()

    return handler


class Scripted:
    """Answers each request with the next scripted handler (the last one repeats)."""

    def __init__(self) -> None:
        self.script: deque[Handler] = deque()
        self.default: Handler = reply(200, {"ok": True})
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.server: TestServer | None = None

    def then(self, *handlers: Handler) -> Scripted:
        self.script.extend(handlers)
        return self

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers), body))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            handler = self.script.popleft() if self.script else self.default
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def __aenter__(self) -> Scripted:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")
