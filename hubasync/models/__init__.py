"""hubasync.models: attrs classes for every body the client sends and receives.

Attribute names are the JSON field names of Hub's API. Instances are frozen; they are built
from JSON by the converter in ``hubasync._convert`` (datetimes as aware UTC, enums that keep
unknown values) and turned back into request bodies by the same converter.
"""

from __future__ import annotations

from ._base import ListResponse, OpenStrEnum
from .access_tokens import (
    ACCESS_TOKEN_SCOPES,
    AccessToken,
    AccessTokenListResponse,
    CreateAccessTokenRequest,
    UpdateAccessTokenRequest,
)
from .audit_logs import (
    AuditAction,
    AuditActionGroup,
    AuditActionsResponse,
    AuditLogEvent,
    AuditLogsResponse,
)
from .auth import (
    AuthTokenRequest,
    LoginFailure,
    LoginRequest,
    LoginResult,
    TokenResponse,
    TwoFactorLoginRequest,
)
from .groups import AccountType, AddGroupMemberRequest, GroupMember, GroupRequest, OrgGroup
from .images import (
    DeleteErrorKind,
    DeleteFailure,
    DeleteImagesErrorDetails,
    DeleteImagesErrorInfo,
    DeleteImagesErrorResponse,
    DeleteImagesRequest,
    DeleteImagesResult,
    DeleteMetrics,
    DeleteWarning,
    DeleteWarningKind,
    Image,
    ImagesStatistics,
    ImagesSummary,
    ImageStatus,
    ImageTag,
    ManifestRef,
)
from .org_access_tokens import (
    CreateOrgAccessTokenRequest,
    OrgAccessToken,
    OrgAccessTokenResource,
    OrgTokenResourceType,
    UpdateOrgAccessTokenRequest,
)
from .orgs import OrgSettings, RestrictedImages
from .repositories import (
    Category,
    ImmutableTagsSettings,
    Repository,
    RepositoryPermissions,
    Tag,
    TagImage,
    TagLayer,
    TagStatus,
    UpdateRepositoryRequest,
)

__all__ = [
    "ACCESS_TOKEN_SCOPES",
    "AccessToken",
    "AccessTokenListResponse",
    "AccountType",
    "AddGroupMemberRequest",
    "AuditAction",
    "AuditActionGroup",
    "AuditActionsResponse",
    "AuditLogEvent",
    "AuditLogsResponse",
    "AuthTokenRequest",
    "Category",
    "CreateAccessTokenRequest",
    "CreateOrgAccessTokenRequest",
    "DeleteErrorKind",
    "DeleteFailure",
    "DeleteImagesErrorDetails",
    "DeleteImagesErrorInfo",
    "DeleteImagesErrorResponse",
    "DeleteImagesRequest",
    "DeleteImagesResult",
    "DeleteMetrics",
    "DeleteWarning",
    "DeleteWarningKind",
    "GroupMember",
    "GroupRequest",
    "Image",
    "ImageStatus",
    "ImageTag",
    "ImagesStatistics",
    "ImagesSummary",
    "ImmutableTagsSettings",
    "ListResponse",
    "LoginFailure",
    "LoginRequest",
    "LoginResult",
    "ManifestRef",
    "OpenStrEnum",
    "OrgAccessToken",
    "OrgAccessTokenResource",
    "OrgGroup",
    "OrgSettings",
    "OrgTokenResourceType",
    "Repository",
    "RepositoryPermissions",
    "RestrictedImages",
    "Tag",
    "TagImage",
    "TagLayer",
    "TagStatus",
    "TokenResponse",
    "TwoFactorLoginRequest",
    "UpdateAccessTokenRequest",
    "UpdateOrgAccessTokenRequest",
    "UpdateRepositoryRequest",
]
