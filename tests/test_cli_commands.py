"""The command line's global options (before or after the subcommand), logging, exit codes,
JSON output modes, advice in flags, and the hub-tool parity commands: tokens
activate/deactivate/inspect, orgs settings get/set, audit-log ls, limits, fakehub serve."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hubasync.cli._app import _output, cli
from hubasync.cli._common import cli_advice, log_level, setup_logging
from hubasync.cli._output import JsonLines, JsonRows
from hubasync.testing import FakeHub

from .test_cli import PAT, ThreadedHub, build_hub
from .test_cli import hub as hub  # the module-scoped FakeHub fixture, one per module


@pytest.fixture(autouse=True)
def _no_leftover_logging() -> Iterator[None]:
    yield
    setup_logging(0)  # a -v run leaves the hubasync logger as it found it


def run_cli(args: list[str], **env: Any) -> Result:
    base = {"HUBASYNC_BASE_URL": None, "DOCKERHUB_USERNAME": None, "DOCKERHUB_TOKEN": None}
    result = CliRunner().invoke(cli, args, env={**base, **env})
    assert PAT not in result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def as_alice(hub: ThreadedHub) -> dict[str, str]:
    return {"DOCKERHUB_USERNAME": "alice", "DOCKERHUB_TOKEN": PAT}


# ------------------------------------------------------------------ global options


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_work_before_or_after_the_subcommand(hub: ThreadedHub, where: str) -> None:
    options = ["--base-url", hub.server.url, "--max-retries", "0", "--timeout", "5"]
    command = ["repos", "list", "acme", "--format", "json"]
    args = options + command if where == "before" else command + options
    result = run_cli(args, **as_alice(hub))
    assert result.exit_code == 0, result.stderr
    assert {r["name"] for r in json.loads(result.stdout)} == {"api", "web"}


def test_the_subcommands_value_wins_over_the_groups(hub: ThreadedHub) -> None:
    result = run_cli(
        ["--base-url", "http://127.0.0.1:9", "repos", "list", "acme", "--base-url", hub.server.url],
        **as_alice(hub),
    )
    assert result.exit_code == 0, result.stderr


def test_max_wait_reaches_the_client_and_its_advice_names_the_flag() -> None:
    def spent() -> FakeHub:
        server = build_hub()
        server.configure_rate_limit(3, window_s=600)
        return server

    threaded = ThreadedHub(spent)
    try:
        env = {"HUBASYNC_BASE_URL": threaded.server.url, **as_alice(threaded)}
        args = ["audit", "acme", "--format", "json", "--max-wait", "1", "--max-retries", "0"]
        result = run_cli(args, **env)
    finally:
        threaded.close()
    assert result.exit_code in (1, 3), result.stderr
    assert "--max-wait" in result.stderr
    assert "max_wait" not in result.stderr.replace("--max-wait", "")


def test_allow_http_is_a_flag_and_the_refusal_says_so() -> None:
    refused = run_cli(["--base-url", "http://hub.example.invalid", "repos", "list", "acme"])
    assert refused.exit_code == 2
    assert "--allow-http" in refused.stderr and "allow_http=True" not in refused.stderr
    plain = ["--base-url", "http://hub.example.invalid", "--max-retries", "0", "--timeout", "2"]
    allowed = run_cli(["--allow-http", *plain, "repos", "list", "acme"])
    assert allowed.exit_code == 1 and "--allow-http" not in allowed.stderr  # tried to connect


def test_help_documents_exit_codes_and_output_modes() -> None:
    text = run_cli(["--help"]).stdout
    for code, words in ((0, "ok"), (1, "nothing worked"), (2, "usage"), (3, "partial")):
        assert f"{code}  {words}" in text
    assert "jsonl" in text and "once complete" in text
    for flag in ("--max-wait", "--requests-per-minute", "--timeout", "--max-retries"):
        assert flag in text
    assert "--allow-http" in text and "-v, --verbose" in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("… longer than max_wait=3 s; retry after the reset or raise max_wait", "--max-wait 3 s"),
        ("use https, or pass allow_http=True if you mean it", "pass --allow-http"),
        (
            "this operation needs credentials: pass username= and secret= (or token=) to "
            "HubClient, or set DOCKERHUB_USERNAME/DOCKERHUB_TOKEN for HubClient.from_env()",
            "set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (or pass --username and --token-stdin)",
        ),
        (
            "pass two_factor= (a callable returning the current TOTP code) to HubClient, or",
            "run the command in a terminal to be asked for the code",
        ),
        ("requests_per_minute must be >= 1", "--requests-per-minute must be >= 1"),
    ],
)
def test_library_advice_becomes_flags(message: str, expected: str) -> None:
    advice = cli_advice(message)
    assert expected in advice
    for python_only in ("max_wait", "allow_http=", "HubClient", "two_factor=", "_per_"):
        assert python_only not in advice.replace("--max-wait", "")


# ------------------------------------------------------------------------ logging


@pytest.mark.parametrize(
    ("verbosity", "env", "level"),
    [
        (0, None, None),
        (1, None, logging.INFO),
        (2, None, logging.DEBUG),
        (5, None, logging.DEBUG),
        (0, "info", logging.INFO),
        (0, " DEBUG ", logging.DEBUG),
        (1, "debug", logging.DEBUG),
        (2, "info", logging.DEBUG),
        (0, "warning", logging.WARNING),
    ],
)
def test_log_level_from_v_and_env(verbosity: int, env: str | None, level: int | None) -> None:
    assert log_level(verbosity, env) == level


def test_a_bad_hubasync_log_is_a_usage_error(hub: ThreadedHub) -> None:
    result = run_cli(["repos", "list", "acme"], HUBASYNC_LOG="loud")
    assert result.exit_code == 2 and "HUBASYNC_LOG" in result.stderr


@pytest.mark.parametrize(
    ("args", "env"), [(["-v"], {}), ([], {"HUBASYNC_LOG": "info"}), (["-vv"], {})]
)
def test_v_logs_the_login_to_stderr_never_stdout(
    hub: ThreadedHub, args: list[str], env: dict[str, str]
) -> None:
    result = run_cli(
        [*args, "tokens", "list", "--format", "json"],
        HUBASYNC_BASE_URL=hub.server.url,
        **as_alice(hub),
        **env,
    )
    assert result.exit_code == 0, result.stderr
    assert "INFO hubasync.auth: logging in of Docker Hub user 'alice'" in result.stderr
    json.loads(result.stdout)  # stdout stays pure data
    quiet = run_cli(["tokens", "list"], HUBASYNC_BASE_URL=hub.server.url, **as_alice(hub))
    assert "hubasync.auth" not in quiet.stderr


# ------------------------------------------------------------------ output modes


def test_jsonl_streams_one_object_per_line(hub: ThreadedHub) -> None:
    result = run_cli(
        ["repos", "list", "acme", "--format", "jsonl"],
        HUBASYNC_BASE_URL=hub.server.url,
        **as_alice(hub),
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and {json.loads(line)["name"] for line in lines} == {"api", "web"}


def test_json_rows_write_nothing_until_complete_and_jsonl_at_once() -> None:
    out = io.StringIO()
    rows = JsonRows(out)
    rows.add({"a": 1})
    assert out.getvalue() == ""  # interrupted here: no half array on stdout
    rows.close()
    assert json.loads(out.getvalue()) == [{"a": 1}]
    lines = io.StringIO()
    stream = JsonLines(lines)
    stream.add({"a": 1})
    assert json.loads(lines.getvalue()) == {"a": 1}  # valid after the first row


def test_buffered_stdout_gets_nothing_from_a_failed_run(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.suppress(KeyboardInterrupt), _output("-", buffered=True) as out:
        out.write('{"repositories": [')
        raise KeyboardInterrupt
    assert capsys.readouterr().out == ""
    with _output("-", buffered=True) as out:
        out.write("{}\n")
    assert capsys.readouterr().out == "{}\n"


# -------------------------------------------------------------------- new commands


def test_tokens_deactivate_activate_inspect(hub: ThreadedHub) -> None:
    env = {"HUBASYNC_BASE_URL": hub.server.url, **as_alice(hub)}
    created = run_cli(["tokens", "create", "toggle", "--scope", "repo:read"], **env)
    assert created.exit_code == 0, created.stderr
    listed = json.loads(run_cli(["tokens", "list", "--format", "json"], **env).stdout)
    uuid = next(t["uuid"] for t in listed if t["label"] == "toggle")

    off = run_cli(["tokens", "deactivate", uuid], **env)
    assert off.exit_code == 0 and "is inactive" in off.stderr
    [shown] = json.loads(run_cli(["tokens", "inspect", uuid, "--format", "json"], **env).stdout)
    assert shown["active"] is False and shown["label"] == "toggle"
    assert shown["scopes"] == ["repo:read"] and "token" not in shown
    on = run_cli(["tokens", "activate", uuid], **env)
    assert on.exit_code == 0 and "is active" in on.stderr
    [again] = json.loads(run_cli(["tokens", "inspect", uuid, "--format", "json"], **env).stdout)
    assert again["active"] is True

    missing = run_cli(["tokens", "inspect", "00000000-0000-4000-8000-000000000000"], **env)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: access_tokens.get")


def test_orgs_settings_get_and_set_changes_only_what_is_given(hub: ThreadedHub) -> None:
    env = {"HUBASYNC_BASE_URL": hub.server.url, **as_alice(hub)}
    before = run_cli(["orgs", "settings", "get", "acme", "--format", "json"], **env)
    assert before.exit_code == 0, before.stderr
    [row] = json.loads(before.stdout)
    changed = run_cli(
        ["orgs", "settings", "set", "acme", "--restricted-images", "--format", "json"], **env
    )
    assert changed.exit_code == 0, changed.stderr
    [after] = json.loads(changed.stdout)
    assert after["restricted_images"] is True
    assert after["allow_official_images"] == bool(row["allow_official_images"])
    assert hub.sync(lambda: hub.server.org_settings("acme"))["enabled"] is True
    run_cli(["orgs", "settings", "set", "acme", "--no-restricted-images"], **env)
    assert hub.sync(lambda: hub.server.org_settings("acme"))["enabled"] is False

    nothing = run_cli(["orgs", "settings", "set", "acme"], **env)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr


def test_audit_log_ls_passes_its_filters(hub: ThreadedHub) -> None:
    env = {"HUBASYNC_BASE_URL": hub.server.url, **as_alice(hub)}
    everything = run_cli(["audit-log", "ls", "acme", "--format", "jsonl"], **env)
    assert everything.exit_code == 0, everything.stderr
    events = [json.loads(line) for line in everything.stdout.splitlines()]
    assert events, "FakeHub records the repositories' creation"
    action = events[0]["action"]
    only = run_cli(
        ["audit-log", "ls", "acme", "--action", action, "--from", "3650d", "--format", "json"],
        **env,
    )
    assert only.exit_code == 0, only.stderr
    assert {e["action"] for e in json.loads(only.stdout)} == {action}
    limited = run_cli(["audit-log", "ls", "acme", "--limit", "1", "--format", "jsonl"], **env)
    assert len(limited.stdout.splitlines()) == 1
    bad = run_cli(["audit-log", "ls", "acme", "--from", "yesterday"], **env)
    assert bad.exit_code == 2 and "--from" in bad.stderr


def test_limits_shows_the_budget_hub_announced(hub: ThreadedHub) -> None:
    env = {"HUBASYNC_BASE_URL": hub.server.url, **as_alice(hub)}
    result = run_cli(["limits", "--format", "json"], **env)
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["limit"] == 1_000_000 and 0 < row["remaining"] < 1_000_000
    assert row["account"] == "alice" and row["resets_at"].endswith("Z")


def test_limits_says_when_hub_sends_no_limit() -> None:
    threaded = ThreadedHub(lambda: FakeHub(rate_limit=None))
    try:
        result = run_cli(["limits"], HUBASYNC_BASE_URL=threaded.server.url)
    finally:
        threaded.close()
    assert result.exit_code == 1 and "no X-RateLimit-* headers" in result.stderr


def test_fakehub_serve_prints_a_working_url_and_token_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(  # with SIGINT ignored, as a background job would start it
        [sys.executable, "-m", "hubasync.testing", "--seed", "7", "--namespaces", "2"],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(7)]
        fields = dict(
            line.strip().split(":", 1) for line in banner[1:6] if ":" in line
        )  # user, access token, password, organizations, rate limit
        url = banner[0].split()[3]
        token = fields["access token"].strip()
        org = fields["organizations"].split(",")[0].strip()
        assert url.startswith("http://127.0.0.1:") and token.startswith("dckr_pat_")
        listed = CliRunner().invoke(
            cli,
            ["repos", "list", org, "--format", "json"],
            env={
                "HUBASYNC_BASE_URL": url,
                "DOCKERHUB_USERNAME": fields["user"].strip(),
                "DOCKERHUB_TOKEN": token,
            },
        )
        assert listed.exit_code == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 5
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err
    assert "FakeHub stopped" in err and "Traceback" not in err


def test_fakehub_serve_through_the_cli_shows_its_options() -> None:
    result = run_cli(["fakehub", "serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.stdout and "--seed" in result.stdout
    bad = run_cli(["fakehub", "serve", "--namespaces", "0"])
    assert bad.exit_code == 2 and "--namespaces" in bad.stderr


def test_v_shows_a_rate_limit_wait_with_its_reason_and_end_time() -> None:
    def spent() -> FakeHub:
        server = build_hub()
        server.configure_rate_limit(1, window_s=1.5)  # later waits: a whole window, > 1 s
        return server

    threaded = ThreadedHub(spent)
    try:
        env = {"HUBASYNC_BASE_URL": threaded.server.url, **as_alice(threaded)}
        result = run_cli(["-v", "audit", "acme", "--format", "json"], **env)
    finally:
        threaded.close()
    assert result.exit_code == 0, result.stderr
    waits = [line for line in result.stderr.splitlines() if "INFO hubasync.ratelimit" in line]
    assert waits, result.stderr
    assert re.search(
        r"waits \d+\.\d s for Docker Hub's rate limit \(.+\) until \d\d:\d\d:\d\d", waits[0]
    )


def test_v_shows_connection_refused_retries_as_they_happen() -> None:
    result = run_cli(
        ["-v", "--base-url", "http://127.0.0.1:9", "--max-retries", "2", "repos", "list", "acme"]
    )
    assert result.exit_code == 1
    retries = [line for line in result.stderr.splitlines() if "retrying" in line]
    assert len(retries) == 2 and all("INFO hubasync.transport" in line for line in retries)
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize(
    ("failed", "total", "code"),
    [(0, 5, 0), (0, 0, 0), (1, 5, 3), (4, 5, 3), (5, 5, 1), (1, 1, 1)],
)
def test_exit_for_tells_partial_from_nothing_worked(failed: int, total: int, code: int) -> None:
    from hubasync.cli._common import exit_for

    assert exit_for(failed, total) == code
