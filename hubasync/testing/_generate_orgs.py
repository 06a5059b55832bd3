"""Organization administration data for :meth:`FakeHub.generate`, with planted findings.

An access audit over the first two generated organizations (plus one the generated user
cannot read) should find exactly what :class:`PlantedAccess` names, and nothing else about
them: each org's owners are in its ``owners`` group, its other tokens were used recently
and expire well after a month, its other invite is two days old.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._org_state import OrgAdmin

__all__ = ["PlantedAccess", "plant_access"]

_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class PlantedAccess:
    """What :meth:`FakeHub.generate` planted for an access audit (see the module docstring).

    ``orgs`` are readable by the generated user; ``unreadable_org`` is not (a 403).
    ``single_owner_org`` has one owner; the other findings are in ``orgs[0]``:
    ``never_used_token`` and ``expired_token`` (labels), ``old_invite`` (an invitee
    invited 60 days ago) and ``member_in_no_group`` (a username). ``scim_token`` is
    ``orgs[0]``'s SCIM bearer token.
    """

    orgs: tuple[str, ...]
    unreadable_org: str
    single_owner_org: str
    never_used_token: str
    expired_token: str
    old_invite: str
    member_in_no_group: str
    scim_token: str


def plant_access(
    admin: OrgAdmin, namespaces: tuple[str, ...], *, username: str, now: float
) -> PlantedAccess | None:
    """Seed members, groups, tokens and invites into the first two generated orgs."""
    if len(namespaces) < 2:
        return None
    state = admin.state
    first, second = namespaces[0], namespaces[1]
    days = [now - d * _DAY for d in range(400)]

    admin.add_member(first, username, role="owner", joined=days[300])
    admin.add_member(first, "olivia", role="owner", full_name="Olivia Owner", joined=days[280])
    admin.add_member(first, "eddie", role="editor", full_name="Eddie Editor", joined=days[200])
    admin.add_member(first, "mia", full_name="Mia Member", joined=days[120])
    admin.add_member(first, "nora", full_name="Nora Nogroup", joined=days[30])
    admin.add_group(first, "owners", members=(username, "olivia"), created=days[300])
    developers = admin.add_group(first, "developers", members=("eddie", "mia"), created=days[200])
    repos = sorted(state.namespaces[first].repos)
    if repos:
        admin.set_repo_group(first, repos[0], developers.id, "write")

    def token(org: str, label: str, *, used: float | None, expires: float) -> None:
        made = admin.add_token(
            org,
            label=label,
            description=f"{label} token",
            resources=[{"type": "TYPE_REPO", "path": f"{org}/*", "scopes": ["scope-image-pull"]}],
            created_by=username,
            expires_at=expires,
            created=days[100],
        )
        made.last_used = used

    token(first, "ci-pull", used=days[2], expires=now + 180 * _DAY)
    token(first, "never-used", used=None, expires=now + 180 * _DAY)
    token(first, "expired", used=days[15], expires=days[10])
    admin.add_invite(first, "old-invitee@example.com", inviter=username, created=days[60])
    admin.add_invite(
        first, "new-invitee@example.com", inviter=username, team="developers", created=days[2]
    )
    scim = "scim_generated_" + first.replace("-", "_")
    admin.enable_scim(first, scim)

    admin.add_member(second, username, role="owner", joined=days[250])
    admin.add_member(second, "sam", full_name="Sam Second", joined=days[90])
    admin.add_group(second, "owners", members=(username,), created=days[250])
    admin.add_group(second, "team", members=("sam",), created=days[90])
    token(second, "deploy", used=days[1], expires=now + 365 * _DAY)

    unreadable = f"{first}-restricted"
    if unreadable not in state.namespaces:
        state.add_namespace(unreadable, org=True, members=("olivia",), owners=("olivia",))
    admin.add_group(unreadable, "owners", members=("olivia",), created=days[300])
    return PlantedAccess(
        orgs=(first, second),
        unreadable_org=unreadable,
        single_owner_org=second,
        never_used_token="never-used",
        expired_token="expired",
        old_invite="old-invitee@example.com",
        member_in_no_group="nora",
        scim_token=scim,
    )
