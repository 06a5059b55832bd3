"""hubasync's organization administration resources against FakeHub, end to end.

The resources are tested against recorded answers elsewhere and FakeHub against the spec;
this checks that the two agree (strict models: a field one sends and the other does not
know fails), on the data ``FakeHub.generate()`` plants for the access audit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hubasync import HubClient
from hubasync.errors import BadRequestError, PermissionDeniedError
from hubasync.models import OrgAccessTokenResource
from hubasync.testing import FakeHub, PlantedAccess

NOW = 1_700_000_000.0


@pytest.fixture
async def hub_and_plan() -> AsyncIterator[tuple[HubClient, FakeHub, PlantedAccess]]:
    server = FakeHub.generate(
        namespaces=2, repos_per_namespace=1, images_per_repo=1, now=NOW, rate_limit=100_000
    )
    planted = server.generated.access
    assert planted is not None
    async with server:
        async with HubClient(
            username=server.generated.username,
            secret=server.generated.pat,
            base_url=server.url,
            requests_per_minute=1_000_000,
        ) as hub:
            yield hub, server, planted


async def test_members_groups_invites_and_tokens_read_back_as_planted(
    hub_and_plan: tuple[HubClient, FakeHub, PlantedAccess],
) -> None:
    hub, _, planted = hub_and_plan
    org = planted.orgs[0]
    members = await hub.orgs.members(org).to_list()
    assert {m.username: str(m.role) for m in members} == {
        "bench": "Owner",
        "olivia": "Owner",
        "eddie": "Editor",
        "mia": "Member",
        "nora": "Member",
    }
    in_groups = {m.username for m in members if m.groups}
    assert {m.username for m in members} - in_groups == {planted.member_in_no_group}
    rows = await hub.orgs.export_members(org)
    assert {r.username: r.teams for r in rows if r.username} == {
        "bench": ["owners"],
        "olivia": ["owners"],
        "eddie": ["developers"],
        "mia": ["developers"],
        "nora": [],
    }
    invites = {i.invitee: i.created_at for i in await hub.orgs.invites(org)}
    assert invites[planted.old_invite].timestamp() == NOW - 60 * 86_400
    tokens = {t.label: t for t in await hub.org_access_tokens.list(org).to_list()}
    assert tokens[planted.never_used_token].last_used_at is None
    expired = tokens[planted.expired_token].expires_at
    assert expired is not None and expired.timestamp() == NOW - 10 * 86_400
    groups = {g.name: g.member_count for g in await hub.groups.list(org).to_list()}
    assert groups == {"owners": 2, "developers": 2}
    with pytest.raises(PermissionDeniedError):
        await hub.orgs.members(planted.unreadable_org).to_list()


async def test_changes_through_the_client_follow_the_role_rules(
    hub_and_plan: tuple[HubClient, FakeHub, PlantedAccess],
) -> None:
    hub, server, planted = hub_and_plan
    single = planted.single_owner_org
    with pytest.raises(BadRequestError, match="last owner"):
        await hub.orgs.remove_member(single, "bench")
    member = await hub.orgs.update_member_role(single, "sam", "owner")
    assert str(member.role) == "Owner"
    await hub.orgs.update_member_role(single, "bench", "member")
    assert server.org_members(single) == {"bench": "member", "sam": "owner"}
    org = planted.orgs[0]
    created = await hub.org_access_tokens.create(
        org,
        "ci",
        [OrgAccessTokenResource(type="TYPE_REPO", path=f"{org}/*", scopes=["scope-image-pull"])],
    )
    assert created.token is not None and created.token.startswith("dckr_oat_")
    assert "ci" in {t.label for t in server.org_tokens(org)}
    group = await hub.groups.create(org, "qa", description="testers")
    await hub.groups.add_member(org, "qa", planted.member_in_no_group)
    assert server.org_groups(org)["qa"] == [planted.member_in_no_group]
    assert group.member_count == 0
    results = await hub.invites.bulk(org, ["new@corp.example", "mia"], dry_run=True)
    assert [(r.invitee, r.status) for r in results] == [
        ("new@corp.example", "invited"),
        ("mia", "existing_org_member"),
    ]


async def test_scim_through_the_client(
    hub_and_plan: tuple[HubClient, FakeHub, PlantedAccess],
) -> None:
    hub, server, planted = hub_and_plan
    scim = hub.scim.with_token(planted.scim_token)
    users = await scim.users().to_list()
    assert sorted(u.displayName for u in users) == ["bench", "eddie", "mia", "nora", "olivia"]
    created = await scim.create_user("zed@corp.example", given_name="Zed", family_name="Q")
    assert (created.userName, created.active) == ("zed@corp.example", True)
    assert server.org_members(planted.orgs[0])["zed"] == "member"
