"""Tests for hubasync.fanout: bounded, lazy, as-completed fan-out with per-item outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tracemalloc
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubasync.fanout import Failed, FanOut, Ok, Outcome, fan_out

# --------------------------------------------------------------------------- helpers


class Probe:
    """An instrumented ``fn``: counts concurrent calls, records starts and finally blocks.

    Each call yields to the loop ``yields(item)`` times (a deterministic stand-in for a
    delay), or waits on ``gate(item)`` when gates are used.
    """

    def __init__(self, *, gated: bool = False, fail: Iterable[int] = ()) -> None:
        self.gated = gated
        self.fail = set(fail)
        self.active = 0
        self.max_active = 0
        self.max_tasks = 0
        self.started: list[int] = []
        self.finalized: list[int] = []
        self.cancelled: list[int] = []
        self.tasks: list[asyncio.Task[object]] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.helpers: set[asyncio.Future[Any]] = set()  # the test's own tasks, not calls
        self.n_started = asyncio.Condition()
        main = asyncio.current_task()
        assert main is not None
        self.main: asyncio.Future[object] = main

    def gate(self, item: int) -> asyncio.Event:
        return self.gates.setdefault(item, asyncio.Event())

    async def wait_started(self, n: int) -> None:
        async with self.n_started:
            await self.n_started.wait_for(lambda: len(self.started) >= n)

    async def __call__(self, item: int) -> int:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        # Every task but the test's own is a call: never more of them than the bound.
        calls = asyncio.all_tasks() - self.helpers - {self.main}
        self.max_tasks = max(self.max_tasks, len(calls))
        self.started.append(item)
        task = asyncio.current_task()
        assert task is not None
        self.tasks.append(task)
        try:
            async with self.n_started:
                self.n_started.notify_all()
            if self.gated:
                await self.gate(item).wait()
            else:
                for _ in range(item % 5):
                    await asyncio.sleep(0)
            if item in self.fail:
                raise ValueError(f"item {item} failed")
            return item * 10
        except asyncio.CancelledError:
            self.cancelled.append(item)
            raise
        finally:
            self.active -= 1
            self.finalized.append(item)


class CountingSource:
    """A sync iterable that counts how many items were pulled from it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pulled = 0

    def __iter__(self) -> Iterator[int]:
        for i in range(self.n):
            self.pulled += 1
            yield i


async def agen(items: Iterable[int], counter: list[int] | None = None) -> AsyncIterator[int]:
    """An async generator over ``items``; appends to ``counter`` for each item pulled."""
    for i in items:
        await asyncio.sleep(0)
        if counter is not None:
            counter.append(i)
        yield i


def other_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


async def collect(it: FanOut[int, int]) -> list[Outcome[int, int]]:
    return [o async for o in it]


# --------------------------------------------------------------------------- bound


@pytest.mark.parametrize("concurrency", [1, 3, 8])
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_bound_is_respected_and_used(concurrency: int, kind: str) -> None:
    probe = Probe(gated=True)
    items = range(40)
    source = items if kind == "sync" else agen(items)
    async with fan_out(source, probe, concurrency=concurrency) as it:
        first = asyncio.ensure_future(anext(it))
        probe.helpers.add(first)
        await probe.wait_started(concurrency)
        for _ in range(20):  # every chance to overshoot
            await asyncio.sleep(0)
        assert probe.active == len(probe.started) == concurrency  # the bound is used
        for i in items:  # open every gate, started or not
            probe.gate(i).set()
        outcomes = [await first, *[o async for o in it]]

    assert sorted(o.item for o in outcomes) == list(items)
    assert all(o.ok and o.value == o.item * 10 for o in outcomes)
    assert probe.max_active == concurrency  # and never exceeded
    assert probe.max_tasks <= concurrency
    assert not other_tasks()


@settings(max_examples=60, deadline=None)
@given(
    yields=st.lists(st.integers(0, 6), max_size=30),
    concurrency=st.integers(1, 10),
    failing=st.sets(st.integers(0, 29)),
)
def test_property_every_item_once_within_bound(
    yields: list[int], concurrency: int, failing: set[int]
) -> None:
    async def main() -> tuple[list[Outcome[int, int]], int]:
        active = peak = 0

        async def fn(i: int) -> int:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                for _ in range(yields[i]):
                    await asyncio.sleep(0)
                if i in failing:
                    raise KeyError(i)
                return -i
            finally:
                active -= 1

        outcomes = await collect(fan_out(range(len(yields)), fn, concurrency=concurrency))
        return outcomes, peak

    outcomes, peak = asyncio.run(main())
    assert sorted(o.item for o in outcomes) == list(range(len(yields)))
    assert peak <= concurrency
    for o in outcomes:
        if o.item in failing:
            assert isinstance(o.error, KeyError) and o.value is None and not o.ok
        else:
            assert o.ok and o.value == -o.item


# --------------------------------------------------------------------------- order


@settings(max_examples=30, deadline=None)
@given(order=st.permutations(list(range(6))))
def test_outcomes_arrive_in_completion_order_gated(order: list[int]) -> None:
    async def main() -> list[int]:
        probe = Probe(gated=True)
        seen: list[int] = []
        async with fan_out(range(6), probe, concurrency=6) as it:
            await_next = asyncio.ensure_future(anext(it))
            await probe.wait_started(6)
            for item in order:
                probe.gate(item).set()
                seen.append((await await_next).item)
                if len(seen) < 6:
                    await_next = asyncio.ensure_future(anext(it))
        return seen

    assert asyncio.run(main()) == order


async def test_calls_finished_while_the_consumer_was_away_come_out_in_finishing_order() -> None:
    probe = Probe(gated=True)
    async with fan_out(range(5), probe, concurrency=5) as it:
        first = asyncio.ensure_future(anext(it))
        await probe.wait_started(5)
        probe.gate(2).set()
        assert (await first).item == 2
        for item in (4, 0, 3):  # three finish before the consumer asks again
            probe.gate(item).set()
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(probe.finalized) == 4  # all three done and waiting for the consumer
        assert [(await anext(it)).item for _ in range(3)] == [4, 0, 3]


async def test_outcomes_arrive_in_delay_order() -> None:
    # The "delay" is a number of loop iterations, so the order is exact and nothing is timed.
    delays = {"a": 7, "b": 2, "c": 5, "d": 0, "e": 3}

    async def fn(key: str) -> int:
        for _ in range(delays[key]):
            await asyncio.sleep(0)
        return delays[key]

    outcomes = [o async for o in fan_out(delays, fn, concurrency=len(delays))]
    assert [o.item for o in outcomes] == sorted(delays, key=delays.__getitem__)


# --------------------------------------------------------------------------- errors


async def test_failures_become_outcomes_and_the_run_continues() -> None:
    probe = Probe(fail={1, 4, 7})
    outcomes = await collect(fan_out(range(10), probe, concurrency=3))
    by_item = {o.item: o for o in outcomes}

    assert sorted(by_item) == list(range(10))
    for i, o in by_item.items():
        if i in {1, 4, 7}:
            assert not o.ok and isinstance(o.error, ValueError) and o.value is None
            with pytest.raises(ValueError, match=f"item {i} failed"):
                o.unwrap()
        else:
            assert o.ok and o.error is None and o.unwrap() == i * 10


async def test_fn_failing_before_returning_an_awaitable_is_an_outcome() -> None:
    def fn(i: int) -> asyncio.Future[int]:
        if i == 2:
            raise LookupError("no awaitable for 2")
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        fut.set_result(i)
        return fut

    outcomes = {o.item: o async for o in fan_out(range(4), fn, concurrency=2)}
    assert isinstance(outcomes[2].error, LookupError)
    assert [outcomes[i].unwrap() for i in (0, 1, 3)] == [0, 1, 3]


async def test_call_cancelled_from_outside_is_an_outcome() -> None:
    async def fn(i: int) -> int:
        if i == 1:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)
        return i

    outcomes = {o.item: o async for o in fan_out(range(3), fn, concurrency=3)}
    assert isinstance(outcomes[1].error, asyncio.CancelledError)
    assert outcomes[0].unwrap() == 0 and outcomes[2].unwrap() == 2


def test_keyboard_interrupt_in_fn_is_not_an_outcome() -> None:
    seen: list[Outcome[int, int]] = []

    async def fn(i: int) -> int:
        if i == 0:
            raise KeyboardInterrupt
        await asyncio.Event().wait()
        return i

    async def main() -> None:
        async for o in fan_out(range(3), fn, concurrency=2):
            seen.append(o)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    assert seen == []


async def test_consumer_exception_propagates_and_cancels_calls() -> None:
    probe = Probe(gated=True)
    with pytest.raises(SystemExit):
        async with fan_out(range(10), probe, concurrency=3) as it:
            probe.gate(0).set()
            async for _ in it:
                raise SystemExit(3)
    assert sorted(probe.finalized) == sorted(probe.started)
    assert probe.active == 0
    assert not other_tasks()


def test_outcome_api() -> None:
    ok: Outcome[str, int | None] = Ok(item="x", value=None)
    assert ok.ok and ok.unwrap() is None and ok.error is None
    err: Outcome[str, int] = Failed(item="y", error=RuntimeError("boom"))
    assert not err.ok and err.value is None
    with pytest.raises(RuntimeError, match="boom"):
        err.unwrap()
    with pytest.raises(AttributeError):
        ok.item = "z"  # type: ignore[misc]


async def test_outcomes_are_ok_or_failed_by_result() -> None:
    async def fn(n: int) -> int:
        if n % 2:
            raise ValueError(n)
        return n * 10

    outcomes = [o async for o in fan_out(range(4), fn, concurrency=2)]
    by_item = {o.item: o for o in outcomes}
    assert all(isinstance(by_item[n], Ok) for n in (0, 2))
    assert all(isinstance(by_item[n], Failed) for n in (1, 3))
    assert by_item[2].value == 20 and isinstance(by_item[3].error, ValueError)


# --------------------------------------------------------------------------- early exit


async def test_break_with_aclosing_cancels_and_awaits_running_calls() -> None:
    probe = Probe(gated=True)
    probe.gate(0).set()
    async with contextlib.aclosing(fan_out(range(100), probe, concurrency=3)) as it:
        async for outcome in it:
            assert outcome.item == 0
            break
    # aclose() returned: every call that started has run its finally block.
    assert probe.started and sorted(probe.finalized) == sorted(probe.started)
    assert sorted(probe.cancelled) == sorted(set(probe.started) - {0})
    assert all(t.done() for t in probe.tasks)
    assert not other_tasks()
    assert len(probe.started) <= 4


async def test_async_with_and_explicit_aclose_are_equivalent() -> None:
    probe = Probe(gated=True)
    it = fan_out(range(100), probe, concurrency=3)
    probe.gate(0).set()
    assert (await anext(it)).item == 0
    await it.aclose()
    assert sorted(probe.finalized) == sorted(probe.started)
    assert not other_tasks()
    await it.aclose()  # idempotent
    with pytest.raises(StopAsyncIteration):
        await anext(it)


async def test_plain_break_cancels_calls_when_collected() -> None:
    probe = Probe(gated=True)
    probe.gate(0).set()
    async for _ in fan_out(range(100), probe, concurrency=3):
        break
    gc.collect()  # CPython frees it at once; this keeps the test honest elsewhere
    running = other_tasks()
    assert running and all(t.cancelling() for t in running)  # cancelled, not yet finished
    await asyncio.wait(running)
    assert sorted(probe.finalized) == sorted(probe.started)
    assert sorted(probe.cancelled) == sorted(set(probe.started) - {0})


async def test_cancelling_the_consumer_cancels_and_awaits_children() -> None:
    probe = Probe(gated=True)
    got: list[Outcome[int, int]] = []

    async def consumer() -> None:
        async for o in fan_out(range(100), probe, concurrency=3):
            got.append(o)

    task = asyncio.create_task(consumer())
    await probe.wait_started(3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # By the time the consumer's cancellation surfaced, the calls were over.
    assert probe.started == [0, 1, 2] and sorted(probe.cancelled) == [0, 1, 2]
    assert sorted(probe.finalized) == [0, 1, 2]
    assert all(t.done() for t in probe.tasks)
    assert not other_tasks()
    assert got == []


async def test_consumer_cancelled_while_reading_the_source() -> None:
    probe = Probe(gated=True)
    source_closed = asyncio.Event()
    stalled = asyncio.Event()

    async def source() -> AsyncIterator[int]:
        try:
            yield 0
            yield 1
            stalled.set()
            await asyncio.Event().wait()  # a page that never arrives
            yield 2
        finally:
            source_closed.set()

    async def consumer() -> None:
        async for _ in fan_out(source(), probe, concurrency=3):
            pass

    task = asyncio.create_task(consumer())
    await stalled.wait()
    await probe.wait_started(2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(probe.cancelled) == [0, 1] == sorted(probe.finalized)
    assert source_closed.is_set()
    assert not other_tasks()


async def test_timeout_around_the_loop_cancels_children() -> None:
    probe = Probe(gated=True)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            async for _ in fan_out(range(10), probe, concurrency=2):
                pass
    assert sorted(probe.finalized) == sorted(probe.started)
    assert not other_tasks()


async def test_aclose_from_another_task_ends_the_iteration() -> None:
    probe = Probe(gated=True)
    it = fan_out(range(10), probe, concurrency=2)
    got: list[Outcome[int, int]] = []

    async def consumer() -> None:
        async for o in it:
            got.append(o)

    task = asyncio.create_task(consumer())
    await probe.wait_started(2)
    await it.aclose()
    assert sorted(probe.finalized) == [0, 1]
    await task  # ends normally
    assert got == []
    assert not other_tasks()


async def test_concurrent_anext_is_refused() -> None:
    probe = Probe(gated=True)
    async with fan_out(range(4), probe, concurrency=2) as it:
        first = asyncio.ensure_future(anext(it))
        await probe.wait_started(2)
        with pytest.raises(RuntimeError, match="single task"):
            await anext(it)
        probe.gate(0).set()
        assert (await first).item == 0


async def test_closing_closes_the_source() -> None:
    closed: list[str] = []

    def sync_source() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append("sync")

    async def async_source() -> AsyncIterator[int]:
        try:
            for i in range(100):
                yield i
        finally:
            closed.append("async")

    async def fn(i: int) -> int:
        return i

    for source in (sync_source(), async_source()):
        async with fan_out(source, fn, concurrency=2) as it:
            await anext(it)
    assert closed == ["sync", "async"]


# --------------------------------------------------------------------------- laziness


async def test_source_is_consumed_lazily_sync() -> None:
    source = CountingSource(1000)

    async def fn(i: int) -> int:
        return i

    it = fan_out(source, fn, concurrency=3)
    assert source.pulled == 0  # nothing happens before iteration
    async with it:
        await anext(it)
        await anext(it)
        assert 3 <= source.pulled <= 5
        pulled = source.pulled
        for _ in range(10):  # a slow consumer: the calls finish, nothing more is pulled
            await asyncio.sleep(0)
        assert source.pulled == pulled


async def test_source_is_consumed_lazily_async() -> None:
    counter: list[int] = []

    async def fn(i: int) -> int:
        return i

    async with fan_out(agen(range(1000), counter), fn, concurrency=3) as it:
        await anext(it)
        await anext(it)
        assert 3 <= len(counter) <= 5


async def test_taking_an_outcome_refills_its_slot_at_once() -> None:
    # While the consumer works on an outcome, the full concurrency keeps running.
    probe = Probe(gated=True)
    async with fan_out(range(10), probe, concurrency=2) as it:
        first = asyncio.ensure_future(anext(it))
        await probe.wait_started(2)
        probe.gate(0).set()
        assert (await first).item == 0
        for _ in range(5):  # no further anext(): just let the loop turn
            await asyncio.sleep(0)
        assert probe.started == [0, 1, 2] and probe.active == 2


async def test_source_error_after_started_calls_are_delivered() -> None:
    def source() -> Iterator[int]:
        yield from range(3)
        raise OSError("listing failed")

    async def fn(i: int) -> int:
        await asyncio.sleep(0)
        return i

    it = fan_out(source(), fn, concurrency=8)
    got: list[int] = []
    with pytest.raises(OSError, match="listing failed"):
        async for o in it:
            got.append(o.unwrap())
    assert sorted(got) == [0, 1, 2]
    with pytest.raises(StopAsyncIteration):
        await anext(it)


async def test_empty_source() -> None:
    async def fn(i: int) -> int:
        raise AssertionError("not called")

    assert await collect(fan_out([], fn)) == []
    assert await collect(fan_out(agen([]), fn)) == []


# --------------------------------------------------------------------------- scale


async def test_hundred_thousand_items_never_exceed_the_bound() -> None:
    concurrency = 8
    active = peak = peak_tasks = calls = 0

    async def fn(i: int) -> int:
        nonlocal active, peak, peak_tasks, calls
        active += 1
        calls += 1
        peak = max(peak, active)
        if i % 1000 == 0:  # sampling keeps the test fast; tasks never pile up in between
            peak_tasks = max(peak_tasks, len(asyncio.all_tasks()) - 1)
        await asyncio.sleep(0)
        active -= 1
        return i

    total = 0
    async for o in fan_out(range(100_000), fn, concurrency=concurrency):
        total += o.unwrap()
    assert calls == 100_000 and total == sum(range(100_000))
    assert peak == concurrency
    assert 1 <= peak_tasks <= concurrency


async def test_memory_stays_flat() -> None:
    async def fn(i: int) -> int:
        return i

    async def run(n: int) -> int:
        tracemalloc.start()
        try:
            count = 0
            async for _ in fan_out(range(n), fn, concurrency=8):
                count += 1
            assert count == n
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = await run(1_000)
    large = await run(10_000)
    # 10 000 tasks or outcomes held at once would take megabytes; a bounded run stays put.
    assert large < small + 100_000


# --------------------------------------------------------------------------- arguments


async def _noop(i: int) -> int:
    return i


@pytest.mark.parametrize("concurrency", [0, -1, -100])
def test_bad_concurrency_is_refused_at_call_time(concurrency: int) -> None:
    # A plain (sync) test: the error comes from the call, before any iteration or loop.
    with pytest.raises(ValueError, match=rf"concurrency must be at least 1, got {concurrency}"):
        fan_out(range(3), _noop, concurrency=concurrency)


@pytest.mark.parametrize("concurrency", [2.0, "4", True, None])
def test_non_int_concurrency_is_a_value_error(concurrency: object) -> None:
    with pytest.raises(ValueError, match="concurrency must be an int"):
        fan_out(range(3), _noop, concurrency=concurrency)  # type: ignore[arg-type]


def test_bad_items_or_fn_are_refused_at_call_time() -> None:
    with pytest.raises(TypeError, match="items must be an iterable"):
        fan_out(42, _noop)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fn must be an async callable"):
        fan_out(range(3), "not callable")  # type: ignore[arg-type]


def test_construction_needs_no_event_loop_and_reads_nothing() -> None:
    source = CountingSource(10)
    it = fan_out(source, _noop, concurrency=2)
    assert isinstance(it, FanOut) and source.pulled == 0
    assert sorted(o.unwrap() for o in asyncio.run(collect(it))) == list(range(10))
    assert source.pulled == 10


def test_outcome_still_works_as_a_class_at_run_time() -> None:
    from hubasync import Outcome
    from hubasync.fanout import Failed, Ok

    error = ValueError("no")
    ok, failed = Outcome(item=1, value="one"), Outcome(item=2, error=error)
    assert isinstance(ok, Ok) and ok.value == "one" and ok.item == 1
    assert isinstance(failed, Failed) and failed.error is error and failed.value is None
    assert isinstance(ok, Outcome) and isinstance(failed, Outcome)
    assert not isinstance("not an outcome", Outcome)
    assert issubclass(Ok, Outcome) and not issubclass(str, Outcome)
    assert Outcome[int, str] is Outcome
