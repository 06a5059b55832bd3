"""hub.org_access_tokens: requests sent, answers structured, retry rules, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hubasync import HubClient, errors
from hubasync.models import OrgAccessTokenResource, OrgTokenResourceType

from ._aioresponses_shim import mocked
from ._org_helpers import BASE, TOKEN_ID, calls, hub, one_call, rejected_before_sending

__all__ = ["hub"]

TOKEN = {
    "id": TOKEN_ID,
    "label": "ci",
    "created_by": "johndoe",
    "is_active": True,
    "created_at": "2022-05-20T00:54:18Z",
    "expires_at": None,
    "last_used_at": "2022-06-15T12:30:45Z",
}
RESOURCES = [{"type": "TYPE_REPO", "path": "myorg/app", "scopes": ["repo-pull"]}]
PULL_APP = OrgAccessTokenResource(
    type=OrgTokenResourceType.TYPE_REPO, path="myorg/app", scopes=["repo-pull"]
)
PULL_APP_STR = OrgAccessTokenResource(type="TYPE_REPO", path="myorg/app", scopes=["repo-pull"])


async def test_list_pages_use_total_and_structure_tokens(hub: HubClient) -> None:
    second = {**TOKEN, "id": "b7a5ef25-8889-43a0-8cc7-f2a94268e861", "last_used_at": None}
    with mocked() as m:
        m.get(
            re.compile(r".*/v2/orgs/myorg/access-tokens\?page=1.*"),
            payload={"total": 2, "next": f"{BASE}/x?page=2", "previous": None, "results": [TOKEN]},
        )
        m.get(
            re.compile(r".*/v2/orgs/myorg/access-tokens\?page=2.*"),
            payload={"total": 2, "next": None, "previous": None, "results": [second]},
        )
        got = await hub.org_access_tokens.list("myorg", page_size=1, prefetch=1).to_list()
        sent = calls(m)
    assert [(u.path, dict(u.query)) for _, u, _ in sent] == [
        ("/v2/orgs/myorg/access-tokens", {"page": "1", "page_size": "1"}),
        ("/v2/orgs/myorg/access-tokens", {"page": "2", "page_size": "1"}),
    ]
    assert [t.id for t in got] == [TOKEN_ID, second["id"]]
    assert got[0].last_used_at == datetime(2022, 6, 15, 12, 30, 45, tzinfo=UTC)
    assert got[1].last_used_at is None and got[0].expires_at is None


async def test_create_sends_label_resources_expiry_and_keeps_the_secret(hub: HubClient) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    answer = {**TOKEN, "token": "dckr_oat_SECRET", "resources": RESOURCES}
    with mocked() as m:
        m.post(f"{BASE}/v2/orgs/myorg/access-tokens", status=201, payload=answer)
        got = await hub.org_access_tokens.create(
            "myorg", "ci", [PULL_APP_STR], description="CI pulls", expires_at=expires
        )
        method, url, kw = one_call(m)
    assert method == "POST" and url.path == "/v2/orgs/myorg/access-tokens"
    assert kw["json"] == {
        "label": "ci",
        "description": "CI pulls",
        "resources": RESOURCES,
        "expires_at": expires.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
    }
    assert got.token == "dckr_oat_SECRET" and "dckr_oat_SECRET" not in repr(got)
    assert got.resources == [PULL_APP]


async def test_get_update_delete(hub: HubClient) -> None:
    path = f"{BASE}/v2/orgs/myorg/access-tokens/{TOKEN_ID}"
    with mocked() as m:
        m.get(path, payload={**TOKEN, "resources": RESOURCES})
        m.patch(path, payload={**TOKEN, "is_active": False, "resources": RESOURCES})
        m.delete(path, status=204)
        one = await hub.org_access_tokens.get("myorg", TOKEN_ID.upper())
        changed = await hub.org_access_tokens.update("myorg", TOKEN_ID, is_active=False)
        await hub.org_access_tokens.delete("myorg", TOKEN_ID)
        sent = calls(m)
    assert [(meth, u.path, kw.get("json")) for meth, u, kw in sent] == [
        ("GET", f"/v2/orgs/myorg/access-tokens/{TOKEN_ID}", None),
        ("PATCH", f"/v2/orgs/myorg/access-tokens/{TOKEN_ID}", {"is_active": False}),
        ("DELETE", f"/v2/orgs/myorg/access-tokens/{TOKEN_ID}", None),
    ]
    assert one.resources[0].path == "myorg/app" and one.created_by == "johndoe"
    assert changed.is_active is False


async def test_create_is_never_retried_on_503(hub: HubClient) -> None:
    with mocked() as m:
        m.post(re.compile(r".*"), status=503, repeat=True)
        with pytest.raises(errors.ServerError):
            await hub.org_access_tokens.create("myorg", "ci", [PULL_APP])
        assert len(calls(m)) == 1


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_update_and_delete_are_retried_on_503(hub: HubClient, method: str) -> None:
    path = f"{BASE}/v2/orgs/myorg/access-tokens/{TOKEN_ID}"
    with mocked() as m:
        getattr(m, method)(path, status=503)
        getattr(m, method)(path, status=204 if method == "delete" else 200, payload=TOKEN)
        if method == "delete":
            await hub.org_access_tokens.delete("myorg", TOKEN_ID)
        else:
            got = await hub.org_access_tokens.update("myorg", TOKEN_ID, label="new")
            assert got.id == TOKEN_ID
        assert len(calls(m)) == 2


PAST = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.org_access_tokens.list(""), "org must not be empty"),
        (lambda h: h.org_access_tokens.list("../x"), "not a valid Docker Hub name"),
        (lambda h: h.org_access_tokens.list("myorg", page_size=101), "page_size"),
        (lambda h: h.org_access_tokens.create("myorg", "", [PULL_APP]), "label"),
        (lambda h: h.org_access_tokens.create("myorg", "x" * 101, [PULL_APP]), "1 to 100"),
        (lambda h: h.org_access_tokens.create("myorg", "ci", PULL_APP), "list"),
        (lambda h: h.org_access_tokens.create("myorg", "ci", [{"path": "x"}]), "OrgAccessToken"),
        (
            lambda h: h.org_access_tokens.create(
                "myorg", "ci", [OrgAccessTokenResource(type="TYPE_REPO", path="a/b", scopes=[])]
            ),
            "scopes",
        ),
        (
            lambda h: h.org_access_tokens.create("myorg", "ci", [PULL_APP], expires_at=PAST),
            "not in the future",
        ),
        (
            lambda h: h.org_access_tokens.create(
                "myorg", "ci", [PULL_APP], expires_at=datetime(2999, 1, 1)
            ),
            "naive",
        ),
        (
            lambda h: h.org_access_tokens.create(
                "myorg", "ci", [OrgAccessTokenResource(type="TYPE_X", path="a/b", scopes=["x"])]
            ),
            "TYPE_REPO",
        ),
        (lambda h: h.org_access_tokens.get("myorg", "../../x"), "not a UUID"),
        (lambda h: h.org_access_tokens.update("myorg", TOKEN_ID), "nothing to change"),
        (lambda h: h.org_access_tokens.update("myorg", TOKEN_ID, is_active="no"), "is_active"),
        (lambda h: h.org_access_tokens.delete("myorg", ""), "not a UUID"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    await rejected_before_sending(hub, call, words)
