"""Contract: every request the client sends fits the spec (seed, or latest for its ops).

Each public operation runs against FakeHub; every request FakeHub logged (method, path,
query, JSON body) is validated with openapi-core against ``hub-api-seed.yaml`` — or, for
the repository/tag/auth-token operations only the current spec documents, against
``hub-api-latest.yaml``. The loaded copies are patched as in test_fakehub_contract.py (the
seed's undeclared ``uuid`` path parameter), never the files.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

from hubasync import DeleteImagesError, HubClient
from hubasync.models import ManifestRef, RestrictedImages
from hubasync.testing import FakeHub, FakeImage, digest_of

from .test_fakehub_contract import load_latest, load_seed

HUB = "https://hub.docker.com"


def _is_latest_only(path: str) -> bool:
    if path == "/v2/auth/token":
        return True
    parts = path.split("/")
    # /v2/namespaces/{ns}/repositories[/{repo}[/tags[/{tag}]]]
    return (
        len(parts) >= 5
        and parts[2] == "namespaces"
        and parts[4] == "repositories"
        and (len(parts) == 5 or len(parts) == 6 or parts[6] == "tags")
    )


async def _drive_every_operation(server: FakeHub) -> None:
    old = digest_of("old")
    async with HubClient(
        username="alice", secret="dckr_pat_alice", base_url=server.url, requests_per_minute=10**6
    ) as hub:
        since = datetime.now(UTC) - timedelta(days=30)
        await hub.images.summary("acme", "app", active_from=since)
        await hub.images.list(
            "acme",
            "app",
            status="inactive",
            currently_tagged=True,
            ordering="-last_activity",
            active_from=since,
            page_size=2,
        ).to_list()
        await hub.images.tags("acme", "app", old, page_size=5).to_list()
        try:
            await hub.images.delete(
                "acme", [ManifestRef(repository="app", digest=old)], dry_run=True
            )
        except DeleteImagesError as err:
            await hub.images.delete(
                "acme",
                [ManifestRef(repository="app", digest=old)],
                ignore_warnings=err.warnings,
                active_from=since,
            )
        token = await hub.access_tokens.create("ci", ["repo:read"])
        await hub.access_tokens.list(page_size=10).to_list()
        await hub.access_tokens.get(token.uuid)
        await hub.access_tokens.update(token.uuid, label="ci2", is_active=False)
        await hub.access_tokens.delete(token.uuid)
        await hub.audit_logs.list(
            "acme",
            action="repo.tag.push",
            actor="alice",
            from_=since,
            to=datetime.now(UTC),
            page_size=10,
        ).to_list()
        await hub.audit_logs.actions("acme")
        await hub.orgs.settings("acme")
        await hub.orgs.update_settings(
            "acme",
            RestrictedImages(
                enabled=True, allow_official_images=True, allow_verified_publishers=False
            ),
        )
        await hub.repositories.update(
            "acme", "app", description="d", full_description="f", is_private=False
        )
        await hub.repositories.list("acme", name="ap", ordering="name", page_size=10).to_list()
        await hub.repositories.get("acme", "app")
        await hub.repositories.exists("acme", "app")
        await hub.repositories.tags("acme", "app", page_size=10).to_list()
        await hub.repositories.tag("acme", "app", "latest")
    async with HubClient(
        username="bob",
        secret="hunter2",
        base_url=server.url,
        two_factor=lambda: "123456",
        requests_per_minute=10**6,
    ) as hub2:
        await hub2.login()


def _mock(record: Any) -> MockRequest:
    body = json.dumps(record.json).encode() if record.json is not None else None
    headers = {"Authorization": "Bearer redacted"} if record.authorized else {}
    return MockRequest(
        HUB, record.method, record.path, args=dict(record.query), data=body, headers=headers
    )


async def test_every_request_fits_the_spec() -> None:
    _, seed = load_seed()
    latest: OpenAPI = load_latest()
    async with FakeHub(image_api=True) as server:
        server.add_user("alice", "pw", pats=["dckr_pat_alice"])
        server.add_user("bob", "hunter2", totp="123456")
        server.add_namespace("acme", members=["alice"], owners=["alice"])
        server.add_repository(
            "acme",
            "app",
            images=[
                FakeImage(digest_of("old"), tags=["v1"]),
                FakeImage(digest_of("new"), tags=["latest"]),
            ],
        )
        await _drive_every_operation(server)
        records = list(server.requests)
    assert len(records) >= 20
    kinds: set[tuple[str, str]] = set()
    for record in records:
        api = latest if _is_latest_only(record.path) else seed
        api.validate_request(_mock(record))
        kinds.add((record.method, record.path.split("/")[2]))
    # every area was exercised, logins included
    assert {k[1] for k in kinds} >= {
        "namespaces",
        "access-tokens",
        "auditlogs",
        "orgs",
        "repositories",
        "users",
        "auth",
    }
