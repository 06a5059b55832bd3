"""Organization administration commands: ``members``, ``groups``, ``invites``, ``org-tokens``
and ``repos create``.

Every listing takes ``--format table|json|jsonl|csv``. Whatever removes or reduces access (``rm``,
``rm-member``, ``set-role``, ``revoke``, ``deactivate``) asks for confirmation on the
terminal, or takes ``--yes``. A new organization token's secret is printed once, on stdout,
and never taken from an argument.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import click

from .._client import HubClient
from ..models.org_access_tokens import OrgAccessToken, OrgAccessTokenResource
from ..resources.orgs import ROLES, Role
from ._common import (
    EXIT_OK,
    Connection,
    connection_options,
    expires_option,
    format_option,
    list_format_option,
    parse_repository,
    run,
)
from ._output import row_sink

__all__ = [
    "groups",
    "invites",
    "members",
    "org_tokens",
    "parse_resource",
    "repos_create",
]

Row = dict[str, Any]


def _yes_option(fn: Any) -> Any:
    return click.option("--yes", "-y", is_flag=True, help="Do it without asking.")(fn)


def _confirm(connection: Connection, yes: bool, question: str) -> None:
    """Ask ``question`` unless ``--yes``; stdin cannot answer when it carries the token."""
    if yes:
        return
    if connection.token_stdin:
        raise click.UsageError(
            "standard input carries the token (--token-stdin), so it cannot answer the "
            "confirmation: pass --yes"
        )
    click.confirm(question, abort=True, err=True)


def _listing(
    connection: Connection,
    fmt: str,
    columns: list[str],
    title: str,
    rows: Callable[[HubClient], AsyncIterator[Row]],
) -> None:
    """Run a listing command: the rows ``rows(hub)`` yields, in ``--format``."""

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, columns, title=title)
            async for row in rows(hub):
                sink.add(row)
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


def _change(
    connection: Connection,
    act: Callable[[HubClient], Awaitable[str]],
    *,
    ask: str | None = None,
    yes: bool = False,
) -> None:
    """Run a command that changes something: confirm ``ask`` (unless ``--yes``), then
    ``act(hub)``, and say on stderr what it returns (what was done)."""
    if ask is not None:
        _confirm(connection, yes, ask)

    async def main() -> int:
        async with connection.client() as hub:
            message = await act(hub)
        click.echo(message, err=True)
        return EXIT_OK

    run(connection.debug, main)


# ---------------------------------------------------------------------------- members

_MEMBER_COLUMNS = ["username", "full_name", "email", "role", "groups", "date_joined"]
_EXPORT_COLUMNS = ["name", "username", "email", "type", "role", "teams", "date_joined"]


@click.group()
def members() -> None:
    """Members of an organization and their roles."""


@members.command("ls")
@connection_options
@click.argument("org")
@click.option("--role", type=click.Choice(ROLES), help="Only members with this role.")
@click.option("--search", help="Only members whose name or e-mail contains this.")
@click.option("--invites", is_flag=True, help="Also list pending invitees (role Invitee).")
@list_format_option
def members_ls(
    connection: Connection,
    org: str,
    role: str | None,
    search: str | None,
    invites: bool,
    fmt: str,
) -> None:
    """List the members of ORG with their roles and groups."""

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        listing = hub.orgs.members(
            org, role=cast(Role | None, role), search=search, invites=invites or None
        )
        async for m in listing:
            yield {
                "username": m.username,
                "full_name": m.full_name,
                "email": m.email,
                "role": m.role.value if m.role is not None else None,
                "groups": list(m.groups),
                "date_joined": m.date_joined,
            }

    _listing(connection, fmt, _MEMBER_COLUMNS, f"Members of {org}", rows)


@members.command("export")
@connection_options
@click.argument("org")
@list_format_option
def members_export(connection: Connection, org: str, fmt: str) -> None:
    """Hub's export of every member and invitee of ORG (names, e-mails, roles, teams)."""

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        for r in await hub.orgs.export_members(org):
            yield {
                "name": r.name,
                "username": r.username,
                "email": r.email,
                "type": r.type,
                "role": r.role,
                "teams": list(r.teams),
                "date_joined": r.date_joined,
            }

    _listing(connection, fmt, _EXPORT_COLUMNS, f"Members of {org}", rows)


@members.command("set-role")
@connection_options
@click.argument("org")
@click.argument("user", metavar="USERNAME")
@click.argument("role", type=click.Choice(ROLES))
@_yes_option
def members_set_role(connection: Connection, org: str, user: str, role: str, yes: bool) -> None:
    """Give USERNAME the role ROLE in ORG (owners only)."""

    async def act(hub: HubClient) -> str:
        await hub.orgs.update_member_role(org, user, cast(Role, role))
        return f"{user} is now {role} of {org}"

    article = "an" if role == "owner" else "a"
    _change(connection, act, ask=f"Make {user} {article} {role} of {org}?", yes=yes)


@members.command("rm")
@connection_options
@click.argument("org")
@click.argument("user", metavar="USERNAME")
@_yes_option
def members_rm(connection: Connection, org: str, user: str, yes: bool) -> None:
    """Remove USERNAME from ORG and all its groups (owners only; not the last owner)."""

    async def act(hub: HubClient) -> str:
        await hub.orgs.remove_member(org, user)
        return f"removed {user} from {org}"

    _change(connection, act, ask=f"Remove {user} from {org} and all its groups?", yes=yes)


# ----------------------------------------------------------------------------- groups


@click.group()
def groups() -> None:
    """Groups (teams) of an organization and their members."""


@groups.command("ls")
@connection_options
@click.argument("org")
@click.option("--search", help="Only groups whose name contains this.")
@list_format_option
def groups_ls(connection: Connection, org: str, search: str | None, fmt: str) -> None:
    """List the groups of ORG."""

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        async for g in hub.groups.list(org, search=search):
            yield {
                "name": g.name,
                "id": g.id,
                "members": g.member_count,
                "description": g.description,
            }

    _listing(connection, fmt, ["name", "id", "members", "description"], f"Groups of {org}", rows)


@groups.command("create")
@connection_options
@click.argument("org")
@click.argument("name")
@click.option("--description", help="What the group is for.")
def groups_create(connection: Connection, org: str, name: str, description: str | None) -> None:
    """Create the group NAME in ORG."""

    async def act(hub: HubClient) -> str:
        group = await hub.groups.create(org, name, description=description)
        return f"created group {group.name} in {org} (id {group.id})"

    _change(connection, act)


@groups.command("rm")
@connection_options
@click.argument("org")
@click.argument("name")
@_yes_option
def groups_rm(connection: Connection, org: str, name: str, yes: bool) -> None:
    """Delete the group NAME of ORG (its members stay in the organization)."""

    async def act(hub: HubClient) -> str:
        await hub.groups.delete(org, name)
        return f"deleted group {name} of {org}"

    _change(connection, act, ask=f"Delete group {name} of {org}?", yes=yes)


@groups.command("members")
@connection_options
@click.argument("org")
@click.argument("name")
@list_format_option
def groups_members(connection: Connection, org: str, name: str, fmt: str) -> None:
    """List the members of the group NAME of ORG."""

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        async for m in hub.groups.members(org, name):
            yield {"username": m.username, "full_name": m.full_name, "email": m.email}

    columns = ["username", "full_name", "email"]
    _listing(connection, fmt, columns, f"Members of {org}/{name}", rows)


@groups.command("add-member")
@connection_options
@click.argument("org")
@click.argument("name")
@click.argument("member")
def groups_add_member(connection: Connection, org: str, name: str, member: str) -> None:
    """Add MEMBER (a Docker ID or e-mail of an ORG member) to the group NAME."""

    async def act(hub: HubClient) -> str:
        await hub.groups.add_member(org, name, member)
        return f"added {member} to group {name} of {org}"

    _change(connection, act)


@groups.command("rm-member")
@connection_options
@click.argument("org")
@click.argument("name")
@click.argument("user", metavar="USERNAME")
@_yes_option
def groups_rm_member(connection: Connection, org: str, name: str, user: str, yes: bool) -> None:
    """Remove USERNAME from the group NAME (not from the organization)."""

    async def act(hub: HubClient) -> str:
        await hub.groups.remove_member(org, name, user)
        return f"removed {user} from group {name} of {org}"

    _change(connection, act, ask=f"Remove {user} from group {name} of {org}?", yes=yes)


# ---------------------------------------------------------------------------- invites


@click.group()
def invites() -> None:
    """Pending invitations to an organization."""


@invites.command("ls")
@connection_options
@click.argument("org")
@list_format_option
def invites_ls(connection: Connection, org: str, fmt: str) -> None:
    """List the pending invitations of ORG, oldest first."""
    columns = ["id", "invitee", "inviter", "team", "role", "created_at"]
    oldest = datetime.min.replace(tzinfo=UTC)

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        found = await hub.orgs.invites(org)
        for i in sorted(found, key=lambda i: i.created_at or oldest):
            yield {
                "id": i.id,
                "invitee": i.invitee,
                "inviter": i.inviter_username,
                "team": i.team,
                "role": i.role,
                "created_at": i.created_at,
            }

    _listing(connection, fmt, columns, f"Invitations to {org}", rows)


@invites.command("rm")
@connection_options
@click.argument("invite_id", metavar="INVITE_ID")
@_yes_option
def invites_rm(connection: Connection, invite_id: str, yes: bool) -> None:
    """Cancel the invitation INVITE_ID (from `hubasync invites ls`)."""

    async def act(hub: HubClient) -> str:
        await hub.invites.delete(invite_id)
        return f"cancelled invitation {invite_id}"

    _change(connection, act, ask=f"Cancel invitation {invite_id}?", yes=yes)


@invites.command("resend")
@connection_options
@click.argument("invite_id", metavar="INVITE_ID")
def invites_resend(connection: Connection, invite_id: str) -> None:
    """Send the invitation INVITE_ID's e-mail again."""

    async def act(hub: HubClient) -> str:
        await hub.invites.resend(invite_id)
        return f"resent invitation {invite_id}"

    _change(connection, act)


@invites.command("bulk")
@connection_options
@click.argument("org")
@click.argument("invitees", nargs=-1, metavar="[INVITEE]...")
@click.option(
    "--file",
    "from_file",
    type=click.File("r", encoding="utf-8"),
    help="Read invitees (Docker IDs or e-mails) from FILE, one a line ('#' comments).",
)
@click.option("--team", help="Add them to this group (team).")
@click.option("--role", type=click.Choice(ROLES), help="Their role (Hub's default: member).")
@click.option("--dry-run", is_flag=True, help="Have Hub check the list without inviting.")
@list_format_option
def invites_bulk(
    connection: Connection,
    org: str,
    invitees: tuple[str, ...],
    from_file: Any,
    team: str | None,
    role: str | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Invite INVITEEs (and those of --file) to ORG at once (at most 1000)."""
    wanted = list(invitees)
    if from_file is not None:
        for line in from_file:
            text = line.split("#", 1)[0].strip()
            if text:
                wanted.append(text)
    if not wanted:
        raise click.UsageError("no invitees: pass Docker IDs or e-mails, or --file FILE")

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        results = await hub.invites.bulk(
            org, wanted, team=team, role=cast(Role | None, role), dry_run=dry_run
        )
        for r in results:
            yield {
                "invitee": r.invitee,
                "status": r.status,
                "invite_id": r.invite.id if r.invite is not None else None,
            }

    title = f"{'Dry run: ' if dry_run else ''}invitations to {org}"
    _listing(connection, fmt, ["invitee", "status", "invite_id"], title, rows)


# ------------------------------------------------------------------------- org tokens

_ORG_TOKEN_COLUMNS = [
    "id",
    "label",
    "active",
    "created_by",
    "created_at",
    "last_used_at",
    "expires_at",
]


def _org_token_row(token: OrgAccessToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "label": token.label,
        "active": token.is_active,
        "created_by": token.created_by,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


def parse_resource(text: str, org: str) -> OrgAccessTokenResource:
    """``PATH=SCOPE[,SCOPE…]`` as a token resource (pure): the organization itself when
    PATH is ORG (``TYPE_ORG``), else a repository path such as ``myorg/app`` or
    ``*/*/public`` (``TYPE_REPO``).

    Raises:
        ValueError: no ``=``, an empty path or no scope.
    """
    path, sep, scopes_text = text.partition("=")
    scopes = [s.strip() for s in scopes_text.split(",") if s.strip()]
    if not sep or not path.strip() or not scopes:
        raise ValueError(
            f"{text!r} is not PATH=SCOPE[,SCOPE]; write e.g. {org}/app=repo-pull,repo-push "
            f"or {org}=member-read"
        )
    path = path.strip()
    return OrgAccessTokenResource(
        type="TYPE_ORG" if path == org else "TYPE_REPO", path=path, scopes=scopes
    )


@click.group("org-tokens")
def org_tokens() -> None:
    """Access tokens of an organization (dckr_oat_…)."""


@org_tokens.command("ls")
@connection_options
@click.argument("org")
@list_format_option
def org_tokens_ls(connection: Connection, org: str, fmt: str) -> None:
    """List the access tokens of ORG (never their secret values)."""

    async def rows(hub: HubClient) -> AsyncIterator[Row]:
        async for token in hub.org_access_tokens.list(org):
            yield _org_token_row(token)

    _listing(connection, fmt, _ORG_TOKEN_COLUMNS, f"Access tokens of {org}", rows)


@org_tokens.command("create")
@connection_options
@click.argument("org")
@click.argument("label")
@click.option(
    "--resource",
    "resources",
    multiple=True,
    required=True,
    metavar="PATH=SCOPES",
    help="What the token may use (repeatable): ORG=SCOPE,… for the organization, "
    "ORG/REPO=repo-pull,… or */*/public=repo-pull for repositories.",
)
@click.option("--description", help="What the token is for.")
@expires_option
@format_option
def org_tokens_create(
    connection: Connection,
    org: str,
    label: str,
    resources: tuple[str, ...],
    description: str | None,
    expires_at: datetime | None,
    fmt: str,
) -> None:
    """Create a token of ORG labelled LABEL and print its value (shown this once only)."""
    try:
        wanted = [parse_resource(r, org) for r in resources]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--resource") from None

    async def main() -> int:
        async with connection.client() as hub:
            token = await hub.org_access_tokens.create(
                org, label, wanted, description=description, expires_at=expires_at
            )
        if fmt == "table":
            click.echo(token.token)
            click.echo(
                f"created token {token.id} ({token.label}) of {org}: store the value now, "
                "Hub never shows it again",
                err=True,
            )
        else:
            sink = row_sink(fmt, sys.stdout, [*_ORG_TOKEN_COLUMNS, "token"])
            sink.add({**_org_token_row(token), "token": token.token})
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@org_tokens.command("revoke")
@connection_options
@click.argument("org")
@click.argument("token_id", metavar="TOKEN_ID")
@_yes_option
def org_tokens_revoke(connection: Connection, org: str, token_id: str, yes: bool) -> None:
    """Delete the token TOKEN_ID of ORG for good."""

    async def act(hub: HubClient) -> str:
        await hub.org_access_tokens.delete(org, token_id)
        return f"revoked token {token_id} of {org}"

    _change(connection, act, ask=f"Delete token {token_id} of {org} for good?", yes=yes)


@org_tokens.command("deactivate")
@connection_options
@click.argument("org")
@click.argument("token_id", metavar="TOKEN_ID")
@_yes_option
def org_tokens_deactivate(connection: Connection, org: str, token_id: str, yes: bool) -> None:
    """Turn the token TOKEN_ID of ORG off (it can be turned on again in Hub)."""

    async def act(hub: HubClient) -> str:
        token = await hub.org_access_tokens.update(org, token_id, is_active=False)
        return f"deactivated token {token.id} ({token.label}) of {org}"

    _change(connection, act, ask=f"Deactivate token {token_id} of {org}?", yes=yes)


# ------------------------------------------------------------------------ repos create


@click.command("create")
@connection_options
@click.argument("target", metavar="NS/REPO")
@click.option("--private", is_flag=True, help="Make it private (default: public).")
@click.option("--description", help="A short description (100 characters at most).")
@click.option("--full-description", help="The overview (Markdown).")
def repos_create(
    connection: Connection,
    target: str,
    private: bool,
    description: str | None,
    full_description: str | None,
) -> None:
    """Create the repository NS/REPO."""
    try:
        namespace, name = parse_repository(target)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NS/REPO") from None

    async def act(hub: HubClient) -> str:
        repo = await hub.repositories.create(
            namespace,
            name,
            description=description,
            full_description=full_description,
            is_private=private,
        )
        visibility = "private" if repo.is_private else "public"
        return f"created {visibility} repository {namespace}/{repo.name}"

    _change(connection, act)
