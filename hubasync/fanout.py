"""Bounded, as-completed concurrency with one outcome per item: :func:`fan_out`.

``fan_out(items, fn, concurrency=8)`` calls the async function ``fn`` on every item, never
with more than ``concurrency`` calls in flight, and yields an :class:`Outcome` for each item
in the order the calls finish. A call that raises becomes an outcome carrying the error; the
run goes on.

Guarantees:

* **Bounded and lazy.** At most ``concurrency`` items are held at once (calls running plus
  finished outcomes not yet taken by the consumer). The next item is pulled from the source
  only when the consumer takes an outcome and so frees a slot: after ``k`` outcomes at most
  ``concurrency + k`` items have been read. A million items never means a million tasks,
  and a slow consumer applies back-pressure instead of piling up results.
* **Sync or async sources.** ``items`` may be any iterable or async iterable (a generator, a
  list, a :class:`~hubasync.Paginator`...). The iterator is drawn from in the consumer's task.
* **Cleanup.** Leaving early (``break`` then ``aclose()``, ``async with fan_out(...)``,
  ``contextlib.aclosing``) or cancelling the consuming task cancels the running calls and
  waits for them, so their ``finally`` blocks have run when ``aclose()`` returns or the
  cancellation propagates. An iterator dropped without ``aclose()`` cancels its calls when it
  is garbage-collected (it cannot wait for them there). Closing also closes the source
  iterator when it is an async iterator with ``aclose()`` or a generator, so a paginator's
  prefetch is released.
* **Errors.** An ``Exception`` from ``fn`` is that item's outcome. A call cancelled by
  someone other than ``fan_out`` yields an outcome whose error is the ``CancelledError``.
  ``KeyboardInterrupt``/``SystemExit`` and the consumer's own cancellation are never
  swallowed. An error raised by the *source* stops the pulling; the outcomes of calls already
  started are still delivered, then the source's error is raised.

Why not aiometer: ``aiometer.amap`` (0.x to 1.0) is close, but it does not fit these
guarantees and wrapping it would not be shorter than this module. Its first failing call
raises out of the whole run and cancels the others (task-group semantics), so per-item
outcomes need a wrapper anyway; it is only usable as ``async with``, not as a plain async
iterator that cleans up on ``break``/garbage collection; its result channel is unbounded
(``max_buffer_size=len(args)``) and a slot frees when a call *finishes*, not when its result
is *consumed*, so a slow consumer makes it read the whole source ahead and buffer every
result, which breaks the flat-memory promise for very large runs. Its other feature,
``max_per_second``, duplicates the transport's rate limiter. So hubasync keeps its own small
implementation and avoids the aiometer + anyio dependencies.
"""

from __future__ import annotations

import asyncio
import types
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeAlias, TypeVar

import attrs

__all__ = ["FanOut", "Failed", "Ok", "Outcome", "fan_out"]

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen(kw_only=True)
class Ok(Generic[T, R]):
    """A call inside :func:`fan_out` that returned: ``value`` is what it returned.

    ``ok`` is ``Literal[True]`` and ``error`` is ``None``, so ``if outcome.ok:`` (or
    ``if outcome.error is None:``) narrows an :data:`Outcome` to this class for a type
    checker, and ``outcome.value`` then has the call's return type, without ``None``.
    """

    item: T
    value: R

    @property
    def ok(self) -> Literal[True]:
        """Always ``True``: the call returned normally."""
        return True

    @property
    def error(self) -> None:
        """Always ``None``."""
        return None

    def unwrap(self) -> R:
        """Return the call's value."""
        return self.value


@attrs.frozen(kw_only=True)
class Failed(Generic[T]):
    """A call inside :func:`fan_out` that raised: ``error`` is the ``Exception`` it raised,
    or a ``CancelledError`` when it was cancelled from outside ``fan_out``.

    ``ok`` is ``Literal[False]`` and ``value`` is ``None``.
    """

    item: T
    error: BaseException

    @property
    def ok(self) -> Literal[False]:
        """Always ``False``: the call failed."""
        return False

    @property
    def value(self) -> None:
        """Always ``None``."""
        return None

    def unwrap(self) -> NoReturn:
        """Raise the error the call failed with."""
        raise self.error


if TYPE_CHECKING:
    Outcome: TypeAlias = Ok[T, R] | Failed[T]
else:

    class _OutcomeType(type):
        """Keeps the pre-union ``Outcome`` usable at run time (isinstance, construction)."""

        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, Ok | Failed)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, Ok | Failed)

        def __call__(
            cls, *, item: Any, value: Any = None, error: BaseException | None = None
        ) -> Ok[Any, Any] | Failed[Any]:
            if error is None:
                return Ok(item=item, value=value)
            return Failed(item=item, error=error)

    class Outcome(metaclass=_OutcomeType):
        """The result of calling ``fn(item)`` in :func:`fan_out`: :class:`Ok` or :class:`Failed`.

        Both have ``.item``, ``.value``, ``.error``, ``.ok`` and ``unwrap()``. ``if outcome.ok:``
        narrows it, so ``outcome.value`` is the call's return type there (``mypy --strict`` needs
        no cast); in the other branch ``outcome.error`` is the ``BaseException``.

        At run time ``Outcome`` still works as the class it was before the split:
        ``isinstance(x, Outcome)`` is true for an :class:`Ok` or a :class:`Failed`,
        ``Outcome[int, str]`` subscripts, and ``Outcome(item=…, value=…)`` /
        ``Outcome(item=…, error=…)`` build the matching one.
        """

        def __class_getitem__(cls, params: Any) -> type:
            return cls


async def _call(fn: Callable[[T], Awaitable[R]], item: T) -> Outcome[T, R]:
    """Run one call, turning an ``Exception`` into its outcome."""
    try:
        value = await fn(item)
    except Exception as exc:
        return Failed(item=item, error=exc)
    return Ok(item=item, value=value)


class _Calls(Generic[T, R]):
    """The tasks of one run. Tasks reference this, never the :class:`FanOut` itself, so a
    dropped ``FanOut`` is collected (and cancels its calls) while calls are still running."""

    __slots__ = ("cancelled", "ready", "running", "waiter")

    def __init__(self) -> None:
        self.running: dict[asyncio.Task[Outcome[T, R]], T] = {}
        self.ready: deque[tuple[asyncio.Task[Outcome[T, R]], T]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.cancelled = False

    def held(self) -> int:
        return len(self.running) + len(self.ready)

    def start(self, fn: Callable[[T], Awaitable[R]], item: T) -> None:
        task = asyncio.get_running_loop().create_task(_call(fn, item), name="hubasync.fan_out")
        self.running[task] = item
        task.add_done_callback(self._on_done)

    def _on_done(self, task: asyncio.Task[Outcome[T, R]]) -> None:
        item = self.running.pop(task)
        if self.cancelled:
            return
        self.ready.append((task, item))
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def cancel_all(self) -> list[asyncio.Task[Outcome[T, R]]]:
        self.cancelled = True
        tasks = list(self.running)
        for task in tasks:
            task.cancel()
        self.ready.clear()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        return tasks


def _outcome_of(task: asyncio.Task[Outcome[T, R]], item: T) -> Outcome[T, R]:
    """The outcome of a finished call; re-raises a ``BaseException`` that is not one."""
    try:
        return task.result()
    except asyncio.CancelledError as exc:
        return Failed(item=item, error=exc)


class FanOut(AsyncIterator[Outcome[T, R]], Generic[T, R]):
    """The async iterator :func:`fan_out` returns; see the module docstring.

    Iterate it once, from one task. Use ``aclose()`` (or ``async with``) to stop early.
    """

    def __init__(
        self,
        items: Iterable[T] | AsyncIterable[T],
        fn: Callable[[T], Awaitable[R]],
        concurrency: int,
    ) -> None:
        self._items = items
        self._fn = fn
        self._concurrency = concurrency
        self._source: Iterator[T] | AsyncIterator[T] | None = None
        self._source_done = False
        self._source_error: Exception | None = None
        self._calls: _Calls[T, R] = _Calls()
        self._closed = False
        self._busy = False
        self._pulling = False

    def __aiter__(self) -> FanOut[T, R]:
        """Return the iterator itself."""
        return self

    async def __aenter__(self) -> FanOut[T, R]:
        """Enter ``async with``: the iterator itself, closed on exit."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Close the iterator, cancelling and awaiting the calls still running."""
        await self.aclose()

    async def __anext__(self) -> Outcome[T, R]:
        """Return the outcome of the next call to finish."""
        if self._busy:
            raise RuntimeError(
                "This fan_out() iterator is already being advanced by another task; "
                "iterate it from a single task."
            )
        if self._closed:
            raise StopAsyncIteration
        self._busy = True
        try:
            await self._fill()
            if self._closed:  # aclose() from another task while we read the source
                raise StopAsyncIteration
            if not self._calls.held():
                return await self._finish()
            while not self._calls.ready:
                waiter = asyncio.get_running_loop().create_future()
                self._calls.waiter = waiter
                try:
                    await waiter
                finally:
                    self._calls.waiter = None
                if self._closed:  # aclose() from another task while we waited
                    raise StopAsyncIteration
            task, item = self._calls.ready.popleft()
            outcome = _outcome_of(task, item)
            await self._fill()  # the taken outcome freed a slot: keep the calls busy
            return outcome
        except StopAsyncIteration:
            raise
        except BaseException:
            await self._shutdown(propagating=True)
            raise
        finally:
            self._busy = False

    async def aclose(self) -> None:
        """Stop: cancel the calls still running and wait for them, then close the source.

        Idempotent. Outcomes not taken yet are discarded.
        """
        await self._shutdown(propagating=False)

    def __del__(self) -> None:
        # Dropped without aclose(): cancel what runs; awaiting is impossible here.
        calls = getattr(self, "_calls", None)
        if calls is None or not calls.running:
            return
        try:
            calls.cancel_all()
        except RuntimeError:  # the loop is already closed
            pass

    async def _fill(self) -> None:
        """Start calls until ``concurrency`` items are held or the source is exhausted."""
        while not self._closed and not self._source_done and self._calls.held() < self._concurrency:
            self._pulling = True
            try:
                source = self._source if self._source is not None else self._open_source()
                if isinstance(source, AsyncIterator):
                    item = await anext(source)
                else:
                    item = next(source)  # never via a coroutine: StopIteration can't cross one
            except (StopIteration, StopAsyncIteration):
                self._source_done = True
            except Exception as exc:
                self._source_done = True
                self._source_error = exc
            else:
                if not self._closed:
                    self._calls.start(self._fn, item)
            finally:
                self._pulling = False
            if self._closed:  # aclose() from another task while we waited for the source
                await self._close_source()

    def _open_source(self) -> Iterator[T] | AsyncIterator[T]:
        items = self._items
        source: Iterator[T] | AsyncIterator[T]
        source = aiter(items) if isinstance(items, AsyncIterable) else iter(items)
        self._source = source
        return source

    async def _finish(self) -> Outcome[T, R]:
        """Nothing held and nothing left to pull: end the run (or raise the source's error)."""
        self._closed = True
        error, self._source_error = self._source_error, None
        await self._close_source()
        if error is not None:
            raise error
        raise StopAsyncIteration

    async def _shutdown(self, *, propagating: bool) -> None:
        """Cancel and await the calls, close the source. Raises a ``BaseException`` met on
        the way (a second cancellation, a call's ``KeyboardInterrupt``) unless the caller is
        already propagating one."""
        self._closed = True
        finished = [task for task, _ in self._calls.ready]
        tasks = self._calls.cancel_all()
        interrupted: BaseException | None = None
        pending = [task for task in tasks if not task.done()]
        while pending:
            try:
                await asyncio.wait(pending)
            except asyncio.CancelledError as exc:
                # Cancelled again while cleaning up: the calls must still be awaited.
                interrupted = exc
            pending = [task for task in pending if not task.done()]
        for task in (*finished, *tasks):  # retrieve results; surface KeyboardInterrupt & co.
            if not task.cancelled() and (failure := task.exception()) is not None:
                interrupted = interrupted or failure
        if not self._pulling:
            await self._close_source()
        if interrupted is not None and not propagating:
            raise interrupted

    async def _close_source(self) -> None:
        source, self._source = self._source, None
        self._source_done = True
        if isinstance(source, types.GeneratorType):
            source.close()
        elif source is not None:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


def fan_out(
    items: Iterable[T] | AsyncIterable[T],
    fn: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = 8,
) -> FanOut[T, R]:
    """Call ``fn`` on every item with at most ``concurrency`` calls in flight.

    Returns an async iterator of :class:`Outcome` objects in completion order, one per item
    (see the module docstring for cleanup and error semantics)::

        async with fan_out(repos, check, concurrency=16) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    report(outcome.item, outcome.value)

    Raises:
        ValueError: ``concurrency`` is not an int of at least 1.
        TypeError: ``items`` is not iterable or ``fn`` is not callable.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ValueError(
            f"fan_out() concurrency must be an int, got {type(concurrency).__name__}; "
            "pass the number of calls allowed to run at once."
        )
    if concurrency < 1:
        raise ValueError(
            f"fan_out() concurrency must be at least 1, got {concurrency}; "
            "pass the number of calls allowed to run at once (default 8)."
        )
    if not isinstance(items, AsyncIterable | Iterable):
        raise TypeError(
            f"fan_out() items must be an iterable or async iterable, got {type(items).__name__}."
        )
    if not callable(fn):
        raise TypeError(
            f"fan_out() fn must be an async callable taking one item, got {type(fn).__name__}."
        )
    return FanOut(items, fn, concurrency)
