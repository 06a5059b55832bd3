"""FakeHub's organization administration state: :class:`OrgAdmin` on top of a
:class:`HubState` (roles, member profiles, groups and their repository permissions,
invites, organization access token details, SCIM). The objects and the input checks are in
``_org_model``; the role rules are enforced here (see that module's docstring).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._org_model import (
    REPO_PERMISSIONS,
    Group,
    Invite,
    MemberInfo,
    OrgData,
    RuleError,
    TokenDetails,
    check_group_name,
    check_role,
    flat_scopes,
    is_email,
    resources_for,
)
from ._state import HubState, Pat

__all__ = ["OrgAdmin"]


class OrgAdmin:
    """Organization administration on top of a :class:`HubState` (internal)."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self._orgs: dict[str, OrgData] = {}
        self.invites: dict[str, Invite] = {}
        self.tokens: dict[str, TokenDetails] = {}  # OAT uuid -> details
        self.scim_tokens: dict[str, str] = {}  # SCIM bearer token -> org

    # -------------------------------------------------------------- lookup

    def find(self, name: str) -> OrgData | None:
        """The organization ``name`` (None if missing or a user namespace)."""
        ns = self.state.namespaces.get(name)
        if ns is None or not ns.org:
            return None
        data = self._orgs.get(name)
        if data is None or data.ns is not ns:
            data = self._orgs[name] = OrgData(ns)
        for username in ns.members:
            if username not in data.info:
                self._new_info(data, username, None, None, None)
        return data

    def org(self, name: str) -> OrgData:
        """The organization ``name`` (ValueError naming what to call first)."""
        data = self.find(name)
        if data is None:
            raise ValueError(
                f"{name!r} is not an organization of this FakeHub: "
                "call add_namespace(name, org=True) first"
            )
        return data

    def _new_info(
        self,
        data: OrgData,
        username: str,
        email: str | None,
        full_name: str | None,
        joined: float | None,
    ) -> MemberInfo:
        info = MemberInfo(
            username,
            email if email is not None else f"{username}@example.com",
            full_name if full_name is not None else username.replace("-", " ").title(),
            self.state.now() if joined is None else joined,
            self.state.new_uuid(),
        )
        data.info[username] = info
        return info

    # ------------------------------------------------------------- members

    def add_member(
        self,
        org: str,
        username: str,
        *,
        role: str = "member",
        email: str | None = None,
        full_name: str | None = None,
        joined: float | None = None,
    ) -> MemberInfo:
        """Make ``username`` a member of ``org`` with ``role`` (updates an existing member)."""
        data = self.org(org)
        check_role(role)
        if not isinstance(username, str) or not username or "/" in username:
            raise ValueError(f"invalid username {username!r}")
        if email is not None and not is_email(email):
            raise ValueError(f"invalid email {email!r}")
        ns = data.ns
        current = data.role(username)
        ns.members.add(username)
        info = data.info.get(username) or self._new_info(data, username, email, full_name, joined)
        if email is not None:
            info.email = email
        if full_name is not None:
            info.full_name = full_name
            info.given_name, _, info.family_name = full_name.partition(" ")
        if joined is not None:
            info.joined = joined
        info.active = True
        data.scim_disabled.pop(username, None)
        if current is None or current != role:
            self._apply_role(data, username, role)
        return info

    def set_role(self, org: str, username: str, role: str) -> None:
        """Change a member's role; the last owner cannot be demoted."""
        data = self.org(org)
        check_role(role)
        if data.role(username) is None:
            raise RuleError(404, f"{username} is not a member of the organization {org}")
        if role != "owner" and data.ns.owners == {username}:
            raise RuleError(
                400, f"{username} is the last owner of {org}: make another member owner first"
            )
        self._apply_role(data, username, role)
        data.info[username].modified = self.state.now()

    @staticmethod
    def _apply_role(data: OrgData, username: str, role: str) -> None:
        ns = data.ns
        if role == "owner":
            ns.owners.add(username)
        else:
            ns.owners.discard(username)
        if role == "editor":
            data.editors.add(username)
        else:
            data.editors.discard(username)

    def remove_member(self, org: str, username: str) -> None:
        """Remove a member from the org and all its groups; never the last owner."""
        data = self.org(org)
        if data.role(username) is None:
            raise RuleError(404, f"{username} is not a member of the organization {org}")
        if data.ns.owners == {username}:
            raise RuleError(400, f"{username} is the last owner of {org} and cannot be removed")
        data.ns.members.discard(username)
        data.ns.owners.discard(username)
        data.editors.discard(username)
        for group in data.groups.values():
            if username in group.members:
                group.members.remove(username)
        data.info.pop(username, None)

    # -------------------------------------------------------------- groups

    def add_group(
        self,
        org: str,
        name: str,
        *,
        description: str = "",
        members: Iterable[str] = (),
        created: float | None = None,
    ) -> Group:
        """Create a group in ``org`` (RuleError 400 if the name is taken)."""
        data = self.org(org)
        check_group_name(name)
        if not isinstance(description, str):
            raise RuleError(400, "description must be a string")
        if name in data.groups:
            raise RuleError(400, f"a group named {name} already exists in {org}")
        if isinstance(members, str):
            raise ValueError("members must be a sequence of usernames, not a string")
        wanted = list(members)
        for username in wanted:
            if data.role(username) is None:
                raise ValueError(f"{username!r} is not a member of {org}: add_org_member() first")
        group = Group(self.state.next_id(), self.state.new_uuid(), name, description)
        group.created = self.state.now() if created is None else created
        group.members.extend(dict.fromkeys(wanted))
        data.groups[name] = group
        return group

    def group(self, org: str, name: str) -> Group:
        """The group ``name`` of ``org`` (RuleError 404)."""
        group = self.org(org).groups.get(name)
        if group is None:
            raise RuleError(404, f"group {name} not found in the organization {org}")
        return group

    def update_group(
        self, org: str, name: str, *, new_name: str | None, description: str | None
    ) -> Group:
        """Rename and/or describe a group."""
        data = self.org(org)
        group = self.group(org, name)
        if new_name is not None and new_name != name:
            check_group_name(new_name)
            if new_name in data.groups:
                raise RuleError(400, f"a group named {new_name} already exists in {org}")
            data.groups = {(new_name if k == name else k): v for k, v in data.groups.items()}
            group.name = new_name
        if description is not None:
            group.description = description
        return group

    def delete_group(self, org: str, name: str) -> None:
        """Delete a group and its repository permissions."""
        data = self.org(org)
        group = self.group(org, name)
        del data.groups[name]
        for perms in data.repo_groups.values():
            perms.pop(group.id, None)

    def add_group_member(self, org: str, name: str, username: str) -> None:
        """Put an org member into a group (already there: nothing changes)."""
        data = self.org(org)
        group = self.group(org, name)
        if data.role(username) is None:
            raise RuleError(404, f"{username} is not a member of the organization {org}")
        if username not in group.members:
            group.members.append(username)

    def remove_group_member(self, org: str, name: str, username: str) -> None:
        """Take a user out of a group (RuleError 404 if not in it)."""
        group = self.group(org, name)
        if username not in group.members:
            raise RuleError(404, f"{username} is not a member of the group {name}")
        group.members.remove(username)

    def set_repo_group(self, org: str, repository: str, group_id: int, permission: str) -> Group:
        """Grant a group ``permission`` (read/write/admin) on one of the org's repositories."""
        data = self.org(org)
        if repository not in data.ns.repos:
            raise RuleError(404, f"repository {org}/{repository} not found")
        if permission not in REPO_PERMISSIONS:
            raise RuleError(
                400, f"permission must be one of {', '.join(REPO_PERMISSIONS)}, got {permission!r}"
            )
        group = data.group_by_id(group_id)
        if group is None:
            raise RuleError(400, f"group {group_id} is not a group of the organization {org}")
        data.repo_groups.setdefault(repository, {})[group.id] = permission
        return group

    # ------------------------------------------------------------- invites

    def add_invite(
        self,
        org: str,
        invitee: str,
        *,
        inviter: str,
        team: str = "",
        role: str = "member",
        created: float | None = None,
    ) -> Invite:
        """Invite a Docker ID or email to ``org`` (RuleError 409 when one is pending)."""
        data = self.org(org)
        check_role(role)
        if not isinstance(invitee, str) or not invitee or "/" in invitee:
            raise RuleError(400, f"invalid invitee {invitee!r}: pass a Docker ID or an email")
        if team and team not in data.groups:
            raise RuleError(404, f"group {team} not found in the organization {org}")
        if data.role(invitee) is not None:
            raise RuleError(409, f"{invitee} is already a member of {org}")
        if self.pending(org, invitee) is not None:
            raise RuleError(409, f"{invitee} already has a pending invite to {org}")
        invite = Invite(
            self.state.new_uuid(),
            org,
            invitee,
            inviter,
            team,
            role,
            self.state.now() if created is None else created,
        )
        self.invites[invite.id] = invite
        return invite

    def pending(self, org: str, invitee: str) -> Invite | None:
        """The pending invite of ``invitee`` to ``org``, if any."""
        low = invitee.lower()
        return next(
            (i for i in self.invites.values() if i.org == org and i.invitee.lower() == low), None
        )

    def invites_of(self, org: str) -> list[Invite]:
        """The pending invites of ``org``, oldest first."""
        return sorted(
            (i for i in self.invites.values() if i.org == org), key=lambda i: (i.created, i.id)
        )

    # -------------------------------------------------------------- tokens

    def add_token(
        self,
        org: str,
        *,
        label: str,
        description: str,
        resources: list[dict[str, Any]],
        created_by: str,
        expires_at: float | None,
        created: float | None = None,
        is_active: bool = True,
        secret: str | None = None,
        scopes: Sequence[str] | None = None,
    ) -> Pat:
        """Create an organization access token with its details."""
        self.org(org)
        token = self.state.add_token(
            org,
            kind="oat",
            label=label,
            scopes=tuple(scopes) if scopes is not None else flat_scopes(resources),
            secret=secret,
            is_active=is_active,
            expires_at=expires_at,
            created=created,
        )
        self.tokens[token.uuid] = TokenDetails(description, resources, created_by)
        return token

    def details(self, token: Pat) -> TokenDetails:
        """A token's OAT details (made up from its scopes for tokens seeded without them)."""
        found = self.tokens.get(token.uuid)
        if found is None:
            found = self.tokens[token.uuid] = TokenDetails(
                "", resources_for(token.owner, token.scopes), ""
            )
        return found

    # ---------------------------------------------------------------- SCIM

    def enable_scim(self, org: str, token: str) -> None:
        """Accept ``token`` as the SCIM bearer token of ``org``."""
        self.org(org)
        if not isinstance(token, str) or len(token) < 8:
            raise ValueError("a SCIM token must be a string of at least 8 characters")
        if self.scim_tokens.get(token, org) != org:
            raise ValueError("that SCIM token is already used by another organization")
        self.scim_tokens[token] = org

    def scim_users(self, org: str) -> list[MemberInfo]:
        """Every SCIM-visible user of ``org``: its members, then deactivated users."""
        data = self.org(org)
        users = [data.info[u] for u in data.members()]
        users.extend(sorted(data.scim_disabled.values(), key=lambda i: (i.joined, i.username)))
        return users

    def scim_user(self, org: str, scim_id: str) -> MemberInfo:
        """The SCIM user ``scim_id`` of ``org`` (RuleError 404)."""
        found = next((i for i in self.scim_users(org) if i.scim_id == scim_id), None)
        if found is None:
            raise RuleError(404, f"User {scim_id} not found")
        return found

    def scim_create(
        self, org: str, email: str, given: str | None, family: str | None
    ) -> MemberInfo:
        """Provision a user by email as a member (RuleError 409 if the email is taken)."""
        data = self.org(org)
        low = email.lower()
        if any(i.email.lower() == low for i in self.scim_users(org)):
            raise RuleError(409, f"a user with userName {email} already exists")
        base = re.sub(r"[^a-z0-9]", "", email.partition("@")[0].lower()) or "user"
        username, n = base, 1
        while username in data.ns.members or username in data.scim_disabled:
            n += 1
            username = f"{base}{n}"
        full = " ".join(p for p in (given, family) if p)
        info = self.add_member(org, username, email=email, full_name=full or username)
        info.given_name = given or ""
        info.family_name = family or ""
        return info

    def scim_update(
        self, org: str, info: MemberInfo, given: str | None, family: str | None, active: bool
    ) -> MemberInfo:
        """Rename and (de)activate a SCIM user: deactivating removes the member."""
        data = self.org(org)
        if given is not None:
            info.given_name = given
        if family is not None:
            info.family_name = family
        if given is not None or family is not None:
            info.full_name = " ".join(p for p in (info.given_name, info.family_name) if p)
        if not active and info.active:
            self.remove_member(org, info.username)
            info.active = False
            data.scim_disabled[info.username] = info
        elif active and not info.active:
            data.scim_disabled.pop(info.username, None)
            data.ns.members.add(info.username)
            data.info[info.username] = info
            info.active = True
        info.modified = self.state.now()
        return info
