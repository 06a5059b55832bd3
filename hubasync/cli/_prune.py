"""``hubasync prune``: select images, ask Hub what deleting them would do, then (``--yes``) do it.

Selection: ``--inactive`` (not pushed or pulled since ``--active-from``) and/or
``--untagged`` (no current tag). Deletion goes in batches of at most 100 manifests (one
``delete-images`` call each). Hub's answer to a batch may carry warnings (an image is
active, or tags point at it) and errors (it cannot be deleted at all). Only the warnings
the selection already accepted are passed back as ``ignore_warnings``: ``current_tag`` when
tagged images were selected (``--inactive`` alone: deleting them deletes their tags), never
with ``--untagged`` (the image was tagged since it was listed); ``is_active`` never (Hub
counts the image as in use: it is kept and reported). A dry run asks again with those
warnings ignored, to show what would really be deleted; ``--yes`` deletes. Images with
errors, or with a warning that is not ignored, are left out of the second call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from .._client import HubClient
from ..errors import DeleteImagesError
from ..models.images import (
    DeleteFailure,
    DeleteMetrics,
    DeleteWarning,
    DeleteWarningKind,
    Image,
    ManifestRef,
)

__all__ = [
    "MAX_BATCH",
    "PruneResult",
    "batches",
    "ignorable",
    "prune_record",
    "prune_repository",
]

#: Most manifests in one delete-images call.
MAX_BATCH = 100

T = TypeVar("T")


def batches(items: Sequence[T], size: int = MAX_BATCH) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size`` (pure)."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@attrs.define(kw_only=True)
class PruneResult:
    """What a prune selected and what Hub said (or did).

    Attributes:
        namespace: the namespace.
        repository: the repository.
        dry_run: ``True`` unless ``--yes``.
        selected: the images the filters selected.
        warnings: Hub's warnings, over every batch (ignored where the selection allows).
        kept: the warnings that were not ignored: those images are left alone.
        errors: Hub's errors (images that cannot be deleted), over every batch.
        metrics: manifests and tags deleted (or, in a dry run, that would be), summed.
        batches: how many delete-images batches were sent.
    """

    namespace: str
    repository: str
    dry_run: bool
    selected: list[Image] = attrs.field(factory=list)
    warnings: list[DeleteWarning] = attrs.field(factory=list)
    kept: list[DeleteWarning] = attrs.field(factory=list)
    errors: list[DeleteFailure] = attrs.field(factory=list)
    metrics: DeleteMetrics = attrs.field(factory=DeleteMetrics)
    batches: int = 0

    @property
    def ok(self) -> bool:
        """``True`` when every selected image can be (or was) deleted."""
        return not self.errors

    def add_metrics(self, metrics: DeleteMetrics) -> None:
        """Sum one batch's metrics in."""
        m = self.metrics
        self.metrics = DeleteMetrics(
            manifest_deletes=m.manifest_deletes + metrics.manifest_deletes,
            manifest_errors=m.manifest_errors + metrics.manifest_errors,
            tag_deletes=m.tag_deletes + metrics.tag_deletes,
            tag_errors=m.tag_errors + metrics.tag_errors,
        )


async def prune_repository(
    hub: HubClient,
    namespace: str,
    repository: str,
    *,
    inactive: bool,
    untagged: bool,
    active_from: datetime | None,
    delete: bool,
) -> PruneResult:
    """Select the images and send them to delete-images in batches (dry run unless
    ``delete``); see the module docstring."""
    if not inactive and not untagged:
        raise ValueError(
            "prune needs --inactive and/or --untagged to choose images; it never selects "
            "every image of a repository"
        )
    if active_from is not None and active_from > datetime.now(UTC):
        raise ValueError(
            f"--active-from {active_from.isoformat()} is in the future: every image would "
            "count as inactive; pass a past date (default: Hub's one month)"
        )
    listing = hub.images.list(
        namespace,
        repository,
        status="inactive" if inactive else None,
        currently_tagged=False if untagged else None,
        active_from=active_from,
    )
    result = PruneResult(namespace=namespace, repository=repository, dry_run=not delete)
    result.selected = [image async for image in listing]
    # Everything is listed before anything is deleted: deleting while paging would shift
    # the pages under the listing.
    for batch in batches(result.selected):
        refs = [ManifestRef(repository=repository, digest=image.digest) for image in batch]
        await _send_batch(
            hub, namespace, refs, result, active_from=active_from, tagged_ok=not untagged
        )
    return result


def ignorable(warning: DeleteWarning, *, tagged_ok: bool) -> bool:
    """Whether the selection already accepted what ``warning`` says (pure)."""
    if warning.warning == DeleteWarningKind.CURRENT_TAG:
        return tagged_ok
    return False  # is_active (or a kind unknown to us): Hub counts the image as in use


async def _send_batch(
    hub: HubClient,
    namespace: str,
    refs: list[ManifestRef],
    result: PruneResult,
    *,
    active_from: datetime | None,
    tagged_ok: bool,
) -> None:
    result.batches += 1
    try:
        answer = await hub.images.delete(
            namespace, refs, dry_run=result.dry_run, active_from=active_from
        )
    except DeleteImagesError as refused:
        result.warnings.extend(refused.warnings)
        result.errors.extend(refused.errors)
        kept = [w for w in refused.warnings if not ignorable(w, tagged_ok=tagged_ok)]
        result.kept.extend(kept)
        blocked = {failure.digest for failure in refused.errors} | {w.digest for w in kept}
        rest = [ref for ref in refs if ref.digest not in blocked]
        if not rest:
            return
        ignore = [w for w in refused.warnings if w.digest not in blocked]
        try:
            answer = await hub.images.delete(
                namespace,
                rest,
                dry_run=result.dry_run,
                active_from=active_from,
                ignore_warnings=ignore,
            )
        except DeleteImagesError as again:  # Hub changed its mind between the two calls
            known = {(f.digest, str(f.error)) for f in result.errors}
            result.errors.extend(f for f in again.errors if (f.digest, str(f.error)) not in known)
            if not again.errors:
                raise
            return
    result.add_metrics(answer.metrics)


def prune_record(result: PruneResult) -> dict[str, Any]:
    """The result as plain data (the JSON output)."""
    return {
        "namespace": result.namespace,
        "repository": result.repository,
        "dry_run": result.dry_run,
        "images": image_rows(result),
        "warnings": [
            {"digest": w.digest, "warning": str(w.warning), "tags": list(w.tags)}
            for w in result.warnings
        ],
        "errors": [{"digest": e.digest, "error": str(e.error)} for e in result.errors],
        "metrics": attrs.asdict(result.metrics),
        "batches": result.batches,
    }


def image_rows(result: PruneResult) -> list[dict[str, Any]]:
    """One row per selected image, with Hub's warnings and errors about it."""
    warned: dict[str, list[str]] = {}
    for w in result.warnings:
        warned.setdefault(w.digest, []).append(str(w.warning))
    failed: dict[str, list[str]] = {}
    for e in result.errors:
        failed.setdefault(e.digest, []).append(str(e.error))
    return [
        {
            "digest": image.digest,
            "last_pushed": image.last_pushed,
            "last_pulled": image.last_pulled,
            "tags": [t.tag for t in image.tags if t.is_current is not False],
            "warnings": warned.get(image.digest, []),
            "errors": failed.get(image.digest, []),
        }
        for image in result.selected
    ]
