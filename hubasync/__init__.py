"""hubasync: an asyncio client for the Docker Hub API.

Typed resources for every documented operation, a rate limiter that reads Hub's headers,
retries with jittered backoff, async pagination with prefetch, and bounded fan-out.
"""

from __future__ import annotations

from ._client import HubClient
from ._convert import to_dict, to_json
from ._pagination import Page, Paginator
from ._ratelimit import AdaptiveTokenBucket, BudgetUpdate, RateLimiter, RateLimitInfo
from ._transport import ClientStats
from ._version import __version__
from .errors import (
    AuthenticationError,
    BadRequestError,
    DeleteImagesError,
    HubError,
    ImmutableTagError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TransportError,
    TwoFactorRequiredError,
)
from .fanout import Failed, Ok, Outcome, fan_out

__all__ = [
    "AdaptiveTokenBucket",
    "AuthenticationError",
    "BadRequestError",
    "BudgetUpdate",
    "ClientStats",
    "DeleteImagesError",
    "Failed",
    "HubClient",
    "HubError",
    "ImmutableTagError",
    "NotFoundError",
    "Ok",
    "Outcome",
    "Page",
    "Paginator",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "RateLimiter",
    "ResponseValidationError",
    "ServerError",
    "TransportError",
    "TwoFactorRequiredError",
    "__version__",
    "fan_out",
    "to_dict",
    "to_json",
]
