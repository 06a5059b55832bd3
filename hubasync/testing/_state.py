"""FakeHub's in-memory Docker Hub: namespaces, repositories, images, tags, users, tokens, audit.

The state is plain Python objects with ``__slots__`` (compact enough for 100k images) and
is mutated only from the event loop, between awaits. JSON is built from it per request
(see ``_render``). Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any

from ._clock import month_before, to_epoch

__all__ = [
    "ADMIN",
    "NONE",
    "READ",
    "WRITE",
    "FakeImage",
    "HubState",
    "IssuedToken",
    "Principal",
    "digest_of",
]

# Access levels (ordered).
NONE, READ, WRITE, ADMIN = 0, 1, 2, 3

_SCOPE_LEVEL = {"repo:public_read": 0, "repo:read": READ, "repo:write": WRITE, "repo:admin": ADMIN}
VALID_SCOPES = tuple(_SCOPE_LEVEL)

_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")


def digest_of(data: str | bytes) -> str:
    """A ``sha256:<hex>`` digest of ``data``: handy for making up image digests."""
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 255:
        raise ValueError(
            f"invalid {kind} name {name!r}: use lowercase letters, digits and single "
            "'.', '_' or '-' separators (no '/')."
        )
    return name


def _check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG_RE.match(tag):
        raise ValueError(
            f"invalid tag {tag!r}: up to 128 letters, digits, '_', '.', '-', not starting "
            "with '.' or '-'."
        )
    return tag


def _check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise ValueError(
            f"invalid digest {digest!r}: expected '<algorithm>:<hex>', e.g. "
            "digest_of('my image') -> 'sha256:...'."
        )
    return digest


@dataclass(frozen=True, slots=True)
class FakeImage:
    """An image manifest to seed into a FakeHub repository.

    ``tags`` are pushed onto this image (a tag already on another image of the repository
    moves here and stays there as a historical tag); ``historical_tags`` are tags that used
    to point at it. ``children`` are the digests of the platform manifests of a multi-arch
    image (they cannot be deleted directly and are not listed). Times are aware datetimes
    or unix seconds; ``last_pushed`` defaults to the server's current time.

    Like today's Hub, the tag endpoints serve tag-level activity (``tag_status``,
    ``tag_last_pushed``, ``tag_last_pulled``) and the tag's ``digest``. ``legacy_tags=True``
    makes this image's tags look like tags pushed before Hub recorded that (late 2020): no
    ``tag_*`` fields and no ``digest``; ``tag_digest=False`` leaves only the ``digest`` key
    out (some recent tags on Hub have none).
    """

    digest: str
    _: KW_ONLY
    tags: Sequence[str] = ()
    historical_tags: Sequence[str] = ()
    last_pushed: datetime | float | None = None
    last_pulled: datetime | float | None = None
    children: Sequence[str] = ()
    size: int = 27_000_000
    architecture: str = "amd64"
    os: str = "linux"
    legacy_tags: bool = False
    tag_digest: bool = True

    def __post_init__(self) -> None:
        _check_digest(self.digest)
        for name in ("tags", "historical_tags", "children"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f"FakeImage.{name} must be a sequence of strings, not a string")
            object.__setattr__(self, name, tuple(value))
        for tag in (*self.tags, *self.historical_tags):
            _check_tag(tag)
        for child in self.children:
            _check_digest(child)
        if self.digest in self.children:
            raise ValueError(f"image {self.digest} lists itself as a child manifest")
        to_epoch(self.last_pushed)
        to_epoch(self.last_pulled)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError(f"FakeImage.size must be a non-negative integer, got {self.size!r}")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A personal (``dckr_pat_…``) or organization (``dckr_oat_…``) access token FakeHub made.

    ``owner`` is the username (PAT) or organization (OAT) it belongs to; ``secret`` is what
    a client logs in with.
    """

    uuid: str
    secret: str
    owner: str
    label: str
    scopes: tuple[str, ...]


class Principal:
    """Who a request acts as: a user, an organization (OAT) or ``super`` (auth disabled)."""

    __slots__ = ("exp", "kind", "level", "sub")

    def __init__(self, sub: str, kind: str, level: int = ADMIN, exp: float = float("inf")) -> None:
        self.sub = sub
        self.kind = kind  # "user" | "org" | "super"
        self.level = level  # highest access the token's scopes allow
        self.exp = exp

    def __repr__(self) -> str:
        return f"Principal({self.sub!r}, {self.kind!r}, level={self.level})"


SUPER = Principal("", "super")


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


class Namespace:
    """A user or organization namespace (internal)."""

    __slots__ = ("members", "name", "org", "owners", "repos", "settings")

    def __init__(self, name: str, org: bool, members: set[str], owners: set[str]) -> None:
        self.name = name
        self.org = org
        self.members = members
        self.owners = owners
        self.repos: dict[str, Repository] = {}
        self.settings: dict[str, bool] = {
            "enabled": False,
            "allow_official_images": True,
            "allow_verified_publishers": True,
        }

    def level(self, who: Principal) -> int:
        """The access ``who`` has to this namespace (NONE/READ/WRITE/ADMIN), scopes applied."""
        if who.kind == "super":
            return ADMIN
        if who.kind == "org":
            role = WRITE if who.sub == self.name else NONE
        elif who.sub == self.name or who.sub in self.owners:
            role = ADMIN
        elif who.sub in self.members:
            role = WRITE
        else:
            role = NONE
        return min(role, who.level)


class User:
    """A user account (internal)."""

    __slots__ = ("id", "password", "totp", "username")

    def __init__(self, user_id: int, username: str, password: str, totp: str | None) -> None:
        self.id = user_id
        self.username = username
        self.password = password
        self.totp = totp


class Pat:
    """A personal or organization access token (internal)."""

    __slots__ = (
        "created",
        "creator_ip",
        "creator_ua",
        "expires_at",
        "generated_by",
        "is_active",
        "kind",
        "label",
        "last_used",
        "owner",
        "scopes",
        "secret",
        "seq",
        "uuid",
    )

    def __init__(
        self,
        *,
        token_uuid: str,
        owner: str,
        kind: str,
        secret: str,
        label: str,
        scopes: tuple[str, ...],
        created: float,
        seq: int,
    ) -> None:
        self.uuid = token_uuid
        self.owner = owner
        self.kind = kind  # "pat" | "oat"
        self.secret = secret
        self.label = label
        self.scopes = scopes
        self.created = created
        self.seq = seq
        self.last_used: float | None = None
        self.is_active = True
        self.expires_at: float | None = None
        self.creator_ip = "127.0.0.1"
        self.creator_ua = "hubasync-fakehub"
        self.generated_by = "manual"

    def usable(self, now: float) -> bool:
        """Active and not expired at ``now``."""
        return self.is_active and (self.expires_at is None or now < self.expires_at)

    def level(self) -> int:
        """The highest access level its scopes grant."""
        return max((_SCOPE_LEVEL.get(s, NONE) for s in self.scopes), default=NONE)


class Event:
    """An audit log event (internal)."""

    __slots__ = ("account", "action", "actor", "data", "description", "name", "seq", "ts")

    def __init__(
        self,
        seq: int,
        ts: float,
        account: str,
        action: str,
        name: str,
        actor: str,
        data: dict[str, str],
        description: str,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.account = account
        self.action = action
        self.name = name
        self.actor = actor
        self.data = data
        self.description = description


class AuditLog:
    """The events of one account, newest first on demand (internal)."""

    __slots__ = ("_sorted", "events")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._sorted: list[Event] | None = None

    def add(self, event: Event) -> None:
        """Append an event."""
        self.events.append(event)
        self._sorted = None

    def newest_first(self) -> list[Event]:
        """Events by timestamp, newest first (ties: latest recorded first)."""
        if self._sorted is None:
            self._sorted = sorted(self.events, key=lambda e: (e.ts, e.seq), reverse=True)
        return self._sorted


class DeleteOutcome:
    """The result of checking (and maybe doing) a delete-images request (internal)."""

    __slots__ = ("errors", "manifest_deletes", "tag_deletes", "warnings")

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.manifest_deletes = 0
        self.tag_deletes = 0


class HubState:
    """Everything FakeHub knows. Mutators validate their input and raise ValueError."""

    def __init__(self, rng: random.Random, now: Callable[[], float]) -> None:
        self.rng = rng
        self.now = now
        self.namespaces: dict[str, Namespace] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Pat] = {}  # uuid -> token (PATs and OATs)
        self.by_secret: dict[str, Pat] = {}
        self.audit: dict[str, AuditLog] = {}
        self._seq = 0

    # ----------------------------------------------------------------- ids

    def next_id(self) -> int:
        """A fresh positive integer id."""
        self._seq += 1
        return self._seq

    def new_uuid(self) -> str:
        """A random (seeded) UUID4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_secret(self, prefix: str) -> str:
        """A random (seeded) token secret like ``dckr_pat_…``."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(27))

    # ----------------------------------------------------------- namespaces

    def add_namespace(
        self, name: str, *, org: bool, members: Iterable[str], owners: Iterable[str] | None
    ) -> Namespace:
        """Create a namespace (ValueError if it exists)."""
        _check_name("namespace", name)
        if name in self.namespaces:
            raise ValueError(f"namespace {name!r} already exists")
        member_set = set(_strings("members", members))
        owner_set = set(_strings("owners", owners)) if owners is not None else set(member_set)
        if not org:
            owner_set.add(name)
        ns = Namespace(name, org, member_set | owner_set, owner_set)
        self.namespaces[name] = ns
        return ns

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name`` (ValueError if missing)."""
        ns = self.namespaces.get(name)
        if ns is None:
            raise ValueError(f"namespace {name!r} does not exist: call add_namespace() first")
        return ns

    def repository(self, namespace: str, name: str) -> Repository:
        """The repository ``namespace/name`` (ValueError if missing)."""
        repo = self.namespace(namespace).repos.get(name)
        if repo is None:
            raise ValueError(
                f"repository {namespace}/{name} does not exist: call add_repository() first"
            )
        return repo

    # ---------------------------------------------------------------- users

    def add_user(self, username: str, password: str, totp: str | None) -> User:
        """Create a user and its personal namespace (if none exists yet)."""
        _check_name("user", username)
        if username in self.users:
            raise ValueError(f"user {username!r} already exists")
        if not isinstance(password, str) or not password:
            raise ValueError(f"user {username!r} needs a non-empty password")
        if password.startswith(("dckr_pat_", "dckr_oat_")):
            raise ValueError("a password must not look like an access token (dckr_pat_/dckr_oat_)")
        if totp is not None and (not isinstance(totp, str) or not totp):
            raise ValueError("totp must be the fixed code (a non-empty string) or None")
        user = User(self.next_id(), username, password, totp)
        self.users[username] = user
        if username not in self.namespaces:
            self.add_namespace(username, org=False, members=(), owners=(username,))
        return user

    # --------------------------------------------------------------- tokens

    def add_token(
        self,
        owner: str,
        *,
        kind: str,
        label: str,
        scopes: Sequence[str],
        secret: str | None,
        is_active: bool = True,
        expires_at: float | None = None,
        created: float | None = None,
        creator_ip: str = "127.0.0.1",
        creator_ua: str = "hubasync-fakehub",
    ) -> Pat:
        """Create a PAT (``kind="pat"``, owner = username) or OAT (owner = organization)."""
        prefix = "dckr_pat_" if kind == "pat" else "dckr_oat_"
        if secret is None:
            secret = self.new_secret(prefix)
        elif not isinstance(secret, str) or not secret.startswith(prefix) or len(secret) <= 9:
            raise ValueError(f"a {kind.upper()} secret must start with {prefix!r}, got {secret!r}")
        if secret in self.by_secret:
            raise ValueError("that token secret is already in use")
        scope_tuple = tuple(_strings("scopes", scopes))
        bad = [s for s in scope_tuple if s not in _SCOPE_LEVEL]
        if bad or not scope_tuple:
            raise ValueError(f"scopes must be a non-empty subset of {VALID_SCOPES}, got {scopes!r}")
        token = Pat(
            token_uuid=self.new_uuid(),
            owner=owner,
            kind=kind,
            secret=secret,
            label=label,
            scopes=scope_tuple,
            created=self.now() if created is None else created,
            seq=self.next_id(),
        )
        token.is_active = is_active
        token.expires_at = expires_at
        token.creator_ip = creator_ip
        token.creator_ua = creator_ua
        self.tokens[token.uuid] = token
        self.by_secret[secret] = token
        return token

    def delete_token(self, token: Pat) -> None:
        """Forget a token."""
        self.tokens.pop(token.uuid, None)
        self.by_secret.pop(token.secret, None)

    def tokens_of(self, owner: str, kind: str = "pat") -> list[Pat]:
        """The tokens of ``owner``, newest first."""
        found = [t for t in self.tokens.values() if t.owner == owner and t.kind == kind]
        found.sort(key=lambda t: (t.created, t.seq), reverse=True)
        return found

    # ---------------------------------------------------------- repositories

    def add_repository(
        self,
        namespace: str,
        name: str,
        *,
        is_private: bool,
        description: str,
        full_description: str,
        pull_count: int,
        star_count: int,
        created: float | None,
        actor: str | None,
    ) -> Repository:
        """Create an empty repository (ValueError if it exists)."""
        ns = self.namespace(namespace)
        _check_name("repository", name)
        if name in ns.repos:
            raise ValueError(f"repository {namespace}/{name} already exists")
        when = self.now() if created is None else created
        repo = Repository(self.next_id(), namespace, name, when)
        repo.is_private = bool(is_private)
        repo.description = description
        repo.full_description = full_description
        repo.pull_count = pull_count
        repo.star_count = star_count
        ns.repos[name] = repo
        self.record(
            namespace,
            "repo.create",
            repo.full_name,
            actor or self.default_actor(ns),
            {},
            f"created the repository {repo.full_name}",
            when,
        )
        return repo

    def default_actor(self, ns: Namespace) -> str:
        """Who seeded changes are attributed to: the first owner, else the namespace."""
        return min(ns.owners) if ns.owners else ns.name

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
            _untag(repo.images.get(current.digest), tag)
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
        _untag(repo.images.get(tag.digest), name)
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

    # ---------------------------------------------------------------- audit

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
        """Append an audit event to ``account``'s log."""
        log = self.audit.get(account)
        if log is None:
            log = self.audit[account] = AuditLog()
        when = self.now() if ts is None else ts
        log.add(Event(self.next_id(), when, account, action, name, actor, data, description))


def _untag(img: Image | None, tag: str) -> None:
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


def _strings(what: str, values: Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        raise ValueError(f"{what} must be a sequence of strings, not the string {values!r}")
    out = list(values)
    for v in out:
        if not isinstance(v, str) or not v:
            raise ValueError(f"{what} must contain non-empty strings, got {v!r}")
    return out
