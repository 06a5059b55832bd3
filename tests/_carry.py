"""``assert_carries``: a structured model holds every value of the JSON it came from.

``isinstance(structure(x, cls), cls)`` cannot fail (``structure`` returns a ``cls`` or raises);
comparing values can: a field read from the wrong key, a dropped list item, a timestamp off by
its offset or an enum turned into something else all show here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from hubasync import to_dict

__all__ = ["assert_carries"]

_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?"
)


def assert_carries(data: Any, model: Any) -> None:
    """Every value in ``data`` (Hub's JSON) is in ``model``, compared through ``to_dict``.

    Objects key by key (a key the model lacks fails), lists item by item, numbers and strings
    equal, timestamps the same instant to the microsecond. A ``null`` may come back as the
    field's empty default, and a lone object where the model wants a list (the current spec's
    tag example gives ``images`` so) as a one-item list. Keys the model has and ``data``
    lacks are not checked.
    """
    _same(data, to_dict(model), "$")


def _instant(value: str) -> dt.datetime | None:
    m = _TIMESTAMP.fullmatch(value)
    if m is None:
        return None
    base, frac, zone = m.group(1), (m.group(2) or "")[:6], m.group(3) or "+00:00"
    zone = "+00:00" if zone in ("Z", "z") else zone
    text = base.replace("t", "T").replace(" ", "T") + (f".{frac.ljust(6, '0')}" if frac else "")
    return dt.datetime.fromisoformat(text + zone)


def _same(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, dict) and isinstance(actual, list) and len(actual) == 1:
        _same(expected, actual[0], f"{where}[0]")  # a lone object read as a one-item list
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key}: not in the model ({sorted(actual)})"
            _same(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, not {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _same(e, a, f"{where}[{i}]")
    elif expected is None:
        assert actual in (None, [], {}, ""), f"{where}: null became {actual!r}"
    elif isinstance(expected, str) and isinstance(actual, str) and expected != actual:
        e, a = _instant(expected), _instant(actual)
        assert e is not None and a is not None, f"{where}: {actual!r} != {expected!r}"
        assert abs((e - a).total_seconds()) < 1e-6, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float) and isinstance(actual, float) and math.isnan(expected):
        assert math.isnan(actual), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
        assert isinstance(actual, bool) == isinstance(expected, bool), f"{where}: bool vs number"
