"""Contract: FakeHub's organization administration answers fit ``hub-api-latest.yaml``.

One case per operation drives it over real HTTP (raw aiohttp) through its success and its
declared error answers; every answer is validated with openapi-core against the current
spec, and the case asserts which declared status codes it produced. The spec's defects
FakeHub departs from are patched in the loaded copy only, each listed in
:data:`SPEC_EXCEPTIONS` and explained in ``docs/fakehub-spec-exceptions.md``.
"""

from __future__ import annotations

import csv
import io
import json as json_module
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import yaml  # type: ignore[import-untyped]
from openapi_core import Config, OpenAPI

from hubasync.testing import FakeHub, FakeImage, ManualClock, digest_of
from tests.test_fakehub_contract import (
    LATEST_SPEC,
    METHODS,
    Ctx,
    Served,
    _matches,
    _str_keys,
    validate,
)

NOW = 1_700_000_000.0
DAY = 86_400.0
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM = "scim_contract_token_0001"
ERROR = {"$ref": "#/components/schemas/error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _scim_list_fix(response: dict[str, Any]) -> None:
    props = response["content"]["application/scim+json"]["schema"]["properties"]
    props["Resources"] = props.pop("resources")


def _members_fix(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/v2/orgs/{org_name}/members"]["get"]
    op["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/org_member_paginated"
    }
    spec["components"]["schemas"]["org_member"]["properties"]["role"]["enum"].append("Editor")


def _bulk_fix(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/v2/invites/bulk"]["post"]["responses"]
    responses["202"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/bulk_invite"
    }
    responses["401"] = _error("Unauthorized")
    responses["403"] = _error("Forbidden")


def _add_status(path: str, method: str, status: str) -> Callable[[dict[str, Any]], None]:
    def patch(spec: dict[str, Any]) -> None:
        spec["paths"][path][method]["responses"][status] = _error(status)

    return patch


def _responses(name: str) -> Callable[[dict[str, Any]], None]:
    def patch(spec: dict[str, Any]) -> None:
        _scim_list_fix(spec["components"]["responses"][name])

    return patch


def _nullable_links(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    paths = spec["paths"]
    for props in (
        schemas["getOrgAccessTokensResponse"]["properties"],
        schemas["org_member_paginated"]["properties"],
        paths["/v2/orgs/{org_name}/groups"]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]["properties"],
        paths["/v2/orgs/{org_name}/groups/{group_name}/members"]["get"]["responses"]["200"][
            "content"
        ]["application/json"]["schema"]["properties"],
    ):
        for name in ("next", "previous"):
            props[name]["nullable"] = True


GROUP = "/v2/orgs/{org_name}/groups/{group_name}"
SPEC_EXCEPTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "next/previous are null on the first/last page (typed as plain strings)": _nullable_links,
    "members list is one paginated object, not an array of them": _members_fix,
    "bulk invite answers bulk_invite itself; 401/403 undeclared": _bulk_fix,
    "SCIM list responses carry RFC 7644 'Resources' (spec: 'resources'), ResourceTypes": (
        _responses("scim_get_resource_types_resp")
    ),
    "SCIM list responses carry RFC 7644 'Resources', Schemas": _responses("scim_get_schemas_resp"),
    "SCIM list responses carry RFC 7644 'Resources', Users": _responses("scim_get_users_resp"),
    "group create: 404 for an unknown org undeclared": _add_status(
        "/v2/orgs/{org_name}/groups", "post", "404"
    ),
    "group put: 400 for a taken or invalid name undeclared": _add_status(GROUP, "put", "400"),
    "group patch: 400 for a taken or invalid name undeclared": _add_status(GROUP, "patch", "400"),
    "group member add: 400 without a member undeclared": _add_status(
        GROUP + "/members", "post", "400"
    ),
    "org token update: 400 for a bad field undeclared": _add_status(
        "/v2/orgs/{org_name}/access-tokens/{access_token_id}", "patch", "400"
    ),
}


def _csv_loads(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def load_latest_patched() -> tuple[dict[str, Any], OpenAPI]:
    raw = _str_keys(yaml.safe_load(LATEST_SPEC.read_text()))
    spec = json_module.loads(json_module.dumps(raw))
    for patch in SPEC_EXCEPTIONS.values():
        patch(spec)
    config = Config(
        spec_validator_cls=None,
        extra_media_type_deserializers={
            "application/scim+json": json_module.loads,
            "text/csv": _csv_loads,
        },
    )
    return raw, OpenAPI.from_dict(spec, config=config)


def seed(server: FakeHub) -> None:
    server.add_user("alice", "alice-pw")  # owner
    server.add_user("erin", "erin-pw")  # editor
    server.add_user("bob", "bob-pw")  # member
    server.add_user("carol", "carol-pw")  # outsider
    server.add_namespace("acme", members=["alice", "bob"], owners=["alice"])
    server.add_org_member("acme", "erin", role="editor", full_name="Erin Editor")
    server.add_org_member("acme", "nora", email="nora@corp.example")
    server.add_group("acme", "devs", members=["bob", "erin"], description="developers")
    server.add_group("acme", "ops", members=["alice"])
    server.add_invite("acme", "dave@corp.example", created=NOW - 40 * DAY)
    server.add_invite("acme", "frank", team="devs", created=NOW - DAY)
    server.add_repository(
        "acme",
        "app",
        images=[FakeImage(digest_of("a"), tags=["v1.0", "v2.0", "latest"], last_pushed=NOW)],
    )
    server.add_org_token(
        "acme", label="ci", expires_at=NOW + 30 * DAY, last_used_at=NOW - DAY, created_at=NOW - 9
    )
    server.add_org_token("acme", label="old", created_at=NOW - 10)
    server.enable_scim("acme", SCIM)


def _token(c: Ctx, label: str = "ci") -> str:
    return next(t.uuid for t in c.server.org_tokens("acme") if t.label == label)


# ------------------------------------------------------------- org access tokens

TOKENS = "/v2/orgs/acme/access-tokens"
RESOURCES = [{"type": "TYPE_REPO", "path": "acme/app", "scopes": ["scope-image-pull"]}]


async def org_tokens_list(c: Ctx) -> None:
    await c("GET", TOKENS, headers=c.auth())
    await c("GET", TOKENS, headers=c.auth(), params={"page_size": "1", "page": "2"})
    await c("GET", TOKENS)
    await c("GET", TOKENS, headers=c.auth("bob"))
    await c("GET", "/v2/orgs/nowhere/access-tokens", headers=c.auth())


async def org_tokens_create(c: Ctx) -> None:
    body = {"label": "new", "description": "d", "resources": RESOURCES}
    await c("POST", TOKENS, headers=c.auth(), json=body)
    await c("POST", TOKENS, headers=c.auth(), json={**body, "expires_at": "2030-01-01T00:00:00Z"})
    await c("POST", TOKENS, headers=c.auth(), json={**body, "expires_at": "2001-01-01T00:00:00Z"})
    await c("POST", TOKENS, json=body)
    await c("POST", TOKENS, headers=c.auth("erin"), json=body)
    await c("POST", "/v2/orgs/nowhere/access-tokens", headers=c.auth(), json=body)


async def org_token_get(c: Ctx) -> None:
    path = f"{TOKENS}/{_token(c)}"
    await c("GET", path, headers=c.auth())
    await c("GET", path)
    await c("GET", path, headers=c.auth("bob"))
    await c("GET", f"{TOKENS}/00000000-0000-4000-8000-000000000000", headers=c.auth())


async def org_token_patch(c: Ctx) -> None:
    path = f"{TOKENS}/{_token(c)}"
    await c("PATCH", path, headers=c.auth(), json={"is_active": False, "label": "ci-off"})
    await c("PATCH", path, headers=c.auth(), json={"label": ""})
    await c("PATCH", path, json={"is_active": True})
    await c("PATCH", path, headers=c.auth("bob"), json={"is_active": True})
    await c("PATCH", f"{TOKENS}/nope", headers=c.auth(), json={"is_active": True})


async def org_token_delete(c: Ctx) -> None:
    path = f"{TOKENS}/{_token(c)}"
    await c("DELETE", path)
    await c("DELETE", path, headers=c.auth("bob"))
    await c("DELETE", path, headers=c.auth())
    await c("DELETE", path, headers=c.auth())


# ---------------------------------------------------------------------- members

MEMBERS = "/v2/orgs/acme/members"


async def members_list(c: Ctx) -> None:
    await c("GET", MEMBERS, headers=c.auth())
    await c("GET", MEMBERS, headers=c.auth("bob"), params={"page_size": "2", "page": "2"})
    await c("GET", MEMBERS, headers=c.auth(), params={"invites": "true", "type": "all"})
    await c("GET", MEMBERS, headers=c.auth(), params={"role": "editor", "search": "eri"})
    await c("GET", MEMBERS, headers=c.auth(), params={"role": "boss"})
    await c("GET", MEMBERS)
    await c("GET", MEMBERS, headers=c.auth("carol"))
    await c("GET", "/v2/orgs/nowhere/members", headers=c.auth())


async def _raw(c: Ctx, path: str, headers: dict[str, str] | None = None) -> str:
    """GET ``path`` without decoding the body as JSON; returns Content-Disposition."""
    async with c.http.get(path, headers=headers) as resp:
        body = await resp.read()
        c.served.append(Served("get", path, {}, resp.status, body, resp.content_type))
        return resp.headers.get("Content-Disposition", "")


async def members_export(c: Ctx) -> None:
    disposition = await _raw(c, MEMBERS + "/export", c.auth())
    assert disposition == 'attachment;filename="acme-members-20231114221320.csv"'
    await _raw(c, MEMBERS + "/export")
    await _raw(c, MEMBERS + "/export", c.auth("bob"))
    await _raw(c, "/v2/orgs/nowhere/members/export", c.auth())


async def member_update(c: Ctx) -> None:
    await c("PUT", MEMBERS + "/bob", headers=c.auth(), json={"role": "editor"})
    await c("PUT", MEMBERS + "/alice", headers=c.auth(), json={"role": "member"})  # last owner
    await c("PUT", MEMBERS + "/bob", json={"role": "owner"})
    await c("PUT", MEMBERS + "/bob", headers=c.auth("erin"), json={"role": "owner"})
    await c("PUT", MEMBERS + "/ghost", headers=c.auth(), json={"role": "owner"})


async def member_remove(c: Ctx) -> None:
    await c("DELETE", MEMBERS + "/bob", headers=c.auth())
    await c("DELETE", MEMBERS + "/alice", headers=c.auth())  # last owner
    await c("DELETE", MEMBERS + "/erin")
    await c("DELETE", MEMBERS + "/nora", headers=c.auth("erin"))
    await c("DELETE", MEMBERS + "/bob", headers=c.auth())  # gone


async def org_invites(c: Ctx) -> None:
    await c("GET", "/v2/orgs/acme/invites", headers=c.auth())
    await c("GET", "/v2/orgs/acme/invites")
    await c("GET", "/v2/orgs/acme/invites", headers=c.auth("bob"))
    await c("GET", "/v2/orgs/nowhere/invites", headers=c.auth())


# ----------------------------------------------------------------------- groups

GROUPS = "/v2/orgs/acme/groups"


async def groups_list(c: Ctx) -> None:
    await c("GET", GROUPS, headers=c.auth("bob"))
    await c("GET", GROUPS, headers=c.auth(), params={"username": "bob", "search": "dev"})
    await c("GET", GROUPS, headers=c.auth(), params={"page_size": "1", "page": "2"})
    await c("GET", GROUPS)
    await c("GET", GROUPS, headers=c.auth("carol"))
    await c("GET", "/v2/orgs/nowhere/groups", headers=c.auth())


async def group_create(c: Ctx) -> None:
    await c("POST", GROUPS, headers=c.auth(), json={"name": "qa", "description": "testers"})
    await c("POST", GROUPS, headers=c.auth(), json={"name": "qa"})  # taken
    await c("POST", GROUPS, json={"name": "qa2"})
    await c("POST", GROUPS, headers=c.auth("erin"), json={"name": "qa2"})
    await c("POST", "/v2/orgs/nowhere/groups", headers=c.auth(), json={"name": "x"})


async def group_get(c: Ctx) -> None:
    await c("GET", GROUPS + "/devs", headers=c.auth("bob"))
    await c("GET", GROUPS + "/devs")
    await c("GET", GROUPS + "/devs", headers=c.auth("carol"))
    await c("GET", GROUPS + "/nope", headers=c.auth())


async def group_put(c: Ctx) -> None:
    await c("PUT", GROUPS + "/devs", headers=c.auth(), json={"name": "dev", "description": "d"})
    await c("PUT", GROUPS + "/dev", headers=c.auth(), json={"name": "ops"})  # taken
    await c("PUT", GROUPS + "/dev", json={"name": "x"})
    await c("PUT", GROUPS + "/dev", headers=c.auth("bob"), json={"name": "x"})
    await c("PUT", GROUPS + "/nope", headers=c.auth(), json={"name": "x"})


async def group_patch(c: Ctx) -> None:
    await c("PATCH", GROUPS + "/devs", headers=c.auth(), json={"description": "new"})
    await c("PATCH", GROUPS + "/devs", headers=c.auth(), json={"name": "bad name!"})
    await c("PATCH", GROUPS + "/devs", json={"description": "x"})
    await c("PATCH", GROUPS + "/devs", headers=c.auth("erin"), json={"description": "x"})
    await c("PATCH", GROUPS + "/nope", headers=c.auth(), json={"description": "x"})


async def group_delete(c: Ctx) -> None:
    await c("DELETE", GROUPS + "/ops")
    await c("DELETE", GROUPS + "/ops", headers=c.auth("bob"))
    await c("DELETE", GROUPS + "/ops", headers=c.auth())
    await c("DELETE", GROUPS + "/ops", headers=c.auth())


async def group_members(c: Ctx) -> None:
    await c("GET", GROUPS + "/devs/members", headers=c.auth())
    await c("GET", GROUPS + "/devs/members", headers=c.auth("bob"), params={"search": "er"})
    await c("GET", GROUPS + "/devs/members", headers=c.auth(), params={"page_size": "1"})
    await c("GET", GROUPS + "/devs/members")
    await c("GET", GROUPS + "/devs/members", headers=c.auth("carol"))
    await c("GET", GROUPS + "/nope/members", headers=c.auth())


async def group_member_add(c: Ctx) -> None:
    await c("POST", GROUPS + "/ops/members", headers=c.auth(), json={"member": "nora"})
    await c("POST", GROUPS + "/ops/members", headers=c.auth(), json={})
    await c("POST", GROUPS + "/ops/members", json={"member": "bob"})
    await c("POST", GROUPS + "/ops/members", headers=c.auth("bob"), json={"member": "bob"})
    await c("POST", GROUPS + "/ops/members", headers=c.auth(), json={"member": "carol"})


async def group_member_remove(c: Ctx) -> None:
    await c("DELETE", GROUPS + "/devs/members/bob", headers=c.auth())
    await c("DELETE", GROUPS + "/devs/members/bob", headers=c.auth())
    await c("DELETE", GROUPS + "/devs/members/erin")
    await c("DELETE", GROUPS + "/devs/members/erin", headers=c.auth("erin"))


# ---------------------------------------------------------------------- invites


def _invite(c: Ctx, invitee: str = "frank") -> str:
    return next(i for i in c.server._admin.invites.values() if i.invitee == invitee).id


async def invite_cancel(c: Ctx) -> None:
    path = f"/v2/invites/{_invite(c)}"
    await c("DELETE", path)
    await c("DELETE", path, headers=c.auth("bob"))
    await c("DELETE", path, headers=c.auth())
    await c("DELETE", path, headers=c.auth())


async def invite_resend(c: Ctx) -> None:
    path = f"/v2/invites/{_invite(c)}/resend"
    await c("PATCH", path, headers=c.auth())
    await c("PATCH", path)
    await c("PATCH", path, headers=c.auth("erin"))
    await c("PATCH", "/v2/invites/nope/resend", headers=c.auth())


async def invites_bulk(c: Ctx) -> None:
    path = "/v2/invites/bulk"
    body = {"org": "acme", "team": "devs", "role": "member", "invitees": ["gina", "bob", "@x"]}
    await c("POST", path, headers=c.auth(), json={**body, "dry_run": True})
    await c("POST", path, headers=c.auth(), json=body)
    await c("POST", path, headers=c.auth(), json=body)  # gina is now invited: 409
    await c("POST", path, headers=c.auth(), json={**body, "invitees": []})
    await c("POST", path, json=body)
    await c("POST", path, headers=c.auth("bob"), json={**body, "invitees": ["hal"]})


# ------------------------------------------------------------------ repositories

REPO = "/v2/namespaces/acme/repositories/app"


async def repo_create(c: Ctx) -> None:
    path = "/v2/namespaces/acme/repositories"
    body = {"name": "svc", "namespace": "acme", "description": "a service", "is_private": True}
    await c("POST", path, headers=c.auth("erin"), json=body)
    await c("POST", path, headers=c.auth(), json=body)  # exists
    await c("POST", path, json=body)
    await c("POST", path, headers=c.auth("bob"), json={**body, "name": "svc2"})
    await c("POST", "/v2/namespaces/nowhere/repositories", headers=c.auth(), json=body)


async def repo_group(c: Ctx) -> None:
    path = "/v2/repositories/acme/app/groups"
    devs = c.server._admin.group("acme", "devs").id
    await c("POST", path, headers=c.auth(), json={"group_id": devs, "permission": "write"})
    await c("POST", path, headers=c.auth(), json={"group_id": devs, "permission": "owner"})
    await c("POST", path, json={"group_id": devs, "permission": "read"})
    await c("POST", path, headers=c.auth("bob"), json={"group_id": devs, "permission": "read"})
    await c(
        "POST",
        "/v2/repositories/acme/nope/groups",
        headers=c.auth(),
        json={"group_id": devs, "permission": "read"},
    )


async def immutable_update(c: Ctx) -> None:
    path = REPO + "/immutabletags"
    body = {"immutable_tags": True, "immutable_tags_rules": ["v.*"]}
    await c("PATCH", path, headers=c.auth(), json=body)
    await c("PATCH", path, headers=c.auth(), json={**body, "immutable_tags_rules": ["("]})
    await c("PATCH", path, json=body)
    await c("PATCH", path, headers=c.auth("bob"), json=body)
    await c(
        "PATCH", "/v2/namespaces/acme/repositories/nope/immutabletags", headers=c.auth(), json=body
    )


async def immutable_verify(c: Ctx) -> None:
    path = REPO + "/immutabletags/verify"
    await c("POST", path, headers=c.auth("erin"), json={"regex": r"v\d.*"})
    await c("POST", path, headers=c.auth(), json={"regex": "["})
    await c("POST", path, json={"regex": "v.*"})
    await c("POST", path, headers=c.auth("bob"), json={"regex": "v.*"})
    await c(
        "POST",
        "/v2/namespaces/acme/repositories/nope/immutabletags/verify",
        headers=c.auth(),
        json={"regex": "v.*"},
    )


# ------------------------------------------------------------------------- SCIM

SCIM_BASE = "/v2/scim/2.0"
SCIM_AUTH = {"Authorization": f"Bearer {SCIM}"}
BAD_SCIM = {"Authorization": "Bearer not-a-scim-token"}


async def scim_config(c: Ctx) -> None:
    await c("GET", SCIM_BASE + "/ServiceProviderConfig", headers=SCIM_AUTH)
    await c("GET", SCIM_BASE + "/ServiceProviderConfig", headers=BAD_SCIM)


async def scim_resource_types(c: Ctx) -> None:
    await c("GET", SCIM_BASE + "/ResourceTypes", headers=SCIM_AUTH)
    await c("GET", SCIM_BASE + "/ResourceTypes")


async def scim_resource_type(c: Ctx) -> None:
    await c("GET", SCIM_BASE + "/ResourceTypes/User", headers=SCIM_AUTH)
    await c("GET", SCIM_BASE + "/ResourceTypes/Group", headers=SCIM_AUTH)
    await c("GET", SCIM_BASE + "/ResourceTypes/User", headers=c.auth())  # a Hub JWT: 401


async def scim_schemas(c: Ctx) -> None:
    await c("GET", SCIM_BASE + "/Schemas", headers=SCIM_AUTH)
    await c("GET", SCIM_BASE + "/Schemas", headers=BAD_SCIM)


async def scim_schema(c: Ctx) -> None:
    await c("GET", f"{SCIM_BASE}/Schemas/{USER_SCHEMA}", headers=SCIM_AUTH)
    await c("GET", f"{SCIM_BASE}/Schemas/urn:nope", headers=SCIM_AUTH)
    await c("GET", f"{SCIM_BASE}/Schemas/{USER_SCHEMA}", headers=BAD_SCIM)


async def scim_users(c: Ctx) -> None:
    users = SCIM_BASE + "/Users"
    await c("GET", users, headers=SCIM_AUTH)
    await c("GET", users, headers=SCIM_AUTH, params={"startIndex": "2", "count": "2"})
    await c("GET", users, headers=SCIM_AUTH, params={"filter": 'userName eq "nora@corp.example"'})
    await c(
        "GET", users, headers=SCIM_AUTH, params={"attributes": "userName", "sortBy": "userName"}
    )
    await c("GET", users, headers=SCIM_AUTH, params={"count": "201"})
    await c("GET", users, headers=BAD_SCIM)


def _scim_id(c: Ctx, username: str = "nora") -> str:
    return c.server._admin.org("acme").info[username].scim_id


async def scim_user_create(c: Ctx) -> None:
    users = SCIM_BASE + "/Users"
    body = {"schemas": [USER_SCHEMA], "userName": "zed@corp.example", "name": {"givenName": "Z"}}
    await c("POST", users, headers=SCIM_AUTH, json=body)
    await c("POST", users, headers=SCIM_AUTH, json=body)  # 409
    await c("POST", users, headers=SCIM_AUTH, json={**body, "userName": "not-an-email"})
    await c("POST", users, headers=BAD_SCIM, json=body)


async def scim_user_get(c: Ctx) -> None:
    await c("GET", f"{SCIM_BASE}/Users/{_scim_id(c)}", headers=SCIM_AUTH)
    await c("GET", f"{SCIM_BASE}/Users/nope", headers=SCIM_AUTH)
    await c("GET", f"{SCIM_BASE}/Users/{_scim_id(c)}", headers=BAD_SCIM)


async def scim_user_put(c: Ctx) -> None:
    path = f"{SCIM_BASE}/Users/{_scim_id(c)}"
    body = {"schemas": [USER_SCHEMA], "name": {"givenName": "Nora", "familyName": "N"}}
    await c("PUT", path, headers=SCIM_AUTH, json={**body, "enabled": True})
    await c("PUT", path, headers=SCIM_AUTH, json=body)  # enabled omitted: deactivated
    await c("PUT", path, headers=SCIM_AUTH, json={"schemas": []})
    await c("PUT", f"{SCIM_BASE}/Users/nope", headers=SCIM_AUTH, json=body)
    await c("PUT", path, headers=BAD_SCIM, json=body)


Case = Callable[[Ctx], Awaitable[None]]
ORG = "/v2/orgs/{org_name}"

CASES: dict[tuple[str, str], tuple[Case, set[str]]] = {
    ("get", "/v2/orgs/{name}/access-tokens"): (org_tokens_list, {"200", "401", "403", "404"}),
    ("post", "/v2/orgs/{name}/access-tokens"): (
        org_tokens_create,
        {"201", "400", "401", "403", "404"},
    ),
    ("get", ORG + "/access-tokens/{access_token_id}"): (
        org_token_get,
        {"200", "401", "403", "404"},
    ),
    ("patch", ORG + "/access-tokens/{access_token_id}"): (
        org_token_patch,
        {"200", "400", "401", "403", "404"},
    ),
    ("delete", ORG + "/access-tokens/{access_token_id}"): (
        org_token_delete,
        {"204", "401", "403", "404"},
    ),
    ("get", ORG + "/members"): (members_list, {"200", "400", "401", "403", "404"}),
    ("get", ORG + "/members/export"): (members_export, {"200", "401", "403", "404"}),
    ("put", ORG + "/members/{username}"): (member_update, {"200", "400", "401", "403", "404"}),
    ("delete", ORG + "/members/{username}"): (
        member_remove,
        {"204", "400", "401", "403", "404"},
    ),
    ("get", ORG + "/invites"): (org_invites, {"200", "401", "403", "404"}),
    ("get", ORG + "/groups"): (groups_list, {"200", "401", "403", "404"}),
    ("post", ORG + "/groups"): (group_create, {"201", "400", "401", "403", "404"}),
    ("get", GROUP): (group_get, {"200", "401", "403", "404"}),
    ("put", GROUP): (group_put, {"200", "400", "401", "403", "404"}),
    ("patch", GROUP): (group_patch, {"200", "400", "401", "403", "404"}),
    ("delete", GROUP): (group_delete, {"204", "401", "403", "404"}),
    ("get", GROUP + "/members"): (group_members, {"200", "401", "403", "404"}),
    ("post", GROUP + "/members"): (group_member_add, {"200", "400", "401", "403", "404"}),
    ("delete", GROUP + "/members/{username}"): (
        group_member_remove,
        {"204", "401", "403", "404"},
    ),
    ("delete", "/v2/invites/{id}"): (invite_cancel, {"204", "401", "403", "404"}),
    ("patch", "/v2/invites/{id}/resend"): (invite_resend, {"204", "401", "403", "404"}),
    ("post", "/v2/invites/bulk"): (invites_bulk, {"202", "400", "401", "403", "409"}),
    ("post", "/v2/namespaces/{namespace}/repositories"): (
        repo_create,
        {"201", "400", "401", "403", "404"},
    ),
    ("post", "/v2/repositories/{namespace}/{repository}/groups"): (
        repo_group,
        {"200", "400", "401", "403", "404"},
    ),
    ("patch", "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags"): (
        immutable_update,
        {"200", "400", "401", "403", "404"},
    ),
    ("post", "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags/verify"): (
        immutable_verify,
        {"200", "400", "401", "403", "404"},
    ),
    ("get", "/v2/scim/2.0/ServiceProviderConfig"): (scim_config, {"200", "401"}),
    ("get", "/v2/scim/2.0/ResourceTypes"): (scim_resource_types, {"200", "401"}),
    ("get", "/v2/scim/2.0/ResourceTypes/{name}"): (scim_resource_type, {"200", "401", "404"}),
    ("get", "/v2/scim/2.0/Schemas"): (scim_schemas, {"200", "401"}),
    ("get", "/v2/scim/2.0/Schemas/{id}"): (scim_schema, {"200", "401", "404"}),
    ("get", "/v2/scim/2.0/Users"): (scim_users, {"200", "400", "401"}),
    ("post", "/v2/scim/2.0/Users"): (scim_user_create, {"201", "400", "401", "409"}),
    ("get", "/v2/scim/2.0/Users/{id}"): (scim_user_get, {"200", "401", "404"}),
    ("put", "/v2/scim/2.0/Users/{id}"): (scim_user_put, {"200", "400", "401", "404"}),
}

# Operations other contract tests cover (tests/test_fakehub_contract.py).
COVERED_ELSEWHERE = {
    ("post", "/v2/users/login"),
    ("post", "/v2/users/2fa-login"),
    ("post", "/v2/auth/token"),
    ("get", "/v2/access-tokens"),
    ("post", "/v2/access-tokens"),
    ("get", "/v2/access-tokens/{uuid}"),
    ("delete", "/v2/access-tokens/{uuid}"),
    ("patch", "/v2/access-tokens/{uuid}"),
    ("get", "/v2/auditlogs/{account}/actions"),
    ("get", "/v2/auditlogs/{account}"),
    ("get", "/v2/orgs/{name}/settings"),
    ("put", "/v2/orgs/{name}/settings"),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/tags"),
    ("head", "/v2/namespaces/{namespace}/repositories/{repository}/tags"),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}"),
    ("head", "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}"),
    ("get", "/v2/namespaces/{namespace}/repositories"),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}"),
    ("head", "/v2/namespaces/{namespace}/repositories/{repository}"),
}


@pytest.fixture(scope="module")
def latest() -> tuple[dict[str, Any], OpenAPI]:
    return load_latest_patched()


@pytest.fixture
async def ctx() -> AsyncIterator[Ctx]:
    clock = ManualClock(NOW)
    async with FakeHub(clock=clock) as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            yield Ctx(server, http, clock)


def test_every_latest_operation_has_a_contract_case(
    latest: tuple[dict[str, Any], OpenAPI],
) -> None:
    raw, _ = latest
    operations = {
        (method, path)
        for path, item in raw["paths"].items()
        for method in item
        if method in METHODS
    }
    assert len(operations) == 54
    assert set(CASES).isdisjoint(COVERED_ELSEWHERE)
    assert operations == set(CASES) | COVERED_ELSEWHERE


@pytest.mark.parametrize("operation", list(CASES), ids=lambda op: f"{op[0]} {op[1]}")
async def test_org_admin_answers_fit_the_current_spec(
    latest: tuple[dict[str, Any], OpenAPI], ctx: Ctx, operation: tuple[str, str]
) -> None:
    _, api = latest
    method, pattern = operation
    case, expected = CASES[operation]
    await case(ctx)
    mine = [s for s in ctx.served if s.method == method and _matches(pattern, s.path)]
    assert mine, "the case sent no request for its operation"
    for served in mine:
        _validate(api, pattern, served)
    assert {str(s.status) for s in mine} == expected


def _validate(api: OpenAPI, pattern: str, served: Served) -> None:
    try:
        validate(api, pattern, served)
    except Exception as exc:  # name the answer that did not fit
        cause = exc.__cause__
        details = getattr(cause, "schema_errors", None) or cause
        raise AssertionError(
            f"{served.method} {served.path} -> {served.status}: {exc!r} {details!r}"
        ) from exc
