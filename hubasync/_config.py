"""``ClientConfig``: HubClient's arguments, checked once, as a frozen value.

Every check runs when the value is built (``ClientConfig(...)`` or ``attrs.evolve``), so a bad
argument raises ``ValueError`` naming what to pass before anything is created or sent.
``HubClientOptions`` is the same set of arguments as a ``TypedDict`` for ``**kwargs`` typing
(``HubClient.from_env(max_concurency=1)`` fails ``mypy``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypedDict

import aiohttp
import attrs
from yarl import URL

from ._auth import TwoFactorCallable
from ._clock import Clock
from ._ratelimit import RateLimiter
from ._validate import check_positive, check_prefetch

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_REQUESTS_PER_MINUTE", "ClientConfig", "HubClientOptions"]

DEFAULT_BASE_URL = "https://hub.docker.com"
DEFAULT_REQUESTS_PER_MINUTE = 180

# RFC 9110 token characters for a header name; a value is visible ASCII, spaces and tabs.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Headers the client owns: the bearer token and its own identification.
_RESERVED_HEADERS = {
    "authorization": "the client sends its own bearer token; pass token= or username=/secret=",
    "user-agent": "pass user_agent= to add to hubasync's own user agent",
    "host": "the client sends to base_url's host; pass base_url=",
    "content-length": "aiohttp computes it for each body",
    "content-type": "the client sets it for each JSON body",
}


class HubClientOptions(TypedDict, total=False):
    """HubClient's keyword arguments, for typing ``**kwargs`` (see ``HubClient.from_env``)."""

    username: str | None
    secret: str | None
    token: str | None
    two_factor: TwoFactorCallable | None
    base_url: str
    max_concurrency: int
    requests_per_minute: int | None
    rate_limiter: RateLimiter | None
    max_retries: int
    max_wait: float
    timeout: float
    page_prefetch: int
    session: aiohttp.ClientSession | None
    allow_http: bool
    clock: Clock | None
    default_headers: Mapping[str, str] | None
    user_agent: str | None


def _is_loopback(host: str) -> bool:
    if host == "localhost":  # not *.localhost: those may be resolved through DNS
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: object, *, allow_http: bool) -> URL:
    """``base_url`` as a URL: http(s), a host, no query/fragment/credentials; plain http
    only to a loopback host unless ``allow_http``."""
    if not isinstance(base_url, str | URL):
        raise ValueError(f"base_url must be a string URL, got {type(base_url).__name__}")
    try:
        url = URL(str(base_url))
    except (ValueError, TypeError):
        raise ValueError(
            f"base_url {base_url!r} is not a URL; pass e.g. 'https://hub.docker.com'"
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base_url {base_url!r} is not an http(s) URL with a host; pass e.g. "
            "'https://hub.docker.com'"
        )
    if url.query_string or url.fragment or url.user or url.password:
        raise ValueError(
            f"base_url {base_url!r} must not carry a query, fragment or credentials; pass "
            "credentials as username=/secret= instead"
        )
    if url.scheme == "http" and not allow_http and not _is_loopback(url.host):
        raise ValueError(
            f"base_url {base_url!r} uses plain http to a non-loopback host, which would send "
            "credentials in clear text; use https, or pass allow_http=True if you mean it"
        )
    return url


def check_count(value: object, param: str, *, minimum: int, advice: str = "") -> int:
    """An ``int`` (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{param} must be an int >= {minimum}, got {value!r}{advice}")
    return value


def check_headers(headers: object) -> Mapping[str, str]:
    """``default_headers`` as a read-only mapping of valid names to valid values."""
    if headers is None:
        return MappingProxyType({})
    if not isinstance(headers, Mapping):
        raise ValueError(
            f"default_headers must be a mapping of header names to strings, got "
            f"{type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"default_headers: {name!r} is not a valid HTTP header name")
        why = _RESERVED_HEADERS.get(name.lower())
        if why is not None:
            raise ValueError(f"default_headers cannot set {name}: {why}")
        if name.lower() in seen:
            raise ValueError(f"default_headers sets {name} twice (header names ignore case)")
        seen.add(name.lower())
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise ValueError(
                f"default_headers[{name!r}] must be a string of visible ASCII characters "
                "(no line breaks)"
            )
        checked[name] = value
    return MappingProxyType(checked)


def check_user_agent(suffix: object) -> str | None:
    """The user-agent suffix: visible ASCII, no line breaks; ``None`` for none."""
    if suffix is None:
        return None
    if not isinstance(suffix, str) or not suffix.strip() or not _HEADER_VALUE.fullmatch(suffix):
        raise ValueError(
            f"user_agent must be a non-empty string of visible ASCII characters (no line "
            f"breaks), e.g. 'my-tool/1.2', got {suffix!r}"
        )
    return suffix.strip()


def _check_credentials(
    username: str | None, secret: str | None, token: str | None, two_factor: object
) -> None:
    if token is not None and secret is not None:
        raise ValueError(
            "pass either token= (a ready bearer JWT) or username= and secret=, not both"
        )
    if secret is not None and not username:
        raise ValueError("secret= needs username= (the Docker Hub user the secret belongs to)")
    if username is not None and secret is None and token is None:
        raise ValueError(
            "username= needs secret= (a password or access token); or pass token= alone"
        )
    for name, value in (("username", username), ("secret", secret), ("token", token)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"{name} must be a non-empty string")
    if two_factor is not None and not callable(two_factor):
        raise ValueError("two_factor must be a callable returning the current TOTP code")


@attrs.frozen(kw_only=True)
class ClientConfig:
    """HubClient's configuration, checked when built (see ``HubClient`` for each field).

    ``url`` is ``base_url`` parsed; ``headers`` is ``default_headers`` checked.
    """

    username: str | None = None
    secret: str | None = attrs.field(default=None, repr=False)
    token: str | None = attrs.field(default=None, repr=False)
    two_factor: TwoFactorCallable | None = attrs.field(default=None, repr=False)
    base_url: str | URL = DEFAULT_BASE_URL
    max_concurrency: int = 16
    requests_per_minute: int | None = None
    rate_limiter: RateLimiter | None = None
    max_retries: int = 5
    max_wait: float = 300.0
    timeout: float = 30.0
    page_prefetch: int = 4
    session: aiohttp.ClientSession | None = attrs.field(default=None, repr=False)
    allow_http: bool = False
    clock: Clock | None = None
    default_headers: Mapping[str, str] | None = attrs.field(default=None, repr=False)
    user_agent: str | None = None
    url: URL = attrs.field(init=False, repr=False)
    headers: Mapping[str, str] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "url", check_base_url(self.base_url, allow_http=self.allow_http))
        _check_credentials(self.username, self.secret, self.token, self.two_factor)
        if isinstance(self.max_concurrency, bool) or not isinstance(self.max_concurrency, int):
            raise ValueError(f"max_concurrency must be an int >= 1, got {self.max_concurrency!r}")
        if self.max_concurrency < 1:
            raise ValueError(
                "max_concurrency must be >= 1 (requests in flight at once), got "
                f"{self.max_concurrency}"
            )
        if self.requests_per_minute is not None:
            check_count(
                self.requests_per_minute,
                "requests_per_minute",
                minimum=1,
                advice="; to share a budget, pass rate_limiter= instead",
            )
            if self.rate_limiter is not None:
                raise ValueError(
                    "pass requests_per_minute= or rate_limiter=, not both: a shared limiter "
                    "carries its own budget"
                )
        check_count(self.max_retries, "max_retries", minimum=0)
        check_positive(self.max_wait, "max_wait", allow_zero=True)
        check_positive(self.timeout, "timeout")
        check_prefetch(self.page_prefetch, param="page_prefetch")
        if self.session is not None and not isinstance(self.session, aiohttp.ClientSession):
            raise ValueError("session must be an aiohttp.ClientSession")
        object.__setattr__(self, "headers", check_headers(self.default_headers))
        object.__setattr__(self, "user_agent", check_user_agent(self.user_agent))
