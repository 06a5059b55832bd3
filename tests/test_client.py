"""HubClient construction: bad input refused with a sentence; no secret in repr."""

from __future__ import annotations

from typing import Any

import pytest

from hubasync import HubClient


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
    hub = HubClient("alice", "dckr_pat_S3CRET")
    assert hub.transport._session is None


def test_repr_hides_secrets() -> None:
    hub = HubClient("alice", "dckr_pat_S3CRET")
    assert "S3CRET" not in repr(hub)
    assert "alice" in repr(hub)
    tok = HubClient(token="eyJsecret.token.value")
    assert "eyJsecret" not in repr(tok)
    for obj in (hub.images, hub.transport.auth, hub.stats):
        assert "S3CRET" not in repr(obj)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "bob")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_x")
    monkeypatch.setenv("HUBASYNC_BASE_URL", "http://127.0.0.1:1234")
    hub = HubClient.from_env(max_concurrency=4)
    assert hub.base_url == "http://127.0.0.1:1234"
    assert hub.max_concurrency == 4
    assert hub.transport.auth.has_credentials


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
    assert not hub.transport.auth.is_authenticated
    assert hub.base_url == "https://hub.docker.com"
