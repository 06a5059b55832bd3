"""Prune on today's Hub: the pure planner, the executor's fault rules, and the CLI.

FakeHub's default is today's Hub (no image API): tags are deleted one by one with
``DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from hubasync import HubClient
from hubasync.audit import AuditFailure, RepositoryAudit, TagAudit, audit_namespaces
from hubasync.cli._app import cli
from hubasync.prune import apply_prune, check_glob, plan_tag_prune
from hubasync.testing import FakeHub, FakeImage, digest_of
from tests.test_cli import ThreadedHub

PAT = "dckr_pat_alice_prune_0123456789"
NOW = datetime.now(UTC)
CUTOFF = NOW - timedelta(days=45)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


# ---------------------------------------------------------------------- the planner (pure)


def _tag(name: str, pushed: float | None, pulled: float | None = None, **kw: Any) -> TagAudit:
    last_pushed = _days(pushed) if pushed is not None else None
    last_pulled = _days(pulled) if pulled is not None else None
    known = [t for t in (last_pushed, last_pulled) if t is not None]
    kw.setdefault("last_activity", max(known) if known else None)
    kw.setdefault("basis", "tag" if known else None)
    return TagAudit(name=name, last_pushed=last_pushed, last_pulled=last_pulled, **kw)


def _audit(*tags: TagAudit, repo: str = "app") -> RepositoryAudit:
    return RepositoryAudit(namespace="acme", repository=repo, source="tags", tags=tags)


def test_planner_deletes_only_tags_without_activity_since_the_cutoff() -> None:
    audit = _audit(
        _tag("latest", 1),
        _tag("pulled", 300, 10),
        _tag("old", 300, 100),
        _tag("never-pulled", 400),
        _tag("edge", 45.001),
        _tag("just-in", 44.999),
        _tag("legacy", None, last_activity=_days(900), basis="pushed"),
        _tag("nothing", None),
    )
    plan = plan_tag_prune([audit], cutoff=CUTOFF, keep=0)
    assert sorted(d.tag for d in plan.deletions) == ["edge", "never-pulled", "old"]
    kept = {k.tag: k.reason for k in plan.kept}
    assert "after the cutoff" in kept["latest"] and "pulled" in kept["pulled"]
    assert "after the cutoff" in kept["just-in"]
    assert "no pull history" in kept["legacy"] and "no pull history" in kept["nothing"]
    assert all("no push or pull since" in d.reason for d in plan.deletions)


def test_planner_keeps_the_n_most_recently_pushed_and_filters_by_glob() -> None:
    tags = [_tag(f"v1.{i}", 100 + i) for i in range(5)] + [_tag("pr-7", 200), _tag("x", 300)]
    audit = _audit(*tags)
    plan = plan_tag_prune([audit], cutoff=CUTOFF, keep=2)
    assert sorted(d.tag for d in plan.deletions) == ["pr-7", "v1.2", "v1.3", "v1.4", "x"]
    only = plan_tag_prune([audit], cutoff=CUTOFF, keep=0, match=["v1.*"], exclude=["v1.[34]"])
    assert sorted(d.tag for d in only.deletions) == ["v1.0", "v1.1", "v1.2"]
    reasons = {k.tag: k.reason for k in only.kept}
    assert reasons["pr-7"] == "does not match --match" and "--exclude" in reasons["v1.3"]
    none_kept = plan_tag_prune([audit], cutoff=CUTOFF, keep=0, match=["?1.[!0-2]"])
    assert sorted(d.tag for d in none_kept.deletions) == ["v1.3", "v1.4"]


def test_planner_keeps_immutable_tags_and_reports_failed_audits() -> None:
    failed = RepositoryAudit(
        namespace="acme",
        repository="locked",
        errors=(AuditFailure(operation="repositories.tags", status=403, error="E", message="m"),),
    )
    empty = RepositoryAudit(namespace="ghost", repository=None, warnings=("no repositories",))
    audit = _audit(_tag("1.0", 100), _tag("tmp", 100))
    plan = plan_tag_prune(
        [audit, failed, empty], cutoff=CUTOFF, keep=0, immutable_rules={"acme/app": [r"\d\.\d"]}
    )
    assert [d.tag for d in plan.deletions] == ["tmp"]
    assert "immutable" in plan.kept[0].reason
    assert plan.failed == (failed,) and plan.warnings == (empty,)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"keep": -1}, "keep must be an int >= 0"),
        ({"match": ["v1.[0-9"]}, "without its closing"),
        ({"exclude": ["]x"]}, "without its '\\['"),
        ({"match": [""]}, "non-empty"),
        ({"cutoff": datetime(2024, 1, 1)}, "cutoff"),  # naive
    ],
)
def test_planner_refuses_bad_input(kwargs: dict[str, Any], needle: str) -> None:
    options: dict[str, Any] = {"cutoff": CUTOFF, **kwargs}
    with pytest.raises(ValueError, match=needle):
        plan_tag_prune([], **options)


def test_check_glob_accepts_tag_globs() -> None:
    for pattern in ("*", "v1.*", "build-[0-9]*", "rc?", "[!a]x"):
        assert check_glob(pattern) == pattern


# ------------------------------------------------------------------ the executor on FakeHub


def seed(server: FakeHub) -> dict[str, set[str]]:
    """acme/app and acme/web (alice writes), bobs/pub (alice only reads); the tags a
    45-day prune with keep=1 must delete, per repository."""
    server.add_user("alice", "alice-password", pats=[PAT])
    server.add_user("bob", "bob-password")
    server.add_namespace("acme", members=["alice"])
    server.add_namespace("bobs", members=["bob"])
    app = [
        FakeImage(digest_of("app-new"), tags=["latest"], last_pushed=_days(1)),
        FakeImage(digest_of("app-1"), tags=["1.0"], last_pushed=_days(200)),
        FakeImage(digest_of("app-2"), tags=["2.0"], last_pushed=_days(100), last_pulled=_days(5)),
        FakeImage(digest_of("app-3"), tags=["3.0", "3"], last_pushed=_days(90)),
        FakeImage(digest_of("app-0"), tags=["0.1"], last_pushed=_days(2000), legacy_tags=True),
    ]
    server.add_repository("acme", "app", images=app)
    web = [
        FakeImage(digest_of(f"web-{i}"), tags=[f"b{i}"], last_pushed=_days(50 + i))
        for i in range(30)
    ]
    server.add_repository("acme", "web", images=web)
    server.add_repository(
        "bobs",
        "pub",
        images=[
            FakeImage(digest_of(f"pub-{i}"), tags=[f"p{i}"], last_pushed=_days(60 + i))
            for i in range(3)
        ],
    )
    return {
        # 0.1 is a pre-2020 tag: no tag_* fields, judged by its platform image (never pulled).
        "acme/app": {"1.0", "3.0", "3", "0.1"},
        "acme/web": {f"b{i}" for i in range(1, 30)},  # b0 is the most recently pushed
        "bobs/pub": {"p1", "p2"},
    }


@asynccontextmanager
async def client(server: FakeHub, **options: Any) -> AsyncIterator[HubClient]:
    async with HubClient(
        username="alice", secret=PAT, base_url=server.url, requests_per_minute=1_000_000, **options
    ) as hub:
        yield hub


async def _plan(hub: HubClient, namespaces: list[str], **kw: Any) -> Any:
    audits = [a async for a in audit_namespaces(hub, namespaces, source="tags", active_from=CUTOFF)]
    return plan_tag_prune(audits, cutoff=CUTOFF, **kw)


def _tags(server: FakeHub, full: str) -> set[str]:
    ns, repo = full.split("/")
    return set(server.tags(ns, repo))


async def test_apply_deletes_the_plan_and_reports_what_it_could_not(fake_hub: FakeHub) -> None:
    expected = seed(fake_hub)
    fake_hub.set_immutable_tags("acme", "app", ["3"])
    before = {name: _tags(fake_hub, name) for name in expected}
    async with client(fake_hub) as hub:
        plan = await _plan(hub, ["acme", "bobs"])
        planned = {(f"{d.namespace}/{d.repository}", d.tag) for d in plan.deletions}
        assert planned == {(repo, tag) for repo, tags in expected.items() for tag in tags}
        fake_hub.pull("acme", "web", "b29")  # too late: planned already, deleted anyway
        await hub.repositories.delete_tag("acme", "web", "b28")  # someone else was faster
        result = await apply_prune(hub, plan, concurrency=4)
    status = {o.deletion.full_name: o.status for o in result.outcomes}
    assert status["acme/web:b28"] == "already_gone"
    assert status["acme/app:3"] == "immutable" and "3" in _tags(fake_hub, "acme/app")
    # bobs/pub: a permission error is reported (the rest of that repository is skipped
    # unless already in flight); the run went on with the other repositories.
    bobs = [v for k, v in status.items() if k.startswith("bobs/")]
    assert len(bobs) == 2 and "failed" in bobs and set(bobs) <= {"failed", "skipped"}
    assert _tags(fake_hub, "bobs/pub") == before["bobs/pub"]
    assert _tags(fake_hub, "acme/web") == {"b0"}
    assert _tags(fake_hub, "acme/app") == {"latest", "2.0", "3"}
    assert not result.ok
    # Exactly one successful DELETE per deleted tag.
    deletes = Counter(r.path for r in fake_hub.requests if r.method == "DELETE" and r.status == 204)
    assert set(deletes.values()) == {1}
    async with client(fake_hub) as hub:  # a re-run plans only what could not go
        again = await _plan(hub, ["acme"])
    assert [d.full_name for d in again.deletions] == ["acme/app:3"]


@pytest.mark.fake_hub(rate_limit=6, window_s=1.0, retry_hint="retry-after-seconds")
async def test_a_429_mid_prune_waits_and_deletes_no_tag_twice(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with HubClient(username="alice", secret=PAT, base_url=fake_hub.url) as hub:
        plan = await _plan(hub, ["acme"], keep=1)
        fake_hub.reset_log()
        result = await apply_prune(hub, plan, concurrency=16)
    assert result.ok and len(result.by_status("deleted")) == len(plan.deletions) == 33
    sent = [r for r in fake_hub.requests if r.method == "DELETE"]
    done = Counter(r.path for r in sent if r.status == 204)
    assert len(done) == 33 and set(done.values()) == {1}
    assert all(r.status in (204, 429) for r in sent)


# ------------------------------------------------------------------------------ the CLI


def _build() -> FakeHub:
    server = FakeHub(rate_limit=1_000_000, window_s=60)
    server.expected = seed(server)  # type: ignore[attr-defined]
    return server


@pytest.fixture
def today() -> Any:
    threaded = ThreadedHub(_build)
    try:
        yield threaded
    finally:
        threaded.close()


def _invoke(hub: ThreadedHub, args: list[str], input: str | None = None) -> Any:
    env = {
        "HUBASYNC_BASE_URL": hub.server.url,
        "DOCKERHUB_USERNAME": "alice",
        "DOCKERHUB_TOKEN": PAT,
    }
    return CliRunner().invoke(cli, args, env=env, input=input)


def test_cli_prune_dry_run_then_yes_then_a_rerun_that_deletes_nothing(today: ThreadedHub) -> None:
    server = today.server
    args = ["prune", "acme", "--inactive", "--older-than", "45d"]
    dry = _invoke(today, [*args, "--format", "json"])
    assert dry.exit_code == 0, dry.stderr
    doc = json.loads(dry.stdout)
    planned = {(d["repository"], d["tag"]) for d in doc["deletions"]}
    expected: dict[str, set[str]] = server.expected  # type: ignore[attr-defined]
    assert planned == {
        (r.split("/")[1], t) for r, tags in expected.items() if r.startswith("acme/") for t in tags
    }
    assert all(
        d["action"] == "would delete" and "no push or pull since" in d["reason"]
        for d in doc["deletions"]
    )
    assert doc["dry_run"] is True and "untagged" in doc["note"]
    assert today.sync(lambda: _tags(server, "acme/web")) == {f"b{i}" for i in range(30)}
    table = _invoke(today, args)  # the table prints every planned deletion with its reason
    assert (
        table.stdout.count("would delete") == len(planned)
        and "Run again with --yes" in table.stderr
    )

    done = _invoke(today, [*args, "--yes", "--format", "csv"])
    assert done.exit_code == 0, done.stderr
    assert done.stdout.count(",deleted,") == len(planned)
    assert today.sync(lambda: _tags(server, "acme/web")) == {"b0"}
    assert today.sync(lambda: _tags(server, "acme/app")) == {"latest", "2.0"}

    today.sync(server.reset_log)
    rerun = _invoke(today, [*args, "--yes"])
    assert rerun.exit_code == 0 and "deleted 0 tags" in rerun.stderr
    assert not today.sync(lambda: [r for r in server.requests if r.method == "DELETE"])


def test_cli_prune_of_one_repository_with_keep_and_match(today: ThreadedHub) -> None:
    result = _invoke(
        today,
        [
            "prune",
            "acme/web",
            "--inactive",
            "--older-than",
            "8w",
            "--keep",
            "3",
            "--match",
            "b1*",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    # 8 weeks = 56 days: b6.. are older; keep b0-b2; match b1*: b10-b19 (and b1, kept? no: 51 d).
    assert sorted(d["tag"] for d in doc["deletions"]) == sorted(f"b1{i}" for i in range(10))
    assert {d["repository"] for d in doc["deletions"]} == {"web"}
    # NS/REPO reads that repository only: no listing of acme, no other repository's tags.
    paths = today.sync(lambda: [r.path for r in today.server.requests])
    assert "/v2/namespaces/acme/repositories" not in paths
    assert not [p for p in paths if "/acme/repositories/" in p and "/repositories/web" not in p]


def test_cli_tags_rm_asks_first_and_reports_gone_tags(today: ThreadedHub) -> None:
    server = today.server
    refused = _invoke(today, ["tags", "rm", "acme/app", "1.0"], input="n\n")
    assert refused.exit_code == 1 and "1.0" in today.sync(lambda: _tags(server, "acme/app"))
    done = _invoke(today, ["tags", "rm", "acme/app", "1.0", "nope", "--yes"])
    assert done.exit_code == 0, done.stderr
    assert "deleted acme/app:1.0" in done.stderr and "acme/app:nope is already gone" in done.stderr
    assert "1.0" not in today.sync(lambda: _tags(server, "acme/app"))
    today.sync(lambda: server.set_immutable_tags("acme", "app", ["latest"]))
    locked = _invoke(today, ["tags", "rm", "acme/app", "latest"], input="y\n")
    assert locked.exit_code == 1 and "immutable" in locked.stderr


async def test_a_permission_error_skips_the_rest_of_that_repository(fake_hub: FakeHub) -> None:
    seed(fake_hub)
    async with client(fake_hub) as hub:
        plan = await _plan(hub, ["bobs"])
        result = await apply_prune(hub, plan, concurrency=1)
    assert [o.status for o in result.outcomes] == ["failed", "skipped"]
    assert result.outcomes[0].failure is not None and result.outcomes[0].failure.status == 403
    assert len([r for r in fake_hub.requests if r.method == "DELETE"]) == 1


def test_cli_prune_dry_run_reads_immutable_rules_and_keeps_those_tags(today: ThreadedHub) -> None:
    server = today.server
    today.sync(lambda: server.set_immutable_tags("acme", "app", [r"3(\.0)?"]))
    today.sync(server.reset_log)
    result = _invoke(
        today, ["prune", "acme", "--inactive", "--older-than", "45d", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    app = {d["tag"] for d in doc["deletions"] if d["repository"] == "app"}
    assert app == {"1.0", "0.1"}
    kept = {k["tag"]: k["reason"] for k in doc["kept"] if k["repository"] == "app"}
    assert "immutable" in kept["3"] and "immutable" in kept["3.0"]
    # One repositories.get per repository with planned deletions (the listing did not say).
    gets = [r.path for r in today.sync(lambda: list(server.requests)) if r.path.count("/") == 5]
    assert sorted(gets) == [
        "/v2/namespaces/acme/repositories/app",
        "/v2/namespaces/acme/repositories/web",
    ]
