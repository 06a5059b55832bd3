"""Building blocks shared by the model modules: open enums and the list envelope."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["ListResponse", "OpenStrEnum"]

T = TypeVar("T")


class OpenStrEnum(StrEnum):
    """A string enum that keeps values it does not know.

    Hub adds enum values without notice. Looking up an unknown string returns a pseudo-member
    that is an instance of the enum, equals its string and keeps it as ``.value``, yet is not
    listed among the members: ``ImageStatus("weird").value == "weird"`` and
    ``ImageStatus("weird") not in ImageStatus``. Non-string values are still rejected.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._value_ = value
        # The name shows the value; it must not collide with a declared member's name,
        # or ``Enum.__contains__`` would take the pseudo-member for that member.
        member._name_ = value if value not in cls._member_map_ else f"{value}?"
        return member

    @property
    def is_known(self) -> bool:
        """Whether this value is one of the enum's declared members."""
        return type(self)._value2member_map_.get(self._value_) is self


@attrs.frozen(kw_only=True)
class ListResponse(Generic[T]):
    """One page of a page-number list endpoint, as Hub sends it.

    Attributes:
        count: total number of results across all pages, when Hub reports it.
        next: URL of the next page, or ``None`` on the last page.
        previous: URL of the previous page, or ``None`` on the first page.
        results: the items of this page.
    """

    count: int | None = None
    next: str | None = None
    previous: str | None = None
    results: list[T] = attrs.field(factory=list)
