"""Organization administration commands: ``members``, ``groups``, ``invites``, ``org-tokens``
and ``repos create``.

Every listing takes ``--format table|json|csv``. Whatever removes or reduces access (``rm``,
``rm-member``, ``set-role``, ``revoke``, ``deactivate``) asks for confirmation on the
terminal, or takes ``--yes``. A new organization token's secret is printed once, on stdout,
and never taken from an argument.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

import click

from ..models.org_access_tokens import OrgAccessToken, OrgAccessTokenResource
from ..resources.orgs import ROLES, Role
from ._common import (
    EXIT_OK,
    Connection,
    connection_options,
    format_option,
    parse_repository,
    parse_when,
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


def _rows(fmt: str, columns: list[str], title: str, rows: Iterable[dict[str, Any]]) -> None:
    sink = row_sink(fmt, sys.stdout, columns, title=title)
    for row in rows:
        sink.add(row)
    sink.close()


def _said(message: str) -> int:
    """Say what was done (on stderr); the command succeeded."""
    click.echo(message, err=True)
    return EXIT_OK


# ---------------------------------------------------------------------------- members

_MEMBER_COLUMNS = ["username", "full_name", "email", "role", "groups", "date_joined"]


@click.group()
def members() -> None:
    """Members of an organization and their roles."""


@members.command("ls")
@connection_options
@click.argument("org")
@click.option("--role", type=click.Choice(ROLES), help="Only members with this role.")
@click.option("--search", help="Only members whose name or e-mail contains this.")
@click.option("--invites", is_flag=True, help="Also list pending invitees (role Invitee).")
@format_option
def members_ls(
    connection: Connection,
    org: str,
    role: str | None,
    search: str | None,
    invites: bool,
    fmt: str,
) -> None:
    """List the members of ORG with their roles and groups."""

    async def main() -> int:
        async with connection.client() as hub:
            listing = hub.orgs.members(
                org, role=cast(Role | None, role), search=search, invites=invites or None
            )
            sink = row_sink(fmt, sys.stdout, _MEMBER_COLUMNS, title=f"Members of {org}")
            async for m in listing:
                sink.add(
                    {
                        "username": m.username,
                        "full_name": m.full_name,
                        "email": m.email,
                        "role": m.role.value if m.role is not None else None,
                        "groups": list(m.groups),
                        "date_joined": m.date_joined,
                    }
                )
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@members.command("export")
@connection_options
@click.argument("org")
@format_option
def members_export(connection: Connection, org: str, fmt: str) -> None:
    """Hub's export of every member and invitee of ORG (names, e-mails, roles, teams)."""
    columns = ["name", "username", "email", "type", "role", "teams", "date_joined"]

    async def main() -> int:
        async with connection.client() as hub:
            rows = await hub.orgs.export_members(org)
        _rows(
            fmt,
            columns,
            f"Members of {org}",
            (
                {
                    "name": r.name,
                    "username": r.username,
                    "email": r.email,
                    "type": r.type,
                    "role": r.role,
                    "teams": list(r.teams),
                    "date_joined": r.date_joined,
                }
                for r in rows
            ),
        )
        return EXIT_OK

    run(connection.debug, main)


@members.command("set-role")
@connection_options
@click.argument("org")
@click.argument("user", metavar="USERNAME")
@click.argument("role", type=click.Choice(ROLES))
@_yes_option
def members_set_role(connection: Connection, org: str, user: str, role: str, yes: bool) -> None:
    """Give USERNAME the role ROLE in ORG (owners only)."""
    _confirm(connection, yes, f"Make {user} {'an' if role == 'owner' else 'a'} {role} of {org}?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.orgs.update_member_role(org, user, cast(Role, role))
        return _said(f"{user} is now {role} of {org}")

    run(connection.debug, main)


@members.command("rm")
@connection_options
@click.argument("org")
@click.argument("user", metavar="USERNAME")
@_yes_option
def members_rm(connection: Connection, org: str, user: str, yes: bool) -> None:
    """Remove USERNAME from ORG and all its groups (owners only; not the last owner)."""
    _confirm(connection, yes, f"Remove {user} from {org} and all its groups?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.orgs.remove_member(org, user)
        return _said(f"removed {user} from {org}")

    run(connection.debug, main)


# ----------------------------------------------------------------------------- groups


@click.group()
def groups() -> None:
    """Groups (teams) of an organization and their members."""


@groups.command("ls")
@connection_options
@click.argument("org")
@click.option("--search", help="Only groups whose name contains this.")
@format_option
def groups_ls(connection: Connection, org: str, search: str | None, fmt: str) -> None:
    """List the groups of ORG."""
    columns = ["name", "id", "members", "description"]

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, columns, title=f"Groups of {org}")
            async for g in hub.groups.list(org, search=search):
                sink.add(
                    {
                        "name": g.name,
                        "id": g.id,
                        "members": g.member_count,
                        "description": g.description,
                    }
                )
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@groups.command("create")
@connection_options
@click.argument("org")
@click.argument("name")
@click.option("--description", help="What the group is for.")
def groups_create(connection: Connection, org: str, name: str, description: str | None) -> None:
    """Create the group NAME in ORG."""

    async def main() -> int:
        async with connection.client() as hub:
            group = await hub.groups.create(org, name, description=description)
        return _said(f"created group {group.name} in {org} (id {group.id})")

    run(connection.debug, main)


@groups.command("rm")
@connection_options
@click.argument("org")
@click.argument("name")
@_yes_option
def groups_rm(connection: Connection, org: str, name: str, yes: bool) -> None:
    """Delete the group NAME of ORG (its members stay in the organization)."""
    _confirm(connection, yes, f"Delete group {name} of {org}?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.groups.delete(org, name)
        return _said(f"deleted group {name} of {org}")

    run(connection.debug, main)


@groups.command("members")
@connection_options
@click.argument("org")
@click.argument("name")
@format_option
def groups_members(connection: Connection, org: str, name: str, fmt: str) -> None:
    """List the members of the group NAME of ORG."""
    columns = ["username", "full_name", "email"]

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, columns, title=f"Members of {org}/{name}")
            async for m in hub.groups.members(org, name):
                sink.add({"username": m.username, "full_name": m.full_name, "email": m.email})
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


@groups.command("add-member")
@connection_options
@click.argument("org")
@click.argument("name")
@click.argument("member")
def groups_add_member(connection: Connection, org: str, name: str, member: str) -> None:
    """Add MEMBER (a Docker ID or e-mail of an ORG member) to the group NAME."""

    async def main() -> int:
        async with connection.client() as hub:
            await hub.groups.add_member(org, name, member)
        return _said(f"added {member} to group {name} of {org}")

    run(connection.debug, main)


@groups.command("rm-member")
@connection_options
@click.argument("org")
@click.argument("name")
@click.argument("user", metavar="USERNAME")
@_yes_option
def groups_rm_member(connection: Connection, org: str, name: str, user: str, yes: bool) -> None:
    """Remove USERNAME from the group NAME (not from the organization)."""
    _confirm(connection, yes, f"Remove {user} from group {name} of {org}?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.groups.remove_member(org, name, user)
        return _said(f"removed {user} from group {name} of {org}")

    run(connection.debug, main)


# ---------------------------------------------------------------------------- invites


@click.group()
def invites() -> None:
    """Pending invitations to an organization."""


@invites.command("ls")
@connection_options
@click.argument("org")
@format_option
def invites_ls(connection: Connection, org: str, fmt: str) -> None:
    """List the pending invitations of ORG, oldest first."""
    columns = ["id", "invitee", "inviter", "team", "role", "created_at"]

    async def main() -> int:
        async with connection.client() as hub:
            found = await hub.orgs.invites(org)
        oldest = datetime.min.replace(tzinfo=UTC)
        _rows(
            fmt,
            columns,
            f"Invitations to {org}",
            (
                {
                    "id": i.id,
                    "invitee": i.invitee,
                    "inviter": i.inviter_username,
                    "team": i.team,
                    "role": i.role,
                    "created_at": i.created_at,
                }
                for i in sorted(found, key=lambda i: i.created_at or oldest)
            ),
        )
        return EXIT_OK

    run(connection.debug, main)


@invites.command("rm")
@connection_options
@click.argument("invite_id", metavar="INVITE_ID")
@_yes_option
def invites_rm(connection: Connection, invite_id: str, yes: bool) -> None:
    """Cancel the invitation INVITE_ID (from `hubasync invites ls`)."""
    _confirm(connection, yes, f"Cancel invitation {invite_id}?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.invites.delete(invite_id)
        return _said(f"cancelled invitation {invite_id}")

    run(connection.debug, main)


@invites.command("resend")
@connection_options
@click.argument("invite_id", metavar="INVITE_ID")
def invites_resend(connection: Connection, invite_id: str) -> None:
    """Send the invitation INVITE_ID's e-mail again."""

    async def main() -> int:
        async with connection.client() as hub:
            await hub.invites.resend(invite_id)
        return _said(f"resent invitation {invite_id}")

    run(connection.debug, main)


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
@format_option
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

    async def main() -> int:
        async with connection.client() as hub:
            results = await hub.invites.bulk(
                org, wanted, team=team, role=cast(Role | None, role), dry_run=dry_run
            )
        _rows(
            fmt,
            ["invitee", "status", "invite_id"],
            f"{'Dry run: ' if dry_run else ''}invitations to {org}",
            (
                {
                    "invitee": r.invitee,
                    "status": r.status,
                    "invite_id": r.invite.id if r.invite is not None else None,
                }
                for r in results
            ),
        )
        return EXIT_OK

    run(connection.debug, main)


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
@format_option
def org_tokens_ls(connection: Connection, org: str, fmt: str) -> None:
    """List the access tokens of ORG (never their secret values)."""

    async def main() -> int:
        async with connection.client() as hub:
            sink = row_sink(fmt, sys.stdout, _ORG_TOKEN_COLUMNS, title=f"Access tokens of {org}")
            async for token in hub.org_access_tokens.list(org):
                sink.add(_org_token_row(token))
            sink.close()
        return EXIT_OK

    run(connection.debug, main)


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
@click.option(
    "--expires-at",
    metavar="DATE",
    help="When the token stops working (a date, a date-time, or 30d from now).",
)
@format_option
def org_tokens_create(
    connection: Connection,
    org: str,
    label: str,
    resources: tuple[str, ...],
    description: str | None,
    expires_at: str | None,
    fmt: str,
) -> None:
    """Create a token of ORG labelled LABEL and print its value (shown this once only)."""
    try:
        wanted = [parse_resource(r, org) for r in resources]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--resource") from None
    expiry: datetime | None = None
    if expires_at is not None:
        try:
            expiry = parse_when(expires_at, datetime.now(UTC), future=True)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expires-at") from None

    async def main() -> int:
        async with connection.client() as hub:
            token = await hub.org_access_tokens.create(
                org, label, wanted, description=description, expires_at=expiry
            )
        if fmt == "table":
            click.echo(token.token)
            click.echo(
                f"created token {token.id} ({token.label}) of {org}: store the value now, "
                "Hub never shows it again",
                err=True,
            )
        else:
            _rows(
                fmt,
                [*_ORG_TOKEN_COLUMNS, "token"],
                "",
                [{**_org_token_row(token), "token": token.token}],
            )
        return EXIT_OK

    run(connection.debug, main)


@org_tokens.command("revoke")
@connection_options
@click.argument("org")
@click.argument("token_id", metavar="TOKEN_ID")
@_yes_option
def org_tokens_revoke(connection: Connection, org: str, token_id: str, yes: bool) -> None:
    """Delete the token TOKEN_ID of ORG for good."""
    _confirm(connection, yes, f"Delete token {token_id} of {org} for good?")

    async def main() -> int:
        async with connection.client() as hub:
            await hub.org_access_tokens.delete(org, token_id)
        return _said(f"revoked token {token_id} of {org}")

    run(connection.debug, main)


@org_tokens.command("deactivate")
@connection_options
@click.argument("org")
@click.argument("token_id", metavar="TOKEN_ID")
@_yes_option
def org_tokens_deactivate(connection: Connection, org: str, token_id: str, yes: bool) -> None:
    """Turn the token TOKEN_ID of ORG off (it can be turned on again in Hub)."""
    _confirm(connection, yes, f"Deactivate token {token_id} of {org}?")

    async def main() -> int:
        async with connection.client() as hub:
            token = await hub.org_access_tokens.update(org, token_id, is_active=False)
        return _said(f"deactivated token {token.id} ({token.label}) of {org}")

    run(connection.debug, main)


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

    async def main() -> int:
        async with connection.client() as hub:
            repo = await hub.repositories.create(
                namespace,
                name,
                description=description,
                full_description=full_description,
                is_private=private,
            )
        visibility = "private" if repo.is_private else "public"
        return _said(f"created {visibility} repository {namespace}/{repo.name}")

    run(connection.debug, main)
