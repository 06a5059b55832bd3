"""Audit logs (``/v2/auditlogs/{account}`` and its actions), with rpc-style errors."""

from __future__ import annotations

from aiohttp import web

from .._clock import parse_ts
from .._http import (
    json_response,
    rpc,
)
from .._render import (
    AUDIT_ACTIONS_BODY,
    event_json,
)
from .._state import (
    READ,
    Namespace,
)
from ._base import Area

__all__ = ["AuditLogsArea"]


class AuditLogsArea(Area):
    """Audit logs (``/v2/auditlogs/{account}…``): rpc-style errors."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        self.add(app, "GET", "/v2/auditlogs/{account}", self.audit_logs)
        self.add(app, "GET", "/v2/auditlogs/{account}/actions", self.audit_actions)

    def _account(self, request: web.Request) -> Namespace:
        who = self.api._who(request, "rpc")
        name = request.match_info["account"]
        ns = self.state.namespaces.get(name)
        if ns is None:
            raise rpc(404, f"account {name} not found")
        if ns.level(who) < READ:
            raise rpc(403, f"you do not have access to the audit logs of {name}")
        return ns

    async def audit_logs(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/auditlogs/{account}: ``{logs}`` newest first, filtered, no count."""
        ns = self._account(request)
        q = request.query
        bounds: list[float | None] = []
        for name in ("from", "to"):
            raw = q.get(name)
            try:
                bounds.append(parse_ts(raw) if raw else None)
            except ValueError:
                raise rpc(400, f"{name} is not an RFC 3339 date-time: {raw!r}") from None
        since, until = bounds
        page, size = self.api._page(request, 25, "rpc")
        action, name_filter, actor = q.get("action"), q.get("name"), q.get("actor")
        log = self.state.audit.get(ns.name)
        events = log.newest_first() if log is not None else []
        if action or name_filter or actor or since is not None or until is not None:
            events = [
                e
                for e in events
                if (not action or e.action == action)
                and (not name_filter or name_filter in (e.name, e.name.rpartition("/")[2]))
                and (not actor or e.actor == actor)
                and (since is None or e.ts >= since)
                and (until is None or e.ts <= until)
            ]
        start = (page - 1) * size
        return json_response(200, {"logs": [event_json(e) for e in events[start : start + size]]})

    async def audit_actions(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/auditlogs/{account}/actions: every action FakeHub records."""
        self._account(request)
        return web.Response(status=200, body=AUDIT_ACTIONS_BODY, content_type="application/json")
