"""Suite-wide switches: strict models (drift from the spec fails), no backoff sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubasync import _convert, _retry


@pytest.fixture(autouse=True, scope="session")
def _strict_models_no_backoff() -> Iterator[None]:
    _convert.set_strict(True)
    _retry.set_backoff_scale(0.0)
    yield
    _retry.set_backoff_scale(1.0)
    _convert.set_strict(False)
