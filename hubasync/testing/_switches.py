"""Test switches for code that uses hubasync (in the spirit of stamina's testing mode)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import _retry

__all__ = ["disable_backoff"]


@contextmanager
def disable_backoff() -> Iterator[None]:
    """Turn retry backoff sleeps off inside the block (restored afterwards).

    Retries still happen, just without waiting between them, so a test suite that injects
    5xx faults stays fast. Rate-limit waits are not affected: they are behaviour (Hub asked
    for them), not politeness.
    """
    previous = _retry.backoff_scale()
    _retry.set_backoff_scale(0.0)
    try:
        yield
    finally:
        _retry.set_backoff_scale(previous)
