"""Organization groups (teams): CRUD and their members."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._clock import format_ts
from .._org_model import Group, MemberInfo
from ._base import Area, bad_request, json_response

__all__ = ["GroupsArea", "group_json"]


def group_json(group: Group) -> dict[str, Any]:
    """An ``org_group``."""
    return {
        "id": group.id,
        "uuid": group.uuid,
        "name": group.name,
        "description": group.description,
        "member_count": len(group.members),
    }


def group_member_json(info: MemberInfo | None, username: str, *, email: bool) -> dict[str, Any]:
    """A ``group_member`` (the email only for callers allowed to see it)."""
    return {
        "id": info.scim_id.replace("-", "") if info is not None else "",
        "company": "",
        "date_joined": format_ts(info.joined) if info is not None else format_ts(0),
        "full_name": info.full_name if info is not None else "",
        "gravatar_email": "",
        "gravatar_url": "",
        "location": "",
        "profile_url": "",
        "type": "User",
        "username": username,
        "email": info.email if info is not None and email else "",
    }


class GroupsArea(Area):
    """``/v2/orgs/{org_name}/groups…``: owners change groups, members read them."""

    def routes(self, app: web.Application) -> None:
        """Register the group operations."""
        base = "/v2/orgs/{org_name}/groups"
        one = base + "/{group_name}"
        self.add(app, "GET", base, self.groups_list)
        self.add(app, "POST", base, self.group_create)
        self.add(app, "GET", one, self.group_get)
        self.add(app, "PUT", one, self.group_put)
        self.add(app, "PATCH", one, self.group_patch)
        self.add(app, "DELETE", one, self.group_delete)
        self.add(app, "GET", one + "/members", self.members_list)
        self.add(app, "POST", one + "/members", self.member_add)
        self.add(app, "DELETE", one + "/members/{username}", self.member_remove)

    async def groups_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/groups: ``username`` (groups of that user) and ``search`` (name) filters."""
        _, data = self.org(request, "read")
        username = request.query.get("username") or None
        search = (request.query.get("search") or "").lower()
        groups = [
            g
            for g in data.groups.values()
            if (username is None or username in g.members) and search in g.name.lower()
        ]
        return json_response(200, self.listing(request, groups, group_json))

    def _fields(self, request: web.Request, *, name_required: bool) -> tuple[Any, Any]:
        body = self.body(request)
        name, description = body.get("name"), body.get("description")
        if name_required and name is None:
            raise bad_request("name is required", "name")
        if description is not None and not isinstance(description, str):
            raise bad_request("description must be a string", "description")
        return name, description

    async def group_create(self, request: web.Request) -> web.StreamResponse:
        """POST …/groups: a new, empty group (owners only)."""
        _, data = self.org(request, "owner")
        name, description = self._fields(request, name_required=True)
        group = self.admin.add_group(data.ns.name, name, description=description or "")
        return json_response(201, group_json(group))

    async def group_get(self, request: web.Request) -> web.StreamResponse:
        """GET …/groups/{group_name}."""
        _, data = self.org(request, "read")
        return json_response(
            200, group_json(self.admin.group(data.ns.name, request.match_info["group_name"]))
        )

    async def _update(self, request: web.Request, *, full: bool) -> web.StreamResponse:
        _, data = self.org(request, "owner")
        name, description = self._fields(request, name_required=full)
        group = self.admin.update_group(
            data.ns.name,
            request.match_info["group_name"],
            new_name=name,
            description=("" if full and description is None else description),
        )
        return json_response(200, group_json(group))

    async def group_put(self, request: web.Request) -> web.StreamResponse:
        """PUT …/groups/{group_name}: name (required) and description (owners only)."""
        return await self._update(request, full=True)

    async def group_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH …/groups/{group_name}: name and/or description (owners only)."""
        return await self._update(request, full=False)

    async def group_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE …/groups/{group_name}: the group and its repository permissions."""
        _, data = self.org(request, "owner")
        self.admin.delete_group(data.ns.name, request.match_info["group_name"])
        return web.Response(status=204)

    async def members_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/members: search by username, full name (and email, for owners)."""
        who, data = self.org(request, "read")
        group = self.admin.group(data.ns.name, request.match_info["group_name"])
        email = self.allowed(who, data, "view")
        search = (request.query.get("search") or "").lower()
        rows = []
        for username in group.members:
            info = data.info.get(username)
            texts = [username]
            if info is not None:
                texts.append(info.full_name)
                if email:
                    texts.append(info.email)
            if not search or any(search in t.lower() for t in texts):
                rows.append(group_member_json(info, username, email=email))
        return json_response(200, self.listing(request, rows))

    async def member_add(self, request: web.Request) -> web.StreamResponse:
        """POST …/members: ``{member}`` (an org member) joins the group (owners only)."""
        _, data = self.org(request, "owner")
        member = self.body(request).get("member")
        if not isinstance(member, str) or not member:
            raise bad_request("member is required (a username of the organization)", "member")
        self.admin.add_group_member(data.ns.name, request.match_info["group_name"], member)
        return web.Response(status=200)

    async def member_remove(self, request: web.Request) -> web.StreamResponse:
        """DELETE …/members/{username} (owners only)."""
        _, data = self.org(request, "owner")
        self.admin.remove_group_member(
            data.ns.name, request.match_info["group_name"], request.match_info["username"]
        )
        return web.Response(status=204)
