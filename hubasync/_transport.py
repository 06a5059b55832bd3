"""The one place that sends: one logical request, with its retries.

Order of one attempt: auth header → concurrency slot → limiter token → aiohttp → read body →
limiter learns the headers → status → typed error or JSON. Slot and token are taken before
aiohttp so that waiting for them never eats the request timeout, and the slot is given back
before any backoff sleep. Retries run through tenacity (``AsyncRetrying``); which faults are
retried is decided by the pure ``_retry.decide``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import urllib.parse
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import aiohttp
import attrs
import tenacity
from yarl import URL

from ._auth import Authenticator, LoginRequest, login_error
from ._clock import Clock, SkewEstimator
from ._ratelimit import BudgetUpdate, RateLimiter, RateLimitInfo
from ._responses import (
    decode_error_body,
    decode_json,
    error_for_status,
    hub_txnid,
    scrub,
    scrub_error,
)
from ._retry import (
    RETRYABLE_STATUSES,
    Fault,
    RetryState,
    backoff_delay,
    decide,
    rate_limit_deadline,
)
from .errors import HubError, RateLimitError, TransportError

__all__ = ["ClientStats", "Request", "Response", "Transport"]

logger = logging.getLogger("hubasync")

_T = TypeVar("_T")
QueryValue = str | int | float | bool
Params = Mapping[str, QueryValue | None] | Sequence[tuple[str, QueryValue]]


@attrs.define
class ClientStats:
    """Counters of one client (``hub.stats``).

    Attributes:
        requests: HTTP requests sent (every attempt, logins included).
        retries: attempts that were repeated after a fault (429s included).
        rate_limited: 429 answers received.
        waited_s: seconds spent waiting for the rate limiter.
        logins: logins and token refreshes performed.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    logins: int = 0


@attrs.frozen(kw_only=True)
class Request:
    """One logical API call, as a resource method describes it."""

    operation: str  # e.g. "images.list": used in error messages
    method: str
    path: str  # starts with /v2/, already percent-encoded
    params: Params | None = None
    json: Any = attrs.field(default=None, repr=False)
    idempotent: bool | None = None  # None: from the method (POST is not)
    auth: bool = True  # send the bearer token when the client has one
    expect_body: bool = True  # HEAD: no body to decode
    redirects: int = 0  # same-origin redirects followed so far
    login: bool = False  # a login: its answers carry the tokens it is for (not scrubbed here)
    #: A bearer token for this request instead of the client's (e.g. SCIM's own token); it is
    #: never refreshed, and scrubbed from errors like the client's credentials.
    bearer: str | None = attrs.field(default=None, repr=False)
    #: Per-request overrides of the client's settings (``None``: the client's value).
    timeout: float | None = None
    max_retries: int | None = None
    max_wait: float | None = None

    @property
    def is_idempotent(self) -> bool:
        """Whether repeating this request cannot repeat its effect."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() != "POST"


@attrs.frozen
class Response:
    """A successful answer: status, headers and the decoded JSON (``None`` when empty)."""

    status: int
    headers: Mapping[str, str]
    data: Any


MAX_REDIRECTS = 3
#: The longest a 429's hint pauses the limiter when max_wait is shorter (see _rate_limited).
_MAX_PAUSE = 3600.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _Redirect(Exception):
    """Internal: Hub redirected within base_url; send ``target`` instead."""

    def __init__(self, target: Request) -> None:
        super().__init__("redirect")
        self.target = target


class _Retry(Exception):
    """Internal: the attempt failed in a way the retry policy says to repeat."""

    def __init__(self, delay: float) -> None:
        super().__init__("retry")
        self.delay = delay


def encode_query(params: Params | None) -> str:
    """Hub's query form: booleans as ``true``/``false``, ``None`` values left out."""
    if not params:
        return ""
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        else:
            pairs.append((key, str(value)))
    if not pairs:  # every value left out (the usual case for optional filters)
        return ""
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


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
    ) -> None:
        self.base_url = base_url
        self._base = str(base_url).rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._max_concurrency = max_concurrency
        self._slots: asyncio.Semaphore | None = None  # created inside the running loop
        self.limiter = limiter  # (a property: also learns whether it bounds its own waits)
        self.auth = authenticator
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._clock = clock
        # The caller's default headers (checked: no Authorization or User-Agent among them).
        self._headers = {"Accept": "application/json", **(headers or {}), "User-Agent": user_agent}
        # A caller's session gets our timeout per request; ours has it as its default.
        self._per_request: dict[str, Any] = {} if session is None else {"timeout": self._timeout}
        self.skew = SkewEstimator()
        self.stats = ClientStats()
        self.last_info: RateLimitInfo | None = None
        self._last_reset_at: float | None = None
        self._closed = False
        # Tasks waiting in the limiter, so that closing can wake them (see aclose).
        self._waiting: set[asyncio.Task[Any]] = set()
        self._woken_by_close: set[asyncio.Task[Any]] = set()

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter every request reserves from."""
        return self._limiter

    @limiter.setter
    def limiter(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._limiter_bounds_waits = _takes_max_wait(limiter)

    # -- lifecycle -------------------------------------------------------------------------
    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this HubClient is closed; create a new one")
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
        if not path.startswith("/v2/") or "/../" in path or "/./" in path or "//" in path[1:]:
            raise ValueError(f"internal error: refusing to send to path {path!r}")
        query = encode_query(params)
        return f"{self._base}{path}?{query}" if query else f"{self._base}{path}"

    # -- sending ---------------------------------------------------------------------------
    async def request(self, req: Request) -> Response:
        """Send ``req`` with retries; return the successful Response or raise a HubError.

        No credential leaves in an error: Hub or a proxy may echo the request back.
        """
        try:
            return await self._send(req)
        except HubError as exc:
            scrub_error(exc, self._secrets_with((req.bearer,)))
            raise

    async def _send(self, req: Request) -> Response:
        """:meth:`request` without the scrubbing (a login needs Hub's 401 body as it is)."""
        state = RetryState()
        # The first attempt runs outside tenacity: most requests succeed at once, and the
        # retry machinery's cost (and its reference cycles) is paid only on a retry.
        try:
            return await self._attempt(req, state)
        except _Retry as first:
            delay = first.delay
        except _Redirect as redirect:
            return await self._send(redirect.target)
        try:
            return await self._retry_loop(req, state, delay)
        except _Redirect as redirect:
            return await self._send(redirect.target)

    async def _retry_loop(self, req: Request, state: RetryState, delay: float) -> Response:
        """Every attempt after the first, through tenacity; ``delay`` is the first wait."""
        if delay > 0:
            await self._clock.sleep(delay)
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            wait=_wait_from_retry,
            stop=tenacity.stop_never,
            sleep=self._clock.sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(req, state)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_login(self, login: LoginRequest) -> tuple[int, Any]:
        """The authenticator's hook: POST a login body without a bearer token."""
        return await self.send_login_raw(login.operation, login.path, login.body)

    async def send_login_raw(
        self, operation: str, path: str, body: Mapping[str, str]
    ) -> tuple[int, Any]:
        """POST to a login endpoint; 4xx answers come back as (status, body), not raised."""
        self.stats.logins += 1
        req = Request(
            operation=operation,
            method="POST",
            path=path,
            json=dict(body),
            idempotent=True,  # a login changes nothing that a repeat could duplicate
            auth=False,
            login=True,
        )
        try:
            resp = await self._send(req)
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

    async def _attempt(self, req: Request, state: RetryState) -> Response:
        token: str | None = req.bearer
        if token is None and req.auth:
            ready, token = self.auth.token_nowait()
            if not ready:
                token = await self.auth.token(self.send_login)
        self._ensure_session()  # a closed client fails here, before it waits for anything
        headers: dict[str, str] | None = None if self._owns_session else dict(self._headers)
        if token:
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        url = self.url_for(req.path, req.params)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_concurrency)
        async with self._slots:
            waited = await self._acquire(req)
            self.stats.waited_s += waited  # not `+= await`: concurrent waiters would race
            update: BudgetUpdate | None = None
            sent_at = self._clock.time()
            try:
                # ...and here, if it was closed while this request waited for its turn
                session = self._ensure_session()
                self.stats.requests += 1
                try:
                    async with session.request(
                        req.method,
                        URL(url, encoded=True),
                        headers=headers,
                        json=req.json,
                        allow_redirects=False,
                        **(
                            self._per_request
                            if req.timeout is None
                            else {"timeout": aiohttp.ClientTimeout(total=req.timeout)}
                        ),
                    ) as resp:
                        body = await resp.read()
                        status = resp.status
                        resp_headers = resp.headers
                except aiohttp.ClientConnectorError as exc:
                    self._transport_fault(req, state, Fault.CONNECT, exc)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self._transport_fault(req, state, Fault.TRANSPORT, exc)
                received_at = self._clock.time()
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
                await self.limiter.release(update)
        if 200 <= status < 300:  # the usual answer, without another coroutine
            return self._success(req, state, status, resp_headers, body)
        return await self._handle(req, state, status, resp_headers, body, info, token)

    async def _acquire(self, req: Request) -> float:
        """A reservation from the limiter; no single wait longer than ``max_wait``."""
        task = asyncio.current_task()
        waiting = self._waiting
        waiting.add(task)  # type: ignore[arg-type]
        try:
            if self._limiter_bounds_waits:
                return await self.limiter.acquire(max_wait=_or(req.max_wait, self._max_wait))
            # A limiter of the caller's without ``max_wait``: bound the whole wait instead.
            async with asyncio.timeout(_or(req.max_wait, self._max_wait)):
                return await self.limiter.acquire()
        except RateLimitError as exc:
            raise RateLimitError(
                f"{req.operation}: {exc.message}",
                retry_at=exc.retry_at,
                operation=req.operation,
            ) from None
        except TimeoutError:
            raise RateLimitError(
                f"{req.operation}: waited max_wait={_or(req.max_wait, self._max_wait):g} s for "
                "the rate limiter without getting a turn; retry later or raise max_wait",
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

    def _secrets_with(self, sent: Iterable[object] = ()) -> tuple[str, ...]:
        """The credentials the client holds plus those ``sent`` (for scrubbing errors)."""
        return (*(v for v in sent if isinstance(v, str)), *self.auth.secrets())

    def _learn(self, info: RateLimitInfo, sent_at: float, received_at: float) -> BudgetUpdate:
        if info.date is not None:
            self.skew.observe(info.date, sent_at, received_at)
        update = info.budget_update(self.skew.to_local)
        if update.reset_at is not None:
            self._last_reset_at = update.reset_at
        if info.limit is not None or info.remaining is not None or info.reset is not None:
            self.last_info = info
        return update

    def _redirect_target(self, req: Request, status: int, location: str) -> Request | None:
        """The request a redirect asks for, if it stays inside base_url's API; else None."""
        if status not in _REDIRECTS or req.redirects >= MAX_REDIRECTS:
            return None
        method = req.method
        if status == 303:
            method = "GET"
        elif status in (301, 302) and method not in ("GET", "HEAD"):
            return None  # clients may turn these into GETs: refuse rather than guess
        try:
            here = URL(self.url_for(req.path, req.params), encoded=True)
            there = here.join(URL(location))
        except (ValueError, TypeError):
            return None
        if there.origin() != self.base_url.origin():
            return None
        prefix = self.base_url.raw_path.rstrip("/")
        path = there.raw_path
        if not path.startswith(prefix + "/v2/"):
            return None
        path = path[len(prefix) :]
        if "/../" in path or "/./" in path or "//" in path[1:] or path.endswith(("/..", "/.")):
            return None
        return attrs.evolve(
            req,
            method=method,
            path=path,
            params=list(there.query.items()),
            json=req.json if method == req.method else None,
            redirects=req.redirects + 1,
        )

    def _retry(
        self, req: Request, reason: str, delay: float, cause: BaseException | None = None
    ) -> NoReturn:
        self.stats.retries += 1
        logger.info("%s: retrying after %s (backoff %.2f s)", req.operation, reason, delay)
        raise _Retry(delay) from cause

    def _transport_fault(
        self, req: Request, state: RetryState, fault: Fault, exc: BaseException
    ) -> NoReturn:
        if decide(
            fault,
            state,
            idempotent=req.is_idempotent,
            can_refresh=False,
            max_retries=_or(req.max_retries, self._max_retries),
        ):
            self._retry(req, type(exc).__name__, backoff_delay(state.retries), exc)
        what = type(exc).__name__
        detail = str(exc) or "no detail"
        if fault is Fault.TRANSPORT and not req.is_idempotent:
            advice = (
                "not retried because the request may have been processed; check the result "
                "before repeating it"
            )
        else:
            advice = "check the network and base_url, then try again"
        raise TransportError(
            f"{req.operation}: no usable response from {self.base_url.host} ({what}: "
            f"{detail}); {advice}",
            operation=req.operation,
        ) from exc

    @staticmethod
    def _success(
        req: Request, state: RetryState, status: int, headers: Mapping[str, str], body: bytes
    ) -> Response:
        state.consecutive_429 = 0
        if not req.expect_body:
            return Response(status, headers, None)
        return Response(status, headers, decode_json(body, operation=req.operation, status=status))

    async def _handle(
        self,
        req: Request,
        state: RetryState,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        info: RateLimitInfo,
        token: str | None,
    ) -> Response:
        """What an answer means: the Response, a retry, or a typed error."""
        if 200 <= status < 300:
            return self._success(req, state, status, headers, body)
        if status == 404 and req.method == "DELETE" and state.retries > 0:
            # An earlier attempt's answer was lost, yet Hub did delete: the goal is reached.
            return Response(status, headers, None)
        error_body = decode_error_body(body)
        # Scrubbed before any message quotes it (Hub or a proxy may echo the request), but a
        # login's 4xx answer goes back to the login flow as it is (its 2FA token is needed
        # there) and is scrubbed where that error is built.
        if not req.login or status >= 500 or status == 429:
            sent = req.json.values() if req.login and isinstance(req.json, dict) else ()
            error_body = scrub(error_body, self._secrets_with(sent))
        if status == 429:
            await self._rate_limited(req, state, info, error_body)
        if status == 401 and token is not None and req.bearer is None:
            if decide(
                Fault.UNAUTHORIZED,
                state,
                idempotent=req.is_idempotent,
                can_refresh=self.auth.has_credentials,
                max_retries=_or(req.max_retries, self._max_retries),
            ) and await self.auth.invalidate(token, self.send_login):
                self._retry(req, "401, token refreshed", 0.0)
        if status in RETRYABLE_STATUSES and decide(
            Fault.SERVER,
            state,
            idempotent=req.is_idempotent,
            can_refresh=False,
            max_retries=_or(req.max_retries, self._max_retries),
        ):
            delay = backoff_delay(state.retries)
            hinted = info.hint_instant(self.skew.to_local) if status == 503 else None
            if hinted is not None:
                # A 503 with Retry-After: honour it, within max_wait.
                max_wait = _or(req.max_wait, self._max_wait)
                delay = max(delay, min(hinted - self._clock.time(), max_wait))
            self._retry(req, f"HTTP {status}", delay)
        if 300 <= status < 400:
            location = headers.get("Location", "?")
            target = self._redirect_target(req, status, location)
            if target is not None:
                raise _Redirect(target)
            raise HubError(
                f"{req.operation}: Hub redirected (HTTP {status}) to {location!r}, which "
                "hubasync does not follow: only redirects within base_url's /v2/ API are "
                "followed (no request or token leaves base_url); check base_url",
                status=status,
                body=error_body,
                operation=req.operation,
            )
        raise error_for_status(
            status,
            error_body,
            operation=req.operation,
            authenticated=token is not None,
            can_login=self.auth.has_credentials and req.bearer is None,
        )

    async def _rate_limited(
        self, req: Request, state: RetryState, info: RateLimitInfo, body: Any
    ) -> None:
        self.stats.rate_limited += 1
        max_wait = _or(req.max_wait, self._max_wait)
        now = self._clock.time()
        hinted_at = self.skew.to_local(info.retry_at) if info.retry_at is not None else None
        reset_at = self.skew.to_local(info.reset) if info.reset is not None else None
        deadline = rate_limit_deadline(
            now=now,
            hinted_at=hinted_at,
            hinted_after=info.retry_after,
            received_at=info.received_at,
            reset_at=reset_at,
            last_reset_at=self._last_reset_at,
            consecutive_429=state.consecutive_429,
        )
        # Every request of this limiter is held until the deadline, not only this one. Those
        # whose wait would exceed max_wait fail at once in the limiter, without sending into
        # a block Hub announced. The pause is capped (an hour, or max_wait if longer) so that
        # one absurd or garbage hint cannot shut the client for days: after it, one request
        # probes Hub again.
        await self.limiter.pause_until(min(deadline, now + max(max_wait, _MAX_PAUSE)))
        wait = deadline - now
        txnid = hub_txnid(body)
        if wait > max_wait:
            raise RateLimitError(
                f"{req.operation}: Docker Hub's rate limit asks for a wait of {wait:.1f} s, "
                f"longer than max_wait={max_wait:g} s; retry after the reset or raise "
                "max_wait",
                retry_at=deadline,
                status=429,
                body=body,
                operation=req.operation,
                txnid=txnid,
            )
        if not decide(
            Fault.RATE_LIMITED,
            state,
            idempotent=req.is_idempotent,
            can_refresh=False,
            max_retries=_or(req.max_retries, self._max_retries),
        ):
            raise RateLimitError(
                f"{req.operation}: Docker Hub answered 429 to {state.consecutive_429 + 1} "
                "attempts in a row; the budget is shared with something else sending with "
                "these credentials, lower the request rate or try later",
                retry_at=deadline,
                status=429,
                body=body,
                operation=req.operation,
                txnid=txnid,
            )
        # The limiter holds every request until the deadline: no sleep of our own.
        self._retry(req, f"429, paused {deadline - now:.2f} s", 0.0)


def _or(override: _T | None, default: _T) -> _T:
    """A request's override of a client setting, or the client's value."""
    return default if override is None else override


def _takes_max_wait(limiter: RateLimiter) -> bool:
    """Whether ``limiter.acquire`` accepts ``max_wait=`` (a RateLimiter written before it
    existed does not; the transport then bounds its waits with a timeout)."""
    try:
        params = inspect.signature(limiter.acquire).parameters
    except (TypeError, ValueError):
        return False
    return "max_wait" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _wait_from_retry(retry_state: tenacity.RetryCallState) -> float:
    outcome = retry_state.outcome
    if outcome is None:
        return 0.0
    exc = outcome.exception()
    return exc.delay if isinstance(exc, _Retry) else 0.0
