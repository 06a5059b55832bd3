"""Paginator: order, exactly-once, prefetch bound, early exit, short-page mode."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable
from typing import Any

import pytest

from hubasync._pagination import Page, Paginator, plan_last_page, served_page_size
from hubasync.errors import NotFoundError, ResponseValidationError


class FakePages:
    """Serves `total` items as numbered pages; records concurrency and cancellations."""

    def __init__(
        self, total: int, page_size: int, *, counted: bool = True, cap: int | None = None
    ) -> None:
        self.total, self.page_size, self.counted = total, page_size, counted
        self.cap = cap  # the most items the server serves per page, whatever is asked
        self.requested: list[int] = []
        self.sizes: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0
        self.hold_from: int | None = None  # pages from this number on never finish

    async def __call__(self, number: int, page_size: int) -> Page[int]:
        self.requested.append(number)
        self.sizes.append(page_size)
        size = min(page_size, self.cap) if self.cap is not None else page_size
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # later pages finish first, to prove order comes from page numbers
            for _ in range(max(0, 5 - number)):
                await asyncio.sleep(0)
            if self.hold_from is not None and number >= self.hold_from:
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        start = (number - 1) * size
        items = list(range(start, min(start + size, self.total)))
        has_next = start + size < self.total
        return Page(
            items=items,
            count=self.total if self.counted else None,
            number=number,
            has_next=has_next if self.counted else True,
        )


@pytest.mark.parametrize("prefetch", [1, 4, 16])
@pytest.mark.parametrize(("total", "page_size"), [(0, 10), (1, 10), (10, 10), (95, 10), (1000, 7)])
async def test_items_exactly_once_in_order(total: int, page_size: int, prefetch: int) -> None:
    pages = FakePages(total, page_size)
    got = [x async for x in Paginator(pages, page_size=page_size, prefetch=prefetch)]
    assert got == list(range(total))
    assert pages.max_in_flight <= prefetch
    assert sorted(pages.requested) == pages.requested  # no page asked twice
    assert len(set(pages.requested)) == len(pages.requested)


@pytest.mark.parametrize("prefetch", [1, 3, 8])
@pytest.mark.parametrize("total", [0, 5, 50, 51, 99])
async def test_short_page_mode_never_yields_twice(total: int, prefetch: int) -> None:
    pages = FakePages(total, 10, counted=False)
    got = [x async for x in Paginator(pages, page_size=10, prefetch=prefetch)]
    assert got == list(range(total))
    assert pages.max_in_flight <= prefetch


async def test_pages_reports_count_and_numbers() -> None:
    pages = FakePages(25, 10)
    seen = [
        (p.number, p.count, len(p.items))
        async for p in Paginator(pages, page_size=10, prefetch=2).pages()
    ]
    assert seen == [(1, 25, 10), (2, 25, 10), (3, 25, 5)]


async def test_to_list_limit_stops_requests() -> None:
    pages = FakePages(10_000, 10)
    got = await Paginator(pages, page_size=10, prefetch=4).to_list(limit=15)
    assert got == list(range(15))
    assert max(pages.requested) <= 2 + 4  # never ran ahead unboundedly
    assert pages.in_flight == 0


async def test_count_reads_first_page_once() -> None:
    pages = FakePages(42, 10)
    p = Paginator(pages, page_size=10, prefetch=2)
    assert await p.count() == 42
    assert [x async for x in p] == list(range(42))
    assert pages.requested.count(1) == 1  # the counted first page was reused


async def test_aclosing_cancels_prefetched_pages() -> None:
    pages = FakePages(1000, 10)
    pages.hold_from = 3  # pages 3.. stay in flight until cancelled
    p = Paginator(pages, page_size=10, prefetch=8)
    async with contextlib.aclosing(p.__aiter__()) as it:  # type: ignore[type-var]
        async for x in it:
            if x == 19:
                break
    assert pages.in_flight == 0
    assert pages.cancelled == 7  # pages 3..9 were prefetched, then cancelled


async def test_paginator_aclose_stops_live_iterations() -> None:
    pages = FakePages(1000, 10)
    p = Paginator(pages, page_size=10, prefetch=4)
    it = p.__aiter__()
    assert await it.__anext__() == 0
    await p.aclose()
    assert pages.in_flight == 0
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()


async def test_plain_break_cleans_up_when_collected() -> None:
    pages = FakePages(1000, 10)
    pages.hold_from = 3
    async for x in Paginator(pages, page_size=10, prefetch=4):
        if x == 12:
            break
    assert pages.in_flight == 3  # pages 3..5 still prefetching
    gc.collect()
    for _ in range(20):
        await asyncio.sleep(0)
    assert pages.in_flight == 0


async def test_cancelling_the_consumer_cancels_prefetches() -> None:
    pages = FakePages(1000, 10)

    pages.hold_from = 4

    async def consume() -> None:
        async for _ in Paginator(pages, page_size=10, prefetch=6):
            await asyncio.sleep(0)

    task = asyncio.ensure_future(consume())
    for _ in range(50):
        await asyncio.sleep(0)
    assert pages.in_flight > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pages.in_flight == 0


async def test_404_past_the_end_ends_iteration() -> None:
    async def fetch(number: int, page_size: int) -> Page[int]:
        if number == 3:
            raise NotFoundError("gone", status=404, body={"detail": "Not found"})
        return Page(items=list(range(10)), count=50, number=number, has_next=True)

    got = [x async for x in Paginator(fetch, page_size=10, prefetch=1)]
    assert len(got) == 20


async def test_errors_of_a_page_propagate() -> None:
    async def fetch(number: int, page_size: int) -> Page[int]:
        if number == 2:
            raise RuntimeError("boom")
        return Page(items=list(range(10)), count=50, number=number, has_next=True)

    with pytest.raises(RuntimeError, match="boom"):
        [x async for x in Paginator(fetch, page_size=10, prefetch=3)]


def test_plan_last_page() -> None:
    assert plan_last_page(None, 10) is None
    assert plan_last_page(0, 10) == 1
    assert plan_last_page(10, 10) == 1
    assert plan_last_page(11, 10) == 2


async def test_non_json_404_mid_listing_is_raised_not_taken_for_the_end() -> None:
    async def fetch(number: int, page_size: int) -> Page[int]:
        if number == 3:
            raise NotFoundError("proxy page", status=404, body="<html>404</html>")
        return Page(items=list(range(10)), count=50, number=number, has_next=True)

    with pytest.raises(NotFoundError):
        [x async for x in Paginator(fetch, page_size=10, prefetch=1)]


@pytest.mark.parametrize("prefetch", [1, 4])
async def test_a_count_less_list_ending_on_a_full_page_ends_at_an_html_404(prefetch: int) -> None:
    # Audit logs carry no count: 20 events in pages of 10 ask for page 3, which Hub may answer
    # with its HTML 404 page. That is the end of the list, not an error.
    async def fetch(number: int, page_size: int) -> Page[int]:
        if number >= 3:
            raise NotFoundError("past the end", status=404, body="<html>404</html>")
        return Page(items=list(range(10)), count=None, number=number, has_next=True)

    got = [x async for x in Paginator(fetch, page_size=10, prefetch=prefetch)]
    assert len(got) == 20


@pytest.mark.parametrize("prefetch", [1, 4])
@pytest.mark.parametrize(("total", "cap"), [(250, 50), (101, 30), (60, 50)])
async def test_a_server_capping_page_size_loses_nothing(
    total: int, cap: int, prefetch: int
) -> None:
    pages = FakePages(total, 100, cap=cap)
    got = [x async for x in Paginator(pages, page_size=100, prefetch=prefetch)]
    assert got == list(range(total))  # before: page 2 at size 100 skipped items cap..99
    assert pages.sizes[0] == 100 and set(pages.sizes[1:]) == {cap}
    assert len(pages.requested) == -(-total // cap)  # no page asked for twice or in vain


def test_served_page_size_only_replans_a_counted_short_first_page() -> None:
    def page(n: int, count: int | None, has_next: bool = True) -> Page[int]:
        return Page(items=list(range(n)), count=count, number=1, has_next=has_next)

    assert served_page_size(page(50, 250), 100) == 50
    assert served_page_size(page(50, 50, has_next=False), 100) == 100  # the whole list
    assert served_page_size(page(50, None), 100) == 100  # no count: a short page is the end
    assert served_page_size(page(0, 250), 100) == 100
    assert served_page_size(page(100, 250), 100) == 100


async def test_next_pages_load_while_the_first_is_consumed() -> None:
    pages = FakePages(100, 10)
    it = Paginator(pages, page_size=10, prefetch=3).__aiter__()
    assert await it.__anext__() == 0
    await asyncio.sleep(0)
    assert pages.requested == [1, 2, 3]  # prefetch - 1 asked for before page 1 was handed out
    await it.aclose()  # type: ignore[attr-defined]
    assert pages.in_flight == 0


async def test_count_less_lists_grow_the_window_from_one() -> None:
    pages = FakePages(101, 100, counted=False)
    got = [x async for x in Paginator(pages, page_size=100, prefetch=16)]
    assert got == list(range(101))
    assert pages.requested == [1, 2]  # not 2..17 with 15 of them past the end
    in_flight, peak = 0, 0

    async def slow(number: int, page_size: int) -> Page[int]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(20):  # every page takes a while: prefetched ones overlap
            await asyncio.sleep(0)
        in_flight -= 1
        items = list(range((number - 1) * 10, min(number * 10, 1000)))
        return Page(items=items, count=None, number=number, has_next=True)

    assert [x async for x in Paginator(slow, page_size=10, prefetch=8)] == list(range(1000))
    assert peak == 8  # still reaches the full prefetch on a long log


async def test_to_list_limit_plans_only_the_pages_it_needs() -> None:
    pages = FakePages(10_000, 10)
    assert await Paginator(pages, page_size=10, prefetch=8).to_list(limit=25) == list(range(25))
    assert pages.requested == [1, 2, 3]


@pytest.mark.parametrize("limit", [1.5, "3", -1, True])
async def test_to_list_rejects_a_limit_that_is_not_a_count(limit: object) -> None:
    pages = FakePages(100, 10)
    with pytest.raises(ValueError, match="limit must be None or an int"):
        await Paginator(pages, page_size=10, prefetch=2).to_list(limit=limit)  # type: ignore[arg-type]
    assert pages.requested == []


def _pages_from(total: Callable[[int], int], served: Callable[[int, int], int]) -> Any:
    """fetch(number, size): ``served(number, size)`` items from offset (number-1)*size of a
    list whose length is ``total(number)`` when that page is read."""

    async def fetch(number: int, size: int) -> Page[int]:
        await asyncio.sleep(0)
        n = total(number)
        start = (number - 1) * size
        items = list(range(start, min(start + served(number, size), n)))
        return Page(items=items, count=n, number=number, has_next=start + len(items) < n)

    return fetch


@pytest.mark.parametrize(
    ("served", "what"),
    [
        (lambda number, size: 50 if number >= 2 else size, "skipped"),
        (lambda number, size: size + 30 if number >= 2 else size, "repeat"),
    ],
    ids=["capped-from-page-2", "more-than-asked"],
)
async def test_a_page_size_changing_mid_listing_is_an_error_not_holes(
    served: Callable[[int, int], int], what: str
) -> None:
    fetch = _pages_from(lambda number: 250, served)
    got: list[int] = []
    with pytest.raises(ResponseValidationError, match=what):
        async for x in Paginator(fetch, page_size=100, prefetch=1):
            got.append(x)
    assert got == list(range(100))  # what came before the broken page, once, in order


@pytest.mark.parametrize("prefetch", [1, 4])
async def test_a_list_that_grows_while_read_is_read_to_its_new_end(prefetch: int) -> None:
    fetch = _pages_from(lambda number: 250 if number == 1 else 400, lambda number, size: size)
    got = [x async for x in Paginator(fetch, page_size=100, prefetch=prefetch)]
    assert got == list(range(400))
