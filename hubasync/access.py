"""Access audit across organizations: who can do what, and what needs attention.

:func:`audit_access` reads, for each organization, its members and roles, its groups
(teams) and their members, its pending invitations and its access tokens, and judges them
(pure functions, re-exported here: :func:`judge_members`, :func:`judge_invites`,
:func:`judge_token`). It also reports the user's own personal access tokens the same way.
Organizations are audited concurrently under the client's shared rate budget::

    async with HubClient.from_env() as hub:
        async for report in audit_access(hub, ["myorg", "otherorg"]):
            for finding in report.findings:
                print(report.name, finding.severity, finding.code, finding.reason)

An organization these credentials cannot read is a report with an ``org-unreadable``
finding, never skipped; a part that cannot be read (say, the invites of an organization
where the user is not an owner) is a ``section-unreadable`` finding.

What Hub does not offer is said in :attr:`OrgAccessAudit.notes`: Hub's API can grant a
group a permission on a repository but has no way to read it back, so those permissions
are not part of the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Iterable,
)
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

import attrs

from . import _validate as v
from ._access_report import (
    AccessPolicy,
    Finding,
    FindingCode,
    GroupAccess,
    InviteAccess,
    MemberAccess,
    OrgAccessAudit,
    ReportKind,
    Severity,
    TokenAccess,
    TokenKind,
)
from ._access_rules import (
    age_days,
    judge_invites,
    judge_members,
    judge_token,
    judge_tokens,
    sort_findings,
    unreadable,
)
from .audit import ends_run
from .errors import HubError
from .fanout import fan_out

if TYPE_CHECKING:
    from ._client import HubClient
    from .models.access_tokens import AccessToken
    from .models.invites import Invite
    from .models.org_access_tokens import OrgAccessToken
    from .models.orgs import OrgMember

__all__ = [
    "GROUP_PERMISSIONS_NOTE",
    "AccessPolicy",
    "Finding",
    "FindingCode",
    "GroupAccess",
    "InviteAccess",
    "MemberAccess",
    "OrgAccessAudit",
    "ReportKind",
    "Severity",
    "TokenAccess",
    "TokenKind",
    "audit_access",
    "judge_invites",
    "judge_members",
    "judge_token",
    "judge_tokens",
    "org_report",
    "org_token_access",
    "personal_token_access",
]

T = TypeVar("T")

#: Said in every organization's :attr:`OrgAccessAudit.notes`.
GROUP_PERMISSIONS_NOTE = (
    "groups' repository permissions are not reported: Hub's API can grant one "
    "(POST /v2/repositories/{namespace}/{repository}/groups) but offers no way to read them"
)


def org_token_access(token: OrgAccessToken, *, detailed: bool) -> TokenAccess:
    """An organization token as the report shows it; ``detailed`` when ``token`` came from
    ``get`` (the list leaves out the resources, so its scopes are then unknown)."""
    scopes: tuple[str, ...] | None = None
    if detailed:
        scopes = tuple(
            f"{scope} on {resource.path}"
            for resource in token.resources
            for scope in resource.scopes
        )
    return TokenAccess(
        kind=TokenKind.ORGANIZATION,
        id=token.id,
        label=token.label or token.id,
        scopes=scopes,
        is_active=token.is_active,
        created_at=token.created_at,
        created_by=token.created_by,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def personal_token_access(token: AccessToken) -> TokenAccess:
    """A personal access token as the report shows it."""
    return TokenAccess(
        kind=TokenKind.PERSONAL,
        id=token.uuid,
        label=token.token_label or token.uuid,
        scopes=tuple(token.scopes),
        is_active=token.is_active,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used,
    )


class _Reader:
    """Reads the parts of one report at once; a part that fails becomes a finding.

    An error that ends the whole run (refused credentials, a failed login) is kept and
    raised by :meth:`raise_fatal` once every part has finished, so no read is left running.
    """

    def __init__(self, org: str | None) -> None:
        self.org = org  # None: the user's own (personal) data
        self.failures: list[tuple[str, BaseException]] = []
        self.fatal: BaseException | None = None

    async def read(self, part: str, call: Awaitable[T]) -> T | None:
        """``call``'s result, or ``None`` when it failed (``part`` names what it reads)."""
        try:
            return await call
        except (HubError, ValueError) as exc:
            if ends_run(exc):
                self.fatal = self.fatal or exc
            else:
                self.failures.append((part, exc))
            return None

    def raise_fatal(self) -> None:
        if self.fatal is not None:
            raise self.fatal

    def findings(self) -> list[Finding]:
        """A ``section-unreadable`` finding per part that failed (its subject is the part)."""
        return [
            unreadable(part, f"the {part} of {self.org}" if self.org else f"your {part}", exc)
            for part, exc in self.failures
        ]


async def _listed(items: AsyncIterable[T]) -> list[T]:
    return [item async for item in items]


async def _audit_org(
    hub: HubClient, org: str, *, policy: AccessPolicy, now: datetime
) -> OrgAccessAudit:
    reader = _Reader(org)
    members, groups, invites, tokens = await asyncio.gather(
        reader.read("members", _listed(hub.orgs.members(org))),
        reader.read("groups", _listed(hub.groups.list(org))),
        reader.read("invites", hub.orgs.invites(org)),
        reader.read("access tokens", _listed(hub.org_access_tokens.list(org))),
    )
    reader.raise_fatal()
    if members is None and groups is None and invites is None and tokens is None:
        # nothing readable: one finding for the organization, with the first reason
        return OrgAccessAudit(
            org=org,
            audited_at=now,
            findings=(unreadable(org, org, reader.failures[0][1], whole_org=True),),
        )
    listed_groups = list(groups or ())
    listed_tokens = list(tokens or ())
    group_members, details = await asyncio.gather(
        asyncio.gather(
            *(
                reader.read(
                    f"members of group {g.name}",
                    _listed(_usernames(hub, org, g.name)),
                )
                for g in listed_groups
            )
        ),
        asyncio.gather(
            *(
                reader.read(
                    f"scopes of token {t.label or t.id}",
                    hub.org_access_tokens.get(org, t.id),
                )
                for t in listed_tokens
            )
        ),
    )
    reader.raise_fatal()
    members_of = {g.name: names for g, names in zip(listed_groups, group_members, strict=True)}
    detail_of = {t.id: detail for t, detail in zip(listed_tokens, details, strict=True)}
    group_records = (
        None
        if groups is None
        else tuple(
            GroupAccess(
                name=g.name,
                description=g.description or None,
                members=_sorted_or_none(members_of[g.name]),
            )
            for g in groups
        )
    )
    token_records = (
        None if tokens is None else tuple(_org_token(t, detail_of[t.id]) for t in tokens)
    )
    return org_report(
        org,
        now=now,
        policy=policy,
        members=None if members is None else [_member(m) for m in members],
        groups=group_records,
        invites=None if invites is None else [_invite(i, now) for i in invites],
        tokens=token_records,
        extra=reader.findings(),
    )


def org_report(
    org: str,
    *,
    now: datetime,
    policy: AccessPolicy,
    members: Iterable[MemberAccess | None] | None,
    groups: Iterable[GroupAccess] | None,
    invites: Iterable[InviteAccess] | None,
    tokens: Iterable[TokenAccess] | None,
    extra: Iterable[Finding] = (),
) -> OrgAccessAudit:
    """An organization's report from what was read (``None``: that part could not be read,
    ``extra`` says why): members get the groups that list them, then everything is judged.
    Pure: no I/O.

    A member entry of ``None`` (an invitee in the member list) is left out.
    """
    group_records = None if groups is None else tuple(sorted(groups, key=lambda g: g.name))
    findings: list[Finding] = list(extra)
    member_records: tuple[MemberAccess, ...] | None = None
    if members is not None:
        in_groups: dict[str, set[str]] = {}
        for group in group_records or ():
            for name in group.members or ():
                in_groups.setdefault(name, set()).add(group.name)
        member_records = tuple(
            sorted(
                (
                    attrs.evolve(
                        m, groups=tuple(sorted(in_groups.get(m.username, set()) | set(m.groups)))
                    )
                    for m in members
                    if m is not None
                ),
                key=lambda m: m.username,
            )
        )
        # a member counts as grouped if a group lists it or Hub's member entry names one;
        # "in no group" is judged only when every group's members were read
        groups_known = group_records is not None and all(
            g.members is not None for g in group_records
        )
        findings += judge_members(org, member_records, groups_known=groups_known)
    invite_records = None if invites is None else tuple(invites)
    if invite_records is not None:
        findings += judge_invites(invite_records, now=now, policy=policy)
    token_records = None if tokens is None else tuple(tokens)
    if token_records is not None:
        findings += judge_tokens(token_records, now=now, policy=policy)
    return OrgAccessAudit(
        org=org,
        audited_at=now,
        members=member_records,
        owners=None if member_records is None else sum(m.role == "owner" for m in member_records),
        groups=group_records,
        invites=invite_records,
        tokens=token_records,
        findings=sort_findings(findings),
        notes=(GROUP_PERMISSIONS_NOTE,),
    )


def _sorted_or_none(names: list[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(sorted(names))


def _member(member: OrgMember) -> MemberAccess | None:
    role = (member.role.value if member.role is not None else "").lower()
    if not member.username or role == "invitee":
        return None  # a pending invite, reported with the invites
    return MemberAccess(
        username=member.username,
        role=role or "member",
        groups=tuple(sorted(member.groups)),
        email=member.email or None,
    )


def _invite(invite: Invite, now: datetime) -> InviteAccess:
    created = invite.created_at
    return InviteAccess(
        id=invite.id,
        invitee=invite.invitee or invite.id,
        inviter=invite.inviter_username,
        team=invite.team or None,
        role=invite.role,
        created_at=created,
        age_days=age_days(created, now) if created is not None else None,
    )


def _org_token(listed: OrgAccessToken, detail: OrgAccessToken | None) -> TokenAccess:
    return org_token_access(detail or listed, detailed=detail is not None)


async def _usernames(hub: HubClient, org: str, group: str) -> AsyncIterator[str]:
    async for member in hub.groups.members(org, group):
        yield member.username


async def _audit_personal(hub: HubClient, *, policy: AccessPolicy, now: datetime) -> OrgAccessAudit:
    reader = _Reader(None)
    listed = await reader.read("personal access tokens", _listed(hub.access_tokens.list()))
    reader.raise_fatal()
    tokens = None if listed is None else tuple(personal_token_access(t) for t in listed)
    findings = judge_tokens(tokens or (), now=now, policy=policy) + reader.findings()
    return OrgAccessAudit(
        org=None,
        kind=ReportKind.PERSONAL,
        audited_at=now,
        tokens=tokens,
        findings=sort_findings(findings),
    )


def _check_orgs(orgs: Iterable[str]) -> list[str]:
    def org(value: object) -> str:
        return v.namespace(value, param="org")

    return v.names_list(orgs, org, "orgs", "organization names")


def audit_access(
    hub: HubClient,
    orgs: Iterable[str],
    *,
    unused_days: int = 90,
    expiring_days: int = 30,
    invite_age_days: int = 30,
    include_personal_tokens: bool = True,
    concurrency: int | None = None,
    now: datetime | None = None,
) -> AsyncGenerator[OrgAccessAudit, None]:
    """Audit the access to each organization of ``orgs``; yields one
    :class:`OrgAccessAudit` per organization as each finishes (completion order), plus one
    for the user's personal access tokens (``kind=personal``, ``org=None``).

    Args:
        hub: the client; every request shares its concurrency slots and rate budget.
        orgs: the organizations; duplicates are audited once.
        unused_days: flag active tokens not used for more than this many days.
        expiring_days: flag active tokens expiring within this many days.
        invite_age_days: flag invitations pending for more than this many days.
        include_personal_tokens: also report the user's own personal access tokens.
        concurrency: organizations audited at once (default: the client's
            ``max_concurrency``).
        now: the instant to judge at (default: the current time); must be aware.

    Raises:
        ValueError: a bad organization name, threshold, ``concurrency`` or naive ``now``
            (at the call, before anything is sent).
        AuthenticationError: the credentials were refused (the run stops; raised by the
            iteration).
        HubError: a login failed otherwise (the run stops; raised by the iteration).
    """
    names = _check_orgs(orgs)
    policy = AccessPolicy(
        unused_days=unused_days, expiring_days=expiring_days, invite_age_days=invite_age_days
    )
    if not isinstance(include_personal_tokens, bool):
        raise ValueError(
            f"include_personal_tokens must be True or False, got {include_personal_tokens!r}"
        )
    if not names and not include_personal_tokens:
        raise ValueError("nothing to audit: pass organization names (or include_personal_tokens)")
    at = v.check_datetime(now, "now") if now is not None else datetime.now(UTC)
    if concurrency is None:
        concurrency = hub.max_concurrency
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(
            f"concurrency must be an int >= 1 (organizations audited at once), got {concurrency!r}"
        )
    jobs: list[str | None] = [*names, *([None] if include_personal_tokens else [])]
    return _run(hub, jobs, policy=policy, now=at, concurrency=concurrency)


async def _run(
    hub: HubClient,
    jobs: list[str | None],
    *,
    policy: AccessPolicy,
    now: datetime,
    concurrency: int,
) -> AsyncGenerator[OrgAccessAudit, None]:
    async def audit(org: str | None) -> OrgAccessAudit:
        if org is None:
            return await _audit_personal(hub, policy=policy, now=now)
        return await _audit_org(hub, org, policy=policy, now=now)

    async with fan_out(jobs, audit, concurrency=concurrency) as outcomes:
        async for outcome in outcomes:
            if outcome.ok:
                yield outcome.value
                continue
            error = outcome.error
            if ends_run(error) or not isinstance(error, Exception):
                raise error
            org = outcome.item
            if org is None:  # pragma: no cover - _audit_personal turns failures into findings
                raise error
            yield OrgAccessAudit(
                org=org,
                audited_at=now,
                findings=(unreadable(org, org, error, whole_org=True),),
            )
