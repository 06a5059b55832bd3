"""``HubClient``: configuration, lifecycle and the resource attributes."""

from __future__ import annotations

import ipaddress
import os
from types import TracebackType

import aiohttp
from yarl import URL

from . import __version__
from ._auth import Authenticator, TwoFactorCallable
from ._clock import Clock, SystemClock
from ._ratelimit import AdaptiveTokenBucket, RateLimiter, RateLimitInfo
from ._transport import ClientStats, Transport
from ._validate import check_positive, check_prefetch
from .resources.access_tokens import AccessTokens
from .resources.audit_logs import AuditLogs
from .resources.auth import Auth
from .resources.groups import Groups
from .resources.images import Images
from .resources.org_access_tokens import OrgAccessTokens
from .resources.orgs import Orgs
from .resources.repositories import Repositories

__all__ = ["DEFAULT_BASE_URL", "HubClient"]

DEFAULT_BASE_URL = "https://hub.docker.com"
DEFAULT_REQUESTS_PER_MINUTE = 180


def _is_loopback(host: str) -> bool:
    if host == "localhost":  # not *.localhost: those may be resolved through DNS
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: object, *, allow_http: bool) -> URL:
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


class HubClient:
    """An asyncio client for the Docker Hub API.

    Use it as an async context manager; every task may share one client::

        async with HubClient(username="me", secret="dckr_pat_...") as hub:
            summary = await hub.images.summary("me", "app")

    Args:
        username: Docker Hub user (or organization, for an org access token).
        secret: a password, a personal access token (``dckr_pat_…``) or an organization
            access token (``dckr_oat_…``).
        token: a ready bearer JWT, instead of ``username``/``secret``.
        two_factor: a callable (sync or async) returning the current TOTP code, for
            password logins of accounts with two-factor authentication.
        base_url: Hub's address (a mirror or a FakeHub for tests).
        max_concurrency: requests in flight at once, across every task using the client.
        requests_per_minute: the budget assumed until Hub's headers say otherwise (180).
        rate_limiter: a RateLimiter to share between clients or processes (one per
            credential); by default the client makes its own ``AdaptiveTokenBucket``.
        max_retries: retries after 5xx or connection faults (429s are retried separately).
        max_wait: the longest single rate-limit wait before ``RateLimitError`` is raised.
        timeout: seconds for one HTTP request (waiting for a slot or the limiter excluded).
        page_prefetch: pages fetched ahead by list iterators (default for ``prefetch=``).
        session: an ``aiohttp.ClientSession`` you own; the client will not close it.
        allow_http: allow plain ``http://`` to a non-loopback host (off: credentials would
            travel in clear text).
        clock: time source and sleeper (tests inject one; default: the system clock).
    """

    def __init__(
        self,
        username: str | None = None,
        secret: str | None = None,
        *,
        token: str | None = None,
        two_factor: TwoFactorCallable | None = None,
        base_url: str = DEFAULT_BASE_URL,
        max_concurrency: int = 16,
        requests_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
        max_retries: int = 5,
        max_wait: float = 300.0,
        timeout: float = 30.0,
        page_prefetch: int = 4,
        session: aiohttp.ClientSession | None = None,
        allow_http: bool = False,
        clock: Clock | None = None,
    ) -> None:
        url = _check_base_url(base_url, allow_http=allow_http)
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
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise ValueError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        if max_concurrency < 1:
            raise ValueError(
                f"max_concurrency must be >= 1 (requests in flight at once), got {max_concurrency}"
            )
        if requests_per_minute is not None:
            if isinstance(requests_per_minute, bool) or not isinstance(requests_per_minute, int):
                raise ValueError(
                    f"requests_per_minute must be a positive int, got {requests_per_minute!r}"
                )
            if requests_per_minute < 1:
                raise ValueError(
                    f"requests_per_minute must be >= 1, got {requests_per_minute}; to share a "
                    "budget, pass rate_limiter= instead"
                )
            if rate_limiter is not None:
                raise ValueError(
                    "pass requests_per_minute= or rate_limiter=, not both: a shared limiter "
                    "carries its own budget"
                )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
        check_positive(max_wait, "max_wait", allow_zero=True)
        check_positive(timeout, "timeout")
        check_prefetch(page_prefetch, param="page_prefetch")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ValueError("session must be an aiohttp.ClientSession")

        self._username = username
        self._base_url = url
        self._max_concurrency = max_concurrency
        self._page_prefetch = page_prefetch
        self._clock = clock or SystemClock()
        self._limiter: RateLimiter = rate_limiter or AdaptiveTokenBucket(
            requests_per_minute=requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE,
            clock=self._clock,
        )
        self._auth = Authenticator(
            username=username,
            secret=secret,
            token=token,
            two_factor=two_factor,
            clock=self._clock.time,
        )
        self._transport = Transport(
            base_url=url,
            session=session,
            max_concurrency=max_concurrency,
            limiter=self._limiter,
            authenticator=self._auth,
            timeout=float(timeout),
            max_retries=max_retries,
            max_wait=float(max_wait),
            clock=self._clock,
            user_agent=f"hubasync/{__version__}",
        )
        #: Image management (Advanced Image Management API): summary, list, tags, delete.
        self.images = Images(self)
        #: Personal access tokens of the authenticated user.
        self.access_tokens = AccessTokens(self)
        #: Audit log events and actions of an account.
        self.audit_logs = AuditLogs(self)
        #: Organization settings.
        self.orgs = Orgs(self)
        #: Repositories and their tags.
        self.repositories = Repositories(self)
        #: The raw login endpoints (login, 2FA login, token exchange).
        self.auth = Auth(self)
        #: Organization access tokens.
        self.org_access_tokens = OrgAccessTokens(self)
        #: Organization groups (teams) and their members.
        self.groups = Groups(self)

    @classmethod
    def from_env(cls, **kwargs: object) -> HubClient:
        """A client from ``DOCKERHUB_USERNAME``/``DOCKERHUB_TOKEN`` (+ ``HUBASYNC_BASE_URL``).

        Missing variables mean an anonymous client. Keyword arguments override.
        """
        env: dict[str, object] = {}
        username = os.environ.get("DOCKERHUB_USERNAME") or None
        secret = os.environ.get("DOCKERHUB_TOKEN") or None
        if username and secret:
            env["username"], env["secret"] = username, secret
        elif secret and not username:
            raise ValueError(
                "DOCKERHUB_TOKEN is set but DOCKERHUB_USERNAME is not; set both (or neither)"
            )
        base_url = os.environ.get("HUBASYNC_BASE_URL")
        if base_url:
            env["base_url"] = base_url
        env.update(kwargs)
        return cls(**env)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        who = self._username or ("<token>" if self._auth.is_authenticated else "anonymous")
        return f"<HubClient {who} @ {self._base_url}>"

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it."""
        await self._transport.aclose()

    async def login(self) -> None:
        """Log in now (otherwise the first request that needs a token does it)."""
        await self._auth.login(self._transport.send_login)

    @property
    def base_url(self) -> str:
        """The Hub address every request goes to."""
        return str(self._base_url)

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The rate-limit headers of the latest response that carried them, or ``None``."""
        return self._transport.last_info

    @property
    def stats(self) -> ClientStats:
        """Counters: requests, retries, rate_limited, waited_s, logins."""
        return self._transport.stats

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter this client's requests reserve tokens from."""
        return self._limiter

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at once across every task using this client."""
        return self._max_concurrency

    @property
    def page_prefetch(self) -> int:
        """The default ``prefetch`` of list iterators."""
        return self._page_prefetch

    @property
    def transport(self) -> Transport:
        """Internal: the transport resources send through."""
        return self._transport
