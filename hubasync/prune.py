"""Prune tags on the Docker Hub that exists today: a pure planner, then an executor.

Hub retired ``delete-images`` on 2023-12-11; what it offers is tag deletion
(``DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/``, :meth:`Repositories.delete_tag`).
Pruning is two steps:

1. :func:`plan_tag_prune` (pure, no I/O) turns audits from
   :func:`~hubasync.audit.audit_namespaces` (``source="tags"``, ``active_from=cutoff``)
   into a :class:`PrunePlan`: every tag to delete, each with its reason, and every tag kept,
   each with why. Its rules, in order, per repository:

   - ``exclude`` globs keep a tag; with ``match`` globs, only matching tags are candidates;
   - the ``keep`` most recently pushed tags are kept (default 1);
   - a tag pushed or pulled at or after the cutoff is kept, always;
   - a tag whose pulls are unknown (neither its own ``tag_*`` timestamps nor its platform
     images' say: only a push time, or nothing) is kept: Hub cannot say it was not pulled;
   - a tag the repository's immutable-tag rules cover is kept (rules from the
     ``immutable_rules`` argument, else the audit's facts; ``hubasync prune`` reads them
     with one ``repositories.get`` per repository that has planned deletions);
   - every other tag is deleted: "no push or pull since <cutoff>".

2. :func:`apply_prune` deletes the planned tags with bounded concurrency (``fan_out``)
   under the client's shared rate budget. A tag already gone (deleted by someone else
   between plan and apply, or by an attempt whose answer was lost) counts as done; an
   immutable tag Hub refuses is skipped and reported; a permission error is reported and
   the rest of that repository is skipped (the run goes on with the others); a 429 waits
   within the budget and the request is sent again (Hub did not process it), so no tag is
   deleted twice. Re-running the same prune deletes nothing: the tags are gone.

Untagged manifests are not visible through Hub's API today, so they cannot be pruned here;
the seed's ``delete-images`` path stays in ``hubasync prune --source images``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from . import _validate as v
from .audit import AuditFailure, RepositoryAudit, TagAudit, ends_run
from .errors import HubError, ImmutableTagError, NotFoundError, PermissionDeniedError
from .fanout import fan_out

if TYPE_CHECKING:
    from ._client import HubClient

__all__ = [
    "PlannedDeletion",
    "PrunePlan",
    "TagPruneResult",
    "TagOutcome",
    "apply_prune",
    "check_glob",
    "plan_tag_prune",
]

_GLOB = re.compile(r"^[A-Za-z0-9_.\-*?\[\]!]+$")


def check_glob(pattern: str, what: str = "glob") -> str:
    """``pattern`` if it is a usable tag glob (``*``, ``?``, ``[...]``), else ValueError."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{what} must be a non-empty glob such as 'v1.*' or 'pr-*'")
    if not _GLOB.match(pattern):
        raise ValueError(
            f"{what} {pattern!r} is not a tag glob: use tag characters (letters, digits, "
            "'_', '.', '-') with '*', '?' or '[...]', e.g. 'v1.*' or 'build-[0-9]*'"
        )
    depth = 0
    for char in pattern:
        if char == "[":
            if depth:
                raise ValueError(f"{what} {pattern!r} nests '[' inside '[...]'; close it first")
            depth = 1
        elif char == "]":
            if not depth:
                raise ValueError(f"{what} {pattern!r} has a ']' without its '['")
            depth = 0
    if depth:
        raise ValueError(f"{what} {pattern!r} has a '[' without its closing ']'")
    return pattern


def _glob_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    parts = []
    for pattern in patterns:
        out = ""
        i = 0
        while i < len(pattern):
            char = pattern[i]
            if char == "*":
                out += ".*"
            elif char == "?":
                out += "."
            elif char == "[":
                end = pattern.index("]", i)
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += f"[{body}]"
                i = end
            else:
                out += re.escape(char)
            i += 1
        parts.append(out)
    return re.compile("(?:" + "|".join(parts) + r")\Z")


@attrs.frozen(kw_only=True)
class PlannedDeletion:
    """A tag the plan deletes, or keeps, and why.

    Attributes:
        namespace: the namespace.
        repository: the repository.
        tag: the tag.
        digest: what it points at (``None`` if Hub did not say).
        last_pushed: its last push.
        last_pulled: its last pull (``None``: never).
        reason: why it is deleted (or kept), one sentence.
    """

    namespace: str
    repository: str
    tag: str
    digest: str | None
    last_pushed: datetime | None
    last_pulled: datetime | None
    reason: str

    @property
    def full_name(self) -> str:
        """``namespace/repository:tag``."""
        return f"{self.namespace}/{self.repository}:{self.tag}"


@attrs.frozen(kw_only=True)
class PrunePlan:
    """What a prune will delete and keep (pure data, from :func:`plan_tag_prune`).

    Attributes:
        cutoff: tags pushed or pulled at or after this instant are never deleted.
        keep: the most recently pushed tags kept per repository.
        deletions: the tags to delete, each with its reason.
        kept: the tags kept, each with why.
        failed: the audits that failed (those repositories are not planned; reported).
        warnings: audits that warned (e.g. a namespace that lists nothing).
    """

    cutoff: datetime
    keep: int
    deletions: tuple[PlannedDeletion, ...] = ()
    kept: tuple[PlannedDeletion, ...] = ()
    failed: tuple[RepositoryAudit, ...] = ()
    warnings: tuple[RepositoryAudit, ...] = ()


def _entry(audit: RepositoryAudit, tag: TagAudit, reason: str) -> PlannedDeletion:
    assert audit.repository is not None
    return PlannedDeletion(
        namespace=audit.namespace,
        repository=audit.repository,
        tag=tag.name,
        digest=tag.digest,
        last_pushed=tag.last_pushed,
        last_pulled=tag.last_pulled,
        reason=reason,
    )


_NEVER = datetime.min.replace(tzinfo=UTC)


def _pushed(tag: TagAudit) -> datetime:
    """When the tag was last pushed, for "the N most recently pushed" (unknown: oldest)."""
    return tag.last_pushed or tag.last_activity or _NEVER


def plan_tag_prune(
    audits: Iterable[RepositoryAudit],
    *,
    cutoff: datetime,
    keep: int = 1,
    match: Sequence[str] = (),
    exclude: Sequence[str] = (),
    immutable_rules: Mapping[str, Sequence[str]] | None = None,
) -> PrunePlan:
    """Plan the deletion of the inactive tags of ``audits`` (pure; see the module rules).

    Args:
        audits: repository audits with their tags (``source="tags"``, judged against
            ``active_from=cutoff``); namespace records and failed audits are reported.
        cutoff: tags pushed or pulled at or after this instant are never deleted.
        keep: how many of the most recently pushed tags to keep per repository (>= 0).
        match: only tags matching one of these globs are candidates (none: every tag).
        exclude: tags matching one of these globs are always kept.
        immutable_rules: ``"ns/repo"`` → the repository's immutable-tag rules (regular
            expressions); matching tags are kept. Without an entry, the rules the audit's
            :attr:`~hubasync.audit.RepositoryFacts.immutable_rules` carry are used.

    Raises:
        ValueError: ``keep`` is negative, a glob is malformed, ``cutoff`` is naive.
    """
    v.check_datetime(cutoff, "cutoff")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be an int >= 0 (tags kept per repository), got {keep!r}")
    for pattern in match:
        check_glob(pattern, "match")
    for pattern in exclude:
        check_glob(pattern, "exclude")
    matching = _glob_regex(match)
    excluded = _glob_regex(exclude)
    deletions: list[PlannedDeletion] = []
    kept: list[PlannedDeletion] = []
    failed: list[RepositoryAudit] = []
    warned: list[RepositoryAudit] = []
    for audit in audits:
        if audit.warnings:
            warned.append(audit)
        if audit.errors:
            failed.append(audit)
            continue
        if audit.repository is None or audit.tags is None:
            continue
        known = (immutable_rules or {}).get(audit.full_name)
        if known is None and audit.facts is not None:
            known = audit.facts.immutable_rules
        rules = [re.compile(r) for r in known or ()]
        newest = sorted(audit.tags, key=lambda t: (_pushed(t), t.name), reverse=True)[:keep]
        newest_names = {t.name for t in newest}
        for tag in sorted(audit.tags, key=lambda t: t.name):
            reason = _keep_reason(tag, cutoff, keep, newest_names, matching, excluded, rules)
            if reason is None:
                deletions.append(_entry(audit, tag, _delete_reason(tag, cutoff)))
            else:
                kept.append(_entry(audit, tag, reason))
    return PrunePlan(
        cutoff=cutoff,
        keep=keep,
        deletions=tuple(deletions),
        kept=tuple(kept),
        failed=tuple(failed),
        warnings=tuple(warned),
    )


def _keep_reason(
    tag: TagAudit,
    cutoff: datetime,
    keep: int,
    newest: set[str],
    matching: re.Pattern[str] | None,
    excluded: re.Pattern[str] | None,
    rules: list[re.Pattern[str]],
) -> str | None:
    if excluded is not None and excluded.match(tag.name):
        return "excluded by --exclude"
    if matching is not None and not matching.match(tag.name):
        return "does not match --match"
    if tag.name in newest:
        return f"one of the {keep} most recently pushed tags of the repository"
    for instant, what in ((tag.last_pushed, "pushed"), (tag.last_pulled, "pulled")):
        if instant is not None and instant >= cutoff:
            return f"{what} {instant.isoformat()}, after the cutoff"
    if tag.last_activity is not None and tag.last_activity >= cutoff:
        return f"active {tag.last_activity.isoformat()} (its images), after the cutoff"
    if tag.basis in ("pushed", None):
        return "no pull history (a tag from before Hub recorded tag activity): not judged"
    if any(rule.fullmatch(tag.name) for rule in rules):
        return "immutable (the repository's immutable tags rules)"
    return None


def _delete_reason(tag: TagAudit, cutoff: datetime) -> str:
    last = tag.last_activity.isoformat() if tag.last_activity is not None else "never"
    return f"no push or pull since {cutoff.isoformat()} (last activity {last})"


# ------------------------------------------------------------------------------- apply


@attrs.frozen(kw_only=True)
class TagOutcome:
    """What happened to one planned deletion.

    Attributes:
        deletion: the planned deletion.
        status: ``"deleted"``, ``"already_gone"`` (deleted before, counts as done),
            ``"immutable"`` (Hub refused: skipped), ``"skipped"`` (an earlier permission
            error on the repository) or ``"failed"``.
        failure: the error, for ``"immutable"``, ``"skipped"`` and ``"failed"``.
    """

    deletion: PlannedDeletion
    status: str
    failure: AuditFailure | None = None

    @property
    def done(self) -> bool:
        """The tag is gone (deleted now, or before)."""
        return self.status in ("deleted", "already_gone")


@attrs.frozen(kw_only=True)
class TagPruneResult:
    """What :func:`apply_prune` did, one outcome per planned deletion (completion order).

    Attributes:
        outcomes: the outcomes.
    """

    outcomes: tuple[TagOutcome, ...] = ()

    def by_status(self, status: str) -> list[TagOutcome]:
        """The outcomes with ``status``."""
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        """``True`` when every planned tag is gone or was refused as immutable."""
        return all(o.done or o.status == "immutable" for o in self.outcomes)


async def apply_prune(hub: HubClient, plan: PrunePlan, *, concurrency: int = 8) -> TagPruneResult:
    """Delete the planned tags (see the module docstring for the fault rules).

    Args:
        hub: the client (its rate budget and concurrency slots are shared).
        plan: from :func:`plan_tag_prune`.
        concurrency: deletions in flight at once (bounded further by the client).

    Raises:
        AuthenticationError: the credentials were refused (nothing else can work).
    """
    refused: dict[str, AuditFailure] = {}

    async def delete(entry: PlannedDeletion) -> TagOutcome:
        repo = f"{entry.namespace}/{entry.repository}"
        if repo in refused:
            return TagOutcome(deletion=entry, status="skipped", failure=refused[repo])
        try:
            await hub.repositories.delete_tag(entry.namespace, entry.repository, entry.tag)
        except ImmutableTagError as exc:
            failure = AuditFailure.from_exception(exc, "repositories.delete_tag")
            return TagOutcome(deletion=entry, status="immutable", failure=failure)
        except NotFoundError:
            return TagOutcome(deletion=entry, status="already_gone")
        except PermissionDeniedError as exc:
            failure = AuditFailure.from_exception(exc, "repositories.delete_tag")
            refused.setdefault(repo, failure)
            return TagOutcome(deletion=entry, status="failed", failure=failure)
        return TagOutcome(deletion=entry, status="deleted")

    outcomes: list[TagOutcome] = []
    async with fan_out(plan.deletions, delete, concurrency=concurrency) as results:
        async for result in results:
            if result.value is not None:
                outcomes.append(result.value)
                continue
            error = result.error
            if not isinstance(error, HubError) or ends_run(error):
                assert error is not None
                raise error
            failure = AuditFailure.from_exception(error, "repositories.delete_tag")
            outcomes.append(TagOutcome(deletion=result.item, status="failed", failure=failure))
    return TagPruneResult(outcomes=tuple(outcomes))
