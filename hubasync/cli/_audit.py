"""The audit path of the command line, shared by ``hubasync audit`` and ``hubasync demo``.

:func:`run_audit` drives :func:`hubasync.audit.audit_namespaces`, feeds every audit to an
:class:`~hubasync.audit.AuditReport` and to a sink (JSON, CSV, table or summary), shows a
progress bar on stderr when stderr is a terminal, and writes one ``error:`` line per failed
repository or namespace. The record builders below are pure functions.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TextIO

import attrs
import click
from rich.console import Console
from rich.table import Table

from .._client import HubClient
from .._transport import ClientStats
from ..audit import (
    UNTAGGED_NOTE,
    AuditReport,
    AuditTotals,
    RepositoryAudit,
    Source,
    audit_namespaces,
)
from ._common import cli_advice
from ._output import CsvRows, console_for, iso, json_value, table_cell
from ._progress import LiveProgress

__all__ = [
    "AuditProgress",
    "AuditSink",
    "CsvAuditSink",
    "JsonAuditSink",
    "TableAuditSink",
    "audit_record",
    "audit_sink",
    "report_record",
    "run_audit",
    "stats_record",
    "totals_record",
]


# ------------------------------------------------------------------ pure record builders


def audit_record(audit: RepositoryAudit) -> dict[str, Any]:
    """One repository's audit as plain data (the JSON output's ``repositories`` items)."""
    summary = audit.summary
    record: dict[str, Any] = {
        "namespace": audit.namespace,
        "repository": audit.repository,
        "source": audit.source,
        "active_from": audit.active_from,
        "summary": (
            None
            if summary is None
            else {"total": summary.total, "active": summary.active, "inactive": summary.inactive}
        ),
        "inactive_images": [
            {
                "digest": image.digest,
                "last_pushed": image.last_pushed,
                "last_pulled": image.last_pulled,
                "tags": list(image.tags),
                "former_tags": list(image.former_tags),
            }
            for image in audit.inactive_images
        ],
        "errors": [attrs.asdict(failure) for failure in audit.errors],
        "warnings": list(audit.warnings),
        "stale": audit.stale,
        "facts": attrs.asdict(audit.facts) if audit.facts is not None else None,
    }
    if audit.tags is not None:
        record["tags"] = [attrs.asdict(tag) for tag in audit.tags]
    if audit.tag_summary is not None:
        record["tag_summary"] = attrs.asdict(audit.tag_summary)
    if audit.source == "tags":
        record["platform_images"] = [attrs.asdict(i) for i in audit.platform_images]
    return record


def totals_record(totals: AuditTotals) -> dict[str, Any]:
    """Counts as plain data."""
    return attrs.asdict(totals)


def report_record(report: AuditReport) -> dict[str, Any]:
    """The aggregates of a report: per namespace, overall, the most inactive repositories."""
    return {
        "namespaces": {ns: totals_record(t) for ns, t in report.namespaces.items()},
        "totals": totals_record(report.totals),
        "top_inactive": [
            {
                "namespace": ns,
                "repository": repo,
                "total": stats.total,
                "active": stats.active,
                "inactive": stats.inactive,
            }
            for ns, repo, stats in report.top_inactive()
        ],
        "failures": [
            {"name": audit.full_name, "errors": [attrs.asdict(f) for f in audit.errors]}
            for audit in report.failures
        ],
        "warnings": [
            {"name": audit.full_name, "warnings": list(audit.warnings)} for audit in report.warnings
        ],
        "notes": report_notes(report),
    }


def report_notes(report: AuditReport) -> list[str]:
    """What the report cannot show, said plainly (untagged manifests with the tags source)."""
    return [UNTAGGED_NOTE] if report.totals.tags_source else []


def stats_record(stats: ClientStats) -> dict[str, Any]:
    """The client's counters as plain data."""
    return {
        "requests": stats.requests,
        "retries": stats.retries,
        "rate_limited": stats.rate_limited,
        "waited_s": round(stats.waited_s, 3),
        "logins": stats.logins,
    }


def _csv_row(audit: RepositoryAudit) -> dict[str, Any]:
    summary = audit.summary
    tags = audit.tag_summary
    row: dict[str, Any] = {
        "namespace": audit.namespace,
        "repository": audit.repository,
        "source": audit.source,
        "active_from": audit.active_from,
        "total": summary.total if summary else None,
        "active": summary.active if summary else None,
        "inactive": summary.inactive if summary else None,
        "inactive_tagged": audit.inactive_tagged if summary else None,
        "tags": tags.total if tags else None,
        "active_tags": tags.active if tags else None,
        "inactive_tags": tags.inactive if tags else None,
        "storage_size": audit.facts.storage_size if audit.facts else None,
        "stale": audit.stale,
    }
    row["errors"] = "; ".join(
        [f"{f.operation}: {f.message}" for f in audit.errors]
        + [f"warning: {w}" for w in audit.warnings]
    )
    return row


_CSV_COLUMNS = [
    "namespace",
    "repository",
    "source",
    "active_from",
    "total",
    "active",
    "inactive",
    "inactive_tagged",
    "tags",
    "active_tags",
    "inactive_tags",
    "storage_size",
    "stale",
    "errors",
]


# ------------------------------------------------------------------------------ sinks


class AuditSink(Protocol):
    """Receives each audit as it arrives, then the final report."""

    def add(self, audit: RepositoryAudit) -> None:
        """Take one audit."""

    def finish(self, report: AuditReport) -> None:
        """Write what is left (aggregates, the closing bracket, the table)."""


class JsonAuditSink:
    """One JSON document: ``repositories`` streamed one per line, then the aggregates."""

    def __init__(self, out: TextIO, *, active_from: datetime | None, include_tags: bool) -> None:
        self._out = out
        head = {"active_from": json_value(active_from), "include_tags": include_tags}
        out.write(json.dumps(head)[:-1] + ', "repositories": [')
        self._first = True

    def add(self, audit: RepositoryAudit) -> None:
        """Write one repository's audit."""
        self._out.write("\n" if self._first else ",\n")
        self._first = False
        self._out.write(json.dumps(json_value(audit_record(audit))))

    def finish(self, report: AuditReport) -> None:
        """Write the aggregates and close the document."""
        rest = json.dumps(json_value(report_record(report)))
        self._out.write("\n], " + rest[1:] + "\n")
        self._out.flush()


class CsvAuditSink:
    """CSV, one line per repository (and per failed namespace)."""

    def __init__(self, out: TextIO, *, include_tags: bool = False) -> None:
        self._rows = CsvRows(out, _CSV_COLUMNS)

    def add(self, audit: RepositoryAudit) -> None:
        """Write one line."""
        self._rows.add(_csv_row(audit))

    def finish(self, report: AuditReport) -> None:
        """Flush."""
        self._rows.close()


class TableAuditSink:
    """Tables drawn at the end: per namespace with totals, and the most inactive repositories."""

    def __init__(self, out: TextIO, *, title: str = "Audit") -> None:
        self._console = console_for(out)
        self._title = title

    def add(self, audit: RepositoryAudit) -> None:
        """Nothing to do: the report holds the aggregates."""

    def finish(self, report: AuditReport) -> None:
        """Draw the tables."""
        render_report(self._console, report, title=self._title)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return str(n)  # pragma: no cover


def render_report(console: Console, report: AuditReport, *, title: str) -> None:
    """Per-namespace aggregates with a totals row, then the top inactive repositories (images
    source); the notes (what the report cannot show) last."""
    table = Table(title=title, title_justify="left", show_footer=True)
    t = report.totals
    columns: list[tuple[str, Any]] = [
        ("repositories", lambda n: n.repositories),
        ("failed", lambda n: n.failures or "-"),
        ("stale", lambda n: n.stale_repositories),
        ("tags", lambda n: n.tags),
        ("inactive tags", lambda n: n.inactive_tags),
        ("storage", lambda n: _size(n.storage_size)),
    ]
    if t.images_source:
        columns += [
            ("images", lambda n: n.images),
            ("inactive images", lambda n: n.inactive),
            ("inactive tagged", lambda n: n.inactive_tagged),
        ]
    source = ", ".join(
        name for name, count in (("tags", t.tags_source), ("images", t.images_source)) if count
    )
    table.add_column("namespace", footer="total")
    for name, get in columns:
        table.add_column(name, footer=str(get(t)), justify="right")
    table.add_column("source", footer=source or "-")
    for ns in sorted(report.namespaces):
        n = report.namespaces[ns]
        used = ", ".join(
            name for name, count in (("tags", n.tags_source), ("images", n.images_source)) if count
        )
        if n.empty_namespaces:
            used = "empty: nothing visible"
        table.add_row(ns, *(str(get(n)) for _, get in columns), used or "-")
    console.print(table)
    top = report.top_inactive()
    if top:
        ranked = Table(title="Most inactive repositories", title_justify="left")
        unit = "images" if t.images_source and not t.tags_source else "tags/images"
        unit = "tags" if t.tags_source and not t.images_source else unit
        for name in ("repository", unit, "inactive", "share"):
            ranked.add_column(name, justify="left" if name == "repository" else "right")
        for ns, repo, stats in top:
            share = f"{stats.inactive / stats.total:.0%}" if stats.total else "-"
            ranked.add_row(f"{ns}/{repo}", str(stats.total), str(stats.inactive), share)
        console.print(ranked)
    for note in report_notes(report):
        console.print(f"Note: {note}.", markup=False, highlight=False)


def render_stats(console: Console, stats: ClientStats, *, title: str = "Client") -> None:
    """The client's counters as a two-column table."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("counter")
    table.add_column("value", justify="right")
    labels = {
        "requests": "HTTP requests (logins and retries included)",
        "retries": "retried attempts (5xx, 429, connection faults)",
        "rate_limited": "429 answers received",
        "waited_s": "seconds waited for the rate limiter (summed over requests)",
        "logins": "logins",
    }
    for key, value in stats_record(stats).items():
        table.add_row(labels.get(key, key), table_cell(value))
    console.print(table)


def audit_sink(
    fmt: str, out: TextIO, *, active_from: datetime | None, include_tags: bool
) -> AuditSink:
    """The sink for ``--format``."""
    if fmt == "json":
        return JsonAuditSink(out, active_from=active_from, include_tags=include_tags)
    if fmt == "csv":
        return CsvAuditSink(out)
    title = "Audit" + (f" (active from {iso(active_from)})" if active_from is not None else "")
    return TableAuditSink(out, title=title)


# --------------------------------------------------------------------------- progress


class AuditProgress:
    """The live display on stderr (see :mod:`hubasync.cli._progress`: repositories done of
    the known total, then the rate limiter's live state, requests, 429s and the wall time
    spent waiting, in 80 columns); without a terminal it only writes the ``error:`` lines."""

    def __init__(self, hub: HubClient, console: Console | None) -> None:
        self._display = LiveProgress(console, hub, label="auditing") if console else None
        self._total = 0

    @property
    def waited_s(self) -> float:
        """Wall time requests spent waiting for the rate limit (0 without a display)."""
        return self._display.waited_s if self._display is not None else 0.0

    def __enter__(self) -> AuditProgress:
        if self._display is not None:
            self._display.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if self._display is not None:
            self._display.__exit__(exc_type, exc, tb)

    def add_total(self, namespace: str, count: int | None) -> None:
        """A namespace's repository count is known: grow the total."""
        self._total += count or 0
        if self._display is not None:
            self._display.set_total(self._total or None)

    def advance(self, audit: RepositoryAudit) -> None:
        """One audit arrived."""
        if self._display is not None:
            self._display.advance(0 if audit.repository is None else 1)

    def log(self, line: str) -> None:
        """One line on stderr, above the display (the library's advice given as flags)."""
        line = cli_advice(line)
        if self._display is not None:
            self._display.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(line, err=True)


# ------------------------------------------------------------------------------- run


async def run_audit(
    hub: HubClient,
    namespaces: Sequence[str],
    sink: AuditSink,
    *,
    source: Source = "auto",
    active_from: datetime | None = None,
    include_tags: bool = False,
    concurrency: int | None = None,
    progress_console: Console | None = None,
) -> AuditReport:
    """Audit ``namespaces`` with :func:`audit_namespaces`, streaming into ``sink``.

    Writes an ``error:`` line on stderr per failed repository or namespace and shows a
    progress bar on ``progress_console`` when one is given. Returns the report; the caller
    picks the exit code (``report.ok``).
    """
    report = AuditReport()
    with AuditProgress(hub, progress_console) as progress:
        async for audit in audit_namespaces(
            hub,
            namespaces,
            source=source,
            active_from=active_from,
            include_tags=include_tags,
            concurrency=concurrency,
            on_namespace=progress.add_total,
        ):
            report.add(audit)
            sink.add(audit)
            progress.advance(audit)
            for failure in audit.errors:
                progress.log(f"error: {audit.full_name}: {failure.message}")
            for warning in audit.warnings:
                progress.log(f"warning: {audit.full_name}: {warning}")
    sink.finish(report)
    return report


def stderr_console() -> Console | None:
    """A console on stderr when stderr is a terminal (for progress), else ``None``."""
    console = Console(file=sys.stderr)
    return console if console.is_terminal else None


def summary_line(report: AuditReport, stats: ClientStats) -> str:
    """One line: what was audited, what failed, and what it cost."""
    t = report.totals
    what = f"{t.tags} tags, {t.inactive_tags} inactive"
    if t.images_source:
        what += f"; {t.images} images, {t.inactive} inactive"
    return (
        f"audited {t.repositories} repositories ({what}); "
        f"{t.failures} failed, {t.empty_namespaces} empty namespaces; "
        f"{stats.requests} requests, {stats.retries} retries, "
        f"{stats.rate_limited} rate-limited, requests waited {stats.waited_s:.1f}s in all"
    )
