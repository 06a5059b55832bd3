"""Typing as a user meets it: a user's script checked with ``mypy --strict`` (mypy's API on
a temporary file, with this checkout's package) narrows ``Outcome`` on ``if outcome.ok:``,
takes the ``Literal`` parameters, and rejects what the types forbid."""

from __future__ import annotations

import hashlib
import os
import tempfile
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")
mypy_version = pytest.importorskip("mypy.version").__version__

ROOT = Path(__file__).resolve().parent.parent

USER_SCRIPT = """
from hubasync import HubClient, fan_out, to_dict
from hubasync.models import Repository
from hubasync.testing import FakeHub


async def names(hub: HubClient) -> list[str]:
    found: list[str] = []
    async for outcome in fan_out(["app", "web"], lambda r: hub.repositories.get("me", r)):
        if outcome.ok:
            found.append(outcome.value.name)  # narrowed: Repository, not Repository | None
        else:
            found.append(str(outcome.error.args))  # narrowed: BaseException
    async for numbered in fan_out([1], lambda n: hub.repositories.get("me", str(n))):
        if not numbered.ok:
            continue
        repo: Repository = numbered.value
        to_dict(repo)
    async for image in hub.images.list("me", "app", status="inactive", ordering="-digest"):
        found.append(image.digest)
    await hub.access_tokens.create("ci", ["repo:read"])
    async for repo in hub.repositories.list("me", ordering="-last_updated"):
        found.append(repo.name)
    await hub.orgs.update_member_role("myorg", "jon", "editor")
    await hub.repositories.add_group("myorg", "app", 7, "write")
    async for user in hub.scim.with_token("t").users(sort_order="descending"):
        found.append(user.id)
    return found


def generated_user(server: FakeHub) -> str:
    return server.generated.username  # not Optional
"""

BAD_SCRIPT = """
from hubasync import HubClient, fan_out


async def wrong(hub: HubClient) -> str:
    async for outcome in fan_out(["app"], lambda r: hub.repositories.get("me", r)):
        return outcome.value.name  # not narrowed: the value may be None
    hub.repositories.list("me", ordering="newest")  # not one of the orderings
    hub.images.list("me", "app", status="stale")  # not a status
    await hub.orgs.update_member_role("myorg", "jon", "admin")  # not a role
    await hub.repositories.add_group("myorg", "app", 7, "owner")  # not a permission
    return ""
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Both scripts checked in one mypy run (it is the slow part): errors per script."""
    folder = tmp_path_factory.mktemp("typing")
    for name, source in (("user_script", USER_SCRIPT), ("bad_script", BAD_SCRIPT)):
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    # A cache that outlives the run: the first check reads aiohttp, attrs and cattrs (about
    # 15 s), later ones only what changed (a few seconds).
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"hubasync-test-mypy-{mypy_version}-{checkout}"
    previous = os.getcwd()
    os.chdir(ROOT)  # the checkout's hubasync, not an installed one
    try:
        stdout, stderr, _ = mypy_api.run(
            [
                "--strict",
                "--cache-dir",
                str(cache),
                "--no-error-summary",
                str(folder / "user_script.py"),
                str(folder / "bad_script.py"),
            ]
        )
    finally:
        os.chdir(previous)
    assert not stderr, stderr
    errors: dict[str, list[str]] = {"user_script": [], "bad_script": []}
    for line in stdout.splitlines():
        for name in errors:
            if f"{name}.py:" in line:
                errors[name].append(line)
    return errors


def test_a_users_script_type_checks_without_casts(mypy_output: dict[str, list[str]]) -> None:
    assert mypy_output["user_script"] == []


def test_what_the_types_forbid_is_reported(mypy_output: dict[str, list[str]]) -> None:
    out = "\n".join(mypy_output["bad_script"])
    assert 'Item "None" of "Repository | None" has no attribute "name"' in out
    assert "Literal['newest']" in out and '"ordering"' in out
    assert "Literal['stale']" in out and '"status"' in out
    assert "Literal['admin']" in out and '"update_member_role"' in out
    assert "Literal['owner']" in out and '"add_group"' in out
    assert len(mypy_output["bad_script"]) == 5, out
