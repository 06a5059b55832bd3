"""The one place that sends: one logical request, with its retries.

A plain loop over two pieces (gidgethub's ``sansio`` split): ``send`` does the I/O
(``send(method, url, headers, json, timeout_s) -> (status, headers, body)``, aiohttp by default,
a test's own function otherwise), and the pure :func:`~hubasync._sansio.interpret` says what
each answer means (success, retry after a delay, refresh the token, redirect, or fail with a
typed error). Around ``send``: the concurrency slot, then the limiter's token; both are taken
before ``send`` so that waiting for them never eats the request timeout, and the slot is given
back before any backoff sleep.

The loop is written out rather than run by tenacity's ``AsyncRetrying``: tenacity drives a
retry loop from an exception or from a single result predicate, while here every answer already
comes with its verdict and its wait from ``interpret``, and wrapping that would only add its
per-call cost (an ``AsyncRetrying`` and a ``Future`` per attempt) to every request. The backoff
itself is tenacity's: ``_retry.backoff_delay`` takes its exponential schedule from
``tenacity.wait_exponential`` and adds full jitter; Hub's hints for 429 and 503 win over it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._auth import Authenticator, LoginCall, login_error
from ._clock import Clock, SkewEstimator
from ._ratelimit import AdaptiveTokenBucket, BudgetUpdate, RateLimiter, RateLimitInfo
from ._responses import scrub_error
from ._retry import FailureKind, RetryState
from ._sansio import (
    Fail,
    Params,
    Policy,
    Redirect,
    Refresh,
    Request,
    Response,
    Retry,
    api_url,
    encode_query,
    interpret,
    interpret_fault,
    succeeded,
)
from .errors import HubError, RateLimitError

__all__ = ["ClientStats", "Params", "Request", "Response", "Send", "Transport", "encode_query"]

logger = logging.getLogger("hubasync.transport")

#: What a ``send`` raises when no usable answer came (anything else propagates as it is).
_SEND_FAULTS = (aiohttp.ClientError, OSError)  # TimeoutError is an OSError
#: ...of which these mean the connection never opened: Hub cannot have seen the request.
_NEVER_SENT = (aiohttp.ClientConnectorError, ConnectionRefusedError)


#: The transport's I/O: one HTTP exchange, no retries, no redirects followed, called as
#: ``send(method, url, headers, json, timeout_s)``. ``headers``: those of this request
#: (``Authorization``) on top of the client's fixed ones, which ``send`` adds; ``json``: the
#: JSON document to send as the body (``None``: no body); ``timeout_s``: the request's
#: override of the client's timeout (``None``: the client's). Returns the status, the headers
#: and the whole body; raises ``aiohttp.ClientError`` or ``OSError`` (``TimeoutError``,
#: ``ConnectionError``) when no usable answer came (``aiohttp.ClientConnectorError`` or
#: ``ConnectionRefusedError``: the connection never opened, so Hub cannot have seen it).
Send = Callable[
    [str, str, Mapping[str, str] | None, Any, float | None],
    Awaitable[tuple[int, Mapping[str, str], bytes]],
]


@attrs.define
class ClientStats:
    """Counters of one client (``hub.stats``).

    Attributes:
        requests: HTTP requests sent (every attempt, logins included).
        retries: attempts that were repeated after a fault (429s included).
        rate_limited: 429 answers received.
        waited_s: seconds spent waiting for the rate limiter.
        logins: logins and token refreshes performed (a two-factor login counts once).
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    logins: int = 0


class Transport:
    """Sends requests for one client. Created by HubClient; not public."""

    def __init__(
        self,
        *,
        base_url: URL,
        session: aiohttp.ClientSession | None,
        max_concurrency: int,
        limiter: RateLimiter,
        authenticator: Authenticator,
        timeout: float,
        max_retries: int,
        max_wait: float,
        clock: Clock,
        user_agent: str,
        headers: Mapping[str, str] | None = None,
        send: Send | None = None,
    ) -> None:
        self.base_url = base_url
        self._base = str(base_url).rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._max_concurrency = max_concurrency
        self._slots: asyncio.Semaphore | None = None  # created inside the running loop
        self.limiter = limiter
        # The in-process limiter's synchronous fast path (exactly that class: a subclass may
        # override acquire/release, which must then be called).
        self._bucket = limiter if type(limiter) is AdaptiveTokenBucket else None
        self.auth = authenticator
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_wait = max_wait
        self.policy = Policy(
            base_url=base_url,
            max_retries=max_retries,
            max_wait=max_wait,
            can_login=authenticator.has_credentials,
        )
        self._clock = clock
        # The caller's default headers (checked: no Authorization or User-Agent among them).
        self._headers = {"Accept": "application/json", **(headers or {}), "User-Agent": user_agent}
        # A caller's session gets our timeout per request; ours has it as its default.
        self._per_request: dict[str, Any] = {} if session is None else {"timeout": self._timeout}
        #: The I/O function every attempt goes through (tests put their own here).
        self.send: Send = send or self._aiohttp_send
        self.skew = SkewEstimator()
        self.stats = ClientStats()
        self.last_info: RateLimitInfo | None = None
        self._last_reset_at: float | None = None
        self._closed = False
        # Tasks waiting in the limiter, so that closing can wake them (see aclose).
        self._waiting: set[asyncio.Task[Any]] = set()
        self._woken_by_close: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    def _ensure_session(self) -> aiohttp.ClientSession:
        self._check_open()
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_concurrency + 2, limit_per_host=0)
            # Our own session carries the fixed headers and the timeout, so that a request
            # passes only what varies (aiohttp merges per-request options on every call).
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                headers=self._headers,
                timeout=self._timeout,
            )
        return self._session

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this HubClient is closed; create a new one")

    async def aclose(self) -> None:
        """Close the session if we created it (a caller's session is left open).

        Requests still waiting for the rate limiter (a 429 pause may last minutes) end at
        once with "this HubClient is closed", instead of when their turn comes.
        """
        self._closed = True
        for task in self._waiting:
            if not task.done():
                self._woken_by_close.add(task)
                task.cancel()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    def url_for(self, path: str, params: Params | None = None) -> str:
        """``base_url`` + an API path (+ query). Never any other origin."""
        return api_url(self._base, path, params)

    # -- the I/O ---------------------------------------------------------------------------
    async def _aiohttp_send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        json: Any,
        timeout_s: float | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """The default ``Send``: one exchange through the client's aiohttp session."""
        session = self._session
        if session is None or self._closed:
            session = self._ensure_session()
        if not self._owns_session:
            headers = {**self._headers, **(headers or {})}
        options = self._per_request
        if timeout_s is not None:
            options = {"timeout": aiohttp.ClientTimeout(total=timeout_s)}
        async with session.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            json=json,
            allow_redirects=False,
            **options,
        ) as resp:
            return resp.status, resp.headers, await resp.read()

    # -- sending ---------------------------------------------------------------------------
    async def request(self, req: Request, *, scrub: bool = True) -> Response:
        """Send ``req`` with retries; return the successful Response or raise a HubError.

        No credential leaves in an error (Hub or a proxy may echo the request back), unless
        ``scrub`` is false: a login needs Hub's 4xx body as it is (it scrubs it itself).

        One plain loop: slot → limiter → :attr:`send` → the limiter learns the headers →
        :func:`interpret` says what the answer means → return, wait and retry, refresh the
        token, follow a redirect, or raise.
        """
        try:
            state = RetryState()
            url = api_url(self._base, req.path, req.params)
            while True:
                token = req.bearer
                if token is None and req.auth:
                    ready, token = self.auth.token_nowait()
                    if not ready:
                        token = await self.auth.token(self.send_login)
                if self._closed:  # a closed client fails here, before it waits for anything
                    self._check_open()
                headers = {"Authorization": f"Bearer {token}"} if token else None
                if req.content_type:
                    headers = {**(headers or {}), "Content-Type": req.content_type}
                if self._slots is None:
                    self._slots = asyncio.Semaphore(self._max_concurrency)
                async with self._slots:
                    if self._bucket is None or not self._bucket.try_acquire():
                        waited = await self._acquire(req)
                        self.stats.waited_s += waited  # not `+= await`: waiters would race
                    outcome = await self._exchange(req, state, url, headers, token is not None)
                if type(outcome) is Response:
                    return outcome
                if isinstance(outcome, Retry | Fail) and outcome.pause_until is not None:
                    await self.limiter.pause_until(outcome.pause_until)
                if isinstance(outcome, Retry):
                    self._log_retry(req, outcome.reason, outcome.delay)
                    if outcome.delay > 0:
                        await self._clock.sleep(outcome.delay)
                elif isinstance(outcome, Refresh):
                    assert token is not None  # Refresh answers a refused token only
                    if not await self.auth.invalidate(token, self.send_login):
                        raise outcome.error
                    self._log_retry(req, "401, token refreshed", 0.0)
                elif isinstance(outcome, Redirect):
                    req, state = outcome.target, RetryState()
                    url = self.url_for(req.path, req.params)
                    logger.info("%s: following a redirect to %s", req.operation, req.path)
                else:
                    assert isinstance(outcome, Fail)
                    raise outcome.error from outcome.cause
        except HubError as exc:
            if scrub:
                scrub_error(exc, self._secrets_with((req.bearer,)))
            raise

    async def _exchange(
        self,
        req: Request,
        state: RetryState,
        url: str,
        headers: dict[str, str] | None,
        authenticated: bool,
    ) -> Response | Retry | Refresh | Redirect | Fail:
        """One :attr:`send` holding a limiter reservation (released whatever happens), and
        what its answer means."""
        update: BudgetUpdate | None = None
        sent_at = self._clock.time()
        try:
            if self._closed:  # ...and here, if it was closed while this request waited
                self._check_open()
            self.stats.requests += 1
            try:
                status, resp_headers, body = await self.send(
                    req.method, url, headers, req.json, req.timeout
                )
            except _SEND_FAULTS as exc:
                fault = (
                    FailureKind.CONNECT if isinstance(exc, _NEVER_SENT) else FailureKind.TRANSPORT
                )
                return interpret_fault(req, state, fault, exc, policy=self.policy)
            received_at = self._clock.time()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s %s -> %d in %.3f s",
                    req.operation,
                    req.method,
                    req.path,
                    status,
                    received_at - sent_at,
                )
            info = RateLimitInfo.from_headers(resp_headers, received_at)
            update = self._learn(info, sent_at, received_at)
        finally:
            if self._bucket is not None:
                self._bucket.release_nowait(update)
            else:
                await self.limiter.release(update)
        if 200 <= status < 300:
            return succeeded(req, state, status, resp_headers, body)  # interpret's 2xx branch
        if status == 429:
            self.stats.rate_limited += 1
        return interpret(
            req,
            state,
            status,
            resp_headers,
            body,
            policy=self.policy,
            info=info,
            authenticated=authenticated,
            now=received_at,
            to_local=self.skew.to_local,
            last_reset_at=self._last_reset_at,
            secrets=lambda: self._secrets_with(_sent_credentials(req)),
        )

    def _log_retry(self, req: Request, reason: str, delay: float) -> None:
        self.stats.retries += 1
        logger.info("%s: %s; retrying in %.2f s", req.operation, reason, delay)

    async def _acquire(self, req: Request) -> float:
        """A reservation from the limiter; no single wait longer than ``max_wait``."""
        task = asyncio.current_task()
        waiting = self._waiting
        waiting.add(task)  # type: ignore[arg-type]
        try:
            max_wait = self._max_wait if req.max_wait is None else req.max_wait
            return await self.limiter.acquire(max_wait=max_wait)
        except RateLimitError as exc:
            raise RateLimitError(
                f"{req.operation}: {exc.message}",
                retry_at=exc.retry_at,
                operation=req.operation,
            ) from None
        except asyncio.CancelledError:
            if task is None or task not in self._woken_by_close:
                raise
            self._woken_by_close.discard(task)
            task.uncancel()  # the cancellation was ours (aclose), not the caller's
            raise RuntimeError(
                f"{req.operation}: this HubClient is closed (it was closed while the request "
                "waited for the rate limiter); create a new one"
            ) from None
        finally:
            waiting.discard(task)

    def _learn(self, info: RateLimitInfo, sent_at: float, received_at: float) -> BudgetUpdate:
        if info.date is not None:
            self.skew.observe(info.date, sent_at, received_at)
        update = info.budget_update(self.skew.to_local)
        if update.reset_at is not None:
            self._last_reset_at = update.reset_at
        if info.limit is not None or info.remaining is not None or info.reset is not None:
            self.last_info = info
        return update

    # -- logins (the authenticator's hooks) ------------------------------------------------
    async def send_login(self, login: LoginCall) -> tuple[int, Any]:
        """The authenticator's hook: POST a login body without a bearer token."""
        return await self.send_login_raw(login.operation, login.path, login.body)

    async def send_login_raw(
        self,
        operation: str,
        path: str,
        body: Mapping[str, str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the request's setting, as in Request)
        max_retries: int | None = None,
        max_wait: float | None = None,
    ) -> tuple[int, Any]:
        """POST to a login endpoint; 4xx answers come back as (status, body), not raised.
        ``timeout``/``max_retries``/``max_wait``: a ``with_options`` view's (None: ours)."""
        if operation != "auth.2fa_login":  # the second step of a login, not another login
            self.stats.logins += 1
        req = Request(
            operation=operation,
            method="POST",
            path=path,
            json=dict(body),
            idempotent=True,  # a login changes nothing that a repeat could duplicate
            auth=False,
            login=True,
            timeout=timeout,
            max_retries=max_retries,
            max_wait=max_wait,
        )
        try:
            resp = await self.request(req, scrub=False)
        except HubError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return exc.status, exc.body  # the caller builds the (scrubbed) error
            scrub_error(exc, self._secrets_with(body.values()))  # a 5xx echoing the body
            raise
        return resp.status, resp.data

    def login_failed(
        self, operation: str, status: int, body: Any, sent: Collection[str] = ()
    ) -> HubError:
        """The error for a refused login (``sent`` credentials and tokens redacted)."""
        secrets = self._secrets_with(sent)
        return login_error(status, body, None, operation=operation, secrets=secrets)

    def _secrets_with(self, sent: Iterable[object] = ()) -> tuple[str, ...]:
        """The credentials the client holds plus those ``sent`` (for scrubbing errors)."""
        return (*(v for v in sent if isinstance(v, str)), *self.auth.secrets())


def _sent_credentials(req: Request) -> Iterable[object]:
    """What ``req`` itself carries that must not come back in an error."""
    if req.login and isinstance(req.json, dict):
        return (*req.json.values(), req.bearer)
    return (req.bearer,)
