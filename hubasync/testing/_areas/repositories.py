"""Repositories and their tags: list, get/check, the seed's PATCH, tags, tag deletion."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._http import (
    CONTEXT,
    NO_PERMISSION,
    HubHTTPError,
    bad_request,
    detail,
    json_response,
)
from .._render import repo_entry_json, repo_info_json, tag_json
from .._state import (
    READ,
    WRITE,
    Principal,
    Repository,
    default_active_from,
)
from ._base import Area

__all__ = ["RepositoriesArea"]

_ANON_OFFSET = "pagination offset too large for anonymous requests"
_REPO_ORDERINGS = ("name", "-name", "last_updated", "-last_updated", "pull_count", "-pull_count")


class RepositoriesArea(Area):
    """Repositories and their tags: list, get, check, patch, tag deletion."""

    def routes(self, app: web.Application) -> None:
        """Register this area's operations."""
        repo = "/v2/namespaces/{namespace}/repositories/{repository}"
        self.add(app, "PATCH", "/v2/repositories/{namespace}/{repository}/", self.repo_patch)
        self.add(app, "GET", "/v2/namespaces/{namespace}/repositories", self.repos_list)
        self.add(app, "GET", repo, self.repo_get)
        self.add(app, "GET", repo + "/tags", self.repo_tags)
        self.add(app, "GET", repo + "/tags/{tag}", self.repo_tag)
        self.add(
            app, "DELETE", "/v2/repositories/{namespace}/{repository}/tags/{tag}/", self.tag_delete
        )

    def _visible_repo(self, request: web.Request) -> tuple[Principal | None, int, Repository]:
        who = self.api._maybe_who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        if ns is None or repo is None:
            raise detail(404, "Object not found", errinfo={})
        level = ns.level(who) if who is not None else 0
        if repo.is_private and level < READ:
            if who is None:
                raise detail(404, "Object not found", errinfo={})
            raise detail(403, NO_PERMISSION, errinfo={})
        return who, level, repo

    def _anonymous_offset(self, who: Principal | None, page: int, size: int) -> None:
        if who is None and page * size > 1000:
            raise detail(403, _ANON_OFFSET, errinfo={})

    async def repo_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/repositories/{ns}/{repo}/: description, full_description, is_private."""
        who = self.api._who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        if ns is None or repo is None:
            raise detail(404, "Object not found")
        level = ns.level(who)
        if level < WRITE:
            raise detail(403, NO_PERMISSION)
        body = CONTEXT.get().json
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        changes: dict[str, Any] = {}
        for field, kind in (("description", str), ("full_description", str), ("is_private", bool)):
            if field in body:
                if not isinstance(body[field], kind):
                    raise bad_request(f"{field} must be a {kind.__name__}", field)
                changes[field] = body[field]
        if "description" in changes and len(changes["description"]) > 100:
            raise bad_request("description must be at most 100 characters", "description")
        now = self.now()
        actor = who.sub or "fakehub"
        if "description" in changes or "full_description" in changes:
            repo.description = changes.get("description", repo.description)
            repo.full_description = changes.get("full_description", repo.full_description)
            self.state.record(
                ns.name, "repo.update", repo.full_name, actor, {},
                f"updated the repository {repo.full_name}",
            )  # fmt: skip
        if "is_private" in changes and changes["is_private"] != repo.is_private:
            repo.is_private = changes["is_private"]
            self.state.record(
                ns.name,
                "repo.change_privacy",
                repo.full_name,
                actor,
                {"privacy": "private" if repo.is_private else "public"},
                f"made the repository {repo.full_name} "
                + ("private" if repo.is_private else "public"),
            )
        if changes:
            repo.modified = now
        return json_response(200, repo_info_json(repo, level))

    async def repos_list(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/namespaces/{ns}/repositories: name filter, ordering, Hub's paging rules."""
        who = self.api._maybe_who(request)
        q = request.query
        page, size = self.api._page(request, 10, "drf")
        ordering = q.get("ordering") or "-last_updated"
        if ordering not in _REPO_ORDERINGS:
            raise HubHTTPError(
                400,
                {
                    "fields": {
                        "ordering": [
                            "Invalid ordering value. Must be one of: " + ", ".join(_REPO_ORDERINGS)
                        ]
                    },
                    "text": "Invalid ordering value",
                    "detail": "Invalid ordering value",
                    "message": "Invalid ordering value",
                },
            )
        self._anonymous_offset(who, page, size)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        # Like Hub: an unknown namespace lists as an empty page (not a 404).
        show_private = ns is not None and who is not None and ns.level(who) >= READ
        name = (q.get("name") or "").lower()
        repos = [
            r
            for r in (ns.repos.values() if ns is not None else ())
            if (show_private or not r.is_private) and (not name or name in r.name)
        ]
        field = ordering.lstrip("-")
        if field == "name":
            repos.sort(key=lambda r: r.name)
        elif field == "pull_count":
            repos.sort(key=lambda r: (r.pull_count, r.name))
        else:
            repos.sort(key=lambda r: (r.updated if r.updated is not None else -1.0, r.name))
        if ordering.startswith("-"):
            repos.reverse()
        if page > 1 and (page - 1) * size >= len(repos):
            raise detail(404, "Invalid page.", errinfo={})
        return json_response(200, self.listing(request, repos, repo_entry_json, size=(page, size)))

    async def repo_get(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD /v2/namespaces/{ns}/repositories/{repo}."""
        _, level, repo = self._visible_repo(request)
        return json_response(200, repo_info_json(repo, level))

    async def repo_tags(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD …/tags: the current tags, most recently pushed first."""
        who, _, repo = self._visible_repo(request)
        if request.method == "HEAD":
            if not repo.tags:
                raise detail(404, "Object not found", errinfo={})
            return web.Response(status=200)
        page, size = self.api._page(request, 10, "drf")
        self._anonymous_offset(who, page, size)
        tags = sorted(repo.tags.values(), key=lambda t: (t.pushed, t.name), reverse=True)
        active_from = default_active_from(self.now())
        ids = self.api.user_ids()
        body = self.listing(
            request,
            tags,
            lambda t: tag_json(repo, t, repo.images[t.digest], active_from, ids),
            size=(page, size),
        )
        return json_response(200, body)

    async def tag_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/: 204; an immutable tag is refused
        with a 403 whose message says so (hub-tool maps Hub's 403 to "forbidden")."""
        who = self.api._who(request)
        ns = self.state.namespaces.get(request.match_info["namespace"])
        repo = ns.repos.get(request.match_info["repository"]) if ns is not None else None
        level = ns.level(who) if ns is not None else 0
        if ns is None or repo is None or (repo.is_private and level < READ):
            raise detail(404, "Object not found", errinfo={})
        if level < WRITE:
            raise detail(403, NO_PERMISSION, errinfo={})
        name = request.match_info["tag"]
        if name not in repo.tags:
            raise detail(404, "Object not found", errinfo={})
        if repo.immutable(name):
            raise detail(
                403,
                f"tag {name} is immutable: the repository's immutable tags rules forbid "
                "deleting or overwriting it",
                errinfo={"immutable_tags_rules": list(repo.immutable_rules)},
            )
        self.state.delete_tag(repo, name, who.sub or "fakehub")
        return web.Response(status=204)

    async def repo_tag(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD …/tags/{tag}."""
        _, _, repo = self._visible_repo(request)
        tag = repo.tags.get(request.match_info["tag"])
        if tag is None:
            raise detail(404, "Object not found", errinfo={})
        active_from = default_active_from(self.now())
        return json_response(
            200, tag_json(repo, tag, repo.images[tag.digest], active_from, self.api.user_ids())
        )
