"""The records of an access audit: findings and what was read, per organization.

Plain data (attrs, frozen): :mod:`hubasync._access_rules` judges them, :mod:`hubasync.access`
fills them from Hub. Re-exported by :mod:`hubasync.access`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

__all__ = [
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
]


class Severity(StrEnum):
    """How urgent a finding is (compare with :meth:`rank`)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class FindingCode(StrEnum):
    """What a finding is about (the stable key for scripts)."""

    #: The organization could not be read at all (403, 404, ...): the audit is blind there.
    ORG_UNREADABLE = "org-unreadable"
    #: One part of the organization (its invites, a group's members...) could not be read.
    SECTION_UNREADABLE = "section-unreadable"
    #: The organization has exactly one owner: losing that account locks everyone out.
    SINGLE_OWNER = "single-owner"
    #: No member of the organization is listed as an owner.
    NO_OWNER = "no-owner"
    #: A member belongs to no group (team).
    MEMBER_IN_NO_GROUP = "member-in-no-group"
    #: An invitation has been pending longer than the policy allows.
    INVITE_OLD = "invite-old"
    #: An active token has never been used.
    TOKEN_NEVER_USED = "token-never-used"
    #: An active token has not been used for longer than the policy allows.
    TOKEN_UNUSED = "token-unused"
    #: An active token never expires.
    TOKEN_NO_EXPIRY = "token-no-expiry"
    #: A token's expiry date has passed.
    TOKEN_EXPIRED = "token-expired"
    #: An active token expires within the policy's window.
    TOKEN_EXPIRING = "token-expiring"
    #: A token is deactivated (it cannot be used, but still exists).
    TOKEN_INACTIVE = "token-inactive"


@attrs.frozen(kw_only=True)
class Finding:
    """Something an administrator should look at.

    Attributes:
        severity: how urgent it is.
        code: what kind of finding it is.
        subject: what it is about: the organization, a username, a token's label, an
            invitee, or the part of the report that could not be read.
        reason: one sentence a person can act on.
    """

    severity: Severity
    code: FindingCode
    subject: str
    reason: str


@attrs.frozen(kw_only=True)
class AccessPolicy:
    """The thresholds an audit judges by (all in days).

    Attributes:
        unused_days: a token not used for more days than this is flagged.
        expiring_days: a token expiring within this many days is flagged.
        invite_age_days: an invite pending for more days than this is flagged.
    """

    unused_days: int = 90
    expiring_days: int = 30
    invite_age_days: int = 30

    def __attrs_post_init__(self) -> None:
        for name in ("unused_days", "expiring_days", "invite_age_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of days >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class MemberAccess:
    """A member of an organization and where it belongs.

    Attributes:
        username: the Docker ID.
        role: ``owner``, ``editor`` or ``member`` (lower case; Hub's other values kept).
        groups: the groups (teams) the member is in, sorted.
        email: the address, when Hub shows it (to owners).
    """

    username: str
    role: str
    groups: tuple[str, ...] = ()
    email: str | None = None


@attrs.frozen(kw_only=True)
class GroupAccess:
    """A group (team) of an organization.

    Hub's API has no way to read a group's repository permissions (it can only grant one),
    so they are not here; :attr:`OrgAccessAudit.notes` says so.

    Attributes:
        name: the group's name.
        members: its members' usernames, sorted; ``None`` if they could not be read.
        description: its description.
    """

    name: str
    members: tuple[str, ...] | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class InviteAccess:
    """A pending invitation.

    Attributes:
        id: the invite's id (what ``hub.invites.delete`` takes).
        invitee: the Docker ID or e-mail address invited.
        inviter: who sent it.
        team: the team it adds the invitee to.
        role: the role it gives, when Hub says.
        created_at: when it was sent.
        age_days: whole days it has been pending at the audit's instant (``None``
            without ``created_at``).
    """

    id: str
    invitee: str
    inviter: str | None = None
    team: str | None = None
    role: str | None = None
    created_at: datetime | None = None
    age_days: int | None = None


class TokenKind(StrEnum):
    """Whose token it is."""

    ORGANIZATION = "organization"
    PERSONAL = "personal"


@attrs.frozen(kw_only=True)
class TokenAccess:
    """An access token, organization (``dckr_oat_``) or personal (``dckr_pat_``).

    Attributes:
        kind: organization or personal.
        id: its id (UUID).
        label: its friendly name.
        scopes: what it may do: ``repo:read`` for a personal token, ``<scope> on <path>``
            for an organization token; ``None`` if its details could not be read.
        is_active: whether it can be used.
        created_at: when it was made.
        created_by: who made it (organization tokens).
        expires_at: when it stops working; ``None`` means never.
        last_used_at: when it was last used; ``None`` means never.
    """

    kind: TokenKind
    id: str
    label: str
    scopes: tuple[str, ...] | None = None
    is_active: bool | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


class ReportKind(StrEnum):
    """What a report section covers."""

    ORGANIZATION = "organization"
    PERSONAL = "personal"


@attrs.frozen(kw_only=True)
class OrgAccessAudit:
    """The access audit of one organization (or, with ``kind=personal``, of the user's own
    personal access tokens).

    A part that could not be read is ``None`` (or empty) and a finding says why.

    Attributes:
        org: the organization (``None`` for the personal section).
        kind: organization or personal.
        audited_at: the instant the findings were judged at.
        members: the members and their roles (``None``: not read).
        owners: how many owners it has (``None``: members not read).
        groups: its groups and their members (``None``: not read).
        invites: its pending invitations (``None``: not read).
        tokens: its access tokens (``None``: not read).
        findings: what an administrator should look at, most severe first.
        notes: what the audit could not see by design (not findings).
    """

    org: str | None
    kind: ReportKind = ReportKind.ORGANIZATION
    audited_at: datetime
    members: tuple[MemberAccess, ...] | None = None
    owners: int | None = None
    groups: tuple[GroupAccess, ...] | None = None
    invites: tuple[InviteAccess, ...] | None = None
    tokens: tuple[TokenAccess, ...] | None = None
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The organization's name, or ``personal`` for the personal section."""
        return self.org if self.org is not None else "personal"

    @property
    def readable(self) -> bool:
        """False when the organization could not be read at all."""
        return not any(f.code is FindingCode.ORG_UNREADABLE for f in self.findings)

    @property
    def worst(self) -> Severity | None:
        """The most severe finding's severity (``None`` without findings)."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)
