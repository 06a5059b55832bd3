"""FakeHub's HTTP handlers, one module per API area (mirroring ``hubasync/resources``)."""

from __future__ import annotations

from .access_tokens import AccessTokensArea
from .audit_logs import AuditLogsArea
from .auth import AuthArea
from .groups import GroupsArea
from .images import ImagesArea
from .invites import InvitesArea
from .org_settings import OrgSettingsArea
from .org_tokens import OrgTokensArea
from .orgs import OrgsArea
from .repo_admin import RepoAdminArea
from .repositories import RepositoriesArea
from .scim import ScimArea

__all__ = ["AREAS"]

AREAS = (
    AuthArea,
    AccessTokensArea,
    ImagesArea,
    AuditLogsArea,
    OrgSettingsArea,
    RepositoriesArea,
    OrgsArea,
    InvitesArea,
    GroupsArea,
    OrgTokensArea,
    RepoAdminArea,
    ScimArea,
)
"""Every API area FakeHub serves, in registration order."""
