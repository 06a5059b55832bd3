"""``HubClient``: configuration, lifecycle and the resource attributes."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Unpack

import aiohttp
import attrs

from ._auth import Authenticator, TwoFactorCallable
from ._clock import Clock, SystemClock
from ._config import DEFAULT_BASE_URL, DEFAULT_REQUESTS_PER_MINUTE, ClientConfig, HubClientOptions
from ._ratelimit import AdaptiveTokenBucket, RateLimiter, RateLimitInfo
from ._transport import ClientStats, Transport
from ._version import __version__
from .resources._base import Requester
from .resources.access_tokens import AccessTokens
from .resources.audit_logs import AuditLogs
from .resources.auth import Auth
from .resources.groups import Groups
from .resources.images import Images
from .resources.invites import Invites
from .resources.org_access_tokens import OrgAccessTokens
from .resources.orgs import Orgs
from .resources.repositories import Repositories
from .resources.scim import Scim

__all__ = ["DEFAULT_BASE_URL", "HubClient", "HubClientOptions"]


class HubClient:
    """An asyncio client for the Docker Hub API.

    Use it as an async context manager; every task may share one client::

        async with HubClient(username="me", secret="dckr_pat_...") as hub:
            summary = await hub.images.summary("me", "app")

    Every argument is keyword-only. ``HubClient("me", "dckr_pat_...")`` (the pair
    positionally, the older form) still works but warns with a ``DeprecationWarning``: pass
    ``username=`` and ``secret=``, which cannot be swapped by mistake.

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
        default_headers: headers sent with every request (e.g. a tracing header); they
            cannot set ``Authorization``, ``User-Agent``, ``Host`` or the body's headers.
        user_agent: appended to hubasync's own user agent (``hubasync/<version> <yours>``),
            so Hub's logs show which tool sent the request.
    """

    def __init__(
        self,
        _username: str | None = None,
        _secret: str | None = None,
        /,
        *,
        username: str | None = None,
        secret: str | None = None,
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
        default_headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
    ) -> None:
        if _username is not None or _secret is not None:
            username, secret = _positional_credentials(_username, _secret, username, secret)
        config = ClientConfig(
            username=username,
            secret=secret,
            token=token,
            two_factor=two_factor,
            base_url=base_url,
            max_concurrency=max_concurrency,
            requests_per_minute=requests_per_minute,
            rate_limiter=rate_limiter,
            max_retries=max_retries,
            max_wait=max_wait,
            timeout=timeout,
            page_prefetch=page_prefetch,
            session=session,
            allow_http=allow_http,
            clock=clock,
            default_headers=default_headers,
            user_agent=user_agent,
        )
        self._config = config
        self._clock: Clock = config.clock or SystemClock()
        self._limiter: RateLimiter = config.rate_limiter or AdaptiveTokenBucket(
            requests_per_minute=config.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE,
            clock=self._clock,
        )
        self._auth = Authenticator(
            username=config.username,
            secret=config.secret,
            token=config.token,
            two_factor=config.two_factor,
            clock=self._clock.time,
        )
        agent = f"hubasync/{__version__}"
        if config.user_agent:
            agent = f"{agent} {config.user_agent}"
        self._transport = Transport(
            base_url=config.url,
            session=config.session,
            max_concurrency=config.max_concurrency,
            limiter=self._limiter,
            authenticator=self._auth,
            timeout=float(config.timeout),
            max_retries=config.max_retries,
            max_wait=float(config.max_wait),
            clock=self._clock,
            user_agent=agent,
            headers=config.headers,
        )
        #: The client that owns the transport: ``self``, or the one a view was made from.
        self._root = self
        self._requester = Requester(
            request=self._transport.request,
            page_prefetch=config.page_prefetch,
            max_concurrency=config.max_concurrency,
            label=repr(self),
        )

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_wait: float | None = None,
    ) -> HubClient:
        """A view of this client whose requests use other settings (``None``: keep this one's).

        The view shares everything else with this client: the HTTP session and its
        connections, the rate limiter, the login and its token, ``stats`` and
        ``rate_limit``. It is cheap to make, so make one per call site::

            patient = hub.with_options(max_wait=900.0, max_retries=8)
            await patient.repositories.get("me", "app")

        Closing the view (``aclose()`` or ``async with``) does not close this client; closing
        this client ends the view too. Bad values raise ``ValueError`` as ``HubClient`` would.
        """
        old = self._config
        config = attrs.evolve(  # checked as HubClient's arguments
            old,
            timeout=old.timeout if timeout is None else timeout,
            max_retries=old.max_retries if max_retries is None else max_retries,
            max_wait=old.max_wait if max_wait is None else max_wait,
        )
        root = self._root

        def differing(name: str) -> Any:
            value = getattr(config, name)
            return None if value == getattr(root._config, name) else value

        view = object.__new__(type(self))
        view._config = config
        view._clock = self._clock
        view._limiter = self._limiter
        view._auth = self._auth
        view._transport = self._transport
        view._root = root
        view._requester = Requester(
            request=self._transport.request,
            page_prefetch=config.page_prefetch,
            max_concurrency=config.max_concurrency,
            label=repr(view),
            timeout=differing("timeout"),
            max_retries=differing("max_retries"),
            max_wait=differing("max_wait"),
        )
        return view

    # -- resources: built on first use, each with the narrow requester only ----------------
    @functools.cached_property
    def images(self) -> Images:
        """Image management (Advanced Image Management API): summary, list, tags, delete."""
        return Images(self._requester)

    @functools.cached_property
    def access_tokens(self) -> AccessTokens:
        """Personal access tokens of the authenticated user."""
        return AccessTokens(self._requester)

    @functools.cached_property
    def audit_logs(self) -> AuditLogs:
        """Audit log events and actions of an account."""
        return AuditLogs(self._requester)

    @functools.cached_property
    def orgs(self) -> Orgs:
        """Organization settings."""
        return Orgs(self._requester)

    @functools.cached_property
    def repositories(self) -> Repositories:
        """Repositories and their tags."""
        return Repositories(self._requester)

    @functools.cached_property
    def auth(self) -> Auth:
        """The raw login endpoints (login, 2FA login, token exchange)."""
        return Auth(
            self._requester,
            send_login=self._transport.send_login_raw,
            login_failed=self._transport.login_failed,
        )

    @functools.cached_property
    def org_access_tokens(self) -> OrgAccessTokens:
        """Organization access tokens."""
        return OrgAccessTokens(self._requester)

    @functools.cached_property
    def groups(self) -> Groups:
        """Organization groups (teams) and their members."""
        return Groups(self._requester)

    @functools.cached_property
    def invites(self) -> Invites:
        """Invitations to organizations: cancel, resend, bulk create."""
        return Invites(self._requester)

    @functools.cached_property
    def scim(self) -> Scim:
        """SCIM 2.0 provisioning; needs the SCIM token: ``hub.scim.with_token(token)``."""
        return Scim(self._requester)

    @classmethod
    def from_env(cls, **kwargs: Unpack[HubClientOptions]) -> HubClient:
        """A client from ``DOCKERHUB_USERNAME``/``DOCKERHUB_TOKEN`` (+ ``HUBASYNC_BASE_URL``).

        Missing variables mean an anonymous client. Keyword arguments (any of
        ``HubClient``'s, checked by type checkers) override the environment.
        """
        env: HubClientOptions = {}
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
        return cls(**env)

    def __repr__(self) -> str:
        config = self._config
        who = config.username or ("<token>" if config.token is not None else "anonymous")
        view = "" if self._root is self else " (a with_options view)"
        return f"<HubClient {who} @ {config.url}{view}>"

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
        """Close the HTTP session if the client created it (a ``with_options`` view: nothing)."""
        if self._root is self:
            await self._transport.aclose()

    async def login(self) -> None:
        """Log in now (otherwise the first request that needs a token does it)."""
        await self._auth.login(self._transport.send_login)

    @property
    def base_url(self) -> str:
        """The Hub address every request goes to."""
        return str(self._config.url)

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
        return self._config.max_concurrency

    @property
    def page_prefetch(self) -> int:
        """The default ``prefetch`` of list iterators."""
        return self._config.page_prefetch


def _positional_credentials(
    pos_username: str | None,
    pos_secret: str | None,
    username: str | None,
    secret: str | None,
) -> tuple[str | None, str | None]:
    """The deprecated ``HubClient(username, secret)`` form, mapped onto the keywords."""
    if username is not None or (pos_secret is not None and secret is not None):
        raise ValueError(
            "credentials given both positionally and as keywords; pass only "
            "HubClient(username=..., secret=...)"
        )
    warnings.warn(
        "HubClient(username, secret) with positional arguments is deprecated; pass "
        "HubClient(username=..., secret=...) (keywords cannot be swapped by mistake)",
        DeprecationWarning,
        stacklevel=3,
    )
    return pos_username, pos_secret if pos_secret is not None else secret
