"""Models of the repository and tag endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias, get_args

import attrs

from ._base import OpenStrEnum
from .images import ImageStatus

__all__ = [
    "GROUP_PERMISSIONS",
    "REPOSITORY_ORDERINGS",
    "Category",
    "CreateRepositoryRequest",
    "GroupPermission",
    "ImmutableTagsRequest",
    "ImmutableTagsSettings",
    "ImmutableTagsVerifyRequest",
    "ImmutableTagsVerifyResult",
    "Repository",
    "RepositoryOrdering",
    "RepositoryGroup",
    "RepositoryGroupRequest",
    "RepositoryPermission",
    "RepositoryPermissions",
    "Tag",
    "TagImage",
    "TagLayer",
    "TagStatus",
    "UpdateRepositoryRequest",
]


#: ``repositories.list(ordering=...)``: the orderings Hub accepts (``-`` for descending).
RepositoryOrdering: TypeAlias = Literal[
    "name", "-name", "last_updated", "-last_updated", "pull_count", "-pull_count"
]
REPOSITORY_ORDERINGS: tuple[RepositoryOrdering, ...] = get_args(RepositoryOrdering)
#: ``repositories.add_group(permission=...)``: a group's permission on a repository.
GroupPermission: TypeAlias = Literal["read", "write", "admin"]
GROUP_PERMISSIONS: tuple[GroupPermission, ...] = get_args(GroupPermission)


class TagStatus(OpenStrEnum):
    """Whether a tag was pushed or pulled in the past month."""

    ACTIVE = "active"
    INACTIVE = "inactive"


@attrs.frozen(kw_only=True)
class Category:
    """A category a repository is filed under.

    Attributes:
        name: the human-readable name, e.g. ``"Databases"``.
        slug: the URL-friendly id, e.g. ``"databases"``.
    """

    name: str
    slug: str


@attrs.frozen(kw_only=True)
class RepositoryPermissions:
    """What the caller may do with a repository.

    Attributes:
        read: may pull and read.
        write: may push.
        admin: may administer.
    """

    read: bool
    write: bool
    admin: bool


@attrs.frozen(kw_only=True)
class ImmutableTagsSettings:
    """A repository's immutable tags configuration.

    Attributes:
        enabled: whether immutable tags are enforced.
        rules: the tag patterns that are immutable.
    """

    enabled: bool
    rules: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class Repository:
    """A repository: the answer of the repository get, list and update endpoints.

    The list, get and (seed) update endpoints each send a different subset of these
    fields; everything but ``name`` and ``namespace`` may be missing.

    Attributes:
        name: the repository's name, e.g. ``"hello-world"``.
        namespace: the owning organization or user, e.g. ``"docker"``.
        user: the owner's username.
        repository_type: ``"image"``, ``"plugin"`` or ``None``.
        status: Hub's status code for the repository.
        status_description: the status in words, e.g. ``"active"``.
        description: the short description shown below the name.
        is_private: whether the repository is private.
        is_automated: whether it has automated builds.
        star_count: how many users starred it.
        pull_count: how many pulls it had.
        last_updated: when it was last updated.
        last_modified: when it was last modified.
        date_registered: when it was created.
        collaborator_count: how many collaborators it has.
        affiliation: the caller's affiliation with it (empty string for none).
        hub_user: Hub user information.
        has_starred: whether the caller starred it.
        full_description: the readme (Markdown).
        permissions: what the caller may do with it.
        media_types: the media types of its content (entries may be ``None``).
        content_types: its content types, e.g. ``["image"]``.
        categories: the categories it is filed under.
        immutable_tags_settings: its immutable tags configuration.
        storage_size: bytes of storage it uses.
        source: where it was created from.
    """

    name: str
    namespace: str
    user: str | None = None
    repository_type: str | None = None
    status: int | None = None
    status_description: str | None = None
    description: str | None = None
    is_private: bool | None = None
    is_automated: bool | None = None
    star_count: int | None = None
    pull_count: int | None = None
    last_updated: datetime | None = None
    last_modified: datetime | None = None
    date_registered: datetime | None = None
    collaborator_count: int | None = None
    affiliation: str | None = None
    hub_user: str | None = None
    has_starred: bool | None = None
    full_description: str | None = None
    permissions: RepositoryPermissions | None = None
    media_types: list[str | None] = attrs.field(factory=list)
    content_types: list[str] = attrs.field(factory=list)
    categories: list[Category] = attrs.field(factory=list)
    immutable_tags_settings: ImmutableTagsSettings | None = None
    storage_size: int | None = None
    source: str | None = None


@attrs.frozen(kw_only=True)
class UpdateRepositoryRequest:
    """The request body that updates a repository; ``None`` fields are left unchanged.

    Attributes:
        description: the short description shown below the name.
        full_description: the readme (Markdown).
        is_private: the visibility.
    """

    description: str | None = None
    full_description: str | None = None
    is_private: bool | None = None


@attrs.frozen(kw_only=True)
class TagLayer:
    """One layer of a tagged image.

    Attributes:
        digest: the layer's digest.
        size: the layer's size in bytes.
        instruction: the Dockerfile instruction that made it.
    """

    digest: str | None = None
    size: int | None = None
    instruction: str | None = None


@attrs.frozen(kw_only=True)
class TagImage:
    """One platform image a tag points at.

    Attributes:
        architecture: the CPU architecture, e.g. ``"amd64"``.
        features: CPU features.
        variant: the CPU variant, e.g. ``"v8"``.
        digest: the image's digest.
        layers: its layers (when Hub includes them).
        os: the operating system, e.g. ``"linux"``.
        os_features: OS features.
        os_version: the OS version.
        size: the image's size in bytes.
        status: active or inactive.
        last_pulled: when it was last pulled.
        last_pushed: when it was last pushed.
    """

    architecture: str | None = None
    features: str | None = None
    variant: str | None = None
    digest: str | None = None
    layers: list[TagLayer] = attrs.field(factory=list)
    os: str | None = None
    os_features: str | None = None
    os_version: str | None = None
    size: int | None = None
    status: ImageStatus | None = None
    last_pulled: datetime | None = None
    last_pushed: datetime | None = None


@attrs.frozen(kw_only=True)
class Tag:
    """A tag of a repository.

    The spec describes ``images`` as one object while Hub sends a list; both are accepted
    and ``images`` is always a list. Hub sends ``tag_status``, the spec names it ``status``;
    both are kept. ``v2`` is a string in the spec and a boolean from Hub.

    Attributes:
        name: the tag, e.g. ``"latest"``.
        id: the tag's id.
        images: the platform images the tag points at.
        creator: id of the user who pushed the tag.
        last_updated: when the tag was last updated.
        last_updater: id of the user who last updated it.
        last_updater_username: username of the user who last updated it.
        repository: id of the repository.
        full_size: compressed size of the tagged image (sum of its layers).
        v2: the repository API version flag.
        status: whether the tag was pushed or pulled in the past month (spec name).
        tag_status: the same, as Hub names it.
        tag_last_pulled: when the tag was last pulled.
        tag_last_pushed: when the tag was last pushed.
        media_type: the media type of the manifest the tag points at.
        content_type: the kind of content, e.g. ``"image"``.
        digest: the digest of the manifest (or index) the tag points at.
    """

    name: str
    id: int | None = None
    images: list[TagImage] = attrs.field(factory=list)
    creator: int | None = None
    last_updated: datetime | None = None
    last_updater: int | None = None
    last_updater_username: str | None = None
    repository: int | None = None
    full_size: int | None = None
    v2: str | bool | None = None
    status: TagStatus | None = None
    tag_status: TagStatus | None = None
    tag_last_pulled: datetime | None = None
    tag_last_pushed: datetime | None = None
    media_type: str | None = None
    content_type: str | None = None
    digest: str | None = None


@attrs.frozen(kw_only=True)
class CreateRepositoryRequest:
    """The body that creates a repository.

    Attributes:
        name: the repository name (2-255 lowercase letters, digits, ``.``, ``_``, ``-``).
        namespace: the namespace it is created in (also in the path).
        description: the short description (at most 100 characters).
        full_description: the readme (at most 25,000 characters).
        registry: the registry hosting it, e.g. ``"docker.io"``.
        is_private: whether it is private.
    """

    name: str
    namespace: str
    description: str | None = None
    full_description: str | None = None
    registry: str | None = None
    is_private: bool | None = None


class RepositoryPermission(OpenStrEnum):
    """A group's permission on a repository."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@attrs.frozen(kw_only=True)
class RepositoryGroupRequest:
    """The body that grants a group (team) a permission on a repository.

    Attributes:
        group_id: the group's numeric id (``OrgGroup.id``).
        permission: ``read``, ``write`` or ``admin``.
    """

    group_id: int
    permission: str


@attrs.frozen(kw_only=True)
class RepositoryGroup:
    """A group's permission on a repository, as Hub confirms it.

    Attributes:
        group_id: the group's numeric id.
        group_name: the group's name.
        permission: ``read``, ``write`` or ``admin``.
    """

    group_id: int | None = None
    group_name: str | None = None
    permission: RepositoryPermission | None = None


@attrs.frozen(kw_only=True)
class ImmutableTagsRequest:
    """The body that sets a repository's immutable tags.

    Attributes:
        immutable_tags: whether immutable tags are enforced.
        immutable_tags_rules: the tag patterns (regular expressions) that are immutable.
    """

    immutable_tags: bool
    immutable_tags_rules: list[str]


@attrs.frozen(kw_only=True)
class ImmutableTagsVerifyRequest:
    """The body that asks which tags a rule would make immutable.

    Attributes:
        regex: the rule, e.g. ``"v.*"``.
    """

    regex: str


@attrs.frozen(kw_only=True)
class ImmutableTagsVerifyResult:
    """The tags of a repository an immutable-tags rule matches.

    Attributes:
        tags: the matching tag names.
    """

    tags: list[str] = attrs.field(factory=list)
