"""HubClient construction: bad input refused with a sentence; no secret in repr; keyword-only
arguments; lazy resources on a narrow requester; default headers and the user agent."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import hubasync
from hubasync import HubClient
from hubasync._config import HubClientOptions
from hubasync._transport import Request, Response
from hubasync.resources._base import Requester
from hubasync.resources.repositories import Repositories

from ._scripted import Scripted

FAST = {"requests_per_minute": 1_000_000}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"base_url": "hub.docker.com"}, "http"),
        ({"base_url": "ftp://hub.docker.com"}, "http"),
        ({"base_url": "https://"}, "http"),
        ({"base_url": "http://hub.docker.com"}, "https"),
        ({"base_url": "https://u:p@hub.docker.com"}, "credentials"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": -3}, "max_concurrency"),
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"username": "a", "secret": "s", "token": "t"}, "not both"),
        ({"secret": "s"}, "username"),
        ({"username": "a"}, "secret"),
        ({"timeout": 0}, "timeout"),
        ({"max_wait": -1}, "max_wait"),
        ({"max_retries": -1}, "max_retries"),
        ({"page_prefetch": 0}, "page_prefetch"),
        ({"default_headers": {"Authorization": "Bearer x"}}, "Authorization.*token="),
        ({"default_headers": {"authorization": "Basic x"}}, "authorization"),
        ({"default_headers": {"User-Agent": "me"}}, "user_agent="),
        ({"default_headers": {"X-Trace": "a\r\nX-Evil: 1"}}, "line breaks"),
        ({"default_headers": {"bad name": "x"}}, "header name"),
        ({"default_headers": {"X-A": "1", "x-a": "2"}}, "twice"),
        ({"default_headers": [("X-A", "1")]}, "mapping"),
        ({"user_agent": ""}, "user_agent"),
        ({"user_agent": "tool\n/1"}, "user_agent"),
    ],
)
def test_bad_configuration_is_refused_at_construction(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        HubClient(**kwargs)


def test_http_allowed_for_loopback_and_by_opt_in() -> None:
    HubClient(base_url="http://127.0.0.1:8080")
    HubClient(base_url="http://localhost:8080")
    HubClient(base_url="http://[::1]:8080")
    HubClient(base_url="http://mirror.internal", allow_http=True)


def test_construction_outside_a_loop_creates_no_session() -> None:
    hub = HubClient(username="alice", secret="dckr_pat_S3CRET")
    assert hub._transport._session is None


def test_repr_hides_secrets() -> None:
    hub = HubClient(username="alice", secret="dckr_pat_S3CRET")
    assert "S3CRET" not in repr(hub)
    assert "alice" in repr(hub)
    tok = HubClient(token="eyJsecret.token.value")
    assert "eyJsecret" not in repr(tok)
    for obj in (hub.images, hub._transport.auth, hub.stats):
        assert "S3CRET" not in repr(obj)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "bob")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_x")
    monkeypatch.setenv("HUBASYNC_BASE_URL", "http://127.0.0.1:1234")
    hub = HubClient.from_env(max_concurrency=4)
    assert hub.base_url == "http://127.0.0.1:1234"
    assert hub.max_concurrency == 4
    assert hub._transport.auth.has_credentials


def test_from_env_token_without_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKERHUB_USERNAME", raising=False)
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_x")
    with pytest.raises(ValueError, match="DOCKERHUB_USERNAME"):
        HubClient.from_env()


def test_from_env_anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKERHUB_USERNAME", raising=False)
    monkeypatch.delenv("DOCKERHUB_TOKEN", raising=False)
    monkeypatch.delenv("HUBASYNC_BASE_URL", raising=False)
    hub = HubClient.from_env()
    assert not hub._transport.auth.is_authenticated
    assert hub.base_url == "https://hub.docker.com"


def test_positional_credentials_warn_and_still_work() -> None:
    with pytest.warns(
        DeprecationWarning, match=r"HubClient\(username=\.\.\., secret=\.\.\.\)"
    ) as caught:
        hub = HubClient("alice", "dckr_pat_S3CRET")
    assert caught[0].filename == __file__  # points at the caller's line, not hubasync's
    assert "alice" in repr(hub)
    assert hub._auth.has_credentials
    with pytest.warns(DeprecationWarning):
        mixed = HubClient("alice", secret="dckr_pat_S3CRET")
    assert mixed._auth.has_credentials


def test_positional_credentials_given_twice_are_refused() -> None:
    with pytest.raises(ValueError, match="both positionally and as keywords"):
        HubClient("alice", "dckr_pat_x", username="bob")
    with pytest.raises(ValueError, match="both positionally and as keywords"):
        HubClient("alice", "dckr_pat_x", secret="dckr_pat_y")


def test_everything_beyond_the_credential_pair_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        HubClient("alice", "dckr_pat_x", "tok")  # type: ignore[misc]
    params = inspect.signature(HubClient).parameters
    positional = [p.name for p in params.values() if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    assert positional == ["_username", "_secret"]  # the deprecated pair, nothing else


def test_from_env_options_match_the_constructor() -> None:
    # HubClientOptions types from_env's **kwargs; a keyword added to HubClient but not there
    # (or misspelt there) would make from_env refuse or mistype it.
    keywords = {
        name
        for name, p in inspect.signature(HubClient).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert HubClientOptions.__optional_keys__ == keywords


def test_version_comes_from_the_installed_metadata() -> None:
    assert hubasync.__version__ == importlib.metadata.version("hubasync")


def test_resources_are_built_on_first_use_and_kept() -> None:
    hub = HubClient(token="tok")
    assert "repositories" not in vars(hub)
    repos = hub.repositories
    assert hub.repositories is repos
    assert "repositories" in vars(hub)
    assert "<token>" in repr(repos)
    assert not hasattr(hub, "transport")  # internal: hub._transport


def _recording(answer: Any) -> tuple[list[Request], Callable[[Request], Awaitable[Response]]]:
    sent: list[Request] = []

    async def request(req: Request) -> Response:
        sent.append(req)
        return Response(200, {}, answer)

    return sent, request


async def test_a_resource_needs_only_a_requester() -> None:
    sent, request = _recording({"name": "app", "namespace": "alice"})
    repos = Repositories(Requester(request=request, page_prefetch=3, max_concurrency=16))
    repo = await repos.get("alice", "app")
    assert (repo.name, repo.namespace) == ("app", "alice")
    assert [(r.operation, r.method, r.path) for r in sent] == [
        ("repositories.get", "GET", "/v2/namespaces/alice/repositories/app")
    ]


def test_list_defaults_come_from_the_requester() -> None:
    _, request = _recording(None)
    repos = Repositories(Requester(request=request, page_prefetch=3, max_concurrency=2))
    assert repos._prefetch(None) == 2  # the default 3, capped by max_concurrency
    repos = Repositories(Requester(request=request, page_prefetch=3, max_concurrency=8))
    assert repos._prefetch(None) == 3
    assert repos._prefetch(5) == 5


@pytest.mark.parametrize("own_session", [False, True])
async def test_default_headers_and_user_agent_go_with_every_request(own_session: bool) -> None:
    import aiohttp

    async with Scripted() as srv:
        session = aiohttp.ClientSession() if own_session else None
        try:
            async with HubClient(
                token="tok",
                base_url=srv.url,
                default_headers={"X-Trace": "abc", "Accept-Language": "en"},
                user_agent="my-tool/1.2",
                session=session,
                **FAST,
            ) as hub:
                await hub.repositories.exists("alice", "app")
                await hub.repositories.exists("alice", "app")
        finally:
            if session is not None:
                await session.close()
    assert len(srv.seen) == 2
    for _, _, headers, _ in srv.seen:
        assert headers["X-Trace"] == "abc"
        assert headers["Accept-Language"] == "en"
        assert headers["User-Agent"] == f"hubasync/{hubasync.__version__} my-tool/1.2"
        assert headers["Authorization"] == "Bearer tok"


async def test_without_a_suffix_the_user_agent_is_hubasync_s_own() -> None:
    async with Scripted() as srv, HubClient(base_url=srv.url, **FAST) as hub:
        await hub.repositories.exists("alice", "app")
    assert srv.seen[0][2]["User-Agent"] == f"hubasync/{hubasync.__version__}"
