"""hubasync.audit: the audit workflow against FakeHub, and the pure aggregation."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubasync import HubClient
from hubasync.audit import (
    EMPTY_NAMESPACE_WARNING,
    AuditFailure,
    AuditReport,
    RepositoryAudit,
    audit_namespaces,
    summarize,
)
from hubasync.errors import AuthenticationError, NotFoundError, ServerError
from hubasync.models.images import ImagesStatistics
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

PAT = "dckr_pat_alice_audit_0123456789"
NOW = datetime.now(UTC)
SINCE = NOW - timedelta(days=30)

OLD_TAGGED = digest_of("api-old-tagged")  # pushed 100 days ago, tagged 1.0: inactive
OLD_PULLED = digest_of("api-old-pulled")  # pushed 60 d, pulled 40 d ago, no tag: inactive
NEW = digest_of("api-new")  # pushed 5 days ago, latest: active
REVIVED = digest_of("api-revived")  # pushed 90 days ago, pulled 2 days ago: active


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


#: These tests audit through the seed's image API (the images source), so FakeHub serves it.
pytestmark = pytest.mark.fake_hub(image_api=True)


def seed(server: FakeHub) -> None:
    """alice (a PAT) owns acme; bob's org 'bobs' has a public and a private repository."""
    server.add_user("alice", "alice-password", pats=[PAT])
    server.add_user("bob", "bob-password")
    server.add_namespace("acme", members=["alice"])
    server.add_repository(
        "acme",
        "api",
        images=[
            FakeImage(OLD_TAGGED, tags=["1.0"], last_pushed=_days(100)),
            FakeImage(OLD_PULLED, last_pushed=_days(60), last_pulled=_days(40)),
            FakeImage(REVIVED, last_pushed=_days(90), last_pulled=_days(2)),
            FakeImage(NEW, tags=["latest"], last_pushed=_days(5)),
        ],
    )
    server.add_repository(
        "acme",
        "web",
        images=[
            FakeImage(digest_of("web-1"), tags=["latest"], last_pushed=_days(1)),
            FakeImage(digest_of("web-2"), last_pushed=_days(3)),
        ],
    )
    server.add_repository("acme", "empty")
    server.add_namespace("bobs", members=["bob"])
    server.add_repository(
        "bobs", "pub", images=[FakeImage(digest_of("pub"), tags=["x"], last_pushed=_days(50))]
    )
    server.add_repository("bobs", "hidden", is_private=True)


@contextlib.asynccontextmanager
async def client(server: FakeHub, secret: str = PAT, **options: object) -> AsyncIterator[HubClient]:
    options.setdefault("requests_per_minute", 1_000_000)
    async with HubClient(username="alice", secret=secret, base_url=server.url, **options) as hub:  # type: ignore[arg-type]
        yield hub


async def collect(
    hub: HubClient, namespaces: list[str], **kw: object
) -> dict[str, RepositoryAudit]:
    audits: dict[str, RepositoryAudit] = {}
    async for audit in audit_namespaces(hub, namespaces, **kw):  # type: ignore[arg-type]
        assert audit.full_name not in audits
        audits[audit.full_name] = audit
    return audits


async def test_audit_reports_counts_inactive_images_and_failures(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["acme", "bobs", "missing"], active_from=SINCE)

    assert set(audits) == {"acme/api", "acme/web", "acme/empty", "bobs/pub", "missing"}
    api = audits["acme/api"]
    assert api.ok
    assert api.summary == ImagesStatistics(total=4, active=2, inactive=2)
    by_digest = {image.digest: image for image in api.inactive_images}
    assert set(by_digest) == {OLD_TAGGED, OLD_PULLED}
    assert by_digest[OLD_TAGGED].tags == ("1.0",)
    assert by_digest[OLD_TAGGED].last_pulled is None
    assert abs(by_digest[OLD_TAGGED].last_pushed - _days(100)) < timedelta(seconds=1)  # type: ignore[operator]
    assert by_digest[OLD_PULLED].tags == ()
    assert abs(by_digest[OLD_PULLED].last_pulled - _days(40)) < timedelta(seconds=1)  # type: ignore[operator]
    assert api.inactive_tagged == 1
    assert api.tags is None  # not asked for
    assert api.active_from is not None and abs(api.active_from - SINCE) < timedelta(seconds=1)

    assert audits["acme/web"].summary == ImagesStatistics(total=2, active=2, inactive=0)
    assert audits["acme/web"].inactive_images == ()
    assert audits["acme/empty"].summary == ImagesStatistics(total=0, active=0, inactive=0)

    # alice may list bobs' public repository but not read its images: reported, run goes on.
    pub = audits["bobs/pub"]
    assert not pub.ok and pub.summary is None
    assert [(f.status, f.error, f.operation) for f in pub.errors] == [
        (403, "PermissionDeniedError", "images.summary")
    ]
    # A namespace that does not exist lists as empty (like Hub): a warning, never clean.
    missing = audits["missing"]
    assert missing.repository is None and missing.ok
    assert missing.warnings == (EMPTY_NAMESPACE_WARNING,)

    report = summarize(audits.values())
    assert report.totals.repositories == 4
    assert report.totals.failed_repositories == 1
    assert report.totals.failed_namespaces == 0
    assert report.totals.empty_namespaces == 1
    assert report.totals.failures == 1
    assert (report.totals.images, report.totals.active, report.totals.inactive) == (6, 4, 2)
    assert report.totals.inactive_listed == 2 and report.totals.inactive_tagged == 1
    assert report.namespaces["acme"].images == 6
    assert report.namespaces["bobs"].failed_repositories == 1
    assert report.namespaces["missing"].empty_namespaces == 1
    assert {a.full_name for a in report.failures} == {"bobs/pub"}
    assert [a.full_name for a in report.warnings] == ["missing"]
    assert not report.ok
    assert report.top_inactive()[0][:2] == ("acme", "api")


async def test_default_active_from_is_hubs_and_list_agrees_with_summary(
    fake_hub: FakeHub,
) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["acme"])  # Hub's default: one month ago
    api = audits["acme/api"]
    assert api.active_from is not None
    assert {i.digest for i in api.inactive_images} == {OLD_TAGGED, OLD_PULLED}
    # The list was asked with the summary's own instant.
    lists = [r for r in fake_hub.requests if r.path.endswith("/acme/repositories/api/images")]
    assert len(lists) == 1 and "active_from" in lists[0].query
    # No list request for repositories without inactive images.
    assert not [r for r in fake_hub.requests if r.path.endswith("/repositories/web/images")]


async def test_include_tags_marks_tags_of_inactive_images(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["acme"], active_from=SINCE, include_tags=True)
    tags = {t.name: t for t in audits["acme/api"].tags or ()}
    assert set(tags) == {"1.0", "latest"}
    assert tags["1.0"].digest == OLD_TAGGED and tags["1.0"].inactive_image
    assert tags["latest"].digest == NEW and not tags["latest"].inactive_image
    assert audits["acme/empty"].tags == ()
    assert summarize(audits.values()).totals.tags == 3


async def test_aggregates_match_hub_on_generated_data() -> None:
    server = FakeHub.generate(
        namespaces=3, repos_per_namespace=4, images_per_repo=15, seed=5, audit=False, image_api=True
    )
    data = server.generated
    assert data is not None
    async with server:
        async with HubClient(
            username=data.username,
            secret=data.pat,
            base_url=server.url,
            requests_per_minute=1_000_000,
        ) as hub:
            report = AuditReport(keep_top=3)
            audits = []
            async for audit in audit_namespaces(hub, data.namespaces, concurrency=4):
                report.add(audit)
                audits.append(audit)
            assert {a.full_name for a in audits} == set(data.repositories)
            for audit in audits[:4]:  # spot-check against Hub's own answers
                assert audit.repository is not None
                direct = await hub.images.summary(audit.namespace, audit.repository)
                assert audit.summary == direct.statistics
                listed = hub.images.list(audit.namespace, audit.repository, status="inactive")
                assert [i.digest async for i in listed] == [i.digest for i in audit.inactive_images]
    assert report.ok
    assert report.totals.repositories == 12
    assert report.totals.images == data.images == 12 * 15
    assert report.totals.inactive == report.totals.inactive_listed
    assert report.totals.images == report.totals.active + report.totals.inactive
    assert sum(n.images for n in report.namespaces.values()) == report.totals.images
    assert set(report.namespaces) == set(data.namespaces)
    top = report.top_inactive()
    assert len(top) == 3
    most = max(a.summary.inactive for a in audits if a.summary is not None)
    assert top[0][2].inactive == most


async def test_server_errors_fail_one_repository_and_the_run_goes_on(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.inject(Fault.error(503, path=r"/acme/repositories/web/images-summary$"))
    fake_hub.inject(Fault.error(500, path=r"/acme/repositories/api/images$"))
    async with client(fake_hub, max_retries=1) as hub:
        audits = await collect(hub, ["acme"], active_from=SINCE, source="images")
    web = audits["acme/web"]
    assert web.summary is None
    assert [(f.status, f.error) for f in web.errors] == [(503, "ServerError")]
    # The summary worked, the inactive list did not: the counts are kept with the error.
    api = audits["acme/api"]
    assert api.summary == ImagesStatistics(total=4, active=2, inactive=2)
    assert api.inactive_images == ()
    assert [(f.operation, f.status) for f in api.errors] == [("images.list", 500)]
    assert audits["acme/empty"].ok


async def test_refused_credentials_stop_the_run(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub, secret="dckr_pat_wrong_wrong_wrong") as hub:
        with pytest.raises(AuthenticationError):
            await collect(hub, ["acme", "bobs"])


async def test_a_login_hub_cannot_complete_stops_the_run_once(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.inject(Fault.error(503, times=1000, path="^/v2/auth/token$"))
    async with client(fake_hub, max_retries=1) as hub:
        with pytest.raises(ServerError) as info:
            await collect(hub, ["acme", "bobs", "alice"])
    assert info.value.operation == "auth.token"
    logins = [r for r in fake_hub.requests if r.path == "/v2/auth/token"]
    assert len(logins) <= 2 * 3  # not once per namespace and repository: about the first few
    assert not [r for r in fake_hub.requests if not r.path.startswith("/v2/auth/")]


async def test_streams_repositories_instead_of_listing_everything_first(
    fake_hub: FakeHub,
) -> None:
    fake_hub.add_user("alice", "alice-password", pats=[PAT])
    fake_hub.add_namespace("big", members=["alice"])
    for i in range(250):
        fake_hub.add_repository("big", f"repo{i:03d}")
    fake_hub.add_namespace("later", members=["alice"])
    fake_hub.add_repository("later", "x")
    counts: list[tuple[str, int | None]] = []
    async with client(fake_hub, page_prefetch=1) as hub:
        audits = audit_namespaces(
            hub, ["big", "later"], concurrency=2, on_namespace=lambda ns, n: counts.append((ns, n))
        )
        first = await anext(audits)
        await audits.aclose()
    assert first.namespace == "big"
    assert counts == [("big", 250)]
    listings = [r for r in fake_hub.requests if r.path.endswith("/repositories")]
    summaries = [r for r in fake_hub.requests if r.path.endswith("/images-summary")]
    assert [r.query.get("page", "1") for r in listings] == ["1"]  # one page of 100, not 3
    assert len(summaries) <= 4  # about `concurrency`, not 250


async def test_on_namespace_counts_and_duplicates(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    counts: dict[str, int | None] = {}
    async with client(fake_hub) as hub:
        audits = await collect(
            hub, ["acme", "acme", "missing"], on_namespace=lambda ns, n: counts.update({ns: n})
        )
    assert counts == {"acme": 3, "missing": 0}
    assert sorted(audits) == ["acme/api", "acme/empty", "acme/web", "missing"]
    assert audits["missing"].warnings == (EMPTY_NAMESPACE_WARNING,)


@pytest.mark.parametrize(
    ("namespaces", "kwargs", "needle"),
    [
        ("acme", {}, "list of namespaces"),
        (["Acme"], {}, "upper-case"),
        (["acme/api"], {}, "not a valid"),
        (["acme"], {"concurrency": 0}, "concurrency"),
        (["acme"], {"active_from": datetime(2024, 1, 1)}, "active_from"),
    ],
)
async def test_bad_input_raises_value_error_before_sending(
    fake_hub: FakeHub, namespaces: object, kwargs: dict[str, object], needle: str
) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        with pytest.raises(ValueError, match=needle):
            await anext(audit_namespaces(hub, namespaces, **kwargs))  # type: ignore[arg-type]
    assert fake_hub.requests == []


# ------------------------------------------------------------------- pure aggregation


def test_failure_from_exception_keeps_status_operation_and_one_line() -> None:
    exc = NotFoundError("images.summary: no such\n repository", status=404, operation="images.x")
    failure = AuditFailure.from_exception(exc, "fallback")
    assert failure == AuditFailure(
        operation="images.x",
        status=404,
        error="NotFoundError",
        message="images.summary: no such repository [HTTP 404]",
    )
    assert AuditFailure.from_exception(ServerError("boom"), "op").operation == "op"
    assert AuditFailure.from_exception(ValueError(), "op").message == "ValueError"


_names = st.sampled_from(["a", "b", "c"])
_stats = st.builds(
    lambda active, inactive: ImagesStatistics(
        total=active + inactive, active=active, inactive=inactive
    ),
    st.integers(0, 50),
    st.integers(0, 50),
)
_audits = st.builds(
    lambda ns, repo, stats, failed: RepositoryAudit(
        namespace=ns,
        repository=repo,
        summary=None if failed and repo is not None else stats,
        errors=(AuditFailure(operation="x", status=500, error="E", message="m"),) if failed else (),
    ),
    _names,
    st.one_of(st.none(), st.text("xyz", min_size=1, max_size=3)),
    _stats,
    st.booleans(),
).filter(lambda a: a.repository is not None or a.errors)


@given(st.lists(_audits, max_size=30), st.integers(0, 5))
def test_report_totals_are_sums_and_top_is_the_largest(
    audits: list[RepositoryAudit], keep: int
) -> None:
    report = summarize(audits, keep_top=keep)
    repos = [a for a in audits if a.repository is not None]
    counted = [a.summary for a in repos if a.summary is not None]
    assert report.totals.repositories == len(repos)
    assert report.totals.images == sum(s.total for s in counted)
    assert report.totals.inactive == sum(s.inactive for s in counted)
    assert report.totals.failures == sum(1 for a in audits if a.errors)
    for field in ("repositories", "images", "active", "inactive", "failed_namespaces"):
        assert sum(getattr(n, field) for n in report.namespaces.values()) == getattr(
            report.totals, field
        )
    expected = sorted(
        ((a.namespace, a.repository, a.summary) for a in repos if a.summary is not None),
        key=lambda t: (-t[2].inactive, t[0], t[1]),
    )[:keep]
    assert [(n, r, s.inactive) for n, r, s in report.top_inactive()] == [
        (n, r, s.inactive) for n, r, s in expected
    ]
    assert report.ok == (report.totals.failures == 0)


def test_report_rejects_bad_keep_top() -> None:
    with pytest.raises(ValueError, match="keep_top"):
        AuditReport(keep_top=-1)
