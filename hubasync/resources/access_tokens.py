"""Personal access tokens of the authenticated user (seed + ``expires_at`` from latest)."""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..models.access_tokens import (
    ACCESS_TOKEN_SCOPES,
    AccessToken,
    AccessTokenScope,
    CreateAccessTokenRequest,
    UpdateAccessTokenRequest,
)
from ._base import Resource

__all__ = ["AccessTokens"]


def _label(label: object) -> str:
    text = v.check_text(label, "label")
    if len(text) > 100:
        raise ValueError(f"label is {len(text)} characters long; Hub allows 1 to 100")
    return text


class AccessTokens(Resource):
    """Create, list, inspect, rename, (de)activate and delete personal access tokens."""

    async def create(
        self,
        label: str,
        scopes: Iterable[AccessTokenScope],
        *,
        expires_at: datetime | None = None,
    ) -> AccessToken:
        """Create a token; its secret value is in ``.token`` of the answer, and only there.

        Not retried after the request may have reached Hub: a retry could create a
        second token.
        """
        if isinstance(scopes, str):
            raise ValueError(f"scopes must be a list of scopes, e.g. ['repo:read'], not {scopes!r}")
        wanted: list[str] = list(scopes)
        if not wanted:
            raise ValueError(f"scopes must not be empty; choose from {list(ACCESS_TOKEN_SCOPES)}")
        unknown = [s for s in wanted if s not in ACCESS_TOKEN_SCOPES]
        if unknown:
            raise ValueError(
                f"unknown scope(s) {unknown}; Docker Hub knows {list(ACCESS_TOKEN_SCOPES)}"
            )
        if expires_at is not None:
            v.check_datetime(expires_at, "expires_at")
            if expires_at <= datetime.now(UTC):
                raise ValueError(
                    f"expires_at {expires_at.isoformat()} is not in the future; pass a later "
                    "date, or None for a token that does not expire"
                )
        body = unstructure(
            CreateAccessTokenRequest(
                token_label=_label(label), scopes=wanted, expires_at=expires_at
            )
        )
        resp = await self._send("access_tokens.create", "POST", "/v2/access-tokens", json=body)
        return self._structure(resp.data, AccessToken, "access_tokens.create", resp.status)

    def list(self, *, page_size: int = 100, prefetch: int | None = None) -> Paginator[AccessToken]:
        """The user's tokens (without their secret values), page by page."""
        return self._paginate(
            "access_tokens.list",
            "/v2/access-tokens",
            AccessToken,
            page_size=page_size,
            prefetch=prefetch,
        )

    async def get(self, uuid: str | _uuid.UUID) -> AccessToken:
        """One token by its UUID."""
        path = f"/v2/access-tokens/{v.token_uuid(uuid)}"
        return await self._get("access_tokens.get", path, AccessToken)

    async def update(
        self,
        uuid: str | _uuid.UUID,
        *,
        label: str | None = None,
        is_active: bool | None = None,
    ) -> AccessToken:
        """Rename a token and/or turn it on or off; fields left ``None`` are unchanged."""
        path = f"/v2/access-tokens/{v.token_uuid(uuid)}"
        if label is None and is_active is None:
            raise ValueError("update needs label= and/or is_active=; nothing to change")
        if is_active is not None and not isinstance(is_active, bool):
            raise ValueError(f"is_active must be True, False or None, got {is_active!r}")
        body = unstructure(
            UpdateAccessTokenRequest(
                token_label=_label(label) if label is not None else None, is_active=is_active
            )
        )
        resp = await self._send("access_tokens.update", "PATCH", path, json=body)
        return self._structure(resp.data, AccessToken, "access_tokens.update", resp.status)

    async def delete(self, uuid: str | _uuid.UUID) -> None:
        """Delete a token for good (a 404 on a retry after a lost answer is not an error)."""
        path = f"/v2/access-tokens/{v.token_uuid(uuid)}"
        await self._send("access_tokens.delete", "DELETE", path, expect_body=False)
