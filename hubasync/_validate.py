"""Local input checks, run before anything is sent. Pure functions.

Each returns the value percent-encoded for a path segment (or as given, for non-path
values) or raises ``ValueError`` naming the parameter and the rule, so a typo never turns
into a request to the wrong place (``../``, ``?``, ``#`` and ``/`` can never reach a path).
"""

from __future__ import annotations

import functools
import math
import re
import urllib.parse
import uuid as _uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

__all__ = [
    "MAX_PAGE_SIZE",
    "check_choice",
    "check_page_size",
    "check_prefetch",
    "check_text",
    "check_future",
    "digest",
    "group_name",
    "hub_uuid",
    "namespace",
    "names_list",
    "repository",
    "tag",
    "token_uuid",
]

MAX_PAGE_SIZE: Final = 100

# Hub names: lowercase letters and digits, separated by single '.', '_' or '-'.
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
# Docker's tag grammar.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# OCI digest grammar (algorithm:encoded), hex for the registered algorithms.
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
# The algorithms the OCI image spec registers, and their lengths in hex digits.
_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _name(kind: str, value: object, *, min_len: int, max_len: int) -> str:
    if isinstance(value, str):
        return _checked_name(kind, value, min_len, max_len)
    raise ValueError(f"{kind} must be a string, got {type(value).__name__}")


@functools.lru_cache(maxsize=4096)
def _checked_name(kind: str, value: str, min_len: int, max_len: int) -> str:
    # Cached: an audit validates the same few namespaces thousands of times.
    if not value:
        example = "'nginx'" if "repo" in kind else "'library'"
        raise ValueError(f"{kind} must not be empty; pass a Docker Hub {kind} such as {example}")
    if value != value.strip():
        raise ValueError(f"{kind} {value!r} has surrounding whitespace; strip it")
    if any(c.isupper() for c in value) and _NAME.fullmatch(value.lower()):
        raise ValueError(f"{kind} {value!r} has upper-case letters; Docker Hub names are lowercase")
    if not _NAME.fullmatch(value) or not (min_len <= len(value) <= max_len):
        raise ValueError(
            f"{kind} {value!r} is not a valid Docker Hub name: use {min_len}-{max_len} lowercase "
            "letters and digits, separated by single '.', '_' or '-' (no '/', '..' or spaces)"
        )
    return _segment(value)


def namespace(value: object, *, param: str = "namespace") -> str:
    """A namespace (user or organization name), encoded for the path."""
    return _name(param, value, min_len=2, max_len=255)


def repository(value: object, *, param: str = "repository") -> str:
    """A repository name (without namespace), encoded for the path."""
    if isinstance(value, str) and "/" in value:
        raise ValueError(
            f"{param} {value!r} contains '/': pass the namespace and the repository as two "
            "arguments, e.g. ('library', 'nginx')"
        )
    return _name(param, value, min_len=1, max_len=255)


def names_list(
    values: Iterable[str], check: Callable[[object], str], param: str, kind: str
) -> list[str]:
    """``values`` checked one by one with ``check``, duplicates dropped, first-seen order.

    A lone string is refused (iterating it would check its letters): ``param`` names the
    argument and ``kind`` what its items are, for the message.
    """
    if isinstance(values, str):
        raise ValueError(f"{param} must be a list of {kind}, e.g. [{values!r}], not a string")
    names: list[str] = []
    for value in values:
        check(value)
        if value not in names:
            names.append(value)
    return names


def tag(value: object, *, param: str = "tag") -> str:
    """A tag name, encoded for the path."""
    if not isinstance(value, str) or not _TAG.fullmatch(value):
        raise ValueError(
            f"{param} {value!r} is not a valid tag: 1-128 letters, digits, '_', '.' or '-', "
            "not starting with '.' or '-'"
        )
    return _segment(value)


def digest(value: object, *, param: str = "digest") -> str:
    """An image digest (``algorithm:hex``), encoded for the path."""
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise ValueError(
            f"{param} {value!r} is not an image digest: expected 'algorithm:hex', e.g. "
            "'sha256:' followed by 64 hex digits"
        )
    algorithm, _, encoded = value.partition(":")
    length = _DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise ValueError(
            f"{param} {value!r}: unknown digest algorithm {algorithm!r}; image digests are "
            "'sha256:' (or 'sha512:') followed by hex digits"
        )
    # Hub's own examples use letters and digits, not strictly hex: accept those.
    if not re.fullmatch(rf"[a-z0-9]{{{length}}}", encoded):
        raise ValueError(
            f"{param} {value!r}: a {algorithm} digest has exactly {length} lowercase hex digits"
        )
    return _segment(value)


def token_uuid(value: object, *, param: str = "uuid") -> str:
    """An access token's UUID, normalised and encoded for the path."""
    return hub_uuid(value, param=param, source="access_tokens.list()")


def check_page_size(page_size: object, *, maximum: int = MAX_PAGE_SIZE) -> int:
    """``page_size`` must be an int in 1..``maximum`` (Hub's cap: 100, SCIM's: 200)."""
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ValueError(f"page_size must be an int, got {page_size!r}")
    if not 1 <= page_size <= maximum:
        raise ValueError(
            f"page_size={page_size} is out of range: Docker Hub serves 1 to {maximum} "
            "items per page here"
        )
    return page_size


def check_prefetch(prefetch: object, *, param: str = "prefetch") -> int:
    """``prefetch`` (pages in flight for one iterator) must be an int >= 1."""
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 1:
        raise ValueError(f"{param} must be an int >= 1 (1 = one page at a time), got {prefetch!r}")
    return prefetch


def check_text(value: object, param: str, *, allow_empty: bool = False) -> str:
    """A free-text argument (labels, filters): a string, non-empty unless allowed."""
    if not isinstance(value, str):
        raise ValueError(f"{param} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{param} must not be empty")
    return value


def check_choice(value: str, param: str, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices``."""
    allowed = tuple(choices)
    if value not in allowed:
        raise ValueError(f"{param}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def check_datetime(value: object, param: str) -> datetime:
    """An aware datetime (naive ones are ambiguous)."""
    if not isinstance(value, datetime):
        raise ValueError(f"{param} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{param} is a naive datetime; pass an aware one, e.g. datetime.now(timezone.utc)"
        )
    return value


def check_positive(value: object, param: str, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{param} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or math.isinf(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{param} must be a finite number {bound}, got {value!r}")
    return float(value)


# Group (team) names: letters, digits, '.', '_' and '-'; never '.' or '..' alone.
_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def group_name(value: object, *, param: str = "group") -> str:
    """An organization group (team) name, encoded for the path."""
    if not isinstance(value, str):
        raise ValueError(f"{param} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{param} must not be empty; pass a group (team) name, e.g. 'developers'")
    if not _GROUP.fullmatch(value):
        raise ValueError(
            f"{param} {value!r} is not a valid group name: use 1-255 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (no '/', '..' or spaces)"
        )
    return _segment(value)


def hub_uuid(value: object, *, param: str, source: str) -> str:
    """A UUID Hub gave an object (an invite, an org token, a SCIM user), normalised."""
    if isinstance(value, _uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{param} must be a UUID string, got {type(value).__name__}")
    try:
        return str(_uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{param} {value!r} is not a UUID; pass the id from {source}") from None


def check_future(value: object, param: str, now: datetime) -> datetime:
    """An aware datetime later than ``now`` (an expiry date)."""
    when = check_datetime(value, param)
    if when <= now:
        raise ValueError(
            f"{param} {when.isoformat()} is not in the future; pass a later date, or None for "
            "no expiry"
        )
    return when
