"""FakeHub's accounts and their access: access levels, names, the public seeding values
(:class:`FakeImage`, :class:`IssuedToken`), callers (:class:`Principal`), namespaces,
users, access tokens and audit events. Plain objects with ``__slots__``; no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from ._clock import to_epoch
from ._repo_model import Repository

__all__ = [
    "ADMIN",
    "NONE",
    "READ",
    "SUPER",
    "VALID_SCOPES",
    "WRITE",
    "_SCOPE_LEVEL",
    "AuditLog",
    "Event",
    "FakeImage",
    "IssuedToken",
    "Namespace",
    "Pat",
    "Principal",
    "User",
    "check_name",
    "digest_of",
    "strings",
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


def check_name(kind: str, name: str) -> str:
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


def strings(what: str, values: Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        raise ValueError(f"{what} must be a sequence of strings, not the string {values!r}")
    out = list(values)
    for v in out:
        if not isinstance(v, str) or not v:
            raise ValueError(f"{what} must contain non-empty strings, got {v!r}")
    return out
