"""Audit the images of many namespaces: counts, inactive images, failures per repository.

:func:`audit_namespaces` lists each namespace's repositories and fans out over them: for
each repository it reads the images summary (total, active, inactive), then lists the
inactive images (digest, last push and pull, tags), and with ``include_tags=True`` the
repository's current tags. Every call goes through the one client, so the whole run shares
its concurrency slots and its rate budget::

    async with HubClient.from_env() as hub:
        report = AuditReport()
        async for audit in audit_namespaces(hub, ["myorg", "otherorg"]):
            report.add(audit)
            if not audit.ok:
                print(audit.full_name, audit.errors[0].message)
        print(report.totals.inactive, "inactive images")

The run streams: repositories are pulled from the namespace listings only as fast as the
fan-out has room for them, so a run over ten thousand repositories holds about
``concurrency`` of them (plus a prefetched listing page) at a time, never the whole list.

A repository or namespace that fails (403, 404, a server error after retries, a rate-limit
wait too long) becomes an audit with ``errors`` and the run goes on; only an
:class:`~hubasync.errors.AuthenticationError` (the credentials are refused: nothing else
can work) or a login that fails for another reason (Hub's login endpoint down) ends it.
:class:`AuditReport` aggregates audits per namespace and overall; it is pure bookkeeping
without I/O.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from . import _validate as v
from .errors import AuthenticationError, HubError
from .fanout import fan_out
from .models.images import Image, ImagesStatistics

if TYPE_CHECKING:
    from ._client import HubClient
    from .models.repositories import Tag

__all__ = [
    "EMPTY_NAMESPACE_WARNING",
    "AuditFailure",
    "AuditReport",
    "AuditTotals",
    "InactiveImage",
    "RepositoryAudit",
    "TagAudit",
    "audit_namespaces",
    "summarize",
]


@attrs.frozen(kw_only=True)
class AuditFailure:
    """One call of an audit that failed.

    Attributes:
        operation: the hubasync operation, e.g. ``"images.summary"``.
        status: the HTTP status Hub answered with, or ``None`` (no response, local error).
        error: the exception's class name, e.g. ``"PermissionDeniedError"``.
        message: what went wrong, as one line.
    """

    operation: str
    status: int | None
    error: str
    message: str

    @classmethod
    def from_exception(cls, exc: BaseException, operation: str) -> AuditFailure:
        """Describe ``exc`` (raised by ``operation``) as a failure record."""
        status = exc.status if isinstance(exc, HubError) else None
        if isinstance(exc, HubError) and exc.operation:
            operation = exc.operation
        text = str(exc) or type(exc).__name__
        return cls(
            operation=operation,
            status=status,
            error=type(exc).__name__,
            message=" ".join(text.split()),
        )


@attrs.frozen(kw_only=True)
class InactiveImage:
    """An image not pushed or pulled since the audit's ``active_from``.

    Attributes:
        digest: the image's digest, ``sha256:…``.
        last_pushed: when it was last pushed (``None`` if Hub does not say).
        last_pulled: when it was last pulled (``None``: never, or not recorded).
        tags: the tags currently pointing at it (deleting the image deletes them).
        former_tags: tags that once pointed at it and were moved elsewhere.
    """

    digest: str
    last_pushed: datetime | None = None
    last_pulled: datetime | None = None
    tags: tuple[str, ...] = ()
    former_tags: tuple[str, ...] = ()

    @classmethod
    def from_image(cls, image: Image) -> InactiveImage:
        """The audit record of an image from ``hub.images.list``."""
        current = tuple(t.tag for t in image.tags if t.is_current is not False)
        former = tuple(t.tag for t in image.tags if t.is_current is False)
        return cls(
            digest=image.digest,
            last_pushed=image.last_pushed,
            last_pulled=image.last_pulled,
            tags=current,
            former_tags=former,
        )


@attrs.frozen(kw_only=True)
class TagAudit:
    """A current tag of a repository (audited with ``include_tags=True``).

    Attributes:
        name: the tag, e.g. ``"latest"``.
        digest: the manifest (or index) it points at.
        last_pushed: when it was last pushed.
        last_pulled: when it was last pulled.
        status: Hub's ``active``/``inactive`` for the tag (judged over the past month).
        inactive_image: whether it points at one of the audit's inactive images.
    """

    name: str
    digest: str | None = None
    last_pushed: datetime | None = None
    last_pulled: datetime | None = None
    status: str | None = None
    inactive_image: bool = False

    @classmethod
    def from_tag(cls, tag: Tag, inactive_digests: frozenset[str]) -> TagAudit:
        """The audit record of a tag from ``hub.repositories.tags``."""
        status = tag.tag_status or tag.status
        digest = tag.digest
        if digest is None and len(tag.images) == 1:  # no index digest: the one image's
            digest = tag.images[0].digest
        return cls(
            name=tag.name,
            digest=digest,
            last_pushed=tag.tag_last_pushed,
            last_pulled=tag.tag_last_pulled,
            status=str(status) if status is not None else None,
            inactive_image=digest is not None and digest in inactive_digests,
        )


@attrs.frozen(kw_only=True)
class RepositoryAudit:
    """The audit of one repository, or the failure of one namespace's listing.

    ``repository`` is ``None`` only for a namespace-level failure (the namespace could not
    be listed: missing, forbidden...); ``errors`` then says why.

    Attributes:
        namespace: the namespace audited.
        repository: the repository's name, or ``None`` for a namespace-level failure.
        active_from: the instant activity was judged from (Hub's, as the summary said).
        summary: total, active and inactive image counts; ``None`` if they could not be read.
        inactive_images: the inactive images, most recently active first.
        tags: the repository's current tags (``include_tags=True``), else ``None``.
        errors: what failed; empty when the whole audit succeeded.
        warnings: what is not a failure yet must not pass as clean, e.g. a namespace whose
            listing showed no repository at all (``repository`` is then ``None``).
    """

    namespace: str
    repository: str | None
    active_from: datetime | None = None
    summary: ImagesStatistics | None = None
    inactive_images: tuple[InactiveImage, ...] = ()
    tags: tuple[TagAudit, ...] | None = None
    errors: tuple[AuditFailure, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """``True`` when nothing failed."""
        return not self.errors

    @property
    def full_name(self) -> str:
        """``namespace/repository`` (just the namespace for a namespace-level failure)."""
        if self.repository is None:
            return self.namespace
        return f"{self.namespace}/{self.repository}"

    @property
    def inactive_tagged(self) -> int:
        """How many inactive images still carry a current tag."""
        return sum(1 for image in self.inactive_images if image.tags)


@attrs.define(kw_only=True)
class AuditTotals:
    """Counts over a set of audits (one namespace, or the whole run).

    Attributes:
        repositories: repositories audited (failed ones included).
        failed_repositories: repositories with at least one error.
        failed_namespaces: namespace-level failures (listing refused or missing).
        images: images counted by the summaries.
        active: active images.
        inactive: inactive images (from the summaries).
        inactive_listed: inactive images actually listed (with digests).
        inactive_tagged: listed inactive images that still carry a current tag.
        tags: current tags audited (``include_tags=True``).
        empty_namespaces: namespaces whose listing showed no repository (a warning: the
            namespace does not exist or these credentials cannot see it).
    """

    repositories: int = 0
    failed_repositories: int = 0
    failed_namespaces: int = 0
    images: int = 0
    active: int = 0
    inactive: int = 0
    inactive_listed: int = 0
    inactive_tagged: int = 0
    tags: int = 0
    empty_namespaces: int = 0

    def add(self, audit: RepositoryAudit) -> None:
        """Count one audit in."""
        if audit.repository is None:
            self.failed_namespaces += 1 if audit.errors else 0
            self.empty_namespaces += 1 if audit.warnings and not audit.errors else 0
            return
        self.repositories += 1
        if audit.errors:
            self.failed_repositories += 1
        if audit.summary is not None:
            self.images += audit.summary.total
            self.active += audit.summary.active
            self.inactive += audit.summary.inactive
        self.inactive_listed += len(audit.inactive_images)
        self.inactive_tagged += audit.inactive_tagged
        if audit.tags is not None:
            self.tags += len(audit.tags)

    @property
    def failures(self) -> int:
        """Failed repositories plus failed namespaces."""
        return self.failed_repositories + self.failed_namespaces


class _TopEntry:
    """A heap entry of :class:`AuditReport`'s top list; "less" means "less inactive" (ties:
    later in name order), so the heap's root is the first to drop."""

    __slots__ = ("namespace", "repository", "statistics")

    def __init__(self, namespace: str, repository: str, statistics: ImagesStatistics) -> None:
        self.namespace = namespace
        self.repository = repository
        self.statistics = statistics

    def __lt__(self, other: _TopEntry) -> bool:
        if self.statistics.inactive != other.statistics.inactive:
            return self.statistics.inactive < other.statistics.inactive
        return (self.namespace, self.repository) > (other.namespace, other.repository)


@attrs.define(kw_only=True)
class AuditReport:
    """An accumulator of :class:`RepositoryAudit` results: per-namespace and overall totals,
    the failures, and the repositories with the most inactive images. Pure; no I/O.

    Feed it with :meth:`add` as audits arrive (memory stays bounded: it keeps counts, the
    failures and the ``keep_top`` largest repositories, not the audits themselves).

    Attributes:
        keep_top: how many of the repositories with the most inactive images to keep.
        totals: the counts over every audit added.
        namespaces: counts per namespace, in the order namespaces first appeared.
        failures: the audits that carried errors.
        warnings: the audits that carried warnings (e.g. a namespace that lists nothing).
    """

    keep_top: int = 10
    totals: AuditTotals = attrs.field(factory=AuditTotals)
    namespaces: dict[str, AuditTotals] = attrs.field(factory=dict)
    failures: list[RepositoryAudit] = attrs.field(factory=list)
    warnings: list[RepositoryAudit] = attrs.field(factory=list)
    _top: list[_TopEntry] = attrs.field(factory=list, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.keep_top, bool) or not isinstance(self.keep_top, int):
            raise ValueError(f"keep_top must be an int >= 0, got {self.keep_top!r}")
        if self.keep_top < 0:
            raise ValueError(f"keep_top must be >= 0, got {self.keep_top}")

    def add(self, audit: RepositoryAudit) -> None:
        """Count one audit in (per namespace and overall)."""
        self.totals.add(audit)
        self.namespaces.setdefault(audit.namespace, AuditTotals()).add(audit)
        if audit.errors:
            self.failures.append(audit)
        if audit.warnings:
            self.warnings.append(audit)
        if audit.repository is None or audit.summary is None or self.keep_top == 0:
            return
        entry = _TopEntry(audit.namespace, audit.repository, audit.summary)
        if len(self._top) < self.keep_top:
            heapq.heappush(self._top, entry)
        elif self._top[0] < entry:
            heapq.heapreplace(self._top, entry)

    def extend(self, audits: Iterable[RepositoryAudit]) -> AuditReport:
        """Add every audit; returns the report."""
        for audit in audits:
            self.add(audit)
        return self

    def top_inactive(self) -> list[tuple[str, str, ImagesStatistics]]:
        """The repositories with the most inactive images: ``(namespace, repository,
        statistics)``, most inactive first (ties in name order)."""
        ranked = sorted(self._top, reverse=True)
        return [(e.namespace, e.repository, e.statistics) for e in ranked]

    @property
    def ok(self) -> bool:
        """``True`` when no repository or namespace failed and none warned (a namespace
        that shows nothing is never reported as clean)."""
        return not self.failures and not self.warnings


def summarize(audits: Iterable[RepositoryAudit], *, keep_top: int = 10) -> AuditReport:
    """Aggregate audits into an :class:`AuditReport` (per namespace and overall)."""
    return AuditReport(keep_top=keep_top).extend(audits)


# --------------------------------------------------------------------------- the workflow


@attrs.frozen
class _Job:
    """One unit of the fan-out: a repository to audit, or a namespace failure to report."""

    namespace: str
    repository: str | None
    failure: AuditFailure | None = None
    warning: str | None = None


def _check_namespaces(namespaces: Iterable[str]) -> list[str]:
    if isinstance(namespaces, str):
        raise ValueError(
            f"namespaces must be a list of namespaces, e.g. [{namespaces!r}], not a string"
        )
    names: list[str] = []
    for name in namespaces:
        v.namespace(name)
        if name not in names:
            names.append(name)
    return names


async def audit_namespaces(
    hub: HubClient,
    namespaces: Iterable[str],
    *,
    active_from: datetime | None = None,
    include_tags: bool = False,
    concurrency: int | None = None,
    on_namespace: Callable[[str, int | None], None] | None = None,
) -> AsyncGenerator[RepositoryAudit, None]:
    """Audit every repository of ``namespaces``; yields one audit per repository as each
    finishes (completion order), plus one per namespace whose listing failed.

    To stop early, ``break`` inside ``contextlib.aclosing(audit_namespaces(...))`` (or call
    ``aclose()``): the audits in flight are cancelled and their connections returned.

    Args:
        hub: the client; every call shares its concurrency slots and rate budget.
        namespaces: the namespaces (organizations or users) to audit; duplicates are
            audited once.
        active_from: the instant from which a push or pull makes an image active
            (Hub's default: one month ago). Naive datetimes are refused.
        include_tags: also list each repository's current tags (one more listing per
            repository) into :attr:`RepositoryAudit.tags`.
        concurrency: repositories audited at once (default: the client's
            ``max_concurrency``). The client still bounds the requests in flight.
        on_namespace: called with ``(namespace, repository_count)`` when a namespace's
            first listing page arrives (``None`` count if Hub gave none); for progress.

    Raises:
        ValueError: a namespace name is invalid, ``active_from`` is naive, or
            ``concurrency`` is below 1 (raised at the first iteration).
        AuthenticationError: the credentials were refused (the run stops).
        HubError: a login failed otherwise (its operation is ``auth.*``; the run stops).
    """
    names = _check_namespaces(namespaces)
    if active_from is not None:
        v.check_datetime(active_from, "active_from")
    if not isinstance(include_tags, bool):
        raise ValueError(f"include_tags must be True or False, got {include_tags!r}")
    if concurrency is None:
        concurrency = hub.max_concurrency
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(
            f"concurrency must be an int >= 1 (repositories audited at once), got {concurrency!r}"
        )

    async def jobs() -> AsyncIterator[_Job]:
        for ns in names:
            seen_first = False
            listed = 0
            listing = hub.repositories.list(ns)
            try:
                async for page in listing.pages():
                    if not seen_first:
                        seen_first = True
                        if on_namespace is not None:
                            on_namespace(ns, page.count)
                    for repo in page.items:
                        listed += 1
                        yield _Job(ns, repo.name)
                if listed == 0:
                    yield _Job(ns, None, warning=EMPTY_NAMESPACE_WARNING)
            except HubError as exc:
                if _ends_run(exc):
                    raise
                if not seen_first and on_namespace is not None:
                    on_namespace(ns, 0)
                yield _Job(ns, None, AuditFailure.from_exception(exc, "repositories.list"))
            finally:
                await listing.aclose()

    async def audit(job: _Job) -> RepositoryAudit:
        if job.repository is None:
            errors = (job.failure,) if job.failure is not None else ()
            warnings = (job.warning,) if job.warning is not None else ()
            return RepositoryAudit(
                namespace=job.namespace, repository=None, errors=errors, warnings=warnings
            )
        return await _audit_repository(
            hub, job.namespace, job.repository, active_from=active_from, include_tags=include_tags
        )

    async with fan_out(jobs(), audit, concurrency=concurrency) as outcomes:
        async for outcome in outcomes:
            if outcome.error is None:
                assert outcome.value is not None
                yield outcome.value
                continue
            error = outcome.error
            if _ends_run(error):
                raise error
            if not isinstance(error, Exception | asyncio.CancelledError):
                raise error
            job = outcome.item
            yield RepositoryAudit(
                namespace=job.namespace,
                repository=job.repository,
                errors=(AuditFailure.from_exception(error, "audit"),),
            )


#: The warning of a namespace whose listing is empty (Hub answers 200 with no results both
#: for a namespace that does not exist and for one these credentials cannot see).
EMPTY_NAMESPACE_WARNING = (
    "no repositories visible: the namespace does not exist or these credentials cannot see it"
)

#: The operations of a login: when one fails, no other request can get a token either.
_LOGIN_OPERATIONS = frozenset({"auth.token", "auth.login", "auth.2fa_login"})


def _ends_run(error: BaseException) -> bool:
    """Whether ``error`` stops a whole audit: refused credentials, or a login that could not
    be completed (Hub down for logins: every namespace would retry it in vain)."""
    if isinstance(error, AuthenticationError):
        return True
    return isinstance(error, HubError) and error.operation in _LOGIN_OPERATIONS


async def _audit_repository(
    hub: HubClient,
    namespace: str,
    repository: str,
    *,
    active_from: datetime | None,
    include_tags: bool,
) -> RepositoryAudit:
    """Summary, then inactive images (when there are any), then tags (when asked)."""
    errors: list[AuditFailure] = []
    try:
        summary = await hub.images.summary(namespace, repository, active_from=active_from)
    except (HubError, ValueError) as exc:
        if _ends_run(exc):
            raise
        return RepositoryAudit(
            namespace=namespace,
            repository=repository,
            errors=(AuditFailure.from_exception(exc, "images.summary"),),
        )
    # Judge the list by the very instant the summary used, so the two agree.
    since = active_from or summary.active_from
    inactive: tuple[InactiveImage, ...] = ()
    if summary.statistics.inactive > 0:
        try:
            listed = hub.images.list(namespace, repository, status="inactive", active_from=since)
            inactive = tuple([InactiveImage.from_image(i) async for i in listed])
        except (HubError, ValueError) as exc:
            if _ends_run(exc):
                raise
            errors.append(AuditFailure.from_exception(exc, "images.list"))
    tags: tuple[TagAudit, ...] | None = None
    if include_tags:
        digests = frozenset(image.digest for image in inactive)
        try:
            tags = tuple(
                [
                    TagAudit.from_tag(t, digests)
                    async for t in hub.repositories.tags(namespace, repository)
                ]
            )
        except (HubError, ValueError) as exc:
            if _ends_run(exc):
                raise
            errors.append(AuditFailure.from_exception(exc, "repositories.tags"))
    return RepositoryAudit(
        namespace=namespace,
        repository=repository,
        active_from=summary.active_from or active_from,
        summary=summary.statistics,
        inactive_images=inactive,
        tags=tags,
        errors=tuple(errors),
    )
