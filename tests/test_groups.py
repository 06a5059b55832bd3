"""hub.groups: requests sent, answers structured, retry rules, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from hubasync import HubClient
from hubasync.models import AccountType

from ._aioresponses_shim import mocked
from ._org_helpers import BASE, calls, hub, one_call, rejected_before_sending, sent_once_despite_503

__all__ = ["hub"]

GROUP = {"id": 10, "uuid": "u-1", "name": "developers", "description": "devs", "member_count": 2}
MEMBER = {
    "id": "0ab70deb065a43fcacd55d48caa945d8",
    "company": "Docker Inc",
    "date_joined": "2021-01-05T21:06:53.506400Z",
    "full_name": "Jon Snow",
    "gravatar_email": "",
    "gravatar_url": "",
    "location": "",
    "profile_url": "",
    "type": "User",
    "username": "jonsnow",
    "email": "jon@example.com",
}
GROUP_PATH = f"{BASE}/v2/orgs/myorg/groups/developers"


async def test_list_sends_filters_and_structures_groups(hub: HubClient) -> None:
    with mocked() as m:
        m.get(
            re.compile(r".*/v2/orgs/myorg/groups\?.*"),
            payload={"count": 1, "next": None, "previous": None, "results": [GROUP]},
        )
        got = await hub.groups.list(
            "myorg", username="jonsnow", search="dev", page_size=50
        ).to_list()
        method, url, _ = one_call(m)
    assert method == "GET" and url.path == "/v2/orgs/myorg/groups"
    assert dict(url.query) == {
        "username": "jonsnow",
        "search": "dev",
        "page": "1",
        "page_size": "50",
    }
    assert [(g.id, g.name, g.member_count) for g in got] == [(10, "developers", 2)]


async def test_create_get_update_patch_delete(hub: HubClient) -> None:
    with mocked() as m:
        m.post(f"{BASE}/v2/orgs/myorg/groups", status=201, payload=GROUP)
        m.get(GROUP_PATH, payload=GROUP)
        m.put(GROUP_PATH, payload={**GROUP, "name": "devs"})
        m.patch(GROUP_PATH, payload={**GROUP, "description": "new"})
        m.delete(GROUP_PATH, status=204)
        created = await hub.groups.create("myorg", "developers", description="devs")
        one = await hub.groups.get("myorg", "developers")
        put = await hub.groups.update("myorg", "developers", name="devs")
        patched = await hub.groups.patch("myorg", "developers", description="new")
        await hub.groups.delete("myorg", "developers")
        sent = [(meth, u.path, kw.get("json")) for meth, u, kw in calls(m)]
    path = "/v2/orgs/myorg/groups/developers"
    assert sent == [
        ("POST", "/v2/orgs/myorg/groups", {"name": "developers", "description": "devs"}),
        ("GET", path, None),
        ("PUT", path, {"name": "devs"}),
        ("PATCH", path, {"description": "new"}),
        ("DELETE", path, None),
    ]
    assert created.uuid == "u-1" and one.description == "devs"
    assert put.name == "devs" and patched.description == "new"


async def test_members_add_member_remove_member(hub: HubClient) -> None:
    with mocked() as m:
        m.get(
            re.compile(r".*/groups/developers/members\?.*"),
            payload={"count": 1, "next": None, "previous": None, "results": [MEMBER]},
        )
        m.post(f"{GROUP_PATH}/members", status=200)
        m.delete(f"{GROUP_PATH}/members/jonsnow", status=204)
        members = await hub.groups.members("myorg", "developers", search="jon").to_list()
        await hub.groups.add_member("myorg", "developers", "jonsnow")
        await hub.groups.remove_member("myorg", "developers", "jonsnow")
        sent = calls(m)
    assert dict(sent[0][1].query) == {"search": "jon", "page": "1", "page_size": "100"}
    assert (sent[1][0], sent[1][1].path, sent[1][2]["json"]) == (
        "POST",
        "/v2/orgs/myorg/groups/developers/members",
        {"member": "jonsnow"},
    )
    assert (sent[2][0], sent[2][1].path) == (
        "DELETE",
        "/v2/orgs/myorg/groups/developers/members/jonsnow",
    )
    (jon,) = members
    assert jon.username == "jonsnow" and jon.type is AccountType.USER
    assert jon.date_joined == datetime(2021, 1, 5, 21, 6, 53, 506400, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.groups.create("myorg", "developers"),
        lambda h: h.groups.add_member("myorg", "developers", "jonsnow"),
    ],
)
async def test_creates_are_never_retried_on_503(hub: HubClient, call: Any) -> None:
    await sent_once_despite_503(hub, call)


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("put", lambda h: h.groups.update("myorg", "developers", name="developers")),
        ("patch", lambda h: h.groups.patch("myorg", "developers", description="d")),
        ("delete", lambda h: h.groups.delete("myorg", "developers")),
    ],
)
async def test_put_patch_delete_are_retried_on_503(hub: HubClient, method: str, call: Any) -> None:
    with mocked() as m:
        getattr(m, method)(GROUP_PATH, status=503)
        getattr(m, method)(GROUP_PATH, status=204 if method == "delete" else 200, payload=GROUP)
        await call(hub)
        assert len(calls(m)) == 2


async def test_remove_member_is_retried_and_a_404_after_a_lost_answer_is_done(
    hub: HubClient,
) -> None:
    with mocked() as m:
        m.delete(f"{GROUP_PATH}/members/jonsnow", status=503)
        m.delete(f"{GROUP_PATH}/members/jonsnow", status=404, payload={"detail": "not found"})
        await hub.groups.remove_member("myorg", "developers", "jonsnow")
        assert len(calls(m)) == 2


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.groups.list(""), "org must not be empty"),
        (lambda h: h.groups.list("myorg", page_size=500), "page_size"),
        (lambda h: h.groups.list("myorg", username="../x"), "username"),
        (lambda h: h.groups.get("myorg", ""), "group must not be empty"),
        (lambda h: h.groups.get("myorg", ".."), "not a valid group name"),
        (lambda h: h.groups.get("myorg", "a/b"), "not a valid group name"),
        (lambda h: h.groups.create("myorg", "../owners"), "not a valid group name"),
        (lambda h: h.groups.create("../org", "devs"), "org"),
        (lambda h: h.groups.patch("myorg", "devs"), "nothing to change"),
        (lambda h: h.groups.update("myorg", "devs", name=""), "name must not be empty"),
        (lambda h: h.groups.members("myorg", "devs", page_size=0), "page_size"),
        (lambda h: h.groups.add_member("myorg", "devs", ""), "member"),
        (lambda h: h.groups.add_member("myorg", "devs", "../jon"), "member"),
        (lambda h: h.groups.remove_member("myorg", "devs", "../jon"), "username"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    await rejected_before_sending(hub, call, words)
