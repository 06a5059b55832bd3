"""Organization settings (``/v2/orgs/{name}/settings``): owners change them."""

from __future__ import annotations

from aiohttp import web

from .._http import (
    NO_PERMISSION,
    bad_request,
    detail,
    json_response,
)
from .._state import (
    ADMIN,
    READ,
    Namespace,
    Principal,
)
from ._base import Area

__all__ = ["OrgSettingsArea"]


class OrgSettingsArea(Area):
    """Organization settings (``/v2/orgs/{name}/settings``): owners change them."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        self.add(app, "GET", "/v2/orgs/{name}/settings", self.settings_get)
        self.add(app, "PUT", "/v2/orgs/{name}/settings", self.settings_put)

    def _org(self, request: web.Request, level: int) -> tuple[Principal, Namespace]:
        who = self.api._who(request)
        ns = self.state.namespaces.get(request.match_info["name"])
        if ns is None or not ns.org:
            raise detail(404, "Not found.")
        if ns.level(who) < level:
            raise detail(403, NO_PERMISSION)
        return who, ns

    async def settings_get(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/orgs/{name}/settings."""
        _, ns = self._org(request, READ)
        return json_response(200, {"restricted_images": dict(ns.settings)})

    async def settings_put(self, request: web.Request) -> web.StreamResponse:
        """PUT /v2/orgs/{name}/settings: owners only; all three booleans required."""
        who, ns = self._org(request, ADMIN)
        body = self.api._body(request)
        wanted = body.get("restricted_images")
        keys = ("enabled", "allow_official_images", "allow_verified_publishers")
        if not isinstance(wanted, dict) or not all(isinstance(wanted.get(k), bool) for k in keys):
            raise bad_request(
                "restricted_images needs the booleans " + ", ".join(keys), "restricted_images"
            )
        ns.settings = {k: wanted[k] for k in keys}
        self.state.record(
            ns.name,
            "org.settings.update",
            ns.name,
            who.sub or "fakehub",
            {f"restricted_images.{k}": str(v).lower() for k, v in ns.settings.items()},
            f"updated the settings of the organization {ns.name}",
        )
        return json_response(200, {"restricted_images": dict(ns.settings)})
