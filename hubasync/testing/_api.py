"""FakeHub's application core: configuration, the server clock, bearer tokens, and the
helpers every API area's handlers use. Middlewares are in ``_middleware``, handlers in
``_areas`` (one module per API area, mirroring ``hubasync/resources``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._clock import format_http_date
from ._faults import FaultEngine
from ._http import (
    CONTEXT,
    NO_CREDENTIALS,
    RequestRecord,
    bad_request,
    detail,
    int_param,
    style_error,
)
from ._jwt import decode_jwt, encode_jwt
from ._limits import FixedWindowLimiter
from ._render import page_links
from ._state import ADMIN, READ, SUPER, WRITE, HubState, Principal

__all__ = ["Api", "scope_level"]


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

    # ------------------------------------------------------- clock

    def now(self) -> float:
        """The server clock: the injected clock plus the configured skew."""
        return self.clock() + self.clock_skew_s

    def date(self, now: float) -> str:
        """The ``Date`` header value for ``now`` (cached per second)."""
        sec = math.floor(now)
        if self._date_cache[0] != sec:
            self._date_cache = (sec, format_http_date(sec))
        return self._date_cache[1]

    # ------------------------------------------------------ tokens

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
        level = scope_level(list(scopes)) if scopes is not None else ADMIN
        self._cache_principal(token, Principal(sub, kind, level, now + life))
        return token

    def _cache_principal(self, token: str, principal: Principal) -> None:
        if len(self._token_cache) > 100_000:
            self._token_cache.clear()  # tokens still verify from their claims
        self._token_cache[token] = principal

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
                level = scope_level(scope.split())
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

    # ---------------------------------------- helpers for handlers

    def _who(self, request: web.Request, style: str = "detail") -> Principal:
        """The caller of a private endpoint (401 without valid credentials)."""
        principal = CONTEXT.get().principal
        if principal is not None:
            return principal
        error = CONTEXT.get().auth_error
        if error is None and not self.require_auth:
            return SUPER
        raise style_error(style, 401, error or NO_CREDENTIALS)

    def _maybe_who(self, request: web.Request) -> Principal | None:
        """The caller of a public endpoint: None if anonymous; 401 for a bad token."""
        principal = CONTEXT.get().principal
        if principal is not None:
            return principal
        error = CONTEXT.get().auth_error
        if error is not None:
            raise detail(401, error)
        return None if self.require_auth else SUPER

    def _user(self, request: web.Request) -> Principal:
        """A caller that must be a user (PAT management)."""
        who = self._who(request)
        if who.kind == "org":
            raise detail(403, "Organization access tokens cannot manage personal access tokens.")
        if who.kind == "super":
            raise detail(401, NO_CREDENTIALS)
        return who

    def _body(self, request: web.Request) -> dict[str, Any]:
        body = CONTEXT.get().json
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    def _page(self, request: web.Request, default_size: int, style: str) -> tuple[int, int]:
        q = request.query
        page = int_param(q, "page", 1, style)
        size = int_param(q, "page_size", default_size, style)
        if page < 1:
            raise style_error(style, 400, "page must be a positive integer", field="page")
        if size < 1 or size > 100:
            raise style_error(style, 400, "page_size must be between 1 and 100", field="page_size")
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


def scope_level(scopes: list[str]) -> int:
    """The highest access level a token's scopes grant."""
    levels = {"repo:public_read": 0, "repo:read": READ, "repo:write": WRITE, "repo:admin": ADMIN}
    return max((levels.get(s, 0) for s in scopes), default=0)
