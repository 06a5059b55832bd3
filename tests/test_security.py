"""Security: secrets stay secret, requests stay on base_url, bad paths never leave the client.

- No password, PAT, bearer token or 2FA code in any repr, log record (DEBUG, every logger),
  error (message, repr, body, chained traceback) or ``hub.stats``: tests run real flows
  against FakeHub (logins, 2FA, refused logins, retries, errors) and grep for them.
- No request to any origin but ``base_url``: ``next`` links of every list endpoint point
  elsewhere and are not followed; redirects (every 3xx, every method, logins too) are not
  followed, so no Authorization header ever leaves.
- ``http://`` only for loopback unless ``allow_http=True``.
- Path traversal and injection in every path parameter of every method: ``ValueError``
  before anything is sent.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from hubasync import HubClient
from hubasync._transport import Transport
from hubasync.errors import (
    AuthenticationError,
    HubError,
    NotFoundError,
    ResponseValidationError,
    TwoFactorRequiredError,
)
from hubasync.models import ManifestRef, RestrictedImages
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

from ._scripted import Scripted, reply

FAST: dict[str, Any] = {"requests_per_minute": 1_000_000}

PASSWORD = "Pa55w0rd-SECRET-bob"
TOTP = "864209"
BOB_PAT = "dckr_pat_BOBSECRETb0b5ecret"
ALICE_PAT = "dckr_pat_ALICESECRETa11ce"


# ---------------------------------------------------------------------------------------------
# Secrets never show
# ---------------------------------------------------------------------------------------------


class Evidence:
    """Everything a user or an operator could see: reprs, errors, logs."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def see(self, what: str, obj: Any) -> None:
        self.texts.append((what, repr(obj)))
        self.texts.append((what, str(obj)))

    def error(self, what: str, exc: BaseException) -> None:
        self.see(what, exc)
        self.texts.append((what, "".join(traceback.format_exception(exc))))
        self.texts.append((what, repr(exc.args)))
        if isinstance(exc, HubError):
            self.texts.append((what + ".body", repr(exc.body)))
            self.texts.append((what + ".message", exc.message))

    async def expect_error(self, what: str, kind: type[BaseException], call: Any) -> None:
        with pytest.raises(kind) as info:
            await call
        self.error(what, info.value)

    def client(self, what: str, hub: HubClient) -> None:
        for name, obj in [
            ("hub", hub),
            ("stats", hub.stats),
            ("stats.vars", vars(hub.stats) if hasattr(hub.stats, "__dict__") else hub.stats),
            ("rate_limit", hub.rate_limit),
            ("rate_limiter", hub.rate_limiter),
            ("transport", hub._transport),
            ("auth", hub._transport.auth),
            ("images", hub.images),
            ("access_tokens", hub.access_tokens),
            ("raw-auth", hub.auth),
        ]:
            self.see(f"{what}.{name}", obj)

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        found = []
        for what, text in self.texts:
            for name, secret in secrets.items():
                if secret and secret in text:
                    found.append(f"{name} in {what}: ...{text[:200]!r}")
        return found


@pytest.fixture
async def server() -> AsyncIterator[FakeHub]:
    async with FakeHub(image_api=True) as hub:
        hub.add_user("bob", PASSWORD, totp=TOTP, pats=[BOB_PAT])
        hub.add_user("alice", "alice-password-SECRET", pats=[ALICE_PAT])
        hub.add_repository("alice", "app", images=[FakeImage(digest_of("a"), tags=["latest"])])
        yield hub


def bearer(hub: HubClient) -> str:
    state = hub._transport.auth._state
    assert state is not None
    return state.token


async def test_no_secret_in_any_repr_log_error_or_stats(
    server: FakeHub, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="hubasync")
    seen = Evidence()
    secrets = {"password": PASSWORD, "totp": TOTP, "bob_pat": BOB_PAT, "alice_pat": ALICE_PAT}
    send_login_raw = Transport.send_login_raw

    async def spy(
        self: Transport, operation: str, path: str, body: Any, **settings: Any
    ) -> tuple[int, Any]:
        status, answer = await send_login_raw(self, operation, path, body, **settings)
        if isinstance(answer, dict):  # the intermediate 2FA token is a secret too
            for key in ("login_2fa_token", "token", "access_token"):
                if isinstance(answer.get(key), str):
                    secrets[f"{operation}.{key}.{len(secrets)}"] = answer[key]
        return status, answer

    monkeypatch.setattr(Transport, "send_login_raw", spy)

    # password + 2FA: login, use, create a PAT (its secret is in .token, nowhere else)
    async with HubClient(
        username="bob", secret=PASSWORD, two_factor=lambda: TOTP, base_url=server.url, **FAST
    ) as hub:
        await hub.login()
        secrets["bob_jwt"] = bearer(hub)
        created = await hub.access_tokens.create("ci", ["repo:read"])
        assert created.token
        secrets["created_pat"] = created.token
        seen.see("created", created)
        listed = await hub.access_tokens.list().to_list()
        seen.see("listed", listed)
        await seen.expect_error("404", NotFoundError, hub.repositories.get("bob", "missing"))
        seen.client("bob", hub)

    # a PAT login through faults: retries, 429s, a refused call after a refresh
    server.inject(
        Fault.error(503, times=1, path="images-summary"),
        Fault.reset(times=1, path="images-summary"),
        Fault.hap429(times=1, path="images-summary"),
    )
    async with HubClient(username="alice", secret=ALICE_PAT, base_url=server.url, **FAST) as hub:
        await hub.images.summary("alice", "app")
        secrets["alice_jwt"] = bearer(hub)
        server.inject(Fault.error(500, path="images-summary"))
        await seen.expect_error("500", HubError, hub.images.summary("alice", "app"))
        server.clear_faults()
        await seen.expect_error(
            "403", HubError, hub.orgs.update_settings("bob", RestrictedImages(
                enabled=True, allow_official_images=True, allow_verified_publishers=True
            ))
        )  # fmt: skip
        raw = await hub.auth.token("alice", ALICE_PAT)
        seen.see("raw-token", raw)
        secrets["raw_jwt"] = raw.access_token
        raw_login = await hub.auth.login("alice", "alice-password-SECRET")
        seen.see("raw-login", raw_login)
        secrets["raw_login_jwt"] = raw_login.token
        seen.client("alice", hub)

    # refused logins: wrong password, wrong PAT, wrong or missing 2FA code
    refused: list[tuple[str, dict[str, Any], type[HubError]]] = [
        ("wrong-password", {"username": "bob", "secret": PASSWORD + "x"}, AuthenticationError),
        ("wrong-pat", {"username": "bob", "secret": BOB_PAT + "x"}, AuthenticationError),
        (
            "wrong-totp",
            {"username": "bob", "secret": PASSWORD, "two_factor": lambda: "000000"},
            AuthenticationError,
        ),
        ("no-totp", {"username": "bob", "secret": PASSWORD}, TwoFactorRequiredError),
    ]
    for who, kwargs, kind in refused:
        async with HubClient(base_url=server.url, **kwargs, **FAST) as hub:
            await seen.expect_error(who, kind, hub.access_tokens.list().to_list())
            seen.client(who, hub)
    secrets["wrong_password"] = PASSWORD + "x"
    secrets["wrong_pat"] = BOB_PAT + "x"

    # a ready token Hub refuses (revoked: its signature no longer checks out): 401, and no
    # credentials to refresh with
    issued = server.issue_token("alice")
    revoked = issued[:-6] + ("AAAAAA" if not issued.endswith("AAAAAA") else "BBBBBB")
    secrets["revoked_jwt"] = revoked
    secrets["revoked_jwt_signature"] = revoked.rsplit(".", 1)[1]
    async with HubClient(token=revoked, base_url=server.url, **FAST) as hub:
        await seen.expect_error("revoked", AuthenticationError, hub.access_tokens.list().to_list())
        seen.client("revoked", hub)

    for record in caplog.records:
        seen.texts.append((f"log:{record.name}", record.getMessage()))
        seen.texts.append((f"log:{record.name}", repr(record.args)))
        if record.exc_info and record.exc_info[1] is not None:
            seen.texts.append(
                (f"log:{record.name}", "".join(traceback.format_exception(record.exc_info[1])))
            )
    seen.texts.append(("caplog", caplog.text))
    assert caplog.records, "the flows above should have logged something at DEBUG"
    assert any(".login_2fa_token." in name for name in secrets)  # the 2FA step was seen
    assert not seen.leaks(secrets), "\n".join(seen.leaks(secrets))


LOGIN_ANSWER = '{"access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.SIGNATURE-SECRET"'
CREATE_ANSWER = (
    '{"uuid": "' + str(uuid.UUID(int=1)) + '", "token": "dckr_pat_CREATEDSECRET", "scopes": []'
)


@pytest.mark.parametrize(
    ("answer", "secret", "call"),
    [
        (LOGIN_ANSWER, "SIGNATURE-SECRET", lambda hub: hub.login()),
        (
            CREATE_ANSWER,
            "dckr_pat_CREATEDSECRET",
            lambda hub: hub.access_tokens.create("x", ["repo:read"]),
        ),
    ],
    ids=["login", "create"],
)
async def test_a_broken_answer_carrying_a_secret_does_not_leak_it(
    answer: str, secret: str, call: Callable[[HubClient], Any]
) -> None:
    async with Scripted() as srv:
        srv.default = reply(200, answer, {"Content-Type": "application/json"})
        creds = {"token": "t"} if "uuid" in answer else {"username": "a", "secret": "dckr_pat_x"}
        async with HubClient(base_url=srv.url, **creds, **FAST) as hub:  # type: ignore[arg-type]
            with pytest.raises(ResponseValidationError) as info:
                await call(hub)
    seen = Evidence()
    seen.error("error", info.value)
    assert not seen.leaks({"secret": secret}), seen.leaks({"secret": secret})


async def _echo(request: web.Request, status: int, as_json: bool) -> web.StreamResponse:
    """What a careless server (or proxy) does: put the request it got into its error."""
    sent = (await request.read()).decode()
    auth = request.headers.get("Authorization", "")
    if as_json:
        body = {"detail": f"bad request {sent} {auth}", "request": {"body": sent, "auth": auth}}
        return web.json_response(body, status=status)
    return web.Response(text=f"error; got {sent} with {auth}", status=status)


ECHOES = [(401, True), (400, True), (500, True), (500, False), (429, True), (200, False)]


@pytest.mark.parametrize(("status", "as_json"), ECHOES)
@pytest.mark.parametrize("secret", [BOB_PAT, PASSWORD], ids=["pat", "password"])
async def test_a_login_answer_echoing_the_secret_does_not_leak_it(
    status: int, as_json: bool, secret: str
) -> None:
    async with Scripted() as srv:
        srv.default = lambda request: _echo(request, status, as_json)
        async with HubClient(
            username="bob", secret=secret, base_url=srv.url, max_wait=0.0, **FAST
        ) as hub:
            with pytest.raises(HubError) as info:
                await hub.login()
    assert srv.seen  # the login was sent, and answered with the secret in it
    seen = Evidence()
    seen.error("error", info.value)
    assert not seen.leaks({"secret": secret}), seen.leaks({"secret": secret})
    assert info.value.__context__ is None or secret not in repr(vars(info.value.__context__))


@pytest.mark.parametrize(("status", "as_json"), ECHOES)
async def test_an_api_answer_echoing_the_bearer_token_does_not_leak_it(
    status: int, as_json: bool
) -> None:
    opaque = "opaque-bearer-TOKEN-1234"  # not a JWT: only the literal match can catch it
    async with Scripted() as srv:
        srv.default = lambda request: _echo(request, status, as_json)
        async with HubClient(token=opaque, base_url=srv.url, max_wait=0.0, **FAST) as hub:
            with pytest.raises(HubError) as info:
                await hub.images.summary("alice", "app")
    seen = Evidence()
    seen.error("error", info.value)
    assert not seen.leaks({"token": opaque}), seen.leaks({"token": opaque})


async def test_a_2fa_answer_echoing_the_temporary_token_does_not_leak_it() -> None:
    temporary = "2fa-temporary-TOKEN-abcdef"
    async with Scripted() as srv:
        need_2fa = {"detail": "Require secondary authentication", "login_2fa_token": temporary}
        srv.then(reply(401, need_2fa))
        srv.default = lambda request: _echo(request, 500, True)
        async with HubClient(
            username="bob",
            secret=PASSWORD,
            base_url=srv.url,
            two_factor=lambda: TOTP,
            max_retries=0,
            **FAST,
        ) as hub:
            with pytest.raises(HubError) as info:
                await hub.login()
    assert temporary in srv.seen[1][3].decode()  # it was sent on to 2fa-login...
    seen = Evidence()
    seen.error("error", info.value)
    secrets = {"2fa": temporary, "password": PASSWORD}
    assert not seen.leaks(secrets), seen.leaks(secrets)  # ...and came back only redacted


async def test_a_refused_ready_token_says_to_pass_a_new_one() -> None:
    async with Scripted() as srv:
        srv.default = reply(401, {"detail": "token expired"})
        async with HubClient(token="a-ready-token", base_url=srv.url, **FAST) as hub:
            with pytest.raises(AuthenticationError, match="cannot log in by itself") as info:
                await hub.images.summary("alice", "app")
    assert "logging in again" not in str(info.value)
    assert len(srv.seen) == 1


async def test_login_errors_name_their_route_and_the_right_remedy(server: FakeHub) -> None:
    async with HubClient(
        username="alice", secret="dckr_pat_WRONG", base_url=server.url, **FAST
    ) as hub:
        with pytest.raises(AuthenticationError, match=r"^auth\.token: login failed"):
            await hub.login()
    async with HubClient(
        username="bob", secret=PASSWORD, base_url=server.url, two_factor=lambda: "000000", **FAST
    ) as hub:
        with pytest.raises(AuthenticationError) as info:
            await hub.login()
    assert str(info.value).startswith("auth.2fa_login: the two-factor code was refused")
    assert "two_factor callable" in str(info.value) and "new HubClient" in str(info.value)


# ---------------------------------------------------------------------------------------------
# No request leaves base_url
# ---------------------------------------------------------------------------------------------

ITEM = {
    "images.list": {"digest": "sha256:" + "a" * 64},
    "images.tags": {"tag": "latest"},
    "repositories.list": {"name": "app", "namespace": "alice"},
    "repositories.tags": {"name": "latest"},
    "access_tokens.list": {"uuid": str(uuid.UUID(int=7))},
    "audit_logs.list": {},
}

LISTS: dict[str, Callable[[HubClient], Any]] = {
    "images.list": lambda h: h.images.list("alice", "app", page_size=2, prefetch=3),
    "images.tags": lambda h: h.images.tags("alice", "app", "sha256:" + "a" * 64, page_size=2),
    "repositories.list": lambda h: h.repositories.list("alice", page_size=2, prefetch=1),
    "repositories.tags": lambda h: h.repositories.tags("alice", "app", page_size=2),
    "access_tokens.list": lambda h: h.access_tokens.list(page_size=2),
    "audit_logs.list": lambda h: h.audit_logs.list("alice", page_size=2),
}


def foreign_links(elsewhere: str) -> Iterator[str]:
    yield f"{elsewhere}/v2/steal?page=2"  # another server, a real one we can watch
    yield "//evil.example/v2/steal?page=2"  # protocol-relative
    yield "https://evil.example/v2/steal?page=2"


def paging_server(name: str, next_link: str, pages: int = 3) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        number = int(request.query.get("page", "1"))
        size = int(request.query.get("page_size", "2"))
        items = [ITEM[name]] * (size if number < pages else 1)
        key = "logs" if name == "audit_logs.list" else "results"
        body: dict[str, Any] = {key: items}
        if name != "audit_logs.list":
            body.update(
                count=size * (pages - 1) + 1,
                next=next_link if number < pages else None,
                previous=next_link,
            )
        return await reply(200, body)(request)

    return handler


@pytest.mark.parametrize("name", list(LISTS))
async def test_next_links_to_another_origin_are_never_followed(name: str) -> None:
    async with Scripted() as hub_srv, Scripted() as elsewhere:
        for link in foreign_links(elsewhere.url):
            hub_srv.seen.clear()
            hub_srv.default = paging_server(name, link)
            async with HubClient(token="tok-SECRET", base_url=hub_srv.url, **FAST) as hub:
                items = await LISTS[name](hub).to_list()
            assert len(items) == 5  # every page read from base_url, by number
            assert not elsewhere.seen, f"{link} was followed"
            assert all(path.startswith("/v2/") for _, path, _, _ in hub_srv.seen)
            assert all("steal" not in path for _, path, _, _ in hub_srv.seen)


REDIRECTED: dict[str, Callable[[HubClient], Any]] = {
    "GET": lambda h: h.repositories.get("alice", "app"),
    "HEAD": lambda h: h.repositories.exists("alice", "app"),
    "PATCH": lambda h: h.repositories.update("alice", "app", description="x"),
    "PUT": lambda h: h.orgs.update_settings(
        "acme",
        RestrictedImages(enabled=True, allow_official_images=True, allow_verified_publishers=True),
    ),
    "POST": lambda h: h.access_tokens.create("x", ["repo:read"]),
    "DELETE": lambda h: h.access_tokens.delete(uuid.UUID(int=3)),
    "POST-delete-images": lambda h: h.images.delete(
        "alice", [ManifestRef(repository="app", digest="sha256:" + "b" * 64)]
    ),
    "login": lambda h: h.login(),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", list(REDIRECTED))
async def test_redirects_are_not_followed_and_carry_nothing_away(status: int, call: str) -> None:
    async with Scripted() as hub_srv, Scripted() as elsewhere:
        hub_srv.default = reply(
            status, {"detail": "moved"}, {"Location": f"{elsewhere.url}/v2/steal"}
        )
        creds: dict[str, Any] = (
            {"username": "alice", "secret": ALICE_PAT} if call == "login" else {"token": "tok"}
        )
        async with HubClient(base_url=hub_srv.url, **creds, **FAST) as hub:
            with pytest.raises(HubError) as info:
                await REDIRECTED[call](hub)
        assert not elsewhere.seen  # no request, so no Authorization, went to the other origin
        assert len(hub_srv.seen) == 1  # and a redirect is not a fault to retry
        assert info.value.status == status
        if call != "HEAD":
            assert "does not follow" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://hub.docker.com",
        "http://10.0.0.1",
        "http://192.168.1.10:8080",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://0.0.0.0:80",
        "http://[::]:80",
        "http://[fe80::1]",
        "HTTP://hub.docker.com",
    ],
)
def test_plain_http_is_refused_for_other_hosts(url: str) -> None:
    with pytest.raises(ValueError, match="allow_http"):
        HubClient(base_url=url)
    HubClient(base_url=url, allow_http=True)  # an explicit opt-in


def test_plain_http_to_a_name_under_localhost_needs_allow_http() -> None:
    with pytest.raises(ValueError, match="allow_http"):
        HubClient(base_url="http://hub.localhost:8080")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1", "http://127.8.9.10:1", "http://localhost", "http://[::1]:8080"],
)
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    assert HubClient(base_url=url).base_url.startswith("http://")


# ---------------------------------------------------------------------------------------------
# Path traversal and injection never reach the wire
# ---------------------------------------------------------------------------------------------

NASTY = [
    "",
    ".",
    "..",
    "../x",
    "x/..",
    "a/b",
    "..%2f",
    "%2e%2e",
    "a%2Fb",
    "a?b=1",
    "a#frag",
    "a b",
    "a\nb",
    "a\r\nX-Injected: 1",
    "a\x00",
    "a\\b",
    "//evil.example",
    "http://evil.example/",
    "@evil.example",
    "a;b",
    "ａｂ",  # noqa: RUF001 - fullwidth letters
    "A" * 300,
    " a",
]

DIGEST = "sha256:" + "c" * 64
RI = RestrictedImages(enabled=True, allow_official_images=True, allow_verified_publishers=True)


def _calls(v: str) -> dict[str, Callable[[HubClient], Any]]:
    """Every method with a path parameter, ``v`` in each position in turn."""
    return {
        "images.summary(ns)": lambda h: h.images.summary(v, "app"),
        "images.summary(repo)": lambda h: h.images.summary("alice", v),
        "images.list(ns)": lambda h: h.images.list(v, "app").to_list(),
        "images.list(repo)": lambda h: h.images.list("alice", v).to_list(),
        "images.tags(ns)": lambda h: h.images.tags(v, "app", DIGEST).to_list(),
        "images.tags(repo)": lambda h: h.images.tags("alice", v, DIGEST).to_list(),
        "images.tags(digest)": lambda h: h.images.tags("alice", "app", v).to_list(),
        "images.delete(ns)": lambda h: h.images.delete(
            v, [ManifestRef(repository="a", digest=DIGEST)]
        ),
        "images.delete(repo)": lambda h: h.images.delete(
            "alice", [ManifestRef(repository=v, digest=DIGEST)]
        ),
        "images.delete(digest)": lambda h: h.images.delete(
            "alice", [ManifestRef(repository="app", digest=v)]
        ),
        "access_tokens.get": lambda h: h.access_tokens.get(v),
        "access_tokens.update": lambda h: h.access_tokens.update(v, label="x"),
        "access_tokens.delete": lambda h: h.access_tokens.delete(v),
        "audit_logs.list": lambda h: h.audit_logs.list(v).to_list(),
        "audit_logs.actions": lambda h: h.audit_logs.actions(v),
        "orgs.settings": lambda h: h.orgs.settings(v),
        "orgs.update_settings": lambda h: h.orgs.update_settings(v, RI),
        "repositories.update(ns)": lambda h: h.repositories.update(v, "app", description="d"),
        "repositories.update(repo)": lambda h: h.repositories.update("alice", v, description="d"),
        "repositories.list": lambda h: h.repositories.list(v).to_list(),
        "repositories.get(ns)": lambda h: h.repositories.get(v, "app"),
        "repositories.get(repo)": lambda h: h.repositories.get("alice", v),
        "repositories.exists(ns)": lambda h: h.repositories.exists(v, "app"),
        "repositories.exists(repo)": lambda h: h.repositories.exists("alice", v),
        "repositories.tags(ns)": lambda h: h.repositories.tags(v, "app").to_list(),
        "repositories.tags(repo)": lambda h: h.repositories.tags("alice", v).to_list(),
        "repositories.tag(ns)": lambda h: h.repositories.tag(v, "app", "latest"),
        "repositories.tag(repo)": lambda h: h.repositories.tag("alice", v, "latest"),
        "repositories.tag(tag)": lambda h: h.repositories.tag("alice", "app", v),
        "repositories.tag_exists(tag)": lambda h: h.repositories.tag_exists("alice", "app", v),
    }


@pytest.fixture
def nothing_sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    sent: list[Any] = []

    async def record(self: Transport, req: Any) -> Any:
        sent.append(req)
        raise AssertionError(f"a request was about to be sent: {req.method} {req.path}")

    monkeypatch.setattr(Transport, "request", record)
    return sent


@pytest.mark.parametrize("value", NASTY, ids=repr)
async def test_traversal_and_injection_in_any_path_parameter_is_refused_before_sending(
    value: str, nothing_sent: list[Any]
) -> None:
    async with HubClient(token="tok", base_url="https://hub.docker.com") as hub:
        for name, call in _calls(value).items():
            with pytest.raises(ValueError):
                await call(hub)
            assert not nothing_sent, name


async def test_free_text_filters_are_encoded_not_injected(nothing_sent: list[Any]) -> None:
    # free-text filters travel in the query, percent-encoded: they cannot add parameters
    async with HubClient(token="tok") as hub:
        transport = hub._transport
        url = transport.url_for(
            "/v2/auditlogs/alice",
            {
                "action": "a&page=999#x",
                "name": "../../x",
                "from": datetime(2024, 1, 1, tzinfo=UTC).isoformat(),
            },
        )
    assert url.startswith("https://hub.docker.com/v2/auditlogs/alice?")
    query = url.split("?", 1)[1]
    assert "#" not in url and query.count("&") == 2 and "page=999" not in query


async def test_an_expiry_in_the_past_is_refused_before_sending(nothing_sent: list[Any]) -> None:
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    async with HubClient(token="tok", base_url="https://hub.docker.com") as hub:
        with pytest.raises(ValueError, match=r"expires_at .* is not in the future"):
            await hub.access_tokens.create("ci", ["repo:read"], expires_at=yesterday)
    assert nothing_sent == []


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("password", ['back\\slash"quote-Pw1', "line\nbreak-Pw12"])
async def test_an_echoed_secret_is_caught_in_its_escaped_forms(status: int, password: str) -> None:
    async with Scripted() as srv:
        srv.default = reply(status, {"detail": f"bad password {password}"})
        async with HubClient(
            username="bob", secret=password, base_url=srv.url, max_retries=0, **FAST
        ) as hub:
            with pytest.raises(HubError) as info:
                await hub.login()
    seen = Evidence()
    seen.error("error", info.value)
    forms = {"plain": password, "repr": repr(password)[1:-1]}
    assert not seen.leaks(forms), seen.leaks(forms)
    assert "<redacted>" in str(info.value)


async def test_redaction_does_not_point_at_the_secret_among_the_messages_words() -> None:
    async with Scripted() as srv:
        srv.default = reply(401, {"detail": "Incorrect authentication credentials"})
        async with HubClient(username="bob", secret="secret", base_url=srv.url, **FAST) as hub:
            with pytest.raises(AuthenticationError) as info:
                await hub.login()
    assert "check the username and secret" in str(info.value)  # not "... and <redacted>"


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_login_5xx_echoing_a_short_password_or_the_2fa_code_does_not_leak_it(
    status: int,
) -> None:
    password, code = "Pa55w0r", "864209"  # 7 characters; a 6-digit TOTP code
    async with Scripted() as srv:
        need_2fa = {"detail": "Require secondary authentication", "login_2fa_token": "tmp-2fa"}
        srv.then(reply(401, need_2fa))
        srv.default = lambda request: _echo(request, status, True)
        async with HubClient(
            username="bob", secret=password, base_url=srv.url, two_factor=lambda: code,
            max_retries=0, max_wait=0.0, **FAST,
        ) as hub:  # fmt: skip
            with pytest.raises(HubError) as info:
                await hub.login()
    seen = Evidence()
    seen.error("error", info.value)
    assert not seen.leaks({"code": code}), seen.leaks({"code": code})
    async with Scripted() as srv:
        srv.default = lambda request: _echo(request, status, True)
        async with HubClient(
            username="bob", secret=password, base_url=srv.url, max_retries=0, max_wait=0.0, **FAST
        ) as hub:
            with pytest.raises(HubError) as info:
                await hub.login()
    seen = Evidence()
    seen.error("error", info.value)
    assert not seen.leaks({"password": password}), seen.leaks({"password": password})
