"""FakeHub's image operations on its state: push, pull, tag deletion, delete-images."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._clock import to_epoch
from ._model import FakeImage, Namespace
from ._repo_model import Image, Repository, Tag, untag

__all__ = ["DeleteOutcome", "ImageOps"]


class DeleteOutcome:
    """The result of checking (and maybe doing) a delete-images request (internal)."""

    __slots__ = ("errors", "manifest_deletes", "tag_deletes", "warnings")

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.manifest_deletes = 0
        self.tag_deletes = 0


class ImageOps:
    """The image operations of :class:`HubState` (a mixin: it supplies what is declared)."""

    namespaces: dict[str, Namespace]
    now: Callable[[], float]

    def next_id(self) -> int:
        """A fresh positive integer id (HubState's)."""
        raise NotImplementedError

    def default_actor(self, ns: Namespace) -> str:
        """Who seeded changes are attributed to (HubState's)."""
        raise NotImplementedError

    def record(
        self,
        account: str,
        action: str,
        name: str,
        actor: str,
        data: dict[str, str],
        description: str,
        ts: float | None = None,
    ) -> None:
        """Append an audit event (HubState's)."""
        raise NotImplementedError

    def push(
        self, repo: Repository, image: FakeImage, *, actor: str | None, record: bool = True
    ) -> Image:
        """Add ``image`` to ``repo`` (or update it), moving its tags onto it, like a push."""
        pushed = to_epoch(image.last_pushed)
        if pushed is None:
            pushed = self.now()
        pulled = to_epoch(image.last_pulled)
        if image.digest in repo.children:
            raise ValueError(
                f"{image.digest} is already a child manifest in {repo.full_name}; "
                "a digest cannot be both"
            )
        for child in image.children:
            if child in repo.images or repo.children.get(child, image.digest) != image.digest:
                raise ValueError(f"child manifest {child} already exists in {repo.full_name}")
        ns = self.namespaces[repo.namespace]
        who = actor or self.default_actor(ns)
        img = repo.images.get(image.digest)
        if img is None:
            img = Image(
                image.digest,
                pushed,
                pulled,
                image.size,
                image.architecture,
                image.os,
                tuple(image.children),
            )
            repo.images[image.digest] = img
        else:
            img.pushed = pushed
            if pulled is not None:
                img.pulled = pulled
            if image.children:
                img.children = tuple(dict.fromkeys((*img.children, *image.children)))
        for child in image.children:
            repo.children[child] = image.digest
        for tag in image.historical_tags:
            if tag not in img.tags and tag not in img.old_tags:
                img.old_tags.append(tag)
        for tag in image.tags:
            if tag in repo.tags and repo.immutable(tag) and repo.tags[tag].digest != img.digest:
                raise ValueError(f"tag {tag!r} of {repo.full_name} is immutable: it cannot move")
            self._move_tag(repo, img, tag, pushed, who)
            current = repo.tags[tag]
            current.legacy = image.legacy_tags
            current.show_digest = image.tag_digest
            if pulled is not None:
                current.pulled = pulled
            if record:
                self.record(
                    repo.namespace,
                    "repo.tag.push",
                    repo.full_name,
                    who,
                    {"digest": img.digest, "tag": tag},
                    f"pushed the tag {tag} with the digest {img.digest[:19]} to the "
                    f"repository {repo.full_name}",
                    pushed,
                )
        img.changed()
        if repo.updated is None or pushed > repo.updated:
            repo.updated = pushed
            repo.modified = max(repo.modified, pushed)
        repo.touch()
        return img

    def _move_tag(self, repo: Repository, img: Image, tag: str, pushed: float, who: str) -> None:
        current = repo.tags.get(tag)
        if current is not None and current.digest != img.digest:
            untag(repo.images.get(current.digest), tag)
        if tag in img.old_tags:
            img.old_tags.remove(tag)
        if tag not in img.tags:
            img.tags.append(tag)
        if current is not None and current.digest == img.digest:
            current.pushed = pushed
            current.pusher = who
        else:
            repo.tags[tag] = Tag(self.next_id(), tag, img.digest, pushed, who)

    def pull(self, repo: Repository, reference: str, when: float) -> None:
        """Record a pull of ``reference`` (a tag or digest) at ``when``."""
        tag = repo.tags.get(reference)
        digest = tag.digest if tag is not None else reference
        img = repo.images.get(digest)
        if img is None:
            parent = repo.children.get(digest)
            img = repo.images.get(parent) if parent is not None else None
        if img is None:
            raise ValueError(f"{reference!r} is neither a tag nor an image of {repo.full_name}")
        img.set_pulled(when)
        if tag is not None:
            tag.pulled = when
        repo.pull_count += 1
        repo.touch()

    def delete_tag(self, repo: Repository, name: str, actor: str) -> None:
        """Remove the tag ``name`` (its image stays, untagged, like on Hub)."""
        tag = repo.tags.pop(name)
        untag(repo.images.get(tag.digest), name)
        now = self.now()
        repo.modified = now
        repo.touch()
        self.record(
            repo.namespace,
            "repo.tag.delete",
            repo.full_name,
            actor,
            {"digest": tag.digest, "tag": name},
            f"deleted the tag {name} from the repository {repo.full_name}",
            now,
        )

    def delete_images(
        self,
        ns: Namespace,
        manifests: list[tuple[str, str]],
        ignore: list[tuple[str, str, str, tuple[str, ...] | None]],
        active_from: float,
        *,
        can_write: bool,
        dry_run: bool,
        actor: str,
    ) -> DeleteOutcome:
        """Check a delete-images request; when clean and not a dry run, delete.

        Errors (``not_found``, ``child_manifest``, ``unauthorized``) cannot be ignored;
        warnings (``is_active``, ``current_tag``) are skipped when ``ignore`` lists them
        (for ``current_tag`` with ``tags``, only if those cover every current tag).
        """
        out = DeleteOutcome()
        ignored: dict[tuple[str, str, str], tuple[str, ...] | None] = {}
        for repo_name, digest, warning, tags in ignore:
            key = (repo_name, digest, warning)
            if tags is None or key not in ignored:
                ignored[key] = tags
            elif (known := ignored[key]) is not None:
                ignored[key] = (*known, *tags)
        targets: list[tuple[Repository, Image]] = []
        for repo_name, digest in dict.fromkeys(manifests):
            if not can_write:
                out.errors.append(
                    {"repository": repo_name, "digest": digest, "error": "unauthorized"}
                )
                continue
            repo = ns.repos.get(repo_name)
            img = repo.images.get(digest) if repo is not None else None
            if repo is None or img is None:
                error = (
                    "child_manifest"
                    if repo is not None and digest in repo.children
                    else "not_found"
                )
                out.errors.append({"repository": repo_name, "digest": digest, "error": error})
                continue
            if img.activity >= active_from and (repo_name, digest, "is_active") not in ignored:
                out.warnings.append(
                    {"repository": repo_name, "digest": digest, "warning": "is_active"}
                )
            if img.tags:
                key = (repo_name, digest, "current_tag")
                covered = key in ignored and (
                    ignored[key] is None or set(img.tags) <= set(ignored[key] or ())
                )
                if not covered:
                    out.warnings.append(
                        {
                            "repository": repo_name,
                            "digest": digest,
                            "warning": "current_tag",
                            "tags": list(img.tags),
                        }
                    )
            targets.append((repo, img))
        if out.errors or out.warnings:
            return out
        now = self.now()
        for repo, img in targets:
            out.manifest_deletes += 1
            out.tag_deletes += len(img.tags)
            if dry_run:
                continue
            for tag in list(img.tags):
                repo.tags.pop(tag, None)
                self.record(
                    ns.name,
                    "repo.tag.delete",
                    repo.full_name,
                    actor,
                    {"digest": img.digest, "tag": tag},
                    f"deleted the tag {tag} from the repository {repo.full_name}",
                    now,
                )
            for child in img.children:
                repo.children.pop(child, None)
            del repo.images[img.digest]
            self.record(
                ns.name,
                "repo.image.delete",
                repo.full_name,
                actor,
                {"digest": img.digest},
                f"deleted the image {img.digest[:19]} from the repository {repo.full_name}",
                now,
            )
            repo.modified = now
            repo.touch()
        return out
