"""Repository administration: creation, a group's permission, immutable tags."""

from __future__ import annotations

import re

from aiohttp import web

from .._render import repo_info_json
from .._state import ADMIN, Namespace, Principal, Repository
from ._base import NO_PERMISSION, Area, bad_request, detail, json_response

__all__ = ["RepoAdminArea"]

_REPO_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


class RepoAdminArea(Area):
    """``POST /v2/namespaces/{ns}/repositories``, ``…/groups`` and ``…/immutabletags…``."""

    def routes(self, app: web.Application) -> None:
        """Register the repository administration operations."""
        repo = "/v2/namespaces/{namespace}/repositories/{repository}"
        self.add(app, "POST", "/v2/namespaces/{namespace}/repositories", self.create)
        self.add(app, "POST", "/v2/repositories/{namespace}/{repository}/groups", self.group)
        self.add(app, "PATCH", repo + "/immutabletags", self.immutable_update)
        self.add(app, "POST", repo + "/immutabletags/verify", self.immutable_verify)

    def _can_admin(self, who: Principal, ns: Namespace) -> bool:
        """Owners (and an org's editors) administer a namespace's repositories."""
        if ns.level(who) >= ADMIN:
            return True
        data = self.admin.find(ns.name) if who.kind == "user" else None
        return data is not None and data.role(who.sub) == "editor"

    def _namespace(self, request: web.Request) -> tuple[Principal, Namespace]:
        who = self.who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        if ns is None:
            raise detail(404, "Object not found", errinfo={})
        if not self._can_admin(who, ns):
            raise detail(403, NO_PERMISSION, errinfo={})
        return who, ns

    def _repository(self, request: web.Request) -> tuple[Principal, Namespace, Repository]:
        who, ns = self._namespace(request)
        repo = ns.repos.get(request.match_info["repository"])
        if repo is None:
            raise detail(404, "Object not found", errinfo={})
        return who, ns, repo

    async def create(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/namespaces/{ns}/repositories: owners (and org editors) create one."""
        who, ns = self._namespace(request)
        body = self.body(request)
        name = body.get("name")
        if not isinstance(name, str) or not 2 <= len(name) <= 255 or not _REPO_NAME_RE.match(name):
            raise bad_request(
                "name must be 2 to 255 lowercase letters, digits and single '.', '_' or '-' "
                "separators",
                "name",
            )
        if body.get("namespace") != ns.name:
            raise bad_request(
                f"namespace must be {ns.name!r}, the namespace in the path", "namespace"
            )
        description = body.get("description", "")
        full_description = body.get("full_description", "")
        is_private = body.get("is_private", False)
        for field, value, most in (
            ("description", description, 100),
            ("full_description", full_description, 25_000),
        ):
            if not isinstance(value, str) or len(value) > most:
                raise bad_request(f"{field} must be a string of at most {most} characters", field)
        if not isinstance(is_private, bool):
            raise bad_request("is_private must be a boolean", "is_private")
        if not isinstance(body.get("registry", "docker.io"), str):
            raise bad_request("registry must be a string", "registry")
        if name in ns.repos:
            raise bad_request(f"repository {ns.name}/{name} already exists", "name")
        repo = self.state.add_repository(
            ns.name,
            name,
            is_private=is_private,
            description=description,
            full_description=full_description,
            pull_count=0,
            star_count=0,
            created=self.now(),
            actor=self.actor(who),
        )
        return json_response(201, repo_info_json(repo, ADMIN))

    async def group(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/repositories/{ns}/{repo}/groups: grant a team read, write or admin."""
        _, ns, repo = self._repository(request)
        body = self.body(request)
        group_id, permission = body.get("group_id"), body.get("permission")
        if isinstance(group_id, bool) or not isinstance(group_id, int):
            raise bad_request("group_id must be the group's numeric id", "group_id")
        if not isinstance(permission, str):
            raise bad_request("permission must be read, write or admin", "permission")
        if not ns.org:
            raise bad_request(f"{ns.name} is not an organization: it has no groups", "group_id")
        group = self.admin.set_repo_group(ns.name, repo.name, group_id, permission)
        return json_response(
            200, {"group_name": group.name, "permission": permission, "group_id": group.id}
        )

    async def immutable_update(self, request: web.Request) -> web.StreamResponse:
        """PATCH …/immutabletags: ``immutable_tags`` and ``immutable_tags_rules`` (regexes).

        Turning the feature off drops the rules; matching tags can no longer be deleted
        or moved while it is on.
        """
        _, _, repo = self._repository(request)
        body = self.body(request)
        enabled, rules = body.get("immutable_tags"), body.get("immutable_tags_rules")
        if not isinstance(enabled, bool):
            raise bad_request("immutable_tags must be a boolean", "immutable_tags")
        if not isinstance(rules, list) or not all(isinstance(r, str) and r for r in rules):
            raise bad_request(
                "immutable_tags_rules must be a list of regular expressions", "immutable_tags_rules"
            )
        for rule in rules:
            _compile(rule, "immutable_tags_rules")
        if enabled and not rules:
            raise bad_request(
                "immutable_tags_rules must list at least one rule to turn immutable tags on",
                "immutable_tags_rules",
            )
        # One source of truth with tag deletion and pushes: the repository's rules
        # (FakeHub keeps no rules while the feature is off).
        repo.immutable_rules = list(dict.fromkeys(rules)) if enabled else []
        return json_response(200, repo_info_json(repo, ADMIN))

    async def immutable_verify(self, request: web.Request) -> web.StreamResponse:
        """POST …/immutabletags/verify: the repository's tags that ``regex`` matches."""
        _, _, repo = self._repository(request)
        regex = self.body(request).get("regex")
        if not isinstance(regex, str) or not regex:
            raise bad_request("regex is required (a regular expression)", "regex")
        pattern = _compile(regex, "regex")
        return json_response(200, {"tags": sorted(t for t in repo.tags if pattern.fullmatch(t))})


def _compile(rule: str, field: str) -> re.Pattern[str]:
    try:
        return re.compile(rule)
    except re.error as exc:
        raise bad_request(f"{rule!r} is not a valid regular expression: {exc}", field) from None
