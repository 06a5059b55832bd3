"""Audit many namespaces on the Docker Hub that exists today: tags, activity, storage, failures.

:func:`audit_namespaces` lists each namespace's repositories and fans out over them. Docker
retired the image API (``images-summary``, ``images``, ``images/{digest}/tags``,
``delete-images``) on 2023-12-11; Hub answers it with a 404 HTML page. So the audit has two
sources:

- ``"tags"`` (today's Hub): each repository's tags are listed (100 a page): every tag with
  its digest, status, last push and pull, size and platforms; a tag summary (active,
  inactive); the platform images deduplicated by digest, each with its status; the facts
  the namespace listing gave (storage, last update, pulls, visibility); whether the
  repository is stale. Activity is judged by :mod:`hubasync._activity`: against
  ``active_from`` when given, else Hub's ``tag_status``. Untagged manifests are not
  visible through Hub's API today (:data:`UNTAGGED_NOTE`).
- ``"images"`` (the seed spec): the images summary, then the inactive images (digest, last
  push and pull, tags), and with ``include_tags=True`` the current tags.
- ``"auto"`` (the default) asks ``images-summary`` once per run, on the first repository
  the listing returned: a 404 means tags for the whole run (one extra request per run).

Every call goes through the one client, so the whole run shares its concurrency slots and
its rate budget::

    async with HubClient.from_env() as hub:
        report = AuditReport()
        async for audit in audit_namespaces(hub, ["myorg", "otherorg"]):
            report.add(audit)
            if not audit.ok:
                print(audit.full_name, audit.errors[0].message)
        print(report.totals.inactive_tags, "inactive tags")

The run streams: repositories are pulled from the namespace listings only as fast as the
fan-out has room for them, so a run over ten thousand repositories holds about
``concurrency`` of them (plus a prefetched listing page) at a time, never the whole list.

A repository or namespace that fails (403, a server error after retries, a rate-limit wait
too long) becomes an audit with ``errors`` and the run goes on; a namespace whose listing is
empty (Hub answers 200 with no results for a namespace that does not exist or that these
credentials cannot see) becomes an audit with a warning, never silence. Only an
:class:`~hubasync.errors.AuthenticationError` (the credentials are refused: nothing else
can work) or a login that fails for another reason (Hub's login endpoint down) ends the run.
:class:`AuditReport` aggregates audits per namespace and overall; it is pure bookkeeping
without I/O.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Mapping,
)
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypeVar

import attrs

from . import _validate as v
from ._activity import HUB_ACTIVE_WINDOW, last_activity, tag_status
from .errors import (
    AuthenticationError,
    HubError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .fanout import fan_out
from .models.images import Image, ImagesStatistics, ImagesSummary

if TYPE_CHECKING:
    from ._client import HubClient
    from .models.repositories import Repository, Tag

__all__ = [
    "EMPTY_NAMESPACE_WARNING",
    "SOURCES",
    "UNTAGGED_NOTE",
    "AuditFailure",
    "AuditReport",
    "AuditTotals",
    "InactiveImage",
    "PlatformImage",
    "RepositoryAudit",
    "RepositoryFacts",
    "Source",
    "TagAudit",
    "TagSummary",
    "audit_namespaces",
    "ends_run",
    "summarize",
]

#: Where an audit reads activity from: ``"auto"`` (probe the image API once per run),
#: ``"tags"`` (today's Hub: repositories and tags) or ``"images"`` (the seed's image API).
Source = Literal["auto", "tags", "images"]
SOURCES: tuple[str, ...] = ("auto", "tags", "images")

T = TypeVar("T")

#: What a tags-source audit cannot see, said plainly in every report.
UNTAGGED_NOTE = (
    "untagged manifests are not visible through Hub's API today (the image API was retired "
    "on 2023-12-11): a tags-source audit neither counts nor lists them"
)


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
    """A current tag of a repository (every tag with the tags source; with the images source
    only when ``include_tags=True``).

    Attributes:
        name: the tag, e.g. ``"latest"``.
        digest: the manifest (or index) it points at (``None``: Hub sent none and the tag
            has several platform images).
        last_pushed: when it was last pushed (``tag_last_pushed``).
        last_pulled: when it was last pulled (``None``: never, or a pre-2020 tag).
        status: ``"active"``/``"inactive"`` as the audit judged it (``None``: nothing known),
            see :mod:`hubasync._activity`: against ``active_from`` when given, else Hub's
            ``tag_status``.
        inactive_image: whether it points at one of the audit's inactive images (images
            source only).
        size: the tag's compressed size in bytes (``full_size``).
        platforms: its platforms, e.g. ``("linux/amd64", "linux/arm64/v8")``.
        hub_status: Hub's own ``tag_status`` (judged over the past month), if sent.
        last_activity: the latest push or pull the judgement used.
        basis: where that instant came from: ``"tag"`` (the tag's own timestamps),
            ``"images"`` (its platform images'), ``"pushed"`` (only ``last_updated``: pulls
            unknown) or ``None`` (nothing known).
    """

    name: str
    digest: str | None = None
    last_pushed: datetime | None = None
    last_pulled: datetime | None = None
    status: str | None = None
    inactive_image: bool = False
    size: int | None = None
    platforms: tuple[str, ...] = ()
    hub_status: str | None = None
    last_activity: datetime | None = None
    basis: str | None = None

    @classmethod
    def from_tag(
        cls,
        tag: Tag,
        inactive_digests: frozenset[str] = frozenset(),
        *,
        active_from: datetime | None = None,
        now: datetime | None = None,
    ) -> TagAudit:
        """The audit record of a tag from ``hub.repositories.tags``."""
        hub_status = tag.tag_status or tag.status
        digest = tag.digest
        if digest is None and len(tag.images) == 1:  # no index digest: the one image's
            digest = tag.images[0].digest
        instant, basis = last_activity(tag)
        return cls(
            name=tag.name,
            digest=digest,
            last_pushed=tag.tag_last_pushed,
            last_pulled=tag.tag_last_pulled,
            status=tag_status(tag, active_from, now),
            inactive_image=digest is not None and digest in inactive_digests,
            size=tag.full_size,
            platforms=tuple(_platform(i.os, i.architecture, i.variant) for i in tag.images),
            hub_status=str(hub_status) if hub_status is not None else None,
            last_activity=instant,
            basis=basis,
        )


def _platform(os: str | None, arch: str | None, variant: str | None) -> str:
    return "/".join(p for p in (os or "unknown", arch or "unknown", variant) if p)


@attrs.frozen(kw_only=True)
class TagSummary:
    """Tag counts of a repository (tags source).

    Attributes:
        total: current tags.
        active: tags judged active.
        inactive: tags judged inactive.
        unknown: tags with no activity recorded at all (neither active nor inactive).
    """

    total: int = 0
    active: int = 0
    inactive: int = 0
    unknown: int = 0

    @classmethod
    def of(cls, tags: Iterable[TagAudit]) -> TagSummary:
        """Count ``tags`` by status."""
        statuses = [t.status for t in tags]
        return cls(
            total=len(statuses),
            active=statuses.count("active"),
            inactive=statuses.count("inactive"),
            unknown=sum(1 for s in statuses if s not in ("active", "inactive")),
        )


@attrs.frozen(kw_only=True)
class PlatformImage:
    """A platform image the tags point at, deduplicated by digest (tags source).

    Attributes:
        digest: the platform manifest's digest.
        platform: ``os/architecture[/variant]``.
        size: its compressed size in bytes.
        status: ``"active"``/``"inactive"`` (against ``active_from`` when given, else Hub's
            per-image ``status``), ``None`` if nothing is known.
        last_pushed: when it was last pushed.
        last_pulled: when it was last pulled.
        tags: the current tags pointing at it.
    """

    digest: str
    platform: str
    size: int | None = None
    status: str | None = None
    last_pushed: datetime | None = None
    last_pulled: datetime | None = None
    tags: tuple[str, ...] = ()


def platform_images(tags: Iterable[Tag], active_from: datetime | None) -> tuple[PlatformImage, ...]:
    """The platform images of ``tags``, one per digest, in first-seen order (pure)."""
    found: dict[str, PlatformImage] = {}
    for tag in tags:
        for image in tag.images:
            if image.digest is None:
                continue
            known = found.get(image.digest)
            if known is not None:
                if tag.name not in known.tags:
                    found[image.digest] = attrs.evolve(known, tags=(*known.tags, tag.name))
                continue
            if active_from is not None:
                pushes = [t for t in (image.last_pushed, image.last_pulled) if t is not None]
                status = (
                    ("active" if max(pushes) >= active_from else "inactive") if pushes else None
                )
            else:
                status = str(image.status) if image.status is not None else None
            found[image.digest] = PlatformImage(
                digest=image.digest,
                platform=_platform(image.os, image.architecture, image.variant),
                size=image.size,
                status=status,
                last_pushed=image.last_pushed,
                last_pulled=image.last_pulled,
                tags=(tag.name,),
            )
    return tuple(found.values())


@attrs.frozen(kw_only=True)
class RepositoryFacts:
    """What the namespace listing says about a repository (older repositories lack some).

    Attributes:
        storage_size: bytes of storage it uses.
        last_updated: when it was last pushed to.
        last_modified: when it was last modified.
        date_registered: when it was created.
        pull_count: how many pulls it had.
        is_private: whether it is private.
        star_count: how many users starred it.
        categories: the slugs of its categories.
        immutable_rules: the immutable-tag rules (regular expressions) when the listing
            said and they are enabled; ``None`` when the listing did not say.
    """

    storage_size: int | None = None
    last_updated: datetime | None = None
    last_modified: datetime | None = None
    date_registered: datetime | None = None
    pull_count: int | None = None
    is_private: bool | None = None
    star_count: int | None = None
    categories: tuple[str, ...] = ()
    immutable_rules: tuple[str, ...] | None = None

    @classmethod
    def from_repository(cls, repo: Repository) -> RepositoryFacts:
        """The facts of a listing entry (or of ``hub.repositories.get``)."""
        settings = repo.immutable_tags_settings
        rules = None
        if settings is not None:
            rules = tuple(settings.rules) if settings.enabled else ()
        return cls(
            immutable_rules=rules,
            storage_size=repo.storage_size,
            last_updated=repo.last_updated,
            last_modified=repo.last_modified,
            date_registered=repo.date_registered,
            pull_count=repo.pull_count,
            is_private=repo.is_private,
            star_count=repo.star_count,
            categories=tuple(c.slug for c in repo.categories),
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
        source: ``"tags"`` or ``"images"``: where activity was read from (``None`` for a
            namespace-level record).
        tag_summary: total, active, inactive (and unknown) tags (tags source).
        platform_images: the platform images the tags point at, one per digest, each with
            its own status (tags source).
        facts: what the namespace listing said about the repository.
        stale: no push or pull since ``active_from`` (default: Hub's past month) on any
            tag, image or the repository itself; ``None`` when it could not be judged.
    """

    namespace: str
    repository: str | None
    active_from: datetime | None = None
    summary: ImagesStatistics | None = None
    inactive_images: tuple[InactiveImage, ...] = ()
    tags: tuple[TagAudit, ...] | None = None
    errors: tuple[AuditFailure, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str | None = None
    tag_summary: TagSummary | None = None
    platform_images: tuple[PlatformImage, ...] = ()
    facts: RepositoryFacts | None = None
    stale: bool | None = None

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

    @property
    def inactive_tags(self) -> tuple[TagAudit, ...]:
        """The tags judged inactive."""
        return tuple(t for t in self.tags or () if t.status == "inactive")


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
        active_tags: tags judged active.
        inactive_tags: tags judged inactive.
        unknown_tags: tags with no activity recorded.
        storage_size: bytes of storage of the repositories (as the listing said).
        stale_repositories: repositories without a push or pull since ``active_from``.
        tags_source: repositories audited from their tags.
        images_source: repositories audited through the image API.
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
    active_tags: int = 0
    inactive_tags: int = 0
    unknown_tags: int = 0
    storage_size: int = 0
    stale_repositories: int = 0
    tags_source: int = 0
    images_source: int = 0

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
            summary = TagSummary.of(audit.tags)
            self.active_tags += summary.active
            self.inactive_tags += summary.inactive
            self.unknown_tags += summary.unknown
        if audit.facts is not None and audit.facts.storage_size is not None:
            self.storage_size += audit.facts.storage_size
        self.stale_repositories += 1 if audit.stale else 0
        self.tags_source += 1 if audit.source == "tags" else 0
        self.images_source += 1 if audit.source == "images" else 0

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
        stats = audit.summary
        if stats is None and audit.source == "tags" and audit.tag_summary is not None:
            t = audit.tag_summary
            stats = ImagesStatistics(total=t.total, active=t.active, inactive=t.inactive)
        if audit.repository is None or stats is None or self.keep_top == 0:
            return
        entry = _TopEntry(audit.namespace, audit.repository, stats)
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
        """The repositories with the most inactive images (tags, for the tags source):
        ``(namespace, repository, statistics)``, most inactive first (ties in name order)."""
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
    info: Repository | None = None


def _check_repositories(
    repositories: Mapping[str, Iterable[str]] | None, names: list[str]
) -> dict[str, list[str]]:
    """``audit_namespaces``' ``repositories``: checked names, duplicates dropped, in order;
    a namespace mapped to nothing is audited whole (left out)."""
    if repositories is None:
        return {}
    if not isinstance(repositories, Mapping):
        raise ValueError(
            "repositories must map a namespace to repository names, e.g. "
            f"{{'myorg': ['api', 'web']}}, got {type(repositories).__name__}"
        )
    chosen: dict[str, list[str]] = {}
    for ns, repos in repositories.items():
        if ns not in names:
            raise ValueError(
                f"repositories names namespace {ns!r}, which is not among the namespaces to "
                f"audit ({', '.join(names)}); add it to namespaces or drop it"
            )
        wanted = v.names_list(repos, v.repository, f"repositories[{ns!r}]", "names")
        if wanted:
            chosen[ns] = wanted
    return chosen


def _check_namespaces(namespaces: Iterable[str]) -> list[str]:
    return v.names_list(namespaces, v.namespace, "namespaces", "namespaces")


class _SourceProbe:
    """Decides the source of a run: fixed, or (``auto``) by asking the image API once.

    The first repository of the run calls ``images-summary``. A 404 (Hub's HTML page, or a
    JSON 404: the repository is known to exist, the listing returned it) means the image
    API is gone: tags for the whole run. Any other answer means it is there: images. No
    answer at all (a server error after retries, a connection fault, a rate-limit wait
    too long) decides nothing: that repository is audited from its tags and the next one
    probes again. Concurrent audits wait for the decision, so the run costs one probe.
    """

    def __init__(self, source: str) -> None:
        self.decided: str | None = None if source == "auto" else source
        self.probes = 0
        self._lock = asyncio.Lock()

    async def decide(
        self, hub: HubClient, namespace: str, repository: str, active_from: datetime | None
    ) -> tuple[str, ImagesSummary | None, HubError | None]:
        """``(source, summary, error)`` for this repository; ``summary``/``error`` are the
        probe's answer when this repository was the probe (reused, not asked twice)."""
        if self.decided is not None:
            return self.decided, None, None
        async with self._lock:
            if self.decided is not None:
                return self.decided, None, None
            self.probes += 1
            try:
                summary = await hub.images.summary(namespace, repository, active_from=active_from)
            except NotFoundError:
                self.decided = "tags"
                return "tags", None, None
            except (ServerError, TransportError, RateLimitError):
                return "tags", None, None
            except HubError as exc:
                if ends_run(exc):
                    raise
                self.decided = "images"
                return "images", None, exc
            self.decided = "images"
            return "images", summary, None


async def audit_namespaces(
    hub: HubClient,
    namespaces: Iterable[str],
    *,
    source: Source = "auto",
    active_from: datetime | None = None,
    include_tags: bool = False,
    concurrency: int | None = None,
    on_namespace: Callable[[str, int | None], None] | None = None,
    repositories: Mapping[str, Iterable[str]] | None = None,
) -> AsyncGenerator[RepositoryAudit, None]:
    """Audit every repository of ``namespaces``; yields one audit per repository as each
    finishes (completion order), plus one per namespace whose listing failed or showed
    nothing (a warning: a namespace that shows nothing is never reported as clean).

    To stop early, ``break`` inside ``contextlib.aclosing(audit_namespaces(...))`` (or call
    ``aclose()``): the audits in flight are cancelled and their connections returned.

    Sources (Docker retired the image API on 2023-12-11; Hub answers it with a 404 page):

    - ``"tags"``: list each repository's tags (``tag_status``, ``tag_last_pushed``,
      ``tag_last_pulled``, per-platform ``images[]``); requests = listing pages + tag pages.
    - ``"images"``: the seed's image API (summary, then the inactive images).
    - ``"auto"`` (default): ask ``images-summary`` once, on the first repository the
      listing returned; a 404 means tags for the whole run (one extra request per run).

    Args:
        hub: the client; every call shares its concurrency slots and rate budget.
        namespaces: the namespaces (organizations or users) to audit; duplicates are
            audited once.
        source: ``"auto"``, ``"tags"`` or ``"images"`` (see above).
        active_from: the instant from which a push or pull makes a tag or image active.
            Naive datetimes are refused. Without it, Hub's own judgement over the past
            month is used (``tag_status``, or the image API's default); the rule for tags
            without timestamps is in :mod:`hubasync._activity`.
        include_tags: with the images source, also list each repository's current tags
            (one more listing per repository) into :attr:`RepositoryAudit.tags`. The tags
            source always lists them.
        concurrency: repositories audited at once (default: the client's
            ``max_concurrency``). The client still bounds the requests in flight.
        on_namespace: called with ``(namespace, repository_count)`` when a namespace's
            first listing page arrives (``None`` count if Hub gave none); for progress.
        repositories: audit only these repositories of some namespaces (namespace ->
            repository names). Such a namespace is not listed: each named repository is
            read with ``repositories.get`` (one request each instead of the namespace's
            listing pages), and one Hub does not show becomes a failed audit of that
            repository. Namespaces not in the mapping are audited whole. Every key must be
            one of ``namespaces``.

    Raises:
        ValueError: a namespace or repository name is invalid, ``source`` is unknown,
            ``active_from`` is naive, ``concurrency`` is below 1, or ``repositories`` names
            a namespace not in ``namespaces`` (raised at the first iteration).
        AuthenticationError: the credentials were refused (the run stops).
        HubError: a login failed otherwise (its operation is ``auth.*``; the run stops).
    """
    names = _check_namespaces(namespaces)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
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
    chosen = _check_repositories(repositories, names)
    probe = _SourceProbe(source)

    async def named(ns: str, wanted: list[str]) -> AsyncIterator[_Job]:
        if on_namespace is not None:
            on_namespace(ns, len(wanted))
        for name in wanted:
            try:
                info = await hub.repositories.get(ns, name)
            except HubError as exc:
                if ends_run(exc):
                    raise
                yield _Job(ns, name, AuditFailure.from_exception(exc, "repositories.get"))
                continue
            yield _Job(ns, name, info=info)

    async def jobs() -> AsyncIterator[_Job]:
        for ns in names:
            if ns in chosen:
                async for job in named(ns, chosen[ns]):
                    yield job
                continue
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
                        yield _Job(ns, repo.name, info=repo)
                if listed == 0:
                    yield _Job(ns, None, warning=EMPTY_NAMESPACE_WARNING)
            except HubError as exc:
                if ends_run(exc):
                    raise
                if not seen_first and on_namespace is not None:
                    on_namespace(ns, 0)
                yield _Job(ns, None, AuditFailure.from_exception(exc, "repositories.list"))
            finally:
                await listing.aclose()

    async def audit(job: _Job) -> RepositoryAudit:
        if job.repository is None or job.failure is not None:
            errors = (job.failure,) if job.failure is not None else ()
            warnings = (job.warning,) if job.warning is not None else ()
            return RepositoryAudit(
                namespace=job.namespace,
                repository=job.repository,
                errors=errors,
                warnings=warnings,
            )
        facts = RepositoryFacts.from_repository(job.info) if job.info is not None else None
        chosen, summary, error = await probe.decide(hub, job.namespace, job.repository, active_from)
        if chosen == "tags":
            return await _audit_tags(hub, job.namespace, job.repository, facts, active_from)
        return await _audit_images(
            hub,
            job.namespace,
            job.repository,
            facts,
            active_from=active_from,
            include_tags=include_tags,
            probed=summary,
            probe_error=error,
        )

    async with fan_out(jobs(), audit, concurrency=concurrency) as outcomes:
        async for outcome in outcomes:
            if outcome.error is None:
                assert outcome.value is not None
                yield outcome.value
                continue
            error = outcome.error
            if ends_run(error):
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


def ends_run(error: BaseException) -> bool:
    """Whether ``error`` stops a whole run (audit or prune): refused credentials, or a login
    that could not be completed (Hub down for logins: every call would retry it in vain)."""
    if isinstance(error, AuthenticationError):
        return True
    return isinstance(error, HubError) and error.operation in _LOGIN_OPERATIONS


def _stale(
    active: bool, facts: RepositoryFacts | None, active_from: datetime | None, now: datetime
) -> bool:
    """No push or pull since the cutoff: nothing active, and no push to the repository."""
    if active:
        return False
    cutoff = active_from if active_from is not None else now - HUB_ACTIVE_WINDOW
    updated = facts.last_updated if facts is not None else None
    return updated is None or updated < cutoff


async def _audit_tags(
    hub: HubClient,
    namespace: str,
    repository: str,
    facts: RepositoryFacts | None,
    active_from: datetime | None,
) -> RepositoryAudit:
    """Every tag (one listing, 100 a page): statuses, summary, platform images, staleness.

    A listing that fails part-way (e.g. Hub's 403 to anonymous paging past item 1000)
    keeps the tags read so far, with the error and a warning: the audit is not clean
    (prune skips it) and staleness is not judged, but nothing read is thrown away.
    """
    listed, failure = await _read_all(
        hub.repositories.tags(namespace, repository), "repositories.tags"
    )
    if failure is not None and not listed:
        return RepositoryAudit(
            namespace=namespace,
            repository=repository,
            active_from=active_from,
            source="tags",
            facts=facts,
            errors=(failure,),
        )
    now = datetime.now(UTC)
    tags = tuple(TagAudit.from_tag(t, active_from=active_from, now=now) for t in listed)
    summary = TagSummary.of(tags)
    return RepositoryAudit(
        namespace=namespace,
        repository=repository,
        active_from=active_from,
        tags=tags,
        source="tags",
        tag_summary=summary,
        platform_images=platform_images(listed, active_from),
        facts=facts,
        errors=(failure,) if failure is not None else (),
        warnings=(_partial_tags_warning(len(tags)),) if failure is not None else (),
        stale=None if failure is not None else _stale(summary.active > 0, facts, active_from, now),
    )


def _partial_tags_warning(read: int) -> str:
    return (
        f"only the first {read} tags could be read (see the error); the tags after them "
        "are not in this audit"
    )


async def _read_all(items: AsyncIterable[T], operation: str) -> tuple[list[T], AuditFailure | None]:
    """Every item ``items`` yields, or those read before it failed and the failure (e.g.
    Hub's 403 to anonymous paging past item 1000): nothing read is thrown away. A failure
    that ends the run (refused credentials) is raised."""
    read: list[T] = []
    try:
        async for item in items:
            read.append(item)
    except (HubError, ValueError) as exc:
        if ends_run(exc):
            raise
        return read, AuditFailure.from_exception(exc, operation)
    return read, None


async def _audit_images(
    hub: HubClient,
    namespace: str,
    repository: str,
    facts: RepositoryFacts | None,
    *,
    active_from: datetime | None,
    include_tags: bool,
    probed: ImagesSummary | None = None,
    probe_error: HubError | None = None,
) -> RepositoryAudit:
    """Summary, then inactive images (when there are any), then tags (when asked)."""
    errors: list[AuditFailure] = []
    try:
        if probe_error is not None:
            raise probe_error
        summary = probed or await hub.images.summary(namespace, repository, active_from=active_from)
    except (HubError, ValueError) as exc:
        if ends_run(exc):
            raise
        return RepositoryAudit(
            namespace=namespace,
            repository=repository,
            source="images",
            facts=facts,
            errors=(AuditFailure.from_exception(exc, "images.summary"),),
        )
    # Judge the list by the very instant the summary used, so the two agree.
    since = active_from or summary.active_from
    inactive: tuple[InactiveImage, ...] = ()
    warnings: list[str] = []
    if summary.statistics.inactive > 0:
        listing = hub.images.list(namespace, repository, status="inactive", active_from=since)
        images, failure = await _read_all(listing, "images.list")
        inactive = tuple(InactiveImage.from_image(i) for i in images)
        if failure is not None:
            errors.append(failure)
    tags: tuple[TagAudit, ...] | None = None
    if include_tags:
        digests = frozenset(image.digest for image in inactive)
        listed, failure = await _read_all(
            hub.repositories.tags(namespace, repository), "repositories.tags"
        )
        if failure is not None:
            errors.append(failure)
        if listed or failure is None:
            tags = tuple(TagAudit.from_tag(t, digests, active_from=since) for t in listed)
            if failure is not None:
                warnings.append(_partial_tags_warning(len(tags)))
    now = datetime.now(UTC)
    return RepositoryAudit(
        namespace=namespace,
        repository=repository,
        active_from=summary.active_from or active_from,
        summary=summary.statistics,
        inactive_images=inactive,
        tags=tags,
        errors=tuple(errors),
        warnings=tuple(warnings),
        source="images",
        tag_summary=TagSummary.of(tags) if tags is not None else None,
        facts=facts,
        stale=_stale(summary.statistics.active > 0, facts, since, now),
    )
