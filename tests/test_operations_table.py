"""The README's operations table agrees with the specs and the client.

Every operation of ``hub-api-latest.yaml`` and of the seed has one row (method, path, public
method); every row's method exists on ``HubClient``; the only rows no spec has are the ones
listed in ``UNDOCUMENTED``. A new operation in the spec without a method fails here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from hubasync import HubClient

from ._spec import LATEST_SPEC, SEED_SPEC

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "### Every operation, and its method"
METHODS = ("get", "put", "post", "delete", "patch", "head")
#: Operations Hub serves that no spec documents (method, path).
UNDOCUMENTED = {("DELETE", "/v2/repositories/{namespace}/{repository}/tags/{tag}/")}
ROW = re.compile(
    r"^\| (GET|PUT|POST|DELETE|PATCH|HEAD) \| `([^`]+)`[^|]* \| `hub\.(\w+)\.(\w+)` \|$"
)


def spec_operations(path: Path) -> set[tuple[str, str]]:
    spec = yaml.safe_load(path.read_text())
    return {
        (method.upper(), route)
        for route, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def table_rows(text: str) -> list[tuple[str, str, str, str]]:
    """The rows of the README's operations table: (method, path, resource, method name)."""
    rest = text[text.index(HEADING) + len(HEADING) :]
    following = re.search(r"\n#{2,3} ", rest)
    section = rest[: following.start()] if following else rest
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith(("| method", "|---")):
            match = ROW.match(line)
            assert match, f"README operations table: a row not in the expected form: {line!r}"
            rows.append((match[1], match[2], match[3], match[4]))
    return rows


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, str, str, str]]:
    return table_rows(README.read_text(encoding="utf-8"))


def test_every_spec_operation_has_exactly_one_row(rows: list[tuple[str, str, str, str]]) -> None:
    listed = [(method, path) for method, path, _, _ in rows]
    assert len(listed) == len(set(listed)), "an operation is listed twice"
    latest = spec_operations(LATEST_SPEC)
    seed = spec_operations(SEED_SPEC)
    assert len(latest) == 54 and len(seed) == 16
    missing = (latest | seed) - set(listed)
    assert not missing, f"operations of the spec with no row in the README: {sorted(missing)}"
    assert set(listed) - latest - seed == UNDOCUMENTED


def test_every_row_names_a_public_method_of_the_client(
    rows: list[tuple[str, str, str, str]],
) -> None:
    hub = HubClient(token="t", base_url="https://hub.test")
    methods: dict[str, tuple[str, str]] = {}
    for method, path, area, name in rows:
        resource: Any = getattr(hub, area, None)
        assert resource is not None, f"HubClient has no .{area} (README row {method} {path})"
        func = getattr(resource, name, None)
        assert callable(func) and not name.startswith("_"), f"hub.{area}.{name} is missing"
        assert inspect.getdoc(func), f"hub.{area}.{name} has no docstring"
        qualified = f"{area}.{name}"
        assert qualified not in methods, f"hub.{qualified} is listed for two operations"
        methods[qualified] = (method, path)


def test_the_table_parser_rejects_a_missing_operation() -> None:
    text = README.read_text(encoding="utf-8")
    row = "| GET | `/v2/scim/2.0/Users` | `hub.scim.users` |"
    assert row in text
    rows = table_rows(text.replace(row + "\n", ""))
    listed = {(m, p) for m, p, _, _ in rows}
    assert ("GET", "/v2/scim/2.0/Users") not in listed
    assert ("GET", "/v2/scim/2.0/Users") in spec_operations(LATEST_SPEC) - listed
