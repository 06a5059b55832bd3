"""Repositories and tags: the seed's PATCH plus the current spec's list/get/tags."""

from __future__ import annotations

from .. import _validate as v
from .._convert import unstructure
from .._pagination import Paginator
from ..errors import HubError, ImmutableTagError, NotFoundError
from ..models.repositories import (
    REPOSITORY_ORDERINGS,
    Repository,
    RepositoryOrdering,
    Tag,
    UpdateRepositoryRequest,
)
from ._base import Resource

__all__ = ["Repositories"]


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
