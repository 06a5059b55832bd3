"""Image management: summary, list, tags of an image, delete-images (seed spec)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..errors import BadRequestError, DeleteImagesError, ResponseValidationError
from ..models.images import (
    IMAGE_ORDERINGS,
    DeleteImagesErrorResponse,
    DeleteImagesRequest,
    DeleteImagesResult,
    DeleteWarning,
    Image,
    ImageOrdering,
    ImagesSummary,
    ImageStatus,
    ImageStatusName,
    ImageTag,
    ManifestRef,
)
from ._base import Resource

__all__ = ["Images"]


class Images(Resource):
    """The images of a repository (Hub's Advanced Image Management API)."""

    def _repo_path(self, namespace: str, repository: str) -> str:
        return f"/v2/namespaces/{v.namespace(namespace)}/repositories/{v.repository(repository)}"

    async def summary(
        self, namespace: str, repository: str, *, active_from: datetime | None = None
    ) -> ImagesSummary:
        """Counts of all, active and inactive images in a repository."""
        path = self._repo_path(namespace, repository) + "/images-summary"
        params = {"active_from": self._datetime(active_from, "active_from")}
        return await self._get("images.summary", path, ImagesSummary, params=params)

    def list(
        self,
        namespace: str,
        repository: str,
        *,
        status: ImageStatus | ImageStatusName | None = None,
        currently_tagged: bool | None = None,
        ordering: ImageOrdering | None = None,
        active_from: datetime | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[Image]:
        """The images of a repository, filtered and ordered as asked, page by page."""
        path = self._repo_path(namespace, repository) + "/images"
        if status is not None:
            v.check_choice(str(status), "status", ("active", "inactive"))
        if currently_tagged is not None and not isinstance(currently_tagged, bool):
            raise ValueError(
                f"currently_tagged must be True, False or None, got {currently_tagged!r}"
            )
        if ordering is not None:
            v.check_choice(ordering, "ordering", IMAGE_ORDERINGS)
        params = {
            "status": str(status) if status is not None else None,
            "currently_tagged": currently_tagged,
            "ordering": ordering,
            "active_from": self._datetime(active_from, "active_from"),
        }
        return self._paginate(
            "images.list", path, Image, params=params, page_size=page_size, prefetch=prefetch
        )

    def tags(
        self,
        namespace: str,
        repository: str,
        digest: str,
        *,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[ImageTag]:
        """The current and historical tags of one image."""
        path = self._repo_path(namespace, repository) + f"/images/{v.digest(digest)}/tags"
        return self._paginate("images.tags", path, ImageTag, page_size=page_size, prefetch=prefetch)

    async def delete(
        self,
        namespace: str,
        manifests: Iterable[ManifestRef],
        *,
        dry_run: bool = False,
        active_from: datetime | None = None,
        ignore_warnings: Iterable[DeleteWarning] = (),
    ) -> DeleteImagesResult:
        """Delete images of one repository; Hub's warnings come back as DeleteImagesError.

        "Look, then confirm" is two calls: catch ``DeleteImagesError`` and pass its
        ``warnings`` back as ``ignore_warnings=``. Never retried in a way that could repeat
        the deletion.
        """
        ns = v.namespace(namespace)
        refs = list(manifests) if not isinstance(manifests, str | bytes) else None
        if not refs:
            raise ValueError(
                "manifests must be a non-empty iterable of ManifestRef(repository=, digest=)"
            )
        for ref in refs:
            if not isinstance(ref, ManifestRef):
                raise ValueError(
                    f"manifests must hold ManifestRef objects, got {type(ref).__name__}"
                )
            v.repository(ref.repository, param="manifests[].repository")
            v.digest(ref.digest, param="manifests[].digest")
        warnings = list(ignore_warnings)
        for w in warnings:
            if not isinstance(w, DeleteWarning):
                raise ValueError(
                    "ignore_warnings must hold DeleteWarning objects (from "
                    f"DeleteImagesError.warnings), got {type(w).__name__}"
                )
        if not isinstance(dry_run, bool):
            raise ValueError(f"dry_run must be True or False, got {dry_run!r}")
        if active_from is not None:
            v.check_datetime(active_from, "active_from")
        body = unstructure(
            DeleteImagesRequest(
                manifests=refs,
                dry_run=dry_run,
                active_from=active_from,
                ignore_warnings=warnings,
            )
        )
        if not warnings:
            body.pop("ignore_warnings", None)
        operation = "images.delete"
        try:
            resp = await self._send(
                operation, "POST", f"/v2/namespaces/{ns}/delete-images", json=body
            )
        except BadRequestError as exc:
            raise _delete_error(exc) from None
        return self._structure(resp.data, DeleteImagesResult, operation, resp.status)


def _delete_error(exc: BadRequestError) -> BadRequestError:
    if exc.status != 400 or not isinstance(exc.body, dict):
        return exc
    try:
        parsed = Resource._structure(exc.body, DeleteImagesErrorResponse, "images.delete", 400)
    except ResponseValidationError:
        return exc
    details = parsed.errinfo.details if parsed.errinfo else None
    if details is None:
        return exc
    errors, warnings = details.errors, details.warnings
    parts = []
    if errors:
        parts.append(
            f"{len(errors)} error(s) that cannot be overridden ("
            + ", ".join(f"{e.repository}@{e.digest[:19]}: {e.error}" for e in errors[:5])
            + ")"
        )
    if warnings:
        parts.append(
            f"{len(warnings)} warning(s) ("
            + ", ".join(f"{w.repository}@{w.digest[:19]}: {w.warning}" for w in warnings[:5])
            + "); to delete anyway, pass them back as ignore_warnings=error.warnings"
        )
    said = f" Hub said {parsed.message!r}." if parsed.message else ""
    return DeleteImagesError(
        "images.delete: Hub refused the deletion:" + said + " " + "; ".join(parts),
        errors=errors,
        warnings=warnings,
        fields=exc.fields,
        status=exc.status,
        txnid=exc.txnid or parsed.txnid,
        body=exc.body,
        operation="images.delete",
    )
