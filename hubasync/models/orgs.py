"""Models of the organization settings endpoints."""

from __future__ import annotations

import attrs

__all__ = ["OrgSettings", "RestrictedImages"]


@attrs.frozen(kw_only=True)
class RestrictedImages:
    """Which images the members of an organization may use (business subscriptions).

    Hub requires all three fields when the settings are updated.

    Attributes:
        enabled: whether image use is restricted for the organization's users.
        allow_official_images: allow Docker Official Images while restricted.
        allow_verified_publishers: allow Verified Publisher images while restricted.
    """

    enabled: bool | None = None
    allow_official_images: bool | None = None
    allow_verified_publishers: bool | None = None


@attrs.frozen(kw_only=True)
class OrgSettings:
    """An organization's settings (also the body that updates them).

    Attributes:
        restricted_images: the image restriction policy.
    """

    restricted_images: RestrictedImages | None = None
