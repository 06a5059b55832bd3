"""Organization settings."""

from __future__ import annotations

from .. import _validate as v
from .._convert import unstructure
from ..models.orgs import OrgSettings, RestrictedImages
from ._base import Resource

__all__ = ["Orgs"]


class Orgs(Resource):
    """Settings of an organization."""

    async def settings(self, name: str) -> OrgSettings:
        """The organization's settings (restricted images policy)."""
        path = f"/v2/orgs/{v.namespace(name, param='name')}/settings"
        return await self._get("orgs.settings", path, OrgSettings)

    async def update_settings(self, name: str, restricted_images: RestrictedImages) -> OrgSettings:
        """Replace the organization's restricted-images policy (owners only)."""
        path = f"/v2/orgs/{v.namespace(name, param='name')}/settings"
        if not isinstance(restricted_images, RestrictedImages):
            raise ValueError(
                "restricted_images must be a hubasync.models.RestrictedImages, got "
                f"{type(restricted_images).__name__}"
            )
        missing = [
            field
            for field in ("enabled", "allow_official_images", "allow_verified_publishers")
            if getattr(restricted_images, field) is None
        ]
        if missing:
            raise ValueError(
                f"restricted_images needs all three settings; set {', '.join(missing)} "
                "to True or False (Hub replaces the whole policy)"
            )
        body = {"restricted_images": unstructure(restricted_images)}
        resp = await self._send("orgs.update_settings", "PUT", path, json=body)
        return self._structure(resp.data, OrgSettings, "orgs.update_settings", resp.status)
