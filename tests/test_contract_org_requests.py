"""Contract: every organization-administration request hubasync sends fits the current spec.

Each new public method (org access tokens, members, invites, groups, repository creation,
group permissions, immutable tags, SCIM) runs against FakeHub, which reads the answers with
the strict models (unknown fields fail); every request FakeHub logged (method, path, query,
JSON body, media type) is then validated with openapi-core against ``hub-api-latest.yaml``.
The spec's request-side defects (docs/spec-notes.md) are patched in the loaded copy, each
with an assertion that fails once upstream fixes it; the file is never changed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest
from openapi_core.validation.request.exceptions import InvalidRequestBody

from hubasync import HubClient
from hubasync.models import OrgAccessTokenResource
from hubasync.testing import FakeHub, FakeImage, digest_of

from ._spec import LATEST_SPEC

HUB = "https://hub.docker.com"
METHODS = ("get", "put", "post", "delete", "patch", "head")
#: The operations this file covers: every area besides those of test_contract_requests.
AREAS = {"org-access-tokens", "orgs", "invites", "groups", "scim"}
REPOSITORY_ADMIN = {
    ("post", "/v2/namespaces/{namespace}/repositories"),
    ("post", "/v2/repositories/{namespace}/{repository}/groups"),
    ("patch", "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags"),
    ("post", "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags/verify"),
    ("head", "/v2/namespaces/{namespace}/repositories/{repository}/tags"),
}


def _str_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _str_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_str_keys(v) for v in node]
    return node


def load_raw() -> dict[str, Any]:
    return _str_keys(yaml.safe_load(LATEST_SPEC.read_text()))  # type: ignore[no-any-return]


def patched_latest() -> OpenAPI:
    """The current spec with its request-side defects patched (see docs/spec-notes.md)."""
    spec = load_raw()
    members = spec["components"]["parameters"]["search"]
    assert members["schema"]["type"] == "integer", "members' search is a string now: drop this"
    members["schema"] = {"type": "string"}
    verify = spec["components"]["schemas"]["immutable_tags_verify_request"]["properties"]
    # The pattern is a Docker name grammar the spec's own example ('v.*') does not match.
    assert "pattern" in verify["regex"], "the verify regex pattern is gone: drop this"
    del verify["regex"]["pattern"]
    create = spec["paths"]["/v2/namespaces/{namespace}/repositories"]["post"]
    assert create["security"] == [{"BearerAuth": []}], "CreateRepository's scheme is fixed"
    create["security"] = [{"bearerAuth": []}]
    tokens = spec["paths"]["/v2/orgs/{name}/access-tokens"]
    assert "parameters" not in tokens, "the org token list declares {name} now: drop this"
    tokens["parameters"] = [
        {"in": "path", "name": "name", "required": True, "schema": {"type": "string"}}
    ]
    # openapi-core reads JSON bodies by media type; SCIM's is JSON too.
    config = Config(
        spec_validator_cls=None,
        extra_media_type_deserializers={"application/scim+json": json.loads},
    )
    return OpenAPI.from_dict(spec, config=config)


def covered_operations(raw: dict[str, Any]) -> set[tuple[str, str]]:
    ops = {
        (method, path)
        for path, item in raw["paths"].items()
        for method, op in item.items()
        if method in METHODS and AREAS & set(op.get("tags", ()))
    }
    return ops | REPOSITORY_ADMIN


def template_of(raw: dict[str, Any], method: str, path: str) -> str | None:
    """The spec path template a concrete request path matches (most literal one wins)."""
    found = []
    for template, item in raw["paths"].items():
        if method.lower() not in item:
            continue
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            found.append(template)
    return max(found, key=lambda t: len(re.sub(r"\{[^}]+\}", "", t)), default=None)


async def drive_every_operation(server: FakeHub, scim_token: str) -> None:
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, requests_per_minute=10**6
    ) as hub:
        soon = datetime.now(UTC) + timedelta(days=30)
        pull = OrgAccessTokenResource(type="TYPE_REPO", path="acme/app", scopes=["repo-pull"])
        token = await hub.org_access_tokens.create(
            "acme", "ci", [pull], description="CI", expires_at=soon
        )
        assert token.token and token.token.startswith("dckr_oat_")
        listed = await hub.org_access_tokens.list("acme", page_size=10).to_list()
        assert token.id in {t.id for t in listed}
        assert (await hub.org_access_tokens.get("acme", token.id)).label == "ci"
        changed = await hub.org_access_tokens.update("acme", token.id, label="ci2", is_active=False)
        assert changed.is_active is False
        await hub.org_access_tokens.delete("acme", token.id)

        members = await hub.orgs.members(
            "acme", search="b", role="member", type="member", invites=True, page_size=10
        ).to_list()
        assert "bob" in {m.username for m in members}
        rows = await hub.orgs.export_members("acme")
        assert "alice" in {r.username for r in rows}
        assert (await hub.orgs.update_member_role("acme", "bob", "editor")).username == "bob"

        group = await hub.groups.create("acme", "qa", description="testers")
        assert "qa" in {g.name for g in await hub.groups.list("acme", search="q").to_list()}
        await hub.groups.list("acme", username="bob").to_list()
        assert (await hub.groups.get("acme", "qa")).description == "testers"
        await hub.groups.update("acme", "qa", name="qa", description="QA")
        await hub.groups.patch("acme", "qa", description="QA team")
        await hub.groups.add_member("acme", "qa", "bob")
        assert [m.username for m in await hub.groups.members("acme", "qa").to_list()] == ["bob"]
        await hub.groups.members("acme", "qa", search="bo").to_list()
        assert group.id is not None
        granted = await hub.repositories.add_group("acme", "app", group.id, "write")
        assert granted.group_id == group.id
        await hub.groups.remove_member("acme", "qa", "bob")
        await hub.groups.delete("acme", "qa")

        results = await hub.invites.bulk(
            "acme", ["new@example.com"], team="devs", role="member", dry_run=True
        )
        assert [r.invitee for r in results] == ["new@example.com"]
        await hub.invites.bulk("acme", ["new@example.com"], team="devs")
        invites = await hub.orgs.invites("acme")
        new = next(i for i in invites if i.invitee == "new@example.com")
        await hub.invites.resend(new.id)
        await hub.invites.delete(new.id)

        repo = await hub.repositories.create(
            "acme", "newapp", description="d", full_description="f", is_private=True
        )
        assert repo.name == "newapp"
        assert await hub.repositories.has_tags("acme", "app") is True
        await hub.repositories.update_immutable_tags("acme", "app", enabled=True, rules=["v.*"])
        assert sorted(await hub.repositories.verify_immutable_tags("acme", "app", "v.*")) == ["v1"]
        await hub.orgs.remove_member("acme", "carol")

        scim = hub.scim.with_token(scim_token)
        await scim.service_provider_config()
        assert [t.name for t in await scim.resource_types()] == ["User"]
        await scim.resource_type("User")
        (schema,) = await scim.schemas()
        assert schema.id is not None
        await scim.schema(schema.id)
        users = await scim.users(filter='userName sw "a"', sort_order="ascending").to_list()
        await scim.users(attributes=["userName"], sort_by="userName", page_size=1).to_list()
        created = await scim.create_user("dave@example.com", given_name="Dave")
        await scim.user(created.id)
        await scim.update_user(created.id, enabled=False, family_name="Jones")
        assert users


def _mock(record: Any) -> MockRequest:
    body = json.dumps(record.json).encode() if record.json is not None else None
    headers = {"Authorization": "Bearer redacted"} if record.authorized else {}
    media = record.headers.get("Content-Type", "application/json").split(";")[0]
    return MockRequest(
        HUB,
        record.method.lower(),
        record.path,
        args=dict(record.query),
        data=body,
        headers=headers,
        content_type=media,
    )


async def test_every_org_admin_request_fits_the_current_spec() -> None:
    raw = load_raw()
    api = patched_latest()
    async with FakeHub() as server:
        for user in ("bob", "carol"):
            server.add_user(user, f"{user}-pw")
        server.add_user("alice", "alice-pw", pats=["dckr_pat_alice"])
        server.add_namespace("acme", members=["alice", "bob", "carol"], owners=["alice"])
        server.add_group("acme", "devs", members=["bob"])
        server.add_repository(
            "acme", "app", images=[FakeImage(digest_of("x"), tags=["v1", "latest"])]
        )
        scim_token = server.enable_scim("acme")
        await drive_every_operation(server, scim_token)
        records = [r for r in server.requests if r.path not in ("/v2/auth/token",)]
    assert records and all(r.status < 400 for r in records), [
        (r.method, r.path, r.status) for r in records if r.status >= 400
    ]
    seen: set[tuple[str, str]] = set()
    for record in records:
        api.validate_request(_mock(record))
        template = template_of(raw, record.method, record.path)
        assert template is not None, (record.method, record.path)
        seen.add((record.method.lower(), template))
    missing = covered_operations(raw) - seen
    assert not missing, f"operations never sent: {sorted(missing)}"
    scim_media = {
        r.headers.get("Content-Type", "").split(";")[0]
        for r in records
        if "/scim/" in r.path and r.json is not None
    }
    assert scim_media == {"application/scim+json"}


@pytest.mark.parametrize(
    ("method", "path", "body", "media"),
    [
        ("put", "/v2/orgs/acme/members/bob", {"role": "admin"}, "application/json"),
        ("post", "/v2/repositories/acme/app/groups", {"group_id": 1}, "application/json"),
        ("put", "/v2/scim/2.0/Users/x", {"enabled": True}, "application/scim+json"),
    ],
    ids=["unknown role", "no permission", "SCIM body without schemas"],
)
def test_the_patched_spec_still_rejects_bad_requests(
    method: str, path: str, body: dict[str, Any], media: str
) -> None:
    request = MockRequest(
        HUB,
        method,
        path,
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer x"},
        content_type=media,
    )
    with pytest.raises(InvalidRequestBody):
        patched_latest().validate_request(request)
