"""What every resource shares: sending through a requester, structuring, paginating.

A resource never sees the client: ``HubClient`` hands each one a :class:`Requester` (the
request function plus the list defaults), as ``_auth`` gets a ``LoginSender``. A new API area
is a ``Resource`` subclass whose methods call ``_send``/``_get``/``_paginate``, registered on
``HubClient`` as a ``functools.cached_property`` that builds it from ``self._requester``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from .._convert import format_datetime, structure
from .._pagination import Page, Paginator
from .._transport import Params, Request, Response
from .._validate import MAX_PAGE_SIZE, check_datetime, check_page_size, check_prefetch
from ..errors import ResponseValidationError

__all__ = ["Requester", "Resource"]

T = TypeVar("T")


def _as_count(value: Any) -> int | None:
    # The PAT list reports count as a JSON number that may be a float; org tokens say total.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:  # NaN, inf (JSON 1e999) or negative
        return None
    return int(value)


@attrs.frozen(kw_only=True)
class Requester:
    """What a resource needs from its client, and nothing more.

    Attributes:
        request: sends one :class:`Request` (with its retries) and returns the
            :class:`Response` or raises a ``HubError``; the only way a resource sends.
        page_prefetch: the default ``prefetch=`` of list iterators.
        max_concurrency: the client's requests in flight; no iterator prefetches more.
        label: how the owning client shows itself (for resources' reprs).
        timeout, max_retries, max_wait: per-request settings every request carries
            (``None``: the transport's own; set by ``HubClient.with_options`` views).
    """

    request: Callable[[Request], Awaitable[Response]]
    page_prefetch: int
    max_concurrency: int
    label: str = "HubClient"
    timeout: float | None = None
    max_retries: int | None = None
    max_wait: float | None = None


class Resource:
    """Base class of the API areas reachable from ``HubClient``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._requester.label}>"

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        auth: bool = True,
        expect_body: bool = True,
        bearer: str | None = None,
        content_type: str | None = None,
        text: bool = False,
    ) -> Awaitable[Response]:
        # Not a coroutine itself: the transport's is awaited by the caller (one frame less).
        requester = self._requester
        return requester.request(
            Request(
                operation=operation,
                method=method,
                path=path,
                params=params,
                json=json,
                idempotent=idempotent,
                auth=auth,
                expect_body=expect_body,
                bearer=bearer,
                content_type=content_type,
                text=text,
                timeout=requester.timeout,
                max_retries=requester.max_retries,
                max_wait=requester.max_wait,
            )
        )

    async def _get(
        self, operation: str, path: str, cls: type[T], *, params: Params | None = None
    ) -> T:
        resp = await self._send(operation, "GET", path, params=params)
        return self._structure(resp.data, cls, operation, resp.status)

    @staticmethod
    def _structure(data: Any, cls: type[T], operation: str, status: int = 200) -> T:
        try:
            return structure(data, cls)
        except ResponseValidationError as exc:
            exc.operation = operation
            exc.status = status
            exc.message = f"{operation}: {exc.message}"
            exc.args = (exc.message,)
            raise

    @staticmethod
    def _datetime(value: datetime | None, param: str) -> str | None:
        if value is None:
            return None
        return format_datetime(check_datetime(value, param))

    def _prefetch(self, prefetch: int | None) -> int:
        if prefetch is None:
            prefetch = self._requester.page_prefetch
        check_prefetch(prefetch)
        return min(prefetch, self._requester.max_concurrency)

    def _paginate(
        self,
        operation: str,
        path: str,
        item_cls: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int,
        prefetch: int | None,
        results_key: str = "results",
        counted: bool = True,
        convert: Callable[[Any], T] | None = None,
        max_page_size: int = MAX_PAGE_SIZE,
        page_query: Callable[[int, int], Mapping[str, int]] | None = None,
        normalize: Callable[[Any], Any] | None = None,
    ) -> Paginator[T]:
        """A Paginator over a page-number endpoint; arguments are checked now, not later.

        ``page_query(number, size)`` gives the paging parameters of an endpoint that does not
        take ``page``/``page_size`` (SCIM's ``startIndex``/``count``); ``normalize`` turns an
        answer of another shape into ``{results_key: [...], "count": n, ...}`` first.
        """
        check_page_size(page_size, maximum=max_page_size)
        depth = self._prefetch(prefetch)
        base = {k: v for k, v in (params or {}).items() if v is not None}

        async def fetch(number: int, size: int) -> Page[T]:
            paging = page_query(number, size) if page_query else {"page": number, "page_size": size}
            query = {**base, **paging}
            resp = await self._send(operation, "GET", path, params=query)
            data = resp.data if normalize is None else normalize(resp.data)
            if not isinstance(data, dict) or not isinstance(data.get(results_key), list):
                raise ResponseValidationError(
                    f"{operation}: page {number} has no {results_key!r} list; Hub's answer "
                    "does not look like a page of results",
                    status=resp.status,
                    body=data,
                    operation=operation,
                )
            raw = data[results_key]
            if convert is not None:
                items = [convert(x) for x in raw]
            else:
                items = self._structure(raw, list[item_cls], operation, resp.status)  # type: ignore[valid-type]
            if counted:
                count = _as_count(data.get("count", data.get("total")))
                has_next = bool(data.get("next")) if "next" in data else True
            else:
                count, has_next = None, True
            return Page(items=items, count=count, number=number, has_next=has_next)

        return Paginator(fetch, page_size=page_size, prefetch=depth)
