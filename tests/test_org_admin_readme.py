"""The README's organization-administration examples run against a seeded FakeHub."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hubasync import HubClient
from hubasync.testing import FakeHub, FakeImage, digest_of

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Organization administration") :]
    section = section[: section.index("\n### ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


async def run(code: str, hub: HubClient) -> None:
    body = "\n".join("    " + line for line in code.splitlines())
    namespace: dict[str, object] = {"hub": hub, "os": os}
    exec(compile(f"async def example():\n{body}", "README.md", "exec"), namespace)
    await namespace["example"]()  # type: ignore[operator]


async def test_the_org_admin_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = examples()
    assert len(blocks) == 2
    async with FakeHub() as server:
        server.add_user("alice", "alice-pw", pats=["dckr_pat_alice"])
        server.add_user("jonsnow", "jon-pw")
        server.add_namespace("myorg", members=["alice"], owners=["alice"])
        server.add_org_member("myorg", "jonsnow", email="jon@example.com")
        server.add_invite("myorg", "old@example.com")
        server.add_repository(
            "myorg", "app", images=[FakeImage(digest_of("x"), tags=["v1", "latest"])]
        )
        monkeypatch.setenv("DOCKERHUB_SCIM_TOKEN", server.enable_scim("myorg"))
        async with HubClient(
            username="alice",
            secret="dckr_pat_alice",
            base_url=server.url,
            requests_per_minute=10**6,  # FakeHub here has no rate limit to learn from
        ) as hub:
            first, scim = blocks
            await run(first, hub)
            assert server.org_members("myorg") == {"alice": "owner", "jonsnow": "editor"}
            assert server.org_groups("myorg")["devs"] == ["jonsnow"]
            assert server.repository_groups("myorg", "app") == {"devs": "write"}
            assert [t.label for t in server.org_tokens("myorg")] == ["ci"]
            assert server.org_invites("myorg") == ["old@example.com"]  # the bulk: a dry run
            await run(scim, hub)
        assert "jonsnow" not in server.org_members("myorg")  # deactivated through SCIM
    printed = capsys.readouterr().out
    assert "alice Owner" in printed
    assert "old@example.com" in printed
    assert "new@example.com " in printed
    assert "dckr_oat_" in printed
    assert "['v1']" in printed
    assert "jon@example.com True" in printed
