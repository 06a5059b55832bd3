"""FakeHub's organization administration, driven over real HTTP with raw aiohttp.

Role rules as Hub documents them (only owners change roles and remove members, the last
owner stays), state that later answers reflect, organization access tokens that log in,
SCIM users mapped onto members, and the access-audit findings ``generate()`` plants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from hubasync.testing import FakeHub, FakeImage, ManualClock, digest_of

NOW = 1_700_000_000.0
DAY = 86_400.0
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM = "scim_test_token_000001"


@pytest.fixture
async def server() -> AsyncIterator[FakeHub]:
    async with FakeHub(clock=ManualClock(NOW)) as hub:
        for user in ("alice", "bob", "erin", "carol"):
            hub.add_user(user, f"{user}-pw")
        hub.add_namespace("acme", members=["alice", "bob"], owners=["alice"])
        hub.add_org_member("acme", "erin", role="editor")
        hub.add_group("acme", "devs", members=["bob"])
        hub.add_repository(
            "acme", "app", images=[FakeImage(digest_of("x"), tags=["v1", "v2", "latest"])]
        )
        yield hub


@pytest.fixture
async def http(server: FakeHub) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    server: FakeHub,
    method: str,
    path: str,
    user: str | None = "alice",
    **kw: Any,
) -> tuple[int, Any]:
    headers = kw.pop("headers", {})
    if user is not None:
        headers["Authorization"] = f"Bearer {server.issue_token(user)}"
    async with http.request(method, path, headers=headers, **kw) as resp:
        text = await resp.text()
        if resp.content_type.endswith("json") and text:
            return resp.status, await resp.json(content_type=None)
        return resp.status, text


# ------------------------------------------------------------------- role rules


async def test_only_owners_change_roles_and_the_last_owner_stays(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    path = "/v2/orgs/acme/members/bob"
    status, _ = await call(http, server, "PUT", path, "erin", json={"role": "owner"})
    assert status == 403  # an editor is not an owner
    assert server.org_members("acme")["bob"] == "member"
    status, body = await call(
        http, server, "PUT", "/v2/orgs/acme/members/alice", json={"role": "editor"}
    )
    assert status == 400 and "last owner" in body["detail"]
    assert server.org_members("acme")["alice"] == "owner"
    status, body = await call(http, server, "PUT", path, json={"role": "owner"})
    assert (status, body["role"], body["username"]) == (200, "Owner", "bob")
    # with a second owner, alice may step down; bob (now owner) may change roles
    status, _ = await call(
        http, server, "PUT", "/v2/orgs/acme/members/alice", json={"role": "member"}
    )
    assert status == 200
    assert server.org_members("acme") == {"alice": "member", "bob": "owner", "erin": "editor"}
    status, _ = await call(http, server, "PUT", path, "alice", json={"role": "member"})
    assert status == 403  # alice is no longer an owner


async def test_an_unknown_role_is_a_400_naming_the_roles(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    status, body = await call(
        http, server, "PUT", "/v2/orgs/acme/members/bob", json={"role": "admin"}
    )
    assert status == 400
    assert "owner, editor, member" in body["detail"]


async def test_removing_a_member_drops_them_from_groups_but_never_the_last_owner(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    status, _ = await call(http, server, "DELETE", "/v2/orgs/acme/members/bob", "erin")
    assert status == 403
    status, body = await call(http, server, "DELETE", "/v2/orgs/acme/members/alice")
    assert status == 400 and "last owner" in body["detail"]
    status, _ = await call(http, server, "DELETE", "/v2/orgs/acme/members/bob")
    assert status == 204
    assert "bob" not in server.org_members("acme")
    assert server.org_groups("acme") == {"devs": []}
    # bob lost access to the org's private data with his membership
    status, _ = await call(http, server, "GET", "/v2/orgs/acme/groups", "bob")
    assert status == 403
    status, _ = await call(http, server, "DELETE", "/v2/orgs/acme/members/bob")
    assert status == 404


# ---------------------------------------------------------------------- members


async def test_member_list_filters_and_shows_roles_groups_and_invitees(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.add_invite("acme", "dave@corp.example", created=NOW - 40 * DAY)
    status, body = await call(http, server, "GET", "/v2/orgs/acme/members")
    assert status == 200
    rows = {r["username"]: (r["role"], r["groups"]) for r in body["results"]}
    assert rows == {"alice": ("Owner", []), "bob": ("Member", ["devs"]), "erin": ("Editor", [])}
    _, body = await call(http, server, "GET", "/v2/orgs/acme/members", params={"role": "editor"})
    assert [r["username"] for r in body["results"]] == ["erin"]
    _, body = await call(http, server, "GET", "/v2/orgs/acme/members", params={"type": "invitee"})
    assert [(r["email"], r["role"]) for r in body["results"]] == [("dave@corp.example", "Invitee")]
    _, body = await call(
        http, server, "GET", "/v2/orgs/acme/members", params={"invites": "true", "search": "da"}
    )
    assert [r["role"] for r in body["results"]] == ["Invitee"]
    _, body = await call(
        http, server, "GET", "/v2/orgs/acme/members", params={"page_size": "2", "page": "2"}
    )
    assert body["count"] == 3 and len(body["results"]) == 1
    assert body["previous"] == "https://hub.docker.com/v2/orgs/acme/members?page_size=2"


async def test_members_see_no_emails_owners_do(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    _, as_member = await call(http, server, "GET", "/v2/orgs/acme/members", "bob")
    assert {r["email"] for r in as_member["results"]} == {""}
    _, as_owner = await call(http, server, "GET", "/v2/orgs/acme/members")
    assert "bob@example.com" in {r["email"] for r in as_owner["results"]}


async def test_export_is_csv_with_teams_and_go_style_dates(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.add_org_member("acme", "nora", email="nora@corp.example", joined=NOW - DAY)
    server.add_invite("acme", "frank", team="devs", created=NOW)
    status, text = await call(http, server, "GET", "/v2/orgs/acme/members/export")
    assert status == 200
    rows = {r["Username"] or r["Email"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["bob"]["Teams"] == "devs" and rows["bob"]["Role"] == "Member"
    assert rows["nora"]["Email"] == "nora@corp.example"
    assert rows["nora"]["Date Joined"] == "2023-11-13 22:13:20.000000 +0000 UTC"
    assert (rows["frank"]["Type"], rows["frank"]["Teams"]) == ("Invitee", "devs")
    status, _ = await call(http, server, "GET", "/v2/orgs/acme/members/export", "bob")
    assert status == 403


# ----------------------------------------------------------------------- groups


async def test_group_lifecycle_and_repository_permission(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    base = "/v2/orgs/acme/groups"
    status, group = await call(http, server, "POST", base, json={"name": "qa", "description": "t"})
    assert (status, group["name"], group["member_count"]) == (201, "qa", 0)
    status, _ = await call(http, server, "POST", base, "bob", json={"name": "qa2"})
    assert status == 403
    status, _ = await call(http, server, "POST", f"{base}/qa/members", json={"member": "erin"})
    assert status == 200
    status, _ = await call(http, server, "POST", f"{base}/qa/members", json={"member": "carol"})
    assert status == 404  # not an org member
    _, listed = await call(http, server, "GET", base, "bob", params={"username": "erin"})
    assert [g["name"] for g in listed["results"]] == ["qa"]
    status, perm = await call(
        http,
        server,
        "POST",
        "/v2/repositories/acme/app/groups",
        "erin",  # editors manage repository access
        json={"group_id": group["id"], "permission": "admin"},
    )
    assert (status, perm) == (
        200,
        {"group_name": "qa", "permission": "admin", "group_id": group["id"]},
    )
    assert server.repository_groups("acme", "app") == {"qa": "admin"}
    status, renamed = await call(http, server, "PATCH", f"{base}/qa", json={"name": "quality"})
    assert (status, renamed["name"], renamed["member_count"]) == (200, "quality", 1)
    status, _ = await call(http, server, "PUT", f"{base}/quality", json={"name": "devs"})
    assert status == 400  # taken
    assert server.repository_groups("acme", "app") == {"quality": "admin"}
    status, _ = await call(http, server, "DELETE", f"{base}/quality/members/erin")
    assert status == 204
    status, _ = await call(http, server, "DELETE", f"{base}/quality")
    assert status == 204
    assert server.repository_groups("acme", "app") == {}
    status, _ = await call(http, server, "GET", f"{base}/quality")
    assert status == 404


# ---------------------------------------------------------------------- invites


async def test_bulk_invite_dry_run_then_real_then_conflict(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    body = {"org": "acme", "team": "devs", "invitees": ["gina@corp.example", "bob", "no way"]}
    status, answer = await call(
        http, server, "POST", "/v2/invites/bulk", json={**body, "dry_run": True}
    )
    assert status == 202
    assert [(i["invitee"], i["status"]) for i in answer["invitees"]] == [
        ("gina@corp.example", "invited"),
        ("bob", "existing_org_member"),
        ("no way", "invalid_email_or_docker_id"),
    ]
    assert server.org_invites("acme") == []
    status, answer = await call(http, server, "POST", "/v2/invites/bulk", json=body)
    assert status == 202 and answer["invitees"][0]["invite"]["team"] == "devs"
    assert server.org_invites("acme") == ["gina@corp.example"]
    status, _ = await call(http, server, "POST", "/v2/invites/bulk", json=body)
    assert status == 409
    too_many = {"org": "acme", "invitees": [f"u{i}@corp.example" for i in range(1001)]}
    status, answer = await call(http, server, "POST", "/v2/invites/bulk", json=too_many)
    assert status == 400 and "at most 1000" in answer["detail"]


async def test_invites_list_resend_and_cancel_are_for_owners(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    invite = server.add_invite("acme", "dave@corp.example", created=NOW - 40 * DAY)
    status, body = await call(http, server, "GET", "/v2/orgs/acme/invites")
    assert status == 200
    assert body["data"] == [
        {
            "id": invite,
            "inviter_username": "alice",
            "invitee": "dave@corp.example",
            "org": "acme",
            "team": "",
            "created_at": "2023-10-05T22:13:20.000000Z",
        }
    ]
    assert (await call(http, server, "GET", "/v2/orgs/acme/invites", "bob"))[0] == 403
    assert (await call(http, server, "PATCH", f"/v2/invites/{invite}/resend", "bob"))[0] == 403
    assert (await call(http, server, "PATCH", f"/v2/invites/{invite}/resend"))[0] == 204
    assert (await call(http, server, "DELETE", f"/v2/invites/{invite}"))[0] == 204
    assert server.org_invites("acme") == []
    assert (await call(http, server, "DELETE", f"/v2/invites/{invite}"))[0] == 404


# ------------------------------------------------------------ org access tokens


async def test_org_token_secret_is_shown_once_and_logs_in_as_the_org(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    resources = [{"type": "TYPE_REPO", "path": "acme/*", "scopes": ["scope-image-pull"]}]
    status, created = await call(
        http,
        server,
        "POST",
        "/v2/orgs/acme/access-tokens",
        json={"label": "ci", "resources": resources, "expires_at": "2030-01-01T00:00:00Z"},
    )
    assert status == 201 and created["token"].startswith("dckr_oat_")
    assert (created["last_used_at"], created["created_by"]) == (None, "alice")
    path = f"/v2/orgs/acme/access-tokens/{created['id']}"
    _, got = await call(http, server, "GET", path)
    assert "token" not in got and got["resources"] == resources
    async with http.post(
        "/v2/auth/token", json={"identifier": "acme", "secret": created["token"]}
    ) as resp:
        assert resp.status == 200
        jwt = (await resp.json())["access_token"]
    _, got = await call(http, server, "GET", path)
    assert got["last_used_at"] == "2023-11-14T22:13:20.000000Z"
    # the org's token reads its org's members but changes nothing, and no other org
    oat = {"Authorization": f"Bearer {jwt}"}
    status, _ = await call(http, server, "GET", "/v2/orgs/acme/members", None, headers=dict(oat))
    assert status == 200
    status, _ = await call(
        http, server, "DELETE", "/v2/orgs/acme/members/bob", None, headers=dict(oat)
    )
    assert status == 403
    status, _ = await call(
        http, server, "GET", "/v2/orgs/acme/access-tokens", None, headers=dict(oat)
    )
    assert status == 403
    status, _ = await call(http, server, "PATCH", path, json={"is_active": False})
    assert status == 200
    async with http.post(
        "/v2/auth/token", json={"identifier": "acme", "secret": created["token"]}
    ) as resp:
        assert resp.status == 401  # deactivated


async def test_org_token_create_refuses_past_expiry_and_bad_resources(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    path = "/v2/orgs/acme/access-tokens"
    status, body = await call(
        http, server, "POST", path, json={"label": "x", "expires_at": "2020-01-01T00:00:00Z"}
    )
    assert status == 400 and "future" in body["text"]
    status, body = await call(
        http, server, "POST", path, json={"label": "x", "resources": [{"type": "TYPE_X"}]}
    )
    assert status == 400 and "TYPE_REPO" in body["text"]
    assert (await call(http, server, "POST", path, "erin", json={"label": "x"}))[0] == 403
    assert server.org_tokens("acme") == []


async def test_seeded_org_tokens_list_newest_first_with_total(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.add_org_token("acme", label="old", created_at=NOW - 10, expires_at=NOW - 1)
    server.add_org_token("acme", label="new", created_at=NOW - 5, last_used_at=NOW - 2)
    status, body = await call(http, server, "GET", "/v2/orgs/acme/access-tokens")
    assert status == 200 and body["total"] == 2
    assert [(t["label"], t["last_used_at"] is None) for t in body["results"]] == [
        ("new", False),
        ("old", True),
    ]
    assert body["results"][1]["expires_at"] == "2023-11-14T22:13:19.000000Z"


# ---------------------------------------------------------------- repositories


async def test_repository_creation_by_editor_not_member(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    path = "/v2/namespaces/acme/repositories"
    body = {"name": "svc", "namespace": "acme", "is_private": True, "description": "d"}
    assert (await call(http, server, "POST", path, "bob", json=body))[0] == 403
    status, repo = await call(http, server, "POST", path, "erin", json=body)
    assert (status, repo["name"], repo["is_private"]) == (201, "svc", True)
    assert server.repository("acme", "svc")["is_private"] is True
    status, answer = await call(http, server, "POST", path, "erin", json=body)
    assert status == 400 and "already exists" in answer["detail"]
    status, _ = await call(http, server, "POST", path, json={**body, "namespace": "other"})
    assert status == 400


async def test_immutable_tags_update_and_verify(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    repo = "/v2/namespaces/acme/repositories/app"
    status, body = await call(
        http,
        server,
        "PATCH",
        repo + "/immutabletags",
        json={"immutable_tags": True, "immutable_tags_rules": ["v.*"]},
    )
    assert status == 200
    assert body["immutable_tags_settings"] == {"enabled": True, "rules": ["v.*"]}
    # the same rules guard tag deletion, and the repository shows them
    status, _ = await call(http, server, "DELETE", "/v2/repositories/acme/app/tags/v1/")
    assert status == 403
    _, shown = await call(http, server, "GET", repo)
    assert shown["immutable_tags_settings"] == {"enabled": True, "rules": ["v.*"]}
    status, body = await call(
        http, server, "POST", repo + "/immutabletags/verify", json={"regex": "v.*"}
    )
    assert (status, body) == (200, {"tags": ["v1", "v2"]})
    status, body = await call(
        http, server, "POST", repo + "/immutabletags/verify", json={"regex": "("}
    )
    assert status == 400 and "regular expression" in body["detail"]
    assert (
        await call(http, server, "POST", repo + "/immutabletags/verify", "bob", json={"regex": "v"})
    )[0] == 403
    status, _ = await call(
        http,
        server,
        "PATCH",
        repo + "/immutabletags",
        json={"immutable_tags": False, "immutable_tags_rules": ["v.*"]},
    )
    assert status == 200
    assert (await call(http, server, "DELETE", "/v2/repositories/acme/app/tags/v1/"))[0] == 204


# ------------------------------------------------------------------------- SCIM


async def test_scim_users_are_the_org_members(server: FakeHub, http: aiohttp.ClientSession) -> None:
    token = server.enable_scim("acme", SCIM)
    scim = {"Authorization": f"Bearer {token}"}
    status, body = await call(http, server, "GET", "/v2/scim/2.0/Users", None, headers=dict(scim))
    assert status == 200
    assert body["totalResults"] == 3
    assert [u["displayName"] for u in body["Resources"]] == ["alice", "bob", "erin"]
    _, page = await call(
        http,
        server,
        "GET",
        "/v2/scim/2.0/Users",
        None,
        headers=dict(scim),
        params={"startIndex": "2", "count": "1"},
    )
    assert (page["startIndex"], page["itemsPerPage"]) == (2, 1)
    assert [u["displayName"] for u in page["Resources"]] == ["bob"]
    _, found = await call(
        http,
        server,
        "GET",
        "/v2/scim/2.0/Users",
        None,
        headers=dict(scim),
        params={"filter": 'userName eq "bob@example.com"'},
    )
    assert [u["groups"] for u in found["Resources"]] == [[{"value": "devs", "display": "devs"}]]
    # a Hub JWT is not a SCIM token
    assert (await call(http, server, "GET", "/v2/scim/2.0/Users"))[0] == 401


async def test_scim_create_and_deactivate_map_onto_membership(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    scim = {"Authorization": f"Bearer {server.enable_scim('acme')}"}
    body = {
        "schemas": [USER_SCHEMA],
        "userName": "zed.z@corp.example",
        "name": {"givenName": "Zed"},
    }
    status, user = await call(
        http, server, "POST", "/v2/scim/2.0/Users", None, headers=dict(scim), json=body
    )
    assert (status, user["displayName"], user["active"]) == (201, "zedz", True)
    assert server.org_members("acme")["zedz"] == "member"
    status, _ = await call(
        http, server, "POST", "/v2/scim/2.0/Users", None, headers=dict(scim), json=body
    )
    assert status == 409
    put = {"schemas": [USER_SCHEMA]}  # enabled omitted: Hub deactivates the user
    status, user = await call(
        http, server, "PUT", f"/v2/scim/2.0/Users/{user['id']}", None, headers=dict(scim), json=put
    )
    assert (status, user["active"]) == (200, False)
    assert "zedz" not in server.org_members("acme")
    status, user = await call(
        http,
        server,
        "PUT",
        f"/v2/scim/2.0/Users/{user['id']}",
        None,
        headers=dict(scim),
        json={**put, "enabled": True},
    )
    assert (status, user["active"]) == (200, True)
    assert server.org_members("acme")["zedz"] == "member"
    # deactivating the last owner is refused like removing them
    alice = server._admin.org("acme").info["alice"].scim_id
    status, _ = await call(
        http, server, "PUT", f"/v2/scim/2.0/Users/{alice}", None, headers=dict(scim), json=put
    )
    assert status == 400
    assert server.org_members("acme")["alice"] == "owner"


# ---------------------------------------------------------------------- seeding


def test_seeding_rejects_bad_input() -> None:
    hub = FakeHub()
    hub.add_user("alice", "pw")
    hub.add_namespace("acme", members=["alice"])
    with pytest.raises(ValueError, match="role must be one of owner, editor, member"):
        hub.add_org_member("acme", "bob", role="admin")
    with pytest.raises(ValueError, match="not an organization"):
        hub.add_org_member("alice", "bob")
    with pytest.raises(ValueError, match="not a member of acme"):
        hub.add_group("acme", "devs", members=["ghost"])
    with pytest.raises(ValueError, match="invalid group name"):
        hub.add_group("acme", "../x")
    with pytest.raises(ValueError, match="already a member"):
        hub.add_invite("acme", "alice")
    with pytest.raises(ValueError, match="each resource needs type"):
        hub.add_org_token("acme", resources=[{"type": "TYPE_REPO"}])
    with pytest.raises(ValueError, match="at least 8 characters"):
        hub.enable_scim("acme", "short")


async def test_generate_plants_the_access_audit_findings() -> None:
    hub = FakeHub.generate(namespaces=3, repos_per_namespace=1, images_per_repo=1, now=NOW)
    planted = hub.generated.access
    assert planted is not None
    first, second = planted.orgs
    owners = {
        org: [u for u, r in hub.org_members(org).items() if r == "owner"] for org in planted.orgs
    }
    assert len(owners[first]) == 2 and owners[second] == ["bench"]
    assert planted.single_owner_org == second
    grouped = {u for members in hub.org_groups(first).values() for u in members}
    assert set(hub.org_members(first)) - grouped == {planted.member_in_no_group}
    tokens = {t.label: t for t in hub.org_tokens(first)}
    assert set(tokens) == {"ci-pull", "never-used", "expired"}
    async with hub:
        async with aiohttp.ClientSession(base_url=hub.url) as http:
            headers = {"Authorization": f"Bearer {hub.issue_token('bench')}"}
            async with http.get(f"/v2/orgs/{first}/access-tokens", headers=headers) as resp:
                listed = {t["label"]: t for t in (await resp.json())["results"]}
            assert listed["never-used"]["last_used_at"] is None
            assert listed["expired"]["expires_at"] < "2023-11-14"
            async with http.get(f"/v2/orgs/{first}/invites", headers=headers) as resp:
                invites = {i["invitee"]: i["created_at"] for i in (await resp.json())["data"]}
            assert invites[planted.old_invite] == "2023-09-15T22:13:20.000000Z"
            async with http.get(
                f"/v2/orgs/{planted.unreadable_org}/members", headers=headers
            ) as resp:
                assert resp.status == 403
            scim = {"Authorization": f"Bearer {planted.scim_token}"}
            async with http.get("/v2/scim/2.0/Users", headers=scim) as resp:
                assert (await resp.json())["totalResults"] == 5
