"""What every area's handlers share: the caller, the organization, paging, error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._api import Api
from .._clock import parse_ts
from .._http import (
    CONTEXT,
    NO_PERMISSION,
    Handler,
    HubHTTPError,
    bad_request,
    detail,
    json_response,
)
from .._org_model import OrgData, RuleError
from .._org_state import OrgAdmin
from .._state import Principal

__all__ = ["NO_PERMISSION", "Area", "HubHTTPError", "bad_request", "detail", "json_response"]

# What a caller needs for an org administration operation: "read" any member, "view" an
# owner (both also the organization's own access token), "admin" an owner or editor, "owner".
_NEEDS = ("read", "view", "admin", "owner")


class Area:
    """Base of an area's handlers: the shared :class:`Api` and the org administration state."""

    def __init__(self, api: Api, admin: OrgAdmin) -> None:
        self.api = api
        self.admin = admin
        self.state = api.state

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        raise NotImplementedError

    def add(self, app: web.Application, method: str, path: str, handler: Handler) -> None:
        """Register ``handler``; a :class:`RuleError` it raises becomes Hub's error answer."""

        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except RuleError as exc:
                raise self.rule_error(exc) from None

        if method == "GET":
            app.router.add_get(path, run)  # HEAD too, as Hub answers it
        else:
            app.router.add_route(method, path, run)

    def rule_error(self, exc: RuleError) -> HubHTTPError:
        """A state rule violation as Hub's error body (``fields``/``text`` for a 400)."""
        if exc.status == 400:
            return bad_request(exc.message)
        return detail(exc.status, exc.message, errinfo={})

    # ------------------------------------------------------------- callers

    def who(self, request: web.Request) -> Principal:
        """The authenticated caller (401 otherwise)."""
        return self.api._who(request)

    def body(self, request: web.Request) -> dict[str, Any]:
        """The JSON object sent (400 otherwise)."""
        return self.api._body(request)

    def raw_body(self) -> Any:
        """Whatever JSON was sent (None when nothing)."""
        return CONTEXT.get().json

    def org(
        self, request: web.Request, need: str, key: str = "org_name"
    ) -> tuple[Principal, OrgData]:
        """The caller and the organization named in the path, checked for ``need``.

        ``need`` is ``read`` (any member), ``view`` (an owner), ``admin`` (an owner or
        editor) or ``owner``. The organization's own access tokens may ``read`` and
        ``view`` but not change the organization's administration.
        """
        assert need in _NEEDS
        who = self.who(request)
        data = self.admin.find(request.match_info[key])
        if data is None:
            raise detail(404, "Not found.", errinfo={})
        if not self.allowed(who, data, need):
            raise detail(403, NO_PERMISSION, errinfo={})
        return who, data

    @staticmethod
    def allowed(who: Principal, data: OrgData, need: str) -> bool:
        """Whether ``who`` may do what ``need`` names in ``data``'s organization."""
        if who.kind == "super":
            return True
        if who.kind == "org":
            return who.sub == data.ns.name and need in ("read", "view")
        role = data.role(who.sub)
        if role is None:
            return False
        if need in ("owner", "view"):
            return role == "owner"
        if need == "admin":
            return role in ("owner", "editor")
        return True

    @staticmethod
    def actor(who: Principal) -> str:
        """The name changes are attributed to."""
        return who.sub or "fakehub"

    # -------------------------------------------------------------- paging

    def listing(
        self,
        request: web.Request,
        items: list[Any],
        render: Callable[[Any], Any] = lambda item: item,
        *,
        total: str = "count",
        size: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """A page-number list body: ``{count|total, next, previous, results}``.

        ``size`` is the ``(page, page_size)`` already read from the query (else read here
        with a default page size of 10).
        """
        page, page_size = size if size is not None else self.api._page(request, 10, "drf")
        chunk, nxt, prev = self.api._paged(request, items, page, page_size)
        return {
            total: len(items),
            "next": nxt,
            "previous": prev,
            "results": [render(i) for i in chunk],
        }

    def expires_at(self, raw: Any) -> float | None:
        """A token's ``expires_at``: None, or an RFC 3339 time in the future (else a 400)."""
        if raw is None:
            return None
        try:
            expires = parse_ts(raw) if isinstance(raw, str) else None
        except ValueError:
            expires = None
        if expires is None:
            raise bad_request("expires_at must be an RFC 3339 date-time", "expires_at")
        if expires <= self.now():
            raise bad_request("expires_at must be in the future", "expires_at")
        return expires

    def now(self) -> float:
        """The server clock."""
        return self.api.now()
