"""FakeHub's HTTP handlers, one module per API area (mirroring ``hubasync/resources``)."""

from __future__ import annotations

from .groups import GroupsArea
from .invites import InvitesArea
from .org_tokens import OrgTokensArea
from .orgs import OrgsArea
from .repo_admin import RepoAdminArea
from .scim import ScimArea

__all__ = ["AREAS"]

AREAS = (OrgsArea, InvitesArea, GroupsArea, OrgTokensArea, RepoAdminArea, ScimArea)
"""The area handler classes FakeHub registers besides the core ``Api`` routes."""
