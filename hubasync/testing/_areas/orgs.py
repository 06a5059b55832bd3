"""Organization members: list, CSV export, role update, removal; the org's invite list."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from aiohttp import web

from .._clock import format_ts
from .._org_model import ROLES, Invite, MemberInfo, OrgData, check_role, is_email
from ._base import Area, bad_request, json_response

__all__ = ["OrgsArea", "invite_json"]

_TYPES = ("all", "invitee", "member")
_TRUE = ("true", "True", "1")
_FALSE = ("false", "False", "0")
_CSV_COLUMNS = ("Name", "Username", "Email", "Type", "Role", "Teams", "Date Joined")


def member_json(data: OrgData, info: MemberInfo, *, email: bool) -> dict[str, Any]:
    """An ``org_member``: the user fields, role (``Owner``/``Editor``/``Member``), groups."""
    role = data.role(info.username) or "member"
    address = info.email if email else ""
    return {
        "id": info.scim_id.replace("-", ""),
        "company": "",
        "date_joined": format_ts(info.joined),
        "full_name": info.full_name,
        "gravatar_email": "",
        "gravatar_url": "",
        "location": "",
        "profile_url": "",
        "type": "User",
        "username": info.username,
        "email": address,
        "role": role.capitalize(),
        "groups": data.groups_of(info.username),
        "is_guest": False,
        "primary_email": address,
    }


def invitee_json(invite: Invite, *, email: bool) -> dict[str, Any]:
    """A pending invite as the member list shows it (role ``Invitee``)."""
    address = invite.invitee if is_email(invite.invitee) else ""
    return {
        "id": invite.id.replace("-", ""),
        "date_joined": format_ts(invite.created),
        "full_name": "",
        "type": "User",
        "username": "" if address else invite.invitee,
        "email": address if email else "",
        "role": "Invitee",
        "groups": [invite.team] if invite.team else [],
        "is_guest": False,
    }


def invite_json(invite: Invite) -> dict[str, Any]:
    """An ``invite``."""
    return {
        "id": invite.id,
        "inviter_username": invite.inviter,
        "invitee": invite.invitee,
        "org": invite.org,
        "team": invite.team,
        "created_at": format_ts(invite.created),
    }


def _go_time(ts: float) -> str:
    """Hub's CSV date: Go's ``time.String()`` in UTC (``2020-01-01 15:00:51.193355 +0000 UTC``)."""
    whole = int(ts)
    micro = round((ts - whole) * 1_000_000)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{micro:06d} +0000 UTC"


class OrgsArea(Area):
    """``/v2/orgs/{org_name}/members…`` and ``/v2/orgs/{org_name}/invites``."""

    def routes(self, app: web.Application) -> None:
        """Register the members and org-invite operations."""
        base = "/v2/orgs/{org_name}"
        self.add(app, "GET", base + "/members", self.members_list)
        self.add(app, "GET", base + "/members/export", self.members_export)
        self.add(app, "PUT", base + "/members/{username}", self.member_update)
        self.add(app, "DELETE", base + "/members/{username}", self.member_remove)
        self.add(app, "GET", base + "/invites", self.invites_list)

    async def members_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/members: search, role, type and invites filters; page-number paging."""
        who, data = self.org(request, "read")
        q = request.query
        kind = q.get("type") or "all"
        if kind not in _TYPES:
            raise bad_request(f"type must be one of {', '.join(_TYPES)}", "type")
        role = q.get("role") or None
        if role is not None and role not in ROLES:
            raise bad_request(f"role must be one of {', '.join(ROLES)}", "role")
        raw_invites = q.get("invites")
        if raw_invites not in (None, "", *_TRUE, *_FALSE):
            raise bad_request("invites must be true or false", "invites")
        with_invites = raw_invites in _TRUE or kind == "invitee"
        search = (q.get("search") or "").lower()
        email = self.allowed(who, data, "view")
        rows: list[dict[str, Any]] = []
        if kind != "invitee":
            for username in data.members():
                info = data.info[username]
                if role is not None and data.role(username) != role:
                    continue
                if search and not any(
                    search in text.lower()
                    for text in (username, info.full_name, info.email if email else "")
                ):
                    continue
                rows.append(member_json(data, info, email=email))
        if with_invites and kind != "member" and role is None:
            for invite in self.admin.invites_of(data.ns.name):
                if not search or search in invite.invitee.lower():
                    rows.append(invitee_json(invite, email=email))
        return json_response(200, self.listing(request, rows))

    async def members_export(self, request: web.Request) -> web.StreamResponse:
        """GET …/members/export: every member and invitee as CSV, as an attachment."""
        _, data = self.org(request, "view")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for username in data.members():
            info = data.info[username]
            writer.writerow(
                (
                    info.full_name,
                    username,
                    info.email,
                    "User",
                    (data.role(username) or "member").capitalize(),
                    ", ".join(data.groups_of(username)),
                    _go_time(info.joined),
                )
            )
        for invite in self.admin.invites_of(data.ns.name):
            address = invite.invitee if is_email(invite.invitee) else ""
            writer.writerow(
                (
                    "",
                    "" if address else invite.invitee,
                    address,
                    "Invitee",
                    invite.role.capitalize(),
                    invite.team,
                    _go_time(invite.created),
                )
            )
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now()))
        resp = web.Response(status=200, body=out.getvalue().encode(), content_type="text/csv")
        resp.headers["Content-Disposition"] = (
            f'attachment;filename="{data.ns.name}-members-{stamp}.csv"'
        )
        return resp

    async def member_update(self, request: web.Request) -> web.StreamResponse:
        """PUT …/members/{username}: change the role (owners only; never the last owner)."""
        who, data = self.org(request, "owner")
        role = check_role(self.body(request).get("role"))
        username = request.match_info["username"]
        self.admin.set_role(data.ns.name, username, role)
        self.state.record(
            data.ns.name, "org.member.role.update", username, self.actor(who),
            {"role": role}, f"changed the role of {username} in {data.ns.name} to {role}",
        )  # fmt: skip
        return json_response(200, member_json(data, data.info[username], email=True))

    async def member_remove(self, request: web.Request) -> web.StreamResponse:
        """DELETE …/members/{username}: out of the org and its groups (never the last owner)."""
        who, data = self.org(request, "owner")
        username = request.match_info["username"]
        self.admin.remove_member(data.ns.name, username)
        self.state.record(
            data.ns.name, "org.member.remove", username, self.actor(who), {},
            f"removed {username} from the organization {data.ns.name}",
        )  # fmt: skip
        return web.Response(status=204)

    async def invites_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/invites: every pending invite, with its creation date (owners only)."""
        _, data = self.org(request, "view")
        invites = self.admin.invites_of(data.ns.name)
        return json_response(200, {"data": [invite_json(i) for i in invites]})
