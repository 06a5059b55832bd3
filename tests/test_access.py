"""hubasync.access.audit_access against a FakeHub: the planted findings, parts that cannot
be read, the personal section, bad input and a refused login."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubasync import AuthenticationError, HubClient
from hubasync.access import FindingCode, OrgAccessAudit, ReportKind, Severity, audit_access
from hubasync.testing import FakeHub, Fault

PAT = "dckr_pat_mia_access_SECRET_0123456789"


@contextlib.asynccontextmanager
async def generated() -> AsyncIterator[tuple[FakeHub, HubClient]]:
    server = FakeHub.generate(
        namespaces=3, repos_per_namespace=1, images_per_repo=1, rate_limit=1_000_000, window_s=60
    )
    async with server:
        data = server.generated
        async with HubClient(username=data.username, secret=data.pat, base_url=server.url) as hub:
            yield server, hub


def found(reports: list[OrgAccessAudit]) -> set[tuple[str, str, str]]:
    return {(r.name, f.code.value, f.subject) for r in reports for f in r.findings}


async def test_reports_exactly_the_planted_findings() -> None:
    async with generated() as (server, hub):
        planted = server.generated.access
        assert planted is not None
        first, second = planted.orgs
        reports = [
            r
            async for r in audit_access(
                hub, [first, second, planted.unreadable_org], include_personal_tokens=False
            )
        ]
    assert sorted(r.name for r in reports) == sorted([first, second, planted.unreadable_org])
    assert found(reports) == {
        (second, "single-owner", second),
        (first, "token-never-used", planted.never_used_token),
        (first, "token-expired", planted.expired_token),
        (first, "invite-old", planted.old_invite),
        (first, "member-in-no-group", planted.member_in_no_group),
        (planted.unreadable_org, "org-unreadable", planted.unreadable_org),
    }
    by_name = {r.name: r for r in reports}
    blind = by_name[planted.unreadable_org]
    assert not blind.readable and blind.worst is Severity.CRITICAL
    assert blind.members is None and "HTTP 403" in blind.findings[0].reason
    org = by_name[first]
    assert org.owners == 2 and by_name[second].owners == 1
    assert {m.username: m.role for m in org.members or ()} == {
        "bench": "owner",
        "olivia": "owner",
        "eddie": "editor",
        "mia": "member",
        "nora": "member",
    }
    assert {g.name: g.members for g in org.groups or ()} == {
        "owners": ("bench", "olivia"),
        "developers": ("eddie", "mia"),
    }
    ages = {i.invitee: i.age_days for i in org.invites or ()}
    assert ages == {planted.old_invite: 60, "new-invitee@example.com": 2}
    tokens = {t.label: t for t in org.tokens or ()}
    assert tokens["ci-pull"].scopes == (f"scope-image-pull on {first}/*",)
    assert tokens[planted.never_used_token].last_used_at is None
    assert "no way to read" in org.notes[0]


async def test_personal_tokens_are_a_section_of_their_own() -> None:
    async with generated() as (_, hub):
        reports = [r async for r in audit_access(hub, [])]
    (personal,) = reports
    assert personal.kind is ReportKind.PERSONAL and personal.org is None
    assert [t.scopes for t in personal.tokens or ()] == [("repo:admin",)]
    # the generated PAT never expires
    assert [(f.code, f.subject) for f in personal.findings] == [
        (FindingCode.TOKEN_NO_EXPIRY, "generated")
    ]


async def test_a_member_who_is_not_an_owner_gets_the_parts_it_cannot_read_as_findings() -> None:
    server = FakeHub(rate_limit=1_000_000, window_s=60)
    server.add_user("mia", "mia-password", pats=[PAT])
    server.add_user("olga", "olga-password")
    server.add_namespace("acme", members=["mia", "olga"], owners=["olga"])
    server.add_org_member("acme", "olga", role="owner")
    server.add_org_member("acme", "mia", role="member")
    server.add_group("acme", "devs", members=["mia", "olga"])
    async with server, HubClient(username="mia", secret=PAT, base_url=server.url) as hub:
        (report,) = [r async for r in audit_access(hub, ["acme"], include_personal_tokens=False)]
    assert report.readable and report.members is not None and report.groups is not None
    assert report.invites is None and report.tokens is None
    unread = [f for f in report.findings if f.code is FindingCode.SECTION_UNREADABLE]
    assert [f.severity for f in unread] == [Severity.WARNING, Severity.WARNING]
    assert sorted(f.reason.split(" (")[0] for f in unread) == [
        "could not read the access tokens of acme",
        "could not read the invites of acme",
    ]
    assert FindingCode.SINGLE_OWNER in {f.code for f in report.findings}


@pytest.mark.parametrize("personal", [True, False])
async def test_refused_credentials_stop_the_run(personal: bool) -> None:
    async with generated() as (server, _):
        orgs = server.generated.access.orgs  # type: ignore[union-attr]
        async with HubClient(
            username=server.generated.username, secret="dckr_pat_wrong", base_url=server.url
        ) as hub:
            with pytest.raises(AuthenticationError):  # itself, not an org-unreadable finding
                [r async for r in audit_access(hub, orgs, include_personal_tokens=personal)]


@pytest.mark.parametrize(
    ("orgs", "options", "says"),
    [
        ("acme", {}, "not a string"),
        (["../x"], {}, "org"),
        (["acme"], {"unused_days": -1}, "unused_days"),
        (["acme"], {"now": datetime(2026, 1, 1)}, "now"),
        (["acme"], {"concurrency": 0}, "concurrency"),
        (["acme"], {"include_personal_tokens": "yes"}, "include_personal_tokens"),
        ([], {"include_personal_tokens": False}, "nothing to audit"),
    ],
)
async def test_bad_input_is_refused_at_the_call(
    orgs: object, options: dict[str, object], says: str
) -> None:
    server = FakeHub()
    async with server, HubClient(base_url=server.url) as hub:
        with pytest.raises(ValueError, match=says):
            audit_access(hub, orgs, **options)  # type: ignore[arg-type]
        assert server.requests == []


async def test_now_decides_what_is_old() -> None:
    async with generated() as (server, hub):
        first = server.generated.access.orgs[0]  # type: ignore[union-attr]
        later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 2)
        (report,) = [
            r async for r in audit_access(hub, [first], include_personal_tokens=False, now=later)
        ]
    codes = {(f.code.value, f.subject) for f in report.findings}
    # two years on: every token is expired, both invites are old
    assert {s for c, s in codes if c == "token-expired"} == {"ci-pull", "never-used", "expired"}
    assert {s for c, s in codes if c == "invite-old"} == {
        "old-invitee@example.com",
        "new-invitee@example.com",
    }


async def test_the_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    match = re.search(r"### Access audit.*?```python\n(.*?)```", readme, re.S)
    assert match is not None
    async with generated() as (server, hub):
        orgs = list(server.generated.access.orgs)  # type: ignore[union-attr]
        code = match.group(1).replace('["myorg", "otherorg"]', repr(orgs))
        body = "\n".join("    " + line for line in code.splitlines())
        namespace: dict[str, object] = {"hub": hub}
        exec(compile(f"async def example():\n{body}", "README.md", "exec"), namespace)
        await namespace["example"]()  # type: ignore[operator]
    printed = capsys.readouterr().out
    assert f"{orgs[1]} organization 1 findings" in printed
    assert "warning single-owner" in printed
    assert "member-in-no-group" not in printed  # the example leaves info findings out


async def test_a_group_that_cannot_be_read_is_a_finding_and_nobody_is_called_groupless() -> None:
    async with generated() as (server, hub):
        first = server.generated.access.orgs[0]  # type: ignore[union-attr]
        server.inject(Fault("error", status=503, path="/groups/developers/members"))
        (report,) = [r async for r in audit_access(hub, [first], include_personal_tokens=False)]
    groups = {g.name: g.members for g in report.groups or ()}
    assert groups == {"developers": None, "owners": ("bench", "olivia")}
    codes = {(f.code, f.subject) for f in report.findings}
    assert (FindingCode.SECTION_UNREADABLE, "members of group developers") in codes
    # one group's members unknown: "in no group" is not judged (nora stays unflagged)
    assert FindingCode.MEMBER_IN_NO_GROUP not in {code for code, _ in codes}
    (unread,) = [f for f in report.findings if f.code is FindingCode.SECTION_UNREADABLE]
    assert unread.reason.startswith(f"could not read the members of group developers of {first}")
    assert "503" in unread.reason


async def test_an_org_token_cannot_read_personal_tokens_nor_its_orgs_tokens() -> None:
    async with generated() as (server, _):
        first = server.generated.access.orgs[0]  # type: ignore[union-attr]
        oat = server.add_org_token(first, label="auditor")
        async with HubClient(username=first, secret=oat.secret, base_url=server.url) as hub:
            reports = {r.name: r async for r in audit_access(hub, [first])}
    personal = reports["personal"]
    assert personal.tokens is None
    assert [(f.code, f.subject) for f in personal.findings] == [
        (FindingCode.SECTION_UNREADABLE, "personal access tokens")
    ]
    assert "could not read your personal access tokens" in personal.findings[0].reason
    org = reports[first]
    assert org.readable and org.members is not None and org.tokens is None
    assert (FindingCode.SECTION_UNREADABLE, "access tokens") in {
        (f.code, f.subject) for f in org.findings
    }
