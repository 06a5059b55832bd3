"""``hubasync access`` and the organization administration commands (members, groups,
invites, org-tokens, repos create), end to end with CliRunner against a generated FakeHub
(see tests/test_cli.py for the threaded server)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from hubasync.cli._app import cli
from hubasync.cli._orgs import parse_resource
from hubasync.testing import FakeHub, PlantedAccess

from .test_cli import ThreadedHub


def build() -> FakeHub:
    return FakeHub.generate(
        namespaces=3, repos_per_namespace=1, images_per_repo=1, rate_limit=1_000_000, window_s=60
    )


@pytest.fixture(scope="module")
def hub() -> Iterator[ThreadedHub]:
    threaded = ThreadedHub(build)
    try:
        yield threaded
    finally:
        threaded.close()


@pytest.fixture
def fresh() -> Iterator[ThreadedHub]:
    """A hub of its own, for commands that change the state."""
    threaded = ThreadedHub(build)
    try:
        yield threaded
    finally:
        threaded.close()


def planted(hub: ThreadedHub) -> PlantedAccess:
    access = hub.server.generated.access
    assert access is not None
    return access


def invoke(hub: ThreadedHub, args: list[str], *, input: str | None = None) -> Result:
    data = hub.server.generated
    env = {
        "HUBASYNC_BASE_URL": hub.server.url,
        "DOCKERHUB_USERNAME": data.username,
        "DOCKERHUB_TOKEN": data.pat,
    }
    result = CliRunner().invoke(cli, args, env=env, input=input)
    assert data.pat not in result.stdout and data.pat not in result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# ----------------------------------------------------------------------------- access


def test_access_json_reports_exactly_the_planted_findings(hub: ThreadedHub) -> None:
    p = planted(hub)
    first, second = p.orgs
    result = invoke(hub, ["access", first, second, p.unreadable_org, "--format", "json"])
    assert result.exit_code == 3  # partial: one organization could not be read
    reports = json.loads(result.stdout)
    assert [r["org"] for r in reports] == [first, second, p.unreadable_org, None]
    org_findings = {
        (r["org"], f["severity"], f["code"], f["subject"])
        for r in reports
        if r["kind"] == "organization"
        for f in r["findings"]
    }
    assert org_findings == {
        (second, "warning", "single-owner", second),
        (first, "warning", "token-never-used", p.never_used_token),
        (first, "info", "token-expired", p.expired_token),
        (first, "warning", "invite-old", p.old_invite),
        (first, "info", "member-in-no-group", p.member_in_no_group),
        (p.unreadable_org, "critical", "org-unreadable", p.unreadable_org),
    }
    personal = reports[-1]
    assert personal["kind"] == "personal" and len(personal["tokens"]) == 1
    assert [f["code"] for f in personal["findings"]] == ["token-no-expiry"]
    assert reports[0]["owners"] == 2 and reports[1]["owners"] == 1
    assert {g["name"]: g["members"] for g in reports[0]["groups"]}["owners"] == ["bench", "olivia"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and p.unreadable_org in errors[0] and "403" in errors[0]


def test_access_csv_is_one_line_per_finding_and_exits_0_when_all_was_read(
    hub: ThreadedHub,
) -> None:
    p = planted(hub)
    result = invoke(hub, ["access", *p.orgs, "--format", "csv", "--no-personal-tokens"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted((r["org"], r["code"]) for r in rows) == sorted(
        [
            (p.orgs[0], "invite-old"),
            (p.orgs[0], "token-never-used"),
            (p.orgs[0], "token-expired"),
            (p.orgs[0], "member-in-no-group"),
            (p.orgs[1], "single-owner"),
        ]
    )
    assert "no way to read" not in result.stdout  # notes go to stderr, as notes
    assert "note: groups' repository permissions are not reported" in result.stderr


def test_access_thresholds(hub: ThreadedHub) -> None:
    p = planted(hub)
    args = ["access", p.orgs[0], "--format", "csv", "--no-personal-tokens"]
    # invites are 60 and 2 days old; ci-pull was used 2 days ago, expired 15 days ago
    result = invoke(hub, [*args, "--invite-age-days", "1", "--unused-days", "1"])
    assert result.exit_code == 0
    found = {(r["code"], r["subject"]) for r in csv.DictReader(io.StringIO(result.stdout))}
    assert {("invite-old", p.old_invite), ("invite-old", "new-invitee@example.com")} <= found
    assert ("token-unused", "ci-pull") in found


def test_access_exits_1_when_nothing_could_be_read(hub: ThreadedHub) -> None:
    p = planted(hub)
    result = invoke(hub, ["access", p.unreadable_org, "--no-personal-tokens", "--format", "json"])
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)
    assert [f["code"] for f in report["findings"]] == ["org-unreadable"]


def test_access_table_shows_the_summary_and_findings(hub: ThreadedHub) -> None:
    p = planted(hub)
    result = invoke(hub, ["access", p.orgs[1]])
    assert result.exit_code == 0
    assert "Access audit" in result.stdout and "single-owner" in result.stdout
    assert "personal" in result.stdout


def test_access_usage_errors(hub: ThreadedHub) -> None:
    assert invoke(hub, ["access"]).exit_code == 2
    assert invoke(hub, ["access", "../x"]).exit_code == 2
    assert invoke(hub, ["access", "acme", "--unused-days", "-1"]).exit_code == 2


# ---------------------------------------------------------------------------- members


def test_members_ls_and_export(hub: ThreadedHub) -> None:
    first = planted(hub).orgs[0]
    listed = json.loads(invoke(hub, ["members", "ls", first, "--format", "json"]).stdout)
    assert {m["username"]: m["role"] for m in listed}["eddie"] == "Editor"
    owners = json.loads(
        invoke(hub, ["members", "ls", first, "--role", "owner", "--format", "json"]).stdout
    )
    assert sorted(m["username"] for m in owners) == ["bench", "olivia"]
    lines = invoke(hub, ["members", "ls", first, "--format", "jsonl"]).stdout.splitlines()
    assert [json.loads(line)["username"] for line in lines] == [m["username"] for m in listed]
    exported = list(
        csv.DictReader(
            io.StringIO(invoke(hub, ["members", "export", first, "--format", "csv"]).stdout)
        )
    )
    assert {r["email"]: r["type"] for r in exported}[planted(hub).old_invite] == "Invitee"


def test_members_set_role_and_rm_ask_first(fresh: ThreadedHub) -> None:
    first = planted(fresh).orgs[0]
    declined = invoke(fresh, ["members", "rm", first, "mia"], input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.stderr
    assert "mia" in fresh.sync(lambda: fresh.server.org_members(first))
    assert (
        invoke(fresh, ["members", "set-role", first, "mia", "editor"], input="y\n").exit_code == 0
    )
    assert fresh.sync(lambda: fresh.server.org_members(first))["mia"] == "editor"
    assert invoke(fresh, ["members", "rm", first, "mia", "--yes"]).exit_code == 0
    assert "mia" not in fresh.sync(lambda: fresh.server.org_members(first))
    # the last owner of the second org cannot be removed: Hub's refusal, exit 1
    second = planted(fresh).orgs[1]
    refused = invoke(fresh, ["members", "rm", second, "bench", "--yes"])
    assert refused.exit_code == 1 and refused.stderr.startswith("error:")


def test_confirmation_cannot_come_from_a_stdin_carrying_the_token(fresh: ThreadedHub) -> None:
    first = planted(fresh).orgs[0]
    result = invoke(
        fresh, ["members", "rm", first, "mia", "--token-stdin"], input=fresh.server.generated.pat
    )
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert "mia" in fresh.sync(lambda: fresh.server.org_members(first))


# ----------------------------------------------------------------------------- groups


def test_groups_lifecycle(fresh: ThreadedHub) -> None:
    first = planted(fresh).orgs[0]
    assert (
        invoke(fresh, ["groups", "create", first, "qa", "--description", "testers"]).exit_code == 0
    )
    assert invoke(fresh, ["groups", "add-member", first, "qa", "nora"]).exit_code == 0
    members = json.loads(
        invoke(fresh, ["groups", "members", first, "qa", "--format", "json"]).stdout
    )
    assert [m["username"] for m in members] == ["nora"]
    listed = json.loads(invoke(fresh, ["groups", "ls", first, "--format", "json"]).stdout)
    assert {g["name"]: g["members"] for g in listed}["qa"] == 1
    assert invoke(fresh, ["groups", "rm-member", first, "qa", "nora", "--yes"]).exit_code == 0
    assert fresh.sync(lambda: fresh.server.org_groups(first))["qa"] == []
    assert invoke(fresh, ["groups", "rm", first, "qa"], input="y\n").exit_code == 0
    assert "qa" not in fresh.sync(lambda: fresh.server.org_groups(first))


# ---------------------------------------------------------------------------- invites


def test_invites_ls_resend_rm_and_bulk(fresh: ThreadedHub) -> None:
    p = planted(fresh)
    first = p.orgs[0]
    listed = json.loads(invoke(fresh, ["invites", "ls", first, "--format", "json"]).stdout)
    assert [i["invitee"] for i in listed] == [p.old_invite, "new-invitee@example.com"]
    old_id = listed[0]["id"]
    assert invoke(fresh, ["invites", "resend", old_id]).exit_code == 0
    assert invoke(fresh, ["invites", "rm", old_id, "--yes"]).exit_code == 0
    assert fresh.sync(lambda: fresh.server.org_invites(first)) == ["new-invitee@example.com"]
    dry = invoke(fresh, ["invites", "bulk", first, "a@example.com", "--dry-run", "--format", "csv"])
    assert dry.exit_code == 0 and "a@example.com" in dry.stdout
    assert "a@example.com" not in fresh.sync(lambda: fresh.server.org_invites(first))
    sent = invoke(
        fresh,
        ["invites", "bulk", first, "--file", "-", "--team", "developers", "--format", "json"],
        input="# new people\nb@example.com\n\nc@example.com\n",
    )
    assert [r["invitee"] for r in json.loads(sent.stdout)] == ["b@example.com", "c@example.com"]
    assert {"b@example.com", "c@example.com"} <= set(
        fresh.sync(lambda: fresh.server.org_invites(first))
    )
    assert invoke(fresh, ["invites", "bulk", first]).exit_code == 2


# ------------------------------------------------------------------------- org tokens


def test_org_tokens_create_ls_deactivate_revoke(fresh: ThreadedHub) -> None:
    first = planted(fresh).orgs[0]
    created = invoke(
        fresh,
        [
            "org-tokens",
            "create",
            first,
            "deploy",
            "--resource",
            f"{first}/*=repo-pull,repo-push",
            "--expires-at",
            "30d",
            "--format",
            "json",
        ],
    )
    assert created.exit_code == 0, created.stderr
    (row,) = json.loads(created.stdout)
    assert row["token"].startswith("dckr_oat_") and row["expires_at"] is not None
    listed = json.loads(invoke(fresh, ["org-tokens", "ls", first, "--format", "json"]).stdout)
    assert "deploy" in {t["label"] for t in listed}
    assert all("token" not in t for t in listed)
    assert invoke(fresh, ["org-tokens", "deactivate", first, row["id"], "--yes"]).exit_code == 0
    listed = json.loads(invoke(fresh, ["org-tokens", "ls", first, "--format", "json"]).stdout)
    assert {t["label"]: t["active"] for t in listed}["deploy"] is False
    assert invoke(fresh, ["org-tokens", "revoke", first, row["id"]], input="y\n").exit_code == 0
    labels = {t.label for t in fresh.sync(lambda: fresh.server.org_tokens(first))}
    assert "deploy" not in labels
    bad = invoke(fresh, ["org-tokens", "create", first, "x", "--resource", "nothing"])
    assert bad.exit_code == 2 and "PATH=SCOPE" in bad.stderr


def test_parse_resource() -> None:
    org = parse_resource("acme=member-read", "acme")
    assert (org.type.value, org.path, org.scopes) == ("TYPE_ORG", "acme", ["member-read"])
    repo = parse_resource(" */*/public = repo-pull , ", "acme")
    assert (repo.type.value, repo.path, repo.scopes) == ("TYPE_REPO", "*/*/public", ["repo-pull"])
    for bad in ("acme/app", "=repo-pull", "acme/app=", "acme/app=,"):
        with pytest.raises(ValueError, match="PATH=SCOPE"):
            parse_resource(bad, "acme")


# ----------------------------------------------------------------------- repos create


def test_repos_create(fresh: ThreadedHub) -> None:
    first = planted(fresh).orgs[0]
    result = invoke(fresh, ["repos", "create", f"{first}/brand-new", "--private"])
    assert result.exit_code == 0 and "created private repository" in result.stderr
    listed = json.loads(
        invoke(fresh, ["repos", "list", first, "--name", "brand-new", "--format", "json"]).stdout
    )
    assert [(r["name"], r["private"]) for r in listed] == [("brand-new", True)]
    assert invoke(fresh, ["repos", "create", "no-slash"]).exit_code == 2
