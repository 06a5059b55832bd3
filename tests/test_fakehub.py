"""FakeHub behaviour, exercised over real HTTP with raw aiohttp (no hubasync client code)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import warnings
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubasync.testing import (
    FakeHub,
    FakeImage,
    Fault,
    FaultPlan,
    ManualClock,
    RequestRecord,
    digest_of,
)
from hubasync.testing._clock import format_http_date, format_ts, month_before, parse_ts
from hubasync.testing._limits import FixedWindowLimiter

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DAY = 86_400.0

OLD = digest_of("old")  # pushed 90 days ago, tag v1: inactive, tagged
MID = digest_of("mid")  # pushed 60 days ago, pulled 2 days ago; lost "latest": active
NEW = digest_of("new")  # pushed 1 day ago, latest + v2, multi-arch: active, tagged
BARE = digest_of("bare")  # pushed 100 days ago, no tags: inactive, untagged
CHILD = digest_of("new/amd64")
SECRET_IMG = digest_of("secret")
ALICE_PAT = "dckr_pat_alice_0000000000000000000"
ACME_OAT = "dckr_oat_acme_00000000000000000000"

IMAGES = "/v2/namespaces/acme/repositories/app/images"
SUMMARY = "/v2/namespaces/acme/repositories/app/images-summary"
DELETE = "/v2/namespaces/acme/delete-images"


def seed(server: FakeHub) -> None:
    """The small world most tests use."""
    server.add_user("alice", "alice-pw", pats=[ALICE_PAT])
    server.add_user("bob", "bob-pw", totp="123456")
    server.add_user("carol", "carol-pw")
    server.add_namespace("acme", members=["alice", "bob"], owners=["alice"])
    server.add_repository(
        "acme",
        "app",
        description="the app",
        images=[
            FakeImage(OLD, tags=["v1"], last_pushed=NOW - 90 * DAY),
            FakeImage(MID, tags=["latest"], last_pushed=NOW - 60 * DAY, last_pulled=NOW - 2 * DAY),
            FakeImage(NEW, tags=["latest", "v2"], last_pushed=NOW - 1 * DAY, children=[CHILD]),
            FakeImage(BARE, historical_tags=["v0"], last_pushed=NOW - 100 * DAY),
        ],
    )
    server.add_repository(
        "acme",
        "secret",
        is_private=True,
        images=[FakeImage(SECRET_IMG, tags=["latest"], last_pushed=NOW - 3 * DAY)],
    )
    server.add_org_token("acme", secret=ACME_OAT)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def server(clock: ManualClock) -> AsyncIterator[FakeHub]:
    async with FakeHub(image_api=True, clock=clock) as hub:
        seed(hub)
        yield hub


@pytest.fixture
async def http(server: FakeHub) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_user(server: FakeHub, user: str = "alice", **kw: Any) -> dict[str, str]:
    return bearer(server.issue_token(user, **kw))


async def call(
    http: aiohttp.ClientSession, method: str, path: str, **kw: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.request(method, path, **kw) as resp:
        raw = await resp.read()
        body = json.loads(raw) if raw and resp.content_type == "application/json" else raw
        return resp.status, body, resp


def jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


# ------------------------------------------------------------------ lifecycle


async def test_url_is_loopback_and_explicit_start_close_work() -> None:
    hub = FakeHub()
    with pytest.raises(RuntimeError, match="not started"):
        _ = hub.url
    await hub.start()
    try:
        assert hub.url == f"http://127.0.0.1:{hub.port}"
        with pytest.raises(RuntimeError, match="already started"):
            await hub.start()
        async with aiohttp.ClientSession() as s, s.get(hub.url + "/v2/nowhere") as r:
            assert r.status == 404
            assert await r.json() == {"detail": "Not found.", "message": "Not found."}
    finally:
        await hub.close()
    await hub.close()  # idempotent


async def test_close_leaves_no_socket_of_a_connection_arriving_during_shutdown() -> None:
    """A client connecting while FakeHub closes: every accepted socket is closed.

    Before: CPython 3.11 attaches a socket accepted just before the listener closed to the
    closed ``asyncio.Server`` (an ``AssertionError``, reported only in debug mode) and never
    closes it: a ``ResourceWarning`` in a later test (how CI once failed). The race hits when
    the accept callback runs in the loop iteration just before ``close``, so every number of
    yields up to 6 between connecting and closing is tried (3 hit it on 3.11).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for yields in range(7):
            for _ in range(4):
                hub = await FakeHub().start()
                connecting = asyncio.ensure_future(asyncio.open_connection("127.0.0.1", hub.port))
                for _ in range(yields):
                    await asyncio.sleep(0)
                await hub.close()
                try:
                    _, writer = await connecting
                except OSError:
                    continue  # refused or reset: the listener had closed
                writer.close()
                with contextlib.suppress(OSError):  # reset: FakeHub closed its side
                    await writer.wait_closed()
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


async def test_unknown_method_is_a_json_405(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(http, "DELETE", "/v2/orgs/acme/settings", headers=as_user(server))
    assert status == 405
    assert body["detail"] == 'Method "DELETE" not allowed.'


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"public_url": "hub.docker.com"}, "public_url"),
        ({"token_lifetime_s": 0}, "token_lifetime_s"),
        ({"retry_hint": "sometimes"}, "retry_hint"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": 5, "window_s": 0}, "window_s"),
    ],
)
def test_bad_options_raise_value_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FakeHub(**kwargs)


def test_seeding_rejects_bad_input() -> None:
    hub = FakeHub()
    with pytest.raises(ValueError, match="namespace 'nope' does not exist"):
        hub.add_repository("nope", "app")
    with pytest.raises(ValueError, match="invalid namespace name"):
        hub.add_namespace("Bad/Name")
    with pytest.raises(ValueError, match="invalid digest"):
        FakeImage("not-a-digest")
    with pytest.raises(ValueError, match="naive datetime"):
        from datetime import datetime

        FakeImage(digest_of("x"), last_pushed=datetime(2024, 1, 1))
    hub.add_user("dave", "pw")
    with pytest.raises(ValueError, match="already exists"):
        hub.add_user("dave", "pw")
    with pytest.raises(ValueError, match="must start with 'dckr_pat_'"):
        hub.add_access_token("dave", secret="hunter2")
    with pytest.raises(ValueError, match="user namespace"):
        hub.add_org_token("dave")


# ----------------------------------------------------------------------- auth


async def test_password_login_returns_a_jwt_with_the_configured_lifetime(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "alice", "password": "alice-pw"}
    )
    assert status == 200
    token = body["token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    payload = jwt_payload(token)
    assert payload["sub"] == "alice"
    assert payload["iat"] == int(NOW)
    assert payload["exp"] - payload["iat"] == 600
    status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(token))
    assert status == 200
    assert server.logins == 1


async def test_wrong_password_is_401_with_detail(http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "alice", "password": "nope"}
    )
    assert status == 401
    assert body == {"detail": "Incorrect authentication credentials"}


async def test_two_factor_login_flow(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "bob", "password": "bob-pw"}
    )
    assert status == 401
    assert body["detail"] == "Require secondary authentication on MFA enabled account"
    pending = body["login_2fa_token"]
    # The intermediate token is not a bearer token.
    status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(pending))
    assert status == 401
    status, body2, _ = await call(
        http, "POST", "/v2/users/2fa-login", json={"login_2fa_token": pending, "code": "000000"}
    )
    assert status == 401
    status, body2, _ = await call(
        http, "POST", "/v2/users/2fa-login", json={"login_2fa_token": pending, "code": "123456"}
    )
    assert status == 200
    assert jwt_payload(body2["token"])["sub"] == "bob"
    status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(body2["token"]))
    assert status == 200
    assert server.logins == 3


async def test_two_factor_token_expires(
    server: FakeHub, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    _, body, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "bob", "password": "bob-pw"}
    )
    clock.advance(301)
    status, _, _ = await call(
        http,
        "POST",
        "/v2/users/2fa-login",
        json={"login_2fa_token": body["login_2fa_token"], "code": "123456"},
    )
    assert status == 401


async def test_auth_token_accepts_pat_oat_and_password(http: aiohttp.ClientSession) -> None:
    for identifier, secret, sub in (
        ("alice", ALICE_PAT, "alice"),
        ("carol", "carol-pw", "carol"),
        ("acme", ACME_OAT, "acme"),
    ):
        status, body, _ = await call(
            http, "POST", "/v2/auth/token", json={"identifier": identifier, "secret": secret}
        )
        assert status == 200, identifier
        assert jwt_payload(body["access_token"])["sub"] == sub
    # The OAT acts as the organization: it can read acme's images.
    status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(body["access_token"]))
    assert status == 200


async def test_auth_token_rejects_wrong_owner_and_2fa_password(
    http: aiohttp.ClientSession,
) -> None:
    for identifier, secret in (("carol", ALICE_PAT), ("bob", "bob-pw"), ("alice", "x")):
        status, body, _ = await call(
            http, "POST", "/v2/auth/token", json={"identifier": identifier, "secret": secret}
        )
        assert status == 401
        assert "detail" in body


async def test_pat_and_oat_work_on_users_login(http: aiohttp.ClientSession) -> None:
    for username, password in (("alice", ALICE_PAT), ("acme", ACME_OAT)):
        status, body, _ = await call(
            http, "POST", "/v2/users/login", json={"username": username, "password": password}
        )
        assert status == 200
        assert jwt_payload(body["token"])["sub"] == username


async def test_pat_of_a_2fa_user_skips_the_second_factor(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    pat = server.add_access_token("bob", label="ci").secret
    status, body, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "bob", "password": pat}
    )
    assert status == 200
    assert "token" in body


async def test_inactive_and_expired_pats_are_refused(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    inactive = server.add_access_token("carol", is_active=False).secret
    expired = server.add_access_token("carol", expires_at=NOW - 1).secret
    for secret in (inactive, expired):
        status, _, _ = await call(
            http, "POST", "/v2/auth/token", json={"identifier": "carol", "secret": secret}
        )
        assert status == 401


async def test_token_expiry_with_short_lifetime(clock: ManualClock) -> None:
    async with FakeHub(image_api=True, clock=clock, token_lifetime_s=1) as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            _, body, _ = await call(
                http, "POST", "/v2/auth/token", json={"identifier": "alice", "secret": ALICE_PAT}
            )
            token = body["access_token"]
            payload = jwt_payload(token)
            assert payload["exp"] - payload["iat"] == 1
            status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(token))
            assert status == 200
            clock.advance(1)
            status, body, _ = await call(http, "GET", SUMMARY, headers=bearer(token))
            assert status == 401
            assert body["detail"] == "Token is invalid or expired."


async def test_token_lives_its_full_lifetime_from_issue(clock: ManualClock) -> None:
    clock.set(NOW + 0.9)  # claims count whole seconds: iat = NOW, exp = NOW + 2
    async with FakeHub(image_api=True, clock=clock, token_lifetime_s=2) as server:
        seed(server)
        token = server.issue_token("alice")
        assert jwt_payload(token)["exp"] == NOW + 2
        fractional = server.issue_token("alice", lifetime_s=1.5)
        assert jwt_payload(fractional)["exp"] == NOW + 1.5
        async with aiohttp.ClientSession(base_url=server.url) as http:
            clock.set(NOW + 2.5)  # past the claim, but not 2 s after issue
            assert (await call(http, "GET", SUMMARY, headers=bearer(token)))[0] == 200
            assert (await call(http, "GET", SUMMARY, headers=bearer(fractional)))[0] == 401
            clock.set(NOW + 2.9)
            assert (await call(http, "GET", SUMMARY, headers=bearer(token)))[0] == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Basic YWxpY2U6YWxpY2UtcHc="},
    ],
    ids=["missing", "invalid", "wrong-scheme"],
)
async def test_protected_endpoints_need_a_valid_bearer(
    http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    for path in (
        SUMMARY,
        IMAGES,
        "/v2/access-tokens",
        "/v2/auditlogs/acme",
        "/v2/orgs/acme/settings",
    ):
        status, body, _ = await call(http, "GET", path, headers=headers)
        assert status == 401, path
        assert isinstance(body["detail"], str)


async def test_forged_token_is_rejected(server: FakeHub, http: aiohttp.ClientSession) -> None:
    other = FakeHub(seed=99)
    other.add_user("alice", "pw")
    status, _, _ = await call(http, "GET", SUMMARY, headers=bearer(other.issue_token("alice")))
    assert status == 401


async def test_non_members_get_403(server: FakeHub, http: aiohttp.ClientSession) -> None:
    carol = as_user(server, "carol")
    for method, path in (
        ("GET", SUMMARY),
        ("GET", IMAGES),
        ("GET", "/v2/auditlogs/acme"),
        ("GET", "/v2/orgs/acme/settings"),
    ):
        status, _, _ = await call(http, method, path, headers=carol)
        assert status == 403, path
    status, _, _ = await call(
        http,
        "POST",
        DELETE,
        headers=carol,
        json={"manifests": [{"repository": "app", "digest": OLD}]},
    )
    assert status == 403


async def test_require_auth_false_opens_private_endpoints(clock: ManualClock) -> None:
    async with FakeHub(image_api=True, clock=clock, require_auth=False) as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            status, body, _ = await call(http, "GET", SUMMARY)
            assert status == 200
            assert body["statistics"]["total"] == 4


# ------------------------------------------------------------------ images


async def test_summary_agrees_with_the_image_list(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    _, summary, _ = await call(http, "GET", SUMMARY, headers=h)
    assert summary["statistics"] == {"total": 4, "active": 2, "inactive": 2}
    assert parse_ts(summary["active_from"]) == pytest.approx(month_before(NOW), abs=1e-3)
    _, listing, _ = await call(http, "GET", IMAGES, headers=h)
    assert listing["count"] == 4
    statuses = {i["digest"]: i["status"] for i in listing["results"]}
    assert statuses == {NEW: "active", MID: "active", OLD: "inactive", BARE: "inactive"}
    for status in ("active", "inactive"):
        _, part, _ = await call(http, "GET", IMAGES, headers=h, params={"status": status})
        assert part["count"] == summary["statistics"][status]


async def test_active_from_moves_the_boundary(server: FakeHub, http: aiohttp.ClientSession) -> None:
    h = as_user(server)
    active_from = format_ts(NOW - 95 * DAY)
    _, summary, _ = await call(http, "GET", SUMMARY, headers=h, params={"active_from": active_from})
    assert summary["statistics"] == {"total": 4, "active": 3, "inactive": 1}
    _, listing, _ = await call(
        http, "GET", IMAGES, headers=h, params={"active_from": active_from, "status": "inactive"}
    )
    assert [i["digest"] for i in listing["results"]] == [BARE]
    status, _, _ = await call(http, "GET", SUMMARY, headers=h, params={"active_from": "yesterday"})
    assert status == 400


async def test_image_tags_current_and_historical(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    _, listing, _ = await call(
        http, "GET", IMAGES, headers=h, params={"ordering": "-last_activity"}
    )
    by_digest = {i["digest"]: i for i in listing["results"]}
    assert [i["digest"] for i in listing["results"]] == [NEW, MID, OLD, BARE]
    assert by_digest[NEW]["tags"] == [
        {"tag": "latest", "is_current": True},
        {"tag": "v2", "is_current": True},
    ]
    assert by_digest[MID]["tags"] == [{"tag": "latest", "is_current": False}]
    assert by_digest[BARE]["tags"] == [{"tag": "v0", "is_current": False}]
    assert by_digest[MID]["last_pulled"] == format_ts(NOW - 2 * DAY)
    assert by_digest[OLD]["last_pulled"] is None
    _, tags, _ = await call(http, "GET", f"{IMAGES}/{MID}/tags", headers=h)
    assert tags == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"tag": "latest", "is_current": False}],
    }
    status, _, _ = await call(http, "GET", f"{IMAGES}/{digest_of('nope')}/tags", headers=h)
    assert status == 404


async def test_image_filters_and_orderings(server: FakeHub, http: aiohttp.ClientSession) -> None:
    h = as_user(server)
    _, tagged, _ = await call(http, "GET", IMAGES, headers=h, params={"currently_tagged": "true"})
    assert {i["digest"] for i in tagged["results"]} == {NEW, OLD}
    _, untagged, _ = await call(
        http, "GET", IMAGES, headers=h, params={"currently_tagged": "false"}
    )
    assert {i["digest"] for i in untagged["results"]} == {MID, BARE}
    _, by_digest, _ = await call(http, "GET", IMAGES, headers=h, params={"ordering": "digest"})
    digests = [i["digest"] for i in by_digest["results"]]
    assert digests == sorted(digests)
    for params in ({"status": "dormant"}, {"ordering": "size"}, {"currently_tagged": "maybe"}):
        status, body, _ = await call(http, "GET", IMAGES, headers=h, params=params)
        assert status == 400, params
        assert "txnid" in body and "errinfo" in body


async def test_children_are_not_listed_and_pull_updates_activity(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    server.pull("acme", "app", "v1", at=NOW - 1)
    _, listing, _ = await call(http, "GET", IMAGES, headers=h)
    assert CHILD not in {i["digest"] for i in listing["results"]}
    assert {i["digest"]: i["status"] for i in listing["results"]}[OLD] == "active"
    assert server.repository("acme", "app")["pull_count"] == 1


async def test_served_images_reflect_later_pushes_and_pulls(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    await call(http, "GET", IMAGES, headers=h)  # renders (and caches) every entry
    server.add_image("acme", "app", FakeImage(BARE, tags=["v1"], last_pushed=NOW - 100 * DAY))
    server.pull("acme", "app", MID, at=NOW - 5)
    _, listing, _ = await call(http, "GET", IMAGES, headers=h)
    by_digest = {i["digest"]: i for i in listing["results"]}
    assert by_digest[OLD]["tags"] == [{"tag": "v1", "is_current": False}]
    assert by_digest[BARE]["tags"] == [
        {"tag": "v1", "is_current": True},
        {"tag": "v0", "is_current": False},
    ]
    assert by_digest[MID]["last_pulled"] == format_ts(NOW - 5)
    assert server.tags("acme", "app")["v1"] == BARE
    _, summary, _ = await call(http, "GET", SUMMARY, headers=h)
    assert summary["statistics"] == {"total": 4, "active": 2, "inactive": 2}


async def test_unknown_repository_is_404(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(
        http, "GET", "/v2/namespaces/acme/repositories/nope/images", headers=as_user(server)
    )
    assert status == 404
    assert body["errinfo"]["api_call_name"] == "GetNamespacesRepositoriesImages"


# ----------------------------------------------------------------- pagination


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def test_pagination_links_are_absolute_on_the_public_base(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    _, p1, _ = await call(
        http, "GET", IMAGES, headers=h, params={"page_size": "1", "status": "active"}
    )
    assert p1["count"] == 2
    assert p1["previous"] is None
    assert p1["next"] == (
        "https://hub.docker.com/v2/namespaces/acme/repositories/app/images"
        "?page=2&page_size=1&status=active"
    )
    _, p2, _ = await call(http, "GET", IMAGES, headers=h, params=query_of(p1["next"]))
    assert p2["next"] is None
    # DRF drops `page` from the link to page 1.
    assert p2["previous"] == (
        "https://hub.docker.com/v2/namespaces/acme/repositories/app/images"
        "?page_size=1&status=active"
    )
    assert {i["digest"] for i in p1["results"] + p2["results"]} == {NEW, MID}


async def test_public_url_is_configurable(clock: ManualClock) -> None:
    async with FakeHub(image_api=True, clock=clock, public_url="http://prism:4010/") as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            _, body, _ = await call(
                http, "GET", IMAGES, headers=as_user(server), params={"page_size": "3"}
            )
            assert body["next"].startswith("http://prism:4010/v2/namespaces/acme/")


@pytest.mark.parametrize(
    "path",
    [
        IMAGES,
        f"{IMAGES}/{NEW}/tags",
        "/v2/access-tokens",
        "/v2/auditlogs/acme",
        "/v2/namespaces/acme/repositories",
        "/v2/namespaces/acme/repositories/app/tags",
    ],
)
async def test_page_size_over_100_is_400(
    server: FakeHub, http: aiohttp.ClientSession, path: str
) -> None:
    h = as_user(server)
    status, _, _ = await call(http, "GET", path, headers=h, params={"page_size": "100"})
    assert status == 200
    status, body, _ = await call(http, "GET", path, headers=h, params={"page_size": "101"})
    assert status == 400
    assert "page_size" in json.dumps(body)


async def test_walking_next_links_visits_every_item_once(clock: ManualClock) -> None:
    async with FakeHub(image_api=True, clock=clock) as server:
        server.add_user("alice", "pw")
        digests = [digest_of(str(i)) for i in range(23)]
        server.add_repository(
            "alice",
            "many",
            images=[FakeImage(d, last_pushed=NOW - i) for i, d in enumerate(digests)],
        )
        async with aiohttp.ClientSession(base_url=server.url) as http:
            seen: list[str] = []
            params: dict[str, str] | None = {"page_size": "5"}
            pages = 0
            while params is not None:
                _, body, _ = await call(
                    http,
                    "GET",
                    "/v2/namespaces/alice/repositories/many/images",
                    headers=as_user(server),
                    params=params,
                )
                assert body["count"] == 23
                seen += [i["digest"] for i in body["results"]]
                params = query_of(body["next"]) if body["next"] else None
                pages += 1
            assert pages == 5
            assert seen == digests  # newest activity first == push order here


async def test_anonymous_paging_past_item_1000_is_403(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    for path in ("/v2/namespaces/acme/repositories", "/v2/namespaces/acme/repositories/app/tags"):
        status, _, _ = await call(http, "GET", path, params={"page": "10", "page_size": "100"})
        assert status in (200, 404), path  # offset 1000 is allowed (the list may end before)
        status, body, _ = await call(http, "GET", path, params={"page": "11", "page_size": "100"})
        assert status == 403
        assert body["detail"] == "pagination offset too large for anonymous requests"
        status, _, _ = await call(
            http, "GET", path, params={"page": "11", "page_size": "100"}, headers=as_user(server)
        )
        assert status in (200, 404)  # authenticated: no offset cap


async def test_repository_list_404_past_the_end(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    status, body, _ = await call(
        http, "GET", "/v2/namespaces/acme/repositories", headers=h, params={"page_size": "1"}
    )
    assert status == 200
    assert body["count"] == 2
    status, _, _ = await call(
        http,
        "GET",
        "/v2/namespaces/acme/repositories",
        headers=h,
        params={"page_size": "1", "page": "2"},
    )
    assert status == 200
    status, body, _ = await call(
        http,
        "GET",
        "/v2/namespaces/acme/repositories",
        headers=h,
        params={"page_size": "1", "page": "3"},
    )
    assert status == 404
    assert body["detail"] == "Invalid page."
    status, body, _ = await call(http, "GET", "/v2/namespaces/carol/repositories")
    assert (status, body["count"]) == (200, 0)


# -------------------------------------------------------------- delete-images


def manifests(*digests: str, repo: str = "app") -> list[dict[str, str]]:
    return [{"repository": repo, "digest": d} for d in digests]


async def test_delete_warnings_and_errors_in_one_400(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        http,
        "POST",
        DELETE,
        headers=as_user(server),
        json={"manifests": manifests(NEW, MID, CHILD, digest_of("ghost"))},
    )
    assert status == 400
    assert body["message"] == "deletion not possible"
    assert body["errinfo"]["type"] == "validation"
    details = body["errinfo"]["details"]
    assert details["errors"] == [
        {"repository": "app", "digest": CHILD, "error": "child_manifest"},
        {"repository": "app", "digest": digest_of("ghost"), "error": "not_found"},
    ]
    assert details["warnings"] == [
        {"repository": "app", "digest": NEW, "warning": "is_active"},
        {"repository": "app", "digest": NEW, "warning": "current_tag", "tags": ["latest", "v2"]},
        {"repository": "app", "digest": MID, "warning": "is_active"},
    ]
    assert server.image_digests("acme", "app") == [OLD, MID, NEW, BARE]


async def test_delete_dry_run_then_ignore_warnings_then_delete(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    status, body, _ = await call(
        http, "POST", DELETE, headers=h, json={"manifests": manifests(NEW), "dry_run": True}
    )
    assert status == 400  # warnings are reported on a dry run too
    warnings = body["errinfo"]["details"]["warnings"]
    request = {"manifests": manifests(NEW), "ignore_warnings": warnings, "dry_run": True}
    status, body, _ = await call(http, "POST", DELETE, headers=h, json=request)
    assert status == 200
    assert body == {
        "dry_run": True,
        "metrics": {"manifest_deletes": 1, "manifest_errors": 0, "tag_deletes": 2, "tag_errors": 0},
    }
    assert NEW in server.image_digests("acme", "app")
    request["dry_run"] = False
    status, body, _ = await call(http, "POST", DELETE, headers=h, json=request)
    assert status == 200
    assert body["dry_run"] is False
    assert body["metrics"]["manifest_deletes"] == 1
    assert NEW not in server.image_digests("acme", "app")
    assert server.tags("acme", "app") == {"v1": OLD}  # latest and v2 went with the image
    _, summary, _ = await call(http, "GET", SUMMARY, headers=h)
    assert summary["statistics"] == {"total": 3, "active": 1, "inactive": 2}
    # The child went with its parent: now it is simply not found.
    _, body, _ = await call(http, "POST", DELETE, headers=h, json={"manifests": manifests(CHILD)})
    assert body["errinfo"]["details"]["errors"][0]["error"] == "not_found"
    actions = [e["action"] for e in server.audit_events("acme")[:3]]
    assert sorted(actions) == ["repo.image.delete", "repo.tag.delete", "repo.tag.delete"]


async def test_inactive_untagged_image_deletes_without_warnings(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        http, "POST", DELETE, headers=as_user(server), json={"manifests": manifests(BARE)}
    )
    assert status == 200
    assert body["metrics"]["tag_deletes"] == 0
    assert BARE not in server.image_digests("acme", "app")


async def test_ignoring_only_some_current_tags_keeps_the_warning(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    ignore = [
        {"repository": "app", "digest": NEW, "warning": "is_active"},
        {"repository": "app", "digest": NEW, "warning": "current_tag", "tags": ["v2"]},
    ]
    status, body, _ = await call(
        http,
        "POST",
        DELETE,
        headers=as_user(server),
        json={"manifests": manifests(NEW), "ignore_warnings": ignore},
    )
    assert status == 400
    assert body["errinfo"]["details"]["warnings"] == [
        {"repository": "app", "digest": NEW, "warning": "current_tag", "tags": ["latest", "v2"]}
    ]


async def test_errors_cannot_be_ignored(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(
        http,
        "POST",
        DELETE,
        headers=as_user(server),
        json={
            "manifests": manifests(CHILD),
            "ignore_warnings": [{"repository": "app", "digest": CHILD, "warning": "is_active"}],
        },
    )
    assert status == 400
    assert body["errinfo"]["details"]["errors"][0]["error"] == "child_manifest"


async def test_read_only_token_gets_unauthorized_errors(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server, scopes=["repo:read"])
    status, body, _ = await call(
        http, "POST", DELETE, headers=h, json={"manifests": manifests(BARE)}
    )
    assert status == 400
    assert body["errinfo"]["details"]["errors"] == [
        {"repository": "app", "digest": BARE, "error": "unauthorized"}
    ]


@pytest.mark.parametrize(
    "request_body",
    [
        {"manifests": []},
        {"manifests": [{"repository": "app"}]},
        {"manifests": manifests(OLD) + manifests(SECRET_IMG, repo="secret")},
        {"manifests": manifests(OLD), "dry_run": "yes"},
        {"manifests": manifests(OLD), "ignore_warnings": [{"warning": "is_cute"}]},
        ["not", "an", "object"],
    ],
    ids=["empty", "no-digest", "two-repos", "bad-dry-run", "bad-warning", "not-object"],
)
async def test_delete_rejects_malformed_requests(
    server: FakeHub, http: aiohttp.ClientSession, request_body: Any
) -> None:
    status, body, _ = await call(http, "POST", DELETE, headers=as_user(server), json=request_body)
    assert status == 400
    assert body["errinfo"]["type"] == "validation"
    assert server.image_digests("acme", "app") == [OLD, MID, NEW, BARE]


async def test_invalid_json_body_is_400(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(
        http,
        "POST",
        DELETE,
        headers={**as_user(server), "Content-Type": "application/json"},
        data=b"{nope",
    )
    assert status == 400
    assert "JSON" in body["detail"]


# -------------------------------------------------------------- access tokens


async def test_access_token_crud(server: FakeHub, http: aiohttp.ClientSession) -> None:
    h = {**as_user(server, "carol"), "User-Agent": "tests/1.0"}
    status, created, _ = await call(
        http,
        "POST",
        "/v2/access-tokens",
        headers=h,
        json={"token_label": "ci", "scopes": ["repo:read"], "expires_at": "2030-01-01T00:00:00Z"},
    )
    assert status == 201
    assert created["token"].startswith("dckr_pat_")
    assert created["token_label"] == "ci"
    assert created["scopes"] == ["repo:read"]
    assert created["creator_ua"] == "tests/1.0"
    assert created["expires_at"] == "2030-01-01T00:00:00.000000Z"
    uuid = created["uuid"]
    _, listing, _ = await call(http, "GET", "/v2/access-tokens", headers=h)
    assert listing["count"] == 1 and listing["active_count"] == 1
    assert listing["next"] is None and listing["previous"] is None
    assert listing["results"][0]["uuid"] == uuid
    assert listing["results"][0]["token"] == ""  # the secret is shown only on create
    status, got, _ = await call(http, "GET", f"/v2/access-tokens/{uuid}", headers=h)
    assert (status, got["token"], got["last_used"]) == (200, "", None)
    # It works for login, which marks it used.
    status, _, _ = await call(
        http, "POST", "/v2/auth/token", json={"identifier": "carol", "secret": created["token"]}
    )
    assert status == 200
    _, got, _ = await call(http, "GET", f"/v2/access-tokens/{uuid}", headers=h)
    assert got["last_used"] == format_ts(NOW)
    status, patched, _ = await call(
        http,
        "PATCH",
        f"/v2/access-tokens/{uuid}",
        headers=h,
        json={"token_label": "ci-off", "is_active": False},
    )
    assert (status, patched["token_label"], patched["is_active"]) == (200, "ci-off", False)
    status, _, _ = await call(
        http, "POST", "/v2/auth/token", json={"identifier": "carol", "secret": created["token"]}
    )
    assert status == 401  # deactivated
    _, listing, _ = await call(http, "GET", "/v2/access-tokens", headers=h)
    assert listing["active_count"] == 0
    # Another user cannot see it.
    status, _, _ = await call(http, "GET", f"/v2/access-tokens/{uuid}", headers=as_user(server))
    assert status == 404
    status, _, _ = await call(http, "DELETE", f"/v2/access-tokens/{uuid}", headers=h)
    assert status == 204
    status, _, _ = await call(http, "DELETE", f"/v2/access-tokens/{uuid}", headers=h)
    assert status == 404
    actions = [e["action"] for e in server.audit_events("carol")]
    assert actions == [
        "account.access_token.delete",
        "account.access_token.update",
        "account.access_token.create",
    ]


@pytest.mark.parametrize(
    "request_body",
    [
        {"scopes": ["repo:read"]},
        {"token_label": "", "scopes": ["repo:read"]},
        {"token_label": "x" * 101, "scopes": ["repo:read"]},
        {"token_label": "ci", "scopes": []},
        {"token_label": "ci", "scopes": ["repo:everything"]},
        {"token_label": "ci", "scopes": ["repo:read"], "expires_at": "2000-01-01T00:00:00Z"},
    ],
)
async def test_access_token_create_validation(
    server: FakeHub, http: aiohttp.ClientSession, request_body: dict[str, Any]
) -> None:
    status, body, _ = await call(
        http, "POST", "/v2/access-tokens", headers=as_user(server, "carol"), json=request_body
    )
    assert status == 400
    assert isinstance(body["fields"], dict) and isinstance(body["text"], str)


async def test_access_token_patch_validation(server: FakeHub, http: aiohttp.ClientSession) -> None:
    uuid = server.access_tokens("alice")[0].uuid
    for patch in ({}, {"is_active": "no"}, {"token_label": ""}):
        status, _, _ = await call(
            http, "PATCH", f"/v2/access-tokens/{uuid}", headers=as_user(server), json=patch
        )
        assert status == 400, patch


async def test_access_token_list_paginates(server: FakeHub, http: aiohttp.ClientSession) -> None:
    for i in range(3):
        server.add_access_token("carol", label=f"t{i}", created_at=NOW - 10 + i)
    _, body, _ = await call(
        http,
        "GET",
        "/v2/access-tokens",
        headers=as_user(server, "carol"),
        params={"page_size": "2"},
    )
    assert body["count"] == 3
    assert [t["token_label"] for t in body["results"]] == ["t2", "t1"]
    assert body["next"] == "https://hub.docker.com/v2/access-tokens?page=2&page_size=2"


async def test_org_token_cannot_manage_pats(http: aiohttp.ClientSession) -> None:
    _, body, _ = await call(
        http, "POST", "/v2/auth/token", json={"identifier": "acme", "secret": ACME_OAT}
    )
    status, _, _ = await call(
        http, "GET", "/v2/access-tokens", headers=bearer(body["access_token"])
    )
    assert status == 403


# ----------------------------------------------------------------- audit logs


async def test_audit_logs_newest_first_with_filters(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    _, body, _ = await call(http, "GET", "/v2/auditlogs/acme", headers=h)
    assert set(body) == {"logs"}  # no count, no next/previous
    logs = body["logs"]
    assert [e["timestamp"] for e in logs] == sorted((e["timestamp"] for e in logs), reverse=True)
    assert (logs[0]["action"], logs[0]["timestamp"]) == ("repo.create", format_ts(NOW, 0))
    _, body, _ = await call(
        http, "GET", "/v2/auditlogs/acme", headers=h, params={"action": "repo.tag.push"}
    )
    assert body["logs"][0] == {
        "account": "acme",
        "action": "repo.tag.push",
        "name": "acme/app",
        "actor": "alice",
        "data": {"digest": NEW, "tag": "v2"},
        "timestamp": format_ts(NOW - DAY, 0),
        "action_description": (
            f"pushed the tag v2 with the digest {NEW[:19]} to the repository acme/app"
        ),
    }
    _, body, _ = await call(
        http, "GET", "/v2/auditlogs/acme", headers=h, params={"action": "repo.create"}
    )
    assert {e["name"] for e in body["logs"]} == {"acme/app", "acme/secret"}
    _, body, _ = await call(
        http,
        "GET",
        "/v2/auditlogs/acme",
        headers=h,
        params={"name": "app", "action": "repo.tag.push", "from": format_ts(NOW - 70 * DAY)},
    )
    assert [e["data"]["tag"] for e in body["logs"]] == ["v2", "latest", "latest"]
    _, body, _ = await call(
        http, "GET", "/v2/auditlogs/acme", headers=h, params={"to": format_ts(NOW - 80 * DAY)}
    )
    assert all(parse_ts(e["timestamp"]) <= NOW - 80 * DAY for e in body["logs"])
    assert body["logs"]
    _, body, _ = await call(http, "GET", "/v2/auditlogs/acme", headers=h, params={"actor": "bob"})
    assert body == {"logs": []}
    _, body, _ = await call(
        http, "GET", "/v2/auditlogs/acme", headers=h, params={"page_size": "2", "page": "2"}
    )
    assert len(body["logs"]) == 2
    status, body, _ = await call(http, "GET", "/v2/auditlogs/acme", headers=h, params={"from": "x"})
    assert status == 400
    assert body["code"] == 3


async def test_audit_log_default_page_size_is_25(clock: ManualClock) -> None:
    async with FakeHub(image_api=True, clock=clock) as server:
        server.add_user("alice", "pw")
        server.add_repository(
            "alice", "r", images=[FakeImage(digest_of(str(i)), tags=[f"t{i}"]) for i in range(30)]
        )
        async with aiohttp.ClientSession(base_url=server.url) as http:
            _, body, _ = await call(http, "GET", "/v2/auditlogs/alice", headers=as_user(server))
            assert len(body["logs"]) == 25
            _, body, _ = await call(
                http, "GET", "/v2/auditlogs/alice", headers=as_user(server), params={"page": "2"}
            )
            assert len(body["logs"]) == 6  # 30 pushes + 1 create


async def test_audit_actions(server: FakeHub, http: aiohttp.ClientSession) -> None:
    _, body, _ = await call(http, "GET", "/v2/auditlogs/acme/actions", headers=as_user(server))
    repo_actions = {a["name"] for a in body["actions"]["repo"]["actions"]}
    assert {"create", "tag.push", "tag.delete", "image.delete"} <= repo_actions
    assert body["actions"]["repo"]["label"] == "Repository"
    status, _, _ = await call(http, "GET", "/v2/auditlogs/nobody/actions", headers=as_user(server))
    assert status == 404


# --------------------------------------------------------------- org settings


async def test_org_settings_get_and_put(server: FakeHub, http: aiohttp.ClientSession) -> None:
    path = "/v2/orgs/acme/settings"
    wanted = {"enabled": True, "allow_official_images": False, "allow_verified_publishers": True}
    status, body, _ = await call(http, "GET", path, headers=as_user(server, "bob"))
    assert status == 200
    assert body["restricted_images"]["enabled"] is False
    status, _, _ = await call(
        http, "PUT", path, headers=as_user(server, "bob"), json={"restricted_images": wanted}
    )
    assert status == 403  # members may read, only owners may change
    status, body, _ = await call(
        http, "PUT", path, headers=as_user(server), json={"restricted_images": wanted}
    )
    assert (status, body) == (200, {"restricted_images": wanted})
    assert server.org_settings("acme") == wanted
    _, body, _ = await call(http, "GET", path, headers=as_user(server, "bob"))
    assert body == {"restricted_images": wanted}
    assert server.audit_events("acme")[0]["action"] == "org.settings.update"
    status, _, _ = await call(
        http, "PUT", path, headers=as_user(server), json={"restricted_images": {"enabled": True}}
    )
    assert status == 400
    for org in ("alice", "nowhere"):  # a user namespace is not an organization
        status, _, _ = await call(http, "GET", f"/v2/orgs/{org}/settings", headers=as_user(server))
        assert status == 404


# --------------------------------------------------------------- repositories


async def test_repository_patch(server: FakeHub, http: aiohttp.ClientSession) -> None:
    path = "/v2/repositories/acme/app/"
    status, body, _ = await call(
        http,
        "PATCH",
        path,
        headers=as_user(server, "bob"),
        json={"description": "new", "full_description": "# Readme", "is_private": True},
    )
    assert status == 200
    assert (body["description"], body["full_description"], body["is_private"]) == (
        "new",
        "# Readme",
        True,
    )
    assert body["namespace"] == "acme" and body["name"] == "app"
    assert server.repository("acme", "app")["is_private"] is True
    actions = [e["action"] for e in server.audit_events("acme")[:2]]
    assert actions == ["repo.change_privacy", "repo.update"]
    status, body, _ = await call(
        http, "PATCH", path, headers=as_user(server, "carol"), json={"description": "x"}
    )
    assert (status, body["detail"]) == (403, "You do not have permission to perform this action.")
    status, body, _ = await call(
        http, "PATCH", "/v2/repositories/acme/nope/", headers=as_user(server), json={}
    )
    assert (status, body["detail"]) == (404, "Object not found")
    status, _, _ = await call(
        http, "PATCH", path, headers=as_user(server), json={"is_private": "yes"}
    )
    assert status == 400
    status, _, _ = await call(http, "PATCH", "/v2/repositories/acme/app", headers=as_user(server))
    assert status == 404  # the seed's path has a trailing slash


async def test_repository_list_visibility_filter_and_ordering(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    path = "/v2/namespaces/acme/repositories"
    _, anon, _ = await call(http, "GET", path)
    assert [r["name"] for r in anon["results"]] == ["app"]
    _, member, _ = await call(http, "GET", path, headers=as_user(server, "bob"))
    assert [r["name"] for r in member["results"]] == ["app", "secret"]  # -last_updated
    _, outsider, _ = await call(http, "GET", path, headers=as_user(server, "carol"))
    assert outsider["count"] == 1
    _, by_name, _ = await call(
        http, "GET", path, headers=as_user(server), params={"ordering": "name"}
    )
    assert [r["name"] for r in by_name["results"]] == ["app", "secret"]
    _, filtered, _ = await call(http, "GET", path, headers=as_user(server), params={"name": "SEC"})
    assert [r["name"] for r in filtered["results"]] == ["secret"]
    entry = anon["results"][0]
    assert entry["description"] == "the app"
    assert entry["last_updated"] == format_ts(NOW - DAY)
    status, body, _ = await call(http, "GET", path, params={"ordering": "stars"})
    assert status == 400
    assert body["fields"]["ordering"] == [
        "Invalid ordering value. Must be one of: name, -name, last_updated, -last_updated, "
        "pull_count, -pull_count"
    ]
    # Like Hub: an unknown namespace lists as an empty page; a page past the end is a 404.
    status, empty, _ = await call(http, "GET", "/v2/namespaces/nobody/repositories")
    assert (status, empty["count"], empty["results"]) == (200, 0, [])
    status, _, _ = await call(http, "GET", "/v2/namespaces/nobody/repositories?page=2")
    assert status == 404


async def test_repository_get_and_head(server: FakeHub, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(http, "GET", "/v2/namespaces/acme/repositories/app")
    assert status == 200
    assert body["permissions"] == {"read": False, "write": False, "admin": False}
    assert body["user"] == "acme" and body["is_private"] is False
    _, body, _ = await call(
        http, "GET", "/v2/namespaces/acme/repositories/app", headers=as_user(server)
    )
    assert body["permissions"] == {"read": True, "write": True, "admin": True}
    for path, headers, expected in (
        ("/v2/namespaces/acme/repositories/app", {}, 200),
        ("/v2/namespaces/acme/repositories/nope", {}, 404),
        ("/v2/namespaces/acme/repositories/secret", {}, 404),
        ("/v2/namespaces/acme/repositories/secret", as_user(server, "carol"), 403),
        ("/v2/namespaces/acme/repositories/secret", as_user(server, "bob"), 200),
    ):
        for method in ("GET", "HEAD"):
            status, raw, _ = await call(http, method, path, headers=headers)
            assert status == expected, (method, path, headers)
            if method == "HEAD":
                assert raw == b""


async def test_repository_tags_and_tag(server: FakeHub, http: aiohttp.ClientSession) -> None:
    base = "/v2/namespaces/acme/repositories/app/tags"
    status, body, _ = await call(http, "GET", base)
    assert status == 200
    assert body["count"] == 3
    assert [t["name"] for t in body["results"]] == ["v2", "latest", "v1"]
    latest = body["results"][1]
    assert [i["digest"] for i in latest["images"]] == [CHILD]  # one per platform
    assert latest["digest"] == NEW
    assert latest["tag_last_pushed"] == format_ts(NOW - DAY)
    assert latest["tag_status"] == "active"
    assert body["results"][2]["tag_status"] == "inactive"
    status, tag, _ = await call(http, "GET", f"{base}/v1")
    assert (status, tag["name"], tag["images"][0]["digest"]) == (200, "v1", OLD)
    assert (await call(http, "GET", f"{base}/nope"))[0] == 404
    assert (await call(http, "HEAD", f"{base}/v1"))[0] == 200
    assert (await call(http, "HEAD", f"{base}/nope"))[0] == 404
    assert (await call(http, "HEAD", base))[0] == 200
    server.add_repository("acme", "empty")
    assert (await call(http, "HEAD", "/v2/namespaces/acme/repositories/empty/tags"))[0] == 404
    status, _, _ = await call(http, "GET", "/v2/namespaces/acme/repositories/secret/tags")
    assert status == 404


# --------------------------------------------------------------- rate limiting


def rate_headers(resp: aiohttp.ClientResponse) -> tuple[int, int, int]:
    h = resp.headers
    return (
        int(h["X-RateLimit-Limit"]),
        int(h["X-RateLimit-Remaining"]),
        int(h["X-RateLimit-Reset"]),
    )


@pytest.mark.parametrize(
    ("hint", "header", "value"),
    [
        ("x-retry-after-epoch", "X-Retry-After", "1001"),
        ("retry-after-epoch", "Retry-After", "1001"),
        ("retry-after-seconds", "Retry-After", "1"),
        ("http-date", "Retry-After", format_http_date(1001)),
        ("none", None, None),
    ],
)
async def test_rate_limit_window_and_retry_hints(
    hint: Any, header: str | None, value: str | None
) -> None:
    clock = ManualClock(1000.25)
    async with FakeHub(
        image_api=True, clock=clock, rate_limit=3, window_s=1, retry_hint=hint
    ) as server:
        seed(server)
        h = as_user(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            seen = []
            for _ in range(3):
                status, _, resp = await call(http, "GET", SUMMARY, headers=h)
                assert status == 200
                seen.append(rate_headers(resp))
            assert seen == [(3, 2, 1001), (3, 1, 1001), (3, 0, 1001)]
            clock.advance(0.5)
            status, body, resp = await call(http, "GET", SUMMARY, headers=h)
            assert status == 429
            assert body == {"detail": "Rate limit exceeded", "error": False}
            assert rate_headers(resp) == (3, 0, 1001)
            for name in ("X-Retry-After", "Retry-After"):
                assert resp.headers.get(name) == (value if name == header else None)
            assert server.over_limit == 1
            clock.set(1001.0)  # the next window
            status, _, resp = await call(http, "GET", SUMMARY, headers=h)
            assert status == 200
            assert rate_headers(resp) == (3, 2, 1002)


async def test_rate_limit_is_per_user_and_anonymous_share_one_bucket() -> None:
    clock = ManualClock(5000.0)
    async with FakeHub(image_api=True, clock=clock, rate_limit=1, window_s=60) as server:
        seed(server)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            public = "/v2/namespaces/acme/repositories"
            assert (await call(http, "GET", public, headers=as_user(server, "alice")))[0] == 200
            assert (await call(http, "GET", public, headers=as_user(server, "alice")))[0] == 429
            assert (await call(http, "GET", public, headers=as_user(server, "bob")))[0] == 200
            assert (await call(http, "GET", public))[0] == 200
            status, _, resp = await call(http, "GET", public)
            assert status == 429
            assert resp.headers["X-RateLimit-Reset"] == "5040"  # windows aligned to the epoch
            assert server.over_limit == 2


async def test_date_header_follows_the_skewed_server_clock() -> None:
    clock = ManualClock(1_700_000_000.7)
    async with FakeHub(
        image_api=True, clock=clock, clock_skew_s=-30, rate_limit=100, window_s=60
    ) as server:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            _, _, resp = await call(http, "GET", "/v2/namespaces/nobody/repositories")
            date = parsedate_to_datetime(resp.headers["Date"]).timestamp()
            assert date == 1_700_000_000 - 30
            # server time 1_699_999_970.7 lies in the window [1_699_999_920, 1_699_999_980)
            assert resp.headers["X-RateLimit-Reset"] == "1699999980"


async def test_configure_rate_limit_at_runtime(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    _, _, resp = await call(http, "GET", "/v2/namespaces/acme/repositories")
    assert "X-RateLimit-Limit" not in resp.headers
    server.configure_rate_limit(1, window_s=10, retry_hint="retry-after-seconds")
    assert (server.rate_limit, server.window_s, server.retry_hint) == (
        1,
        10.0,
        "retry-after-seconds",
    )
    await call(http, "GET", "/v2/namespaces/acme/repositories")
    status, _, resp = await call(http, "GET", "/v2/namespaces/acme/repositories")
    assert status == 429
    assert resp.headers["Retry-After"] == str(int(NOW // 10 * 10 + 10 - NOW))
    server.configure_rate_limit(None)
    assert (await call(http, "GET", "/v2/namespaces/acme/repositories"))[0] == 200


@given(
    limit=st.integers(1, 5),
    window=st.sampled_from([0.5, 1.0, 7.0, 60.0]),
    offsets=st.lists(st.floats(0, 200, allow_nan=False), max_size=40),
)
def test_limiter_never_allows_more_than_the_limit_per_window(
    limit: int, window: float, offsets: list[float]
) -> None:
    limiter = FixedWindowLimiter(limit, window)
    allowed: dict[int, int] = {}
    for t in sorted(offsets):
        ok, remaining, reset = limiter.hit("k", 1_000_000 + t)
        index = int((1_000_000 + t) // window)
        assert reset >= 1_000_000 + t
        assert reset - (1_000_000 + t) <= window + 1
        if ok:
            allowed[index] = allowed.get(index, 0) + 1
            assert remaining == limit - allowed[index]
        else:
            assert allowed.get(index, 0) == limit and remaining == 0
    assert all(n <= limit for n in allowed.values())


# --------------------------------------------------------------------- faults


async def test_error_fault_next_n_requests_scoped_by_path(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    h = as_user(server)
    server.inject(Fault.error(503, times=2, path=r"/images$"))
    assert (await call(http, "GET", SUMMARY, headers=h))[0] == 200  # not matched
    statuses = [(await call(http, "GET", IMAGES, headers=h))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert server.pending_faults() == []
    assert [r.fault for r in server.requests[-3:]] == ["error", "error", None]


async def test_fault_scoped_by_method(server: FakeHub, http: aiohttp.ClientSession) -> None:
    server.inject(Fault.error(500, times=1, method="post"))
    assert (await call(http, "GET", SUMMARY, headers=as_user(server)))[0] == 200
    status, _, _ = await call(
        http, "POST", "/v2/users/login", json={"username": "alice", "password": "alice-pw"}
    )
    assert status == 500


async def test_reset_before_headers_is_not_processed(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.reset(times=1, path="access-tokens"))
    h = as_user(server, "carol")
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(
            http,
            "POST",
            "/v2/access-tokens",
            headers=h,
            json={"token_label": "a", "scopes": ["repo:read"]},
        )
    assert server.access_tokens("carol") == []
    assert server.requests[-1].status == 0 and server.requests[-1].fault == "reset"
    assert (await call(http, "GET", "/v2/access-tokens", headers=h))[0] == 200


async def test_reset_after_headers_is_processed(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.reset(after_headers=True, times=1))
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(
            http,
            "POST",
            "/v2/access-tokens",
            headers=as_user(server, "carol"),
            json={"token_label": "a", "scopes": ["repo:read"]},
        )
    assert [t.label for t in server.access_tokens("carol")] == ["a"]
    assert server.requests[-1].status == 201


async def test_truncated_body(server: FakeHub, http: aiohttp.ClientSession) -> None:
    server.inject(Fault.truncate(times=1))
    async with http.get(IMAGES, headers=as_user(server)) as resp:
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) > 0
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    assert (await call(http, "GET", IMAGES, headers=as_user(server)))[0] == 200


async def test_html_and_hap429_faults(server: FakeHub, http: aiohttp.ClientSession) -> None:
    server.inject(Fault.html(times=1), Fault.hap429(times=1))
    async with http.get(SUMMARY, headers=as_user(server)) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"
        assert "502 Bad Gateway" in await resp.text()
    async with http.get(SUMMARY, headers=as_user(server)) as resp:
        assert resp.status == 429
        assert resp.content_type == "text/plain"
        assert await resp.read() == b"Too Many Requests (HAP429)."
        assert "Retry-After" not in resp.headers and "X-Retry-After" not in resp.headers


async def test_latency_fault_is_applied_and_logged(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.latency(0.01, jitter=0.01, times=1))
    assert (await call(http, "GET", SUMMARY, headers=as_user(server)))[0] == 200
    assert server.requests[-1].fault == "latency"


async def _statuses_with_plan(plan: FaultPlan, n: int) -> list[int]:
    async with FakeHub(image_api=True, faults=plan) as server:
        server.add_user("alice", "pw")
        async with aiohttp.ClientSession(base_url=server.url) as http:
            return [
                (await call(http, "GET", "/v2/namespaces/alice/repositories"))[0] for _ in range(n)
            ]


async def test_probabilistic_faults_are_reproducible_for_a_seed() -> None:
    def plan(seed: int) -> FaultPlan:
        return FaultPlan(
            Fault.error(502, probability=0.4), Fault.error(504, probability=0.3), seed=seed
        )

    first = await _statuses_with_plan(plan(7), 30)
    assert first == await _statuses_with_plan(plan(7), 30)
    assert {200, 502, 504} <= set(first)
    assert first != await _statuses_with_plan(plan(8), 30)


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="5xx"):
        Fault.error(404)
    with pytest.raises(ValueError, match="probability"):
        Fault.error(probability=1.5)
    with pytest.raises(ValueError, match="times"):
        Fault.truncate(times=0)
    with pytest.raises(ValueError, match="regex"):
        Fault.reset(path="(")
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")  # type: ignore[arg-type]


async def test_clear_faults(server: FakeHub, http: aiohttp.ClientSession) -> None:
    server.inject(Fault.error(503))
    assert (await call(http, "GET", SUMMARY, headers=as_user(server)))[0] == 503
    server.clear_faults()
    assert (await call(http, "GET", SUMMARY, headers=as_user(server)))[0] == 200


# ---------------------------------------------------------------- request log


async def test_request_log_records_and_redacts(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    token = server.issue_token("alice")
    await call(http, "GET", IMAGES, headers=bearer(token), params={"page_size": "2"})
    await call(http, "POST", "/v2/users/login", json={"username": "alice", "password": "alice-pw"})
    first, second = server.requests
    assert isinstance(first, RequestRecord)
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        IMAGES,
        {"page_size": "2"},
        200,
    )
    assert first.authorized and first.user == "alice"
    assert first.headers["Authorization"] == "Bearer <redacted>"
    assert token not in repr(server.requests)
    assert first.time == NOW
    assert (second.json, second.authorized, second.user) == (
        {"username": "alice", "password": "alice-pw"},
        False,
        None,
    )
    assert server.logins == 1
    server.reset_log()
    assert (server.requests, server.logins, server.over_limit) == ([], 0, 0)


# ------------------------------------------------------------------ generator


def test_generator_is_deterministic_and_consistent() -> None:
    a = FakeHub.generate(namespaces=3, repos_per_namespace=4, images_per_repo=20, seed=5, now=NOW)
    b = FakeHub.generate(namespaces=3, repos_per_namespace=4, images_per_repo=20, seed=5, now=NOW)
    c = FakeHub.generate(namespaces=3, repos_per_namespace=4, images_per_repo=20, seed=6, now=NOW)
    assert a.generated == b.generated
    assert a.generated.images == 3 * 4 * 20
    assert len(a.generated.repositories) == 12 and len(set(a.generated.repositories)) == 12
    for full in a.generated.repositories:
        ns, repo = full.split("/")
        assert a.image_digests(ns, repo) == b.image_digests(ns, repo)
        assert a.tags(ns, repo) == b.tags(ns, repo)
        assert len(a.image_digests(ns, repo)) == 20
        assert a.tags(ns, repo)["latest"] == a.image_digests(ns, repo)[-1]
    ns, repo = c.generated.repositories[0].split("/")
    ns_a, repo_a = a.generated.repositories[0].split("/")
    assert c.image_digests(ns, repo) != a.image_digests(ns_a, repo_a)


def test_generated_is_only_there_for_a_generated_hub() -> None:
    with pytest.raises(RuntimeError, match=r"FakeHub\.generate"):
        _ = FakeHub().generated


async def test_generated_hub_serves_consistent_data() -> None:
    hub = FakeHub.generate(
        namespaces=2, repos_per_namespace=2, images_per_repo=30, seed=3, image_api=True
    )
    async with hub as server, aiohttp.ClientSession(base_url=server.url) as http:
        _, body, _ = await call(
            http,
            "POST",
            "/v2/auth/token",
            json={"identifier": "bench", "secret": server.generated.pat},
        )
        h = bearer(body["access_token"])
        ns, repo = hub.generated.repositories[0].split("/")
        base = f"/v2/namespaces/{ns}/repositories/{repo}"
        _, summary, _ = await call(http, "GET", f"{base}/images-summary", headers=h)
        _, active, _ = await call(
            http, "GET", f"{base}/images", headers=h, params={"status": "active"}
        )
        _, listing, _ = await call(
            http, "GET", f"{base}/images", headers=h, params={"page_size": "100"}
        )
        assert summary["statistics"]["total"] == listing["count"] == 30
        assert summary["statistics"]["active"] == active["count"]
        historical = sum(1 for i in listing["results"] for t in i["tags"] if not t["is_current"])
        assert historical >= 29  # every older image lost "latest"
        _, repos, _ = await call(http, "GET", f"/v2/namespaces/{ns}/repositories", headers=h)
        assert repos["count"] == 2


# ------------------------------------------------------------ pure helpers


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_timestamps_round_trip(ts: float) -> None:
    assert parse_ts(format_ts(ts)) == pytest.approx(ts, abs=1e-6)
    assert parse_ts(format_ts(ts, 9)) == pytest.approx(ts, abs=1e-6)
    assert parse_ts(format_ts(ts, 0)) == int(ts) or parse_ts(format_ts(ts, 0)) == round(ts)


def test_parse_ts_accepts_offsets_and_rejects_garbage() -> None:
    assert parse_ts("2021-01-25T14:25:37.076343059Z") == pytest.approx(1611584737.076343)
    assert parse_ts("2021-01-25T16:25:37+02:00") == 1611584737
    for bad in ("yesterday", "2021-13-01T00:00:00Z", "2021-02-30T00:00:00Z"):
        with pytest.raises(ValueError):
            parse_ts(bad)


def test_month_before_clamps_the_day() -> None:
    assert format_ts(month_before(parse_ts("2024-03-31T12:00:00Z")), 0) == "2024-02-29T12:00:00Z"
    assert format_ts(month_before(parse_ts("2024-01-15T00:00:00Z")), 0) == "2023-12-15T00:00:00Z"


# -------------------------------------------------------------- pytest plugin


@pytest.mark.fake_hub(rate_limit=2, window_s=30)
async def test_plugin_fixture_yields_a_started_configured_hub(fake_hub: FakeHub) -> None:
    assert fake_hub.url.startswith("http://127.0.0.1:")
    assert fake_hub.rate_limit == 2
    async with (
        aiohttp.ClientSession() as http,
        http.get(fake_hub.url + "/v2/namespaces/x/repositories") as resp,
    ):
        assert resp.headers["X-RateLimit-Limit"] == "2"
