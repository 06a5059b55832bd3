"""``hubasync access ORG…``: the access audit (:func:`hubasync.access.audit_access`).

Output: ``json`` is one object per report (each organization in the order asked, then the
personal tokens), as :func:`hubasync.to_dict` renders it; ``csv`` is one line per finding;
``table`` is a summary per report and the findings. Exit codes (the CLI's): 0 everything
was read, 3 partial (an organization, or a part of one, could not be read: an ``error:``
line each, and a finding in the report), 1 nothing could be read, 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from .._convert import to_dict
from ..access import FindingCode, OrgAccessAudit, Severity, audit_access
from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PARTIAL,
    Connection,
    connection_options,
    error_line,
    format_option,
    run,
)
from ._output import RowSink, json_value, row_sink

__all__ = ["access", "finding_rows", "summary_row"]

F = TypeVar("F", bound=Callable[..., Any])

FINDING_COLUMNS = ["org", "severity", "code", "subject", "reason"]
SUMMARY_COLUMNS = [
    "org",
    "members",
    "owners",
    "groups",
    "invites",
    "tokens",
    "critical",
    "warning",
    "info",
]


def finding_rows(report: OrgAccessAudit) -> list[dict[str, Any]]:
    """One row per finding of ``report`` (pure)."""
    return [
        {
            "org": report.name,
            "severity": str(f.severity),
            "code": str(f.code),
            "subject": f.subject,
            "reason": f.reason,
        }
        for f in report.findings
    ]


def summary_row(report: OrgAccessAudit) -> dict[str, Any]:
    """The counts of one report (pure); ``None`` where a part could not be read."""

    def count(part: tuple[Any, ...] | None) -> int | None:
        return None if part is None else len(part)

    severities = [f.severity for f in report.findings]
    return {
        "org": report.name,
        "members": count(report.members),
        "owners": report.owners,
        "groups": count(report.groups),
        "invites": count(report.invites),
        "tokens": count(report.tokens),
        **{str(s): severities.count(s) for s in Severity},
    }


def _days_option(flag: str, default: int, help_text: str) -> Callable[[F], F]:
    return click.option(
        flag, type=click.IntRange(0), default=default, show_default=True, help=help_text
    )


_UNREAD = (FindingCode.ORG_UNREADABLE, FindingCode.SECTION_UNREADABLE)


class _Sinks:
    """Where the reports go, per ``--format``."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        out = sys.stdout
        self.json: RowSink | None = row_sink("json", out, []) if fmt == "json" else None
        self.findings: RowSink | None = None
        self.summary: RowSink | None = None
        if fmt == "csv":
            self.findings = row_sink("csv", out, FINDING_COLUMNS)
        elif fmt == "table":
            self.summary = row_sink("table", out, SUMMARY_COLUMNS, title="Access audit")
            self.findings = row_sink("table", out, FINDING_COLUMNS, title="Findings")
        self.notes: list[str] = []

    def add(self, report: OrgAccessAudit) -> None:
        for note in report.notes:  # said once, on stderr, whatever the format
            if note not in self.notes:
                self.notes.append(note)
        if self.json is not None:
            data: Mapping[str, Any] = to_dict(report)
            self.json.add(json_value(data))
            return
        if self.summary is not None:
            self.summary.add(summary_row(report))
        if self.findings is not None:
            for row in finding_rows(report):
                self.findings.add(row)

    def close(self) -> None:
        for sink in (self.json, self.summary, self.findings):
            if sink is not None:
                sink.close()
        for note in self.notes:
            click.echo(f"note: {note}", err=True)


@click.command()
@connection_options
@click.argument("orgs", nargs=-1, required=True, metavar="ORG...")
@format_option
@_days_option("--unused-days", 90, "Flag tokens not used for more than this many days.")
@_days_option("--expiring-days", 30, "Flag tokens expiring within this many days.")
@_days_option("--invite-age-days", 30, "Flag invitations pending for more than this many days.")
@click.option(
    "--personal-tokens/--no-personal-tokens",
    default=True,
    show_default=True,
    help="Also audit your own personal access tokens.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Organizations audited at once.",
)
def access(
    connection: Connection,
    orgs: tuple[str, ...],
    fmt: str,
    unused_days: int,
    expiring_days: int,
    invite_age_days: int,
    personal_tokens: bool,
    concurrency: int,
) -> None:
    """Audit who can access each organization ORG, and what needs attention.

    Per organization: members and roles, the number of owners (a single owner is a
    warning), members in no group, groups and their members, pending invitations and their
    age, and organization access tokens (scopes, expiry, last use) flagged when never used,
    unused for --unused-days, without expiry, expired or expiring within --expiring-days.
    Your personal access tokens are judged the same way. An organization these credentials
    cannot read is reported as a critical finding (and an `error:` line; exit 3, or 1 when
    nothing at all could be read), never skipped. Groups' repository permissions cannot be
    read through Hub's API; the report says so.
    """

    async def main() -> int:
        async with connection.client() as hub:
            reports = [
                report
                async for report in audit_access(
                    hub,
                    orgs,
                    unused_days=unused_days,
                    expiring_days=expiring_days,
                    invite_age_days=invite_age_days,
                    include_personal_tokens=personal_tokens,
                    concurrency=concurrency,
                )
            ]
        # in the order asked (the personal section last): a report that diffs cleanly
        order = {org: i for i, org in enumerate(orgs)}
        reports.sort(
            key=lambda r: order.get(r.org, len(order)) if r.org is not None else len(order)
        )
        sinks = _Sinks(fmt)
        unread = 0  # reports with a part (or all) unread
        blind = 0  # reports of which nothing could be read
        for report in reports:
            sinks.add(report)
            failures = [f for f in report.findings if f.code in _UNREAD]
            for finding in failures:
                error_line(f"{report.name}: {finding.reason}")
            unread += bool(failures)
            blind += not report.readable or (report.org is None and report.tokens is None)
        sinks.close()
        if blind == len(reports):
            return EXIT_FAILURE
        return EXIT_PARTIAL if unread else EXIT_OK

    run(connection.debug, main)
