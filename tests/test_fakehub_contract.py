"""Contract: every response FakeHub serves for the seed's operations fits the seed spec.

Each case below drives one operation of ``hub-api-seed.yaml`` over real HTTP (raw aiohttp)
through its success and its declared error answers, and validates every response with
openapi-core. The repository, tag and auth-token operations FakeHub serves from the current
spec are validated against ``hub-api-latest.yaml`` the same way.

Patched in the loaded copies (never in the files):

- seed: ``GET /v2/access-tokens/{uuid}`` does not declare its ``uuid`` path parameter;
- seed: ``getAccessTokensResponse.next``/``previous`` are typed as plain strings while the
  spec's own example (and Hub) send ``null``: made nullable;
- latest: YAML integer response codes become strings, and spec validation is skipped (the
  file is not a valid OpenAPI document, see OPERATIONS.md);
- latest: ``tag.images`` is declared as one ``image`` object while Hub sends a list (one
  entry per platform): made an array of ``image``.
"""

from __future__ import annotations

import copy
import json as json_module
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import yaml  # type: ignore[import-untyped]
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from hubasync.testing import FakeHub, FakeImage, ManualClock, digest_of

from ._spec import LATEST_SPEC, SEED_SPEC, SPEC_DIR

__all__ = ["LATEST_SPEC", "SEED_SPEC", "SPEC_DIR"]  # re-exported for the other contract tests

NOW = 1_700_000_000.0
DAY = 86_400.0
ACTIVE = digest_of("active")
TAGGED_OLD = digest_of("tagged-old")
UNTAGGED_OLD = digest_of("untagged-old")
CHILD = digest_of("active/arm64")
PAT = "dckr_pat_contract_000000000000000000"
HUB = "https://hub.docker.com"
METHODS = ("get", "put", "post", "delete", "patch", "head")


def _str_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _str_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_str_keys(v) for v in node]
    return node


def load_seed() -> tuple[dict[str, Any], OpenAPI]:
    raw = yaml.safe_load(SEED_SPEC.read_text())
    spec = copy.deepcopy(raw)
    get_token = spec["paths"]["/v2/access-tokens/{uuid}"]["get"]
    assert "parameters" not in get_token, "the seed's uuid defect is fixed: drop this patch"
    get_token["parameters"] = [
        {"in": "path", "name": "uuid", "required": True, "schema": {"type": "string"}}
    ]
    listing = spec["components"]["schemas"]["getAccessTokensResponse"]["properties"]
    for name in ("next", "previous"):
        listing[name]["nullable"] = True
    return raw, OpenAPI.from_dict(spec)


def load_latest() -> OpenAPI:
    spec = _str_keys(yaml.safe_load(LATEST_SPEC.read_text()))
    tag = spec["components"]["schemas"]["tag"]["properties"]
    assert tag["images"]["type"] == "object", "the spec now says images is a list: drop this"
    tag["images"] = {"type": "array", "items": {"$ref": "#/components/schemas/image"}}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@dataclass
class Served:
    """One response FakeHub served, with the request that produced it."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: bytes
    content_type: str | None


@dataclass
class Ctx:
    server: FakeHub
    http: aiohttp.ClientSession
    clock: ManualClock
    served: list[Served] = field(default_factory=list)

    def auth(self, user: str = "alice", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.issue_token(user, **kw)}"}

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        async with self.http.request(
            method, path, params=params, json=json, headers=headers
        ) as resp:
            body = await resp.read()
            content_type = resp.content_type if body else None
            self.served.append(
                Served(method.lower(), path, dict(params or {}), resp.status, body, content_type)
            )
            return resp.status, (json_module.loads(body) if body else None)


def seed(server: FakeHub) -> None:
    server.add_user("alice", "alice-pw", pats=[PAT])
    server.add_user("bob", "bob-pw", totp="424242")
    server.add_user("carol", "carol-pw")
    server.add_namespace("acme", members=["alice", "bob"], owners=["alice"])
    server.add_repository(
        "acme",
        "app",
        description="the app",
        full_description="# app",
        images=[
            FakeImage(TAGGED_OLD, tags=["v1"], last_pushed=NOW - 90 * DAY),
            FakeImage(
                ACTIVE,
                tags=["latest"],
                historical_tags=["v0"],
                last_pushed=NOW - DAY,
                last_pulled=NOW - 3600,
                children=[CHILD],
            ),
            FakeImage(UNTAGGED_OLD, last_pushed=NOW - 120 * DAY),
        ],
    )
    server.add_repository(
        "acme",
        "private",
        is_private=True,
        images=[FakeImage(digest_of("p"), tags=["latest"], last_pushed=NOW - 5 * DAY)],
    )
    server.add_org_token("acme", secret="dckr_oat_contract_00000000000000000")


# -------------------------------------------------------- cases: seed operations


async def login(c: Ctx) -> None:
    await c("POST", "/v2/users/login", json={"username": "alice", "password": "alice-pw"})
    await c("POST", "/v2/users/login", json={"username": "alice", "password": PAT})
    await c("POST", "/v2/users/login", json={"username": "alice", "password": "wrong"})
    await c("POST", "/v2/users/login", json={"username": "bob", "password": "bob-pw"})


async def login_2fa(c: Ctx) -> None:
    _, body = await c("POST", "/v2/users/login", json={"username": "bob", "password": "bob-pw"})
    pending = body["login_2fa_token"]
    await c("POST", "/v2/users/2fa-login", json={"login_2fa_token": pending, "code": "000000"})
    await c("POST", "/v2/users/2fa-login", json={"login_2fa_token": pending, "code": "424242"})


async def tokens_list(c: Ctx) -> None:
    for i in range(3):
        c.server.add_access_token("carol", label=f"t{i}", created_at=NOW - i)
    carol = c.auth("carol")
    await c("GET", "/v2/access-tokens", headers=carol)
    await c("GET", "/v2/access-tokens", headers=carol, params={"page_size": "2"})
    await c("GET", "/v2/access-tokens", headers=carol, params={"page": "2", "page_size": "2"})
    await c("GET", "/v2/access-tokens", headers=carol, params={"page_size": "101"})
    await c("GET", "/v2/access-tokens")


async def tokens_create(c: Ctx) -> None:
    body = {"token_label": "ci", "scopes": ["repo:read"]}
    await c("POST", "/v2/access-tokens", headers=c.auth(), json=body)
    await c(
        "POST",
        "/v2/access-tokens",
        headers=c.auth(),
        json={**body, "expires_at": "2030-01-01T00:00:00Z"},
    )
    await c("POST", "/v2/access-tokens", headers=c.auth(), json={"token_label": "ci"})
    await c("POST", "/v2/access-tokens", json=body)


def _uuid(c: Ctx) -> str:
    return c.server.access_tokens("alice")[0].uuid


async def tokens_get(c: Ctx) -> None:
    uuid = _uuid(c)
    await c("POST", "/v2/auth/token", json={"identifier": "alice", "secret": PAT})  # last_used
    await c("GET", f"/v2/access-tokens/{uuid}", headers=c.auth())
    await c("GET", f"/v2/access-tokens/{uuid}")
    await c("GET", "/v2/access-tokens/00000000-0000-4000-8000-000000000000", headers=c.auth())


async def tokens_delete(c: Ctx) -> None:
    uuid = _uuid(c)
    await c("DELETE", f"/v2/access-tokens/{uuid}")
    await c("DELETE", f"/v2/access-tokens/{uuid}", headers=c.auth())
    await c("DELETE", f"/v2/access-tokens/{uuid}", headers=c.auth())


async def tokens_patch(c: Ctx) -> None:
    uuid = _uuid(c)
    path = f"/v2/access-tokens/{uuid}"
    await c("PATCH", path, headers=c.auth(), json={"token_label": "renamed", "is_active": False})
    await c("PATCH", path, headers=c.auth(), json={"is_active": "no"})
    await c("PATCH", path, json={"is_active": True})


async def images_summary(c: Ctx) -> None:
    path = "/v2/namespaces/acme/repositories/app/images-summary"
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth(), params={"active_from": "2023-01-01T00:00:00Z"})
    await c("GET", path)


async def images_list(c: Ctx) -> None:
    path = "/v2/namespaces/acme/repositories/app/images"
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth(), params={"page_size": "1", "page": "2"})
    await c("GET", path, headers=c.auth(), params={"status": "inactive", "ordering": "digest"})
    await c("GET", path, headers=c.auth(), params={"currently_tagged": "true"})
    await c("GET", path)
    await c("GET", path, headers=c.auth("carol"))


async def image_tags(c: Ctx) -> None:
    path = f"/v2/namespaces/acme/repositories/app/images/{ACTIVE}/tags"
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth(), params={"page_size": "1"})
    await c("GET", path)
    await c("GET", path, headers=c.auth("carol"))


async def delete_images(c: Ctx) -> None:
    path = "/v2/namespaces/acme/delete-images"

    def manifests(*digests: str) -> list[dict[str, str]]:
        return [{"repository": "app", "digest": d} for d in digests]

    _, body = await c(
        "POST", path, headers=c.auth(), json={"manifests": manifests(ACTIVE), "dry_run": True}
    )
    warnings = body["errinfo"]["details"]["warnings"]
    await c(
        "POST",
        path,
        headers=c.auth(),
        json={"manifests": manifests(ACTIVE), "ignore_warnings": warnings, "dry_run": True},
    )
    await c("POST", path, headers=c.auth(), json={"manifests": manifests(CHILD, digest_of("x"))})
    await c("POST", path, headers=c.auth(), json={"manifests": []})
    await c("POST", path, headers=c.auth(), json={"manifests": manifests(UNTAGGED_OLD)})
    await c("POST", path, headers=c.auth("carol"), json={"manifests": manifests(TAGGED_OLD)})


async def audit_logs(c: Ctx) -> None:
    path = "/v2/auditlogs/acme"
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth(), params={"action": "repo.tag.push", "page_size": "2"})
    await c("GET", path, headers=c.auth(), params={"from": "2023-01-01T00:00:00Z"})
    await c("GET", path)  # 401 (answered by `default`, an rpcStatus)
    await c("GET", path, headers=c.auth("carol"))  # 403
    c.server.configure_rate_limit(1, window_s=60)
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth())  # 429


async def audit_actions(c: Ctx) -> None:
    path = "/v2/auditlogs/acme/actions"
    await c("GET", path, headers=c.auth())
    await c("GET", path)
    c.server.configure_rate_limit(1, window_s=60)
    await c("GET", path, headers=c.auth())
    await c("GET", path, headers=c.auth())  # 429


async def settings_get(c: Ctx) -> None:
    await c("GET", "/v2/orgs/acme/settings", headers=c.auth("bob"))
    await c("GET", "/v2/orgs/acme/settings")
    await c("GET", "/v2/orgs/acme/settings", headers=c.auth("carol"))
    await c("GET", "/v2/orgs/nowhere/settings", headers=c.auth())


async def settings_put(c: Ctx) -> None:
    body = {
        "restricted_images": {
            "enabled": True,
            "allow_official_images": True,
            "allow_verified_publishers": False,
        }
    }
    await c("PUT", "/v2/orgs/acme/settings", headers=c.auth(), json=body)
    await c("PUT", "/v2/orgs/acme/settings", json=body)
    await c("PUT", "/v2/orgs/acme/settings", headers=c.auth("bob"), json=body)
    await c("PUT", "/v2/orgs/nowhere/settings", headers=c.auth(), json=body)


async def repo_patch(c: Ctx) -> None:
    await c(
        "PATCH",
        "/v2/repositories/acme/app/",
        headers=c.auth(),
        json={"description": "new", "full_description": "# new", "is_private": True},
    )
    await c("PATCH", "/v2/repositories/acme/app/", headers=c.auth("carol"), json={})
    await c("PATCH", "/v2/repositories/acme/nope/", headers=c.auth(), json={})


Case = Callable[[Ctx], Awaitable[None]]

SEED_CASES: dict[tuple[str, str], tuple[Case, set[str]]] = {
    ("post", "/v2/users/login"): (login, {"200", "401"}),
    ("post", "/v2/users/2fa-login"): (login_2fa, {"200", "401"}),
    ("get", "/v2/access-tokens"): (tokens_list, {"200", "400", "401"}),
    ("post", "/v2/access-tokens"): (tokens_create, {"201", "400", "401"}),
    ("get", "/v2/access-tokens/{uuid}"): (tokens_get, {"200", "401", "404"}),
    ("delete", "/v2/access-tokens/{uuid}"): (tokens_delete, {"204", "401", "404"}),
    ("patch", "/v2/access-tokens/{uuid}"): (tokens_patch, {"200", "400", "401"}),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/images-summary"): (
        images_summary,
        {"200", "401"},
    ),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/images"): (
        images_list,
        {"200", "401", "403"},
    ),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/images/{digest}/tags"): (
        image_tags,
        {"200", "401", "403"},
    ),
    ("post", "/v2/namespaces/{namespace}/delete-images"): (delete_images, {"200", "400", "403"}),
    ("get", "/v2/auditlogs/{account}"): (audit_logs, {"200", "429", "default"}),
    ("get", "/v2/auditlogs/{account}/actions"): (audit_actions, {"200", "429", "default"}),
    ("get", "/v2/orgs/{name}/settings"): (settings_get, {"200", "401", "403", "404"}),
    ("put", "/v2/orgs/{name}/settings"): (settings_put, {"200", "401", "403", "404"}),
    ("patch", "/v2/repositories/{namespace}/{repository}/"): (repo_patch, {"200", "403", "404"}),
}


# ------------------------------------------------------ cases: latest operations


async def auth_token(c: Ctx) -> None:
    await c("POST", "/v2/auth/token", json={"identifier": "alice", "secret": PAT})
    await c("POST", "/v2/auth/token", json={"identifier": "alice", "secret": "alice-pw"})
    await c("POST", "/v2/auth/token", json={"identifier": "alice", "secret": "nope"})


async def repos_list(c: Ctx) -> None:
    path = "/v2/namespaces/acme/repositories"
    await c("GET", path)
    await c("GET", path, headers=c.auth(), params={"page_size": "1", "ordering": "name"})
    await c("GET", path, headers=c.auth(), params={"page_size": "1", "page": "2"})
    await c("GET", path, params={"ordering": "stars"})
    await c("GET", path, params={"page": "11", "page_size": "100"})
    await c("GET", path, headers=c.auth(), params={"page": "9"})
    await c("GET", path, headers={"Authorization": "Bearer nope"})


async def repo_get(c: Ctx) -> None:
    await c("GET", "/v2/namespaces/acme/repositories/app")
    await c("GET", "/v2/namespaces/acme/repositories/private", headers=c.auth())
    await c("GET", "/v2/namespaces/acme/repositories/private", headers=c.auth("carol"))
    await c("GET", "/v2/namespaces/acme/repositories/nope")
    await c("GET", "/v2/namespaces/acme/repositories/app", headers={"Authorization": "Bearer x"})


async def repo_tags(c: Ctx) -> None:
    await c("GET", "/v2/namespaces/acme/repositories/app/tags")
    await c("GET", "/v2/namespaces/acme/repositories/app/tags", params={"page_size": "1"})
    await c("GET", "/v2/namespaces/acme/repositories/private/tags", headers=c.auth("carol"))
    await c("GET", "/v2/namespaces/acme/repositories/nope/tags")


async def repo_tag(c: Ctx) -> None:
    await c("GET", "/v2/namespaces/acme/repositories/app/tags/latest")
    await c("GET", "/v2/namespaces/acme/repositories/private/tags/latest", headers=c.auth())
    await c("GET", "/v2/namespaces/acme/repositories/private/tags/latest", headers=c.auth("bob"))
    await c("GET", "/v2/namespaces/acme/repositories/private/tags/latest", headers=c.auth("carol"))
    await c("GET", "/v2/namespaces/acme/repositories/app/tags/nope")


LATEST_CASES: dict[tuple[str, str], tuple[Case, set[str]]] = {
    ("post", "/v2/auth/token"): (auth_token, {"200", "401"}),
    ("get", "/v2/namespaces/{namespace}/repositories"): (
        repos_list,
        {"200", "400", "401", "403", "404"},
    ),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}"): (
        repo_get,
        {"200", "401", "403", "404"},
    ),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/tags"): (
        repo_tags,
        {"200", "403", "404"},
    ),
    ("get", "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}"): (
        repo_tag,
        {"200", "403", "404"},
    ),
}


# ---------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def seed_spec() -> tuple[dict[str, Any], OpenAPI]:
    return load_seed()


@pytest.fixture(scope="module")
def latest_spec() -> OpenAPI:
    return load_latest()


@pytest.fixture
async def ctx() -> AsyncIterator[Ctx]:
    clock = ManualClock(NOW)
    async with FakeHub(image_api=True, clock=clock) as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            yield Ctx(server, http, clock)


def validate(api: OpenAPI, pattern: str, served: Served) -> None:
    request = MockRequest(HUB, served.method, served.path, path_pattern=pattern, args=served.query)
    response = MockResponse(served.body, served.status, content_type=served.content_type)  # type: ignore[arg-type]
    api.validate_response(request, response)


def declared_key(operation: dict[str, Any], status: int) -> str:
    responses = operation["responses"]
    return str(status) if str(status) in responses else "default"


def test_every_seed_operation_has_a_case(seed_spec: tuple[dict[str, Any], OpenAPI]) -> None:
    raw, _ = seed_spec
    operations = {
        (method, path)
        for path, item in raw["paths"].items()
        for method in item
        if method in METHODS
    }
    assert len(operations) == 16
    assert operations == set(SEED_CASES)


@pytest.mark.parametrize("operation", list(SEED_CASES), ids=lambda op: f"{op[0]} {op[1]}")
async def test_seed_operation_responses_fit_the_seed_spec(
    seed_spec: tuple[dict[str, Any], OpenAPI], ctx: Ctx, operation: tuple[str, str]
) -> None:
    raw, api = seed_spec
    method, pattern = operation
    case, expected = SEED_CASES[operation]
    await case(ctx)
    spec_op = raw["paths"][pattern][method]
    covered = set()
    mine = [s for s in ctx.served if s.method == method and _matches(pattern, s.path)]
    assert mine, "the case sent no request for its operation"
    for served in mine:
        validate(api, pattern, served)
        covered.add(declared_key(spec_op, served.status))
    assert covered == expected


@pytest.mark.parametrize("operation", list(LATEST_CASES), ids=lambda op: f"{op[0]} {op[1]}")
async def test_latest_operation_responses_fit_the_latest_spec(
    latest_spec: OpenAPI, ctx: Ctx, operation: tuple[str, str]
) -> None:
    method, pattern = operation
    case, expected = LATEST_CASES[operation]
    await case(ctx)
    covered = set()
    for served in ctx.served:
        if served.method == method and _matches(pattern, served.path):
            validate(latest_spec, pattern, served)
            covered.add(str(served.status))
    assert covered == expected


def _matches(pattern: str, path: str) -> bool:
    want, got = pattern.split("/"), path.split("/")
    return len(want) == len(got) and all(
        w == g or (w.startswith("{") and w.endswith("}") and g)
        for w, g in zip(want, got, strict=True)
    )
