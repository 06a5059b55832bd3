"""Models of the audit log endpoints."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = [
    "AuditAction",
    "AuditActionGroup",
    "AuditActionsResponse",
    "AuditLogEvent",
    "AuditLogsResponse",
]


@attrs.frozen(kw_only=True)
class AuditLogEvent:
    """One audit log event of a namespace.

    Attributes:
        account: the namespace the event belongs to.
        action: what happened, e.g. ``"repo.tag.push"``.
        name: what it happened to: a repository for repository events, the organization
            for organization events, the member for team member events.
        actor: the user who triggered it.
        data: details of the event, e.g. ``{"digest": …, "tag": "latest"}``. Values are
            strings; a non-string value Hub sends is kept as its JSON text.
        timestamp: when it happened.
        action_description: a sentence describing the event.
    """

    account: str | None = None
    action: str | None = None
    name: str | None = None
    actor: str | None = None
    data: dict[str, str] = attrs.field(factory=dict)
    timestamp: datetime | None = None
    action_description: str | None = None


@attrs.frozen(kw_only=True)
class AuditLogsResponse:
    """One page of audit log events (Hub sends no count and no links).

    Attributes:
        logs: the events of this page.
    """

    logs: list[AuditLogEvent] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class AuditAction:
    """An audit log action that can be used to filter events.

    Attributes:
        name: the action's name, e.g. ``"tag.push"``.
        description: what events the action covers.
        label: a short human-readable label, e.g. ``"Tag Pushed"``.
    """

    name: str
    description: str | None = None
    label: str | None = None


@attrs.frozen(kw_only=True)
class AuditActionGroup:
    """A group of audit log actions, e.g. the repository actions.

    Attributes:
        actions: the actions of the group.
        label: the group's label, e.g. ``"Repository"``.
    """

    actions: list[AuditAction] = attrs.field(factory=list)
    label: str | None = None


@attrs.frozen(kw_only=True)
class AuditActionsResponse:
    """The audit log actions of a namespace, by group name (``"org"``, ``"repo"``, …).

    Attributes:
        actions: the groups, keyed by group name.
    """

    actions: dict[str, AuditActionGroup] = attrs.field(factory=dict)
