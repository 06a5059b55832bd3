"""hub.repositories create / add_group / immutable tags / has_tags: requests, answers, input."""

from __future__ import annotations

from typing import Any

import pytest

from hubasync import HubClient
from hubasync.models import RepositoryPermission

from ._aioresponses_shim import mocked
from ._org_helpers import BASE, calls, hub, one_call, rejected_before_sending, sent_once_despite_503

__all__ = ["hub"]

REPO = {
    "user": "myorg",
    "name": "my-app",
    "namespace": "myorg",
    "repository_type": "image",
    "status": 1,
    "status_description": "Active",
    "description": "A sample",
    "is_private": True,
    "is_automated": False,
    "star_count": 0,
    "pull_count": 0,
    "last_updated": "2025-01-20T10:30:00Z",
    "date_registered": "2025-01-20T10:30:00Z",
    "collaborator_count": 0,
    "hub_user": "myorg",
    "has_starred": False,
    "full_description": "Long",
    "media_types": [],
    "content_types": [],
    "categories": [],
    "immutable_tags_settings": {"enabled": False, "rules": []},
    "storage_size": None,
    "source": None,
}
REPO_PATH = f"{BASE}/v2/namespaces/myorg/repositories/my-app"


async def test_create_sends_the_body_and_structures_the_repository(hub: HubClient) -> None:
    with mocked() as m:
        m.post(f"{BASE}/v2/namespaces/myorg/repositories", status=201, payload=REPO)
        got = await hub.repositories.create(
            "myorg", "my-app", description="A sample", full_description="Long", is_private=True
        )
        method, url, kw = one_call(m)
    assert (method, url.path) == ("POST", "/v2/namespaces/myorg/repositories")
    assert kw["json"] == {
        "name": "my-app",
        "namespace": "myorg",
        "description": "A sample",
        "full_description": "Long",
        "is_private": True,
    }
    assert (got.namespace, got.name, got.is_private) == ("myorg", "my-app", True)
    assert got.immutable_tags_settings is not None and got.immutable_tags_settings.enabled is False


async def test_add_group(hub: HubClient) -> None:
    with mocked() as m:
        m.post(
            f"{BASE}/v2/repositories/myorg/my-app/groups",
            payload={"group_name": "developers", "permission": "write", "group_id": 12345},
        )
        got = await hub.repositories.add_group("myorg", "my-app", 12345, "write")
        method, url, kw = one_call(m)
    assert (method, url.path, kw["json"]) == (
        "POST",
        "/v2/repositories/myorg/my-app/groups",
        {"group_id": 12345, "permission": "write"},
    )
    assert (got.group_name, got.group_id, got.permission) == (
        "developers",
        12345,
        RepositoryPermission.WRITE,
    )


async def test_immutable_tags_update_and_verify(hub: HubClient) -> None:
    settings = {"enabled": True, "rules": ["v.*", ".*-RELEASE"]}
    with mocked() as m:
        m.patch(f"{REPO_PATH}/immutabletags", payload={**REPO, "immutable_tags_settings": settings})
        m.post(f"{REPO_PATH}/immutabletags/verify", payload={"tags": ["v1.0.0", "v2.1.3"]})
        repo = await hub.repositories.update_immutable_tags(
            "myorg", "my-app", enabled=True, rules=["v.*", ".*-RELEASE"]
        )
        tags = await hub.repositories.verify_immutable_tags("myorg", "my-app", "v.*")
        sent = [(meth, u.path, kw.get("json")) for meth, u, kw in calls(m)]
    assert sent == [
        (
            "PATCH",
            "/v2/namespaces/myorg/repositories/my-app/immutabletags",
            {"immutable_tags": True, "immutable_tags_rules": ["v.*", ".*-RELEASE"]},
        ),
        ("POST", "/v2/namespaces/myorg/repositories/my-app/immutabletags/verify", {"regex": "v.*"}),
    ]
    assert repo.immutable_tags_settings is not None
    assert repo.immutable_tags_settings.rules == ["v.*", ".*-RELEASE"]
    assert tags == ["v1.0.0", "v2.1.3"]


async def test_has_tags_is_a_head_and_404_means_false(hub: HubClient) -> None:
    with mocked() as m:
        m.head(f"{REPO_PATH}/tags", status=200)
        m.head(f"{REPO_PATH}/tags", status=404)
        assert await hub.repositories.has_tags("myorg", "my-app") is True
        assert await hub.repositories.has_tags("myorg", "my-app") is False
        assert [(meth, u.path) for meth, u, _ in calls(m)] == [
            ("HEAD", "/v2/namespaces/myorg/repositories/my-app/tags"),
            ("HEAD", "/v2/namespaces/myorg/repositories/my-app/tags"),
        ]


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.repositories.create("myorg", "my-app"),
        lambda h: h.repositories.add_group("myorg", "my-app", 1, "read"),
    ],
)
async def test_creates_are_never_retried_on_503(hub: HubClient, call: Any) -> None:
    await sent_once_despite_503(hub, call)


async def test_immutable_tags_update_and_verify_are_retried(hub: HubClient) -> None:
    with mocked() as m:
        m.patch(f"{REPO_PATH}/immutabletags", status=503)
        m.patch(f"{REPO_PATH}/immutabletags", payload=REPO)
        m.post(f"{REPO_PATH}/immutabletags/verify", status=504)
        m.post(f"{REPO_PATH}/immutabletags/verify", payload={"tags": []})
        await hub.repositories.update_immutable_tags("myorg", "my-app", enabled=False, rules=[])
        assert await hub.repositories.verify_immutable_tags("myorg", "my-app", "v.*") == []
        assert len(calls(m)) == 4


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.repositories.create("", "app"), "namespace"),
        (lambda h: h.repositories.create("myorg", "../app"), "name"),
        (lambda h: h.repositories.create("myorg", "a"), "too short"),
        (lambda h: h.repositories.create("myorg", "My-App"), "upper-case"),
        (lambda h: h.repositories.create("myorg", "app", description="x" * 101), "100"),
        (lambda h: h.repositories.create("myorg", "app", is_private="yes"), "is_private"),
        (lambda h: h.repositories.add_group("myorg", "app", 0, "read"), "group_id"),
        (lambda h: h.repositories.add_group("myorg", "app", "devs", "read"), "group_id"),
        (lambda h: h.repositories.add_group("myorg", "app", 1, "owner"), "permission"),
        (
            lambda h: h.repositories.update_immutable_tags("myorg", "app", enabled=True, rules=[]),
            "at least one rule",
        ),
        (
            lambda h: h.repositories.update_immutable_tags("myorg", "app", enabled=1, rules=[]),
            "enabled",
        ),
        (
            lambda h: h.repositories.update_immutable_tags(
                "myorg", "app", enabled=True, rules="v.*"
            ),
            "list",
        ),
        (
            lambda h: h.repositories.update_immutable_tags(
                "myorg", "app", enabled=True, rules=["v(["]
            ),
            "regular expression",
        ),
        (lambda h: h.repositories.verify_immutable_tags("myorg", "app", ""), "regex"),
        (lambda h: h.repositories.has_tags("myorg", "../app"), "repository"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    await rejected_before_sending(hub, call, words)
