"""Models of the organization group (team) endpoints (``/v2/orgs/{org}/groups``)."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import OpenStrEnum

__all__ = [
    "AccountProfile",
    "AccountType",
    "AddGroupMemberRequest",
    "GroupMember",
    "GroupRequest",
    "OrgGroup",
]


class AccountType(OpenStrEnum):
    """Whether a Hub account is a user or an organization."""

    USER = "User"
    ORG = "Org"


@attrs.frozen(kw_only=True)
class OrgGroup:
    """A group (a team, in Hub's UI) of an organization.

    Attributes:
        id: the group's numeric id (what ``repositories.add_group`` takes).
        uuid: the group's UUID.
        name: its name, e.g. ``"developers"``.
        description: its description.
        member_count: how many members it has.
    """

    id: int | None = None
    uuid: str | None = None
    name: str
    description: str | None = None
    member_count: int | None = None


@attrs.frozen(kw_only=True)
class AccountProfile:
    """The profile fields Hub sends for a user in member lists (group and organization).

    Attributes:
        id: the user's id (a UUID without dashes).
        full_name: the user's name.
        email: the address (visible to owners only).
        company: the company in the profile.
        location: the location in the profile.
        date_joined: when the account was created.
        gravatar_email: the Gravatar address.
        gravatar_url: the Gravatar picture.
        profile_url: the profile link.
        type: ``User`` or ``Org``.
    """

    id: str | None = None
    full_name: str | None = None
    email: str | None = None
    company: str | None = None
    location: str | None = None
    date_joined: datetime | None = None
    gravatar_email: str | None = None
    gravatar_url: str | None = None
    profile_url: str | None = None
    type: AccountType | None = None


@attrs.frozen(kw_only=True)
class GroupMember(AccountProfile):
    """A user in a group (the profile fields of :class:`AccountProfile`, plus the name).

    Attributes:
        username: the Docker ID.
    """

    username: str


@attrs.frozen(kw_only=True)
class GroupRequest:
    """The body that creates or changes a group; ``None`` leaves a field out.

    Attributes:
        name: the group's name.
        description: its description.
    """

    name: str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class AddGroupMemberRequest:
    """The body that adds a member to a group.

    Attributes:
        member: the member's Docker ID (or e-mail address).
    """

    member: str
