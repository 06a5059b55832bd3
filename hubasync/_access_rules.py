"""The judging of an access audit: data and an instant in, findings out. Pure (no I/O).

Each function takes what was read and the audit's instant, and returns findings; the
thresholds come from an :class:`~hubasync.access.AccessPolicy`. Re-exported by
:mod:`hubasync.access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ._access_report import (
    AccessPolicy,
    Finding,
    FindingCode,
    InviteAccess,
    MemberAccess,
    Severity,
    TokenAccess,
)

__all__ = [
    "age_days",
    "judge_invites",
    "judge_members",
    "judge_token",
    "judge_tokens",
    "sort_findings",
    "unreadable",
]

_DAY_SECONDS = 86_400


def age_days(then: datetime, now: datetime) -> int:
    """Whole days from ``then`` to ``now`` (negative when ``then`` lies ahead)."""
    return int((now - then).total_seconds() // _DAY_SECONDS)


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def judge_members(
    org: str, members: Iterable[MemberAccess], *, groups_known: bool
) -> list[Finding]:
    """Owner count and members in no group.

    ``groups_known`` is False when the groups could not be read: a member whose groups are
    empty is then not judged (the audit does not know).
    """
    listed = list(members)
    owners = [m.username for m in listed if m.role == "owner"]
    findings: list[Finding] = []
    if not owners:
        findings.append(
            Finding(
                severity=Severity.CRITICAL,
                code=FindingCode.NO_OWNER,
                subject=org,
                reason=f"none of the {len(listed)} members listed is an owner: nobody can "
                "manage members or roles",
            )
        )
    elif len(owners) == 1:
        findings.append(
            Finding(
                severity=Severity.WARNING,
                code=FindingCode.SINGLE_OWNER,
                subject=org,
                reason=f"{owners[0]} is the only owner: if that account is lost, nobody can "
                "manage the organization; make a second member an owner",
            )
        )
    if groups_known:
        for member in listed:
            if not member.groups:
                findings.append(
                    Finding(
                        severity=Severity.INFO,
                        code=FindingCode.MEMBER_IN_NO_GROUP,
                        subject=member.username,
                        reason=f"{member.username} ({member.role}) is in no group: access "
                        "given member by member is hard to review; add them to a team",
                    )
                )
    return findings


def judge_invites(
    invites: Iterable[InviteAccess], *, now: datetime, policy: AccessPolicy
) -> list[Finding]:
    """Invitations pending for more than ``policy.invite_age_days``."""
    findings = []
    for invite in invites:
        if invite.created_at is None:
            continue
        days = age_days(invite.created_at, now)
        if days > policy.invite_age_days:
            findings.append(
                Finding(
                    severity=Severity.WARNING,
                    code=FindingCode.INVITE_OLD,
                    subject=invite.invitee,
                    reason=f"invited {days} days ago ({_day(invite.created_at)}) and still "
                    f"pending (more than {policy.invite_age_days}); cancel or resend "
                    f"invite {invite.id}",
                )
            )
    return findings


def judge_token(token: TokenAccess, *, now: datetime, policy: AccessPolicy) -> list[Finding]:
    """The flags of one token: inactive; expired; else never used or unused for too long,
    and no expiry or expiring soon."""
    name = f"{token.kind} token {token.label!r} ({token.id})"

    def finding(severity: Severity, code: FindingCode, reason: str) -> Finding:
        return Finding(severity=severity, code=code, subject=token.label, reason=reason)

    if token.is_active is False:
        return [
            finding(
                Severity.INFO,
                FindingCode.TOKEN_INACTIVE,
                f"{name} is deactivated; delete it if it is no longer needed",
            )
        ]
    if token.expires_at is not None and token.expires_at <= now:
        return [
            finding(
                Severity.INFO,
                FindingCode.TOKEN_EXPIRED,
                f"{name} expired on {_day(token.expires_at)}; it no longer works, delete it",
            )
        ]
    findings = []
    if token.last_used_at is None:
        made = (
            f", created {age_days(token.created_at, now)} days ago"
            if token.created_at is not None
            else ""
        )
        findings.append(
            finding(
                Severity.WARNING,
                FindingCode.TOKEN_NEVER_USED,
                f"{name} has never been used{made}; revoke it if nobody needs it",
            )
        )
    else:
        idle = age_days(token.last_used_at, now)
        if idle > policy.unused_days:
            findings.append(
                finding(
                    Severity.WARNING,
                    FindingCode.TOKEN_UNUSED,
                    f"{name} was last used {idle} days ago ({_day(token.last_used_at)}), "
                    f"more than {policy.unused_days}; revoke it if nobody needs it",
                )
            )
    if token.expires_at is None:
        findings.append(
            finding(
                Severity.WARNING,
                FindingCode.TOKEN_NO_EXPIRY,
                f"{name} never expires; replace it with one that does",
            )
        )
    else:
        left = age_days(now, token.expires_at)
        if left < policy.expiring_days:
            findings.append(
                finding(
                    Severity.WARNING,
                    FindingCode.TOKEN_EXPIRING,
                    f"{name} expires in {left} days ({_day(token.expires_at)}), within "
                    f"{policy.expiring_days}; make its replacement now",
                )
            )
    return findings


def judge_tokens(
    tokens: Iterable[TokenAccess], *, now: datetime, policy: AccessPolicy
) -> list[Finding]:
    """:func:`judge_token` over every token."""
    return [f for token in tokens for f in judge_token(token, now=now, policy=policy)]


def unreadable(
    subject: str, what: str, error: BaseException, *, whole_org: bool = False
) -> Finding:
    """A finding for what could not be read: the whole organization ``subject`` (critical)
    or a part of one (warning; ``subject`` names the part, ``what`` says it in words).
    ``error`` says why (its message, with the status)."""
    why = " ".join((str(error) or type(error).__name__).split())
    if whole_org:
        return Finding(
            severity=Severity.CRITICAL,
            code=FindingCode.ORG_UNREADABLE,
            subject=subject,
            reason=f"these credentials cannot read organization {subject} ({why}); "
            "nothing of it was audited",
        )
    return Finding(
        severity=Severity.WARNING,
        code=FindingCode.SECTION_UNREADABLE,
        subject=subject,
        reason=f"could not read {what} ({why}); that part is not audited",
    )


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first, then by code and subject (a stable order for reports)."""
    return tuple(sorted(findings, key=lambda f: (-f.severity.rank, f.code.value, f.subject)))
