"""What one answer means, without I/O (in the style of gidgethub's ``sansio``).

The transport sends with a ``send`` function and hands each answer (status, headers, body) or
each fault of ``send`` to :func:`interpret` / :func:`interpret_fault`, which say what to do
next: the :class:`Response` (success), :class:`Retry` (after a delay, maybe with the limiter
paused), :class:`Refresh` (log in again, then retry), :class:`Redirect` (send another request)
or :class:`Fail` (raise this typed error). Nothing here sends, sleeps or reads a clock: the
time, the skew conversion and the credentials to scrub come in as arguments, and the only
state touched is the request's :class:`~hubasync._retry.RetryState` counters.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from yarl import URL

from ._ratelimit import RateLimitInfo
from ._responses import decode_error_body, decode_json, error_for_status, hub_txnid, scrub
from ._retry import (
    MAX_CONSECUTIVE_429,
    RETRYABLE_STATUSES,
    FailureKind,
    RetryState,
    backoff_delay,
    decide,
    rate_limit_deadline,
)
from .errors import HubError, RateLimitError, TransportError

__all__ = [
    "Fail",
    "Outcome",
    "Policy",
    "Redirect",
    "Refresh",
    "Request",
    "Response",
    "Retry",
    "api_url",
    "encode_query",
    "interpret",
    "interpret_fault",
    "succeeded",
]

QueryValue = str | int | float | bool
Params = Mapping[str, QueryValue | None] | Sequence[tuple[str, QueryValue]]

MAX_REDIRECTS = 3
#: The longest a 429's hint pauses the limiter when max_wait is shorter (see _rate_limited).
_MAX_PAUSE = 3600.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@attrs.define(kw_only=True)
class Request:
    """One logical API call, as a resource method describes it.

    Treated as immutable (a redirect makes a new one with ``attrs.evolve``); not declared
    frozen because a frozen attrs class of this size costs ~2 µs more to build, on every call.
    """

    operation: str  # e.g. "images.list": used in error messages and logs
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
    #: The media type of the JSON body when it is not ``application/json`` (SCIM's).
    content_type: str | None = None
    #: The answer is text (a CSV export): ``Response.data`` is the decoded ``str``.
    text: bool = False

    @property
    def is_idempotent(self) -> bool:
        """Whether repeating this request cannot repeat its effect."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() != "POST"


@attrs.define
class Response:
    """A successful answer: status, headers and the decoded JSON (``None`` when empty)."""

    status: int
    headers: Mapping[str, str]
    data: Any


@attrs.frozen
class Retry:
    """Send the same request again after ``delay`` seconds (``reason`` is for the log).

    ``pause_until``: hold every request of the limiter until then first (a 429).
    """

    delay: float
    reason: str
    pause_until: float | None = None


@attrs.frozen
class Refresh:
    """Hub refused the token: log in again and retry; if no new token can be had, raise
    ``error``."""

    error: HubError


@attrs.frozen
class Redirect:
    """Send ``target`` instead (a redirect that stays inside base_url's API)."""

    target: Request


@attrs.frozen
class Fail:
    """Raise ``error`` (from ``cause``), after pausing the limiter until ``pause_until``."""

    error: HubError
    pause_until: float | None = None
    cause: BaseException | None = None


Outcome = Response | Retry | Refresh | Redirect | Fail


@attrs.frozen(kw_only=True)
class Policy:
    """The client's settings that decide what an answer means.

    Attributes:
        base_url: where every request goes; redirects elsewhere are refused.
        max_retries: retries of faults (5xx, connection) per request unless it overrides it.
        max_wait: the longest rate-limit wait unless the request overrides it.
        can_login: the client holds credentials, so a refused token can be refreshed.
    """

    base_url: URL
    max_retries: int
    max_wait: float
    can_login: bool


def encode_query(params: Params | None) -> str:
    """Hub's query form: booleans as ``true``/``false``, ``None`` values left out."""
    if not params:
        return ""
    # (a dict, the usual case, is told apart without the Mapping ABC's slower isinstance)
    items = params.items() if type(params) is dict or isinstance(params, Mapping) else params
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


def api_url(base: str, path: str, params: Params | None = None) -> str:
    """``base`` (no trailing slash) + an API path (+ query). Never any other origin."""
    if not path.startswith("/v2/") or "/../" in path or "/./" in path or "//" in path[1:]:
        raise ValueError(f"internal error: refusing to send to path {path!r}")
    query = encode_query(params) if params else ""
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def interpret(
    req: Request,
    state: RetryState,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    policy: Policy,
    info: RateLimitInfo,
    authenticated: bool,
    now: float,
    to_local: Callable[[float], float],
    last_reset_at: float | None,
    secrets: Callable[[], tuple[str, ...]],
) -> Outcome:
    """What the answer ``status``/``headers``/``body`` to ``req`` means.

    ``info``: the answer's rate-limit headers; ``authenticated``: a bearer token was sent;
    ``now``: local time; ``to_local``: Hub instant → local instant (the skew estimate);
    ``last_reset_at``: the last reset seen (local), for a 429 without hints; ``secrets``:
    what to scrub from an error body (called only for an error).
    """
    if 200 <= status < 300:
        return succeeded(req, state, status, headers, body)
    if status == 404 and req.method == "DELETE" and state.retries > 0:
        # An earlier attempt's answer was lost, yet Hub did delete: the goal is reached.
        return Response(status, headers, None)
    error_body = decode_error_body(body)
    # Scrubbed before any message quotes it (Hub or a proxy may echo the request), but a
    # login's 4xx answer goes back to the login flow as it is (its 2FA token is needed
    # there) and is scrubbed where that error is built.
    if not req.login or status >= 500 or status == 429:
        error_body = scrub(error_body, secrets())
    max_retries = policy.max_retries if req.max_retries is None else req.max_retries
    max_wait = policy.max_wait if req.max_wait is None else req.max_wait
    if status == 429:
        return _rate_limited(req, state, info, error_body, now, to_local, last_reset_at, max_wait)
    error = error_for_status(
        status,
        error_body,
        operation=req.operation,
        authenticated=authenticated,
        can_login=policy.can_login,
        request_token=req.bearer is not None,
    )
    if status == 401 and authenticated and req.bearer is None:
        if decide(
            FailureKind.UNAUTHORIZED,
            state,
            idempotent=req.is_idempotent,
            can_refresh=policy.can_login,
            max_retries=max_retries,
        ):
            return Refresh(error)
    if status in RETRYABLE_STATUSES and decide(
        FailureKind.SERVER,
        state,
        idempotent=req.is_idempotent,
        can_refresh=False,
        max_retries=max_retries,
    ):
        delay = backoff_delay(state.retries)
        hinted = info.hint_instant(to_local) if status == 503 else None
        if hinted is not None:  # a 503 with Retry-After: honoured, within max_wait
            delay = max(delay, min(hinted - now, max_wait))
        return Retry(delay, f"HTTP {status}, attempt {state.retries}/{max_retries}")
    if 300 <= status < 400:
        location = headers.get("Location", "?")
        target = redirect_target(req, status, location, policy.base_url)
        if target is not None:
            return Redirect(target)
        return Fail(
            HubError(
                f"{req.operation}: Hub redirected (HTTP {status}) to {location!r}, which "
                "hubasync does not follow: only redirects within base_url's /v2/ API are "
                "followed (no request or token leaves base_url); check base_url",
                status=status,
                body=error_body,
                operation=req.operation,
            )
        )
    return Fail(error)


def succeeded(
    req: Request, state: RetryState, status: int, headers: Mapping[str, str], body: bytes
) -> Response:
    """What a 2xx answer means: the :class:`Response`, its body decoded as ``req`` expects.

    All :func:`interpret` does with a 2xx, and all it needs of its context: the transport
    calls it directly for one (the common case), without interpret's other arguments.
    """
    state.consecutive_429 = 0
    if not req.expect_body:
        return Response(status, headers, None)
    if req.text:
        return Response(status, headers, body.decode("utf-8-sig", "replace"))
    return Response(status, headers, decode_json(body, operation=req.operation, status=status))


def _rate_limited(
    req: Request,
    state: RetryState,
    info: RateLimitInfo,
    body: Any,
    now: float,
    to_local: Callable[[float], float],
    last_reset_at: float | None,
    max_wait: float,
) -> Retry | Fail:
    """A 429: every request of the limiter is held until Hub's deadline, not only this one.

    The pause is capped (an hour, or max_wait if longer) so that one absurd or garbage hint
    cannot shut the client for days: after it, one request probes Hub again. When the wait
    exceeds max_wait this request fails, and so do the others at once in the limiter,
    without sending into a block Hub announced.
    """
    deadline = rate_limit_deadline(
        now=now,
        hinted_at=to_local(info.retry_at) if info.retry_at is not None else None,
        hinted_after=info.retry_after,
        received_at=info.received_at,
        reset_at=to_local(info.reset) if info.reset is not None else None,
        last_reset_at=last_reset_at,
        consecutive_429=state.consecutive_429,
    )
    pause = min(deadline, now + max(max_wait, _MAX_PAUSE))
    wait = deadline - now
    common: dict[str, Any] = {
        "retry_at": deadline,
        "status": 429,
        "body": body,
        "operation": req.operation,
        "txnid": hub_txnid(body),
    }
    if wait > max_wait:
        message = (
            f"{req.operation}: Docker Hub's rate limit asks for a wait of {wait:.1f} s, "
            f"longer than max_wait={max_wait:g} s; retry after the reset or raise max_wait"
        )
        return Fail(RateLimitError(message, **common), pause_until=pause)
    if not decide(
        FailureKind.RATE_LIMITED,
        state,
        idempotent=req.is_idempotent,
        can_refresh=False,
        max_retries=0,
    ):
        message = (
            f"{req.operation}: Docker Hub answered 429 to {state.consecutive_429 + 1} attempts "
            "in a row; the budget is shared with something else sending with these "
            "credentials, lower the request rate or try later"
        )
        return Fail(RateLimitError(message, **common), pause_until=pause)
    # The limiter holds every request until the deadline: no sleep of our own.
    attempt = f"attempt {state.consecutive_429}/{MAX_CONSECUTIVE_429 - 1}"
    return Retry(0.0, f"HTTP 429, {attempt}, limiter paused {wait:.2f} s", pause)


def interpret_fault(
    req: Request, state: RetryState, fault: FailureKind, exc: BaseException, *, policy: Policy
) -> Retry | Fail:
    """What a ``send`` that raised ``exc`` (no usable answer) means.

    ``fault``: :attr:`FailureKind.CONNECT` when the connection never opened (Hub cannot have
    processed the request, so even a creating POST is retried), else :attr:`FailureKind.TRANSPORT`.
    """
    max_retries = policy.max_retries if req.max_retries is None else req.max_retries
    what = type(exc).__name__
    detail = str(exc) or "no detail"
    if decide(
        fault, state, idempotent=req.is_idempotent, can_refresh=False, max_retries=max_retries
    ):
        reason = f"{what} ({detail}), attempt {state.retries}/{max_retries}"
        return Retry(backoff_delay(state.retries), reason)
    if fault is FailureKind.TRANSPORT and not req.is_idempotent:
        advice = (
            "not retried because the request may have been processed; check the result "
            "before repeating it"
        )
    else:
        advice = "check the network and base_url, then try again"
    error = TransportError(
        f"{req.operation}: no usable response from {policy.base_url.host} ({what}: "
        f"{detail}); {advice}",
        operation=req.operation,
    )
    return Fail(error, cause=exc)


def redirect_target(req: Request, status: int, location: str, base_url: URL) -> Request | None:
    """The request a redirect asks for, if it stays inside base_url's API; else None."""
    if status not in _REDIRECTS or req.redirects >= MAX_REDIRECTS:
        return None
    method = req.method
    if status == 303:
        method = "GET"
    elif status in (301, 302) and method not in ("GET", "HEAD"):
        return None  # clients may turn these into GETs: refuse rather than guess
    base = str(base_url).rstrip("/")
    try:
        here = URL(api_url(base, req.path, req.params), encoded=True)
        there = here.join(URL(location))
    except (ValueError, TypeError):
        return None
    if there.origin() != base_url.origin():
        return None
    prefix = base_url.raw_path.rstrip("/")
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
