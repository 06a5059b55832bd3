"""SCIM 2.0 (``/v2/scim/2.0/…``) with its own bearer token; users are the org's members."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._clock import format_ts
from .._org_model import MemberInfo, OrgData, RuleError, is_email
from .._render import dumps
from ._base import Area, HubHTTPError

__all__ = ["ScimArea"]

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_DEFAULT_COUNT = 10
_MAX_COUNT = 200
_FILTER_RE = re.compile(r'^\s*(\w+(?:\.\w+)?)\s+(eq|ne|co|sw)\s+"([^"]*)"\s*$', re.IGNORECASE)
_SORTABLE = ("userName", "displayName", "id")


def _attr(
    name: str,
    kind: str,
    *,
    required: bool = False,
    multi: bool = False,
    unique: str = "none",
    sub: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    attr: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": unique,
    }
    if sub is not None:
        attr["subAttributes"] = sub
    return attr


USER_SCHEMA_DOC: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    "id": USER_SCHEMA,
    "name": "User",
    "description": "User Account",
    "attributes": [
        _attr("userName", "string", required=True, unique="server"),
        _attr("name", "complex", sub=[_attr("givenName", "string"), _attr("familyName", "string")]),
        _attr("displayName", "string"),
        _attr("active", "boolean"),
        _attr("emails", "complex", multi=True,
              sub=[_attr("value", "string"), _attr("display", "string"),
                   _attr("primary", "boolean")]),
        _attr("groups", "complex", multi=True,
              sub=[_attr("value", "string"), _attr("display", "string")]),
    ],
}  # fmt: skip

USER_RESOURCE_TYPE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    "id": "User",
    "name": "User",
    "description": "User",
    "endpoint": "/Users",
    "schema": USER_SCHEMA,
}

SERVICE_PROVIDER_CONFIG: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "documentationUri": "",
    "patch": {"supported": False},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": 99999},
    "changePassword": {"supported": False},
    "sort": {"supported": True},
    "etag": {"supported": False},
    "authenticationSchemes": {
        "name": "OAuth 2.0 Bearer Token",
        "description": "The OAuth 2.0 Bearer Token Authentication scheme.",
        "specUri": "http://tools.ietf.org/html/rfc6750",
        "type": "oauthbearertoken",
    },
}


def _scim(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=dumps(body), content_type=SCIM_JSON)


def scim_error(status: int, message: str, scim_type: str | None = None) -> HubHTTPError:
    """A SCIM error (``schemas``, ``status`` as a string, ``detail``)."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": message}
    if scim_type is not None:
        body["scimType"] = scim_type
    return _ScimError(status, body)


class _ScimError(HubHTTPError):
    """A HubHTTPError answered as ``application/scim+json``."""


class ScimArea(Area):
    """SCIM: ServiceProviderConfig, ResourceTypes, Schemas and Users of one organization."""

    def routes(self, app: web.Application) -> None:
        """Register the SCIM operations."""
        base = "/v2/scim/2.0"
        self.add(app, "GET", base + "/ServiceProviderConfig", self.config)
        self.add(app, "GET", base + "/ResourceTypes", self.resource_types)
        self.add(app, "GET", base + "/ResourceTypes/{name}", self.resource_type)
        self.add(app, "GET", base + "/Schemas", self.schemas)
        self.add(app, "GET", base + "/Schemas/{id}", self.schema)
        self.add(app, "GET", base + "/Users", self.users_list)
        self.add(app, "POST", base + "/Users", self.user_create)
        self.add(app, "GET", base + "/Users/{id}", self.user_get)
        self.add(app, "PUT", base + "/Users/{id}", self.user_put)

    def add(
        self,
        app: web.Application,
        method: str,
        path: str,
        handler: Callable[[web.Request], Any],
    ) -> None:
        """Register ``handler``; errors are SCIM error documents."""

        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except RuleError as exc:
                error = scim_error(exc.status, exc.message, _SCIM_TYPES.get(exc.status))
            except _ScimError as exc:
                error = exc
            return _scim(error.status, error.body)

        app.router.add_route(method, path, run)

    def _org(self, request: web.Request) -> OrgData:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        org = self.admin.scim_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        data = self.admin.find(org) if org is not None else None
        if data is None:
            raise scim_error(401, "A valid SCIM bearer token is required.")
        return data

    def _user_json(self, data: OrgData, info: MemberInfo) -> dict[str, Any]:
        return {
            "schemas": [USER_SCHEMA],
            "id": info.scim_id,
            "userName": info.email,
            "name": {"givenName": info.given_name, "familyName": info.family_name},
            "displayName": info.username,
            "active": info.active,
            "emails": [{"value": info.email, "display": info.email, "primary": True}],
            "groups": [{"value": g, "display": g} for g in data.groups_of(info.username)],
            "meta": {
                "resourceType": "User",
                "location": f"{self.api.public_url}/v2/scim/2.0/Users/{info.scim_id}",
                "created": format_ts(info.joined, 0),
                "lastModified": format_ts(info.modified, 0),
            },
        }

    async def config(self, request: web.Request) -> web.StreamResponse:
        """GET …/ServiceProviderConfig."""
        self._org(request)
        return _scim(200, SERVICE_PROVIDER_CONFIG)

    async def resource_types(self, request: web.Request) -> web.StreamResponse:
        """GET …/ResourceTypes: only ``User``."""
        self._org(request)
        return _scim(
            200, {"schemas": [LIST_SCHEMA], "totalResults": 1, "Resources": [USER_RESOURCE_TYPE]}
        )

    async def resource_type(self, request: web.Request) -> web.StreamResponse:
        """GET …/ResourceTypes/{name}."""
        self._org(request)
        if request.match_info["name"] != "User":
            raise scim_error(404, f"Resource type {request.match_info['name']} not found")
        return _scim(200, USER_RESOURCE_TYPE)

    async def schemas(self, request: web.Request) -> web.StreamResponse:
        """GET …/Schemas: only the core User schema."""
        self._org(request)
        return _scim(
            200, {"schemas": [LIST_SCHEMA], "totalResults": 1, "Resources": [USER_SCHEMA_DOC]}
        )

    async def schema(self, request: web.Request) -> web.StreamResponse:
        """GET …/Schemas/{id}."""
        self._org(request)
        if request.match_info["id"] != USER_SCHEMA:
            raise scim_error(404, f"Schema {request.match_info['id']} not found")
        return _scim(200, USER_SCHEMA_DOC)

    async def users_list(self, request: web.Request) -> web.StreamResponse:
        """GET …/Users: ``startIndex``/``count`` paging, ``filter``, sorting, ``attributes``."""
        data = self._org(request)
        q = request.query
        start = _int(q.get("startIndex"), 1, "startIndex", 1, None)
        count = _int(q.get("count"), _DEFAULT_COUNT, "count", 1, _MAX_COUNT)
        users = [self._user_json(data, i) for i in self.admin.scim_users(data.ns.name)]
        raw_filter = q.get("filter")
        if raw_filter:
            users = [u for u in users if _matches(raw_filter, u)]
        sort_by = q.get("sortBy")
        if sort_by:
            if sort_by not in _SORTABLE:
                raise scim_error(
                    400, f"sortBy must be one of {', '.join(_SORTABLE)}", "invalidValue"
                )
            users.sort(key=lambda u: str(u[sort_by]).lower())
        order = q.get("sortOrder")
        if order not in (None, "", "ascending", "descending"):
            raise scim_error(400, "sortOrder must be ascending or descending", "invalidValue")
        if order == "descending":
            users.reverse()
        page = users[start - 1 : start - 1 + count]
        attributes = q.get("attributes")
        if attributes:
            keep = {a.strip() for a in attributes.split(",")} | {"schemas", "id"}
            page = [{k: v for k, v in u.items() if k in keep} for u in page]
        return _scim(
            200,
            {
                "schemas": [LIST_SCHEMA],
                "totalResults": len(users),
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": page,
            },
        )

    def _body(self, request: web.Request) -> dict[str, Any]:
        body = self.raw_body()
        if not isinstance(body, dict):
            raise scim_error(400, "The request body must be a JSON object.", "invalidSyntax")
        schemas = body.get("schemas")
        if not isinstance(schemas, list) or USER_SCHEMA not in schemas:
            raise scim_error(400, f"schemas must list {USER_SCHEMA}", "invalidValue")
        return body

    async def user_create(self, request: web.Request) -> web.StreamResponse:
        """POST …/Users: provision ``userName`` (an email) as a member of the organization."""
        data = self._org(request)
        body = self._body(request)
        email = body.get("userName")
        if not isinstance(email, str) or not is_email(email):
            raise scim_error(400, "userName must be the user's email address", "invalidValue")
        given, family = _name(body.get("name"))
        info = self.admin.scim_create(data.ns.name, email, given, family)
        return _scim(201, self._user_json(data, info))

    async def user_get(self, request: web.Request) -> web.StreamResponse:
        """GET …/Users/{id}."""
        data = self._org(request)
        info = self.admin.scim_user(data.ns.name, request.match_info["id"])
        return _scim(200, self._user_json(data, info))

    async def user_put(self, request: web.Request) -> web.StreamResponse:
        """PUT …/Users/{id}: rename; ``enabled`` (false when omitted) deactivates the user."""
        data = self._org(request)
        info = self.admin.scim_user(data.ns.name, request.match_info["id"])
        body = self._body(request)
        given, family = _name(body.get("name"))
        enabled = body.get("enabled", False)
        if not isinstance(enabled, bool):
            raise scim_error(400, "enabled must be a boolean", "invalidValue")
        self.admin.scim_update(data.ns.name, info, given, family, enabled)
        return _scim(200, self._user_json(data, info))


_SCIM_TYPES = {400: "invalidValue", 409: "uniqueness"}


def _int(raw: str | None, default: int, name: str, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise scim_error(400, f"{name} must be an integer", "invalidValue") from None
    if value < low or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise scim_error(400, f"{name} must be {limit}, got {value}", "invalidValue")
    return value


def _name(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise scim_error(400, "name must be an object {givenName, familyName}", "invalidValue")
    given, family = value.get("givenName"), value.get("familyName")
    for part in (given, family):
        if part is not None and not isinstance(part, str):
            raise scim_error(400, "givenName and familyName must be strings", "invalidValue")
    return given, family


def _matches(expression: str, user: dict[str, Any]) -> bool:
    """Whether ``user`` fits a filter of ``attr op "value"`` terms joined by ``and``."""
    result = True
    for term in re.split(r"\s+and\s+", expression, flags=re.IGNORECASE):
        match = _FILTER_RE.match(term)
        if match is None:
            raise scim_error(400, f"unsupported filter {expression!r}", "invalidFilter")
        attr, op, wanted = match.group(1), match.group(2).lower(), match.group(3).lower()
        if attr.lower() == "emails.value":
            values = [e["value"].lower() for e in user.get("emails", [])]
        else:
            key = next((k for k in user if k.lower() == attr.lower()), None)
            if key is None:
                raise scim_error(400, f"unknown filter attribute {attr!r}", "invalidFilter")
            values = [str(user[key]).lower()]
        hit = any(
            (op == "eq" and v == wanted)
            or (op == "ne" and v != wanted)
            or (op == "co" and wanted in v)
            or (op == "sw" and v.startswith(wanted))
            for v in values
        )
        result = result and hit
    return result
