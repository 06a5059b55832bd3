"""Organization access tokens (``dckr_oat_…``): list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._clock import format_ts
from .._org_model import OrgData, check_resources, flat_scopes
from .._org_state import OrgAdmin
from .._state import Pat, Principal
from ._base import Area, bad_request, detail, json_response

__all__ = ["OrgTokensArea", "org_token_json"]


def org_token_json(
    admin: OrgAdmin, token: Pat, *, resources: bool = True, secret: bool = False
) -> dict[str, Any]:
    """An ``orgAccessToken`` (plus ``resources``; plus ``token`` only in the create answer)."""
    details = admin.details(token)
    body: dict[str, Any] = {
        "id": token.uuid,
        "label": token.label,
        "description": details.description,
        "created_by": details.created_by,
        "is_active": token.is_active,
        "created_at": format_ts(token.created),
        "expires_at": format_ts(token.expires_at) if token.expires_at is not None else None,
        "last_used_at": format_ts(token.last_used) if token.last_used is not None else None,
    }
    if resources:
        body["resources"] = [dict(r, scopes=list(r["scopes"])) for r in details.resources]
    if secret:
        body["token"] = token.secret
    return body


def _label(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise bad_request("label must be a string of 1 to 100 characters", "label")
    return value


def _description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise bad_request("description must be a string", "description")
    return value


class OrgTokensArea(Area):
    """``/v2/orgs/{name}/access-tokens…``: owners manage the organization's tokens."""

    def routes(self, app: web.Application) -> None:
        """Register the organization access token operations."""
        self.add(app, "GET", "/v2/orgs/{name}/access-tokens", self.tokens_list)
        self.add(app, "POST", "/v2/orgs/{name}/access-tokens", self.token_create)
        one = "/v2/orgs/{org_name}/access-tokens/{access_token_id}"
        self.add(app, "GET", one, self.token_get)
        self.add(app, "PATCH", one, self.token_patch)
        self.add(app, "DELETE", one, self.token_delete)

    def _owner(self, request: web.Request, key: str) -> tuple[Principal, OrgData]:
        return self.org(request, "owner", key)

    def _token(self, request: web.Request) -> tuple[Principal, OrgData, Pat]:
        who, data = self._owner(request, "org_name")
        token = self.state.tokens.get(request.match_info["access_token_id"])
        if token is None or token.kind != "oat" or token.owner != data.ns.name:
            raise detail(404, "Not found.")
        return who, data, token

    async def tokens_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/access-tokens: newest first; ``total``, not ``count``."""
        _, data = self._owner(request, "name")
        tokens = self.state.tokens_of(data.ns.name, "oat")
        render = lambda t: org_token_json(self.admin, t, resources=False)  # noqa: E731
        return json_response(200, self.listing(request, tokens, render, total="total"))

    async def token_create(self, request: web.Request) -> web.StreamResponse:
        """POST …/access-tokens: the only answer that shows the ``dckr_oat_`` secret."""
        who, data = self._owner(request, "name")
        body = self.body(request)
        label = _label(body.get("label"), required=True) or ""
        description = _description(body.get("description")) or ""
        resources = check_resources(body.get("resources", []))
        expires = self.expires_at(body.get("expires_at"))
        token = self.admin.add_token(
            data.ns.name,
            label=label,
            description=description,
            resources=resources,
            created_by=self.actor(who),
            expires_at=expires,
            created=self.now(),
        )
        self.state.record(
            data.ns.name, "org.access_token.create", data.ns.name, self.actor(who),
            {"token_label": label}, f"created the organization access token {label}",
        )  # fmt: skip
        return json_response(201, org_token_json(self.admin, token, secret=True))

    async def token_get(self, request: web.Request) -> web.StreamResponse:
        """GET …/access-tokens/{access_token_id} (the secret is never shown again)."""
        _, _, token = self._token(request)
        return json_response(200, org_token_json(self.admin, token))

    async def token_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH …/access-tokens/{access_token_id}: label, description, resources, is_active."""
        who, data, token = self._token(request)
        body = self.body(request)
        label = _label(body.get("label"), required=False)
        description = _description(body.get("description"))
        resources = check_resources(body["resources"]) if "resources" in body else None
        active = body.get("is_active")
        if active is not None and not isinstance(active, bool):
            raise bad_request("is_active must be a boolean", "is_active")
        details = self.admin.details(token)
        if label is not None:
            token.label = label
        if description is not None:
            details.description = description
        if resources is not None:
            details.resources = resources
            token.scopes = flat_scopes(resources)
        if active is not None:
            token.is_active = active
        self.state.record(
            data.ns.name, "org.access_token.update", data.ns.name, self.actor(who),
            {"token_label": token.label, "is_active": str(token.is_active).lower()},
            f"updated the organization access token {token.label}",
        )  # fmt: skip
        return json_response(200, org_token_json(self.admin, token))

    async def token_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE …/access-tokens/{access_token_id}: its secret can no longer log in."""
        who, data, token = self._token(request)
        self.state.delete_token(token)
        self.admin.tokens.pop(token.uuid, None)
        self.state.record(
            data.ns.name, "org.access_token.delete", data.ns.name, self.actor(who),
            {"token_label": token.label}, f"deleted the organization access token {token.label}",
        )  # fmt: skip
        return web.Response(status=204)
