"""Every Python block of README.md and docs/testing.md runs, so the examples cannot drift.

Blocks that define ``test_*`` functions are complete test modules: they run through pytester
under pytest-asyncio's strict mode and its auto mode. Every other block runs against one
seeded FakeHub (served from a background thread), in order: ``DOCKERHUB_USERNAME``,
``DOCKERHUB_TOKEN`` and ``HUBASYNC_BASE_URL`` point at it, a ``HubClient`` built without
``base_url=`` talks to it too, a fragment (top-level ``await``, or a top-level use of
``hub``) gets ``hub`` (and ``HubClient``) pre-bound, and an ``async def`` whose only
parameter is ``hub`` is called. Afterwards the FakeHub's state shows the examples did what
they say (the delete examples deleted, also when the dry run raised no warning).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubasync import HubClient
from hubasync.testing import FakeHub, FakeImage, digest_of

from .test_cli import ThreadedHub

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "testing.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAT = "dckr_pat_..."  # the README's placeholder is a PAT FakeHub accepts
DAY = 86_400.0


def blocks(path: Path) -> list[tuple[str, str]]:
    """``(where, code)`` of every Python block of ``path``."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        found.append((f"{path.name}:{line}", match.group(1)))
    return found


ALL = [block for path in DOCS for block in blocks(path)]
TEST_BLOCKS = [(where, code) for where, code in ALL if re.search(r"^async def test_", code, re.M)]
SCRIPT_BLOCKS = [(where, code) for where, code in ALL if (where, code) not in TEST_BLOCKS]

OLD_TAGGED = digest_of("old-tagged")
OLD_UNTAGGED = digest_of("old-untagged")
RECENT = digest_of("recent")


def seeded() -> FakeHub:
    now = time.time()
    server = FakeHub(image_api=True, rate_limit=1_000_000)
    server.add_user("alice", "alice-password", pats=[PAT])
    server.add_repository(
        "alice",
        "app",
        images=[
            FakeImage(OLD_UNTAGGED, last_pushed=now - 300 * DAY),
            FakeImage(OLD_TAGGED, tags=["0.9"], last_pushed=now - 200 * DAY),
            FakeImage(RECENT, tags=["latest"], last_pushed=now - 2 * DAY),
        ],
    )
    for org in ("myorg", "otherorg"):
        server.add_namespace(org, members=["alice"])
    server.add_repository(
        "myorg", "app", images=[FakeImage(digest_of("myorg-app"), tags=["latest"])], actor="alice"
    )
    server.add_repository("otherorg", "tools")
    server.add_user("jonsnow", "jon-password")  # the organization examples' member
    server.add_org_member("myorg", "jonsnow", role="member")
    server.add_namespace("library", members=[])
    for name in ("nginx", "redis", "postgres"):
        server.add_repository("library", name, pull_count=1_000)
    return server


@pytest.fixture(scope="module")
def readme_hub() -> Iterator[ThreadedHub]:
    threaded = ThreadedHub(seeded)
    try:
        yield threaded
    finally:
        threaded.close()


def run_block(code: str, where: str) -> None:
    """Run one block: a script as it is, a fragment with top-level ``await`` with ``hub``."""
    compiled = compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__readme__", "HubClient": HubClient, "os": os}

    async def with_hub() -> None:
        async with HubClient.from_env() as hub:
            namespace["hub"] = hub
            result = eval(compiled, namespace)  # a coroutine when the block awaits
            if inspect.iscoroutine(result):
                await result
            for name, fn in list(namespace.items()):
                if (
                    inspect.iscoroutinefunction(fn)
                    and fn.__module__ == "__readme__"
                    and list(inspect.signature(fn).parameters) == ["hub"]
                    and name != "main"
                ):
                    await fn(hub)

    if compiled.co_flags & inspect.CO_COROUTINE or "hub" in compiled.co_names:
        asyncio.run(with_hub())  # a fragment: awaits at top level, or uses `hub`
        return
    exec(compiled, namespace)  # a script: it runs its own event loop (asyncio.run(main()))
    if any(
        inspect.iscoroutinefunction(fn) and list(inspect.signature(fn).parameters) == ["hub"]
        for fn in namespace.values()
    ):
        asyncio.run(with_hub())


def test_the_docs_have_the_blocks_this_test_expects() -> None:
    assert len(SCRIPT_BLOCKS) >= 6 and len(TEST_BLOCKS) >= 5
    for where, code in ALL:
        compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_every_script_block_runs_against_a_fakehub(
    readme_hub: ThreadedHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = readme_hub.server
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", PAT)
    monkeypatch.setenv("HUBASYNC_BASE_URL", server.url)
    redis_url = os.environ.get("HUBASYNC_REDIS_URL")
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    scim_token = readme_hub.sync(lambda: server.enable_scim("myorg"))
    monkeypatch.setenv("DOCKERHUB_SCIM_TOKEN", scim_token)
    defaults = HubClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "base_url", server.url)  # HubClient(...) without base_url=

    skipped = []
    for where, code in SCRIPT_BLOCKS:
        if "redis" in code and not redis_url:
            skipped.append(where)  # needs a Redis server: .ci/start-redis provides one
            continue
        try:
            run_block(code, where)
        except Exception as exc:
            raise AssertionError(f"the Python block at {where} failed: {exc!r}") from exc

    # What the examples promise, seen on the server.
    tags = readme_hub.sync(lambda: server.tags("alice", "app"))
    assert "0.9" not in tags and "latest" in tags  # stale tags deleted, fresh ones kept
    digests = readme_hub.sync(lambda: server.image_digests("alice", "app"))
    assert OLD_UNTAGGED not in digests and OLD_TAGGED not in digests  # no-warning delete ran
    assert RECENT in digests
    assert readme_hub.sync(lambda: server.repository("myorg", "app"))["description"] == "The app"
    if skipped:
        pytest.skip(f"blocks needing Redis not run (HUBASYNC_REDIS_URL unset): {skipped}")


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_every_test_block_passes_in_strict_and_auto_mode(
    pytester: pytest.Pytester, mode: str
) -> None:
    files = {
        f"test_{re.sub(r'[^a-z0-9]+', '_', where.lower())}": code for where, code in TEST_BLOCKS
    }
    pytester.makepyfile(**files)
    expected = sum(len(re.findall(r"^async def test_", code, re.M)) for code in files.values())
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", f"asyncio_mode={mode}",
        "-o", "asyncio_default_fixture_loop_scope=function",
    )  # fmt: skip
    result.assert_outcomes(passed=expected)
