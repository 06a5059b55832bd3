"""FakeHub's HTTP layer: one middleware (auth, faults, rate limit, headers, request log) and
one handler per Hub operation. Handlers read and change a :class:`HubState`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ._clock import format_http_date, format_ts, parse_ts
from ._faults import Fault, FaultEngine
from ._jwt import decode_jwt, encode_jwt
from ._limits import FixedWindowLimiter, retry_hint_headers
from ._render import (
    AUDIT_ACTIONS_BODY,
    dumps,
    event_json,
    image_tags,
    images_page,
    page_links,
    repo_entry_json,
    repo_info_json,
    tag_json,
    token_json,
)
from ._state import (
    ADMIN,
    READ,
    SUPER,
    VALID_SCOPES,
    WRITE,
    HubState,
    Namespace,
    Pat,
    Principal,
    Repository,
    default_active_from,
)

__all__ = ["Api", "RequestRecord"]

_log = logging.getLogger("hubasync.testing")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_PATHS = frozenset({"/v2/users/login", "/v2/users/2fa-login", "/v2/auth/token"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NO_CREDENTIALS = "Authentication credentials were not provided."
_NO_PERMISSION = "You do not have permission to perform this action."
_BAD_CREDENTIALS = "Incorrect authentication credentials"
_MFA_REQUIRED = "Require secondary authentication on MFA enabled account"
_ANON_OFFSET = "pagination offset too large for anonymous requests"
_REPO_ORDERINGS = ("name", "-name", "last_updated", "-last_updated", "pull_count", "-pull_count")
_IMAGE_ORDERINGS = ("last_activity", "-last_activity", "digest", "-digest")
_HAP429_BODY = b"Too Many Requests (HAP429)."
_SECOND_FACTOR_LIFETIME = 300
_INVALID = object()


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request FakeHub received, as ``server.requests`` lists it.

    ``headers`` holds a few request headers (``Authorization`` replaced by
    ``"Bearer <redacted>"``); ``authorized`` says whether one was sent. ``json`` is the
    decoded request body (``None`` if none). ``status`` is what FakeHub answered (0 when
    the connection was dropped before a status line). ``time`` is the server clock at
    arrival; ``fault`` the injected fault kind, if any; ``user`` the authenticated subject.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    authorized: bool
    user: str | None
    json: Any
    status: int
    time: float
    fault: str | None


class _Context:
    """What the middleware learned about the current request, for its handler."""

    __slots__ = ("auth_error", "json", "principal")

    def __init__(self, body: Any, principal: Principal | None, auth_error: str | None) -> None:
        self.json = body
        self.principal = principal
        self.auth_error = auth_error


# aiohttp runs each request in its own task (own context copy), so this is per request.
_CONTEXT: ContextVar[_Context] = ContextVar("fakehub_request")


class HubHTTPError(Exception):
    """Raised by handlers: answer with ``status`` and the JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _json(status: int, obj: Any) -> web.Response:
    return web.Response(status=status, body=dumps(obj), content_type="application/json")


def _detail(status: int, detail: str, **extra: Any) -> HubHTTPError:
    return HubHTTPError(status, {"detail": detail, "message": detail, **extra})


def _bad_request(text: str, field: str | None = None, problem: str | None = None) -> HubHTTPError:
    fields = {field: [problem or text]} if field else {}
    return HubHTTPError(400, {"fields": fields, "text": text, "detail": text, "message": text})


_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 500: 13}


def _rpc(status: int, message: str) -> HubHTTPError:
    return HubHTTPError(
        status,
        {"code": _RPC_CODES.get(status, 2), "message": message, "details": [], "detail": message},
    )


def _int_param(query: Any, name: str, default: int, style: str) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if value.is_integer():
            return int(value)
    raise _style_error(style, 400, f"{name} must be an integer", field=name)


def _style_error(
    style: str, status: int, message: str, *, field: str | None = None
) -> HubHTTPError:
    if style == "rpc":
        return _rpc(status, message)
    if status == 400:
        return _bad_request(message, field)
    return _detail(status, message)


class Api:
    """The aiohttp application behind FakeHub (internal; FakeHub is the public face)."""

    def __init__(
        self,
        state: HubState,
        *,
        clock: Callable[[], float],
        clock_skew_s: float,
        public_url: str,
        require_auth: bool,
        token_lifetime_s: float,
        limiter: FixedWindowLimiter | None,
        retry_hint: str,
        faults: FaultEngine,
        key: bytes,
        log_requests: bool,
        image_api: bool = False,
    ) -> None:
        self.state = state
        self.image_api = image_api
        self.clock = clock
        self.clock_skew_s = clock_skew_s
        self.public_url = public_url.rstrip("/")
        self.require_auth = require_auth
        self.token_lifetime_s = token_lifetime_s
        self.limiter = limiter
        self.retry_hint = retry_hint
        self.faults = faults
        self.key = key
        self.log_requests = log_requests
        self.requests: list[RequestRecord] = []
        self.over_limit = 0
        self.logins = 0
        self._token_cache: dict[str, Principal] = {}
        self._date_cache: tuple[int, str] = (-1, "")
        self._user_ids: dict[str, int] = {}

    # ------------------------------------------------------------- clock

    def now(self) -> float:
        """The server clock: the injected clock plus the configured skew."""
        return self.clock() + self.clock_skew_s

    def _date(self, now: float) -> str:
        sec = math.floor(now)
        if self._date_cache[0] != sec:
            self._date_cache = (sec, format_http_date(sec))
        return self._date_cache[1]

    # ------------------------------------------------------------- tokens

    def issue(
        self, sub: str, kind: str, scopes: tuple[str, ...] | None, lifetime: float | None = None
    ) -> str:
        """A signed bearer JWT for ``sub`` (``kind`` user/org), valid for ``lifetime`` s.

        The claims carry whole seconds (``exp - iat`` is the lifetime; fractional lifetimes
        give a fractional ``exp``), while FakeHub honours the token until exactly
        ``lifetime`` seconds after it was issued, so a client counting the lifetime from
        receipt never sees it die early.
        """
        now = self.now()
        iat = math.floor(now)
        life = self.token_lifetime_s if lifetime is None else lifetime
        payload: dict[str, Any] = {
            "sub": sub,
            "iat": iat,
            "exp": iat + (int(life) if float(life).is_integer() else life),
            "jti": self.state.new_uuid(),
            "kind": kind,
            "username": sub,
        }
        if scopes is not None:
            payload["scope"] = " ".join(scopes)
        token = encode_jwt(payload, self.key)
        level = _scope_level(list(scopes)) if scopes is not None else ADMIN
        self._cache_principal(token, Principal(sub, kind, level, now + life))
        return token

    def _cache_principal(self, token: str, principal: Principal) -> None:
        if len(self._token_cache) > 100_000:
            self._token_cache.clear()  # tokens still verify from their claims
        self._token_cache[token] = principal

    def _issue_2fa(self, username: str) -> str:
        iat = math.floor(self.now())
        payload = {
            "sub": username,
            "iat": iat,
            "exp": iat + _SECOND_FACTOR_LIFETIME,
            "jti": self.state.new_uuid(),
            "typ": "2fa",
        }
        return encode_jwt(payload, self.key)

    def _verify(self, token: str, now: float) -> Principal | None:
        cached = self._token_cache.get(token)
        if cached is None:
            try:
                payload = decode_jwt(token, self.key)
            except ValueError:
                return None
            sub, exp, kind = payload.get("sub"), payload.get("exp"), payload.get("kind")
            if payload.get("typ") == "2fa" or not isinstance(sub, str):
                return None
            if not isinstance(exp, int | float) or kind not in ("user", "org"):
                return None
            scope = payload.get("scope")
            level = ADMIN
            if isinstance(scope, str):
                level = _scope_level(scope.split())
            cached = Principal(sub, kind, level, float(exp))
            self._cache_principal(token, cached)
        if now >= cached.exp:
            return None
        if cached.kind == "user" and cached.sub not in self.state.users:
            return None
        if cached.kind == "org" and cached.sub not in self.state.namespaces:
            return None
        return cached

    def authenticate(self, header: str | None, now: float) -> tuple[Principal | None, str | None]:
        """``(principal, error)`` for an Authorization header value (both None if absent)."""
        if not header:
            return None, None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "jwt") or not token:
            return None, "Invalid Authorization header: expected 'Bearer <token>'."
        principal = self._verify(token, now)
        if principal is None:
            return None, "Token is invalid or expired."
        return principal, None

    def user_ids(self) -> dict[str, int]:
        """username → numeric id (refreshed when users are added)."""
        if len(self._user_ids) != len(self.state.users):
            self._user_ids = {u.username: u.id for u in self.state.users.values()}
        return self._user_ids

    # ---------------------------------------------------------- middleware

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Everything around a handler: auth, faults, rate limit, headers, request log."""
        now = self.now()
        arrived = now
        method = request.method
        path = request.path
        body: Any = None
        fault: Fault | None = None
        fault_name: str | None = None
        status = 0
        headers = request.headers
        auth_header = headers.get("Authorization")
        principal, auth_error = self.authenticate(auth_header, now)
        try:
            if path in LOGIN_PATHS:
                self.logins += 1
            if method in _BODY_METHODS and request.can_read_body:
                raw = await request.read()
                if raw:
                    try:
                        body = _loads(raw)
                    except ValueError:
                        body = _INVALID
            _CONTEXT.set(_Context(body, principal, auth_error))
            if self.faults.active:
                delay, fault = self.faults.pick(method, path)
                fault_name = fault.kind if fault is not None else None
                if delay > 0:
                    fault_name = fault_name or "latency"
                    await asyncio.sleep(delay)
                    now = self.now()
                if fault is not None and fault.kind in ("reset", "html", "hap429"):
                    proxied = self._proxy_fault(request, fault)
                    if proxied is None:
                        return web.Response()  # never sent: the transport is closed
                    proxied.headers["Date"] = self._date(now)
                    status = proxied.status
                    return proxied
            rate: tuple[int, int] | None = None
            resp: web.StreamResponse | None = None
            limiter = self.limiter
            if limiter is not None:
                if principal is not None:
                    key = f"{principal.kind}:{principal.sub}"
                else:
                    key = f"ip:{request.remote}"
                allowed, remaining, reset = limiter.hit(key, now)
                rate = (remaining, reset)
                if not allowed:
                    self.over_limit += 1
                    resp = _json(429, {"detail": "Rate limit exceeded", "error": False})
                    for name, value in retry_hint_headers(self.retry_hint, reset, now).items():
                        resp.headers[name] = value
            if resp is None:
                if fault is not None and fault.kind == "error":
                    reason = _reason(fault.status)
                    resp = _json(fault.status, {"detail": reason, "message": reason})
                else:
                    resp = await self._dispatch(request, handler)
            assert resp is not None
            now = self.now()
            resp_headers = resp.headers
            resp_headers["Date"] = self._date(now)
            if rate is not None and limiter is not None:
                resp_headers["X-RateLimit-Limit"] = str(limiter.limit)
                resp_headers["X-RateLimit-Remaining"] = str(rate[0])
                resp_headers["X-RateLimit-Reset"] = str(rate[1])
            status = resp.status
            if (
                fault is not None
                and fault.kind in ("truncate", "reset_after_headers")
                and isinstance(resp, web.Response)
                and method != "HEAD"
            ):
                return self._broken_response(request, resp, fault)
            return resp
        finally:
            if self.log_requests:
                self._record(request, principal, body, status, arrived, fault_name)

    async def _dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if _CONTEXT.get().json is _INVALID:
            return _json(400, {"detail": "JSON parse error: the request body is not valid JSON."})
        try:
            return await handler(request)
        except HubHTTPError as exc:
            return _json(exc.status, exc.body)
        except web.HTTPException as exc:
            if exc.status == 405:
                text = f'Method "{request.method}" not allowed.'
            elif exc.status == 404:
                text = "Not found."
            else:
                text = exc.reason
            return _json(exc.status, {"detail": text, "message": text})
        except Exception as exc:  # a FakeHub bug: make it visible, not a hang
            _log.exception("FakeHub handler failed for %s %s", request.method, request.path)
            return _json(500, {"detail": f"FakeHub internal error: {exc!r}"})

    def _proxy_fault(self, request: web.Request, fault: Fault) -> web.Response | None:
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.close()
            return None
        if fault.kind == "hap429":
            return web.Response(status=429, body=_HAP429_BODY, content_type="text/plain")
        reason = _reason(fault.status)
        html = (
            f"<html>\r\n<head><title>{fault.status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{fault.status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
        )
        return web.Response(status=fault.status, body=html.encode(), content_type="text/html")

    def _broken_response(
        self, request: web.Request, resp: web.Response, fault: Fault
    ) -> web.StreamResponse:
        body = bytes(resp.body) if isinstance(resp.body, bytes | bytearray) else b""
        declared = max(len(body), 1)
        sent = body[: len(body) // 2] if fault.kind == "truncate" else b""
        lines = [f"HTTP/1.1 {resp.status} {resp.reason}"]
        lines.extend(f"{k}: {v}" for k, v in resp.headers.items() if k.lower() != "content-length")
        lines.append(f"Content-Length: {declared}")
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        transport = request.transport
        if transport is not None:
            transport.write(head + sent)
            transport.close()
        return web.Response()  # never sent: the transport is closed

    def _record(
        self,
        request: web.Request,
        principal: Principal | None,
        body: Any,
        status: int,
        arrived: float,
        fault: str | None,
    ) -> None:
        h = request.headers
        kept = {k: h[k] for k in ("User-Agent", "Content-Type", "Accept") if k in h}
        authorized = "Authorization" in h
        if authorized:
            kept["Authorization"] = "Bearer <redacted>"
        self.requests.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=kept,
                authorized=authorized,
                user=principal.sub if principal is not None else None,
                json=None if body is _INVALID else body,
                status=status,
                time=arrived,
                fault=fault,
            )
        )

    # ------------------------------------------------------------ routes

    def routes(self, app: web.Application) -> None:
        """Register every operation FakeHub serves."""
        r = app.router
        r.add_post("/v2/users/login", self.login)
        r.add_post("/v2/users/2fa-login", self.login_2fa)
        r.add_post("/v2/auth/token", self.auth_token)
        r.add_get("/v2/access-tokens", self.tokens_list)
        r.add_post("/v2/access-tokens", self.tokens_create)
        r.add_get("/v2/access-tokens/{uuid}", self.tokens_get)
        r.add_patch("/v2/access-tokens/{uuid}", self.tokens_patch)
        r.add_delete("/v2/access-tokens/{uuid}", self.tokens_delete)
        repo = "/v2/namespaces/{namespace}/repositories/{repository}"
        r.add_get(repo + "/images-summary", self.images_summary)
        r.add_get(repo + "/images", self.images_list)
        r.add_get(repo + "/images/{digest}/tags", self.image_tags)
        r.add_post("/v2/namespaces/{namespace}/delete-images", self.delete_images)
        r.add_get("/v2/auditlogs/{account}", self.audit_logs)
        r.add_get("/v2/auditlogs/{account}/actions", self.audit_actions)
        r.add_get("/v2/orgs/{name}/settings", self.settings_get)
        r.add_put("/v2/orgs/{name}/settings", self.settings_put)
        r.add_patch("/v2/repositories/{namespace}/{repository}/", self.repo_patch)
        r.add_get("/v2/namespaces/{namespace}/repositories", self.repos_list)
        r.add_get(repo, self.repo_get)
        r.add_get(repo + "/tags", self.repo_tags)
        r.add_get(repo + "/tags/{tag}", self.repo_tag)
        r.add_delete("/v2/repositories/{namespace}/{repository}/tags/{tag}/", self.tag_delete)

    # ------------------------------------------------------------- helpers

    def _who(self, request: web.Request, style: str = "detail") -> Principal:
        """The caller of a private endpoint (401 without valid credentials)."""
        principal = _CONTEXT.get().principal
        if principal is not None:
            return principal
        error = _CONTEXT.get().auth_error
        if error is None and not self.require_auth:
            return SUPER
        raise _style_error(style, 401, error or _NO_CREDENTIALS)

    def _maybe_who(self, request: web.Request) -> Principal | None:
        """The caller of a public endpoint: None if anonymous; 401 for a bad token."""
        principal = _CONTEXT.get().principal
        if principal is not None:
            return principal
        error = _CONTEXT.get().auth_error
        if error is not None:
            raise _detail(401, error)
        return None if self.require_auth else SUPER

    def _user(self, request: web.Request) -> Principal:
        """A caller that must be a user (PAT management)."""
        who = self._who(request)
        if who.kind == "org":
            raise _detail(403, "Organization access tokens cannot manage personal access tokens.")
        if who.kind == "super":
            raise _detail(401, _NO_CREDENTIALS)
        return who

    def _body(self, request: web.Request) -> dict[str, Any]:
        body = _CONTEXT.get().json
        if not isinstance(body, dict):
            raise _bad_request("The request body must be a JSON object.")
        return body

    def _aim_error(
        self, request: web.Request, status: int, message: str, op: str, **errinfo: Any
    ) -> HubHTTPError:
        txnid = self.state.new_uuid()
        principal = _CONTEXT.get().principal
        info: dict[str, Any] = {
            "api_call_docker_id": principal.sub if principal is not None else "",
            "api_call_name": op,
            "api_call_start": format_ts(self.now()),
            "api_call_txnid": txnid,
            **errinfo,
        }
        return HubHTTPError(status, {"txnid": txnid, "message": message, "errinfo": info})

    def _page(self, request: web.Request, default_size: int, style: str) -> tuple[int, int]:
        q = request.query
        page = _int_param(q, "page", 1, style)
        size = _int_param(q, "page_size", default_size, style)
        if page < 1:
            raise _style_error(style, 400, "page must be a positive integer", field="page")
        if size < 1 or size > 100:
            raise _style_error(style, 400, "page_size must be between 1 and 100", field="page_size")
        return page, size

    def _paged(
        self, request: web.Request, items: list[Any], page: int, size: int
    ) -> tuple[list[Any], str | None, str | None]:
        start = (page - 1) * size
        chunk = items[start : start + size]
        nxt, prev = page_links(
            self.public_url,
            request.rel_url.raw_path,
            list(request.query.items()),
            page,
            start + size < len(items),
        )
        return chunk, nxt, prev

    def _active_from(self, raw: Any, style_error: Callable[[str], HubHTTPError]) -> float:
        if raw is None or raw == "":
            return default_active_from(self.now())
        if not isinstance(raw, str):
            raise style_error("active_from must be an RFC 3339 date-time string")
        try:
            return parse_ts(raw)
        except ValueError:
            raise style_error(f"active_from is not an RFC 3339 date-time: {raw!r}") from None

    def _namespace_for_images(
        self, request: web.Request, op: str, level: int = READ
    ) -> tuple[Principal, Namespace]:
        who = self._who(request, "aim")
        name = request.match_info["namespace"]
        ns = self.state.namespaces.get(name)
        if ns is None:
            raise self._aim_error(request, 404, f"namespace {name} not found", op)
        if ns.level(who) < level:
            raise self._aim_error(
                request, 403, f"you do not have access to the namespace {name}", op
            )
        return who, ns

    def _repo_for_images(self, request: web.Request, op: str) -> tuple[Namespace, Repository]:
        _, ns = self._namespace_for_images(request, op)
        name = request.match_info["repository"]
        repo = ns.repos.get(name)
        if repo is None:
            raise self._aim_error(request, 404, f"repository {ns.name}/{name} not found", op)
        return ns, repo

    def _visible_repo(self, request: web.Request) -> tuple[Principal | None, int, Repository]:
        who = self._maybe_who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        if ns is None or repo is None:
            raise _detail(404, "Object not found", errinfo={})
        level = ns.level(who) if who is not None else 0
        if repo.is_private and level < READ:
            if who is None:
                raise _detail(404, "Object not found", errinfo={})
            raise _detail(403, _NO_PERMISSION, errinfo={})
        return who, level, repo

    def _anonymous_offset(self, who: Principal | None, page: int, size: int) -> None:
        if who is None and page * size > 1000:
            raise _detail(403, _ANON_OFFSET, errinfo={})

    # ---------------------------------------------------------- auth ops

    async def login(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/users/login: password (2FA aware), PAT or OAT → ``{token}``."""
        body = self._body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise _bad_request("username and password are required strings", "username")
        now = self.now()
        user = self.state.users.get(username)
        if user is not None and password == user.password:
            if user.totp is not None:
                raise HubHTTPError(
                    401, {"detail": _MFA_REQUIRED, "login_2fa_token": self._issue_2fa(username)}
                )
            return _json(200, {"token": self.issue(username, "user", None)})
        token = self._usable_token(username, password, now)
        if token is not None:
            return _json(200, {"token": self._issue_for(token)})
        raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS})

    async def login_2fa(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/users/2fa-login: the login_2fa_token plus the TOTP code → ``{token}``."""
        body = self._body(request)
        pending, code = body.get("login_2fa_token"), body.get("code")
        if not isinstance(pending, str) or not isinstance(code, str | int):
            raise _bad_request("login_2fa_token and code are required", "code")
        try:
            payload = decode_jwt(pending, self.key)
        except ValueError:
            raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS}) from None
        exp = payload.get("exp")
        user = self.state.users.get(str(payload.get("sub")))
        if (
            payload.get("typ") != "2fa"
            or not isinstance(exp, int | float)
            or self.now() >= exp
            or user is None
            or user.totp is None
            or str(code) != user.totp
        ):
            raise HubHTTPError(401, {"detail": _BAD_CREDENTIALS})
        return _json(200, {"token": self.issue(user.username, "user", None)})

    async def auth_token(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/auth/token: ``{identifier, secret}`` (password, PAT or OAT) → JWT."""
        body = self._body(request)
        identifier, secret = body.get("identifier"), body.get("secret")
        if not isinstance(identifier, str) or not isinstance(secret, str):
            raise _bad_request("identifier and secret are required strings", "identifier")
        now = self.now()
        token = self._usable_token(identifier, secret, now)
        if token is not None:
            return _json(200, {"access_token": self._issue_for(token)})
        user = self.state.users.get(identifier)
        if user is not None and secret == user.password:
            if user.totp is not None:
                raise _detail(
                    401,
                    "Two-factor authentication is enabled for this account: "
                    "use a personal access token.",
                )
            return _json(200, {"access_token": self.issue(identifier, "user", None)})
        raise _detail(401, _BAD_CREDENTIALS)

    def _usable_token(self, owner: str, secret: str, now: float) -> Pat | None:
        token = self.state.by_secret.get(secret)
        if token is None or token.owner != owner or not token.usable(now):
            return None
        token.last_used = now
        return token

    def _issue_for(self, token: Pat) -> str:
        return self.issue(token.owner, "user" if token.kind == "pat" else "org", token.scopes)

    # ------------------------------------------------------ access tokens

    def _own_token(self, request: web.Request) -> tuple[Principal, Pat]:
        who = self._user(request)
        token = self.state.tokens.get(request.match_info["uuid"])
        if token is None or token.kind != "pat" or token.owner != who.sub:
            raise _detail(404, "Not found.")
        return who, token

    async def tokens_list(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/access-tokens: the caller's PATs, newest first (secrets blanked)."""
        who = self._user(request)
        page, size = self._page(request, 10, "drf")
        tokens = self.state.tokens_of(who.sub)
        chunk, nxt, prev = self._paged(request, tokens, page, size)
        return _json(
            200,
            {
                "count": len(tokens),
                "next": nxt,
                "previous": prev,
                "active_count": sum(1 for t in tokens if t.is_active),
                "results": [token_json(t, reveal=False) for t in chunk],
            },
        )

    async def tokens_create(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/access-tokens: create a PAT; the only answer that carries the secret."""
        who = self._user(request)
        body = self._body(request)
        label = _label(body.get("token_label"), required=True)
        scopes = body.get("scopes")
        if (
            not isinstance(scopes, list)
            or not scopes
            or not all(isinstance(s, str) and s in VALID_SCOPES for s in scopes)
        ):
            raise _bad_request(
                f"scopes must be a non-empty list of {', '.join(VALID_SCOPES)}", "scopes"
            )
        now = self.now()
        expires: float | None = None
        raw_exp = body.get("expires_at")
        if raw_exp is not None:
            try:
                expires = parse_ts(raw_exp) if isinstance(raw_exp, str) else None
            except ValueError:
                expires = None
            if expires is None:
                raise _bad_request("expires_at must be an RFC 3339 date-time", "expires_at")
            if expires <= now:
                raise _bad_request("expires_at must be in the future", "expires_at")
        token = self.state.add_token(
            who.sub,
            kind="pat",
            label=label or "",
            scopes=tuple(dict.fromkeys(scopes)),
            secret=None,
            expires_at=expires,
            created=now,
            creator_ip=request.remote or "127.0.0.1",
            creator_ua=request.headers.get("User-Agent", ""),
        )
        self.state.record(
            who.sub,
            "account.access_token.create",
            who.sub,
            who.sub,
            {"token_label": token.label},
            f"created the personal access token {token.label}",
        )
        return _json(201, token_json(token, reveal=True))

    async def tokens_get(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/access-tokens/{uuid}."""
        _, token = self._own_token(request)
        return _json(200, token_json(token, reveal=False))

    async def tokens_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/access-tokens/{uuid}: change the label and/or is_active."""
        who, token = self._own_token(request)
        body = self._body(request)
        label = _label(body.get("token_label"), required=False)
        active = body.get("is_active")
        if active is not None and not isinstance(active, bool):
            raise _bad_request("is_active must be a boolean", "is_active")
        if label is None and active is None:
            raise _bad_request("give token_label and/or is_active to update", "token_label")
        if label is not None:
            token.label = label
        if active is not None:
            token.is_active = active
        self.state.record(
            who.sub,
            "account.access_token.update",
            who.sub,
            who.sub,
            {"token_label": token.label, "is_active": str(token.is_active).lower()},
            f"updated the personal access token {token.label}",
        )
        return _json(200, token_json(token, reveal=False))

    async def tokens_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE /v2/access-tokens/{uuid}."""
        who, token = self._own_token(request)
        self.state.delete_token(token)
        self.state.record(
            who.sub,
            "account.access_token.delete",
            who.sub,
            who.sub,
            {"token_label": token.label},
            f"deleted the personal access token {token.label}",
        )
        return web.Response(status=204)

    # -------------------------------------------------------------- images

    async def images_summary(self, request: web.Request) -> web.StreamResponse:
        """GET …/images-summary: totals that agree with the image list."""
        if not self.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImagesSummary"
        _, repo = self._repo_for_images(request, op)
        active_from = self._active_from(
            request.query.get("active_from"), lambda m: self._aim_error(request, 400, m, op)
        )
        total = len(repo.images)
        active = repo.count_active(active_from)
        return _json(
            200,
            {
                "active_from": format_ts(active_from, 9),
                "statistics": {"total": total, "active": active, "inactive": total - active},
            },
        )

    async def images_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/images: filter by status / currently_tagged, order, paginate."""
        if not self.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImages"
        ns, repo = self._repo_for_images(request, op)
        q = request.query

        def bad(message: str) -> HubHTTPError:
            return self._aim_error(request, 400, message, op)

        active_from = self._active_from(q.get("active_from"), bad)
        status = q.get("status")
        if status not in (None, "active", "inactive"):
            raise bad("status must be 'active' or 'inactive'")
        tagged_raw = q.get("currently_tagged")
        if tagged_raw not in (None, "true", "false", "True", "False", "1", "0"):
            raise bad("currently_tagged must be true or false")
        tagged = None if tagged_raw is None else tagged_raw in ("true", "True", "1")
        ordering = q.get("ordering") or "-last_activity"
        if ordering not in _IMAGE_ORDERINGS:
            raise bad(f"ordering must be one of {', '.join(_IMAGE_ORDERINGS)}")
        page, size = self._page(request, 10, "aim")
        images = repo.sorted_images(ordering)
        if status is not None:
            want = status == "active"
            images = [i for i in images if (i.activity >= active_from) is want]
        if tagged is not None:
            images = [i for i in images if bool(i.tags) is tagged]
        chunk, nxt, prev = self._paged(request, images, page, size)
        body = images_page(ns.name, repo.name, chunk, len(images), (nxt, prev), active_from)
        return web.Response(status=200, body=body, content_type="application/json")

    async def image_tags(self, request: web.Request) -> web.StreamResponse:
        """GET …/images/{digest}/tags: current then historical tags of one image."""
        if not self.image_api:
            return _retired()
        op = "GetNamespacesRepositoriesImagesTags"
        _, repo = self._repo_for_images(request, op)
        digest = request.match_info["digest"]
        img = repo.images.get(digest)
        if img is None:
            raise self._aim_error(request, 404, f"image {digest} not found", op)
        page, size = self._page(request, 10, "aim")
        tags = image_tags(img)
        chunk, nxt, prev = self._paged(request, tags, page, size)
        return _json(200, {"count": len(tags), "next": nxt, "previous": prev, "results": chunk})

    async def delete_images(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/namespaces/{ns}/delete-images: warnings, errors, dry run, deletion."""
        if not self.image_api:
            return _retired()
        op = "PostNamespacesDeleteImages"
        who, ns = self._namespace_for_images(request, op)

        def invalid(message: str) -> HubHTTPError:
            return self._aim_error(
                request, 400, message, op, type="validation", details={"errors": [], "warnings": []}
            )

        body = _CONTEXT.get().json
        if not isinstance(body, dict):
            raise invalid("the request body must be a JSON object")
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise invalid("dry_run must be a boolean")
        active_from = self._active_from(body.get("active_from"), invalid)
        manifests = _manifest_list(body.get("manifests"), invalid)
        if not manifests:
            raise invalid("manifests must list at least one {repository, digest}")
        if len({repo for repo, _ in manifests}) > 1:
            raise invalid("deleting images is limited to a single repository per request")
        ignore = _ignore_list(body.get("ignore_warnings"), invalid)
        outcome = self.state.delete_images(
            ns,
            manifests,
            ignore,
            active_from,
            can_write=ns.level(who) >= WRITE,
            dry_run=dry_run,
            actor=who.sub or "fakehub",
        )
        if outcome.errors or outcome.warnings:
            raise self._aim_error(
                request,
                400,
                "deletion not possible",
                op,
                type="validation",
                details={"errors": outcome.errors, "warnings": outcome.warnings},
            )
        return _json(
            200,
            {
                "dry_run": dry_run,
                "metrics": {
                    "manifest_deletes": outcome.manifest_deletes,
                    "manifest_errors": 0,
                    "tag_deletes": outcome.tag_deletes,
                    "tag_errors": 0,
                },
            },
        )

    # ---------------------------------------------------------- audit logs

    def _account(self, request: web.Request) -> Namespace:
        who = self._who(request, "rpc")
        name = request.match_info["account"]
        ns = self.state.namespaces.get(name)
        if ns is None:
            raise _rpc(404, f"account {name} not found")
        if ns.level(who) < READ:
            raise _rpc(403, f"you do not have access to the audit logs of {name}")
        return ns

    async def audit_logs(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/auditlogs/{account}: ``{logs}`` newest first, filtered, no count."""
        ns = self._account(request)
        q = request.query
        bounds: list[float | None] = []
        for name in ("from", "to"):
            raw = q.get(name)
            try:
                bounds.append(parse_ts(raw) if raw else None)
            except ValueError:
                raise _rpc(400, f"{name} is not an RFC 3339 date-time: {raw!r}") from None
        since, until = bounds
        page, size = self._page(request, 25, "rpc")
        action, name_filter, actor = q.get("action"), q.get("name"), q.get("actor")
        log = self.state.audit.get(ns.name)
        events = log.newest_first() if log is not None else []
        if action or name_filter or actor or since is not None or until is not None:
            events = [
                e
                for e in events
                if (not action or e.action == action)
                and (not name_filter or name_filter in (e.name, e.name.rpartition("/")[2]))
                and (not actor or e.actor == actor)
                and (since is None or e.ts >= since)
                and (until is None or e.ts <= until)
            ]
        start = (page - 1) * size
        return _json(200, {"logs": [event_json(e) for e in events[start : start + size]]})

    async def audit_actions(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/auditlogs/{account}/actions: every action FakeHub records."""
        self._account(request)
        return web.Response(status=200, body=AUDIT_ACTIONS_BODY, content_type="application/json")

    # -------------------------------------------------------- org settings

    def _org(self, request: web.Request, level: int) -> tuple[Principal, Namespace]:
        who = self._who(request)
        ns = self.state.namespaces.get(request.match_info["name"])
        if ns is None or not ns.org:
            raise _detail(404, "Not found.")
        if ns.level(who) < level:
            raise _detail(403, _NO_PERMISSION)
        return who, ns

    async def settings_get(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/orgs/{name}/settings."""
        _, ns = self._org(request, READ)
        return _json(200, {"restricted_images": dict(ns.settings)})

    async def settings_put(self, request: web.Request) -> web.StreamResponse:
        """PUT /v2/orgs/{name}/settings: owners only; all three booleans required."""
        who, ns = self._org(request, ADMIN)
        body = self._body(request)
        wanted = body.get("restricted_images")
        keys = ("enabled", "allow_official_images", "allow_verified_publishers")
        if not isinstance(wanted, dict) or not all(isinstance(wanted.get(k), bool) for k in keys):
            raise _bad_request(
                "restricted_images needs the booleans " + ", ".join(keys), "restricted_images"
            )
        ns.settings = {k: wanted[k] for k in keys}
        self.state.record(
            ns.name,
            "org.settings.update",
            ns.name,
            who.sub or "fakehub",
            {f"restricted_images.{k}": str(v).lower() for k, v in ns.settings.items()},
            f"updated the settings of the organization {ns.name}",
        )
        return _json(200, {"restricted_images": dict(ns.settings)})

    # -------------------------------------------------------- repositories

    async def repo_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/repositories/{ns}/{repo}/: description, full_description, is_private."""
        who = self._who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        if ns is None or repo is None:
            raise _detail(404, "Object not found")
        level = ns.level(who)
        if level < WRITE:
            raise _detail(403, _NO_PERMISSION)
        body = _CONTEXT.get().json
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise _bad_request("The request body must be a JSON object.")
        changes: dict[str, Any] = {}
        for field, kind in (("description", str), ("full_description", str), ("is_private", bool)):
            if field in body:
                if not isinstance(body[field], kind):
                    raise _bad_request(f"{field} must be a {kind.__name__}", field)
                changes[field] = body[field]
        if "description" in changes and len(changes["description"]) > 100:
            raise _bad_request("description must be at most 100 characters", "description")
        now = self.now()
        actor = who.sub or "fakehub"
        if "description" in changes or "full_description" in changes:
            repo.description = changes.get("description", repo.description)
            repo.full_description = changes.get("full_description", repo.full_description)
            self.state.record(
                ns.name, "repo.update", repo.full_name, actor, {},
                f"updated the repository {repo.full_name}",
            )  # fmt: skip
        if "is_private" in changes and changes["is_private"] != repo.is_private:
            repo.is_private = changes["is_private"]
            self.state.record(
                ns.name,
                "repo.change_privacy",
                repo.full_name,
                actor,
                {"privacy": "private" if repo.is_private else "public"},
                f"made the repository {repo.full_name} "
                + ("private" if repo.is_private else "public"),
            )
        if changes:
            repo.modified = now
        return _json(200, repo_info_json(repo, level))

    async def repos_list(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/namespaces/{ns}/repositories: name filter, ordering, Hub's paging rules."""
        who = self._maybe_who(request)
        q = request.query
        page, size = self._page(request, 10, "drf")
        ordering = q.get("ordering") or "-last_updated"
        if ordering not in _REPO_ORDERINGS:
            raise HubHTTPError(
                400,
                {
                    "fields": {
                        "ordering": [
                            "Invalid ordering value. Must be one of: " + ", ".join(_REPO_ORDERINGS)
                        ]
                    },
                    "text": "Invalid ordering value",
                    "detail": "Invalid ordering value",
                    "message": "Invalid ordering value",
                },
            )
        self._anonymous_offset(who, page, size)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        # Like Hub: an unknown namespace lists as an empty page (not a 404).
        show_private = ns is not None and who is not None and ns.level(who) >= READ
        name = (q.get("name") or "").lower()
        repos = [
            r
            for r in (ns.repos.values() if ns is not None else ())
            if (show_private or not r.is_private) and (not name or name in r.name)
        ]
        field = ordering.lstrip("-")
        if field == "name":
            repos.sort(key=lambda r: r.name)
        elif field == "pull_count":
            repos.sort(key=lambda r: (r.pull_count, r.name))
        else:
            repos.sort(key=lambda r: (r.updated if r.updated is not None else -1.0, r.name))
        if ordering.startswith("-"):
            repos.reverse()
        if page > 1 and (page - 1) * size >= len(repos):
            raise _detail(404, "Invalid page.", errinfo={})
        chunk, nxt, prev = self._paged(request, repos, page, size)
        return _json(
            200,
            {
                "count": len(repos),
                "next": nxt,
                "previous": prev,
                "results": [repo_entry_json(r) for r in chunk],
            },
        )

    async def repo_get(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD /v2/namespaces/{ns}/repositories/{repo}."""
        _, level, repo = self._visible_repo(request)
        return _json(200, repo_info_json(repo, level))

    async def repo_tags(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD …/tags: the current tags, most recently pushed first."""
        who, _, repo = self._visible_repo(request)
        if request.method == "HEAD":
            if not repo.tags:
                raise _detail(404, "Object not found", errinfo={})
            return web.Response(status=200)
        page, size = self._page(request, 10, "drf")
        self._anonymous_offset(who, page, size)
        tags = sorted(repo.tags.values(), key=lambda t: (t.pushed, t.name), reverse=True)
        chunk, nxt, prev = self._paged(request, tags, page, size)
        active_from = default_active_from(self.now())
        ids = self.user_ids()
        results = [tag_json(repo, t, repo.images[t.digest], active_from, ids) for t in chunk]
        return _json(200, {"count": len(tags), "next": nxt, "previous": prev, "results": results})

    async def tag_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/: 204; an immutable tag is refused
        with a 403 whose message says so (hub-tool maps Hub's 403 to "forbidden")."""
        who = self._who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        level = ns.level(who) if ns is not None else 0
        if ns is None or repo is None or (repo.is_private and level < READ):
            raise _detail(404, "Object not found", errinfo={})
        if level < WRITE:
            raise _detail(403, _NO_PERMISSION, errinfo={})
        name = request.match_info["tag"]
        if name not in repo.tags:
            raise _detail(404, "Object not found", errinfo={})
        if repo.immutable(name):
            raise _detail(
                403,
                f"tag {name} is immutable: the repository's immutable tags rules forbid "
                "deleting or overwriting it",
                errinfo={"immutable_tags_rules": list(repo.immutable_rules)},
            )
        self.state.delete_tag(repo, name, who.sub or "fakehub")
        return web.Response(status=204)

    async def repo_tag(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD …/tags/{tag}."""
        _, _, repo = self._visible_repo(request)
        tag = repo.tags.get(request.match_info["tag"])
        if tag is None:
            raise _detail(404, "Object not found", errinfo={})
        active_from = default_active_from(self.now())
        return _json(
            200, tag_json(repo, tag, repo.images[tag.digest], active_from, self.user_ids())
        )


_RETIRED_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    b"<title>Docker Hub | 404 Page Not Found</title></head>\n<body>\n"
    b"<h1>404</h1><p>Page Not Found</p>\n</body>\n</html>\n"
)


def _retired() -> web.Response:
    """What Hub answers since 2023-12-11 for the retired image API: a 404 HTML page."""
    return web.Response(status=404, body=_RETIRED_PAGE, content_type="text/html")


def _loads(raw: bytes) -> Any:
    return json.loads(raw)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _scope_level(scopes: list[str]) -> int:
    levels = {"repo:public_read": 0, "repo:read": READ, "repo:write": WRITE, "repo:admin": ADMIN}
    return max((levels.get(s, 0) for s in scopes), default=0)


def _label(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise _bad_request("token_label must be a string of 1 to 100 characters", "token_label")
    return value


def _manifest_list(value: Any, invalid: Callable[[str], HubHTTPError]) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("manifests must be a list of {repository, digest}")
    out: list[tuple[str, str]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("repository"), str)
            or not isinstance(item.get("digest"), str)
        ):
            raise invalid("each manifest needs a repository and a digest (strings)")
        out.append((item["repository"], item["digest"]))
    return out


def _ignore_list(
    value: Any, invalid: Callable[[str], HubHTTPError]
) -> list[tuple[str, str, str, tuple[str, ...] | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("ignore_warnings must be a list")
    out: list[tuple[str, str, str, tuple[str, ...] | None]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("repository"), str)
            or not isinstance(item.get("digest"), str)
            or item.get("warning") not in ("is_active", "current_tag")
        ):
            raise invalid(
                "each ignored warning needs repository, digest and warning "
                "(is_active or current_tag)"
            )
        tags = item.get("tags")
        if tags is not None and (
            not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
        ):
            raise invalid("ignore_warnings[].tags must be a list of strings")
        out.append(
            (item["repository"], item["digest"], item["warning"], tuple(tags) if tags else None)
        )
    return out
