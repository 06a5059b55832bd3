"""``hubasync demo``: the real audit path against an embedded, rate-limited FakeHub.

A FakeHub that behaves like today's Hub (image API retired; ``--seed-api`` serves it) is
generated with dozens of organizations and hundreds of repositories (a user
owning them all, with a personal access token), served on 127.0.0.1 under a Hub-shaped
rate limit (180 requests per window) whose window is 2 s instead of 60 s, so the run takes
seconds, and with a few transient 503s. The client logs in with the token and runs
:func:`~hubasync.cli._audit.run_audit`, the very function behind ``hubasync audit``; the
report and the client's counters are printed.
"""

from __future__ import annotations

import json
from typing import TextIO

import click
from rich.console import Console

from .._client import HubClient
from ..audit import AuditReport, RepositoryAudit
from ..testing import FakeHub, Fault, FaultPlan
from ._audit import render_report, render_stats, report_record, run_audit, stats_record
from ._common import EXIT_FAILURE, EXIT_OK
from ._output import console_for, json_value

__all__ = ["DEMO_NAMESPACES", "DEMO_RATE_LIMIT", "DEMO_WINDOW_S", "run_demo"]

DEMO_NAMESPACES = 30
DEMO_REPOSITORIES = 10  # per namespace
DEMO_IMAGES = 30  # per repository
DEMO_RATE_LIMIT = 180  # requests per window, as Hub
DEMO_WINDOW_S = 2.0  # Hub's is 60 s
DEMO_FAULT_RATE = 0.01  # transient 503s on the image and tag endpoints


class _Discard:
    """A sink that keeps nothing: the demo prints aggregates only."""

    def add(self, audit: RepositoryAudit) -> None:
        """Ignore the audit (the report counts it)."""

    def finish(self, report: AuditReport) -> None:
        """Nothing to write."""


async def run_demo(
    *,
    fmt: str,
    out: TextIO,
    scale: float = 1.0,
    seed: int = 1,
    progress: Console | None = None,
    seed_api: bool = False,
) -> int:
    """Generate, serve, audit, print. Returns the exit code (1 if some audit failed).

    By default FakeHub behaves like today's Hub (image API retired) and the audit's
    ``source="auto"`` finds that out with one request; ``seed_api=True`` serves the seed's
    image API and audits through it."""
    namespaces = max(1, round(DEMO_NAMESPACES * scale))
    server = FakeHub.generate(
        namespaces=namespaces,
        repos_per_namespace=DEMO_REPOSITORIES,
        images_per_repo=DEMO_IMAGES,
        seed=seed,
        username="demo",
        password="demo-password",
        audit=False,
        rate_limit=DEMO_RATE_LIMIT,
        window_s=DEMO_WINDOW_S,
        log_requests=False,
        image_api=seed_api,
        faults=FaultPlan(
            Fault.error(503, probability=DEMO_FAULT_RATE, path=r"/images|/tags"), seed=seed
        ),
    )
    data = server.generated
    assert data is not None
    async with server:
        fakehub = {
            "url": server.url,
            "namespaces": len(data.namespaces),
            "repositories": len(data.repositories),
            "images": data.images,
            "rate_limit": DEMO_RATE_LIMIT,
            "window_s": DEMO_WINDOW_S,
            "transient_503_rate": DEMO_FAULT_RATE,
            "image_api": seed_api,
        }
        click.echo(
            f"FakeHub on {server.url}: {len(data.namespaces)} namespaces, "
            f"{len(data.repositories)} repositories, {data.images} images; rate limit "
            f"{DEMO_RATE_LIMIT} requests per {DEMO_WINDOW_S:g} s window; "
            f"{DEMO_FAULT_RATE:.0%} transient 503s; image API "
            f"{'on (seed)' if seed_api else 'retired (like Hub today)'}. "
            f"Auditing as {data.username} (PAT)...",
            err=True,
        )
        async with HubClient(
            username=data.username, secret=data.pat, base_url=server.url, max_concurrency=16
        ) as hub:
            report = await run_audit(
                hub,
                data.namespaces,
                _Discard(),
                source="images" if seed_api else "auto",
                progress_console=progress,
            )
            stats = hub.stats
        fakehub["over_limit"] = server.over_limit
    if fmt == "json":
        document = {"fakehub": fakehub, **report_record(report), "client": stats_record(stats)}
        out.write(json.dumps(json_value(document), indent=2) + "\n")
    else:
        console = console_for(out)
        render_report(
            console,
            report,
            title=f"Audit of {len(data.namespaces)} namespaces on FakeHub "
            f"({data.images} images; inactive = no push or pull in the past month)",
        )
        render_stats(console, stats, title="Client (hub.stats)")
        console.print(
            f"Hub's limit: {DEMO_RATE_LIMIT} requests per {DEMO_WINDOW_S:g} s window; requests "
            f"FakeHub received over the limit: {server.over_limit}.",
            markup=False,
        )
    return EXIT_OK if report.ok else EXIT_FAILURE
