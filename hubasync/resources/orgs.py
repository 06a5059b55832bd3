"""Organizations: settings (seed) and members, their roles, the member export and invites."""

from __future__ import annotations

import csv
import io
from typing import Any

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..errors import ResponseValidationError
from ..models.invites import Invite
from ..models.orgs import (
    MEMBER_ROLES,
    MEMBER_TYPES,
    MemberExportRow,
    MemberRole,
    MemberType,
    OrgMember,
    OrgSettings,
    RestrictedImages,
    UpdateMemberRoleRequest,
)
from ._base import Resource

__all__ = ["MemberType", "Orgs", "Role"]

#: A role in an organization (``hubasync.models.MemberRole``).
Role = MemberRole
ROLES = MEMBER_ROLES


def check_role(role: object, param: str = "role") -> str:
    """``role`` must be one of Hub's request roles (``owner``, ``editor``, ``member``)."""
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"{param}={role!r} is not a role; pass one of {', '.join(ROLES)}")
    return role


def _unwrap_members_page(data: Any) -> Any:
    # The spec declares the page as an array holding one page object: accept both shapes.
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0]
    return data


def parse_member_export(text: str) -> list[MemberExportRow]:
    """The rows of Hub's member export CSV (pure: no I/O).

    Columns are matched by name; the role column is ``Role`` (Hub's docs) or ``Permission``
    (the spec); unknown columns are ignored, missing ones read as empty.
    """
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return []
    rows = []
    for raw in reader:
        row = {(k or "").strip(): (val or "").strip() for k, val in raw.items() if k is not None}
        teams = [t.strip() for t in row.get("Teams", "").split(",") if t.strip()]
        rows.append(
            MemberExportRow(
                name=row.get("Name", ""),
                username=row.get("Username", ""),
                email=row.get("Email", ""),
                type=row.get("Type", ""),
                role=row.get("Role") or row.get("Permission", ""),
                teams=teams,
                date_joined=row.get("Date Joined", ""),
            )
        )
    return rows


class Orgs(Resource):
    """An organization's settings, members and invites."""

    @staticmethod
    def _org(org: str, param: str = "org") -> str:
        return f"/v2/orgs/{v.namespace(org, param=param)}"

    async def settings(self, name: str) -> OrgSettings:
        """The organization's settings (restricted images policy)."""
        path = f"/v2/orgs/{v.namespace(name, param='name')}/settings"
        return await self._get("orgs.settings", path, OrgSettings)

    async def update_settings(self, name: str, restricted_images: RestrictedImages) -> OrgSettings:
        """Replace the organization's restricted-images policy (owners only)."""
        path = f"/v2/orgs/{v.namespace(name, param='name')}/settings"
        if not isinstance(restricted_images, RestrictedImages):
            raise ValueError(
                "restricted_images must be a hubasync.models.RestrictedImages, got "
                f"{type(restricted_images).__name__}"
            )
        missing = [
            field
            for field in ("enabled", "allow_official_images", "allow_verified_publishers")
            if getattr(restricted_images, field) is None
        ]
        if missing:
            raise ValueError(
                f"restricted_images needs all three settings; set {', '.join(missing)} "
                "to True or False (Hub replaces the whole policy)"
            )
        body = {"restricted_images": unstructure(restricted_images)}
        resp = await self._send("orgs.update_settings", "PUT", path, json=body)
        return self._structure(resp.data, OrgSettings, "orgs.update_settings", resp.status)

    def members(
        self,
        org: str,
        *,
        search: str | None = None,
        role: Role | None = None,
        type: MemberType | None = None,
        invites: bool | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[OrgMember]:
        """The organization's members, page by page, filtered as asked.

        ``invites=True`` also lists pending invitees; ``type=`` keeps members or invitees.
        """
        path = self._org(org) + "/members"
        if search is not None:
            v.check_text(search, "search")
        if role is not None:
            check_role(role)
        if type is not None:
            v.check_choice(type, "type", MEMBER_TYPES)
        if invites is not None and not isinstance(invites, bool):
            raise ValueError(f"invites must be True, False or None, got {invites!r}")
        return self._paginate(
            "orgs.members",
            path,
            OrgMember,
            params={"search": search, "role": role, "type": type, "invites": invites},
            page_size=page_size,
            prefetch=prefetch,
            normalize=_unwrap_members_page,
        )

    async def export_members(self, org: str) -> list[MemberExportRow]:
        """Every member and invitee, from Hub's CSV export (one request, no paging)."""
        path = self._org(org) + "/members/export"
        resp = await self._send("orgs.export_members", "GET", path, text=True)
        if not isinstance(resp.data, str):  # pragma: no cover - the transport gives text
            raise ResponseValidationError("orgs.export_members: Hub sent no CSV text")
        return parse_member_export(resp.data)

    async def update_member_role(self, org: str, username: str, role: Role) -> OrgMember:
        """Give a member another role (owners only)."""
        path = self._org(org) + f"/members/{v.namespace(username, param='username')}"
        body = unstructure(UpdateMemberRoleRequest(role=check_role(role)))
        resp = await self._send("orgs.update_member_role", "PUT", path, json=body)
        return self._structure(resp.data, OrgMember, "orgs.update_member_role", resp.status)

    async def remove_member(self, org: str, username: str) -> None:
        """Remove a member from the organization and all its groups (owners only; Hub
        refuses to remove the last owner)."""
        path = self._org(org) + f"/members/{v.namespace(username, param='username')}"
        await self._send("orgs.remove_member", "DELETE", path, expect_body=False)

    async def invites(self, org: str) -> list[Invite]:
        """The organization's pending invites (Hub answers them all at once)."""
        path = self._org(org) + "/invites"
        resp = await self._send("orgs.invites", "GET", path)
        data = resp.data
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise ResponseValidationError(
                "orgs.invites: Hub's answer has no 'data' list of invites",
                status=resp.status,
                body=data,
                operation="orgs.invites",
            )
        return self._structure(data["data"], list[Invite], "orgs.invites", resp.status)
