"""The models against the specs: every example response structures in strict mode, every
schema field has a model attribute, request models unstructure into valid request bodies,
and a model survives unstructure → structure unchanged."""

from __future__ import annotations

import datetime as dt
import functools
import re
import types
from collections.abc import Callable, Iterator
from typing import Any, Union, get_args, get_origin, get_type_hints

import attrs
import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from hubasync import models as m
from hubasync._convert import is_strict, set_strict, structure, unstructure
from hubasync.models._base import OpenStrEnum

from ._carry import assert_carries
from ._spec import SPEC_DIR


@pytest.fixture(autouse=True)
def strict() -> Iterator[None]:
    previous = is_strict()
    set_strict(True)
    yield
    set_strict(previous)


def _jsonify(value: Any) -> Any:
    """YAML turns unquoted timestamps into datetimes; JSON would carry strings."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonify(v) for v in value]
    return value


def _load(name: str) -> dict[str, Any]:
    with open(SPEC_DIR / name, encoding="utf-8") as fh:
        spec: dict[str, Any] = yaml.safe_load(fh)
    return spec


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    return _load("hub-api-seed.yaml")


@pytest.fixture(scope="module")
def latest() -> dict[str, Any]:
    return _load("hub-api-latest.yaml")


def _resolve(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """Inline ``$ref``s and merge ``allOf`` (the specs have no cycles on these paths)."""
    assert depth < 30
    if isinstance(node, list):
        return [_resolve(spec, n, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _resolve(spec, target, depth + 1)
    resolved = {k: _resolve(spec, v, depth + 1) for k, v in node.items()}
    if "allOf" in resolved:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in resolved.pop("allOf"):
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
            for key, value in part.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        for key, value in resolved.items():
            if key == "properties":
                merged["properties"].update(value)
            else:
                merged[key] = value
        resolved = merged
    return resolved


def _example(schema: dict[str, Any]) -> Any:
    """An example instance built from a schema's ``example`` values."""
    if "example" in schema:
        return schema["example"]
    if "properties" in schema:
        result = {}
        for name, prop in schema["properties"].items():
            value = _example(prop)
            if value is not _NONE:
                result[name] = value
        return result
    if schema.get("type") == "array" and "items" in schema:
        item = _example(schema["items"])
        return [] if item is _NONE else [item]
    if "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        item = _example(schema["additionalProperties"])
        return {} if item is _NONE else {"key": item}
    # No example given: a plausible value of the declared type, so every field is exercised.
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type")
    if kind == "string":
        return "2021-01-05T21:06:53.506400Z" if schema.get("format") == "date-time" else "text"
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return _NONE


_NONE = object()

# Every seed operation → the model of each JSON response it documents.
SEED_RESPONSES: dict[tuple[str, str, str], Any] = {
    ("/v2/users/login", "post", "200"): m.LoginResult,
    ("/v2/users/login", "post", "401"): m.LoginFailure,
    ("/v2/users/2fa-login", "post", "200"): m.LoginResult,
    ("/v2/users/2fa-login", "post", "401"): m.LoginFailure,
    ("/v2/access-tokens", "get", "200"): m.AccessTokenListResponse,
    ("/v2/access-tokens", "post", "201"): m.AccessToken,
    ("/v2/access-tokens/{uuid}", "get", "200"): m.AccessToken,
    ("/v2/access-tokens/{uuid}", "patch", "200"): m.AccessToken,
    ("/v2/access-tokens/{uuid}", "delete", "204"): None,
    (
        "/v2/namespaces/{namespace}/repositories/{repository}/images-summary",
        "get",
        "200",
    ): m.ImagesSummary,
    ("/v2/namespaces/{namespace}/repositories/{repository}/images", "get", "200"): (
        m.ListResponse[m.Image]
    ),
    (
        "/v2/namespaces/{namespace}/repositories/{repository}/images/{digest}/tags",
        "get",
        "200",
    ): m.ListResponse[m.ImageTag],
    ("/v2/namespaces/{namespace}/delete-images", "post", "200"): m.DeleteImagesResult,
    ("/v2/namespaces/{namespace}/delete-images", "post", "400"): m.DeleteImagesErrorResponse,
    ("/v2/auditlogs/{account}", "get", "200"): m.AuditLogsResponse,
    ("/v2/auditlogs/{account}/actions", "get", "200"): m.AuditActionsResponse,
    ("/v2/orgs/{name}/settings", "get", "200"): m.OrgSettings,
    ("/v2/orgs/{name}/settings", "put", "200"): m.OrgSettings,
    ("/v2/repositories/{namespace}/{repository}/", "patch", "200"): m.Repository,
}

LATEST_RESPONSES: dict[tuple[str, str, str], Any] = {
    ("/v2/auth/token", "post", "200"): m.TokenResponse,
    ("/v2/access-tokens", "get", "200"): m.AccessTokenListResponse,
    ("/v2/access-tokens", "post", "201"): m.AccessToken,
    ("/v2/access-tokens/{uuid}", "get", "200"): m.AccessToken,
    ("/v2/access-tokens/{uuid}", "patch", "200"): m.AccessToken,
    ("/v2/namespaces/{namespace}/repositories", "get", "200"): m.ListResponse[m.Repository],
    ("/v2/namespaces/{namespace}/repositories/{repository}", "get", "200"): m.Repository,
    ("/v2/namespaces/{namespace}/repositories/{repository}", "head", "200"): m.Repository,
    ("/v2/namespaces/{namespace}/repositories/{repository}/tags", "get", "200"): (
        m.ListResponse[m.Tag]
    ),
    ("/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}", "get", "200"): m.Tag,
    ("/v2/auditlogs/{account}", "get", "200"): m.AuditLogsResponse,
    ("/v2/auditlogs/{account}/actions", "get", "200"): m.AuditActionsResponse,
    ("/v2/orgs/{name}/settings", "get", "200"): m.OrgSettings,
}

_METHODS = ("get", "put", "post", "delete", "patch", "head")


def _json_response(spec: dict[str, Any], path: str, method: str, status: str) -> Any:
    responses = spec["paths"][path][method]["responses"]
    response = responses.get(status, responses.get(int(status)))
    response = _resolve(spec, response)
    return response.get("content", {}).get("application/json")


def _examples(spec: dict[str, Any], path: str, method: str, status: str) -> list[Any]:
    """The response's own examples, else one built from its schema's property examples."""
    content = _json_response(spec, path, method, status)
    assert content is not None, (path, method, status)
    found = [e["value"] for e in content.get("examples", {}).values() if "value" in e]
    if "example" in content:
        found.append(content["example"])
    if not found:
        built = _example(_resolve(spec, content["schema"]))
        assert built is not _NONE and built != {}, (path, method, status)
        found.append(built)
    return [_jsonify(e) for e in found]


def test_every_seed_operation_has_a_model_for_each_json_response(seed: dict[str, Any]) -> None:
    documented = set()
    for path, item in seed["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            for status in item[method]["responses"]:
                status = str(status)
                if not status.startswith("2") and (path, method, status) not in SEED_RESPONSES:
                    continue
                documented.add((path, method, status))
    assert len({(p, mt) for p, mt, _ in documented}) == 16
    assert documented == set(SEED_RESPONSES)


@pytest.mark.parametrize(
    "key", [k for k, v in SEED_RESPONSES.items() if v is not None], ids=lambda k: " ".join(k)
)
def test_seed_examples_structure_strictly(seed: dict[str, Any], key: tuple[str, str, str]) -> None:
    cls = SEED_RESPONSES[key]
    for example in _examples(seed, *key):
        assert_carries(example, structure(example, cls))


@pytest.mark.parametrize("key", list(LATEST_RESPONSES), ids=lambda k: " ".join(k))
def test_latest_examples_structure_strictly(
    latest: dict[str, Any], key: tuple[str, str, str]
) -> None:
    cls = LATEST_RESPONSES[key]
    for example in _examples(latest, *key):
        assert_carries(example, structure(example, cls))


def test_seed_examples_carry_their_values(seed: dict[str, Any]) -> None:
    logs = structure(
        _examples(seed, "/v2/auditlogs/{account}", "get", "200")[0], m.AuditLogsResponse
    )
    event = logs.logs[0]
    assert event.action == "repo.tag.push"
    assert event.data["tag"] == "latest"
    assert event.timestamp == dt.datetime(2021, 2, 19, 1, 34, 35, tzinfo=dt.UTC)

    actions = structure(
        _examples(seed, "/v2/auditlogs/{account}/actions", "get", "200")[0],
        m.AuditActionsResponse,
    )
    assert actions.actions["repo"].label == "Repository"
    assert "tag.push" in [a.name for a in actions.actions["repo"].actions]

    path = "/v2/namespaces/{namespace}/repositories/{repository}/images-summary"
    summary = structure(_examples(seed, path, "get", "200")[0], m.ImagesSummary)
    assert (summary.statistics.total, summary.statistics.active) == (3, 2)
    # "2021-01-25T14:25:37.076343059Z": nanoseconds truncated to microseconds.
    assert summary.active_from == dt.datetime(2021, 1, 25, 14, 25, 37, 76343, tzinfo=dt.UTC)

    path = "/v2/namespaces/{namespace}/repositories/{repository}/images"
    images = structure(_examples(seed, path, "get", "200")[0], m.ListResponse[m.Image])
    assert images.results[0].status is m.ImageStatus.ACTIVE
    assert images.results[0].tags[0] == m.ImageTag(tag="latest", is_current=True)

    error = structure(
        _examples(seed, "/v2/namespaces/{namespace}/delete-images", "post", "400")[0],
        m.DeleteImagesErrorResponse,
    )
    assert error.errinfo is not None and error.errinfo.details is not None
    assert error.errinfo.details.errors[0].error is m.DeleteErrorKind.NOT_FOUND
    assert error.errinfo.details.warnings[0].warning is m.DeleteWarningKind.CURRENT_TAG


def test_latest_examples_carry_their_values(latest: dict[str, Any]) -> None:
    path = "/v2/namespaces/{namespace}/repositories"
    page = structure(_examples(latest, path, "get", "200")[0], m.ListResponse[m.Repository])
    assert page.count == 287 and page.previous is None
    assert page.results[0].name == "highland_builder"
    assert page.results[1].repository_type is None
    assert page.results[0].categories[0].slug == "languages-and-frameworks"

    path = "/v2/namespaces/{namespace}/repositories/{repository}"
    repo = structure(_examples(latest, path, "get", "200")[0], m.Repository)
    assert repo.immutable_tags_settings == m.ImmutableTagsSettings(enabled=False, rules=[])
    assert repo.storage_size is None and repo.permissions is None

    path = "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}"
    tag = structure(_examples(latest, path, "get", "200")[0], m.Tag)
    # The spec describes `images` as one object; the model always holds a list.
    assert len(tag.images) == 1
    assert tag.images[0].last_pushed == dt.datetime(2021, 1, 5, 21, 6, 53, 506400, tzinfo=dt.UTC)

    token = structure(_examples(latest, "/v2/access-tokens/{uuid}", "get", "200")[0], m.AccessToken)
    assert token.expires_at == dt.datetime(2021, 10, 28, 18, 30, 19, 520861, tzinfo=dt.UTC)


# --- every schema field has a model attribute -----------------------------------------------


def _attrs_target(tp: Any) -> Any:
    """The attrs class a field holds (directly, optionally, in a list or dict), if any."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):
            found = _attrs_target(arg)
            if found is not None:
                return found
        return None
    if origin in (list, dict):
        return _attrs_target(get_args(tp)[-1])
    return tp if attrs.has(tp) else None


def _hints(cls: Any) -> dict[str, Any]:
    """Field types of a model, with ``ListResponse``'s ``T`` replaced by the item type."""
    origin = get_origin(cls) or cls
    hints = get_type_hints(origin)
    generic = [cls] if get_origin(cls) is m.ListResponse else []
    generic += [b for b in getattr(origin, "__orig_bases__", ()) if get_origin(b) is m.ListResponse]
    for alias in generic:
        (param,) = get_args(alias)
        hints["results"] = list[param]  # type: ignore[valid-type]
    return hints


def _assert_covers(schema: dict[str, Any], cls: Any, where: str) -> None:
    if schema.get("type") == "array" and "items" in schema:
        schema = schema["items"]
    if "additionalProperties" in schema and "properties" not in schema:
        schema = schema["additionalProperties"]
    hints = _hints(cls)
    for name, prop in schema.get("properties", {}).items():
        assert name in hints, f"{where}: schema field {name!r} missing from {cls}"
        target = _attrs_target(hints[name])
        if target is not None and isinstance(prop, dict):
            _assert_covers(prop, target, f"{where}.{name}")


def test_every_schema_field_has_a_model_attribute(
    seed: dict[str, Any], latest: dict[str, Any]
) -> None:
    for spec, table in ((seed, SEED_RESPONSES), (latest, LATEST_RESPONSES)):
        for key, cls in table.items():
            if cls is None:
                continue
            content = _json_response(spec, *key)
            schema = _resolve(spec, content["schema"])
            _assert_covers(schema, cls, " ".join(key))


# --- request bodies are valid against the spec's request schemas -----------------------------

WARNING = m.DeleteWarning(
    repository="myrepo",
    digest="sha256:" + "a" * 64,
    warning=m.DeleteWarningKind.CURRENT_TAG,
    tags=["latest"],
)

REQUESTS: list[tuple[str, str, str, Any]] = [
    (
        "seed",
        "/v2/users/login",
        "post",
        m.LoginRequest(username="me", password="hunter2"),
    ),
    (
        "seed",
        "/v2/users/2fa-login",
        "post",
        m.TwoFactorLoginRequest(login_2fa_token="tok", code="123456"),
    ),
    (
        "latest",
        "/v2/auth/token",
        "post",
        m.AuthTokenRequest(identifier="me", secret="dckr_pat_x"),
    ),
    (
        "seed",
        "/v2/access-tokens",
        "post",
        m.CreateAccessTokenRequest(token_label="ci", scopes=["repo:read"]),
    ),
    (
        "latest",
        "/v2/access-tokens",
        "post",
        m.CreateAccessTokenRequest(
            token_label="ci",
            scopes=["repo:read"],
            expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        ),
    ),
    (
        "seed",
        "/v2/access-tokens/{uuid}",
        "patch",
        m.UpdateAccessTokenRequest(is_active=False),
    ),
    (
        "seed",
        "/v2/namespaces/{namespace}/delete-images",
        "post",
        m.DeleteImagesRequest(
            manifests=[m.ManifestRef(repository="myrepo", digest="sha256:" + "a" * 64)],
            dry_run=True,
            active_from=dt.datetime(2020, 12, 1, 12, tzinfo=dt.UTC),
            ignore_warnings=[WARNING],
        ),
    ),
    (
        "seed",
        "/v2/orgs/{name}/settings",
        "put",
        m.OrgSettings(
            restricted_images=m.RestrictedImages(
                enabled=True, allow_official_images=True, allow_verified_publishers=False
            )
        ),
    ),
    (
        "seed",
        "/v2/repositories/{namespace}/{repository}/",
        "patch",
        m.UpdateRepositoryRequest(description="hello", is_private=False),
    ),
]


@pytest.mark.parametrize("which,path,method,body", REQUESTS, ids=lambda x: str(x)[:40])
def test_request_models_unstructure_to_valid_bodies(
    seed: dict[str, Any],
    latest: dict[str, Any],
    which: str,
    path: str,
    method: str,
    body: Any,
) -> None:
    spec = seed if which == "seed" else latest
    schema = _resolve(spec, spec["paths"][path][method]["requestBody"])["content"][
        "application/json"
    ]["schema"]
    data = unstructure(body)
    OAS30Validator(schema).validate(data)
    # No field the schema does not declare, and None never sent.
    assert set(data) <= set(schema["properties"])
    assert None not in data.values()


def test_delete_warning_unstructures_to_an_ignore_warnings_entry() -> None:
    # A warning as Hub reports it, passed back as it came.
    reported = structure(
        {
            "repository": "myrepo",
            "digest": "sha256:" + "b" * 64,
            "warning": "current_tag",
            "tags": ["latest", "v1"],
        },
        m.DeleteWarning,
    )
    assert unstructure(reported) == {
        "repository": "myrepo",
        "digest": "sha256:" + "b" * 64,
        "warning": "current_tag",
        "tags": ["latest", "v1"],
    }
    request = m.DeleteImagesRequest(
        manifests=[m.ManifestRef(repository="myrepo", digest=reported.digest)],
        ignore_warnings=[reported],
    )
    body = unstructure(request)
    assert body["ignore_warnings"] == [unstructure(reported)]
    assert type(body["ignore_warnings"][0]["warning"]) is str


def test_secrets_stay_out_of_reprs() -> None:
    secret = "dckr_pat_SUPERSECRET"
    for obj in (
        m.LoginRequest(username="me", password=secret),
        m.TwoFactorLoginRequest(login_2fa_token=secret, code=secret),
        m.AuthTokenRequest(identifier="me", secret=secret),
        m.LoginResult(token=secret),
        m.TokenResponse(access_token=secret),
        m.LoginFailure(detail="2fa", login_2fa_token=secret),
        m.AccessToken(uuid="u", token=secret),
    ):
        assert secret not in repr(obj)
        assert secret not in str(obj)


def test_models_are_frozen_and_keyword_only() -> None:
    image = m.Image(digest="sha256:x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        image.digest = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.ManifestRef("repo", "sha256:x")  # type: ignore[call-arg]


def test_unknown_enum_values_are_kept() -> None:
    weird = m.ImageStatus("weird")
    assert weird.value == "weird" and weird == "weird"
    assert isinstance(weird, m.ImageStatus)
    assert not weird.is_known and m.ImageStatus.ACTIVE.is_known
    assert list(m.ImageStatus) == [m.ImageStatus.ACTIVE, m.ImageStatus.INACTIVE]
    assert m.ImageStatus("active") is m.ImageStatus.ACTIVE
    # A value spelled like a member's name is still an unknown value.
    shouting = m.ImageStatus("ACTIVE")
    assert shouting != m.ImageStatus.ACTIVE and not shouting.is_known
    assert shouting not in m.ImageStatus and weird not in m.ImageStatus
    with pytest.raises(ValueError):
        m.ImageStatus(3)  # type: ignore[arg-type]
    image = structure({"digest": "d", "status": "archived"}, m.Image)
    assert image.status == "archived" and image.status is not None
    assert image.status.value == "archived"
    assert unstructure(image)["status"] == "archived"
    warning = structure({"repository": "r", "digest": "d", "warning": "is_locked"}, m.DeleteWarning)
    assert warning.warning.value == "is_locked"


def test_public_names_are_exported() -> None:
    for name in m.__all__:
        assert getattr(m, name) is not None
    assert m.ACCESS_TOKEN_SCOPES == ("repo:admin", "repo:write", "repo:read", "repo:public_read")


# --- property: unstructure → structure is the identity ----------------------------------------

MODELS = [
    getattr(m, name) for name in m.__all__ if attrs.has(getattr(m, name)) and name != "ListResponse"
] + [m.ListResponse[m.Image], m.ListResponse[m.Tag]]


def _lazy(make: Callable[[Any], st.SearchStrategy[Any]], tp: Any) -> st.SearchStrategy[Any]:
    """``make(tp)``, built on first use (model types refer to each other)."""
    return st.deferred(lambda: make(tp))


@functools.cache
def _value_strategy(tp: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return st.one_of([_value_strategy(a) for a in get_args(tp)])
    if origin is list:
        return st.lists(_value_strategy(get_args(tp)[0]), max_size=2)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), _value_strategy(get_args(tp)[1]), max_size=2)
    if tp is type(None):
        return st.none()
    if tp is str:
        return st.text(max_size=8)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers()
    if tp is dt.datetime:
        return st.datetimes(timezones=st.just(dt.UTC))
    if isinstance(tp, type) and issubclass(tp, OpenStrEnum):
        return st.one_of(st.sampled_from(list(tp)), st.text(max_size=5).map(tp))
    if attrs.has(get_origin(tp) or tp):
        return _model_strategy(tp)
    raise AssertionError(f"no strategy for {tp!r}")


@functools.cache
def _model_strategy(cls: Any) -> st.SearchStrategy[Any]:
    hints = _hints(cls)
    fields = attrs.fields(get_origin(cls) or cls)
    return st.builds(
        get_origin(cls) or cls,
        **{f.name: _lazy(_value_strategy, hints[f.name]) for f in fields},
    )


def _name(tp: Any) -> str:
    return re.sub(r"\b(?:\w+\.)+(?=\w)", "", tp.__name__ if isinstance(tp, type) else str(tp))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("cls", MODELS, ids=_name)
def test_unstructure_then_structure_is_identity(cls: Any, data: st.DataObject) -> None:
    obj = data.draw(_model_strategy(cls))
    assert structure(unstructure(obj), cls) == obj
