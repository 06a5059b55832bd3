"""Models of the invite endpoints (``/v2/orgs/{org}/invites``, ``/v2/invites/…``)."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["BulkInviteRequest", "BulkInviteResult", "Invite"]


@attrs.frozen(kw_only=True)
class Invite:
    """A pending invitation to join an organization.

    Attributes:
        id: the invite's id (a UUID): what ``invites.delete``/``resend`` take.
        inviter_username: who sent it.
        invitee: a Docker ID, or an e-mail address for people without an account.
        org: the organization to join.
        team: the team (group) to join.
        role: the role the invitee will have, when Hub says.
        created_at: when it was sent.
    """

    id: str
    inviter_username: str | None = None
    invitee: str | None = None
    org: str | None = None
    team: str | None = None
    role: str | None = None
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class BulkInviteResult:
    """What happened to one invitee of a bulk invite.

    Attributes:
        invitee: the Docker ID or e-mail address as sent.
        status: ``invited``, or why not (e.g. ``existing_org_member``,
            ``invalid_email_or_docker_id``).
        invite: the invite made, when one was.
    """

    invitee: str
    status: str | None = None
    invite: Invite | None = None


@attrs.frozen(kw_only=True)
class BulkInviteRequest:
    """The body of a bulk invite.

    Attributes:
        org: the organization.
        invitees: Docker IDs or e-mail addresses (at most 1,000).
        team: the team (group) to add them to.
        role: ``owner``, ``editor`` or ``member``.
        dry_run: validate only, invite nobody.
    """

    org: str
    invitees: list[str]
    team: str | None = None
    role: str | None = None
    dry_run: bool | None = None
