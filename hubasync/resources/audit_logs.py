"""Audit log events and actions of an account."""

from __future__ import annotations

from datetime import datetime

from .. import _validate as v
from .._pagination import Paginator
from ..models.audit_logs import AuditActionGroup, AuditActionsResponse, AuditLogEvent
from ._base import Resource

__all__ = ["AuditLogs"]


class AuditLogs(Resource):
    """The audit log of a namespace (organization or user)."""

    def list(
        self,
        account: str,
        *,
        action: str | None = None,
        name: str | None = None,
        actor: str | None = None,
        from_: datetime | None = None,
        to: datetime | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[AuditLogEvent]:
        """Events, newest first, filtered as asked. Hub sends no count: read to a short page."""
        path = f"/v2/auditlogs/{v.namespace(account, param='account')}"
        for param, value in (("action", action), ("name", name), ("actor", actor)):
            if value is not None:
                v.check_text(value, param)
        if from_ is not None and to is not None:
            v.check_datetime(from_, "from_")
            v.check_datetime(to, "to")
            if from_ > to:
                raise ValueError("from_ is after to; pass from_ <= to")
        params = {
            "action": action,
            "name": name,
            "actor": actor,
            "from": self._datetime(from_, "from_"),
            "to": self._datetime(to, "to"),
        }
        return self._paginate(
            "audit_logs.list",
            path,
            AuditLogEvent,
            params=params,
            page_size=page_size,
            prefetch=prefetch,
            results_key="logs",
            counted=False,
        )

    async def actions(self, account: str) -> dict[str, AuditActionGroup]:
        """The actions that can filter events, by group (e.g. ``"repo"``, ``"org"``)."""
        path = f"/v2/auditlogs/{v.namespace(account, param='account')}/actions"
        resp = await self._get("audit_logs.actions", path, AuditActionsResponse)
        return dict(resp.actions)
