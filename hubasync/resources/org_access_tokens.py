"""Organization access tokens (OATs): ``/v2/orgs/{name}/access-tokens`` (current spec)."""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..models.org_access_tokens import (
    CreateOrgAccessTokenRequest,
    OrgAccessToken,
    OrgAccessTokenResource,
    OrgTokenResourceType,
    UpdateOrgAccessTokenRequest,
)
from ._base import Resource

__all__ = ["OrgAccessTokens"]


def _token_id(value: object) -> str:
    return v.hub_uuid(value, param="token_id", source="org_access_tokens.list()")


def _label(value: object) -> str:
    text = v.check_text(value, "label")
    if len(text) > 100:
        raise ValueError(f"label is {len(text)} characters long; pass 1 to 100")
    return text


def _resources(resources: Iterable[OrgAccessTokenResource]) -> list[OrgAccessTokenResource]:
    if isinstance(resources, OrgAccessTokenResource | str):
        raise ValueError("resources must be a list of OrgAccessTokenResource, not one item")
    out = list(resources)
    for item in out:
        if not isinstance(item, OrgAccessTokenResource):
            raise ValueError(
                "resources must hold hubasync.models.OrgAccessTokenResource values, e.g. "
                "OrgAccessTokenResource(type='TYPE_REPO', path='myorg/app', "
                f"scopes=['repo-pull']); got {type(item).__name__}"
            )
        if not item.type.is_known:
            raise ValueError(
                f"resource type {item.type.value!r} is not one of "
                f"{', '.join(repr(t.value) for t in OrgTokenResourceType)}"
            )
        v.check_text(item.path, "resource path")
        if isinstance(item.scopes, str) or not item.scopes:
            raise ValueError(f"resource {item.path!r} needs a list of scopes, e.g. ['repo-pull']")
        for scope in item.scopes:
            v.check_text(scope, f"scope of resource {item.path!r}")
    return out


class OrgAccessTokens(Resource):
    """Create, list, inspect, change and delete an organization's access tokens."""

    def _path(self, org: str, token_id: object | None = None) -> str:
        base = f"/v2/orgs/{v.namespace(org, param='org')}/access-tokens"
        return base if token_id is None else f"{base}/{_token_id(token_id)}"

    def list(
        self, org: str, *, page_size: int = 100, prefetch: int | None = None
    ) -> Paginator[OrgAccessToken]:
        """The organization's tokens (without secrets or resources), page by page."""
        return self._paginate(
            "org_access_tokens.list",
            self._path(org),
            OrgAccessToken,
            page_size=page_size,
            prefetch=prefetch,
        )

    async def create(
        self,
        org: str,
        label: str,
        resources: Iterable[OrgAccessTokenResource],
        *,
        description: str | None = None,
        expires_at: datetime | None = None,
    ) -> OrgAccessToken:
        """Create a token; its secret (``dckr_oat_…``) is in ``.token`` of the answer only.

        Never retried after the request may have reached Hub: a retry could make a second
        token.
        """
        path = self._path(org)
        wanted = _resources(resources)
        if description is not None:
            v.check_text(description, "description", allow_empty=True)
        if expires_at is not None:
            v.check_future(expires_at, "expires_at", datetime.now(UTC))
        body = unstructure(
            CreateOrgAccessTokenRequest(
                label=_label(label),
                description=description,
                resources=wanted,
                expires_at=expires_at,
            )
        )
        op = "org_access_tokens.create"
        resp = await self._send(op, "POST", path, json=body, idempotent=False)
        return self._structure(resp.data, OrgAccessToken, op, resp.status)

    async def get(self, org: str, token_id: str | _uuid.UUID) -> OrgAccessToken:
        """One token, with its resources (without its secret)."""
        return await self._get("org_access_tokens.get", self._path(org, token_id), OrgAccessToken)

    async def update(
        self,
        org: str,
        token_id: str | _uuid.UUID,
        *,
        label: str | None = None,
        description: str | None = None,
        resources: Iterable[OrgAccessTokenResource] | None = None,
        is_active: bool | None = None,
    ) -> OrgAccessToken:
        """Change a token; fields left ``None`` are unchanged (``resources`` replaces all)."""
        path = self._path(org, token_id)
        if label is None and description is None and resources is None and is_active is None:
            raise ValueError(
                "update needs label=, description=, resources= and/or is_active=; nothing to change"
            )
        if is_active is not None and not isinstance(is_active, bool):
            raise ValueError(f"is_active must be True, False or None, got {is_active!r}")
        if description is not None:
            v.check_text(description, "description", allow_empty=True)
        body = unstructure(
            UpdateOrgAccessTokenRequest(
                label=_label(label) if label is not None else None,
                description=description,
                resources=_resources(resources) if resources is not None else None,
                is_active=is_active,
            )
        )
        op = "org_access_tokens.update"
        resp = await self._send(op, "PATCH", path, json=body, idempotent=True)
        return self._structure(resp.data, OrgAccessToken, op, resp.status)

    async def delete(self, org: str, token_id: str | _uuid.UUID) -> None:
        """Delete a token for good (a 404 on a retry after a lost answer is not an error)."""
        path = self._path(org, token_id)
        await self._send("org_access_tokens.delete", "DELETE", path, expect_body=False)
