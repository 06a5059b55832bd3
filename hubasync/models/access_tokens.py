"""Models of the personal access token (PAT) endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias, get_args

import attrs

from ._base import ListResponse

__all__ = [
    "ACCESS_TOKEN_SCOPES",
    "AccessToken",
    "AccessTokenScope",
    "AccessTokenListResponse",
    "CreateAccessTokenRequest",
    "UpdateAccessTokenRequest",
]

#: The scopes a personal access token may carry, strongest first. A scope implies the weaker
#: ones: ``repo:write`` also grants ``repo:read`` and ``repo:public_read``.
AccessTokenScope: TypeAlias = Literal["repo:admin", "repo:write", "repo:read", "repo:public_read"]
ACCESS_TOKEN_SCOPES: tuple[AccessTokenScope, ...] = get_args(AccessTokenScope)


@attrs.frozen(kw_only=True)
class AccessToken:
    """A personal access token, as Hub describes it.

    ``token`` holds the secret only in the answer to ``create`` (Hub never shows it again;
    lists and gets carry an empty string); it is left out of ``repr``.

    Attributes:
        uuid: the token's id.
        client_id: the client that created it, e.g. ``"HUB"``.
        creator_ip: the IP address it was created from.
        creator_ua: the user agent that created it.
        created_at: when it was created.
        last_used: when it was last used, ``None`` if never.
        generated_by: how it was made, e.g. ``"manual"``.
        is_active: whether it can be used.
        token: the secret (create only).
        token_label: the friendly name given to it.
        scopes: the scopes granted, e.g. ``["repo:read"]``.
        expires_at: when it stops working, ``None`` if never.
    """

    uuid: str
    client_id: str | None = None
    creator_ip: str | None = None
    creator_ua: str | None = None
    created_at: datetime | None = None
    last_used: datetime | None = None
    generated_by: str | None = None
    is_active: bool | None = None
    token: str | None = attrs.field(default=None, repr=False)
    token_label: str | None = None
    scopes: list[str] = attrs.field(factory=list)
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AccessTokenListResponse(ListResponse[AccessToken]):
    """One page of the personal access token list.

    Attributes:
        active_count: how many of the tokens are active.
    """

    active_count: int | None = None


@attrs.frozen(kw_only=True)
class CreateAccessTokenRequest:
    """The request body that creates a personal access token.

    Attributes:
        token_label: a friendly name (1 to 100 characters).
        scopes: the scopes to grant, from ``ACCESS_TOKEN_SCOPES``.
        expires_at: when the token should stop working; ``None`` for never.
    """

    token_label: str
    scopes: list[str]
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class UpdateAccessTokenRequest:
    """The request body that renames, enables or disables a personal access token.

    Attributes:
        token_label: a new friendly name (1 to 100 characters), or ``None`` to keep it.
        is_active: ``True`` to enable, ``False`` to disable, ``None`` to keep.
    """

    token_label: str | None = None
    is_active: bool | None = None
