"""FakeHub's public methods to seed and inspect users, namespaces, repositories, images,
personal access tokens and the audit log (organization administration: ``_org_seeding``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ._api import Api
from ._clock import to_epoch
from ._org_seeding import issued
from ._render import event_json
from ._state import FakeImage, HubState, IssuedToken

__all__ = ["CoreSeeding"]


class CoreSeeding:
    """Seeding and inspection of FakeHub's core state (a mixin of :class:`FakeHub`)."""

    _state: HubState
    _api: Api

    def now(self) -> float:
        """The server clock (FakeHub's)."""
        raise NotImplementedError

    # ------------------------------------------------------------- seeding

    def add_namespace(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        owners: Iterable[str] | None = None,
        org: bool = True,
    ) -> None:
        """Create a namespace. Members may read and write; owners also administer it
        (org settings). ``owners`` defaults to every member; a user namespace
        (``org=False``) is owned by the user of the same name.
        """
        self._state.add_namespace(name, org=org, members=members, owners=owners)

    def add_user(
        self,
        username: str,
        password: str,
        *,
        totp: str | None = None,
        pats: Iterable[str] = (),
    ) -> None:
        """Create a user (and its personal namespace if missing).

        ``totp`` turns on 2FA with that fixed code; ``pats`` are PAT secrets
        (``dckr_pat_…``, scope ``repo:admin``) the user can log in with.
        """
        if isinstance(pats, str):
            raise ValueError("pats must be a sequence of PAT secrets, not a single string")
        self._state.add_user(username, password, totp)
        for i, secret in enumerate(pats, 1):
            self.add_access_token(username, secret=secret, label=f"pat-{i}")

    def add_access_token(
        self,
        username: str,
        *,
        label: str = "fakehub",
        scopes: Sequence[str] = ("repo:admin",),
        secret: str | None = None,
        is_active: bool = True,
        expires_at: datetime | float | None = None,
        created_at: datetime | float | None = None,
    ) -> IssuedToken:
        """Give a user a personal access token; returns it (with the secret)."""
        if username not in self._state.users:
            raise ValueError(f"user {username!r} does not exist: call add_user() first")
        token = self._state.add_token(
            username,
            kind="pat",
            label=_label(label),
            scopes=scopes,
            secret=secret,
            is_active=is_active,
            expires_at=to_epoch(expires_at),
            created=to_epoch(created_at),
        )
        return issued(token)

    def add_repository(
        self,
        namespace: str,
        name: str,
        *,
        images: Iterable[FakeImage] = (),
        is_private: bool = False,
        description: str = "",
        full_description: str = "",
        pull_count: int = 0,
        star_count: int = 0,
        created_at: datetime | float | None = None,
        actor: str | None = None,
    ) -> None:
        """Create a repository in an existing namespace and push ``images`` into it, in order."""
        for label, value in (("pull_count", pull_count), ("star_count", star_count)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{label} must be a non-negative integer, got {value!r}")
        images = list(images)
        for image in images:
            if not isinstance(image, FakeImage):
                raise ValueError(f"images must be FakeImage objects, got {image!r}")
        repo = self._state.add_repository(
            namespace,
            name,
            is_private=is_private,
            description=description,
            full_description=full_description,
            pull_count=pull_count,
            star_count=star_count,
            created=to_epoch(created_at),
            actor=actor,
        )
        for image in images:
            self._state.push(repo, image, actor=actor)

    def add_image(
        self, namespace: str, repository: str, image: FakeImage, *, actor: str | None = None
    ) -> None:
        """Push ``image`` into a repository: its tags move onto it (and are audited)."""
        if not isinstance(image, FakeImage):
            raise ValueError(f"add_image() takes a FakeImage, got {image!r}")
        self._state.push(self._state.repository(namespace, repository), image, actor=actor)

    def set_immutable_tags(self, namespace: str, repository: str, rules: Iterable[str]) -> None:
        """Make the tags matching any of ``rules`` (regular expressions, matched against the
        whole tag) immutable: Hub refuses to delete or move them. No rules turns it off."""
        if isinstance(rules, str):
            raise ValueError("rules must be a list of regular expressions, not one string")
        compiled = list(rules)
        for rule in compiled:
            try:
                re.compile(rule)
            except re.error as exc:
                raise ValueError(f"immutable tag rule {rule!r} is not a regex: {exc}") from None
        self._state.repository(namespace, repository).immutable_rules = compiled

    def pull(
        self,
        namespace: str,
        repository: str,
        reference: str,
        *,
        at: datetime | float | None = None,
    ) -> None:
        """Record a pull of a tag or digest (updates last_pulled and the pull count)."""
        when = to_epoch(at)
        self._state.pull(
            self._state.repository(namespace, repository),
            reference,
            self.now() if when is None else when,
        )

    def issue_token(
        self,
        subject: str,
        *,
        lifetime_s: float | None = None,
        scopes: Sequence[str] | None = None,
    ) -> str:
        """A bearer JWT for a user (or an org, as an OAT would get) without a login call."""
        if subject in self._state.users:
            kind = "user"
        elif subject in self._state.namespaces and self._state.namespaces[subject].org:
            kind = "org"
        else:
            raise ValueError(f"{subject!r} is neither a user nor an organization of this FakeHub")
        if lifetime_s is not None and not lifetime_s > 0:
            raise ValueError(f"lifetime_s must be positive, got {lifetime_s!r}")
        return self._api.issue(
            subject, kind, tuple(scopes) if scopes is not None else None, lifetime_s
        )

    # ---------------------------------------------------------- inspection

    def image_digests(self, namespace: str, repository: str) -> list[str]:
        """The digests of a repository's images, in push order."""
        return list(self._state.repository(namespace, repository).images)

    def tags(self, namespace: str, repository: str) -> dict[str, str]:
        """A repository's current tags: tag → digest."""
        repo = self._state.repository(namespace, repository)
        return {name: tag.digest for name, tag in repo.tags.items()}

    def repository(self, namespace: str, repository: str) -> dict[str, Any]:
        """A repository's settings: description, full_description, is_private, pull_count."""
        repo = self._state.repository(namespace, repository)
        return {
            "description": repo.description,
            "full_description": repo.full_description,
            "is_private": repo.is_private,
            "pull_count": repo.pull_count,
            "star_count": repo.star_count,
        }

    def org_settings(self, org: str) -> dict[str, bool]:
        """An organization's ``restricted_images`` settings."""
        return dict(self._state.namespace(org).settings)

    def access_tokens(self, username: str) -> list[IssuedToken]:
        """A user's personal access tokens, newest first."""
        return [issued(t) for t in self._state.tokens_of(username)]

    def audit_events(self, account: str) -> list[dict[str, Any]]:
        """An account's audit log (as the API renders it), newest first."""
        log = self._state.audit.get(account)
        return [event_json(e) for e in log.newest_first()] if log is not None else []


def _label(label: str) -> str:
    if not isinstance(label, str) or not 1 <= len(label) <= 100:
        raise ValueError(f"a token label must be 1 to 100 characters, got {label!r}")
    return label
