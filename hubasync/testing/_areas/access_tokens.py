"""Personal access tokens (``/v2/access-tokens…``): the caller's own, secrets shown once."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._http import (
    bad_request,
    detail,
    json_response,
)
from .._render import token_json
from .._state import (
    VALID_SCOPES,
    Pat,
    Principal,
)
from ._base import Area

__all__ = ["AccessTokensArea"]


class AccessTokensArea(Area):
    """Personal access tokens (``/v2/access-tokens…``): the caller's own."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        self.add(app, "GET", "/v2/access-tokens", self.tokens_list)
        self.add(app, "POST", "/v2/access-tokens", self.tokens_create)
        self.add(app, "GET", "/v2/access-tokens/{uuid}", self.tokens_get)
        self.add(app, "PATCH", "/v2/access-tokens/{uuid}", self.tokens_patch)
        self.add(app, "DELETE", "/v2/access-tokens/{uuid}", self.tokens_delete)

    def _own_token(self, request: web.Request) -> tuple[Principal, Pat]:
        who = self.api._user(request)
        token = self.state.tokens.get(request.match_info["uuid"])
        if token is None or token.kind != "pat" or token.owner != who.sub:
            raise detail(404, "Not found.")
        return who, token

    async def tokens_list(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/access-tokens: the caller's PATs, newest first (secrets blanked)."""
        who = self.api._user(request)
        tokens = self.state.tokens_of(who.sub)
        answer = self.listing(request, tokens, lambda t: token_json(t, reveal=False))
        answer["active_count"] = sum(1 for t in tokens if t.is_active)
        return json_response(200, answer)

    async def tokens_create(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/access-tokens: create a PAT; the only answer that carries the secret."""
        who = self.api._user(request)
        body = self.api._body(request)
        label = _label(body.get("token_label"), required=True)
        scopes = body.get("scopes")
        if (
            not isinstance(scopes, list)
            or not scopes
            or not all(isinstance(s, str) and s in VALID_SCOPES for s in scopes)
        ):
            raise bad_request(
                f"scopes must be a non-empty list of {', '.join(VALID_SCOPES)}", "scopes"
            )
        now = self.now()
        expires = self.expires_at(body.get("expires_at"))
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
        return json_response(201, token_json(token, reveal=True))

    async def tokens_get(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/access-tokens/{uuid}."""
        _, token = self._own_token(request)
        return json_response(200, token_json(token, reveal=False))

    async def tokens_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/access-tokens/{uuid}: change the label and/or is_active."""
        who, token = self._own_token(request)
        body = self.api._body(request)
        label = _label(body.get("token_label"), required=False)
        active = body.get("is_active")
        if active is not None and not isinstance(active, bool):
            raise bad_request("is_active must be a boolean", "is_active")
        if label is None and active is None:
            raise bad_request("give token_label and/or is_active to update", "token_label")
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
        return json_response(200, token_json(token, reveal=False))

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


def _label(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise bad_request("token_label must be a string of 1 to 100 characters", "token_label")
    return value
