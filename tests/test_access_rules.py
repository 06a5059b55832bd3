"""The access audit's judging: pure functions, tested with tables (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubasync.access import (
    AccessPolicy,
    Finding,
    FindingCode,
    GroupAccess,
    InviteAccess,
    MemberAccess,
    Severity,
    TokenAccess,
    TokenKind,
    judge_invites,
    judge_members,
    judge_token,
    org_report,
)
from hubasync.errors import PermissionDeniedError

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICY = AccessPolicy(unused_days=90, expiring_days=30, invite_age_days=30)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def ahead(days: float) -> datetime:
    return NOW + timedelta(days=days)


def token(**fields: object) -> TokenAccess:
    base: dict[str, object] = {
        "kind": TokenKind.ORGANIZATION,
        "id": "t1",
        "label": "ci",
        "is_active": True,
        "created_at": ago(200),
        "expires_at": ahead(180),
        "last_used_at": ago(1),
    }
    base.update(fields)
    return TokenAccess(**base)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.severity.value, f.code.value) for f in findings]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),  # used yesterday, expires in half a year
        ({"last_used_at": None}, [("warning", "token-never-used")]),
        ({"last_used_at": ago(90)}, []),  # exactly the limit: not more than 90 days
        ({"last_used_at": ago(91)}, [("warning", "token-unused")]),
        ({"expires_at": None}, [("warning", "token-no-expiry")]),
        (
            {"expires_at": None, "last_used_at": None},
            [("warning", "token-never-used"), ("warning", "token-no-expiry")],
        ),
        ({"expires_at": ahead(29.5)}, [("warning", "token-expiring")]),
        ({"expires_at": ahead(30.5)}, []),
        # expired: the only flag (unused/never used no longer matter)
        ({"expires_at": ago(1), "last_used_at": None}, [("info", "token-expired")]),
        ({"expires_at": NOW}, [("info", "token-expired")]),
        # deactivated: the only flag
        ({"is_active": False, "expires_at": None}, [("info", "token-inactive")]),
        ({"is_active": None, "last_used_at": None}, [("warning", "token-never-used")]),
    ],
)
def test_judge_token(fields: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert codes(judge_token(token(**fields), now=NOW, policy=POLICY)) == expected


def test_token_findings_name_the_token_and_the_dates() -> None:
    (unused,) = judge_token(token(last_used_at=ago(120)), now=NOW, policy=POLICY)
    assert unused.subject == "ci"
    assert "'ci' (t1)" in unused.reason and "120 days ago (2026-02-01)" in unused.reason
    (expiring,) = judge_token(token(expires_at=ahead(10)), now=NOW, policy=POLICY)
    assert "expires in 10 days (2026-06-11)" in expiring.reason
    (personal,) = judge_token(
        token(kind=TokenKind.PERSONAL, expires_at=None), now=NOW, policy=POLICY
    )
    assert personal.reason.startswith("personal token 'ci'")


def test_policy_thresholds_change_the_verdict() -> None:
    strict = AccessPolicy(unused_days=0, expiring_days=365, invite_age_days=0)
    assert codes(judge_token(token(last_used_at=ago(1)), now=NOW, policy=strict)) == [
        ("warning", "token-unused"),
        ("warning", "token-expiring"),
    ]


@pytest.mark.parametrize(
    "bad", [{"unused_days": -1}, {"expiring_days": 1.5}, {"invite_age_days": True}]
)
def test_policy_refuses_bad_thresholds(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        AccessPolicy(**bad)  # type: ignore[arg-type]


def member(name: str, role: str = "member", groups: tuple[str, ...] = ("devs",)) -> MemberAccess:
    return MemberAccess(username=name, role=role, groups=groups)


@pytest.mark.parametrize(
    ("members", "groups_known", "expected"),
    [
        ([member("a", "owner"), member("b", "owner")], True, []),
        ([member("a", "owner"), member("b")], True, [("warning", "single-owner", "acme")]),
        ([member("a", "editor"), member("b")], True, [("critical", "no-owner", "acme")]),
        (
            [member("a", "owner"), member("b", "owner"), member("c", groups=())],
            True,
            [("info", "member-in-no-group", "c")],
        ),
        # the groups could not be read: nobody is called groupless
        ([member("a", "owner"), member("b", "owner"), member("c", groups=())], False, []),
    ],
)
def test_judge_members(
    members: list[MemberAccess], groups_known: bool, expected: list[tuple[str, str, str]]
) -> None:
    found = judge_members("acme", members, groups_known=groups_known)
    assert [(f.severity.value, f.code.value, f.subject) for f in found] == expected


def test_single_owner_names_the_owner() -> None:
    (finding,) = judge_members("acme", [member("olivia", "owner")], groups_known=True)
    assert finding.reason.startswith("olivia is the only owner")


@pytest.mark.parametrize(
    ("created", "expected"),
    [(ago(31), ["x@example.com"]), (ago(30), []), (ago(1), []), (None, [])],
)
def test_judge_invites(created: datetime | None, expected: list[str]) -> None:
    invite = InviteAccess(id="i1", invitee="x@example.com", created_at=created)
    found = judge_invites([invite], now=NOW, policy=POLICY)
    assert [f.subject for f in found] == expected
    assert all(f.code is FindingCode.INVITE_OLD and "31 days ago" in f.reason for f in found)


def test_org_report_joins_groups_onto_members_and_sorts_findings() -> None:
    report = org_report(
        "acme",
        now=NOW,
        policy=POLICY,
        members=[
            member("zed", "owner", ()),
            member("amy", groups=()),
            None,
            member("bo", groups=()),
        ],
        groups=[GroupAccess(name="ops", members=("zed",)), GroupAccess(name="devs", members=())],
        invites=[InviteAccess(id="i1", invitee="old@example.com", created_at=ago(60))],
        tokens=[token(last_used_at=None)],
    )
    assert [m.username for m in report.members or ()] == ["amy", "bo", "zed"]
    assert {m.username: m.groups for m in report.members or ()}["zed"] == ("ops",)
    assert report.owners == 1
    assert [g.name for g in report.groups or ()] == ["devs", "ops"]
    assert [(f.severity, f.code, f.subject) for f in report.findings] == [
        (Severity.WARNING, FindingCode.INVITE_OLD, "old@example.com"),
        (Severity.WARNING, FindingCode.SINGLE_OWNER, "acme"),
        (Severity.WARNING, FindingCode.TOKEN_NEVER_USED, "ci"),
        (Severity.INFO, FindingCode.MEMBER_IN_NO_GROUP, "amy"),
        (Severity.INFO, FindingCode.MEMBER_IN_NO_GROUP, "bo"),
    ]
    assert report.worst is Severity.WARNING and report.readable
    assert "no way to read" in report.notes[0]


def test_org_report_with_a_group_unread_judges_no_member_groupless() -> None:
    report = org_report(
        "acme",
        now=NOW,
        policy=POLICY,
        members=[member("a", "owner", ()), member("b", "owner", ())],
        groups=[GroupAccess(name="ops", members=None)],
        invites=None,
        tokens=None,
    )
    assert report.findings == ()
    assert report.invites is None and report.tokens is None


def test_unreadable_parts_keep_their_reason() -> None:
    from hubasync._access_rules import unreadable

    error = PermissionDeniedError("orgs.invites: permission denied [HTTP 403]", status=403)
    part = unreadable("acme", "the invites of acme", error, whole_org=False)
    assert (part.severity, part.code) == (Severity.WARNING, FindingCode.SECTION_UNREADABLE)
    assert "could not read the invites of acme (orgs.invites: permission denied" in part.reason
    whole = unreadable("acme", "acme", error, whole_org=True)
    assert (whole.severity, whole.code, whole.subject) == (
        Severity.CRITICAL,
        FindingCode.ORG_UNREADABLE,
        "acme",
    )
