"""``Paginator[T]``: async iteration over Hub's page-number endpoints, with prefetch.

Page planning: page 1 is fetched alone; its ``count`` says how many pages there are, and up
to ``prefetch`` of the following pages are kept in flight while items are yielded in server
order: ``prefetch - 1`` of them are asked for before a page is handed out, so they load while
the caller works through it (``prefetch=1`` is strictly sequential). A server that serves
fewer items than ``page_size`` asked for while its count says more follow caps its pages:
the rest is planned, and asked for, at the size it served, so no item is skipped.

Endpoints without a count (audit logs) are read speculatively until a short page, with a
window that starts at one page and doubles while pages come back full (a short log wastes no
request); a page past the end is cancelled, never yielded. Hub's ``next`` links are only a
"there is more" hint: the client computes page numbers itself, so no request ever follows a
link to another origin. Breaking out (``aclose()``, ``contextlib.aclosing``, task
cancellation, or the generator being collected) cancels what was prefetched and awaits it,
so connections go back to the pool.
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

from .errors import NotFoundError, ResponseValidationError

__all__ = ["Page", "Paginator", "plan_last_page", "served_page_size"]

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


#: ``fetch(number, page_size)``: one page of the list, asked for at that size.
FetchPage = Callable[[int, int], Awaitable[Page[T]]]


def plan_last_page(count: int | None, page_size: int) -> int | None:
    """The last page number for ``count`` items (``None``: unknown, read until a short page)."""
    if count is None:
        return None
    return max(1, math.ceil(max(count, 0) / page_size))


def served_page_size(first: Page[T], page_size: int) -> int:
    """The page size to plan with after page 1: ``page_size``, unless the server capped it.

    A counted first page holding fewer items than asked for while its count (and ``next``)
    say more follow means the server serves pages of that many: reading page 2 at the size
    asked for would skip the items in between.
    """
    served = len(first.items)
    if first.count is not None and first.has_next and 0 < served < min(page_size, first.count):
        return served
    return page_size


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
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValueError(f"limit must be None or an int >= 0, got {limit!r}")
        out: list[T] = []
        if limit == 0:
            return out
        async with contextlib.aclosing(self._items(limit)) as items:
            async for item in items:
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
        return out

    async def count(self) -> int | None:
        """The total Hub reports on the first page (``None`` for endpoints without one)."""
        if self._first is None:
            self._first = await self._fetch(1, self._page_size)
        return self._first.count

    async def aclose(self) -> None:
        """Stop every iteration of this paginator and cancel its prefetched requests."""
        for gen in list(self._live):
            await gen.aclose()

    async def __aenter__(self) -> Paginator[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _items(self, limit: int | None = None) -> AsyncGenerator[T, None]:
        pages = self._pages(limit)
        try:
            async for page in pages:
                for item in page.items:
                    yield item
        finally:
            await pages.aclose()

    async def _pages(self, limit: int | None = None) -> AsyncGenerator[Page[T], None]:
        """Pages in order; ``limit``: the caller needs at most that many items."""
        first, self._first = self._first, None
        if first is None:
            first = await self._fetch(1, self._page_size)
        size = served_page_size(first, self._page_size)
        if not _continues(first, size):
            yield first
            return
        last = plan_last_page(first.count, size)
        if limit is not None:
            needed = max(1, math.ceil(limit / size))
            last = needed if last is None else min(last, needed)
        counted = first.count is not None
        # Without a count every page may be the last: start with one in flight, double
        # while pages come back full (like TCP's slow start), up to prefetch.
        window = self._prefetch if counted else 1
        pending: deque[asyncio.Task[Page[T]]] = deque()
        next_number = 2

        def schedule(depth: int) -> None:
            nonlocal next_number
            while len(pending) < depth and (last is None or next_number <= last):
                pending.append(asyncio.ensure_future(self._fetch(next_number, size)))
                next_number += 1

        try:
            # While the caller works through a page, the next ``window - 1`` load meanwhile;
            # once it asks for more, ``window`` (so prefetch=1 stays strictly sequential).
            schedule(window - 1)
            yield first
            schedule(window)
            while pending:
                task = pending.popleft()
                try:
                    page = await task
                except NotFoundError as exc:
                    if isinstance(exc.body, dict) or not counted:
                        # Hub's JSON 404 for a page past the end (the list shrank); without a
                        # count (audit logs, read until a short page) a list ending exactly on
                        # a full page meets Hub's 404 for the next one, HTML or not.
                        return
                    raise  # a count says more follow: a proxy's HTML 404 must not drop items
                if not page.items:
                    return
                _check_page(page, size)
                more = _continues(page, size)
                if more:
                    if not counted:
                        window = min(self._prefetch, window * 2)
                    elif limit is None and page.count is not None:
                        # the list grew since page 1: read on to its new end
                        grown = plan_last_page(page.count, size)
                        if last is not None and grown is not None and grown > last:
                            last = grown
                    schedule(window - 1)
                yield page
                if not more:
                    return
                schedule(window)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _check_page(page: Page[T], size: int) -> None:
    """Refuse a later page that would make the listing skip or repeat items (pure).

    Items are located by ``(number - 1) * size``: a page holding more than ``size`` items
    overlaps the next one, and a short page that its own count says is not the last leaves
    a gap. Either way the server broke the paging contract mid-listing; an error beats a
    listing with holes or repeats.
    """
    got = len(page.items)
    if got > size:
        problem = f"holds {got} items where {size} were asked for (they would repeat)"
    elif got < size and page.count is not None and page.has_next:
        if page.number * size >= page.count:
            return  # the last page (the list may have shrunk): short is normal
        problem = (
            f"holds {got} items where {size} were asked for while its count ({page.count}) "
            "says more follow (items would be skipped)"
        )
    else:
        return
    raise ResponseValidationError(
        f"page {page.number} of the listing {problem}; the server changed its page size "
        "mid-listing: list again, or with a smaller page_size"
    )


def _continues(page: Page[T], page_size: int) -> bool:
    if not page.items:
        return False
    if page.count is not None:
        return page.has_next and page.number * page_size < page.count
    return page.has_next and len(page.items) >= page_size
