"""FakeHub's repositories: image manifests, current tags, and what activity means."""

from __future__ import annotations

import re
from bisect import bisect_left

from ._clock import month_before

__all__ = ["Image", "Repository", "Tag", "default_active_from", "image_status", "untag"]


class Image:
    """A stored image manifest (internal).

    ``activity`` (the later of last push and last pull) and ``frag`` (the cached JSON of
    its list entry, see ``_render``) must be refreshed with :meth:`changed` after any edit.
    """

    __slots__ = (
        "activity",
        "arch",
        "children",
        "digest",
        "frag",
        "old_tags",
        "os",
        "pulled",
        "pushed",
        "size",
        "tags",
    )

    def __init__(
        self,
        digest: str,
        pushed: float | None,
        pulled: float | None,
        size: int,
        arch: str,
        os: str,
        children: tuple[str, ...],
    ) -> None:
        self.digest = digest
        self.tags: list[str] = []
        self.old_tags: list[str] = []
        self.pushed = pushed
        self.pulled = pulled
        self.size = size
        self.arch = arch
        self.os = os
        self.children = children
        self.frag: bytes | None = None
        self.activity = _latest(pushed, pulled)

    def changed(self) -> None:
        """Recompute the activity and drop the cached JSON after an edit."""
        self.activity = _latest(self.pushed, self.pulled)
        self.frag = None

    def set_pulled(self, ts: float) -> None:
        """Record a pull at ``ts``."""
        self.pulled = ts
        self.changed()


def _latest(a: float | None, b: float | None) -> float:
    x = a if a is not None else float("-inf")
    y = b if b is not None else float("-inf")
    return x if x > y else y


class Tag:
    """A current tag of a repository (internal).

    ``legacy``: served without ``tag_*`` fields and ``digest`` (a pre-2020 tag);
    ``show_digest``: whether the ``digest`` key is served at all.
    """

    __slots__ = ("digest", "id", "legacy", "name", "pulled", "pushed", "pusher", "show_digest")

    def __init__(self, tag_id: int, name: str, digest: str, pushed: float, pusher: str) -> None:
        self.id = tag_id
        self.name = name
        self.digest = digest
        self.pushed = pushed
        self.pulled: float | None = None
        self.pusher = pusher
        self.legacy = False
        self.show_digest = True


class Repository:
    """A repository (internal)."""

    __slots__ = (
        "_activities",
        "_sorted",
        "children",
        "created",
        "description",
        "full_description",
        "id",
        "images",
        "immutable_rules",
        "is_private",
        "modified",
        "name",
        "namespace",
        "pull_count",
        "star_count",
        "tags",
        "updated",
        "version",
    )

    def __init__(self, repo_id: int, namespace: str, name: str, created: float) -> None:
        self.id = repo_id
        self.namespace = namespace
        self.name = name
        self.images: dict[str, Image] = {}
        self.children: dict[str, str] = {}  # child digest -> parent digest
        self.tags: dict[str, Tag] = {}
        self.is_private = False
        self.description = ""
        self.full_description = ""
        self.created = created
        self.updated: float | None = None
        self.modified = created
        self.pull_count = 0
        self.star_count = 0
        self.version = 0
        self.immutable_rules: list[str] = []  # regular expressions; empty = feature off
        self._sorted: dict[str, tuple[int, list[Image]]] = {}
        self._activities: tuple[int, list[float]] = (-1, [])

    @property
    def full_name(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    def touch(self) -> None:
        """Invalidate cached orderings after a change."""
        self.version += 1

    def sorted_images(self, ordering: str) -> list[Image]:
        """Images in ``ordering`` (``[-]last_activity`` or ``[-]digest``), cached per version."""
        cached = self._sorted.get(ordering)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        images = list(self.images.values())
        if ordering.lstrip("-") == "digest":
            images.sort(key=lambda i: i.digest, reverse=ordering.startswith("-"))
        else:
            images.sort(key=lambda i: (i.activity, i.digest), reverse=ordering.startswith("-"))
        self._sorted[ordering] = (self.version, images)
        return images

    def count_active(self, active_from: float) -> int:
        """How many images were pushed or pulled at/after ``active_from`` (O(log n))."""
        version, activities = self._activities
        if version != self.version:
            activities = sorted(i.activity for i in self.images.values())
            self._activities = (self.version, activities)
        return len(activities) - bisect_left(activities, active_from)

    def storage_size(self) -> int:
        """Sum of the image sizes."""
        return sum(i.size for i in self.images.values())

    def immutable(self, tag: str) -> bool:
        """Whether ``tag`` matches one of the repository's immutable-tag rules (regexes)."""
        return any(re.fullmatch(rule, tag) for rule in self.immutable_rules)


def untag(img: Image | None, tag: str) -> None:
    """``tag`` no longer points at ``img``: it becomes one of its historical tags."""
    if img is None:
        return
    if tag in img.tags:
        img.tags.remove(tag)
    if tag not in img.old_tags:
        img.old_tags.append(tag)
    img.changed()


def image_status(img: Image, active_from: float) -> str:
    """``active`` if pushed or pulled at/after ``active_from``, else ``inactive``."""
    return "active" if img.activity >= active_from else "inactive"


def default_active_from(now: float) -> float:
    """Hub's default ``active_from``: one month before now."""
    return month_before(now)
