"""What FakeHub's middlewares and handlers share: the per-request context, the request
log record, and Hub's error bodies (``detail``, Django REST framework and rpc styles).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ._faults import Fault
from ._render import dumps
from ._state import Principal

__all__ = [
    "CONTEXT",
    "INVALID",
    "NO_CREDENTIALS",
    "NO_PERMISSION",
    "Context",
    "Handler",
    "HubHTTPError",
    "RequestRecord",
    "bad_request",
    "detail",
    "int_param",
    "json_response",
    "loads",
    "reason",
    "rpc",
    "style_error",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NO_CREDENTIALS = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."
INVALID = object()
"""The request body of a request whose body was not JSON."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request FakeHub received, as ``server.requests`` lists it.

    ``headers`` holds a few request headers (``Authorization`` replaced by
    ``"Bearer <redacted>"``); ``authorized`` says whether one was sent. ``json`` is the
    decoded request body (``None`` if none). ``status`` is what FakeHub answered (0 when
    the connection was dropped before a status line). ``time`` is the server clock at
    arrival; ``fault`` the injected fault kind, if any; ``user`` the authenticated subject.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    authorized: bool
    user: str | None
    json: Any
    status: int
    time: float
    fault: str | None


class Context:
    """What the middlewares learned about the current request, for the next ones and the
    handler: the decoded body, the caller, the injected fault, and the status to log when
    the answer never went out as a normal response (a dropped or broken connection)."""

    __slots__ = (
        "arrived",
        "auth_error",
        "fault",
        "fault_name",
        "json",
        "logged_status",
        "principal",
    )

    def __init__(self, body: Any, arrived: float) -> None:
        self.json = body
        self.arrived = arrived
        self.principal: Principal | None = None
        self.auth_error: str | None = None
        self.fault: Fault | None = None
        self.fault_name: str | None = None
        self.logged_status: int | None = None


# aiohttp runs each request in its own task (own context copy), so this is per request.
CONTEXT: ContextVar[Context] = ContextVar("fakehub_request")


class HubHTTPError(Exception):
    """Raised by handlers: answer with ``status`` and the JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def json_response(status: int, obj: Any) -> web.Response:
    """A JSON answer."""
    return web.Response(status=status, body=dumps(obj), content_type="application/json")


def detail(status: int, text: str, **extra: Any) -> HubHTTPError:
    """A ``{detail, message}`` error (plus ``extra`` fields)."""
    return HubHTTPError(status, {"detail": text, "message": text, **extra})


def bad_request(text: str, field: str | None = None, problem: str | None = None) -> HubHTTPError:
    """A Django REST framework style 400 (``fields``, ``text``, plus ``detail``/``message``)."""
    fields = {field: [problem or text]} if field else {}
    return HubHTTPError(400, {"fields": fields, "text": text, "detail": text, "message": text})


_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 500: 13}


def rpc(status: int, message: str) -> HubHTTPError:
    """A gRPC-gateway style error (``code``, ``message``, ``details``), as audit logs send."""
    return HubHTTPError(
        status,
        {"code": _RPC_CODES.get(status, 2), "message": message, "details": [], "detail": message},
    )


def int_param(query: Any, name: str, default: int, style: str) -> int:
    """An integer query parameter (``1.0`` accepted), else a 400 in the endpoint's ``style``."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if value.is_integer():
            return int(value)
    raise style_error(style, 400, f"{name} must be an integer", field=name)


def style_error(style: str, status: int, message: str, *, field: str | None = None) -> HubHTTPError:
    """An error in the endpoint family's shape: ``rpc``, or ``detail``/``drf`` bodies."""
    if style == "rpc":
        return rpc(status, message)
    if status == 400:
        return bad_request(message, field)
    return detail(status, message)


def loads(raw: bytes) -> Any:
    """Decode a JSON request body."""
    return json.loads(raw)


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
