"""The audit on today's Hub: tags as the source, the retired image API detected once.

FakeHub's default is today's Hub (image API answering a 404 HTML page), so these tests
audit what users actually have; the seed path is covered by tests/test_audit.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from hubasync import HubClient
from hubasync._activity import last_activity, tag_status
from hubasync.audit import (
    EMPTY_NAMESPACE_WARNING,
    RepositoryAudit,
    TagSummary,
    audit_namespaces,
    summarize,
)
from hubasync.cli._app import cli
from hubasync.models.repositories import Tag, TagImage, TagStatus
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of
from tests.test_cli import ThreadedHub

PAT = "dckr_pat_alice_tags_0123456789"
NOW = datetime.now(UTC)
CUTOFF_DAYS = 45


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


#: (tag, pushed days ago, pulled days ago or None) in ns1/app; cutoff 45 days.
APP_TAGS = [
    ("latest", 2, None),  # active: pushed recently
    ("1.0", 300, 10),  # active: pulled after the cutoff
    ("0.9", 300, 100),  # inactive
    ("0.8", 400, None),  # inactive, never pulled
    ("rc", 44, None),  # active: just inside
    ("old-rc", 46, None),  # inactive: just outside
]


def seed(server: FakeHub) -> dict[str, set[str]]:
    """Two namespaces; returns the tags that must come out inactive, per repository."""
    server.add_user("alice", "alice-password", pats=[PAT])
    for ns in ("ns1", "ns2"):
        server.add_namespace(ns, members=["alice"])
    images = [
        FakeImage(
            digest_of(f"app-{name}"),
            tags=[name],
            last_pushed=_days(pushed),
            last_pulled=_days(pulled) if pulled is not None else None,
        )
        for name, pushed, pulled in APP_TAGS
    ]
    server.add_repository("ns1", "app", images=images)
    # 150 tags: two tag pages; every other one inactive.
    many = [
        FakeImage(digest_of(f"big-{i}"), tags=[f"v{i}"], last_pushed=_days(10 if i % 2 else 90))
        for i in range(150)
    ]
    server.add_repository("ns1", "big", images=many)
    # 105 repositories: two listing pages.
    for i in range(105):
        server.add_repository(
            "ns2",
            f"svc-{i:03d}",
            images=[FakeImage(digest_of(f"svc-{i}"), tags=["latest"], last_pushed=_days(i + 0.5))],
        )
    expected = {
        "ns1/app": {name for name, pushed, pulled in APP_TAGS if name in ("0.9", "0.8", "old-rc")},
        "ns1/big": {f"v{i}" for i in range(150) if i % 2 == 0},
    }
    for i in range(105):
        expected[f"ns2/svc-{i:03d}"] = {"latest"} if i >= CUTOFF_DAYS else set()
    return expected


@asynccontextmanager
async def client(server: FakeHub, **options: Any) -> AsyncIterator[HubClient]:
    async with HubClient(
        username="alice", secret=PAT, base_url=server.url, requests_per_minute=1_000_000, **options
    ) as hub:
        yield hub


async def collect(hub: HubClient, namespaces: list[str], **kw: Any) -> dict[str, RepositoryAudit]:
    return {a.full_name: a async for a in audit_namespaces(hub, namespaces, **kw)}


# ------------------------------------------------------------------- the CLI, "Done when"


def _build() -> FakeHub:
    server = FakeHub(rate_limit=1_000_000, window_s=60)
    server.expected = seed(server)  # type: ignore[attr-defined]
    return server


@pytest.fixture(scope="module")
def today() -> Any:
    threaded = ThreadedHub(_build)
    try:
        yield threaded
    finally:
        threaded.close()


def test_cli_audit_json_on_todays_hub(today: ThreadedHub) -> None:
    server = today.server
    today.sync(server.reset_log)
    env = {"HUBASYNC_BASE_URL": server.url, "DOCKERHUB_USERNAME": "alice", "DOCKERHUB_TOKEN": PAT}
    result = CliRunner().invoke(
        cli,
        ["audit", "ns1", "ns2", "--format", "json", "--active-from", f"{CUTOFF_DAYS}d"],
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    repos = {f"{r['namespace']}/{r['repository']}": r for r in doc["repositories"]}
    expected: dict[str, set[str]] = server.expected  # type: ignore[attr-defined]
    assert set(repos) == set(expected)
    for name, record in repos.items():
        assert record["source"] == "tags" and record["errors"] == [], name
        inactive = {t["name"] for t in record["tags"] if t["status"] == "inactive"}
        assert inactive == expected[name], name
        assert record["tag_summary"]["inactive"] == len(expected[name])
    app = repos["ns1/app"]
    assert len(app["tags"]) == len(APP_TAGS) and app["facts"]["storage_size"] > 0
    assert {i["digest"] for i in app["platform_images"]} == {
        digest_of(f"app-{name}") for name, _, _ in APP_TAGS
    }
    assert doc["totals"]["tags_source"] == 107 and doc["totals"]["images_source"] == 0
    assert doc["totals"]["inactive_tags"] == sum(len(v) for v in expected.values())
    assert "untagged" in doc["notes"][0]
    # Requests: login + listing pages + tag pages + one probe, nothing else.
    sent = today.sync(lambda: list(server.requests))
    listing_pages = 1 + math.ceil(105 / 100)
    tag_pages = 1 + math.ceil(150 / 100) + 105
    probes = [r for r in sent if r.path.endswith("/images-summary")]
    assert len(probes) == 1 and probes[0].status == 404
    assert len(sent) == 1 + listing_pages + tag_pages + 1
    assert all(r.status in (200, 404) for r in sent)


def test_cli_audit_of_an_empty_namespace_warns_and_is_not_clean(today: ThreadedHub) -> None:
    server = today.server
    env = {"HUBASYNC_BASE_URL": server.url, "DOCKERHUB_USERNAME": "alice", "DOCKERHUB_TOKEN": PAT}
    result = CliRunner().invoke(cli, ["audit", "ns1", "nobody", "--format", "csv"], env=env)
    assert result.exit_code == 3  # partial: ns1 was audited, "nobody" showed nothing
    alone = CliRunner().invoke(cli, ["audit", "nobody", "--format", "json"], env=env)
    assert alone.exit_code == 1
    assert f"warning: nobody: {EMPTY_NAMESPACE_WARNING}" in result.stderr
    assert "nobody,,," in result.stdout and EMPTY_NAMESPACE_WARNING in result.stdout
    table = CliRunner().invoke(cli, ["audit", "ns1", "nobody"], env={**env, "COLUMNS": "160"})
    assert "empty: nothing visible" in table.stdout and "inactive tags" in table.stdout
    assert "untagged manifests are not visible" in " ".join(table.stdout.split())


# ------------------------------------------------------------------ the library workflow


async def test_source_tags_never_probes_and_auto_probes_once(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["ns1"], source="tags", active_from=_days(CUTOFF_DAYS))
        assert not [r for r in fake_hub.requests if "images" in r.path]
        fake_hub.reset_log()
        auto = await collect(hub, ["ns1"], active_from=_days(CUTOFF_DAYS), concurrency=8)
    assert [r.path for r in fake_hub.requests if "images" in r.path] == [
        "/v2/namespaces/ns1/repositories/app/images-summary"  # the first one listed
    ]
    assert {a.source for a in auto.values()} == {"tags"}
    assert {k: a.tags for k, a in auto.items()} == {k: a.tags for k, a in audits.items()}


async def test_auto_uses_the_image_api_when_it_is_there(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.image_api = True
    async with client(fake_hub) as hub:
        auto = await collect(hub, ["ns1"], active_from=_days(CUTOFF_DAYS))
        auto_requests = len(fake_hub.requests)
        fake_hub.reset_log()
        forced = await collect(hub, ["ns1"], source="images", active_from=_days(CUTOFF_DAYS))
    assert {a.source for a in auto.values()} == {"images"}
    assert len(fake_hub.requests) == auto_requests - 1  # the login: the probe was reused
    assert {k: a.summary for k, a in auto.items()} == {k: a.summary for k, a in forced.items()}
    assert auto["ns1/app"].summary is not None and auto["ns1/app"].summary.inactive == 3


async def test_a_probe_without_an_answer_decides_nothing(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.inject(Fault.error(503, times=1, path="/images-summary$"))
    async with client(fake_hub, max_retries=0) as hub:
        audits = await collect(hub, ["ns1"], concurrency=1)
    assert all(a.ok and a.source == "tags" for a in audits.values())
    probes = [r.status for r in fake_hub.requests if r.path.endswith("/images-summary")]
    assert probes == [503, 404]  # the next repository asked again; then tags for the run


async def test_stale_repositories_and_storage(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["ns2"], source="tags", active_from=_days(CUTOFF_DAYS))
    stale = sorted(k for k, a in audits.items() if a.stale)
    assert stale == [f"ns2/svc-{i:03d}" for i in range(CUTOFF_DAYS, 105)]
    report = summarize(audits.values())
    assert report.totals.stale_repositories == len(stale)
    assert report.totals.storage_size == sum(a.facts.storage_size or 0 for a in audits.values())  # type: ignore[union-attr]
    assert report.ok


async def test_without_active_from_hubs_tag_status_is_used(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["ns1"], source="tags")
    app = {t.name: t for t in audits["ns1/app"].tags or ()}
    # Hub judges over the past month: "rc" (44 days) is inactive by Hub's rule.
    assert {n for n, t in app.items() if t.status == "inactive"} == {"0.9", "0.8", "old-rc", "rc"}
    assert all(t.status == t.hub_status for t in app.values())
    assert audits["ns1/app"].tag_summary == TagSummary(total=6, active=2, inactive=4)


async def test_platform_images_are_deduplicated_by_digest(fake_hub: FakeHub) -> None:
    fake_hub.add_user("alice", "alice-password", pats=[PAT])
    multi = FakeImage(
        digest_of("index"),
        tags=["latest", "1.2", "1"],
        children=[digest_of("index/amd64"), digest_of("index/arm64")],
        last_pushed=_days(100),
    )
    fake_hub.add_repository("alice", "multi", images=[multi])
    async with client(fake_hub) as hub:
        audits = await collect(hub, ["alice"], source="tags", active_from=_days(30))
    audit = audits["alice/multi"]
    assert [(i.digest, i.platform, i.status) for i in audit.platform_images] == [
        (digest_of("index/amd64"), "linux/amd64", "inactive"),
        (digest_of("index/arm64"), "linux/arm64/v8", "inactive"),
    ]
    assert all(set(i.tags) == {"latest", "1.2", "1"} for i in audit.platform_images)
    assert {t.digest for t in audit.tags or ()} == {digest_of("index")}
    assert audit.tags and audit.tags[0].platforms == ("linux/amd64", "linux/arm64/v8")


async def test_unknown_source_is_refused(fake_hub: FakeHub) -> None:
    async with client(fake_hub) as hub:
        with pytest.raises(ValueError, match="source must be one of auto, tags, images"):
            await collect(hub, ["ns1"], source="registry")
    assert fake_hub.requests == []


async def test_named_repositories_are_read_one_by_one_and_the_rest_listed(
    fake_hub: FakeHub,
) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        audits = await collect(
            hub,
            ["ns1", "ns2"],
            source="tags",
            active_from=_days(CUTOFF_DAYS),
            repositories={"ns2": ["svc-050", "nope", "svc-050"], "ns1": []},
        )
    paths = [r.path for r in fake_hub.requests]
    assert sorted(audits) == ["ns1/app", "ns1/big", "ns2/nope", "ns2/svc-050"]
    assert "/v2/namespaces/ns2/repositories" not in paths  # ns2 is not listed
    assert "/v2/namespaces/ns1/repositories" in paths  # ns1, mapped to nothing, is
    assert paths.count("/v2/namespaces/ns2/repositories/svc-050") == 1  # read once
    assert not [p for p in paths if "/ns2/repositories/svc-0" in p and "svc-050" not in p]
    # svc-050's only tag was pushed 50.5 days ago: inactive at a 45-day cutoff
    assert [t.name for t in audits["ns2/svc-050"].inactive_tags] == ["latest"]
    missing = audits["ns2/nope"]
    assert not missing.ok and missing.errors[0].operation == "repositories.get"
    assert missing.errors[0].status == 404


@pytest.mark.parametrize(
    ("repositories", "message"),
    [
        ({"other": ["app"]}, "'other', which is not among the namespaces"),
        ({"ns1": "app"}, r"must be a list of names, e.g. \['app'\]"),
        ({"ns1": ["bad name!"]}, "repository"),
        (["ns1/app"], "must map a namespace to repository names"),
    ],
)
async def test_bad_repositories_are_refused_before_any_request(
    fake_hub: FakeHub, repositories: Any, message: str
) -> None:
    async with client(fake_hub) as hub:
        with pytest.raises(ValueError, match=message):
            await collect(hub, ["ns1"], repositories=repositories)
    assert fake_hub.requests == []


async def test_anonymous_paging_past_1000_keeps_the_tags_read(fake_hub: FakeHub) -> None:
    # Hub refuses anonymous paging past item 1000 (403): the 1000 tags read are reported,
    # with the error, never thrown away; the audit is not clean and prune skips it.
    fake_hub.add_namespace("ns1")
    many = [
        FakeImage(digest_of(f"huge-{i}"), tags=[f"v{i}"], last_pushed=_days(90))
        for i in range(1005)
    ]
    fake_hub.add_repository("ns1", "huge", images=many)
    async with HubClient(base_url=fake_hub.url, requests_per_minute=1_000_000) as hub:
        audits = await collect(hub, ["ns1"], source="tags", active_from=_days(CUTOFF_DAYS))
    huge = audits["ns1/huge"]
    assert not huge.ok
    assert [(f.operation, f.status) for f in huge.errors] == [("repositories.tags", 403)]
    assert huge.tags is not None and len({t.name for t in huge.tags}) == 1000
    assert huge.tag_summary == TagSummary(total=1000, active=0, inactive=1000)
    assert huge.stale is None  # not judged on a partial listing
    assert huge.warnings and "1000" in huge.warnings[0]


async def test_images_source_keeps_the_tags_read_before_a_failure() -> None:
    # The seed path with include_tags: page 2 of the tags is refused (Hub's 403 past
    # item 1000 when anonymous); page 1's tags stay in the audit, with the error.
    def page(results: list[dict[str, Any]], count: int) -> web.Response:
        more = "/more" if len(results) < count else None
        body = {"count": count, "next": more, "previous": None, "results": results}
        return web.json_response(body)

    async def handler(request: web.Request) -> web.StreamResponse:
        path, number = request.path, int(request.query.get("page", "1"))
        if path.endswith("/repositories"):
            return page([{"name": "huge", "namespace": "ns1"}], 1)
        if path.endswith("/images-summary"):
            stats = {"total": 150, "active": 150, "inactive": 0}
            return web.json_response({"active_from": "2024-01-01T00:00:00Z", "statistics": stats})
        if path.endswith("/tags") and number == 1:
            return page([{"name": f"v{i}"} for i in range(100)], 150)
        return web.json_response({"detail": "forbidden"}, status=403)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1") as server:
        base = str(server.make_url("")).rstrip("/")
        async with HubClient(base_url=base, requests_per_minute=1_000_000) as hub:
            audits = await collect(hub, ["ns1"], source="images", include_tags=True)
    huge = audits["ns1/huge"]
    assert [(f.operation, f.status) for f in huge.errors] == [("repositories.tags", 403)]
    assert huge.summary is not None and huge.summary.total == 150
    assert huge.tags is not None and [t.name for t in huge.tags] == [f"v{i}" for i in range(100)]
    assert huge.warnings and "100 tags" in huge.warnings[0]


# ---------------------------------------------------------------- the activity rule (pure)

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _tag(**kw: Any) -> Tag:
    return Tag(name="t", **kw)


@pytest.mark.parametrize(
    ("tag", "instant", "basis"),
    [
        (_tag(tag_last_pushed=T0, tag_last_pulled=T0 + timedelta(days=3)), 3, "tag"),
        (_tag(tag_last_pushed=T0, tag_last_pulled=None), 0, "tag"),
        (_tag(images=[TagImage(last_pushed=T0, last_pulled=T0 + timedelta(days=1))]), 1, "images"),
        (_tag(last_updated=T0 + timedelta(days=2)), 2, "pushed"),
        (_tag(), None, None),
    ],
)
def test_last_activity_rule(tag: Tag, instant: int | None, basis: str | None) -> None:
    expected = None if instant is None else T0 + timedelta(days=instant)
    assert last_activity(tag) == (expected, basis)


@pytest.mark.parametrize(
    ("tag", "active_from", "status"),
    [
        (_tag(tag_last_pushed=T0, tag_status=TagStatus.ACTIVE), T0 + timedelta(days=1), "inactive"),
        (_tag(tag_last_pushed=T0, tag_status=TagStatus.INACTIVE), T0, "active"),  # at = active
        (_tag(tag_last_pushed=T0, tag_status=TagStatus.INACTIVE), None, "inactive"),
        (_tag(images=[TagImage(status="active")]), None, "active"),  # type: ignore[arg-type]
        (_tag(last_updated=T0), T0 - timedelta(days=1), "active"),
        (_tag(), T0, None),
    ],
)
def test_tag_status_rule(tag: Tag, active_from: datetime | None, status: str | None) -> None:
    assert tag_status(tag, active_from, now=T0) == status
