"""FakeHub: an in-process Docker Hub served by a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from ._api import Api
from ._areas import AREAS
from ._clock import to_epoch
from ._faults import Fault, FaultEngine, FaultPlan
from ._generate import GeneratedData, populate
from ._generate_orgs import plant_access
from ._http import RequestRecord
from ._limits import RETRY_HINTS, FixedWindowLimiter, RetryHint
from ._middleware import middlewares
from ._org_seeding import OrgSeeding
from ._org_state import OrgAdmin
from ._seeding import CoreSeeding
from ._state import HubState

__all__ = ["FakeHub"]


class FakeHub(CoreSeeding, OrgSeeding):
    """An in-process Docker Hub: a real aiohttp server on 127.0.0.1 with in-memory state.

    Use it as ``async with FakeHub(...) as server:`` (or ``await server.start()`` /
    ``await server.close()``) and point a client at ``server.url``. Seed it with
    :meth:`add_user`, :meth:`add_namespace`, :meth:`add_repository`, :meth:`add_image`,
    organizations with :meth:`add_org_member`, :meth:`add_group`, :meth:`grant_group`,
    :meth:`add_invite`, :meth:`add_org_token` and :meth:`enable_scim`, or build a large data
    set with :meth:`generate`.

    Options (all keyword-only):

    - ``public_url``: the origin used in pagination links (``next``/``previous``), like Hub
      and Prism send them; default ``"https://hub.docker.com"``, never the loopback URL.
    - ``require_auth``: private endpoints need a bearer token (default True); when False an
      anonymous caller may do anything.
    - ``token_lifetime_s``: lifetime of issued JWTs (default 600).
    - ``rate_limit`` / ``window_s`` / ``retry_hint``: ``rate_limit`` requests per fixed window
      of ``window_s`` seconds per caller (a user's bearer, or the client IP when anonymous);
      over it, a 429 carrying the chosen retry hint (see :data:`RetryHint`). Off by default.
    - ``clock`` (unix seconds, e.g. a :class:`ManualClock`) and ``clock_skew_s``: the server
      clock, used for ``Date``, token expiry, windows and activity.
    - ``faults``: a :class:`FaultPlan`; more can be added with :meth:`inject`.
    - ``seed``: seeds ids, secrets and tokens so runs are reproducible.
    - ``log_requests``: keep :attr:`requests` (turn off for long benchmarks).
    - ``image_api``: serve the seed's image API (``images-summary``, ``images``,
      ``images/{digest}/tags``, ``delete-images``). Off by default, like Hub since
      2023-12-11: those four answer a 404 HTML page. Also settable as an attribute.

    By default FakeHub behaves like today's Hub: tags carry tag-level activity
    (``tag_status``, ``tag_last_pushed``, ``tag_last_pulled``), ``digest`` and one
    ``images[]`` entry per platform; ``DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/``
    deletes a tag (an immutable one, see :meth:`set_immutable_tags`, is refused with a 403
    that says so); an unknown namespace lists as a 200 empty page.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str = "https://hub.docker.com",
        require_auth: bool = True,
        token_lifetime_s: float = 600.0,
        rate_limit: int | None = None,
        window_s: float = 60.0,
        retry_hint: RetryHint = "x-retry-after-epoch",
        clock: Callable[[], float] | None = None,
        clock_skew_s: float = 0.0,
        faults: FaultPlan | None = None,
        seed: int = 0,
        log_requests: bool = True,
        image_api: bool = False,
    ) -> None:
        if not public_url.startswith(("http://", "https://")):
            raise ValueError(f"public_url must be an absolute http(s) URL, got {public_url!r}")
        if not token_lifetime_s > 0:
            raise ValueError(f"token_lifetime_s must be positive, got {token_lifetime_s!r}")
        if retry_hint not in RETRY_HINTS:
            raise ValueError(f"retry_hint must be one of {RETRY_HINTS}, got {retry_hint!r}")
        if faults is not None and not isinstance(faults, FaultPlan):
            raise ValueError(f"faults must be a FaultPlan, got {faults!r}")
        if not math.isfinite(clock_skew_s):
            raise ValueError(f"clock_skew_s must be a finite number, got {clock_skew_s!r}")
        self._host = host
        self._requested_port = port
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._rng = random.Random(seed)
        self._state = HubState(self._rng, self.now)
        self._admin = OrgAdmin(self._state)
        self._api = Api(
            self._state,
            clock=self._clock,
            clock_skew_s=float(clock_skew_s),
            public_url=public_url,
            require_auth=require_auth,
            token_lifetime_s=float(token_lifetime_s),
            limiter=FixedWindowLimiter(rate_limit, window_s) if rate_limit is not None else None,
            retry_hint=retry_hint,
            faults=FaultEngine(faults),
            key=self._rng.randbytes(32),
            log_requests=log_requests,
            image_api=bool(image_api),
        )
        self._window_s = float(window_s)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._port: int | None = None
        self._generated: GeneratedData | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeHub:
        """Start serving (on the running event loop); returns the server."""
        if self._runner is not None:
            raise RuntimeError("FakeHub is already started")
        app = web.Application(middlewares=middlewares(self._api))
        for area in AREAS:
            area(self._api, self._admin).routes(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            # The listener is ours (aiohttp's low-level `runner.server` protocol factory), not a
            # TCPSite's, so that close() can stop accepting before it closes: see there.
            protocols = runner.server
            if protocols is None:  # setup() sets it; aiohttp types it Optional
                raise RuntimeError("aiohttp's AppRunner.setup() made no server")
            listener = await asyncio.get_running_loop().create_server(
                protocols, self._host, self._requested_port
            )
        except BaseException:
            await runner.cleanup()
            raise
        self._runner, self._listener = runner, listener
        self._port = int(listener.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        """Stop serving and close every connection. Safe to call twice."""
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            # asyncio's selector loop (CPython 3.11) attaches a socket accepted just before the
            # listener closed to the closed server (an AssertionError), and that socket is
            # never closed. So: accept nothing more (a queued accept callback is cancelled with
            # its reader), let the connections already accepted reach aiohttp (transport, then
            # connection_made), and only then close the listener and the connections.
            loop = asyncio.get_running_loop()
            if isinstance(loop, asyncio.SelectorEventLoop):
                for sock in listener.sockets:
                    loop.remove_reader(sock.fileno())
                for _ in range(2):
                    await asyncio.sleep(0)
            listener.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeHub:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); the server must be started."""
        if self._port is None:
            raise RuntimeError("FakeHub is not started: use `async with FakeHub()` or start()")
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after start)."""
        if self._port is None:
            raise RuntimeError("FakeHub is not started: use `async with FakeHub()` or start()")
        return self._port

    @property
    def generated(self) -> GeneratedData:
        """What :meth:`generate` created (names, and the user who can read them all).

        Raises:
            RuntimeError: this FakeHub was not made by :meth:`generate`.
        """
        if self._generated is None:
            raise RuntimeError(
                "this FakeHub has no generated data: build it with FakeHub.generate(...)"
            )
        return self._generated

    @property
    def public_url(self) -> str:
        """The origin used in pagination links."""
        return self._api.public_url

    # --------------------------------------------------------------- clock

    def now(self) -> float:
        """The server clock (unix seconds): ``clock() + clock_skew_s``."""
        return self._clock() + self._api.clock_skew_s

    @property
    def clock_skew_s(self) -> float:
        """Seconds added to ``clock()`` to get the server clock (settable)."""
        return self._api.clock_skew_s

    @clock_skew_s.setter
    def clock_skew_s(self, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"clock_skew_s must be a finite number, got {value!r}")
        self._api.clock_skew_s = float(value)

    # ------------------------------------------------------- configuration

    @property
    def require_auth(self) -> bool:
        """Whether private endpoints need a bearer token (settable)."""
        return self._api.require_auth

    @require_auth.setter
    def require_auth(self, value: bool) -> None:
        self._api.require_auth = bool(value)

    @property
    def image_api(self) -> bool:
        """Whether the seed's (retired) image API is served (settable; default False)."""
        return self._api.image_api

    @image_api.setter
    def image_api(self, value: bool) -> None:
        self._api.image_api = bool(value)

    @property
    def token_lifetime_s(self) -> float:
        """Lifetime of JWTs issued from now on (settable)."""
        return self._api.token_lifetime_s

    @token_lifetime_s.setter
    def token_lifetime_s(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"token_lifetime_s must be positive, got {value!r}")
        self._api.token_lifetime_s = float(value)

    @property
    def rate_limit(self) -> int | None:
        """Requests per window per caller, or None when rate limiting is off."""
        return self._api.limiter.limit if self._api.limiter is not None else None

    @property
    def window_s(self) -> float:
        """The rate-limit window length in seconds."""
        return self._window_s

    @property
    def retry_hint(self) -> str:
        """The form of the retry hint a 429 carries."""
        return self._api.retry_hint

    def configure_rate_limit(
        self,
        rate_limit: int | None,
        *,
        window_s: float | None = None,
        retry_hint: RetryHint | None = None,
        keep_counts: bool = False,
    ) -> None:
        """Turn rate limiting on (``rate_limit`` per ``window_s``) or off (None).

        Windows restart (every caller gets a full budget), unless ``keep_counts``: then Hub
        changes its limit or window length mid-run, as it would in production: each
        caller's count of the window running now carries into the new window that contains
        now (the change refills nothing; a window shrinking from 20 s to 10 s in its first
        half ends 10 s earlier than the answers so far said).

        Raises:
            ValueError: ``keep_counts`` while rate limiting is off, or with ``rate_limit``
                None (there are no counts to keep).
        """
        if retry_hint is not None:
            if retry_hint not in RETRY_HINTS:
                raise ValueError(f"retry_hint must be one of {RETRY_HINTS}, got {retry_hint!r}")
            self._api.retry_hint = retry_hint
        current = self._api.limiter
        if keep_counts and (current is None or rate_limit is None):
            raise ValueError(
                "keep_counts=True needs rate limiting on before and after the change; "
                "pass keep_counts=False to turn it on or off"
            )
        if window_s is not None:
            if not window_s > 0:
                raise ValueError(f"window_s must be a positive number of seconds, got {window_s!r}")
            self._window_s = float(window_s)
        if keep_counts:
            assert current is not None and rate_limit is not None
            self._api.limiter = current.resized(rate_limit, self._window_s, self.now())
            return
        self._api.limiter = (
            FixedWindowLimiter(rate_limit, self._window_s) if rate_limit is not None else None
        )

    # -------------------------------------------------------------- faults

    def inject(self, *faults: Fault) -> None:
        """Add fault rules (evaluated after those already present)."""
        for fault in faults:
            self._api.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._api.faults.clear()

    def pending_faults(self) -> list[tuple[Fault, int | None]]:
        """The remaining fault rules, each with how often it may still fire (None = always)."""
        return self._api.faults.pending()

    # ------------------------------------------------------ request log

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received since the last :meth:`reset_log`, in arrival order."""
        return self._api.requests

    @property
    def over_limit(self) -> int:
        """How many requests arrived when their rate-limit window was already used up."""
        return self._api.over_limit

    @property
    def logins(self) -> int:
        """How many calls reached the login endpoints (login, 2fa-login, auth/token)."""
        return self._api.logins

    def reset_log(self) -> None:
        """Clear :attr:`requests`, :attr:`over_limit` and :attr:`logins`."""
        self._api.requests.clear()
        self._api.over_limit = 0
        self._api.logins = 0

    clear = reset_log

    # ----------------------------------------------------------- generator

    @classmethod
    def generate(
        cls,
        namespaces: int = 200,
        repos_per_namespace: int = 10,
        images_per_repo: int = 50,
        seed: int = 1,
        *,
        username: str = "bench",
        password: str = "bench-password",
        now: datetime | float | None = None,
        audit: bool = True,
        legacy_share: float = 0.0,
        version_tags: float = 0.3,
        org_admin: bool = True,
        **options: Any,
    ) -> FakeHub:
        """A FakeHub (not started) filled with generated, deterministic data.

        ``username``/``password`` is a user who owns every generated namespace (it also gets
        a PAT: ``server.generated.pat``). Times are relative to ``now`` (default: the server
        clock); the same ``seed`` and ``now`` give the same data. ``options`` go to
        ``FakeHub(...)``; ``audit=False`` skips recording the push events. ``legacy_share``
        (0 to 1) of the version tags are served like pre-2020 tags: no ``tag_*`` fields,
        no ``digest``. ``version_tags`` (0 to 1) is the share of images that also get a
        version tag (``1.N.0``) besides the moving ``latest``: 1.0 gives every repository
        ``images_per_repo + 1`` tags.

        With ``org_admin`` (the default) and at least two namespaces, the first two also get
        members, groups, organization tokens, invites and SCIM, with planted access-audit
        findings described by ``server.generated.access`` (:class:`PlantedAccess`).
        """
        if not 0.0 <= legacy_share <= 1.0:
            raise ValueError(f"legacy_share must be between 0 and 1, got {legacy_share!r}")
        if not 0.0 <= version_tags <= 1.0:
            raise ValueError(f"version_tags must be between 0 and 1, got {version_tags!r}")
        options.setdefault("seed", seed)
        hub = cls(**options)
        when = to_epoch(now)
        hub._generated = populate(
            hub._state,
            namespaces=namespaces,
            repos_per_namespace=repos_per_namespace,
            images_per_repo=images_per_repo,
            seed=seed,
            now=hub.now() if when is None else when,
            username=username,
            password=password,
            audit=audit,
            legacy_share=legacy_share,
            version_tags=version_tags,
        )
        if org_admin:
            planted = plant_access(
                hub._admin,
                hub.generated.namespaces,
                username=username,
                now=hub.now() if when is None else when,
            )
            hub._generated = dataclasses.replace(hub.generated, access=planted)
        return hub

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"<FakeHub {where}>"
