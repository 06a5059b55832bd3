"""Models of the organization access token (OAT) endpoints (``/v2/orgs/{name}/access-tokens``)."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import OpenStrEnum

__all__ = [
    "CreateOrgAccessTokenRequest",
    "OrgAccessToken",
    "OrgAccessTokenResource",
    "OrgTokenResourceType",
    "UpdateOrgAccessTokenRequest",
]


class OrgTokenResourceType(OpenStrEnum):
    """What an organization access token's resource entry points at."""

    TYPE_REPO = "TYPE_REPO"
    TYPE_ORG = "TYPE_ORG"


@attrs.frozen(kw_only=True)
class OrgAccessTokenResource:
    """One resource an organization access token may use, with its scopes.

    Attributes:
        type: ``TYPE_REPO`` (a repository) or ``TYPE_ORG`` (the organization).
        path: the resource, e.g. ``"myorg/myrepo"``; ``"*/*/public"`` means every public
            repository.
        scopes: what the token may do there, e.g. ``["repo-pull"]``.
    """

    type: OrgTokenResourceType = attrs.field(converter=OrgTokenResourceType)
    path: str
    scopes: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class OrgAccessToken:
    """An organization access token, as Hub describes it.

    ``token`` holds the secret (``dckr_oat_…``) only in the answer to ``create``; it is
    left out of ``repr``. ``resources`` is present in the answers to get, create and
    update, not in the list.

    Attributes:
        id: the token's id (a UUID).
        label: its friendly name.
        description: its description, when Hub sends one.
        created_by: the user who created it.
        is_active: whether it can be used.
        created_at: when it was created.
        expires_at: when it stops working, ``None`` if never.
        last_used_at: when it was last used, ``None`` if never.
        token: the secret (create only).
        resources: the resources and scopes it grants.
    """

    id: str
    label: str | None = None
    description: str | None = None
    created_by: str | None = None
    is_active: bool | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    token: str | None = attrs.field(default=None, repr=False)
    resources: list[OrgAccessTokenResource] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class CreateOrgAccessTokenRequest:
    """The request body that creates an organization access token.

    Attributes:
        label: a friendly name.
        description: what the token is for.
        resources: the resources and scopes to grant.
        expires_at: when it should stop working; ``None`` for never.
    """

    label: str
    description: str | None = None
    resources: list[OrgAccessTokenResource] | None = None
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class UpdateOrgAccessTokenRequest:
    """The request body that changes an organization access token; ``None`` keeps a field.

    Attributes:
        label: a new friendly name.
        description: a new description.
        resources: a new set of resources and scopes (replaces the old one).
        is_active: ``True`` to enable, ``False`` to disable.
    """

    label: str | None = None
    description: str | None = None
    resources: list[OrgAccessTokenResource] | None = None
    is_active: bool | None = None
