"""``Paginator[T]``: async iteration over Hub's page-number endpoints, with prefetch.

Page planning: page 1 is fetched alone; its ``count`` says how many pages there are, and up
to ``prefetch`` of the following pages are kept in flight while items are yielded in server
order. Endpoints without a count (audit logs) are read speculatively until a short page; a
page past the end is cancelled, never yielded. Hub's ``next`` links are only a "there is
more" hint: the client computes page numbers itself, so no request ever follows a link to
another origin. Breaking out (``aclose()``, ``contextlib.aclosing``, task cancellation, or
the generator being collected) cancels what was prefetched and awaits it, so connections go
back to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import weakref
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

import attrs

from .errors import NotFoundError

__all__ = ["Page", "Paginator", "plan_last_page"]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a list endpoint.

    Attributes:
        items: the structured items of this page, in server order.
        count: the total number of items Hub reported (``None`` where Hub gives none).
        number: the 1-based page number.
        has_next: whether Hub said more pages follow.
    """

    items: list[T]
    count: int | None
    number: int
    has_next: bool


FetchPage = Callable[[int], Awaitable[Page[T]]]


def plan_last_page(count: int | None, page_size: int) -> int | None:
    """The last page number for ``count`` items (``None``: unknown, read until a short page)."""
    if count is None:
        return None
    return max(1, math.ceil(max(count, 0) / page_size))


class Paginator(Generic[T]):
    """An async iterable over the items of a list endpoint.

    ``async for item in paginator`` yields items; ``async for page in paginator.pages()``
    yields ``Page`` objects; ``await paginator.to_list(limit=None)`` collects items;
    ``await paginator.count()`` reads the total from the first page. Each iteration
    starts from page 1 again. Use ``aclose()`` or ``contextlib.aclosing`` to stop early
    and release prefetched requests at once.
    """

    def __init__(self, fetch: FetchPage[T], *, page_size: int, prefetch: int) -> None:
        self._fetch = fetch
        self._page_size = page_size
        self._prefetch = max(1, prefetch)
        self._first: Page[T] | None = None  # cached by count(), used by the next iteration
        self._live: weakref.WeakSet[AsyncGenerator[object, None]] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"<Paginator page_size={self._page_size} prefetch={self._prefetch}>"

    @property
    def page_size(self) -> int:
        """Items requested per page."""
        return self._page_size

    @property
    def prefetch(self) -> int:
        """Most pages in flight for one iteration (1 = sequential)."""
        return self._prefetch

    def __aiter__(self) -> AsyncIterator[T]:
        gen = self._items()
        self._live.add(gen)
        return gen

    def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate page by page (each page's ``items``, ``count`` and ``number``)."""
        gen = self._pages()
        self._live.add(gen)
        return gen

    async def to_list(self, limit: int | None = None) -> list[T]:
        """Collect the items (at most ``limit``), stopping requests as soon as it has them."""
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise ValueError(f"limit must be None or an int >= 0, got {limit!r}")
        out: list[T] = []
        if limit == 0:
            return out
        async with contextlib.aclosing(self._items()) as items:
            async for item in items:
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
        return out

    async def count(self) -> int | None:
        """The total Hub reports on the first page (``None`` for endpoints without one)."""
        if self._first is None:
            self._first = await self._fetch(1)
        return self._first.count

    async def aclose(self) -> None:
        """Stop every iteration of this paginator and cancel its prefetched requests."""
        for gen in list(self._live):
            await gen.aclose()

    async def __aenter__(self) -> Paginator[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _items(self) -> AsyncGenerator[T, None]:
        pages = self._pages()
        try:
            async for page in pages:
                for item in page.items:
                    yield item
        finally:
            await pages.aclose()

    async def _pages(self) -> AsyncGenerator[Page[T], None]:
        first, self._first = self._first, None
        if first is None:
            first = await self._fetch(1)
        yield first
        if not _continues(first, self._page_size):
            return
        last = plan_last_page(first.count, self._page_size)
        pending: deque[asyncio.Task[Page[T]]] = deque()
        next_number = 2

        def schedule() -> None:
            nonlocal next_number
            while len(pending) < self._prefetch and (last is None or next_number <= last):
                pending.append(asyncio.ensure_future(self._fetch(next_number)))
                next_number += 1

        try:
            schedule()
            while pending:
                task = pending.popleft()
                try:
                    page = await task
                except NotFoundError as exc:
                    if isinstance(exc.body, dict):
                        return  # Hub's JSON 404 for a page past the end: the list shrank
                    raise  # a proxy's HTML 404 says nothing about the list: never drop items
                if not page.items:
                    return
                yield page
                if not _continues(page, self._page_size):
                    return
                schedule()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _continues(page: Page[T], page_size: int) -> bool:
    if not page.items:
        return False
    if page.count is not None:
        return page.has_next and page.number * page_size < page.count
    return page.has_next and len(page.items) >= page_size
