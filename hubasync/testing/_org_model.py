"""The objects and rules of FakeHub's organization administration: member profiles, groups
(teams), invites, organization access token details, and the checks of their input.

Membership itself stays where the rest of FakeHub reads it, on the namespace
(``Namespace.members`` / ``Namespace.owners``); this module adds what only the org
administration endpoints need and enforces Hub's role rules:

- roles are ``owner``, ``editor`` and ``member``; owners are ``Namespace.owners``, editors
  are kept here, everyone else in ``Namespace.members`` is a member;
- only owners change roles and remove members (the handlers check the caller);
- the last owner of an organization can be neither demoted nor removed.

Nothing here does I/O. Rule violations raise :class:`RuleError` (a ``ValueError`` that
carries the HTTP status a handler answers with).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ._state import Namespace

__all__ = [
    "INVITE_BULK_LIMIT",
    "ORG_SCOPES",
    "REPO_PERMISSIONS",
    "ROLES",
    "Group",
    "Invite",
    "MemberInfo",
    "TokenDetails",
    "check_group_name",
    "check_resources",
    "check_role",
    "is_email",
    "resources_for",
    "OrgData",
    "RuleError",
    "flat_scopes",
]

ROLES = ("owner", "editor", "member")
REPO_PERMISSIONS = ("read", "write", "admin")
RESOURCE_TYPES = ("TYPE_REPO", "TYPE_ORG")
ORG_SCOPES = ("scope-image-pull", "scope-image-push", "repo-pull", "repo-push")
INVITE_BULK_LIMIT = 1000
"""The most invitees one bulk invite takes (Hub's documented CSV/bulk limit)."""

_GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_EMAIL_RE = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
_PULL = frozenset({"scope-image-pull", "repo-pull"})
_PUSH = frozenset({"scope-image-push", "repo-push"})


class RuleError(ValueError):
    """A request Hub refuses (a role rule, a conflict, a missing object) with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MemberInfo:
    """What the org endpoints show about a member beyond the username (internal)."""

    __slots__ = (
        "active",
        "email",
        "family_name",
        "full_name",
        "given_name",
        "joined",
        "modified",
        "scim_id",
        "username",
    )

    def __init__(
        self, username: str, email: str, full_name: str, joined: float, scim_id: str
    ) -> None:
        self.username = username
        self.email = email
        self.full_name = full_name
        given, _, family = full_name.partition(" ")
        self.given_name = given
        self.family_name = family
        self.joined = joined
        self.modified = joined
        self.scim_id = scim_id
        self.active = True


class Group:
    """An organization group (Hub's UI calls it a team) (internal)."""

    __slots__ = ("created", "description", "id", "members", "name", "uuid")

    def __init__(self, group_id: int, group_uuid: str, name: str, description: str) -> None:
        self.id = group_id
        self.uuid = group_uuid
        self.name = name
        self.description = description
        self.members: list[str] = []
        self.created = 0.0


class Invite:
    """A pending invitation to join an organization (internal)."""

    __slots__ = ("created", "id", "invitee", "inviter", "org", "resent", "role", "team")

    def __init__(
        self,
        invite_id: str,
        org: str,
        invitee: str,
        inviter: str,
        team: str,
        role: str,
        created: float,
    ) -> None:
        self.id = invite_id
        self.org = org
        self.invitee = invitee
        self.inviter = inviter
        self.team = team
        self.role = role
        self.created = created
        self.resent = 0


class TokenDetails:
    """The organization access token fields a PAT does not have (internal)."""

    __slots__ = ("created_by", "description", "resources")

    def __init__(self, description: str, resources: list[dict[str, Any]], created_by: str):
        self.description = description
        self.resources = resources
        self.created_by = created_by


class OrgData:
    """One organization's administration state (internal)."""

    __slots__ = ("editors", "groups", "info", "ns", "repo_groups", "scim_disabled")

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.editors: set[str] = set()
        self.info: dict[str, MemberInfo] = {}
        self.groups: dict[str, Group] = {}
        self.repo_groups: dict[str, dict[int, str]] = {}  # repository -> group id -> perm
        self.scim_disabled: dict[str, MemberInfo] = {}  # username -> deactivated SCIM user

    def role(self, username: str) -> str | None:
        """``owner``, ``editor``, ``member``, or None for a non-member."""
        if username in self.ns.owners:
            return "owner"
        if username not in self.ns.members:
            return None
        return "editor" if username in self.editors else "member"

    def members(self) -> list[str]:
        """Every member's username, in the order they joined (then by name)."""
        return sorted(self.ns.members, key=lambda u: (self._joined(u), u))

    def _joined(self, username: str) -> float:
        info = self.info.get(username)
        return info.joined if info is not None else 0.0

    def groups_of(self, username: str) -> list[str]:
        """The names of the groups ``username`` belongs to, in creation order."""
        return [g.name for g in self.groups.values() if username in g.members]

    def group_by_id(self, group_id: int) -> Group | None:
        """The group with that numeric id, if it belongs to this organization."""
        return next((g for g in self.groups.values() if g.id == group_id), None)


def flat_scopes(resources: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The repository access an OAT's resources grant, as FakeHub's flat token scope."""
    scopes = {s for r in resources if r.get("type") == "TYPE_REPO" for s in r.get("scopes", ())}
    if scopes & _PUSH:
        return ("repo:write",)
    if scopes & _PULL:
        return ("repo:read",)
    return ("repo:public_read",)


def resources_for(org: str, scopes: Sequence[str]) -> list[dict[str, Any]]:
    """The resource list shown for a token seeded with flat ``repo:*`` scopes."""
    granted = ["scope-image-pull"]
    if any(s in ("repo:write", "repo:admin") for s in scopes):
        granted.append("scope-image-push")
    if list(scopes) == ["repo:public_read"]:
        return [{"type": "TYPE_REPO", "path": "*/*/public", "scopes": ["scope-image-pull"]}]
    return [{"type": "TYPE_REPO", "path": f"{org}/*", "scopes": granted}]


def check_resources(value: Any) -> list[dict[str, Any]]:
    """Validate an OAT ``resources`` list (RuleError 400 naming what is wrong)."""
    if not isinstance(value, list):
        raise RuleError(400, "resources must be a list of {type, path, scopes}")
    out: list[dict[str, Any]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or item.get("type") not in RESOURCE_TYPES
            or not isinstance(item.get("path"), str)
            or not item["path"]
            or not isinstance(item.get("scopes"), list)
            or not item["scopes"]
            or not all(isinstance(s, str) and s for s in item["scopes"])
        ):
            raise RuleError(
                400,
                "each resource needs type (TYPE_REPO or TYPE_ORG), a non-empty path and a "
                "non-empty list of scopes",
            )
        out.append({"type": item["type"], "path": item["path"], "scopes": list(item["scopes"])})
    return out


def check_role(role: Any) -> str:
    """A valid role, or RuleError 400 listing the roles."""
    if role not in ROLES:
        raise RuleError(400, f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return str(role)


def check_group_name(name: Any) -> str:
    """A valid group name, or RuleError 400."""
    if not isinstance(name, str) or not _GROUP_NAME_RE.match(name):
        raise RuleError(
            400,
            f"invalid group name {name!r}: 1 to 100 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
        )
    return name


def is_email(text: str) -> bool:
    """Whether ``text`` looks like an email address (not a Docker ID)."""
    return bool(_EMAIL_RE.match(text))
