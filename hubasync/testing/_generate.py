"""Deterministic bulk data for FakeHub: many namespaces, repositories and images, fast.

Each repository gets a push history: images pushed over the past ~400 days, every push
moving ``latest`` (so older images keep it as a historical tag), some images also carrying a
version tag, some multi-arch with two child manifests, some pulled recently. The same seed
and ``now`` always give the same data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ._generate_orgs import PlantedAccess
from ._state import HubState, Image, Repository, Tag

__all__ = ["GeneratedData", "populate"]

_DAY = 86_400.0
_ORG_WORDS = (
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
    "cyberdyne", "soylent", "vandelay", "aperture", "monarch", "oscorp", "gringotts",
)  # fmt: skip
_REPO_WORDS = (
    "api", "web", "worker", "gateway", "auth", "billing", "search", "ingest", "scheduler",
    "notifier", "frontend", "backend", "cache", "proxy", "etl", "reports", "admin", "agent",
    "builder", "runner",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GeneratedData:
    """What :meth:`FakeHub.generate` created: names, and the user that can read them all.

    ``access`` says which access-audit findings were planted (None when none were).
    """

    namespaces: tuple[str, ...]
    repositories: tuple[str, ...]
    images: int
    username: str
    password: str
    pat: str
    access: PlantedAccess | None = None


def _names(rng: random.Random, words: tuple[str, ...], count: int) -> list[str]:
    pool = list(words)
    rng.shuffle(pool)
    n = len(pool)
    return [pool[i % n] if i < n else f"{pool[i % n]}-{i // n}" for i in range(count)]


def populate(
    state: HubState,
    *,
    namespaces: int,
    repos_per_namespace: int,
    images_per_repo: int,
    seed: int,
    now: float,
    username: str,
    password: str,
    audit: bool,
    legacy_share: float = 0.0,
    version_tags: float = 0.3,
) -> GeneratedData:
    """Fill ``state`` with generated data (see the module docstring)."""
    for name, value in (
        ("namespaces", namespaces),
        ("repos_per_namespace", repos_per_namespace),
        ("images_per_repo", images_per_repo),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"generate(): {name} must be a non-negative integer, got {value!r}")
    rng = random.Random(seed)
    if username not in state.users:
        state.add_user(username, password, None)
    pat = state.add_token(
        username,
        kind="pat",
        label="generated",
        scopes=("repo:admin",),
        secret="dckr_pat_generated" + format(rng.getrandbits(64), "016x"),
    ).secret
    ns_names = _names(rng, _ORG_WORDS, namespaces)
    repo_names = _names(rng, _REPO_WORDS, repos_per_namespace)
    created_ns: list[str] = []
    created_repos: list[str] = []
    total = 0
    getrandbits = rng.getrandbits
    rand = rng.random
    next_id = state.next_id
    for ns_name in ns_names:
        if ns_name in state.namespaces:
            ns_name = f"{ns_name}-g{seed}"
        ns = state.add_namespace(ns_name, org=True, members=(username,), owners=(username,))
        created_ns.append(ns_name)
        for repo_name in repo_names:
            created = now - (400 + rand() * 600) * _DAY
            repo = Repository(next_id(), ns_name, repo_name, created)
            repo.is_private = rand() < 0.3
            repo.description = f"{repo_name} service of {ns_name}"
            repo.star_count = int(rand() * 50)
            ns.repos[repo_name] = repo
            created_repos.append(f"{ns_name}/{repo_name}")
            if audit:
                state.record(
                    ns_name, "repo.create", repo.full_name, username, {},
                    f"created the repository {repo.full_name}", created,
                )  # fmt: skip
            total += _fill_repo(
                state,
                repo,
                images_per_repo,
                now,
                getrandbits,
                rand,
                username,
                audit,
                legacy_share,
                version_tags,
            )
    return GeneratedData(
        namespaces=tuple(created_ns),
        repositories=tuple(created_repos),
        images=total,
        username=username,
        password=password,
        pat=pat,
    )


def _fill_repo(
    state: HubState,
    repo: Repository,
    count: int,
    now: float,
    bits: Callable[[int], int],
    rnd: Callable[[], float],
    username: str,
    audit: bool,
    legacy_share: float = 0.0,
    version_tags: float = 0.3,
) -> int:
    if count == 0:
        return 0
    span = 400 * _DAY
    times = sorted(now - rnd() * span for _ in range(count))
    images = repo.images
    tags = repo.tags
    pulls = 0
    version = 0
    previous_latest: Image | None = None
    for pushed in times:
        digest = f"sha256:{bits(256):064x}"
        children: tuple[str, ...] = ()
        if rnd() < 0.1:
            children = (f"sha256:{bits(256):064x}", f"sha256:{bits(256):064x}")
        pulled = None
        r = rnd()
        if r < 0.35:
            pulled = pushed + rnd() * (now - pushed)
            pulls += 1 + bits(10)
        img = Image(digest, pushed, pulled, 5_000_000 + bits(26), "amd64", "linux", children)
        for child in children:
            repo.children[child] = digest
        if previous_latest is not None:
            previous_latest.tags.remove("latest")
            previous_latest.old_tags.append("latest")
        img.tags.append("latest")
        tags["latest"] = Tag(state.next_id(), "latest", digest, pushed, username)
        if audit:
            state.record(
                repo.namespace, "repo.tag.push", repo.full_name, username,
                {"digest": digest, "tag": "latest"},
                f"pushed the tag latest with the digest {digest[:19]} to the repository "
                f"{repo.full_name}",
                pushed,
            )  # fmt: skip
        if r > 1.0 - version_tags or version_tags >= 1.0:
            version += 1
            name = f"1.{version}.0"
            img.tags.append(name)
            tags[name] = Tag(state.next_id(), name, digest, pushed, username)
            tags[name].legacy = legacy_share > 0 and rnd() < legacy_share
            if img.pulled is not None:
                tags[name].pulled = img.pulled
        previous_latest = img
        images[digest] = img
    repo.updated = times[-1]
    repo.modified = times[-1]
    repo.pull_count = pulls
    if previous_latest is not None and previous_latest.pulled is not None:
        tags["latest"].pulled = previous_latest.pulled
    repo.touch()
    return count
