"""Invites: cancel, resend, bulk create (with a dry run)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .._org_model import INVITE_BULK_LIMIT, RuleError, check_role, is_email
from ._base import NO_PERMISSION, Area, bad_request, detail, json_response
from .orgs import invite_json

__all__ = ["InvitesArea"]

_DOCKER_ID_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


class InvitesArea(Area):
    """``/v2/invites/{id}``, ``/v2/invites/{id}/resend`` and ``/v2/invites/bulk``."""

    def routes(self, app: web.Application) -> None:
        """Register the invite operations."""
        self.add(app, "DELETE", "/v2/invites/{id}", self.cancel)
        self.add(app, "PATCH", "/v2/invites/{id}/resend", self.resend)
        self.add(app, "POST", "/v2/invites/bulk", self.bulk)

    def _invite_for_owner(self, request: web.Request) -> Any:
        who = self.who(request)
        invite = self.admin.invites.get(request.match_info["id"])
        data = self.admin.find(invite.org) if invite is not None else None
        if invite is None or data is None:
            raise detail(404, "Not found.", errinfo={})
        if not self.allowed(who, data, "owner"):
            raise detail(403, NO_PERMISSION, errinfo={})
        return invite

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """DELETE /v2/invites/{id}: the invite is no longer pending (owners only)."""
        invite = self._invite_for_owner(request)
        del self.admin.invites[invite.id]
        return web.Response(status=204)

    async def resend(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/invites/{id}/resend: send the invite again (owners only)."""
        invite = self._invite_for_owner(request)
        invite.resent += 1
        return web.Response(status=204)

    async def bulk(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/invites/bulk: invite Docker IDs and emails, one status per invitee.

        A malformed invitee or an existing member gets a status, not an error; an invitee
        with a pending invite to the org is a 409 for the whole request; ``dry_run``
        validates without inviting anyone.
        """
        who = self.who(request)
        body = self.body(request)
        org, team = body.get("org"), body.get("team") or ""
        role = check_role(body.get("role") or "member")
        invitees, dry_run = body.get("invitees"), body.get("dry_run", False)
        if not isinstance(org, str) or not org:
            raise bad_request("org is required (the organization's name)", "org")
        if not isinstance(team, str):
            raise bad_request("team must be a group name", "team")
        if not isinstance(dry_run, bool):
            raise bad_request("dry_run must be a boolean", "dry_run")
        if (
            not isinstance(invitees, list)
            or not invitees
            or not all(isinstance(i, str) for i in invitees)
        ):
            raise bad_request("invitees must be a non-empty list of Docker IDs or emails")
        if len(invitees) > INVITE_BULK_LIMIT:
            raise bad_request(
                f"at most {INVITE_BULK_LIMIT} invitees per request, got {len(invitees)}",
                "invitees",
            )
        data = self.admin.find(org)
        if data is None:
            raise bad_request(f"organization {org} not found", "org")
        if not self.allowed(who, data, "owner"):
            raise detail(403, NO_PERMISSION, errinfo={})
        if team and team not in data.groups:
            raise bad_request(f"group {team} not found in the organization {org}", "team")
        for invitee in invitees:
            if self.admin.pending(org, invitee) is not None:
                raise RuleError(409, f"{invitee} already has a pending invite to {org}")
        results: list[dict[str, Any]] = []
        for invitee in dict.fromkeys(invitees):
            if not (is_email(invitee) or _DOCKER_ID_RE.match(invitee)):
                results.append({"invitee": invitee, "status": "invalid_email_or_docker_id"})
            elif data.role(invitee) is not None:
                results.append({"invitee": invitee, "status": "existing_org_member"})
            elif dry_run:
                results.append({"invitee": invitee, "status": "invited"})
            else:
                invite = self.admin.add_invite(
                    org, invitee, inviter=self.actor(who), team=team, role=role
                )
                results.append(
                    {"invitee": invitee, "status": "invited", "invite": invite_json(invite)}
                )
        return json_response(202, {"invitees": results})
