"""FakeHub's public methods to seed and inspect organization administration state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ._clock import to_epoch
from ._org_model import check_resources
from ._org_state import OrgAdmin
from ._state import HubState, IssuedToken, Pat

__all__ = ["OrgSeeding", "issued"]


def issued(token: Pat) -> IssuedToken:
    """The public view of a token FakeHub made."""
    return IssuedToken(
        uuid=token.uuid,
        secret=token.secret,
        owner=token.owner,
        label=token.label,
        scopes=token.scopes,
    )


class OrgSeeding:
    """Seeding methods for members, groups, invites, organization tokens and SCIM."""

    _state: HubState
    _admin: OrgAdmin

    def add_org_member(
        self,
        org: str,
        username: str,
        *,
        role: str = "member",
        email: str | None = None,
        full_name: str | None = None,
        joined: datetime | float | None = None,
    ) -> None:
        """Make ``username`` a member of the organization ``org`` with ``role``
        (``owner``, ``editor`` or ``member``); calling it again updates the member.

        The user need not exist as a FakeHub user (it then cannot log in). ``email``
        defaults to ``<username>@example.com``; ``joined`` to now.
        """
        self._admin.add_member(
            org, username, role=role, email=email, full_name=full_name, joined=to_epoch(joined)
        )

    def add_group(
        self,
        org: str,
        name: str,
        *,
        members: Iterable[str] = (),
        description: str = "",
        created: datetime | float | None = None,
    ) -> int:
        """Create a group (team) in ``org`` with existing members; returns its numeric id."""
        return self._admin.add_group(
            org, name, description=description, members=members, created=to_epoch(created)
        ).id

    def grant_group(self, org: str, repository: str, group: str, permission: str) -> None:
        """Give a group ``read``, ``write`` or ``admin`` on one of ``org``'s repositories."""
        self._admin.set_repo_group(org, repository, self._admin.group(org, group).id, permission)

    def add_invite(
        self,
        org: str,
        invitee: str,
        *,
        team: str = "",
        role: str = "member",
        inviter: str | None = None,
        created: datetime | float | None = None,
    ) -> str:
        """Invite a Docker ID or email to ``org`` (pending until cancelled); returns its id.

        ``created`` backdates the invite (e.g. to plant an old one); ``inviter`` defaults
        to the organization's first owner.
        """
        ns = self._state.namespace(org)
        return self._admin.add_invite(
            org,
            invitee,
            inviter=inviter or self._state.default_actor(ns),
            team=team,
            role=role,
            created=to_epoch(created),
        ).id

    def add_org_token(
        self,
        org: str,
        *,
        label: str = "fakehub",
        scopes: Sequence[str] = ("repo:admin",),
        secret: str | None = None,
        is_active: bool = True,
        expires_at: datetime | float | None = None,
        last_used_at: datetime | float | None = None,
        created_at: datetime | float | None = None,
        description: str = "",
        resources: Sequence[dict[str, Any]] | None = None,
        created_by: str | None = None,
    ) -> IssuedToken:
        """Give an organization an access token (``dckr_oat_…``): it logs in as the org
        (identifier = org name, through ``/v2/auth/token`` or the login endpoint).

        ``scopes`` are FakeHub's repository levels (``repo:read`` … ``repo:admin``) the
        token's JWTs carry; ``resources`` (Hub's ``[{type, path, scopes}]``) default to the
        org's repositories with pull (and push, for write/admin scopes).
        ``last_used_at`` None means never used.
        """
        ns = self._state.namespace(org)
        if not ns.org:
            raise ValueError(f"{org!r} is a user namespace: organization tokens need an org")
        if not isinstance(label, str) or not 1 <= len(label) <= 100:
            raise ValueError(f"a token label must be 1 to 100 characters, got {label!r}")
        found = check_resources(list(resources)) if resources is not None else None
        token = self._admin.add_token(
            org,
            label=label,
            description=description,
            resources=found if found is not None else [],
            created_by=created_by or self._state.default_actor(ns),
            expires_at=to_epoch(expires_at),
            created=to_epoch(created_at),
            is_active=is_active,
            secret=secret,
            scopes=scopes,
        )
        if found is None:
            self._admin.tokens.pop(token.uuid)  # details made up from the scopes on demand
        token.last_used = to_epoch(last_used_at)
        return issued(token)

    def enable_scim(self, org: str, token: str | None = None) -> str:
        """Turn SCIM on for ``org``; returns its SCIM bearer token (made up when None).

        SCIM calls authenticate with ``Authorization: Bearer <token>`` (not a Hub JWT);
        SCIM users are the organization's members.
        """
        secret = token if token is not None else self._state.new_secret("scim_")
        self._admin.enable_scim(org, secret)
        return secret

    # ---------------------------------------------------------- inspection

    def org_members(self, org: str) -> dict[str, str]:
        """An organization's members: username → role."""
        data = self._admin.org(org)
        return {u: data.role(u) or "member" for u in data.members()}

    def org_groups(self, org: str) -> dict[str, list[str]]:
        """An organization's groups: name → member usernames."""
        return {g.name: list(g.members) for g in self._admin.org(org).groups.values()}

    def org_invites(self, org: str) -> list[str]:
        """The invitees with a pending invite to ``org``, oldest first."""
        return [i.invitee for i in self._admin.invites_of(org)]

    def org_tokens(self, org: str) -> list[IssuedToken]:
        """An organization's access tokens, newest first."""
        return [issued(t) for t in self._state.tokens_of(org, "oat")]

    def repository_groups(self, org: str, repository: str) -> dict[str, str]:
        """The groups with a permission on one of ``org``'s repositories: name → permission."""
        data = self._admin.org(org)
        perms = data.repo_groups.get(repository, {})
        return {g.name: perms[g.id] for g in data.groups.values() if g.id in perms}
