"""Invites to organizations: cancel, resend, bulk create (``/v2/invites/…``)."""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Iterable
from typing import Any

from .. import _validate as v
from .._convert import unstructure
from ..errors import ResponseValidationError
from ..models.invites import BulkInviteRequest, BulkInviteResult
from ._base import Resource
from .orgs import Role, check_role

__all__ = ["MAX_BULK_INVITEES", "Invites"]

#: Hub's limit on invitees per bulk invite (docs.docker.com, "Manage organization members":
#: "Invite a maximum of 1000 members").
MAX_BULK_INVITEES = 1000


def _invite_id(value: object) -> str:
    return v.hub_uuid(value, param="invite_id", source="orgs.invites()")


def _bulk_results(data: Any) -> Any:
    # The spec nests the list twice ({"invitees": {"invitees": [...]}}) while its example,
    # and the schema it reuses, hold one level: accept both.
    inner = data.get("invitees") if isinstance(data, dict) else None
    if isinstance(inner, dict):
        inner = inner.get("invitees")
    return inner


class Invites(Resource):
    """Cancel, resend and create (in bulk) invitations to an organization.

    Pending invites are listed by ``hub.orgs.invites(org)``.
    """

    async def delete(self, invite_id: str | _uuid.UUID) -> None:
        """Cancel a pending invite (a 404 on a retry after a lost answer is not an error)."""
        path = f"/v2/invites/{_invite_id(invite_id)}"
        await self._send("invites.delete", "DELETE", path, expect_body=False)

    async def resend(self, invite_id: str | _uuid.UUID) -> None:
        """Send the invitation e-mail again. Not retried (a retry could send it twice)."""
        path = f"/v2/invites/{_invite_id(invite_id)}/resend"
        await self._send("invites.resend", "PATCH", path, idempotent=False, expect_body=False)

    async def bulk(
        self,
        org: str,
        invitees: Iterable[str],
        *,
        team: str | None = None,
        role: Role | None = None,
        dry_run: bool = False,
    ) -> list[BulkInviteResult]:
        """Invite up to 1,000 Docker IDs or e-mail addresses at once; one result each.

        ``dry_run=True`` validates without inviting anyone. Never retried after it may have
        reached Hub (a retry could send the invitations twice).
        """
        v.namespace(org, param="org")
        if isinstance(invitees, str):
            raise ValueError(
                f"invitees must be a list of Docker IDs or e-mail addresses, not {invitees!r}"
            )
        wanted = list(invitees)
        if not wanted:
            raise ValueError("invitees must not be empty; pass Docker IDs or e-mail addresses")
        if len(wanted) > MAX_BULK_INVITEES:
            raise ValueError(
                f"{len(wanted)} invitees is more than Hub's limit of {MAX_BULK_INVITEES} per "
                "bulk invite; split them into batches of at most 1000"
            )
        for invitee in wanted:
            text = v.check_text(invitee, "invitee")
            if text != text.strip() or "/" in text or " " in text:
                raise ValueError(
                    f"invitee {invitee!r} is not a Docker ID or e-mail address; pass e.g. "
                    "'jonsnow' or 'jon@example.com'"
                )
        if team is not None:
            v.group_name(team, param="team")
        if role is not None:
            check_role(role)
        if not isinstance(dry_run, bool):
            raise ValueError(f"dry_run must be True or False, got {dry_run!r}")
        body = unstructure(
            BulkInviteRequest(
                org=org, invitees=wanted, team=team, role=role, dry_run=dry_run or None
            )
        )
        resp = await self._send("invites.bulk", "POST", "/v2/invites/bulk", json=body)
        results = _bulk_results(resp.data)
        if not isinstance(results, list):
            raise ResponseValidationError(
                "invites.bulk: Hub's answer has no 'invitees' list",
                status=resp.status,
                body=resp.data,
                operation="invites.bulk",
            )
        return self._structure(results, list[BulkInviteResult], "invites.bulk", resp.status)
