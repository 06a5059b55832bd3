"""The converter: datetimes, type strictness, strict/lax modes, error messages, request
bodies, and (hypothesis) any JSON gives a model or ResponseValidationError, nothing else."""

from __future__ import annotations

import datetime as dt
import functools
import re
import types
from collections.abc import Callable, Iterator
from typing import Any, Union, get_args, get_origin, get_type_hints

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubasync import models as m
from hubasync._convert import (
    format_datetime,
    get_converter,
    is_strict,
    parse_datetime,
    set_strict,
    structure,
    to_dict,
    unstructure,
)
from hubasync.errors import ResponseValidationError
from hubasync.models._base import OpenStrEnum

from ._carry import assert_carries

UTC = dt.UTC


@pytest.fixture(autouse=True)
def strict() -> Iterator[None]:
    previous = is_strict()
    set_strict(True)
    yield
    set_strict(previous)


@pytest.fixture
def lax() -> None:
    set_strict(False)  # the autouse fixture restores the previous mode afterwards


# --- datetimes ---------------------------------------------------------------------------

DATETIMES = [
    ("2021-01-05T21:06:53.506400Z", dt.datetime(2021, 1, 5, 21, 6, 53, 506400, tzinfo=UTC)),
    ("2022-04-07T09:55:46.123456789Z", dt.datetime(2022, 4, 7, 9, 55, 46, 123456, tzinfo=UTC)),
    ("2022-04-07T09:55:46.1234567Z", dt.datetime(2022, 4, 7, 9, 55, 46, 123456, tzinfo=UTC)),
    ("2022-04-07T09:55:46.999999999Z", dt.datetime(2022, 4, 7, 9, 55, 46, 999999, tzinfo=UTC)),
    ("2021-01-25T14:25:37.5Z", dt.datetime(2021, 1, 25, 14, 25, 37, 500000, tzinfo=UTC)),
    ("2021-02-19T01:34:35Z", dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=UTC)),
    ("2021-02-19T01:34:35z", dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=UTC)),
    ("2021-02-19T01:34:35+00:00", dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=UTC)),
    ("2021-02-19T03:34:35+02:00", dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=UTC)),
    ("2021-02-18T20:04:35.25-05:30", dt.datetime(2021, 2, 19, 1, 34, 35, 250000, tzinfo=UTC)),
    ("2021-02-19T03:34:35.123456789+02:00", dt.datetime(2021, 2, 19, 1, 34, 35, 123456, UTC)),
    ("2021-02-19T01:34:35", dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=UTC)),
    ("2021-02-19 01:34:35.000001", dt.datetime(2021, 2, 19, 1, 34, 35, 1, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", dt.datetime(1, 1, 1, tzinfo=UTC)),
    ("9999-12-31T23:59:59.999999Z", dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
]


@pytest.mark.parametrize("text,expected", DATETIMES, ids=[t for t, _ in DATETIMES])
def test_parse_datetime_table(text: str, expected: dt.datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert structure({"digest": "d", "last_pushed": text}, m.Image).last_pushed == expected


BAD_DATETIMES: list[Any] = [
    "",
    "yesterday",
    "2021-13-01T00:00:00Z",
    "2021-02-30T00:00:00Z",
    "2021-01-05T25:00:00Z",
    "21:06:53Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:00:00-02:00",  # after year 9999 in UTC
    1612222222,
    True,
    None,
    ["2021-01-05T21:06:53Z"],
]


@pytest.mark.parametrize("value", BAD_DATETIMES, ids=repr)
def test_bad_datetimes_raise_value_error_without_quoting(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        parse_datetime(value)
    if isinstance(value, str) and value:
        assert value not in str(info.value)


def test_bad_datetime_in_a_body_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure({"uuid": "u", "created_at": "last tuesday"}, m.AccessToken)
    assert "AccessToken" in info.value.message
    assert "$.created_at" in info.value.message
    assert "last tuesday" not in info.value.message


FORMATTED = [
    (dt.datetime(2021, 1, 5, 21, 6, 53, tzinfo=UTC), "2021-01-05T21:06:53Z"),
    (dt.datetime(2021, 1, 5, 21, 6, 53, 506400, tzinfo=UTC), "2021-01-05T21:06:53.506400Z"),
    (
        dt.datetime(2021, 1, 5, 23, 6, 53, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "2021-01-05T21:06:53Z",
    ),
    (
        dt.datetime(2021, 1, 5, 16, 6, 53, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "2021-01-05T21:06:53Z",
    ),
    (dt.datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
]


@pytest.mark.parametrize("value,expected", FORMATTED, ids=[e for _, e in FORMATTED])
def test_format_datetime_table(value: dt.datetime, expected: str) -> None:
    assert format_datetime(value) == expected


def test_format_datetime_rejects_naive_and_non_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_datetime(dt.datetime(2021, 1, 5, 21, 6, 53))
    with pytest.raises(ValueError, match="aware"):
        format_datetime(dt.date(2021, 1, 5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        unstructure(
            m.CreateAccessTokenRequest(
                token_label="x", scopes=[], expires_at=dt.datetime(2030, 1, 1)
            )
        )


@given(
    st.datetimes(
        min_value=dt.datetime(2, 1, 1),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [
                UTC,
                dt.timezone(dt.timedelta(hours=5, minutes=30)),
                dt.timezone(-dt.timedelta(hours=8)),
            ]
        ),
    )
)
def test_format_then_parse_is_the_same_instant(value: dt.datetime) -> None:
    text = format_datetime(value)
    assert text.endswith("Z")
    parsed = parse_datetime(text)
    assert parsed == value and parsed.tzinfo is UTC


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=999),
)
def test_extra_fraction_digits_are_truncated(value: dt.datetime, nanos: int) -> None:
    text = value.replace(tzinfo=None).isoformat(timespec="microseconds") + f"{nanos:03d}Z"
    assert parse_datetime(text) == value


# --- strict and lax modes ------------------------------------------------------------------


def test_converter_is_cached_per_mode() -> None:
    strict_converter = get_converter()
    assert get_converter() is strict_converter
    assert strict_converter.forbid_extra_keys
    set_strict(False)
    assert not is_strict()
    lax_converter = get_converter()
    assert lax_converter is not strict_converter and not lax_converter.forbid_extra_keys
    set_strict(True)
    assert get_converter() is strict_converter


def test_unknown_field_is_an_error_in_strict_mode() -> None:
    with pytest.raises(ResponseValidationError) as info:
        structure({"digest": "d", "brand_new_field": 1}, m.Image)
    assert "Image" in info.value.message and "brand_new_field" in info.value.message


def test_unknown_nested_field_is_an_error_in_strict_mode_with_its_path() -> None:
    body = {
        "count": 2,
        "results": [{"digest": "a"}, {"digest": "b", "tags": [{"tag": "t", "x": 1}]}],
    }
    with pytest.raises(ResponseValidationError) as info:
        structure(body, m.ListResponse[m.Image])
    assert "ListResponse[Image]" in info.value.message
    assert "$.results[1].tags[0]" in info.value.message


def test_unknown_fields_are_ignored_in_lax_mode(lax: None) -> None:
    body = {"count": 1, "novel": True, "results": [{"digest": "a", "tags": [{"tag": "t", "x": 1}]}]}
    page = structure(body, m.ListResponse[m.Image])
    assert page.results[0].tags == [m.ImageTag(tag="t")]


def test_error_message_names_model_and_paths_but_not_the_body() -> None:
    secret = "dckr_pat_TOPSECRETVALUE"
    body = {"uuid": "u", "token": secret, "is_active": "yes", "scopes": "repo:read"}
    with pytest.raises(ResponseValidationError) as info:
        structure(body, m.AccessToken)
    message = info.value.message
    assert "AccessToken" in message
    assert "$.is_active" in message and "$.scopes" in message
    assert secret not in message and secret not in str(info.value)
    assert info.value.body is None


def test_many_problems_are_summarised() -> None:
    body = {"count": 1, "results": [{"digest": n} for n in range(12)]}
    with pytest.raises(ResponseValidationError) as info:
        structure(body, m.ListResponse[m.Image])
    assert "(and 7 more)" in info.value.message


@pytest.mark.parametrize("body", [None, "text", 3, [], True], ids=repr)
def test_a_body_that_is_not_an_object_is_rejected(body: Any) -> None:
    with pytest.raises(ResponseValidationError, match="expected an object"):
        structure(body, m.OrgSettings)


@pytest.mark.parametrize(
    "field,value",
    [
        ("digest", 5),  # str takes only strings
        ("namespace", {"a": 1}),
        ("tags", "latest"),  # a list takes only arrays
        ("tags", {"tag": "latest"}),
        ("status", 1),  # enums take only strings
        ("last_pulled", 1612222222),
    ],
)
def test_wrong_json_types_are_rejected(field: str, value: Any) -> None:
    body = {"digest": "d", field: value}
    with pytest.raises(ResponseValidationError, match=rf"\$\.{field}"):
        structure(body, m.Image)


def test_bool_and_int_are_not_interchangeable() -> None:
    with pytest.raises(ResponseValidationError, match=r"\$\.is_private"):
        structure({"name": "n", "namespace": "ns", "is_private": "false"}, m.Repository)
    with pytest.raises(ResponseValidationError, match=r"\$\.is_private"):
        structure({"name": "n", "namespace": "ns", "is_private": 0}, m.Repository)
    with pytest.raises(ResponseValidationError, match=r"\$\.star_count"):
        structure({"name": "n", "namespace": "ns", "star_count": True}, m.Repository)
    with pytest.raises(ResponseValidationError, match=r"\$\.star_count"):
        structure({"name": "n", "namespace": "ns", "star_count": 2.5}, m.Repository)
    repo = structure({"name": "n", "namespace": "ns", "star_count": 7.0}, m.Repository)
    assert repo.star_count == 7 and type(repo.star_count) is int


def test_null_collections_read_as_empty_and_null_optionals_as_none() -> None:
    image = structure({"digest": "d", "tags": None, "status": None, "last_pushed": None}, m.Image)
    assert image.tags == [] and image.status is None and image.last_pushed is None
    event = structure({"data": None}, m.AuditLogEvent)
    assert event.data == {}
    actions = structure({"actions": None}, m.AuditActionsResponse)
    assert actions.actions == {}


def test_missing_required_field_is_named() -> None:
    with pytest.raises(ResponseValidationError, match=r"required field missing @ \$\.digest"):
        structure({"namespace": "ns"}, m.Image)


def test_pat_list_accepts_null_links() -> None:
    page = structure(
        {"count": 0, "next": None, "previous": None, "active_count": 0, "results": []},
        m.AccessTokenListResponse,
    )
    assert page.next is None and page.results == [] and page.active_count == 0


def test_tag_images_accepts_an_object_or_a_list_and_v2_a_string_or_a_bool() -> None:
    one = structure({"name": "latest", "images": {"os": "linux"}, "v2": "true"}, m.Tag)
    many = structure({"name": "latest", "images": [{"os": "linux"}], "v2": True}, m.Tag)
    assert one.images == many.images == [m.TagImage(os="linux")]
    assert one.v2 == "true" and many.v2 is True
    with pytest.raises(ResponseValidationError, match=r"\$\.v2"):
        structure({"name": "latest", "v2": 2}, m.Tag)


def test_audit_log_data_keeps_non_string_values_as_json_text() -> None:
    event = structure(
        {"data": {"tag": "latest", "count": 3, "private": True, "extra": {"a": [1]}}},
        m.AuditLogEvent,
    )
    assert event.data == {"tag": "latest", "count": "3", "private": "true", "extra": '{"a":[1]}'}


def test_enum_unknown_value_survives_structuring() -> None:
    tag = structure({"name": "t", "tag_status": "archived"}, m.Tag)
    assert tag.tag_status == "archived" and isinstance(tag.tag_status, m.TagStatus)
    assert tag.tag_status is not None and not tag.tag_status.is_known


# --- request bodies --------------------------------------------------------------------------


def test_unstructure_omits_none_but_keeps_false_zero_and_empty_lists() -> None:
    body = unstructure(m.UpdateAccessTokenRequest(is_active=False))
    assert body == {"is_active": False}
    body = unstructure(m.UpdateRepositoryRequest(description=""))
    assert body == {"description": ""}
    body = unstructure(
        m.DeleteImagesRequest(manifests=[m.ManifestRef(repository="r", digest="d")], dry_run=False)
    )
    assert body == {
        "manifests": [{"repository": "r", "digest": "d"}],
        "dry_run": False,
        "ignore_warnings": [],
    }


def test_unstructure_turns_datetimes_and_enums_into_json_types() -> None:
    body = unstructure(
        m.DeleteImagesRequest(
            manifests=[],
            active_from=dt.datetime(2020, 12, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            ignore_warnings=[
                m.DeleteWarning(repository="r", digest="d", warning=m.DeleteWarningKind.IS_ACTIVE)
            ],
        )
    )
    assert body["active_from"] == "2020-12-01T12:00:00Z"
    warning = body["ignore_warnings"][0]
    assert warning == {"repository": "r", "digest": "d", "warning": "is_active", "tags": []}
    assert type(warning["warning"]) is str


def test_unstructure_of_a_secret_bearing_request_keeps_the_secret() -> None:
    # Secrets are hidden from repr, never from the body that must carry them.
    assert unstructure(m.AuthTokenRequest(identifier="me", secret="s3cret")) == {
        "identifier": "me",
        "secret": "s3cret",
    }


# --- property: any JSON shaped like a model → the model or ResponseValidationError -------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

DATETIME_TEXT = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.datetimes().map(lambda d: d.isoformat(timespec="microseconds") + "123Z"),
    st.sampled_from(["0001-01-01T00:00:00Z", "2021-01-05T21:06:53.506400Z"]),
)


def _field_types(cls: Any) -> dict[str, Any]:
    origin = get_origin(cls) or cls
    hints = get_type_hints(origin)
    if get_origin(cls) is m.ListResponse:
        hints["results"] = list[get_args(cls)[0]]  # type: ignore[misc]
    for base in getattr(origin, "__orig_bases__", ()):
        if get_origin(base) is m.ListResponse:
            hints["results"] = list[get_args(base)[0]]  # type: ignore[misc]
    return hints


def _lazy(make: Callable[[Any], st.SearchStrategy[Any]], tp: Any) -> st.SearchStrategy[Any]:
    """``make(tp)``, built on first use (model types refer to each other)."""
    return st.deferred(lambda: make(tp))


@functools.cache
def _valid(tp: Any) -> st.SearchStrategy[Any]:
    """JSON that fits ``tp``: required fields present, any optional ones, no extra keys."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return st.one_of([_valid(a) for a in get_args(tp)])
    if origin is list:
        return st.lists(st.deferred(lambda: _valid(get_args(tp)[0])), max_size=3)
    if origin is dict:
        return st.dictionaries(
            st.text(max_size=5), st.deferred(lambda: _valid(get_args(tp)[1])), max_size=3
        )
    if tp is type(None):
        return st.none()
    if tp is str:
        return st.text(max_size=8)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers() | st.integers(-(2**52), 2**52).map(float)
    if tp is dt.datetime:
        return DATETIME_TEXT
    if isinstance(tp, type) and issubclass(tp, OpenStrEnum):
        return st.sampled_from([e.value for e in tp]) | st.text(max_size=5)
    if attrs.has(origin or tp):
        hints = _field_types(tp)
        fields = attrs.fields(origin or tp)
        required = {f.name for f in fields if f.default is attrs.NOTHING}
        strategies: dict[str, st.SearchStrategy[Any]] = {
            name: _lazy(_valid, t) for name, t in hints.items()
        }
        return st.fixed_dictionaries(
            {n: s for n, s in strategies.items() if n in required},
            optional={n: s for n, s in strategies.items() if n not in required},
        )
    raise AssertionError(f"no strategy for {tp!r}")


def _mutate(value: Any) -> st.SearchStrategy[Any]:
    """``value`` with one thing broken: replaced, dropped, an extra key, or deeper down."""
    options: list[st.SearchStrategy[Any]] = [JSON]
    if isinstance(value, dict):
        options.append(st.tuples(st.text(max_size=6), JSON).map(lambda kv: {**value, kv[0]: kv[1]}))
        if value:
            keys = sorted(value)
            options.append(
                st.sampled_from(keys).map(lambda k: {x: v for x, v in value.items() if x != k})
            )
            options.append(
                st.sampled_from(keys).flatmap(
                    lambda k: _mutate(value[k]).map(lambda new: {**value, k: new})
                )
            )
    if isinstance(value, list) and value:
        options.append(
            st.integers(0, len(value) - 1).flatmap(
                lambda i: _mutate(value[i]).map(lambda new: [*value[:i], new, *value[i + 1 :]])
            )
        )
    return st.one_of(options)


def _name(tp: Any) -> str:
    return re.sub(r"\b(?:\w+\.)+(?=\w)", "", tp.__name__ if isinstance(tp, type) else str(tp))


TARGETS = [
    m.ImagesSummary,
    m.ListResponse[m.Image],
    m.ListResponse[m.ImageTag],
    m.DeleteImagesResult,
    m.DeleteImagesErrorResponse,
    m.AccessToken,
    m.AccessTokenListResponse,
    m.AuditLogsResponse,
    m.AuditActionsResponse,
    m.OrgSettings,
    m.Repository,
    m.ListResponse[m.Tag],
    m.LoginResult,
    m.LoginFailure,
    m.TokenResponse,
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), strict_mode=st.booleans())
@pytest.mark.parametrize("cls", TARGETS, ids=_name)
def test_json_that_fits_always_structures(cls: Any, data: st.DataObject, strict_mode: bool) -> None:
    body = data.draw(_valid(cls))
    set_strict(strict_mode)
    assert_carries(body, structure(body, cls))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), strict_mode=st.booleans())
@pytest.mark.parametrize("cls", TARGETS, ids=_name)
def test_any_json_gives_the_model_or_a_validation_error(
    cls: Any, data: st.DataObject, strict_mode: bool
) -> None:
    body = data.draw(st.one_of(_valid(cls).flatmap(_mutate), JSON))
    set_strict(strict_mode)
    try:
        result = structure(body, cls)
    except ResponseValidationError as exc:
        assert exc.message.startswith("Hub's response did not fit")
    else:  # what was read is a whole model: written out and read back, it is the same
        assert structure(to_dict(result), cls) == result


# --- to_dict / to_json (public) -------------------------------------------------------------


def test_to_dict_gives_json_names_iso_times_enum_values_and_keeps_nones() -> None:
    import hubasync

    raw = {
        "name": "latest",
        "tag_status": "inactive",
        "tag_last_pushed": "2024-05-01T12:00:00.123456789Z",
        "images": [{"architecture": "amd64", "digest": "sha256:" + "a" * 64}],
    }
    tag = structure(raw, m.Tag)
    data = hubasync.to_dict(tag)
    assert data["name"] == "latest"
    assert data["tag_status"] == "inactive" and type(data["tag_status"]) is str
    assert data["tag_last_pushed"] == "2024-05-01T12:00:00.123456Z"
    assert data["tag_last_pulled"] is None  # unlike a request body, unset fields are kept
    assert data["images"][0]["architecture"] == "amd64"
    # what to_dict gives reads back into the same model
    assert structure({k: v for k, v in data.items() if v is not None}, m.Tag) == tag
    assert hubasync.to_json([tag]) == __import__("json").dumps([data], ensure_ascii=False)
    # the request-body converter still omits unset fields
    assert "tag_last_pulled" not in unstructure(tag)


def test_assert_carries_catches_a_wrong_value_a_lost_item_and_a_shifted_time() -> None:
    # The check the structuring tests rely on (instead of isinstance) must be able to fail.
    body = {"name": "app", "namespace": "alice", "last_updated": "2024-01-02T03:04:05.123456Z"}
    repo = structure(body, m.Repository)
    assert_carries(body, repo)
    assert_carries({**body, "last_updated": "2024-01-02T04:04:05.123456+01:00"}, repo)
    for wrong in (
        {**body, "name": "other"},
        {**body, "last_updated": "2024-01-02T03:04:05.123457Z"},
        {**body, "last_updated": "2024-01-02T03:04:05.123456+01:00"},
        {**body, "no_such_field": 1},
    ):
        with pytest.raises(AssertionError):
            assert_carries(wrong, repo)
    page = structure({"count": 2, "results": [body, body]}, m.ListResponse[m.Repository])
    with pytest.raises(AssertionError, match="2 items, not 3"):
        assert_carries({"count": 2, "results": [body, body, body]}, page)
