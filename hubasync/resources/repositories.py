"""Repositories and tags: the seed's PATCH plus the current spec's list/get/tags."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..errors import HubError, ImmutableTagError, NotFoundError
from ..models.repositories import (
    GROUP_PERMISSIONS,
    REPOSITORY_ORDERINGS,
    CreateRepositoryRequest,
    GroupPermission,
    ImmutableTagsRequest,
    ImmutableTagsVerifyRequest,
    ImmutableTagsVerifyResult,
    Repository,
    RepositoryGroup,
    RepositoryGroupRequest,
    RepositoryOrdering,
    Tag,
    UpdateRepositoryRequest,
)
from ._base import Resource

__all__ = ["Permission", "Repositories"]

#: A group's permission on a repository (``hubasync.models.GroupPermission``).
Permission = GroupPermission


def _check_repository_fields(
    description: str | None, full_description: str | None, is_private: bool | None
) -> None:
    if description is not None:
        v.check_text(description, "description", allow_empty=True)
        if len(description) > 100:
            raise ValueError(
                f"description is {len(description)} characters; Hub allows at most 100"
            )
    if full_description is not None:
        v.check_text(full_description, "full_description", allow_empty=True)
        if len(full_description) > 25000:
            raise ValueError("full_description is longer than Hub's 25,000 characters")
    if is_private is not None and not isinstance(is_private, bool):
        raise ValueError(f"is_private must be True, False or None, got {is_private!r}")


def _check_rule(rule: object, param: str) -> str:
    text = v.check_text(rule, param)
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"{param} {text!r} is not a valid regular expression: {exc}") from None
    return text


class Repositories(Resource):
    """Repositories of a namespace, their settings and their tags."""

    def _path(self, namespace: str, repository: str) -> str:
        return f"/v2/namespaces/{v.namespace(namespace)}/repositories/{v.repository(repository)}"

    async def update(
        self,
        namespace: str,
        repository: str,
        *,
        description: str | None = None,
        full_description: str | None = None,
        is_private: bool | None = None,
    ) -> Repository:
        """Change a repository's descriptions or visibility; ``None`` leaves a field as is."""
        path = f"/v2/repositories/{v.namespace(namespace)}/{v.repository(repository)}/"
        if description is None and full_description is None and is_private is None:
            raise ValueError(
                "update needs description=, full_description= and/or is_private=; nothing to change"
            )
        _check_repository_fields(description, full_description, is_private)
        body = unstructure(
            UpdateRepositoryRequest(
                description=description, full_description=full_description, is_private=is_private
            )
        )
        resp = await self._send("repositories.update", "PATCH", path, json=body)
        return self._structure(resp.data, Repository, "repositories.update", resp.status)

    def list(
        self,
        namespace: str,
        *,
        name: str | None = None,
        ordering: RepositoryOrdering | None = None,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[Repository]:
        """The repositories of a namespace (public ones only, without credentials)."""
        path = f"/v2/namespaces/{v.namespace(namespace)}/repositories"
        if name is not None:
            v.check_text(name, "name")
        if ordering is not None:
            v.check_choice(ordering, "ordering", REPOSITORY_ORDERINGS)
        return self._paginate(
            "repositories.list",
            path,
            Repository,
            params={"name": name, "ordering": ordering},
            page_size=page_size,
            prefetch=prefetch,
        )

    async def get(self, namespace: str, repository: str) -> Repository:
        """One repository's details."""
        return await self._get("repositories.get", self._path(namespace, repository), Repository)

    async def exists(self, namespace: str, repository: str) -> bool:
        """Whether the repository exists and is visible to these credentials (a HEAD)."""
        path = self._path(namespace, repository)
        try:
            await self._send("repositories.exists", "HEAD", path, expect_body=False)
        except NotFoundError:
            return False
        return True

    def tags(
        self,
        namespace: str,
        repository: str,
        *,
        page_size: int = 100,
        prefetch: int | None = None,
    ) -> Paginator[Tag]:
        """The tags of a repository, page by page."""
        path = self._path(namespace, repository) + "/tags"
        return self._paginate(
            "repositories.tags", path, Tag, page_size=page_size, prefetch=prefetch
        )

    async def tag(self, namespace: str, repository: str, tag: str) -> Tag:
        """One tag of a repository."""
        path = self._path(namespace, repository) + f"/tags/{v.tag(tag)}"
        return await self._get("repositories.tag", path, Tag)

    async def delete_tag(self, namespace: str, repository: str, tag: str) -> None:
        """Delete a tag (``DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/``, the call
        Docker's hub-tool makes; not in the published spec). The image it pointed at stays.

        Idempotent, so retried on 5xx and connection faults; a 404 on a retry (an earlier
        attempt's answer was lost) counts as done.

        Raises:
            ImmutableTagError: the repository's immutable-tag rules cover the tag.
            NotFoundError: the repository or tag does not exist (on the first attempt).
            PermissionDeniedError: these credentials may not push to the repository.
        """
        path = f"/v2/repositories/{v.namespace(namespace)}/{v.repository(repository)}/"
        path += f"tags/{v.tag(tag)}/"
        try:
            await self._send("repositories.delete_tag", "DELETE", path, expect_body=False)
        except HubError as exc:
            if exc.status in (400, 403, 409, 422) and "immutable" in f"{exc.message} {exc.body}":
                raise ImmutableTagError(
                    f"repositories.delete_tag: {namespace}/{repository}:{tag} is an immutable "
                    "tag (the repository's immutable tags rules); Hub refuses to delete it. "
                    "Change the rules on Hub first if it must go",
                    tag=tag,
                    status=exc.status,
                    txnid=exc.txnid,
                    body=exc.body,
                    operation="repositories.delete_tag",
                ) from exc
            raise

    async def tag_exists(self, namespace: str, repository: str, tag: str) -> bool:
        """Whether a tag exists in the repository (a HEAD)."""
        path = self._path(namespace, repository) + f"/tags/{v.tag(tag)}"
        try:
            await self._send("repositories.tag_exists", "HEAD", path, expect_body=False)
        except NotFoundError:
            return False
        return True

    async def has_tags(self, namespace: str, repository: str) -> bool:
        """Whether the repository's tag list can be read (a HEAD on it; ``False`` on a 404)."""
        path = self._path(namespace, repository) + "/tags"
        try:
            await self._send("repositories.has_tags", "HEAD", path, expect_body=False)
        except NotFoundError:
            return False
        return True

    async def create(
        self,
        namespace: str,
        name: str,
        *,
        description: str | None = None,
        full_description: str | None = None,
        is_private: bool | None = None,
        registry: str | None = None,
    ) -> Repository:
        """Create a repository in a namespace. Never retried after it may have reached Hub."""
        path = f"/v2/namespaces/{v.namespace(namespace)}/repositories"
        v.repository(name, param="name")
        if len(name) < 2:
            raise ValueError(f"name {name!r} is too short: a new repository needs 2-255 characters")
        _check_repository_fields(description, full_description, is_private)
        if registry is not None:
            v.check_text(registry, "registry")
        body = unstructure(
            CreateRepositoryRequest(
                name=name,
                namespace=namespace,
                description=description,
                full_description=full_description,
                registry=registry,
                is_private=is_private,
            )
        )
        op = "repositories.create"
        resp = await self._send(op, "POST", path, json=body, idempotent=False)
        return self._structure(resp.data, Repository, op, resp.status)

    async def add_group(
        self, namespace: str, repository: str, group_id: int, permission: Permission
    ) -> RepositoryGroup:
        """Grant an organization group (team) ``read``, ``write`` or ``admin`` on a repository.

        ``group_id`` is the group's numeric id (``OrgGroup.id`` from ``hub.groups``). Not
        retried after it may have reached Hub.
        """
        path = f"/v2/repositories/{v.namespace(namespace)}/{v.repository(repository)}/groups"
        if isinstance(group_id, bool) or not isinstance(group_id, int) or group_id < 1:
            raise ValueError(
                f"group_id must be a group's numeric id (OrgGroup.id), got {group_id!r}"
            )
        v.check_choice(permission, "permission", GROUP_PERMISSIONS)
        body = unstructure(RepositoryGroupRequest(group_id=group_id, permission=permission))
        op = "repositories.add_group"
        resp = await self._send(op, "POST", path, json=body, idempotent=False)
        return self._structure(resp.data, RepositoryGroup, op, resp.status)

    async def update_immutable_tags(
        self, namespace: str, repository: str, *, enabled: bool, rules: Iterable[str]
    ) -> Repository:
        """Turn immutable tags on or off and set the rules (regular expressions) they follow."""
        path = self._path(namespace, repository) + "/immutabletags"
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be True or False, got {enabled!r}")
        if isinstance(rules, str):
            raise ValueError(f"rules must be a list of patterns, e.g. ['v.*'], not {rules!r}")
        wanted = [_check_rule(rule, "rule") for rule in rules]
        if enabled and not wanted:
            raise ValueError("enabled=True needs at least one rule, e.g. rules=['v.*']")
        body = unstructure(
            ImmutableTagsRequest(immutable_tags=enabled, immutable_tags_rules=wanted)
        )
        op = "repositories.update_immutable_tags"
        resp = await self._send(op, "PATCH", path, json=body, idempotent=True)
        return self._structure(resp.data, Repository, op, resp.status)

    async def verify_immutable_tags(
        self, namespace: str, repository: str, regex: str
    ) -> builtins.list[str]:
        """The repository's tags an immutable-tags rule would match (changes nothing)."""
        path = self._path(namespace, repository) + "/immutabletags/verify"
        body = unstructure(ImmutableTagsVerifyRequest(regex=_check_rule(regex, "regex")))
        op = "repositories.verify_immutable_tags"
        # A POST that only reads: safe to repeat.
        resp = await self._send(op, "POST", path, json=body, idempotent=True)
        return self._structure(resp.data, ImmutableTagsVerifyResult, op, resp.status).tags
