"""FakeHub as today's Docker Hub (its default) and ``hub.repositories.delete_tag``.

Since 2023-12-11 Hub answers the seed's image API with a 404 HTML page; tags carry
tag-level activity and one ``images[]`` entry per platform; a tag is deleted with
``DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/``; an immutable tag is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from hubasync import HubClient
from hubasync.errors import (
    ImmutableTagError,
    NotFoundError,
    PermissionDeniedError,
)
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

PAT = "dckr_pat_alice_today_0123456789"
NOW = datetime.now(UTC)
RETIRED = [
    ("GET", "/v2/namespaces/acme/repositories/app/images-summary"),
    ("GET", "/v2/namespaces/acme/repositories/app/images"),
    ("GET", f"/v2/namespaces/acme/repositories/app/images/{digest_of('new')}/tags"),
    ("POST", "/v2/namespaces/acme/delete-images"),
]


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def seed(server: FakeHub) -> None:
    server.add_user("alice", "alice-password", pats=[PAT])
    server.add_user("bob", "bob-password")
    server.add_namespace("acme", members=["alice"])
    server.add_repository(
        "acme",
        "app",
        images=[
            FakeImage(
                digest_of("ancient"), tags=["0.1"], last_pushed=_days(2000), legacy_tags=True
            ),
            FakeImage(digest_of("old"), tags=["1.0"], last_pushed=_days(100)),
            FakeImage(digest_of("nodigest"), tags=["1.1"], last_pushed=_days(50), tag_digest=False),
            FakeImage(
                digest_of("new"),
                tags=["latest", "2.0"],
                last_pushed=_days(2),
                children=[digest_of("new/amd64"), digest_of("new/arm64")],
            ),
        ],
    )


@asynccontextmanager
async def client(server: FakeHub, **options: object) -> AsyncIterator[HubClient]:
    async with HubClient(
        username="alice", secret=PAT, base_url=server.url, requests_per_minute=1_000_000, **options
    ) as hub:
        yield hub


# ------------------------------------------------------------------ retired image API


@pytest.mark.parametrize(("method", "path"), RETIRED)
async def test_retired_image_api_answers_an_html_404_by_default(
    fake_hub: FakeHub, method: str, path: str
) -> None:
    seed(fake_hub)
    token = fake_hub.issue_token("alice")
    async with aiohttp.ClientSession(base_url=fake_hub.url) as http:
        headers = {"Authorization": f"Bearer {token}"}
        body = {"manifests": [{"repository": "app", "digest": digest_of("old")}]}
        async with http.request(method, path, headers=headers, json=body) as resp:
            assert resp.status == 404
            assert resp.content_type == "text/html"
            assert "<html" in await resp.text()
        fake_hub.image_api = True  # the switch, as an attribute: the seed answers again
        async with http.request(method, path, headers=headers, json=body) as resp:
            assert resp.status in (200, 400)
            assert resp.content_type == "application/json"
    assert fake_hub.tags("acme", "app")["1.0"] == digest_of("old")  # nothing deleted


@pytest.mark.fake_hub(image_api=True)
async def test_the_marker_turns_the_seed_image_api_on(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    assert fake_hub.image_api
    async with client(fake_hub) as hub:
        summary = await hub.images.summary("acme", "app")
    assert summary.statistics.total == 4


async def test_unknown_namespace_lists_as_an_empty_page(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        assert await hub.repositories.list("nobody").to_list() == []
        assert await hub.repositories.list("nobody").count() == 0


# ------------------------------------------------------------------------ tag fields


async def test_tags_carry_tag_level_activity_and_platform_images(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.pull("acme", "app", "latest", at=_days(1))
    async with client(fake_hub) as hub:
        tags = {t.name: t for t in await hub.repositories.tags("acme", "app").to_list()}
    latest = tags["latest"]
    assert str(latest.tag_status) == "active"
    assert latest.digest == digest_of("new")
    assert latest.tag_last_pulled is not None and latest.tag_last_pushed is not None
    assert [i.digest for i in latest.images] == [digest_of("new/amd64"), digest_of("new/arm64")]
    assert [i.architecture for i in latest.images] == ["amd64", "arm64"]
    assert all(str(i.status) == "active" for i in latest.images)
    assert tags["2.0"].tag_last_pulled is None  # never pulled through that tag: null
    old = tags["1.0"]
    assert str(old.tag_status) == "inactive" and old.digest == digest_of("old")
    assert [str(i.status) for i in old.images] == ["inactive"]
    # A recent tag without a digest key, and a pre-2020 tag without any tag_* field.
    assert tags["1.1"].digest is None and tags["1.1"].tag_last_pushed is not None
    ancient = tags["0.1"]
    assert (ancient.digest, ancient.tag_status, ancient.tag_last_pushed) == (None, None, None)
    assert ancient.tag_last_pulled is None and ancient.images[0].digest == digest_of("ancient")


# ------------------------------------------------------------------------ delete_tag


async def test_delete_tag_removes_the_tag_and_keeps_the_image(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        await hub.repositories.delete_tag("acme", "app", "1.0")
        assert "1.0" not in fake_hub.tags("acme", "app")
        assert digest_of("old") in fake_hub.image_digests("acme", "app")
        deletes = [r for r in fake_hub.requests if r.method == "DELETE"]
        assert [(r.path, r.status) for r in deletes] == [
            ("/v2/repositories/acme/app/tags/1.0/", 204)
        ]
        with pytest.raises(NotFoundError):  # a first attempt's 404 is an error
            await hub.repositories.delete_tag("acme", "app", "1.0")
    events = [e for e in fake_hub.audit_events("acme") if e["action"] == "repo.tag.delete"]
    assert [e["data"]["tag"] for e in events] == ["1.0"]


async def test_delete_tag_is_retried_on_a_server_error(fake_hub: FakeHub) -> None:
    # (A 404 on a retry after a lost answer counts as done: the transport's rule for every
    # DELETE, exercised by the prune tests through a tag deleted between plan and apply.)
    seed(fake_hub)
    fake_hub.inject(Fault.error(503, times=2, path="/tags/1.0/"))
    async with client(fake_hub) as hub:
        await hub.repositories.delete_tag("acme", "app", "1.0")
        assert hub.stats.retries == 2
    assert "1.0" not in fake_hub.tags("acme", "app")
    statuses = [r.status for r in fake_hub.requests if r.method == "DELETE"]
    assert statuses == [503, 503, 204]


async def test_delete_tag_after_a_lost_answer_counts_as_done(fake_hub: FakeHub) -> None:
    """Hub deleted the tag but the answer was lost (the client timed out); the retry meets
    a 404, which is the goal reached, not an error."""
    seed(fake_hub)
    async with client(fake_hub, timeout=0.3) as hub:
        await hub.login()
        # two slow answers: the first attempt is processed after the client gave up on it
        fake_hub.inject(Fault.latency(0.5, times=2, method="DELETE"))
        await hub.repositories.delete_tag("acme", "app", "1.0")
    assert "1.0" not in fake_hub.tags("acme", "app")
    statuses = [r.status for r in fake_hub.requests if r.method == "DELETE"]
    assert statuses.count(204) == 1 and statuses[-1] == 404


async def test_an_immutable_tag_is_refused_with_an_error_naming_immutability(
    fake_hub: FakeHub,
) -> None:
    seed(fake_hub)
    fake_hub.set_immutable_tags("acme", "app", [r"\d+\.\d+"])
    async with client(fake_hub) as hub:
        with pytest.raises(ImmutableTagError) as caught:
            await hub.repositories.delete_tag("acme", "app", "1.0")
        await hub.repositories.delete_tag("acme", "app", "latest")  # not covered
        repo = await hub.repositories.get("acme", "app")
    assert "immutable" in str(caught.value) and caught.value.status == 403
    assert caught.value.tag == "1.0"
    assert isinstance(caught.value, PermissionDeniedError)
    assert "1.0" in fake_hub.tags("acme", "app")
    assert repo.immutable_tags_settings is not None
    assert repo.immutable_tags_settings.rules == [r"\d+\.\d+"]


async def test_delete_tag_without_write_access_is_refused(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    fake_hub.add_access_token("bob", secret="dckr_pat_bob_today_0123456789")
    async with HubClient(
        username="bob", secret="dckr_pat_bob_today_0123456789", base_url=fake_hub.url
    ) as hub:
        with pytest.raises(PermissionDeniedError) as caught:
            await hub.repositories.delete_tag("acme", "app", "1.0")
    assert not isinstance(caught.value, ImmutableTagError)
    assert "1.0" in fake_hub.tags("acme", "app")


@pytest.mark.parametrize(
    ("args", "needle"),
    [(("acme", "app", "bad tag"), "tag"), (("acme", "../x", "1.0"), "repository")],
)
async def test_delete_tag_checks_its_input_before_sending(
    fake_hub: FakeHub, args: tuple[str, str, str], needle: str
) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        with pytest.raises(ValueError, match=needle):
            await hub.repositories.delete_tag(*args)
    assert not [r for r in fake_hub.requests if r.method == "DELETE"]


def test_generated_data_can_ask_for_legacy_tags_and_more_version_tags() -> None:
    hub = FakeHub.generate(
        namespaces=1,
        repos_per_namespace=2,
        images_per_repo=9,
        seed=4,
        legacy_share=1.0,
        version_tags=1.0,
        org_admin=False,
    )
    ns, repo = hub.generated.repositories[0].split("/")
    tags = hub.tags(ns, repo)
    assert len(tags) == 10 and "latest" in tags  # 9 version tags and latest
    state_tags = hub._state.repository(ns, repo).tags
    assert all(t.legacy for name, t in state_tags.items() if name != "latest")
    assert not state_tags["latest"].legacy
    with pytest.raises(ValueError, match="version_tags"):
        FakeHub.generate(namespaces=1, version_tags=1.5)
