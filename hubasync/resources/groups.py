"""Groups (teams) of an organization and their members (current spec)."""

from __future__ import annotations

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..models.groups import AddGroupMemberRequest, GroupMember, GroupRequest, OrgGroup
from ._base import Resource

__all__ = ["Groups"]


def _description(description: str | None) -> str | None:
    if description is not None:
        v.check_text(description, "description", allow_empty=True)
    return description


class Groups(Resource):
    """List, create, change and delete an organization's groups, and manage their members."""

    def _path(self, org: str, group: str | None = None) -> str:
        base = f"/v2/orgs/{v.namespace(org, param='org')}/groups"
        return base if group is None else f"{base}/{v.group_name(group)}"

    def list(
        self,
        org: str,
        *,
        username: str | None = None,
        search: str | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[OrgGroup]:
        """The organization's groups; ``username=`` keeps that user's, ``search=`` filters."""
        path = self._path(org)
        if username is not None:
            v.namespace(username, param="username")
        if search is not None:
            v.check_text(search, "search")
        return self._paginate(
            "groups.list",
            path,
            OrgGroup,
            params={"username": username, "search": search},
            page_size=page_size,
            prefetch=prefetch,
        )

    async def create(self, org: str, name: str, *, description: str | None = None) -> OrgGroup:
        """Create a group. Never retried after it may have reached Hub."""
        path = self._path(org)
        v.group_name(name, param="name")
        body = unstructure(GroupRequest(name=name, description=_description(description)))
        resp = await self._send("groups.create", "POST", path, json=body, idempotent=False)
        return self._structure(resp.data, OrgGroup, "groups.create", resp.status)

    async def get(self, org: str, group: str) -> OrgGroup:
        """One group."""
        return await self._get("groups.get", self._path(org, group), OrgGroup)

    async def update(
        self, org: str, group: str, *, name: str, description: str | None = None
    ) -> OrgGroup:
        """Replace a group's details (a PUT: ``name`` is required; rename by passing another)."""
        path = self._path(org, group)
        v.group_name(name, param="name")
        body = unstructure(GroupRequest(name=name, description=_description(description)))
        resp = await self._send("groups.update", "PUT", path, json=body)
        return self._structure(resp.data, OrgGroup, "groups.update", resp.status)

    async def patch(
        self,
        org: str,
        group: str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> OrgGroup:
        """Change some of a group's details; fields left ``None`` are unchanged."""
        path = self._path(org, group)
        if name is None and description is None:
            raise ValueError("patch needs name= and/or description=; nothing to change")
        if name is not None:
            v.group_name(name, param="name")
        body = unstructure(GroupRequest(name=name, description=_description(description)))
        resp = await self._send("groups.patch", "PATCH", path, json=body, idempotent=True)
        return self._structure(resp.data, OrgGroup, "groups.patch", resp.status)

    async def delete(self, org: str, group: str) -> None:
        """Delete a group (a 404 on a retry after a lost answer is not an error)."""
        await self._send("groups.delete", "DELETE", self._path(org, group), expect_body=False)

    def members(
        self,
        org: str,
        group: str,
        *,
        search: str | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[GroupMember]:
        """The members of a group; ``search=`` matches username, full name or e-mail."""
        path = self._path(org, group) + "/members"
        if search is not None:
            v.check_text(search, "search")
        return self._paginate(
            "groups.members",
            path,
            GroupMember,
            params={"search": search},
            page_size=page_size,
            prefetch=prefetch,
        )

    async def add_member(self, org: str, group: str, member: str) -> None:
        """Add an organization member (Docker ID or e-mail) to a group. Not retried."""
        path = self._path(org, group) + "/members"
        v.check_text(member, "member")
        if member != member.strip() or "/" in member:
            raise ValueError(
                f"member {member!r} is not a Docker ID or e-mail address; pass e.g. 'jonsnow'"
            )
        body = unstructure(AddGroupMemberRequest(member=member))
        await self._send(
            "groups.add_member", "POST", path, json=body, idempotent=False, expect_body=False
        )

    async def remove_member(self, org: str, group: str, username: str) -> None:
        """Remove a user from a group (not from the organization)."""
        path = self._path(org, group) + f"/members/{v.namespace(username, param='username')}"
        await self._send("groups.remove_member", "DELETE", path, expect_body=False)
