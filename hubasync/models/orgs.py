"""Models of the organization endpoints: settings and members."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias, get_args

import attrs

from ._base import OpenStrEnum
from .groups import AccountProfile

__all__ = [
    "MEMBER_ROLES",
    "MEMBER_TYPES",
    "MemberExportRow",
    "MemberRole",
    "MemberType",
    "OrgMember",
    "OrgRole",
    "OrgSettings",
    "RestrictedImages",
    "UpdateMemberRoleRequest",
]


@attrs.frozen(kw_only=True)
class RestrictedImages:
    """Which images the members of an organization may use (business subscriptions).

    Hub requires all three fields when the settings are updated.

    Attributes:
        enabled: whether image use is restricted for the organization's users.
        allow_official_images: allow Docker Official Images while restricted.
        allow_verified_publishers: allow Verified Publisher images while restricted.
    """

    enabled: bool | None = None
    allow_official_images: bool | None = None
    allow_verified_publishers: bool | None = None


@attrs.frozen(kw_only=True)
class OrgSettings:
    """An organization's settings (also the body that updates them).

    Attributes:
        restricted_images: the image restriction policy.
    """

    restricted_images: RestrictedImages | None = None


#: A role in an organization, as requests spell it (``update_member_role``, filters, invites).
MemberRole: TypeAlias = Literal["owner", "editor", "member"]
MEMBER_ROLES: tuple[MemberRole, ...] = get_args(MemberRole)
#: Which rows the organization member list returns.
MemberType: TypeAlias = Literal["all", "invitee", "member"]
MEMBER_TYPES: tuple[MemberType, ...] = get_args(MemberType)


class OrgRole(OpenStrEnum):
    """A member's role in an organization, as Hub's answers spell it.

    The spec's answer enum lists ``Owner``, ``Member`` and ``Invitee``; the role a member is
    given (``owner``, ``editor``, ``member``) comes back capitalised, ``Editor`` included.
    """

    OWNER = "Owner"
    EDITOR = "Editor"
    MEMBER = "Member"
    INVITEE = "Invitee"


@attrs.frozen(kw_only=True)
class OrgMember(AccountProfile):
    """A member (or, with ``invites=True``, an invitee) of an organization.

    Attributes:
        username: the Docker ID (``None`` for an invitee without an account).
        role: the member's role (``Owner``, ``Editor``, ``Member``; ``Invitee`` for invites).
        groups: the names of the groups (teams) the member is in.
        is_guest: whether the e-mail is outside the organization's verified domains.
        primary_email: the primary address (deprecated by Hub).
        last_logged_in_at: last login (organizations with insights only).
        last_seen_at: last activity (organizations with insights only).
        last_desktop_version: last Docker Desktop version used (insights only).
    """

    username: str | None = None
    role: OrgRole | None = None
    groups: list[str] = attrs.field(factory=list)
    is_guest: bool | None = None
    primary_email: str | None = None
    last_logged_in_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_desktop_version: str | None = None


@attrs.frozen(kw_only=True)
class MemberExportRow:
    """One row of the organization's member export (CSV).

    Attributes:
        name: first and last name.
        username: the Docker ID (empty for an invitee without an account).
        email: the e-mail address.
        type: ``User`` for a member, ``Invitee`` for a pending invite.
        role: ``Owner``, ``Editor`` or ``Member`` (the spec calls the column ``Permission``).
        teams: the teams the member is in.
        date_joined: when the member joined or was invited, as Hub wrote it
            (e.g. ``2020-01-01 15:00:51.193355 +0000 UTC``).
    """

    name: str = ""
    username: str = ""
    email: str = ""
    type: str = ""
    role: str = ""
    teams: list[str] = attrs.field(factory=list)
    date_joined: str = ""


@attrs.frozen(kw_only=True)
class UpdateMemberRoleRequest:
    """The body that changes a member's role.

    Attributes:
        role: ``owner``, ``editor`` or ``member``.
    """

    role: str
