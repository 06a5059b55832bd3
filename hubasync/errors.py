"""The public exception hierarchy of hubasync.

Every fault the client meets surfaces as one of these, never as a bare aiohttp, json or
cattrs exception. Each carries what Hub said (``status``, ``message``, ``txnid``, ``body``)
and a message a person can act on. No error ever contains a bearer token, password or PAT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.images import DeleteFailure, DeleteWarning

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "DeleteImagesError",
    "HubError",
    "ImmutableTagError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "TransportError",
    "TwoFactorRequiredError",
]


class HubError(Exception):
    """Base class of every error hubasync raises for a failed operation.

    Attributes:
        status: the HTTP status Hub answered with, or ``None`` when no response arrived.
        message: a sentence saying what failed and what to do about it.
        txnid: Hub's transaction id for the call, when Hub sent one (quote it to support).
        body: the decoded response body (dict, list or str), or ``None``.
        operation: the name of the hubasync operation that failed, e.g. ``"images.list"``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        txnid: str | None = None,
        body: Any = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.txnid = txnid
        self.body = body
        self.operation = operation

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"[HTTP {self.status}]")
        if self.txnid:
            parts.append(f"(txnid {self.txnid})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class BadRequestError(HubError):
    """Hub rejected the request as invalid (400, 409 or 422).

    ``fields`` maps a request field to Hub's complaints about it, when Hub said which.
    """

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.fields: dict[str, list[str]] = dict(fields or {})


class DeleteImagesError(BadRequestError):
    """``delete-images`` refused: ``errors`` cannot be overridden, ``warnings`` can.

    Pass ``warnings`` back as ``ignore_warnings=`` to confirm a deletion Hub warned about.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[DeleteFailure] = (),
        warnings: Sequence[DeleteWarning] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.errors: list[DeleteFailure] = list(errors)
        self.warnings: list[DeleteWarning] = list(warnings)


class AuthenticationError(HubError):
    """The credentials or token were refused (401), or login failed."""


class TwoFactorRequiredError(AuthenticationError):
    """The account needs a second factor and no ``two_factor`` callable was given."""


class PermissionDeniedError(HubError):
    """Hub answered 403: the credentials may not do this (or anonymous paging went too far)."""


class ImmutableTagError(PermissionDeniedError):
    """Hub refused to delete a tag because the repository's immutable-tag rules cover it.

    Hub answers such a refusal with a 403 (as ``docker/hub-tool`` sees it) whose message
    names immutability; ``tag`` is the refused tag.
    """

    def __init__(self, message: str, *, tag: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.tag = tag


class NotFoundError(HubError):
    """Hub answered 404: the namespace, repository, tag, image or token does not exist."""


class RateLimitError(HubError):
    """Hub's rate limit would need a wait longer than ``max_wait`` (or too many 429s).

    ``retry_at`` is the local unix time (``time.time()`` scale) when Hub accepts requests
    again, or ``None`` when Hub gave no hint.
    """

    def __init__(self, message: str, *, retry_at: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_at = retry_at


class ServerError(HubError):
    """Hub failed (5xx) and retries, where allowed, did not help."""


class TransportError(HubError):
    """No usable response: connection refused or reset, timeout, or a body cut short."""


class ResponseValidationError(HubError):
    """Hub's response was complete but not JSON, or did not fit the expected model."""
