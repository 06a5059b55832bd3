"""FakeHub's middlewares, one job each, outermost first:

1. :func:`request_log` - decodes the JSON body, counts logins, stamps ``Date``, and logs
   every request (``server.requests``) however it ended;
2. :func:`authentication` - who the bearer token says the caller is (handlers decide
   whether they need one);
3. :func:`faults` - injected latency, dropped connections, proxy answers (HTML pages, a
   plain-text 429) and bodies cut short;
4. :func:`rate_limit` - the per-caller fixed window: a 429 with the chosen retry hint when
   it is used up, ``X-RateLimit-*`` headers on every answer that got through (less or
   moved by a rate-header fault: ``Fault.no_rate_headers``, ``Fault.shift_reset``);
5. :func:`injected_errors` - an injected error status, answered by the app (so it carries
   rate-limit headers, unlike the proxy faults);
6. :func:`error_answers` - a handler's :class:`HubHTTPError` (or aiohttp's 404/405, or a
   FakeHub bug) as a JSON answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware

from ._faults import Fault
from ._http import (
    CONTEXT,
    INVALID,
    Context,
    Handler,
    HubHTTPError,
    RequestRecord,
    json_response,
    loads,
    reason,
)
from ._limits import retry_hint_headers

if TYPE_CHECKING:
    from ._api import Api

__all__ = ["LOGIN_PATHS", "middlewares"]

_log = logging.getLogger("hubasync.testing")

LOGIN_PATHS = frozenset({"/v2/users/login", "/v2/users/2fa-login", "/v2/auth/token"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_HAP429_BODY = b"Too Many Requests (HAP429)."


def middlewares(api: Api) -> list[Middleware]:
    """FakeHub's middlewares in order (see the module docstring)."""
    return [
        request_log(api),
        authentication(api),
        faults(api),
        rate_limit(api),
        injected_errors(api),
        error_answers(),
    ]


def request_log(api: Api) -> Middleware:
    """Decode the body, count logins, stamp ``Date``, log the request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        ctx = Context(None, api.now())
        status = 0
        try:
            if request.path in LOGIN_PATHS:
                api.logins += 1
            if request.method in _BODY_METHODS and request.can_read_body:
                raw = await request.read()
                if raw:
                    try:
                        ctx.json = loads(raw)
                    except ValueError:
                        ctx.json = INVALID
            CONTEXT.set(ctx)
            resp = await handler(request)
            if ctx.logged_status is not None:  # the connection was dropped or broken
                status = ctx.logged_status
            else:
                resp.headers["Date"] = api.date(api.now())
                status = resp.status
            return resp
        finally:
            if api.log_requests:
                api.requests.append(_record(request, ctx, status))

    return middleware


def _record(request: web.Request, ctx: Context, status: int) -> RequestRecord:
    h = request.headers
    kept = {k: h[k] for k in ("User-Agent", "Content-Type", "Accept") if k in h}
    authorized = "Authorization" in h
    if authorized:
        kept["Authorization"] = "Bearer <redacted>"
    return RequestRecord(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=kept,
        authorized=authorized,
        user=ctx.principal.sub if ctx.principal is not None else None,
        json=None if ctx.json is INVALID else ctx.json,
        status=status,
        time=ctx.arrived,
        fault=ctx.fault_name,
    )


def authentication(api: Api) -> Middleware:
    """Resolve the bearer token (at arrival) into the caller, or an error for handlers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        ctx = CONTEXT.get()
        ctx.principal, ctx.auth_error = api.authenticate(
            request.headers.get("Authorization"), ctx.arrived
        )
        return await handler(request)

    return middleware


def faults(api: Api) -> Middleware:
    """Injected latency and transport or proxy level faults."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not api.faults.active:
            return await handler(request)
        ctx = CONTEXT.get()
        delay, fault = api.faults.pick(request.method, request.path)
        ctx.fault = fault
        ctx.fault_name = fault.kind if fault is not None else None
        if delay > 0:
            ctx.fault_name = ctx.fault_name or "latency"
            await asyncio.sleep(delay)
        if fault is not None and fault.kind in ("reset", "html", "hap429"):
            proxied = _proxy_fault(request, fault)
            if proxied is None:
                ctx.logged_status = 0
                return web.Response()  # never sent: the transport is closed
            return proxied
        resp = await handler(request)
        if (
            fault is not None
            and fault.kind in ("truncate", "reset_after_headers")
            and isinstance(resp, web.Response)
            and request.method != "HEAD"
        ):
            resp.headers["Date"] = api.date(api.now())
            ctx.logged_status = resp.status
            return _broken_response(request, resp, fault)
        return resp

    return middleware


def _proxy_fault(request: web.Request, fault: Fault) -> web.Response | None:
    if fault.kind == "reset":
        if request.transport is not None:
            request.transport.close()
        return None
    if fault.kind == "hap429":
        return web.Response(status=429, body=_HAP429_BODY, content_type="text/plain")
    phrase = reason(fault.status)
    html = (
        f"<html>\r\n<head><title>{fault.status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{fault.status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return web.Response(status=fault.status, body=html.encode(), content_type="text/html")


def _broken_response(request: web.Request, resp: web.Response, fault: Fault) -> web.StreamResponse:
    body = bytes(resp.body) if isinstance(resp.body, bytes | bytearray) else b""
    declared = max(len(body), 1)
    sent = body[: len(body) // 2] if fault.kind == "truncate" else b""
    lines = [f"HTTP/1.1 {resp.status} {resp.reason}"]
    lines.extend(f"{k}: {v}" for k, v in resp.headers.items() if k.lower() != "content-length")
    lines.append(f"Content-Length: {declared}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    transport = request.transport
    if transport is not None:
        transport.write(head + sent)
        transport.close()
    return web.Response()  # never sent: the transport is closed


def rate_limit(api: Api) -> Middleware:
    """One fixed window per caller (a user's or org's bearer, else the client address)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        limiter = api.limiter
        if limiter is None:
            return await handler(request)
        principal = CONTEXT.get().principal
        key = (
            f"{principal.kind}:{principal.sub}" if principal is not None else f"ip:{request.remote}"
        )
        now = api.now()
        allowed, remaining, reset = limiter.hit(key, now)
        if allowed:
            resp = await handler(request)
        else:
            api.over_limit += 1
            resp = json_response(429, {"detail": "Rate limit exceeded", "error": False})
            for name, value in retry_hint_headers(api.retry_hint, reset, now).items():
                resp.headers[name] = value
        resp.headers["X-RateLimit-Limit"] = str(limiter.limit)
        resp.headers["X-RateLimit-Remaining"] = str(remaining)
        resp.headers["X-RateLimit-Reset"] = str(reset)
        if api.faults.active:  # a rate-header fault changes what the answer says, not Hub
            last = allowed and remaining == 0
            mangled = api.faults.rate_headers(request.method, request.path, resp.headers,
                                              last=last)  # fmt: skip
            if mangled is not None:
                ctx = CONTEXT.get()
                if ctx.fault_name in (None, "latency"):
                    ctx.fault_name = mangled.kind
        return resp

    return middleware


def injected_errors(api: Api) -> Middleware:
    """An injected ``error`` fault: the app answers that status instead of the handler."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = CONTEXT.get().fault
        if fault is not None and fault.kind == "error":
            phrase = reason(fault.status)
            return json_response(fault.status, {"detail": phrase, "message": phrase})
        return await handler(request)

    return middleware


def error_answers() -> Middleware:
    """Errors as JSON answers: a body that is not JSON, :class:`HubHTTPError`, 404/405."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if CONTEXT.get().json is INVALID:
            return json_response(
                400, {"detail": "JSON parse error: the request body is not valid JSON."}
            )
        try:
            return await handler(request)
        except HubHTTPError as exc:
            return json_response(exc.status, exc.body)
        except web.HTTPException as exc:
            if exc.status == 405:
                text = f'Method "{request.method}" not allowed.'
            elif exc.status == 404:
                text = "Not found."
            else:
                text = exc.reason
            return json_response(exc.status, {"detail": text, "message": text})
        except Exception as exc:  # a FakeHub bug: make it visible, not a hang
            _log.exception("FakeHub handler failed for %s %s", request.method, request.path)
            return json_response(500, {"detail": f"FakeHub internal error: {exc!r}"})

    return middleware
