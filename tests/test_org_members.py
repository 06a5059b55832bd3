"""hub.orgs members/export/roles/invites and hub.invites: requests, answers, retries, input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from hubasync import HubClient, errors
from hubasync.models import OrgRole
from hubasync.resources.orgs import parse_member_export

from ._aioresponses_shim import mocked
from ._org_helpers import (
    BASE,
    TOKEN_ID,
    calls,
    hub,
    one_call,
    rejected_before_sending,
    sent_once_despite_503,
)

__all__ = ["hub"]

MEMBER = {
    "id": "0ab70deb065a43fcacd55d48caa945d8",
    "username": "jonsnow",
    "full_name": "Jon Snow",
    "type": "User",
    "date_joined": "2021-01-05T21:06:53.506400Z",
    "email": "jon@example.com",
    "role": "Owner",
    "groups": ["owners", "developers"],
    "is_guest": False,
    "last_logged_in_at": "2024-02-01T10:00:00Z",
}
INVITE = {
    "id": TOKEN_ID,
    "inviter_username": "moby",
    "invitee": "new@example.com",
    "org": "myorg",
    "team": "owners",
    "created_at": "2021-10-28T18:30:19.520861Z",
}


@pytest.mark.parametrize("wrapped", [False, True], ids=["object", "array-wrapped (spec)"])
async def test_members_sends_filters_and_reads_both_page_shapes(
    hub: HubClient, wrapped: bool
) -> None:
    page: Any = {"count": 1, "next": None, "previous": None, "results": [MEMBER]}
    with mocked() as m:
        m.get(re.compile(r".*/v2/orgs/myorg/members\?.*"), payload=[page] if wrapped else page)
        got = await hub.orgs.members(
            "myorg", search="jon", role="owner", type="member", invites=False, page_size=20
        ).to_list()
        method, url, _ = one_call(m)
    assert method == "GET" and url.path == "/v2/orgs/myorg/members"
    assert dict(url.query) == {
        "search": "jon",
        "role": "owner",
        "type": "member",
        "invites": "false",
        "page": "1",
        "page_size": "20",
    }
    (jon,) = got
    assert jon.username == "jonsnow" and jon.role is OrgRole.OWNER
    assert jon.groups == ["owners", "developers"]
    assert jon.last_logged_in_at == datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_parse_member_export_reads_role_or_permission_and_splits_teams() -> None:
    text = (
        "\ufeffName,Username,Email,Type,Permission,Teams,Date Joined\r\n"
        'Jon Snow,jonsnow,jon@example.com,User,Owner,"owners, developers",'
        "2020-01-01 15:00:51.193355 +0000 UTC\r\n"
        ",,new@example.com,Invitee,Member,,2021-01-01 00:00:00 +0000 UTC\r\n"
    )
    jon, new = parse_member_export(text.lstrip("\ufeff"))
    assert (jon.username, jon.role, jon.teams) == ("jonsnow", "Owner", ["owners", "developers"])
    assert jon.date_joined == "2020-01-01 15:00:51.193355 +0000 UTC"
    assert (new.username, new.email, new.type, new.teams) == ("", "new@example.com", "Invitee", [])
    role_col = parse_member_export("Name,Role\nA,Editor\n")
    assert role_col[0].role == "Editor" and role_col[0].username == ""
    assert parse_member_export("") == []


async def test_export_members_reads_the_csv_body(hub: HubClient) -> None:
    csv_text = (
        "Name,Username,Email,Type,Role,Teams,Date Joined\nJon,jonsnow,j@x.io,User,Owner,owners,d\n"
    )
    with mocked() as m:
        m.get(
            f"{BASE}/v2/orgs/myorg/members/export",
            body=csv_text,
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment;filename="myorg-members.csv"'},
        )
        rows = await hub.orgs.export_members("myorg")
        method, url, _ = one_call(m)
    assert (method, url.path) == ("GET", "/v2/orgs/myorg/members/export")
    assert [(r.username, r.role, r.teams) for r in rows] == [("jonsnow", "Owner", ["owners"])]


async def test_update_role_remove_member_and_invites(hub: HubClient) -> None:
    member_path = f"{BASE}/v2/orgs/myorg/members/jonsnow"
    with mocked() as m:
        m.put(member_path, payload={**MEMBER, "role": "Editor"})
        m.delete(member_path, status=204)
        m.get(f"{BASE}/v2/orgs/myorg/invites", payload={"data": [INVITE]})
        changed = await hub.orgs.update_member_role("myorg", "jonsnow", "editor")
        await hub.orgs.remove_member("myorg", "jonsnow")
        invites = await hub.orgs.invites("myorg")
        sent = [(meth, u.path, kw.get("json")) for meth, u, kw in calls(m)]
    assert sent == [
        ("PUT", "/v2/orgs/myorg/members/jonsnow", {"role": "editor"}),
        ("DELETE", "/v2/orgs/myorg/members/jonsnow", None),
        ("GET", "/v2/orgs/myorg/invites", None),
    ]
    assert changed.role is OrgRole.EDITOR
    (inv,) = invites
    assert (inv.id, inv.invitee, inv.team) == (TOKEN_ID, "new@example.com", "owners")
    assert inv.created_at == datetime(2021, 10, 28, 18, 30, 19, 520861, tzinfo=UTC)


async def test_invites_without_data_list_is_a_validation_error(hub: HubClient) -> None:
    with mocked() as m:
        m.get(f"{BASE}/v2/orgs/myorg/invites", payload=[INVITE])
        with pytest.raises(errors.ResponseValidationError, match="data"):
            await hub.orgs.invites("myorg")


async def test_invite_delete_resend(hub: HubClient) -> None:
    with mocked() as m:
        m.delete(f"{BASE}/v2/invites/{TOKEN_ID}", status=204)
        m.patch(f"{BASE}/v2/invites/{TOKEN_ID}/resend", status=204)
        await hub.invites.delete(TOKEN_ID)
        await hub.invites.resend(TOKEN_ID)
        sent = [(meth, u.path) for meth, u, _ in calls(m)]
    assert sent == [
        ("DELETE", f"/v2/invites/{TOKEN_ID}"),
        ("PATCH", f"/v2/invites/{TOKEN_ID}/resend"),
    ]


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested (spec)"])
async def test_bulk_invite_sends_body_and_reads_results(hub: HubClient, nested: bool) -> None:
    results = [
        {"invitee": "new@example.com", "status": "invited", "invite": INVITE},
        {"invitee": "jonsnow", "status": "existing_org_member"},
    ]
    answer = {"invitees": {"invitees": results} if nested else results}
    with mocked() as m:
        m.post(f"{BASE}/v2/invites/bulk", status=202, payload=answer)
        got = await hub.invites.bulk(
            "myorg", ["new@example.com", "jonsnow"], team="owners", role="member", dry_run=True
        )
        method, url, kw = one_call(m)
    assert (method, url.path) == ("POST", "/v2/invites/bulk")
    assert kw["json"] == {
        "org": "myorg",
        "invitees": ["new@example.com", "jonsnow"],
        "team": "owners",
        "role": "member",
        "dry_run": True,
    }
    assert [(r.invitee, r.status) for r in got] == [
        ("new@example.com", "invited"),
        ("jonsnow", "existing_org_member"),
    ]
    assert got[0].invite is not None and got[0].invite.id == TOKEN_ID and got[1].invite is None


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.invites.bulk("myorg", ["a@example.com"]),
        lambda h: h.invites.resend(TOKEN_ID),
    ],
)
async def test_bulk_and_resend_are_never_retried(hub: HubClient, call: Any) -> None:
    await sent_once_despite_503(hub, call)


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("put", lambda h: h.orgs.update_member_role("myorg", "jonsnow", "member")),
        ("delete", lambda h: h.orgs.remove_member("myorg", "jonsnow")),
    ],
)
async def test_role_change_and_removal_are_retried(hub: HubClient, method: str, call: Any) -> None:
    path = f"{BASE}/v2/orgs/myorg/members/jonsnow"
    with mocked() as m:
        getattr(m, method)(path, status=502)
        getattr(m, method)(path, status=204 if method == "delete" else 200, payload=MEMBER)
        await call(hub)
        assert len(calls(m)) == 2


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.orgs.members(""), "org must not be empty"),
        (lambda h: h.orgs.members("../x"), "org"),
        (lambda h: h.orgs.members("myorg", role="admin"), "not a role"),
        (lambda h: h.orgs.members("myorg", type="guest"), "type"),
        (lambda h: h.orgs.members("myorg", invites="yes"), "invites"),
        (lambda h: h.orgs.members("myorg", page_size=101), "page_size"),
        (lambda h: h.orgs.export_members("../x"), "org"),
        (lambda h: h.orgs.update_member_role("myorg", "jonsnow", "Owner"), "not a role"),
        (lambda h: h.orgs.update_member_role("myorg", "../jon", "owner"), "username"),
        (lambda h: h.orgs.remove_member("myorg", ""), "username"),
        (lambda h: h.orgs.invites(""), "org"),
        (lambda h: h.invites.delete("../x"), "not a UUID"),
        (lambda h: h.invites.resend(""), "not a UUID"),
        (lambda h: h.invites.bulk("myorg", []), "must not be empty"),
        (lambda h: h.invites.bulk("myorg", "a@example.com"), "list"),
        (lambda h: h.invites.bulk("myorg", [f"u{i}@x.io" for i in range(1001)]), "limit of 1000"),
        (lambda h: h.invites.bulk("myorg", ["a b@x.io"]), "not a Docker ID"),
        (lambda h: h.invites.bulk("myorg", ["a@x.io"], role="admin"), "not a role"),
        (lambda h: h.invites.bulk("myorg", ["a@x.io"], team="../owners"), "team"),
        (lambda h: h.invites.bulk("", ["a@x.io"]), "org"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    await rejected_before_sending(hub, call, words)


async def test_a_bulk_invite_of_exactly_1000_is_sent(hub: HubClient) -> None:
    with mocked() as m:
        m.post(f"{BASE}/v2/invites/bulk", status=202, payload={"invitees": []})
        assert await hub.invites.bulk("myorg", [f"u{i}@x.io" for i in range(1000)]) == []
        assert len(one_call(m)[2]["json"]["invitees"]) == 1000
