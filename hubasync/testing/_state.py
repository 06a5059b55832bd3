"""FakeHub's in-memory Docker Hub: namespaces, repositories, images, tags, users, tokens, audit.

The state is plain Python objects with ``__slots__`` (compact enough for 100k images) and
is mutated only from the event loop, between awaits. JSON is built from it per request
(see ``_render``). Nothing here does I/O. The objects live in ``_model`` (accounts) and
``_repo_model`` (repositories); the image operations in ``_state_images``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence

from ._model import (
    _SCOPE_LEVEL,
    ADMIN,
    NONE,
    READ,
    SUPER,
    VALID_SCOPES,
    WRITE,
    AuditLog,
    Event,
    FakeImage,
    IssuedToken,
    Namespace,
    Pat,
    Principal,
    User,
    check_name,
    digest_of,
    strings,
)
from ._repo_model import Image, Repository, Tag, default_active_from, image_status
from ._state_images import DeleteOutcome, ImageOps

__all__ = [
    "ADMIN",
    "NONE",
    "READ",
    "SUPER",
    "VALID_SCOPES",
    "WRITE",
    "AuditLog",
    "DeleteOutcome",
    "Event",
    "FakeImage",
    "HubState",
    "Image",
    "IssuedToken",
    "Namespace",
    "Pat",
    "Principal",
    "Repository",
    "Tag",
    "User",
    "default_active_from",
    "digest_of",
    "image_status",
]


class HubState(ImageOps):
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
        check_name("namespace", name)
        if name in self.namespaces:
            raise ValueError(f"namespace {name!r} already exists")
        member_set = set(strings("members", members))
        owner_set = set(strings("owners", owners)) if owners is not None else set(member_set)
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
        check_name("user", username)
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
        scope_tuple = tuple(strings("scopes", scopes))
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
        check_name("repository", name)
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
