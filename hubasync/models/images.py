"""Models of the Advanced Image Management endpoints (images summary, images, delete-images)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias, get_args

import attrs

from ._base import OpenStrEnum

__all__ = [
    "DeleteErrorKind",
    "DeleteFailure",
    "DeleteImagesErrorDetails",
    "DeleteImagesErrorInfo",
    "DeleteImagesErrorResponse",
    "DeleteImagesRequest",
    "DeleteImagesResult",
    "DeleteMetrics",
    "DeleteWarning",
    "DeleteWarningKind",
    "IMAGE_ORDERINGS",
    "Image",
    "ImageOrdering",
    "ImageStatus",
    "ImageStatusName",
    "ImageTag",
    "ImagesStatistics",
    "ImagesSummary",
    "ManifestRef",
]


#: ``images.list(status=...)``: the values Hub accepts (or an :class:`ImageStatus`).
ImageStatusName: TypeAlias = Literal["active", "inactive"]
#: ``images.list(ordering=...)``: the orderings Hub accepts (``-`` for descending).
ImageOrdering: TypeAlias = Literal["last_activity", "-last_activity", "digest", "-digest"]
IMAGE_ORDERINGS: tuple[ImageOrdering, ...] = get_args(ImageOrdering)


class ImageStatus(OpenStrEnum):
    """Whether an image was pushed or pulled since the ``active_from`` instant."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class DeleteWarningKind(OpenStrEnum):
    """Why ``delete-images`` hesitates over an image (a warning that can be ignored).

    ``IS_ACTIVE``: the image counts as active. ``CURRENT_TAG``: one or more tags currently
    point at it, and deleting the image deletes those tags.
    """

    IS_ACTIVE = "is_active"
    CURRENT_TAG = "current_tag"


class DeleteErrorKind(OpenStrEnum):
    """Why ``delete-images`` cannot delete an image (an error that cannot be ignored).

    ``CHILD_MANIFEST``: the image is a child of a multi-arch image and cannot be deleted
    on its own.
    """

    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    CHILD_MANIFEST = "child_manifest"


@attrs.frozen(kw_only=True)
class ImagesStatistics:
    """Image counts of a repository.

    Attributes:
        total: number of images in the repository.
        active: images counted as active.
        inactive: images counted as inactive.
    """

    total: int
    active: int
    inactive: int


@attrs.frozen(kw_only=True)
class ImagesSummary:
    """How many images a repository holds, and how many count as active.

    Attributes:
        active_from: the instant from which a push or pull makes an image active.
        statistics: the counts.
    """

    statistics: ImagesStatistics
    active_from: datetime | None = None


@attrs.frozen(kw_only=True)
class ImageTag:
    """A tag that points, or once pointed, at an image.

    Attributes:
        tag: the tag name, e.g. ``"latest"``.
        is_current: ``True`` while the tag points at this image, ``False`` once it was moved
            to another image.
    """

    tag: str
    is_current: bool | None = None


@attrs.frozen(kw_only=True)
class Image:
    """One image (manifest) of a repository, with its activity.

    Attributes:
        digest: the image's digest, ``sha256:…``.
        namespace: the repository's namespace.
        repository: the repository's name.
        tags: the current and historical tags of the image.
        last_pushed: when the image was last pushed.
        last_pulled: when the image was last pulled (Hub updates this at most hourly).
        status: active or inactive, judged against ``active_from``.
    """

    digest: str
    namespace: str | None = None
    repository: str | None = None
    tags: list[ImageTag] = attrs.field(factory=list)
    last_pushed: datetime | None = None
    last_pulled: datetime | None = None
    status: ImageStatus | None = None


@attrs.frozen(kw_only=True)
class ManifestRef:
    """An image to delete: a repository of the namespace and the image's digest.

    Attributes:
        repository: the repository name (without the namespace).
        digest: the image's digest, ``sha256:…``.
    """

    repository: str
    digest: str


@attrs.frozen(kw_only=True)
class DeleteWarning:
    """A warning ``delete-images`` raised; pass it back in ``ignore_warnings`` to proceed.

    Unstructured, it is exactly an ``ignore_warnings`` entry of the request:
    ``{"repository", "digest", "warning", "tags"}``.

    Attributes:
        repository: the repository of the image.
        digest: the image's digest.
        warning: the kind of warning.
        tags: the image's current tags, for a ``current_tag`` warning.
    """

    repository: str
    digest: str
    warning: DeleteWarningKind
    tags: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class DeleteFailure:
    """An error ``delete-images`` raised for one image; errors cannot be ignored.

    Attributes:
        repository: the repository of the image.
        digest: the image's digest.
        error: the kind of error.
    """

    repository: str
    digest: str
    error: DeleteErrorKind


@attrs.frozen(kw_only=True)
class DeleteMetrics:
    """What a deletion did (or, in a dry run, would do). Missing counts read as zero.

    Attributes:
        manifest_deletes: manifests deleted.
        manifest_errors: manifests that failed to delete.
        tag_deletes: tags deleted.
        tag_errors: tags that failed to delete.
    """

    manifest_deletes: int = 0
    manifest_errors: int = 0
    tag_deletes: int = 0
    tag_errors: int = 0


@attrs.frozen(kw_only=True)
class DeleteImagesResult:
    """The successful answer of ``delete-images``.

    Attributes:
        dry_run: whether this was a dry run (nothing deleted).
        metrics: the counts of deleted and failed manifests and tags.
    """

    dry_run: bool = False
    metrics: DeleteMetrics = attrs.field(factory=DeleteMetrics)


@attrs.frozen(kw_only=True)
class DeleteImagesRequest:
    """The request body of ``delete-images``.

    Attributes:
        manifests: the images to delete.
        dry_run: check and report errors and warnings without deleting anything.
        active_from: the instant from which a push or pull makes an image active
            (Hub's default: one month ago).
        ignore_warnings: warnings from an earlier answer to override.
    """

    manifests: list[ManifestRef]
    dry_run: bool | None = None
    active_from: datetime | None = None
    ignore_warnings: list[DeleteWarning] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class DeleteImagesErrorDetails:
    """The per-image reasons a deletion was refused.

    Attributes:
        errors: problems that cannot be overridden.
        warnings: problems that ``ignore_warnings`` can override.
    """

    errors: list[DeleteFailure] = attrs.field(factory=list)
    warnings: list[DeleteWarning] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class DeleteImagesErrorInfo:
    """Diagnostic context of a refused deletion.

    Attributes:
        type: the kind of error, e.g. ``"validation"``.
        details: the errors and warnings per image.
        api_call_docker_id: the Docker ID of the caller.
        api_call_name: the name of the operation called.
        api_call_start: when the call started (as Hub wrote it).
        api_call_txnid: Hub's transaction id for the call.
    """

    type: str | None = None
    details: DeleteImagesErrorDetails | None = None
    api_call_docker_id: str | None = None
    api_call_name: str | None = None
    api_call_start: str | None = None
    api_call_txnid: str | None = None


@attrs.frozen(kw_only=True)
class DeleteImagesErrorResponse:
    """The body of a 400 answer to ``delete-images``: deletion not possible.

    Attributes:
        txnid: Hub's transaction id for the call.
        message: Hub's error message.
        errinfo: the errors and warnings that stopped the deletion.
    """

    txnid: str | None = None
    message: str | None = None
    errinfo: DeleteImagesErrorInfo | None = None
