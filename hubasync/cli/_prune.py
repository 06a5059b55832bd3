"""``hubasync prune``: on today's Hub, inactive tags (:mod:`hubasync.prune` plans and applies;
the helpers at the end of this module parse and render); with ``--source images``, the
seed's path, described below: select images, ask Hub what deleting them would do, then
(``--yes``) do it.

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

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import attrs

from .. import _validate as v
from .._client import HubClient
from ..audit import UNTAGGED_NOTE, RepositoryAudit, RepositoryFacts
from ..errors import DeleteImagesError, HubError
from ..fanout import fan_out
from ..models.images import (
    DeleteFailure,
    DeleteMetrics,
    DeleteWarning,
    DeleteWarningKind,
    Image,
    ManifestRef,
)
from ..prune import PlannedDeletion, PrunePlan, TagPruneResult
from ._common import parse_repository

__all__ = [
    "MAX_BATCH",
    "TAG_COLUMNS",
    "PruneResult",
    "batches",
    "ignorable",
    "immutable_rules",
    "parse_age",
    "prune_record",
    "prune_repository",
    "split_targets",
    "tag_prune_record",
    "tag_prune_rows",
    "tag_prune_summary",
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


# ------------------------------------------------------------- tags (today's Hub)

_AGE = re.compile(r"^(\d+)([hdw])$")
_AGE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

#: The columns of the tag prune output (one row per planned deletion).
TAG_COLUMNS = ["namespace", "repository", "tag", "digest", "last_pushed", "last_pulled"]
TAG_COLUMNS += ["action", "reason"]


def parse_age(text: str) -> timedelta:
    """``90d``, ``12h`` or ``8w`` as a duration (pure).

    Raises:
        ValueError: anything else, with what to pass.
    """
    match = _AGE.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"{text!r} is not an age: pass a positive number of hours, days or weeks, "
            "e.g. 90d, 12h or 8w"
        )
    return int(match.group(1)) * _AGE_UNITS[match.group(2)]


def split_targets(targets: Sequence[str]) -> tuple[list[str], dict[str, set[str]]]:
    """``NS`` and ``NS/REPO`` targets as (namespaces in order, namespace → repositories
    asked for; a namespace given whole maps to an empty set). Names are checked."""
    namespaces: list[str] = []
    only: dict[str, set[str]] = {}
    whole: set[str] = set()
    for target in targets:
        if "/" in target:
            ns, repo = parse_repository(target)
            v.namespace(ns)
            v.repository(repo)
            only.setdefault(ns, set()).add(repo)
        else:
            ns = target
            v.namespace(ns)
            whole.add(ns)
        if ns not in namespaces:
            namespaces.append(ns)
    return namespaces, {ns: set() if ns in whole else only.get(ns, set()) for ns in namespaces}


def _row(entry: PlannedDeletion, action: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "namespace": entry.namespace,
        "repository": entry.repository,
        "tag": entry.tag,
        "digest": entry.digest,
        "last_pushed": entry.last_pushed,
        "last_pulled": entry.last_pulled,
        "action": action,
        "reason": reason or entry.reason,
    }


_ACTIONS = {
    "deleted": "deleted",
    "already_gone": "already gone",
    "immutable": "skipped: immutable",
    "skipped": "skipped: permission denied",
    "failed": "failed",
}


def tag_prune_rows(plan: PrunePlan, result: TagPruneResult | None) -> list[dict[str, Any]]:
    """One row per planned deletion: what the dry run would do, or what was done (pure)."""
    if result is None:
        return [_row(d, "would delete") for d in plan.deletions]
    rows = []
    for outcome in sorted(result.outcomes, key=lambda o: o.deletion.full_name):
        failure = outcome.failure
        reason = f"{outcome.deletion.reason}; {failure.message}" if failure else None
        rows.append(_row(outcome.deletion, _ACTIONS[outcome.status], reason))
    return rows


def tag_prune_record(plan: PrunePlan, result: TagPruneResult | None) -> dict[str, Any]:
    """The JSON output of a tag prune: planned or done deletions, kept tags, failures."""
    record: dict[str, Any] = {
        "dry_run": result is None,
        "cutoff": plan.cutoff,
        "keep": plan.keep,
        "deletions": tag_prune_rows(plan, result),
        "kept": [_row(k, "kept") for k in plan.kept],
        "failures": [
            {"name": a.full_name, "errors": [attrs.asdict(f) for f in a.errors]}
            for a in plan.failed
        ],
        "warnings": [{"name": a.full_name, "warnings": list(a.warnings)} for a in plan.warnings],
        "note": UNTAGGED_NOTE,
    }
    if result is not None:
        record["summary"] = {
            status: len(result.by_status(status))
            for status in ("deleted", "already_gone", "immutable", "skipped", "failed")
        }
    return record


def tag_prune_summary(plan: PrunePlan, result: TagPruneResult | None) -> str:
    """One line for stderr: what was (or would be) deleted and kept."""
    repos = len({(d.namespace, d.repository) for d in plan.deletions})
    if result is None:
        if not plan.deletions:
            return f"nothing to prune: no tag matches ({len(plan.kept)} kept)"
        return (
            f"dry run: {len(plan.deletions)} tags of {repos} repositories would be deleted "
            f"({len(plan.kept)} kept; cutoff {plan.cutoff.isoformat()}). "
            "Run again with --yes to delete."
        )
    counts = {s: len(result.by_status(s)) for s in _ACTIONS}
    return (
        f"deleted {counts['deleted']} tags of {repos} repositories ({counts['already_gone']} "
        f"already gone, {counts['immutable']} immutable skipped, {counts['skipped']} skipped "
        f"after a permission error, {counts['failed']} failed; {len(plan.kept)} kept)"
    )


async def immutable_rules(
    hub: HubClient, plan: PrunePlan, audits: Sequence[RepositoryAudit], concurrency: int
) -> dict[str, tuple[str, ...]]:
    """The immutable-tag rules of each repository with planned deletions whose listing did
    not carry them (one ``repositories.get`` each); a repository that cannot be read is
    left out (a deletion then meets Hub's refusal, reported as immutable)."""
    told = {
        a.full_name for a in audits if a.facts is not None and a.facts.immutable_rules is not None
    }
    wanted = sorted(
        {
            (d.namespace, d.repository)
            for d in plan.deletions
            if f"{d.namespace}/{d.repository}" not in told
        }
    )

    async def read(target: tuple[str, str]) -> tuple[str, ...] | None:
        repo = await hub.repositories.get(*target)
        return RepositoryFacts.from_repository(repo).immutable_rules

    found: dict[str, tuple[str, ...]] = {}
    async with fan_out(wanted, read, concurrency=concurrency) as outcomes:
        async for outcome in outcomes:
            if outcome.ok and outcome.value:
                found["/".join(outcome.item)] = outcome.value
            elif outcome.error is not None and not isinstance(outcome.error, HubError):
                raise outcome.error
    return found
