"""Every operation: request shape (method, path, query, body) and structured result."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from yarl import URL

from hubasync import HubClient, errors
from hubasync.models import (
    AccessToken,
    AuditActionGroup,
    AuditLogEvent,
    DeleteImagesResult,
    DeleteWarning,
    Image,
    ImagesSummary,
    ImageStatus,
    ImageTag,
    ManifestRef,
    OrgSettings,
    Repository,
    RestrictedImages,
    Tag,
)

from ._aioresponses_shim import mocked

BASE = "https://hub.test"
DIGEST = "sha256:" + "ab" * 32
UUID = "b30bbf97-506c-4ecd-aabc-842f3cb484fb"


@pytest.fixture
async def hub() -> AsyncIterator[HubClient]:
    async with HubClient(token="tok", base_url=BASE, requests_per_minute=1_000_000) as client:
        yield client


def page(results: list[Any], count: int | None = None, next_: str | None = None) -> dict[str, Any]:
    return {
        "count": len(results) if count is None else count,
        "next": next_,
        "previous": None,
        "results": results,
    }


def calls(m: Any) -> list[tuple[str, URL, dict[str, Any]]]:
    out = []
    for (method, url), reqs in m.requests.items():
        for r in reqs:
            out.append((method, url, r.kwargs))
    return out


def one_call(m: Any) -> tuple[str, URL, dict[str, Any]]:
    got = calls(m)
    assert len(got) == 1, got
    return got[0]


async def test_images_summary(hub: HubClient) -> None:
    with mocked() as m:
        m.get(
            re.compile(r".*"),
            payload={
                "active_from": "2021-01-25T14:25:37.076343059Z",
                "statistics": {"total": 3, "active": 2, "inactive": 1},
            },
        )
        got = await hub.images.summary("myorg", "app", active_from=datetime(2021, 1, 1, tzinfo=UTC))
        method, url, kw = one_call(m)
    assert method == "GET"
    assert url.path == "/v2/namespaces/myorg/repositories/app/images-summary"
    assert url.query["active_from"] == "2021-01-01T00:00:00Z"
    assert kw["headers"]["Authorization"] == "Bearer tok"
    assert isinstance(got, ImagesSummary) and got.statistics.total == 3
    assert got.active_from is not None and got.active_from.tzinfo is not None


async def test_images_list_query_and_items(hub: HubClient) -> None:
    image = {
        "namespace": "myorg",
        "repository": "app",
        "digest": DIGEST,
        "tags": [{"tag": "latest", "is_current": True}],
        "last_pushed": "2021-01-25T14:25:37Z",
        "last_pulled": None,
        "status": "inactive",
    }
    with mocked() as m:
        m.get(re.compile(r".*"), payload=page([image]))
        got = await hub.images.list(
            "myorg",
            "app",
            status="inactive",
            currently_tagged=False,
            ordering="-last_activity",
            page_size=50,
        ).to_list()
        _method, url, _ = one_call(m)
    assert url.path == "/v2/namespaces/myorg/repositories/app/images"
    assert dict(url.query) == {
        "status": "inactive",
        "currently_tagged": "false",
        "ordering": "-last_activity",
        "page": "1",
        "page_size": "50",
    }
    assert got[0] == Image(
        namespace="myorg",
        repository="app",
        digest=DIGEST,
        tags=[ImageTag(tag="latest", is_current=True)],
        last_pushed=datetime(2021, 1, 25, 14, 25, 37, tzinfo=UTC),
        status=ImageStatus.INACTIVE,
    )


async def test_images_tags(hub: HubClient) -> None:
    with mocked() as m:
        m.get(re.compile(r".*"), payload=page([{"tag": "v1", "is_current": False}]))
        got = await hub.images.tags("myorg", "app", DIGEST).to_list()
        _, url, _ = one_call(m)
    assert (
        url.raw_path
        == f"/v2/namespaces/myorg/repositories/app/images/{DIGEST.replace(':', '%3A')}/tags"
    )
    assert got == [ImageTag(tag="v1", is_current=False)]


async def test_images_delete_body_and_result(hub: HubClient) -> None:
    with mocked() as m:
        m.post(
            re.compile(r".*"),
            payload={
                "dry_run": True,
                "metrics": {
                    "manifest_deletes": 1,
                    "manifest_errors": 0,
                    "tag_deletes": 2,
                    "tag_errors": 0,
                },
            },
        )
        got = await hub.images.delete(
            "myorg", [ManifestRef(repository="app", digest=DIGEST)], dry_run=True
        )
        method, url, kw = one_call(m)
    assert (method, url.path) == ("POST", "/v2/namespaces/myorg/delete-images")
    assert kw["json"] == {"dry_run": True, "manifests": [{"repository": "app", "digest": DIGEST}]}
    assert isinstance(got, DeleteImagesResult) and got.dry_run and got.metrics.tag_deletes == 2


async def test_images_delete_warnings_round_trip(hub: HubClient) -> None:
    refused = {
        "txnid": "t-9",
        "message": "deletion not possible",
        "errinfo": {
            "type": "validation",
            "details": {
                "errors": [],
                "warnings": [
                    {
                        "repository": "app",
                        "digest": DIGEST,
                        "warning": "current_tag",
                        "tags": ["latest"],
                    }
                ],
            },
        },
    }
    with mocked() as m:
        m.post(re.compile(r".*"), status=400, payload=refused)
        with pytest.raises(errors.DeleteImagesError) as info:
            await hub.images.delete("myorg", [ManifestRef(repository="app", digest=DIGEST)])
        m.post(re.compile(r".*"), payload={"dry_run": False, "metrics": {"manifest_deletes": 1}})
        await hub.images.delete(
            "myorg",
            [ManifestRef(repository="app", digest=DIGEST)],
            ignore_warnings=info.value.warnings,
        )
        sent = [kw["json"] for (_, _, kw) in calls(m)]
    err = info.value
    assert err.status == 400 and err.txnid == "t-9"
    assert err.warnings == [
        DeleteWarning(repository="app", digest=DIGEST, warning="current_tag", tags=["latest"])
    ]  # type: ignore[arg-type]
    assert "ignore_warnings" in str(err)
    assert sent[1]["ignore_warnings"] == [
        {"repository": "app", "digest": DIGEST, "warning": "current_tag", "tags": ["latest"]}
    ]


async def test_images_delete_is_not_retried_on_5xx(hub: HubClient) -> None:
    with mocked() as m:
        m.post(re.compile(r".*"), status=503, repeat=True)
        with pytest.raises(errors.ServerError):
            await hub.images.delete("myorg", [ManifestRef(repository="app", digest=DIGEST)])
        assert len(calls(m)) == 1


async def test_access_tokens_crud(hub: HubClient) -> None:
    token = {
        "uuid": UUID,
        "client_id": "HUB",
        "creator_ip": "127.0.0.1",
        "creator_ua": "x",
        "created_at": "2021-07-20T12:00:00.000000Z",
        "last_used": None,
        "generated_by": "manual",
        "is_active": True,
        "token": "",
        "token_label": "ci",
        "scopes": ["repo:read"],
    }
    created = {**token, "token": "dckr_pat_NEW"}
    with mocked() as m:
        m.post(f"{BASE}/v2/access-tokens", status=201, payload=created)
        m.get(
            re.compile(r".*/v2/access-tokens\?.*"),
            payload={
                "count": 1.0,
                "next": None,
                "previous": None,
                "active_count": 1,
                "results": [token],
            },
        )
        m.get(f"{BASE}/v2/access-tokens/{UUID}", payload=token)
        m.patch(f"{BASE}/v2/access-tokens/{UUID}", payload={**token, "is_active": False})
        m.delete(f"{BASE}/v2/access-tokens/{UUID}", status=204)
        new = await hub.access_tokens.create(
            "ci", ["repo:read"], expires_at=datetime(2030, 1, 1, tzinfo=UTC)
        )
        listed = await hub.access_tokens.list().to_list()
        one = await hub.access_tokens.get(UUID)
        changed = await hub.access_tokens.update(UUID, is_active=False)
        await hub.access_tokens.delete(UUID)
        bodies = {(meth, url.path): kw.get("json") for (meth, url, kw) in calls(m)}
    assert isinstance(new, AccessToken) and new.token == "dckr_pat_NEW"
    assert bodies[("POST", "/v2/access-tokens")] == {
        "token_label": "ci",
        "scopes": ["repo:read"],
        "expires_at": "2030-01-01T00:00:00Z",
    }
    assert bodies[("PATCH", f"/v2/access-tokens/{UUID}")] == {"is_active": False}
    assert [t.uuid for t in listed] == [UUID]
    assert one.token_label == "ci" and changed.is_active is False


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.access_tokens.create("ci", ["repo:everything"]), "unknown scope"),
        (lambda h: h.access_tokens.create("", ["repo:read"]), "label"),
        (lambda h: h.access_tokens.create("x" * 101, ["repo:read"]), "label"),
        (lambda h: h.access_tokens.create("ci", "repo:read"), "list"),
        (lambda h: h.access_tokens.get("not-a-uuid"), "UUID"),
        (lambda h: h.access_tokens.update(UUID), "nothing to change"),
        (lambda h: h.images.summary("", "app"), "namespace"),
        (lambda h: h.images.summary("../x", "app"), "namespace"),
        (lambda h: h.images.delete("myorg", []), "manifests"),
        (
            lambda h: h.images.delete("myorg", [ManifestRef(repository="app", digest="sha256:zz")]),
            "digest",
        ),
        (lambda h: h.repositories.update("myorg", "app"), "nothing"),
        (lambda h: h.repositories.tag("myorg", "app", "../../x"), "tag"),
        (lambda h: h.orgs.update_settings("myorg", {"enabled": True}), "RestrictedImages"),
        (lambda h: h.images.summary("myorg", "app", active_from=datetime(2021, 1, 1)), "naive"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    with mocked() as m:
        with pytest.raises(ValueError, match=words):
            await call(hub)
        assert calls(m) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.images.list("myorg", "app", page_size=101),
        lambda h: h.images.list("myorg", "app", page_size=0),
        lambda h: h.images.list("myorg", "app", status="gone"),
        lambda h: h.images.list("myorg", "app", ordering="size"),
        lambda h: h.repositories.list("myorg", prefetch=0),
        lambda h: h.audit_logs.list("myorg", page_size=1000),
        lambda h: h.access_tokens.list(page_size=-1),
        lambda h: h.repositories.tags("MyOrg", "app"),
    ],
)
def test_list_methods_validate_at_call_time(hub: HubClient, call: Any) -> None:
    with pytest.raises(ValueError):
        call(hub)


async def test_audit_logs_reads_until_short_page(hub: HubClient) -> None:
    event = {
        "account": "myorg",
        "action": "repo.tag.push",
        "name": "myorg/app",
        "actor": "alice",
        "data": {"digest": DIGEST, "tag": "latest"},
        "timestamp": "2021-02-19T01:34:35Z",
        "action_description": "pushed",
    }
    with mocked() as m:
        m.get(re.compile(r".*page=1&.*"), payload={"logs": [event] * 2})
        m.get(re.compile(r".*page=2&.*"), payload={"logs": [event]})
        m.get(re.compile(r".*page=3&.*"), payload={"logs": []}, repeat=True)
        got = await hub.audit_logs.list(
            "myorg",
            action="repo.tag.push",
            from_=datetime(2021, 1, 1, tzinfo=UTC),
            page_size=2,
            prefetch=1,
        ).to_list()
        urls = [url for (_, url, _) in calls(m)]
    assert len(got) == 3 and isinstance(got[0], AuditLogEvent)
    assert got[0].data == {"digest": DIGEST, "tag": "latest"}
    assert {u.query["page"] for u in urls} == {"1", "2"}
    assert urls[0].query["from"] == "2021-01-01T00:00:00Z"
    assert urls[0].query["action"] == "repo.tag.push"


async def test_audit_actions(hub: HubClient) -> None:
    body = {
        "actions": {
            "repo": {
                "actions": [
                    {
                        "name": "create",
                        "description": "contains image or repo create events",
                        "label": "Create",
                    }
                ],
                "label": "Repository",
            }
        }
    }
    with mocked() as m:
        m.get(f"{BASE}/v2/auditlogs/myorg/actions", payload=body)
        got = await hub.audit_logs.actions("myorg")
    assert isinstance(got["repo"], AuditActionGroup) and got["repo"].actions[0].name == "create"


async def test_org_settings_get_and_put(hub: HubClient) -> None:
    body = {
        "restricted_images": {
            "enabled": True,
            "allow_official_images": True,
            "allow_verified_publishers": False,
        }
    }
    with mocked() as m:
        m.get(f"{BASE}/v2/orgs/myorg/settings", payload=body)
        m.put(f"{BASE}/v2/orgs/myorg/settings", payload=body)
        got = await hub.orgs.settings("myorg")
        put = await hub.orgs.update_settings(
            "myorg",
            RestrictedImages(
                enabled=True, allow_official_images=True, allow_verified_publishers=False
            ),
        )
        sent = [kw.get("json") for (meth, _, kw) in calls(m) if meth == "PUT"]
    assert (
        isinstance(got, OrgSettings)
        and got.restricted_images is not None
        and got.restricted_images.enabled
    )
    assert put == got
    assert sent == [body]


async def test_repository_patch_keeps_trailing_slash(hub: HubClient) -> None:
    with mocked() as m:
        m.patch(
            f"{BASE}/v2/repositories/myorg/app/",
            payload={"name": "app", "namespace": "myorg", "description": "new", "is_private": True},
        )
        got = await hub.repositories.update("myorg", "app", description="new", is_private=True)
        ((_, url, kw),) = calls(m)
    assert url.path == "/v2/repositories/myorg/app/"
    assert kw["json"] == {"description": "new", "is_private": True}
    assert isinstance(got, Repository) and got.is_private


async def test_repositories_list_get_exists_tags(hub: HubClient) -> None:
    repo = {
        "name": "app",
        "namespace": "myorg",
        "repository_type": "image",
        "status": 1,
        "status_description": "active",
        "description": "",
        "is_private": False,
        "star_count": 0,
        "pull_count": 10,
        "last_updated": "2023-06-20T10:44:45.459826Z",
        "date_registered": "2023-06-20T10:44:45.459826Z",
        "affiliation": "",
        "media_types": ["application/vnd.oci.image.index.v1+json"],
        "content_types": ["image"],
        "categories": [],
        "storage_size": 1000,
    }
    tag = {
        "name": "latest",
        "full_size": 100,
        "last_updated": "2023-06-20T10:44:45Z",
        "tag_status": "active",
        "digest": DIGEST,
        "images": [
            {
                "architecture": "amd64",
                "os": "linux",
                "digest": DIGEST,
                "size": 100,
                "status": "active",
            }
        ],
    }
    with mocked() as m:
        m.get(re.compile(r".*/repositories\?.*"), payload=page([repo]))
        m.get(f"{BASE}/v2/namespaces/myorg/repositories/app", payload=repo)
        m.head(f"{BASE}/v2/namespaces/myorg/repositories/app", status=200)
        m.head(f"{BASE}/v2/namespaces/myorg/repositories/gone", status=404)
        m.get(re.compile(r".*/app/tags\?.*"), payload=page([tag]))
        m.get(f"{BASE}/v2/namespaces/myorg/repositories/app/tags/latest", payload=tag)
        listed = await hub.repositories.list("myorg", name="ap", ordering="-pull_count").to_list()
        got = await hub.repositories.get("myorg", "app")
        assert await hub.repositories.exists("myorg", "app") is True
        assert await hub.repositories.exists("myorg", "gone") is False
        tags = await hub.repositories.tags("myorg", "app").to_list()
        one = await hub.repositories.tag("myorg", "app", "latest")
        list_url = next(u for (meth, u, _) in calls(m) if u.path.endswith("/repositories"))
    assert dict(list_url.query) == {
        "name": "ap",
        "ordering": "-pull_count",
        "page": "1",
        "page_size": "100",
    }
    assert listed == [got]
    assert isinstance(tags[0], Tag) and tags[0] == one and one.images[0].architecture == "amd64"


async def test_pagination_ignores_foreign_next_links(hub: HubClient) -> None:
    item = {"tag": "v", "is_current": True}
    with mocked() as m:
        m.get(
            re.compile(r".*page=1&.*"),
            payload=page([item] * 2, count=4, next_="https://evil.example/v2/steal?page=2"),
        )
        m.get(re.compile(r".*page=2&.*"), payload=page([item] * 2, count=4))
        got = await hub.images.tags("myorg", "app", DIGEST, page_size=2).to_list()
        hosts = {url.host for (_, url, _) in calls(m)}
    assert len(got) == 4
    assert hosts == {"hub.test"}


async def test_anonymous_paging_past_1000_says_authenticate() -> None:
    async with HubClient(base_url=BASE, requests_per_minute=1_000_000) as anon:
        with mocked() as m:
            m.get(
                re.compile(r".*"),
                status=403,
                payload={"detail": "pagination offset too large for anonymous requests"},
            )
            with pytest.raises(errors.PermissionDeniedError, match="authenticate"):
                await anon.repositories.list("library").to_list()
            ((_, _, kw),) = calls(m)
            assert "Authorization" not in kw["headers"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.BadRequestError),
    ],
)
async def test_spec_error_statuses_map(
    hub: HubClient, status: int, cls: type[errors.HubError]
) -> None:
    with mocked() as m:
        m.get(
            re.compile(r".*"),
            status=status,
            payload={"detail": "nope", "message": "nope"},
            repeat=True,
        )
        with pytest.raises(cls) as info:
            await hub.orgs.settings("myorg")
    assert info.value.operation == "orgs.settings"


async def test_model_drift_is_a_validation_error(hub: HubClient) -> None:
    with mocked() as m:
        m.get(re.compile(r".*"), payload={"statistics": {"total": "many"}})
        with pytest.raises(errors.ResponseValidationError) as info:
            await hub.images.summary("myorg", "app")
    assert "images.summary" in str(info.value)


async def test_raw_auth_endpoints() -> None:
    async with HubClient(base_url=BASE, requests_per_minute=1_000_000) as anon:
        with mocked() as m:
            m.post(
                f"{BASE}/v2/users/login",
                status=401,
                payload={"detail": "Require secondary authentication", "login_2fa_token": "tmp"},
            )
            m.post(f"{BASE}/v2/users/2fa-login", payload={"token": "jwt"})
            m.post(f"{BASE}/v2/auth/token", payload={"access_token": "jwt2"})
            with pytest.raises(errors.TwoFactorRequiredError) as info:
                await anon.auth.login("alice", "pw")
            assert info.value.body == {"login_2fa_token": "tmp"}
            assert (await anon.auth.two_factor_login("tmp", "123456")).token == "jwt"
            assert (await anon.auth.token("alice", "dckr_pat_x")).access_token == "jwt2"
            bodies = [json.dumps(kw["json"]) for (_, _, kw) in calls(m)]
    assert "pw" in bodies[0] and "Authorization" not in str(bodies)
