"""Models of Docker Hub's SCIM 2.0 endpoints (``/v2/scim/2.0/…``).

Attribute names are SCIM's JSON names (``userName``, ``givenName``…), as everywhere in
``hubasync.models``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

import attrs

__all__ = [
    "SCIM_USER_SCHEMA",
    "ScimSortOrder",
    "ScimAuthenticationScheme",
    "ScimBulkSupport",
    "ScimCreateUserRequest",
    "ScimEmail",
    "ScimFilterSupport",
    "ScimGroup",
    "ScimMeta",
    "ScimName",
    "ScimResourceType",
    "ScimSchema",
    "ScimSchemaAttribute",
    "ScimServiceProviderConfig",
    "ScimSupport",
    "ScimUpdateUserRequest",
    "ScimUser",
]

#: The schema URN of a SCIM user.
SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
#: ``scim.users(sort_order=...)``.
ScimSortOrder: TypeAlias = Literal["ascending", "descending"]


@attrs.frozen(kw_only=True)
class ScimName:
    """A user's name.

    Attributes:
        givenName: the first name.
        familyName: the last name.
    """

    givenName: str | None = None
    familyName: str | None = None


@attrs.frozen(kw_only=True)
class ScimEmail:
    """One of a user's e-mail addresses.

    Attributes:
        value: the address.
        display: how it is shown.
        primary: whether it is the primary one.
    """

    value: str | None = None
    display: str | None = None
    primary: bool | None = None


@attrs.frozen(kw_only=True)
class ScimGroup:
    """A group a SCIM user belongs to.

    Attributes:
        value: the group's id.
        display: the group's name.
    """

    value: str | None = None
    display: str | None = None


@attrs.frozen(kw_only=True)
class ScimMeta:
    """Resource metadata.

    Attributes:
        resourceType: e.g. ``"User"``.
        location: the resource's URL.
        created: when it was created.
        lastModified: when it last changed.
    """

    resourceType: str | None = None
    location: str | None = None
    created: datetime | None = None
    lastModified: datetime | None = None


@attrs.frozen(kw_only=True)
class ScimUser:
    """A user provisioned through SCIM.

    Attributes:
        id: the user's SCIM id (a UUID).
        schemas: the schema URNs of the resource.
        userName: the user's e-mail address.
        name: the user's name.
        displayName: the Docker ID.
        active: whether the user is active (``False``: deactivated).
        emails: the user's addresses.
        groups: the groups the user is in.
        meta: resource metadata.
    """

    id: str
    schemas: list[str] = attrs.field(factory=list)
    userName: str | None = None
    name: ScimName | None = None
    displayName: str | None = None
    active: bool | None = None
    emails: list[ScimEmail] = attrs.field(factory=list)
    groups: list[ScimGroup] = attrs.field(factory=list)
    meta: ScimMeta | None = None


@attrs.frozen(kw_only=True)
class ScimSupport:
    """Whether a SCIM feature is supported.

    Attributes:
        supported: yes or no.
    """

    supported: bool | None = None


@attrs.frozen(kw_only=True)
class ScimBulkSupport(ScimSupport):
    """SCIM bulk support.

    Attributes:
        maxOperations: most operations in one bulk request.
        maxPayloadSize: largest bulk payload in bytes.
    """

    maxOperations: int | None = None
    maxPayloadSize: int | None = None


@attrs.frozen(kw_only=True)
class ScimFilterSupport(ScimSupport):
    """SCIM filter support.

    Attributes:
        maxResults: most results a filtered list returns.
    """

    maxResults: int | None = None


@attrs.frozen(kw_only=True)
class ScimAuthenticationScheme:
    """An authentication scheme the SCIM service accepts.

    Attributes:
        name: e.g. ``"OAuth 2.0 Bearer Token"``.
        description: what it is.
        specUri: its specification.
        documentationUri: its documentation.
        type: e.g. ``"oauthbearertoken"``.
        primary: whether it is the preferred one.
    """

    name: str | None = None
    description: str | None = None
    specUri: str | None = None
    documentationUri: str | None = None
    type: str | None = None
    primary: bool | None = None


@attrs.frozen(kw_only=True)
class ScimServiceProviderConfig:
    """What Docker Hub's SCIM service supports.

    ``authenticationSchemes`` is a list (RFC 7643); the spec declares one object, which is
    read as a list of one.

    Attributes:
        schemas: the schema URNs.
        documentationUri: the service's documentation.
        patch: PATCH support.
        bulk: bulk support.
        filter: filter support.
        changePassword: password change support.
        sort: sort support.
        etag: ETag support.
        authenticationSchemes: the accepted authentication schemes.
        meta: resource metadata.
    """

    schemas: list[str] = attrs.field(factory=list)
    documentationUri: str | None = None
    patch: ScimSupport | None = None
    bulk: ScimBulkSupport | None = None
    filter: ScimFilterSupport | None = None
    changePassword: ScimSupport | None = None
    sort: ScimSupport | None = None
    etag: ScimSupport | None = None
    authenticationSchemes: list[ScimAuthenticationScheme] = attrs.field(factory=list)
    meta: ScimMeta | None = None


@attrs.frozen(kw_only=True)
class ScimResourceType:
    """A resource type the SCIM service serves (Docker Hub: ``User``).

    Attributes:
        id: its id.
        schemas: the schema URNs of this description.
        name: its name.
        description: what it is.
        endpoint: its path, e.g. ``"/Users"``.
        schema: the URN of its schema.
        meta: resource metadata.
    """

    id: str | None = None
    schemas: list[str] = attrs.field(factory=list)
    name: str | None = None
    description: str | None = None
    endpoint: str | None = None
    schema: str | None = None
    meta: ScimMeta | None = None


@attrs.frozen(kw_only=True)
class ScimSchemaAttribute:
    """One attribute of a SCIM schema.

    Attributes:
        name: the attribute's name, e.g. ``"userName"``.
        type: ``string``, ``boolean``, ``complex``…
        multiValued: whether it holds a list.
        description: what it is.
        required: whether it must be present.
        caseExact: whether comparisons are case-sensitive.
        mutability: e.g. ``readWrite``.
        returned: e.g. ``default``.
        uniqueness: e.g. ``server``.
        subAttributes: the attributes of a complex attribute.
    """

    name: str | None = None
    type: str | None = None
    multiValued: bool | None = None
    description: str | None = None
    required: bool | None = None
    caseExact: bool | None = None
    mutability: str | None = None
    returned: str | None = None
    uniqueness: str | None = None
    subAttributes: list[ScimSchemaAttribute] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ScimSchema:
    """A SCIM schema (Docker Hub: the core User schema).

    Attributes:
        id: its URN.
        schemas: the schema URNs of this description.
        name: its name.
        description: what it describes.
        attributes: its attributes.
        meta: resource metadata.
    """

    id: str | None = None
    schemas: list[str] = attrs.field(factory=list)
    name: str | None = None
    description: str | None = None
    attributes: list[ScimSchemaAttribute] = attrs.field(factory=list)
    meta: ScimMeta | None = None


@attrs.frozen(kw_only=True)
class ScimCreateUserRequest:
    """The body that provisions a user.

    Attributes:
        schemas: ``[SCIM_USER_SCHEMA]``.
        userName: the user's e-mail address.
        name: the user's name.
    """

    schemas: list[str] = attrs.field(factory=lambda: [SCIM_USER_SCHEMA])
    userName: str
    name: ScimName | None = None


@attrs.frozen(kw_only=True)
class ScimUpdateUserRequest:
    """The body that renames, activates or deactivates a user.

    ``enabled`` is always sent: Hub reads a missing one as ``False`` and deactivates the user.

    Attributes:
        schemas: ``[SCIM_USER_SCHEMA]``.
        enabled: ``True`` keeps or makes the user active, ``False`` deactivates.
        name: a new name (``None`` keeps it).
    """

    schemas: list[str] = attrs.field(factory=lambda: [SCIM_USER_SCHEMA])
    enabled: bool
    name: ScimName | None = None
