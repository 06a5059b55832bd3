"""The ``hubasync`` command, end to end against a FakeHub served from a background thread.

The commands run their own event loop (``asyncio.run``), so these tests are synchronous and
drive the click app in-process with ``CliRunner``; the FakeHub lives on another thread's
loop. One test runs ``python -m hubasync`` as a subprocess.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click
import pytest
from click.testing import CliRunner, Result

from hubasync.audit import EMPTY_NAMESPACE_WARNING
from hubasync.cli._app import cli
from hubasync.cli._common import parse_repository, parse_when, run
from hubasync.cli._prune import batches, ignorable
from hubasync.models import DeleteWarning
from hubasync.testing import FakeHub, FakeImage, Fault, digest_of

T = TypeVar("T")

PAT = "dckr_pat_alice_cli_SECRET_0123456789"
PASSWORD = "alice-Password-SECRET"
NOW = datetime.now(UTC)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


class ThreadedHub:
    """A FakeHub running on its own event loop in a daemon thread."""

    def __init__(self, build: Callable[[], FakeHub]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: FakeHub = self.call(self._start(build))

    @staticmethod
    async def _start(build: Callable[[], FakeHub]) -> FakeHub:
        return await build().start()

    def call(self, coro: Awaitable[T]) -> T:
        """Run a coroutine on the server's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)  # type: ignore[arg-type]

    def sync(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the server's loop (reads and writes of its state)."""

        async def wrapper() -> T:
            return fn()

        return self.call(wrapper())

    def close(self) -> None:
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def build_hub() -> FakeHub:
    # A generous limit: its headers tell the client it need not pace at 180/min.
    server = FakeHub(image_api=True, rate_limit=1_000_000, window_s=60)
    server.add_user("alice", PASSWORD, pats=[PAT])
    server.add_user("carol", "carol-password", totp="123456")
    server.add_user("bob", "bob-password")
    server.add_namespace("acme", members=["alice"])
    server.add_repository(
        "acme",
        "api",
        images=[
            FakeImage(digest_of("api-old"), tags=["1.0"], last_pushed=_days(100)),
            FakeImage(digest_of("api-mid"), last_pushed=_days(60)),
            FakeImage(digest_of("api-new"), tags=["latest"], last_pushed=_days(2)),
        ],
    )
    server.add_repository(
        "acme", "web", images=[FakeImage(digest_of("web"), tags=["latest"], last_pushed=_days(1))]
    )
    server.add_namespace("bobs", members=["bob"])
    server.add_repository("bobs", "pub", images=[FakeImage(digest_of("pub"), tags=["x"])])
    return server


@pytest.fixture(scope="module")
def hub() -> Iterator[ThreadedHub]:
    threaded = ThreadedHub(build_hub)
    try:
        yield threaded
    finally:
        threaded.close()


def env_for(
    hub: ThreadedHub, *, token: str | None = PAT, user: str | None = "alice"
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "HUBASYNC_BASE_URL": hub.server.url,
        "DOCKERHUB_USERNAME": user,
        "DOCKERHUB_TOKEN": token,
    }
    return env


def invoke(hub: ThreadedHub, args: list[str], *, input: str | None = None, **env: Any) -> Result:
    runner = CliRunner()
    result = runner.invoke(cli, args, env={**env_for(hub), **env}, input=input)
    # No secret ever reaches the output.
    for secret in (PAT, PASSWORD):
        assert secret not in result.stdout and secret not in result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# ------------------------------------------------------------------------------ audit


def test_audit_json_reports_failures_and_exits_3_partial(hub: ThreadedHub) -> None:
    result = invoke(hub, ["audit", "acme", "bobs", "missing", "--format", "json"])
    assert result.exit_code == 3, result.stderr  # partial: written, some failed
    doc = json.loads(result.stdout)
    repos = {(r["namespace"], r["repository"]): r for r in doc["repositories"]}
    assert set(repos) == {("acme", "api"), ("acme", "web"), ("bobs", "pub"), ("missing", None)}
    api = repos["acme", "api"]
    assert api["summary"] == {"total": 3, "active": 1, "inactive": 2}
    assert {i["digest"] for i in api["inactive_images"]} == {
        digest_of("api-old"),
        digest_of("api-mid"),
    }
    old = next(i for i in api["inactive_images"] if i["digest"] == digest_of("api-old"))
    assert old["tags"] == ["1.0"] and old["last_pushed"].endswith("Z")
    assert repos["bobs", "pub"]["errors"][0]["status"] == 403
    assert repos["missing", None]["warnings"] == [EMPTY_NAMESPACE_WARNING]
    assert f"warning: missing: {EMPTY_NAMESPACE_WARNING}" in result.stderr
    assert doc["totals"]["repositories"] == 3
    assert doc["totals"]["failed_repositories"] == 1
    assert doc["totals"]["failed_namespaces"] == 0
    assert doc["totals"]["empty_namespaces"] == 1
    assert doc["namespaces"]["acme"]["inactive"] == 2
    # One clear line per failure or warning on stderr, no traceback.
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(("error: ", "warning: ")) for line in lines)
    assert any(line.startswith("error: bobs/pub: ") for line in lines)
    assert any(line.startswith("warning: missing: ") for line in lines)
    assert "Traceback" not in result.stderr


def test_audit_csv_to_file_exits_0(hub: ThreadedHub, tmp_path: Any) -> None:
    target = tmp_path / "audit.csv"
    result = invoke(
        hub,
        ["audit", "acme", "--format", "csv", "--output", str(target), "--include-tags"],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    rows = {r["repository"]: r for r in csv.DictReader(io.StringIO(target.read_text()))}
    assert set(rows) == {"api", "web"}
    assert (rows["api"]["total"], rows["api"]["inactive"], rows["api"]["tags"]) == ("3", "2", "2")
    assert rows["api"]["inactive_tagged"] == "1"
    assert rows["web"]["errors"] == ""


def test_a_failed_audit_leaves_the_previous_report_file_alone(
    hub: ThreadedHub, tmp_path: Any
) -> None:
    target = tmp_path / "audit.json"
    target.write_text('{"previous": "good report"}')
    result = invoke(
        hub,
        ["audit", "acme", "--format", "json", "--output", str(target)],
        DOCKERHUB_TOKEN="dckr_pat_wrong_wrong_wrong",
    )
    assert result.exit_code == 1, result.stderr
    assert target.read_text() == '{"previous": "good report"}'
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]  # no partial file left


def test_audit_output_writes_through_a_symlink_and_keeps_the_files_mode(
    hub: ThreadedHub, tmp_path: Any
) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = invoke(hub, ["audit", "acme", "--format", "json", "--output", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and json.loads(real.read_text())["repositories"]
    assert real.stat().st_mode & 0o777 == 0o600


def test_audit_active_from_and_table(hub: ThreadedHub) -> None:
    result = invoke(hub, ["audit", "acme", "--active-from", "200d"])
    assert result.exit_code == 0, result.stderr
    assert "acme" in result.stdout and "total" in result.stdout
    json_result = invoke(
        hub, ["audit", "acme", "--format", "json", "--active-from", NOW.date().isoformat()]
    )
    doc = json.loads(json_result.stdout)
    assert doc["totals"]["inactive"] == 4  # nothing pushed or pulled today
    doc = json.loads(
        invoke(hub, ["audit", "acme", "--format", "json", "--active-from", "200d"]).stdout
    )
    assert doc["totals"]["inactive"] == 0


def test_token_from_stdin(hub: ThreadedHub) -> None:
    result = invoke(
        hub,
        ["audit", "acme", "--format", "json", "--username", "alice", "--token-stdin"],
        input=PAT + "\n",
        DOCKERHUB_TOKEN=None,
        DOCKERHUB_USERNAME=None,
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["repositories"] == 2


def test_an_audit_where_nothing_worked_exits_1_not_partial(hub: ThreadedHub) -> None:
    result = invoke(hub, ["audit", "bobs", "--format", "json"])  # its one repository: 403
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["totals"]["failed_repositories"] == 1


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["audit", "acme", "--format", "xml"], {}, "xml"),
        (["audit"], {}, "NAMESPACES"),
        (["audit", "Not/Valid"], {}, "error: "),
        (["audit", "acme", "--active-from", "yesterday"], {}, "not a date"),
        (["audit", "acme", "--concurrency", "0"], {}, "concurrency"),
        (["audit", "acme"], {"DOCKERHUB_USERNAME": None}, "DOCKERHUB_USERNAME"),
        (["audit", "acme"], {"DOCKERHUB_TOKEN": None}, "DOCKERHUB_TOKEN"),
        (["prune", "acme-api", "--inactive", "--source", "images"], {}, "NAMESPACE/REPOSITORY"),
        (["prune", "acme/api", "--source", "images"], {}, "--inactive"),
        (["prune", "acme/api"], {}, "--inactive"),
        (["prune", "acme", "--inactive", "--keep", "-1"], {}, "pass 0 or more"),
        (["prune", "acme", "--inactive", "--older-than", "3x"], {}, "e.g. 90d, 12h or 8w"),
        (["prune", "acme", "--inactive", "--match", "v1.[0-9"], {}, "without its closing"),
        (["prune", "acme", "--inactive", "--exclude", "a/b"], {}, "is not a tag glob"),
        (["prune", "a", "b/c", "--untagged"], {}, "exactly one NAMESPACE/REPOSITORY"),
        (["tags", "rm", "acme/api"], {}, "TAG..."),
        (["tags", "rm", "acme/api", "bad tag", "--yes"], {}, "not a valid tag"),
        (["tags", "list", "acme"], {}, "NAMESPACE/REPOSITORY"),
        (["tokens", "create", "ci"], {}, "--scope"),
        (["audit", "acme", "--token", PAT], {}, "No such option"),  # secrets never in argv
        (["repos", "list", "acme", "--base-url", "ftp://x"], {}, "error: "),
    ],
)
def test_usage_errors_exit_2(
    hub: ThreadedHub, args: list[str], env: dict[str, Any], needle: str
) -> None:
    result = invoke(hub, args, **env)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_hub_errors_are_one_line_and_debug_adds_the_traceback(hub: ThreadedHub) -> None:
    result = invoke(hub, ["tags", "list", "acme/nope"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "404" in result.stderr
    debug = invoke(hub, ["tags", "list", "acme/nope", "--debug"])
    assert debug.exit_code == 1 and "Traceback" in debug.stderr


def test_wrong_token_fails_cleanly(hub: ThreadedHub) -> None:
    result = invoke(hub, ["audit", "acme"], DOCKERHUB_TOKEN="dckr_pat_wrong_wrong_wrong_x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "dckr_pat_wrong" not in result.stderr


def test_two_factor_is_not_prompted_without_a_terminal(hub: ThreadedHub) -> None:
    result = invoke(
        hub,
        ["repos", "list", "acme"],
        input="123456\n",
        DOCKERHUB_USERNAME="carol",
        DOCKERHUB_TOKEN="carol-password",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "two-factor" in result.stderr.lower() or "2fa" in result.stderr.lower()


# ------------------------------------------------------------------------ lists, tokens


def test_repos_list_json_and_csv(hub: ThreadedHub) -> None:
    result = invoke(hub, ["repos", "list", "acme", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert sorted(r["name"] for r in json.loads(result.stdout)) == ["api", "web"]
    result = invoke(hub, ["repos", "list", "acme", "--format", "csv", "--name", "we"])
    assert [r["name"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["web"]
    table = invoke(hub, ["repos", "list", "acme"])
    assert "api" in table.stdout and "web" in table.stdout


def test_tags_list_formats(hub: ThreadedHub) -> None:
    result = invoke(hub, ["tags", "list", "acme/api", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    tags = {t["name"]: t for t in json.loads(result.stdout)}
    assert set(tags) == {"1.0", "latest"}
    assert tags["latest"]["status"] == "active" and tags["1.0"]["status"] == "inactive"
    assert tags["1.0"]["digest"] == digest_of("api-old")
    rows = list(
        csv.DictReader(
            io.StringIO(invoke(hub, ["tags", "list", "acme/api", "--format", "csv"]).stdout)
        )
    )
    assert [r["name"] for r in rows] == ["latest", "1.0"]


def test_tokens_create_list_revoke(hub: ThreadedHub) -> None:
    created = invoke(hub, ["tokens", "create", "ci-bot", "--scope", "repo:read"])
    assert created.exit_code == 0, created.stderr
    value = created.stdout.strip()
    assert value.startswith("dckr_pat_") and "\n" not in value
    assert value not in created.stderr

    listed = invoke(hub, ["tokens", "list", "--format", "json"])
    tokens = {t["label"]: t for t in json.loads(listed.stdout)}
    assert tokens["ci-bot"]["scopes"] == ["repo:read"]
    assert value not in listed.stdout  # lists never show values
    uuid = tokens["ci-bot"]["uuid"]

    as_json = invoke(
        hub,
        [
            "tokens",
            "create",
            "ci-json",
            "--scope",
            "repo:write",
            "--format",
            "json",
            "--expires-at",
            "30d",
        ],
    )
    [made] = json.loads(as_json.stdout)
    assert made["token"].startswith("dckr_pat_") and made["expires_at"] > NOW.isoformat()

    revoked = invoke(hub, ["tokens", "revoke", uuid])
    assert revoked.exit_code == 0, revoked.stderr
    rows = csv.DictReader(io.StringIO(invoke(hub, ["tokens", "list", "--format", "csv"]).stdout))
    assert "ci-bot" not in {r["label"] for r in rows}
    assert invoke(hub, ["tokens", "revoke", uuid]).exit_code == 1  # gone: 404


# ------------------------------------------------------------------------------ prune


_PRUNE_REPOS = itertools.count()


@pytest.fixture
def prune_hub(hub: ThreadedHub) -> ThreadedHub:
    """A fresh repository per test: 150 inactive untagged images, 2 inactive tagged, 1 active."""

    name = f"prune{next(_PRUNE_REPOS)}"

    def seed() -> None:
        images = [FakeImage(digest_of(f"{name}-{i}"), last_pushed=_days(90)) for i in range(150)]
        images.append(FakeImage(digest_of(f"{name}-t1"), tags=["v1"], last_pushed=_days(80)))
        images.append(FakeImage(digest_of(f"{name}-t2"), tags=["v2"], last_pushed=_days(70)))
        images.append(FakeImage(digest_of(f"{name}-new"), tags=["latest"], last_pushed=_days(1)))
        hub.server.add_repository("acme", name, images=images)

    hub.sync(seed)
    hub.prune_repo = name  # type: ignore[attr-defined]
    return hub


def test_prune_dry_run_shows_hubs_warnings_and_deletes_nothing(prune_hub: ThreadedHub) -> None:
    repo = prune_hub.prune_repo  # type: ignore[attr-defined]
    result = invoke(
        prune_hub, ["prune", f"acme/{repo}", "--inactive", "--format", "json", "--source", "images"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True
    assert len(doc["images"]) == 152
    assert doc["batches"] == 2  # 152 manifests: 100 + 52
    warned = {w["digest"]: w for w in doc["warnings"]}
    assert set(warned) == {digest_of(f"{repo}-t1"), digest_of(f"{repo}-t2")}
    assert all(w["warning"] == "current_tag" for w in warned.values())
    assert doc["metrics"]["manifest_deletes"] == 152
    assert "dry run" in result.stderr and "--yes" in result.stderr
    assert len(prune_hub.sync(lambda: prune_hub.server.image_digests("acme", repo))) == 153


def test_prune_yes_deletes_in_batches_passing_warnings_back(prune_hub: ThreadedHub) -> None:
    repo = prune_hub.prune_repo  # type: ignore[attr-defined]
    before = len(prune_hub.server.requests)
    result = invoke(
        prune_hub, ["prune", f"acme/{repo}", "--inactive", "--yes", "--source", "images"]
    )
    assert result.exit_code == 0, result.stderr
    assert "deleted 152 manifests" in result.stderr
    left = prune_hub.sync(lambda: prune_hub.server.image_digests("acme", repo))
    assert left == [digest_of(f"{repo}-new")]
    deletes = [r for r in prune_hub.server.requests[before:] if r.path.endswith("/delete-images")]
    assert all(len(r.json["manifests"]) <= 100 for r in deletes)
    assert any(r.json.get("ignore_warnings") for r in deletes)
    assert not any(r.json.get("dry_run") for r in deletes)


def test_prune_untagged_only(prune_hub: ThreadedHub) -> None:
    repo = prune_hub.prune_repo  # type: ignore[attr-defined]
    result = invoke(prune_hub, ["prune", f"acme/{repo}", "--untagged", "--yes", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 150
    left = prune_hub.sync(lambda: prune_hub.server.image_digests("acme", repo))
    assert len(left) == 3


def test_prune_untagged_keeps_an_untagged_image_hub_counts_as_active(
    prune_hub: ThreadedHub,
) -> None:
    repo = prune_hub.prune_repo  # type: ignore[attr-defined]
    fresh = digest_of(f"{repo}-fresh")
    prune_hub.sync(
        lambda: prune_hub.server.add_image("acme", repo, FakeImage(fresh, last_pushed=_days(0)))
    )
    result = invoke(prune_hub, ["prune", f"acme/{repo}", "--untagged", "--yes"])
    assert result.exit_code == 0, result.stderr
    assert "1 images kept" in result.stderr
    left = prune_hub.sync(lambda: prune_hub.server.image_digests("acme", repo))
    assert fresh in left and len(left) == 4  # pushed today: in use by digest, maybe
    deletes = [r for r in prune_hub.server.requests if r.path.endswith("/delete-images")]
    ignored = [w for r in deletes for w in r.json.get("ignore_warnings", [])]
    assert not any(w["warning"] == "is_active" for w in ignored)


def test_prune_refuses_an_active_from_in_the_future(prune_hub: ThreadedHub) -> None:
    repo = prune_hub.prune_repo  # type: ignore[attr-defined]
    before = len(prune_hub.server.requests)
    result = invoke(
        prune_hub,
        [
            "prune",
            f"acme/{repo}",
            "--inactive",
            "--active-from",
            "2099-01-01",
            "--yes",
            "--source",
            "images",
        ],
    )
    assert result.exit_code == 2, result.stderr
    assert "in the future" in result.stderr
    assert len(prune_hub.server.requests) == before  # nothing listed, nothing deleted


def test_ignorable_warnings_follow_the_selection() -> None:
    def warning(kind: str) -> DeleteWarning:
        return DeleteWarning(repository="r", digest=digest_of("x"), warning=kind, tags=["t"])

    assert ignorable(warning("current_tag"), tagged_ok=True)
    assert not ignorable(warning("current_tag"), tagged_ok=False)
    assert not ignorable(warning("is_active"), tagged_ok=True)
    assert not ignorable(warning("something_new"), tagged_ok=True)


def test_prune_without_write_access_fails(hub: ThreadedHub) -> None:
    result = invoke(
        hub, ["prune", "bobs/pub", "--inactive", "--active-from", "1d", "--source", "images"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


# ------------------------------------------------------------------------------- demo


def test_demo_runs_the_audit_against_an_embedded_fakehub() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--scale", "0.1", "--format", "json"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    doc = json.loads(result.stdout)
    assert doc["fakehub"]["namespaces"] == 3 and doc["fakehub"]["image_api"] is False
    assert doc["totals"]["repositories"] == doc["totals"]["tags_source"] == 30
    assert doc["totals"]["tags"] > 30 and doc["totals"]["inactive_tags"] > 0
    assert doc["totals"]["failed_repositories"] == 0
    # A login, 3 listings, one probe, 30 tag listings, and the retries of transient 503s.
    retries = doc["client"]["retries"]
    assert doc["client"]["requests"] == 1 + 3 + 1 + 30 + retries
    assert doc["client"]["logins"] == 1
    assert len(doc["top_inactive"]) == 10
    assert doc["fakehub"]["over_limit"] == doc["client"]["rate_limited"]
    assert doc["notes"] and "untagged" in doc["notes"][0]


def test_demo_seed_api_runs_the_image_path() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--scale", "0.1", "--format", "json", "--seed-api"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    doc = json.loads(result.stdout)
    assert doc["fakehub"]["image_api"] is True
    assert doc["totals"]["images_source"] == 30 and doc["totals"]["tags_source"] == 0
    assert doc["totals"]["images"] == doc["fakehub"]["images"]
    assert doc["notes"] == []


def test_python_dash_m_hubasync_demo_table() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hubasync", "demo", "--scale", "0.05"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "total" in proc.stdout and "requests" in proc.stdout
    assert "Most inactive repositories" in proc.stdout
    assert "FakeHub on http://127.0.0.1:" in proc.stderr


# ---------------------------------------------------------------------- pure helpers


def test_parse_when() -> None:
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert parse_when("30d", now) == datetime(2024, 5, 2, 12, tzinfo=UTC)
    assert parse_when("2w", now, future=True) == datetime(2024, 6, 15, 12, tzinfo=UTC)
    assert parse_when("12h", now) == datetime(2024, 6, 1, 0, tzinfo=UTC)
    assert parse_when("2024-05-01", now) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_when("2024-05-01T10:00:00+02:00", now) == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_when("2024-05-01T10:00:00Z", now) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_when("last tuesday", now)


def test_parse_repository_and_batches() -> None:
    assert parse_repository("library/nginx") == ("library", "nginx")
    for bad in ("nginx", "a/b/c", "/x", "x/"):
        with pytest.raises(ValueError, match="NAMESPACE/REPOSITORY"):
            parse_repository(bad)
    assert [len(b) for b in batches(list(range(250)))] == [100, 100, 50]
    assert batches([]) == []
    assert [x for b in batches(list(range(7)), 3) for x in b] == list(range(7))


def test_fault_on_one_repository_gives_exit_3_and_partial_report(hub: ThreadedHub) -> None:
    hub.sync(
        lambda: hub.server.inject(Fault.error(503, path=r"/acme/repositories/web/images-summary$"))
    )
    try:
        result = invoke(hub, ["audit", "acme", "--format", "json"])
    finally:
        hub.sync(hub.server.clear_faults)
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    web = next(r for r in doc["repositories"] if r["repository"] == "web")
    assert web["errors"][0]["status"] == 503
    assert doc["totals"]["failed_repositories"] == 1
    assert result.stderr.startswith("error: acme/web: ")


@pytest.mark.parametrize(
    ("raised", "code", "says"),
    [
        (BrokenPipeError(32, "Broken pipe"), 141, ""),
        (UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range"), 1, "PYTHONIOENCODING"),
        (ValueError("namespace '' must not be empty"), 2, "must not be empty"),
    ],
    ids=["closed-pipe", "unencodable", "bad-input"],
)
def test_run_maps_failures_to_exit_codes(raised: Exception, code: int, says: str) -> None:
    async def main() -> int:
        raise raised

    @click.command()
    def command() -> None:
        run(False, main)

    result = CliRunner().invoke(command, [])
    assert result.exit_code == code
    assert says in result.stderr
    assert "Broken pipe" not in result.stderr
