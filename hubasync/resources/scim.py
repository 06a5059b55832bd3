"""SCIM 2.0 (``/v2/scim/2.0/…``): user provisioning with the organization's SCIM token.

SCIM calls use their own bearer token (Docker Admin's SSO/SCIM settings), not the client's
login: ``hub.scim.with_token(token)`` returns a SCIM resource that sends it. The client's
own credentials never reach these endpoints, and the SCIM token reaches no other.
"""

from __future__ import annotations

import copy
import urllib.parse
from collections.abc import Awaitable, Iterable
from typing import Any, get_args

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from .._transport import Response
from ..errors import ResponseValidationError
from ..models.scim import (
    ScimCreateUserRequest,
    ScimName,
    ScimResourceType,
    ScimSchema,
    ScimServiceProviderConfig,
    ScimSortOrder,
    ScimUpdateUserRequest,
    ScimUser,
)
from ._base import Resource

__all__ = ["SCIM_MAX_COUNT", "Scim", "SortOrder"]

#: The most users one page of ``GET /v2/scim/2.0/Users`` holds (its ``count`` maximum).
SCIM_MAX_COUNT = 200
#: The order of a sorted user list (``hubasync.models.ScimSortOrder``).
SortOrder = ScimSortOrder
_MEDIA_TYPE = "application/scim+json"
_ROOT = "/v2/scim/2.0"


def _user_id(value: object) -> str:
    return v.hub_uuid(value, param="user_id", source="scim.users()")


def _segment(value: object, param: str, example: str) -> str:
    text = v.check_text(value, param)
    if text != text.strip() or "/" in text or text in (".", "..") or " " in text:
        raise ValueError(f"{param} {text!r} is not a SCIM name; pass e.g. {example!r}")
    return urllib.parse.quote(text, safe=":")


def _scim_list(data: Any) -> Any:
    """A SCIM list answer as a page: ``Resources`` (RFC 7644) or ``resources`` (the spec)."""
    if not isinstance(data, dict):
        return data
    items = data.get("Resources", data.get("resources"))
    return {"results": items, "count": data.get("totalResults")}


def _start_index(number: int, size: int) -> dict[str, int]:
    return {"startIndex": (number - 1) * size + 1, "count": size}


def _name(given_name: str | None, family_name: str | None) -> ScimName | None:
    if given_name is None and family_name is None:
        return None
    for param, value in (("given_name", given_name), ("family_name", family_name)):
        if value is not None:
            v.check_text(value, param)
    return ScimName(givenName=given_name, familyName=family_name)


class Scim(Resource):
    """Docker Hub's SCIM 2.0 service: its configuration, schemas and users.

    Every call needs the organization's SCIM token: ``hub.scim.with_token(token)``.
    """

    _token: str | None = None

    def with_token(self, token: str) -> Scim:
        """This SCIM resource sending ``token`` (the organization's SCIM bearer token)."""
        if not isinstance(token, str) or not token.strip() or token != token.strip():
            raise ValueError(
                "token must be the organization's SCIM bearer token (a non-empty string "
                "without surrounding whitespace), from Docker Admin's SSO/SCIM settings"
            )
        clone = copy.copy(self)
        clone._token = token
        return clone

    def _bearer(self) -> str:
        if self._token is None:
            raise ValueError(
                "SCIM calls need the organization's SCIM bearer token, not the client's "
                "login: use hub.scim.with_token(token), e.g. "
                "hub.scim.with_token(os.environ['DOCKERHUB_SCIM_TOKEN']).users()"
            )
        return self._token

    def _send(self, operation: str, method: str, path: str, **kwargs: Any) -> Awaitable[Response]:
        # Every SCIM request carries the SCIM token instead of the client's.
        kwargs.setdefault("bearer", self._bearer())
        if kwargs.get("json") is not None:
            kwargs.setdefault("content_type", _MEDIA_TYPE)
        return super()._send(operation, method, path, **kwargs)

    async def _list(self, operation: str, path: str, cls: type[Any]) -> list[Any]:
        resp = await self._send(operation, "GET", path)
        items = _scim_list(resp.data)
        if not isinstance(items, dict) or not isinstance(items.get("results"), list):
            raise ResponseValidationError(
                f"{operation}: Hub's answer is not a SCIM list (no 'Resources')",
                status=resp.status,
                body=resp.data,
                operation=operation,
            )
        return self._structure(items["results"], list[cls], operation, resp.status)  # type: ignore[valid-type]

    async def service_provider_config(self) -> ScimServiceProviderConfig:
        """What the SCIM service supports (filtering, sorting, bulk, auth schemes)."""
        path = f"{_ROOT}/ServiceProviderConfig"
        return await self._get("scim.service_provider_config", path, ScimServiceProviderConfig)

    async def resource_types(self) -> list[ScimResourceType]:
        """The resource types the service serves."""
        self._bearer()
        return await self._list("scim.resource_types", f"{_ROOT}/ResourceTypes", ScimResourceType)

    async def resource_type(self, name: str) -> ScimResourceType:
        """One resource type by name, e.g. ``"User"``."""
        path = f"{_ROOT}/ResourceTypes/{_segment(name, 'name', 'User')}"
        return await self._get("scim.resource_type", path, ScimResourceType)

    async def schemas(self) -> list[ScimSchema]:
        """The schemas the service uses."""
        self._bearer()
        return await self._list("scim.schemas", f"{_ROOT}/Schemas", ScimSchema)

    async def schema(self, schema_id: str) -> ScimSchema:
        """One schema by its URN, e.g. ``urn:ietf:params:scim:schemas:core:2.0:User``."""
        example = "urn:ietf:params:scim:schemas:core:2.0:User"
        path = f"{_ROOT}/Schemas/{_segment(schema_id, 'schema_id', example)}"
        return await self._get("scim.schema", path, ScimSchema)

    def users(
        self,
        *,
        filter: str | None = None,
        attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[ScimUser]:
        """The organization's SCIM users, page by page (``startIndex``/``count`` paging).

        ``filter`` is a SCIM filter, e.g. ``'userName eq "jon@example.com"'``; ``attributes``
        limits the fields returned; ``page_size`` may go up to 200.
        """
        self._bearer()
        if filter is not None:
            v.check_text(filter, "filter")
        wanted: str | None = None
        if attributes is not None:
            if isinstance(attributes, str):
                raise ValueError(
                    f"attributes must be a list of names, e.g. ['userName'], not {attributes!r}"
                )
            names = [v.check_text(a, "attribute") for a in attributes]
            if not names:
                raise ValueError("attributes must not be empty; pass None for every attribute")
            wanted = ",".join(names)
        if sort_by is not None:
            v.check_text(sort_by, "sort_by")
        if sort_order is not None:
            v.check_choice(sort_order, "sort_order", get_args(ScimSortOrder))
        return self._paginate(
            "scim.users",
            f"{_ROOT}/Users",
            ScimUser,
            params={
                "filter": filter,
                "attributes": wanted,
                "sortBy": sort_by,
                "sortOrder": sort_order,
            },
            page_size=page_size,
            prefetch=prefetch,
            max_page_size=SCIM_MAX_COUNT,
            page_query=_start_index,
            normalize=_scim_list,
        )

    async def user(self, user_id: str) -> ScimUser:
        """One SCIM user by id."""
        return await self._get("scim.user", f"{_ROOT}/Users/{_user_id(user_id)}", ScimUser)

    async def create_user(
        self,
        user_name: str,
        *,
        given_name: str | None = None,
        family_name: str | None = None,
    ) -> ScimUser:
        """Provision a user by e-mail address (``userName``). Never retried.

        A user who already exists is added to the organization instead (Hub's rule).
        """
        self._bearer()
        text = v.check_text(user_name, "user_name")
        if "@" not in text or text != text.strip() or " " in text:
            raise ValueError(
                f"user_name {user_name!r} is not an e-mail address; SCIM's userName is the "
                "user's e-mail, e.g. 'jon.snow@example.com'"
            )
        body = unstructure(
            ScimCreateUserRequest(userName=text, name=_name(given_name, family_name))
        )
        op = "scim.create_user"
        resp = await self._send(op, "POST", f"{_ROOT}/Users", json=body, idempotent=False)
        return self._structure(resp.data, ScimUser, op, resp.status)

    async def update_user(
        self,
        user_id: str,
        *,
        enabled: bool,
        given_name: str | None = None,
        family_name: str | None = None,
    ) -> ScimUser:
        """Activate (``enabled=True``) or deactivate a user, and optionally rename them.

        ``enabled`` is required: Hub reads a request without it as a deactivation.
        """
        path = f"{_ROOT}/Users/{_user_id(user_id)}"
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be True or False, got {enabled!r}")
        body = unstructure(
            ScimUpdateUserRequest(enabled=enabled, name=_name(given_name, family_name))
        )
        op = "scim.update_user"
        resp = await self._send(op, "PUT", path, json=body, idempotent=True)
        return self._structure(resp.data, ScimUser, op, resp.status)
