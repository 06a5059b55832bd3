"""hub.scim: the SCIM token, startIndex/count paging, models, retry rules, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from hubasync import HubClient, errors
from hubasync.models import SCIM_USER_SCHEMA

from ._aioresponses_shim import mocked
from ._org_helpers import BASE, TOKEN_ID, calls, hub, one_call, rejected_before_sending

__all__ = ["hub"]

SCIM = f"{BASE}/v2/scim/2.0"
SCIM_TOKEN = "scim-secret-token"


def user(n: int) -> dict[str, Any]:
    return {
        "schemas": [SCIM_USER_SCHEMA],
        "id": f"d80f7c79-7730-49d8-9a41-7c42fb622d{n:02d}",
        "userName": f"u{n}@example.com",
        "name": {"givenName": "Jon", "familyName": f"Snow{n}"},
        "displayName": f"user{n}",
        "active": True,
        "emails": [{"value": f"u{n}@example.com", "display": f"u{n}@example.com", "primary": True}],
        "groups": [{"value": "nightswatch", "display": "nightswatch"}],
        "meta": {
            "resourceType": "User",
            "location": f"{SCIM}/Users/x",
            "created": "2022-05-20T00:54:18Z",
            "lastModified": "2022-05-20T00:54:18Z",
        },
    }


def listing(users: list[dict[str, Any]], total: int, start: int, key: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(users),
        key: users,
    }


async def test_users_pages_by_start_index_and_sends_the_scim_token(hub: HubClient) -> None:
    scim = hub.scim.with_token(SCIM_TOKEN)
    with mocked() as m:
        m.get(
            re.compile(r".*/Users\?.*startIndex=1.*"),
            payload=listing([user(1), user(2)], 3, 1, "Resources"),
        )
        m.get(
            re.compile(r".*/Users\?.*startIndex=3.*"),
            payload=listing([user(3)], 3, 3, "resources"),  # the spec's spelling
        )
        got = await scim.users(
            filter='userName sw "u"',
            attributes=["userName", "name"],
            sort_by="userName",
            sort_order="ascending",
            page_size=2,
            prefetch=1,
        ).to_list()
        sent = calls(m)
    assert [u.userName for u in got] == ["u1@example.com", "u2@example.com", "u3@example.com"]
    assert [dict(url.query) for _, url, _ in sent] == [
        {
            "filter": 'userName sw "u"',
            "attributes": "userName,name",
            "sortBy": "userName",
            "sortOrder": "ascending",
            "startIndex": str(start),
            "count": "2",
        }
        for start in (1, 3)
    ]
    assert all(kw["headers"]["Authorization"] == f"Bearer {SCIM_TOKEN}" for _, _, kw in sent)
    first = got[0]
    assert first.name is not None and first.name.familyName == "Snow1"
    assert first.meta is not None and first.meta.created == datetime(
        2022, 5, 20, 0, 54, 18, tzinfo=UTC
    )
    assert first.emails[0].primary is True and first.groups[0].display == "nightswatch"


async def test_create_and_update_send_scim_json_and_never_deactivate_by_omission(
    hub: HubClient,
) -> None:
    scim = hub.scim.with_token(SCIM_TOKEN)
    uid = user(1)["id"]
    with mocked() as m:
        m.post(f"{SCIM}/Users", status=201, payload=user(1))
        m.put(f"{SCIM}/Users/{uid}", payload={**user(1), "active": False})
        m.get(f"{SCIM}/Users/{uid}", payload=user(1))
        created = await scim.create_user("u1@example.com", given_name="Jon", family_name="Snow1")
        changed = await scim.update_user(uid, enabled=False)
        one = await scim.user(uid)
        sent = calls(m)
    (_, _, create_kw), (_, _, update_kw), _ = sent
    assert create_kw["json"] == {
        "schemas": [SCIM_USER_SCHEMA],
        "userName": "u1@example.com",
        "name": {"givenName": "Jon", "familyName": "Snow1"},
    }
    assert update_kw["json"] == {"schemas": [SCIM_USER_SCHEMA], "enabled": False}
    for kw in (create_kw, update_kw):
        assert kw["headers"]["Content-Type"] == "application/scim+json"
        assert kw["headers"]["Authorization"] == f"Bearer {SCIM_TOKEN}"
    assert created.id == uid and changed.active is False and one.displayName == "user1"


async def test_config_resource_types_and_schemas(hub: HubClient) -> None:
    scim = hub.scim.with_token(SCIM_TOKEN)
    resource_type = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "description": "User",
        "endpoint": "/Users",
        "schema": SCIM_USER_SCHEMA,
    }
    schema = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": SCIM_USER_SCHEMA,
        "name": "User",
        "description": "User Account",
        "attributes": [
            {
                "name": "name",
                "type": "complex",
                "multiValued": False,
                "subAttributes": [{"name": "givenName", "type": "string"}],
            }
        ],
    }
    config = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "",
        "patch": {"supported": False},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 99999},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": False},
        "authenticationSchemes": {"name": "OAuth 2.0 Bearer Token", "type": "oauthbearertoken"},
    }
    with mocked() as m:
        m.get(f"{SCIM}/ServiceProviderConfig", payload=config)
        m.get(f"{SCIM}/ResourceTypes", payload={"totalResults": 1, "resources": [resource_type]})
        m.get(f"{SCIM}/ResourceTypes/User", payload=resource_type)
        m.get(f"{SCIM}/Schemas", payload={"totalResults": 1, "Resources": [schema]})
        m.get(f"{SCIM}/Schemas/{SCIM_USER_SCHEMA}", payload=schema)
        got_config = await scim.service_provider_config()
        types = await scim.resource_types()
        one_type = await scim.resource_type("User")
        schemas = await scim.schemas()
        one_schema = await scim.schema(SCIM_USER_SCHEMA)
        assert len(calls(m)) == 5
    assert got_config.filter is not None and got_config.filter.maxResults == 99999
    assert [a.type for a in got_config.authenticationSchemes] == ["oauthbearertoken"]
    assert [t.endpoint for t in types] == ["/Users"] and one_type.schema == SCIM_USER_SCHEMA
    assert schemas[0].attributes[0].subAttributes[0].name == "givenName"
    assert one_schema.id == SCIM_USER_SCHEMA


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.service_provider_config(),
        lambda s: s.resource_types(),
        lambda s: s.resource_type("User"),
        lambda s: s.schemas(),
        lambda s: s.schema(SCIM_USER_SCHEMA),
        lambda s: s.users(),
        lambda s: s.user(TOKEN_ID),
        lambda s: s.create_user("a@example.com"),
        lambda s: s.update_user(TOKEN_ID, enabled=True),
    ],
)
async def test_without_a_scim_token_every_call_says_how_to_pass_one(
    hub: HubClient, call: Any
) -> None:
    await rejected_before_sending(hub, lambda h: call(h.scim), r"hub\.scim\.with_token\(token\)")


async def test_the_scim_token_is_not_in_repr_or_errors(hub: HubClient) -> None:
    scim = hub.scim.with_token(SCIM_TOKEN)
    assert SCIM_TOKEN not in repr(scim)
    with mocked() as m:
        m.get(f"{SCIM}/Users/{TOKEN_ID}", status=403, body=f"denied for {SCIM_TOKEN}")
        with pytest.raises(errors.PermissionDeniedError) as caught:
            await scim.user(TOKEN_ID)
    assert SCIM_TOKEN not in str(caught.value) and SCIM_TOKEN not in repr(caught.value.body)


async def test_create_is_never_retried_and_update_is(hub: HubClient) -> None:
    scim = hub.scim.with_token(SCIM_TOKEN)
    with mocked() as m:
        m.post(re.compile(r".*"), status=503, repeat=True)
        m.put(f"{SCIM}/Users/{TOKEN_ID}", status=503)
        m.put(f"{SCIM}/Users/{TOKEN_ID}", payload=user(1))
        with pytest.raises(errors.ServerError):
            await scim.create_user("a@example.com")
        await scim.update_user(TOKEN_ID, enabled=True)
        assert [meth for meth, _, _ in calls(m)] == ["POST", "PUT", "PUT"]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.scim.with_token(""), "SCIM bearer token"),
        (lambda h: h.scim.with_token(" t "), "SCIM bearer token"),
        (lambda h: h.scim.with_token("t").users(page_size=201), "page_size"),
        (lambda h: h.scim.with_token("t").users(sort_order="up"), "sort_order"),
        (lambda h: h.scim.with_token("t").users(attributes="userName"), "list"),
        (lambda h: h.scim.with_token("t").user("../x"), "not a UUID"),
        (lambda h: h.scim.with_token("t").create_user("jonsnow"), "e-mail"),
        (lambda h: h.scim.with_token("t").update_user(TOKEN_ID, enabled="no"), "enabled"),
        (lambda h: h.scim.with_token("t").resource_type("../x"), "not a SCIM name"),
        (lambda h: h.scim.with_token("t").schema(""), "schema_id"),
    ],
)
async def test_bad_input_raises_before_sending(hub: HubClient, call: Any, words: str) -> None:
    await rejected_before_sending(hub, call, words)


async def test_a_page_of_200_is_allowed(hub: HubClient) -> None:
    with mocked() as m:
        m.get(re.compile(r".*/Users\?.*"), payload=listing([], 0, 1, "Resources"))
        assert await hub.scim.with_token("t").users(page_size=200).to_list() == []
        assert dict(one_call(m)[1].query)["count"] == "200"
