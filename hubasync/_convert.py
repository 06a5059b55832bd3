"""The cattrs converter that turns Hub's JSON into models and request models into JSON.

One converter per mode is built on first use and cached; its generated hooks are built once
per type. Structuring is type-strict (a string field takes only a string, a bool only a bool,
an int an integral number) but lenient about presence: missing optional fields take their
defaults, ``null`` in a list or mapping field reads as empty. Unknown fields are ignored in
production and forbidden in strict mode (the test suite's), so drift from the spec shows.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import (
    make_dict_structure_fn,
    make_dict_unstructure_fn,
    mapping_structure_factory,
    override,
)
from cattrs.v import format_exception, transform_error

from .errors import ResponseValidationError
from .models._base import OpenStrEnum
from .models.audit_logs import AuditLogEvent
from .models.repositories import Tag, TagImage
from .models.scim import ScimAuthenticationScheme, ScimServiceProviderConfig

__all__ = [
    "format_datetime",
    "get_converter",
    "is_strict",
    "parse_datetime",
    "set_strict",
    "structure",
    "to_dict",
    "to_json",
    "unstructure",
]

T = TypeVar("T")

_UTC = UTC
_MAX_MESSAGES = 5
_strict = False


class _InvalidValue(ValueError):
    """A value of the wrong JSON type; its message never quotes the value itself."""


def _kind(value: object) -> str:
    """Name the JSON kind of ``value`` without showing it (bodies may hold secrets)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


# --- datetimes ---------------------------------------------------------------------------


def parse_datetime(value: object) -> datetime:
    """Parse one of Hub's ISO-8601 timestamps into an aware UTC datetime.

    Accepts a ``Z`` or numeric offset, 0 to 9 fractional digits (truncated to microseconds)
    and Hub's ``0001-01-01T00:00:00Z``; a timestamp without offset is taken as UTC.
    Raises ``ValueError`` (never quoting the value) when ``value`` is not such a string.
    """
    if type(value) is not str:
        raise _InvalidValue(f"expected an ISO-8601 date-time string, got {_kind(value)}")
    try:  # Hub's usual form ("...Z", any fraction) in one call; anything else below
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is _UTC:
            return parsed
    except (ValueError, OverflowError):
        pass
    text = value
    # 'YYYY-MM-DDTHH:MM:SS' is 19 characters; cut a longer fraction to microseconds.
    if len(text) > 26 and text[19] in ".,":
        end = 20
        length = len(text)
        while end < length and "0" <= text[end] <= "9":
            end += 1
        if end > 26:
            text = text[:26] + text[end:]
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is _UTC:
            return parsed
        if not parsed.utcoffset():  # no offset (taken as UTC) or a zero one
            return parsed.replace(tzinfo=_UTC)
        return parsed.astimezone(_UTC)
    except (ValueError, OverflowError):
        raise _InvalidValue("expected an ISO-8601 date-time string") from None


def format_datetime(dt: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with a ``Z``, e.g. ``2021-01-05T21:06:53Z``.

    Raises ``ValueError`` for a naive datetime (or anything that is not a datetime): pass an
    aware one such as ``datetime.now(timezone.utc)``.
    """
    if not isinstance(dt, datetime):
        raise ValueError(
            f"Expected a datetime, got {type(dt).__name__}; pass an aware datetime such as "
            "datetime(2024, 1, 31, tzinfo=timezone.utc)."
        )
    offset = dt.utcoffset()
    if offset is None:
        raise ValueError(
            f"The datetime {dt.isoformat()} is naive (it has no time zone), so the instant is "
            "ambiguous; pass an aware datetime such as dt.replace(tzinfo=timezone.utc) or "
            "datetime.now(timezone.utc)."
        )
    if offset:
        try:
            dt = dt.astimezone(_UTC)
        except OverflowError:
            raise ValueError(
                f"The datetime {dt.isoformat()} is outside the range of UTC datetimes."
            ) from None
    return dt.replace(tzinfo=None).isoformat() + "Z"


# --- primitive and collection hooks --------------------------------------------------------


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _InvalidValue(f"expected a string, got {_kind(value)}")


def _structure_int(value: Any, _: Any) -> int:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is float and value.is_integer():
        return int(value)
    raise _InvalidValue(f"expected an integer, got {_kind(value)}")


def _structure_float(value: Any, _: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    raise _InvalidValue(f"expected a number, got {_kind(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    if value is True or value is False:
        return bool(value)
    raise _InvalidValue(f"expected a boolean, got {_kind(value)}")


def _structure_datetime(value: Any, _: Any) -> datetime:
    return parse_datetime(value)


def _structure_open_enum(value: Any, cls: type[OpenStrEnum]) -> OpenStrEnum:
    if type(value) is str:
        return cls(value)
    raise _InvalidValue(f"expected a string, got {_kind(value)}")


_PRIMITIVE_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {
    str: _structure_str,
    int: _structure_int,
    float: _structure_float,
    bool: _structure_bool,
}
_PRIMITIVE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _is_union(tp: Any) -> bool:
    origin = get_origin(tp)
    return origin is Union or origin is types.UnionType


def _is_primitive_union(tp: Any) -> bool:
    if not _is_union(tp):
        return False
    members = [a for a in get_args(tp) if a is not type(None)]
    return len(members) > 1 and all(a in _PRIMITIVE_HOOKS for a in members)


def _primitive_union_factory(tp: Any) -> Callable[[Any, Any], Any]:
    args = get_args(tp)
    nullable = type(None) in args
    # Try bool before int (a JSON true is not the number 1) and int before float.
    order = [bool, int, float, str]
    members = [a for a in order if a in args]
    expected = " or ".join(_PRIMITIVE_NAMES[a] for a in members)

    def structure_union(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        for member in members:
            try:
                return _PRIMITIVE_HOOKS[member](value, member)
            except _InvalidValue:
                continue
        raise _InvalidValue(f"expected {expected}, got {_kind(value)}")

    return structure_union


def _is_optional(tp: Any) -> bool:
    """``X | None`` for one ``X``."""
    if not _is_union(tp):
        return False
    args = get_args(tp)
    return len(args) == 2 and type(None) in args


def _optional_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # What cattrs does for an optional, with X's hook looked up once instead of per value.
    (inner_type,) = (a for a in get_args(tp) if a is not type(None))
    inner = converter.get_structure_hook(inner_type)

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else inner(value, inner_type)

    return structure_optional


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _list_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    inner = list_structure_factory(tp, converter)

    def structure_list(value: Any, cls: Any) -> Any:
        if type(value) is list:
            return inner(value, cls)
        if value is None:
            return []
        raise _InvalidValue(f"expected an array, got {_kind(value)}")

    return structure_list


def _is_dict(tp: Any) -> bool:
    return get_origin(tp) is dict


def _dict_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    inner = mapping_structure_factory(tp, converter, dict)

    def structure_dict(value: Any, cls: Any) -> Any:
        if type(value) is dict:
            return inner(value, cls)
        if value is None:
            return {}
        raise _InvalidValue(f"expected an object, got {_kind(value)}")

    return structure_dict


def _structure_string_map(value: Any, _: Any) -> dict[str, str]:
    """A ``dict[str, str]`` that keeps non-string values as their JSON text."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise _InvalidValue(f"expected an object, got {_kind(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _InvalidValue("expected an object with string keys")
        if type(item) is str:
            result[key] = item
        else:
            try:
                result[key] = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
            except (TypeError, ValueError, RecursionError):
                raise _InvalidValue(f"expected a string value, got {_kind(item)}") from None
    return result


# --- attrs classes -------------------------------------------------------------------------


def _is_attrs(tp: Any) -> bool:
    return attrs.has(get_origin(tp) or tp)


def _one_or_many(converter: cattrs.Converter, item: type) -> Any:
    """An override that reads one object where a list of them is meant as a list of one."""
    list_hook = converter.get_structure_hook(list[item])  # type: ignore[valid-type]

    def structure_one_or_many(value: Any, _: Any) -> Any:
        if type(value) is dict:
            value = [value]
        return list_hook(value, list[item])  # type: ignore[valid-type]

    return override(struct_hook=structure_one_or_many)


def _tag_overrides(converter: cattrs.Converter) -> dict[str, Any]:
    # The spec describes one image object; Hub sends a list of them.
    return {"images": _one_or_many(converter, TagImage)}


def _scim_config_overrides(converter: cattrs.Converter) -> dict[str, Any]:
    # The spec declares authenticationSchemes as one object; SCIM (RFC 7643) a list.
    return {"authenticationSchemes": _one_or_many(converter, ScimAuthenticationScheme)}


def _audit_log_event_overrides(converter: cattrs.Converter) -> dict[str, Any]:
    return {"data": override(struct_hook=_structure_string_map)}


_STRUCTURE_OVERRIDES: dict[type, Callable[[cattrs.Converter], dict[str, Any]]] = {
    Tag: _tag_overrides,
    AuditLogEvent: _audit_log_event_overrides,
    ScimServiceProviderConfig: _scim_config_overrides,
}


def _attrs_structure_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    overrides_for = _STRUCTURE_OVERRIDES.get(tp)
    overrides = overrides_for(converter) if overrides_for is not None else {}
    generated = make_dict_structure_fn(tp, converter, **overrides)

    def structure_object(value: Any, cls: Any) -> Any:
        if type(value) is not dict:
            raise _InvalidValue(f"expected an object, got {_kind(value)}")
        return generated(value, cls)

    return structure_object


def _attrs_unstructure_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    cls = get_origin(tp) or tp
    # Fields that default to None are unset when None: leave them out of the body.
    omit_none: dict[str, Any] = {
        field.name: override(omit_if_default=True)
        for field in attrs.fields(cls)
        if field.default is None
    }
    return make_dict_unstructure_fn(tp, converter, **omit_none)


# --- the converter -------------------------------------------------------------------------


#: Each (mode, type)'s structure hook, looked up once (cattrs' dispatch on every call costs
#: more than the hook of a small model).
_hooks: dict[tuple[bool, Any], Callable[[Any, Any], Any]] = {}


@cache
def _build(strict: bool) -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=strict, detailed_validation=True)
    for primitive, hook in _PRIMITIVE_HOOKS.items():
        converter.register_structure_hook(primitive, hook)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_structure_hook(OpenStrEnum, _structure_open_enum)
    converter.register_unstructure_hook(OpenStrEnum, lambda member: member._value_)
    converter.register_structure_hook_factory(_is_optional, _optional_factory)
    converter.register_structure_hook_factory(_is_primitive_union, _primitive_union_factory)
    converter.register_structure_hook_factory(_is_list, _list_factory)
    converter.register_structure_hook_factory(_is_dict, _dict_factory)
    converter.register_structure_hook_factory(_is_attrs, _attrs_structure_factory)
    converter.register_unstructure_hook_factory(_is_attrs, _attrs_unstructure_factory)
    return converter


def get_converter() -> cattrs.Converter:
    """Return the converter of the current mode (built once per mode, then cached)."""
    return _build(_strict)


def set_strict(strict: bool) -> None:
    """Switch strict mode: unknown fields raise ``ResponseValidationError`` when on.

    Production code leaves it off (Hub adds fields freely); the test suite turns it on so
    that drift from the spec is caught.
    """
    global _strict
    _strict = bool(strict)


def is_strict() -> bool:
    """Whether strict mode (unknown fields forbidden) is on."""
    return _strict


def _type_name(cls: Any) -> str:
    if isinstance(cls, type) and not get_args(cls):
        return cls.__name__
    return re.sub(r"\b(?:\w+\.)+(?=\w)", "", repr(cls))


def _format_exception(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, _InvalidValue):
        return str(exc)
    return format_exception(exc, tp)


def _describe(exc: BaseException, cls: Any) -> str:
    try:
        problems = transform_error(exc, path="$", format_exception=_format_exception)
    except Exception:
        problems = [f"{type(exc).__name__} @ $"]
    shown = "; ".join(problems[:_MAX_MESSAGES])
    more = len(problems) - _MAX_MESSAGES
    suffix = f" (and {more} more)" if more > 0 else ""
    return (
        f"Hub's response did not fit the {_type_name(cls)} model: {shown}{suffix}. "
        "Hub's API may have changed; please report this with the operation that failed."
    )


def structure(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` (a model, or e.g. ``list[Model]``) from decoded JSON.

    Raises ``ResponseValidationError`` naming the model and the failing field paths (never
    quoting the body) when the data does not fit.
    """
    try:
        hook = _hooks[_strict, cls]
    except KeyError:
        hook = _hooks[_strict, cls] = _build(_strict).get_structure_hook(cls)
    except TypeError:  # an unhashable type expression: no cached hook
        hook = _build(_strict).get_structure_hook(cls)
    try:
        return hook(data, cls)  # type: ignore[no-any-return]
    except cattrs.errors.StructureHandlerNotFoundError:
        raise  # a programming error (a type the converter cannot build), not Hub's fault
    except Exception as exc:
        raise ResponseValidationError(_describe(exc, cls)) from exc


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list/dict of them) into JSON-ready data for a request body.

    Fields that are ``None`` (unset) are left out; datetimes become ISO-8601 UTC with ``Z``;
    enums become their string values.
    """
    return _build(_strict).unstructure(obj)


@cache
def _full(strict: bool) -> cattrs.Converter:
    """The converter, but keeping fields that are ``None`` (for :func:`to_dict`)."""
    converter = _build(strict).copy()
    converter.register_unstructure_hook_factory(
        _is_attrs, lambda tp, conv: make_dict_unstructure_fn(tp, conv)
    )
    return converter


def to_dict(model: Any) -> Any:
    """A model (or a list/dict of models) as plain JSON-ready data, by the same converter
    that reads Hub's answers: every field under its JSON name, ``None`` as ``None``,
    datetimes as ISO 8601 UTC strings with ``Z``, enums as their string values.

    ``AccessToken.token`` (the secret, present only in the answer to ``create``) is kept:
    it is your data; do not log it.

    Example::

        repo = await hub.repositories.get("library", "nginx")
        print(hubasync.to_dict(repo)["pull_count"])
    """
    return _full(_strict).unstructure(model)


def to_json(model: Any, *, indent: int | None = None) -> str:
    """:func:`to_dict`, serialized as a JSON document (``indent`` as in :func:`json.dumps`)."""
    return json.dumps(to_dict(model), indent=indent, ensure_ascii=False)
