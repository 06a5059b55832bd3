"""Audit on today's Hub: 50 namespaces x 20 repositories x 30 tags under a Hub-shaped limit.

Method: FakeHub in a child process behaves like today's Hub (image API retired: its
endpoints answer a 404 HTML page) and holds 50 namespaces of 20 repositories, each with 30
tags (29 version tags and ``latest``). It limits the caller to 180 requests per window,
Hub's usual budget, with the window scaled from 60 s to ``WINDOW_S`` so the run takes about
half a minute. One ``HubClient`` (``max_concurrency=16``) runs ``audit_namespaces`` with
``source="auto"``: one ``images-summary`` probe finds the image API gone, then every
repository's tags are listed (one page of 100 each).

Reported: wall time against the ideal ``requests / rate`` (rate = 180 / window), the
fixed-window floor (the start of the window in which a perfect client's cumulative budget
reaches the request count, counted from the run's start), requests per repository, and the
429s FakeHub counted. Target: time / ideal <= 1.1.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from benchmarks._common import EPOCH_WINDOW_NOTE, BenchResult, ServerProcess, print_table

NAME = "audit_today"
DESCRIPTION = "audit on today's Hub (tags): 50 ns x 20 repos x 30 tags, 180 req/window"

CONCURRENCY = 16
LIMIT = 180  # Hub's usual requests per window
WINDOW_S = 5.0  # Hub's is 60 s: scaled down 12x
TAGS = 30


def _server(namespaces: int, repos: int, limit: int, window_s: float, inline: bool) -> Any:
    return ServerProcess(
        "benchmarks._common:serve_fakehub",
        inline=inline,
        generate={
            "namespaces": namespaces,
            "repos_per_namespace": repos,
            "images_per_repo": TAGS - 1,  # each with a version tag, plus "latest"
            "version_tags": 1.0,
            "audit": False,
            "org_admin": False,
        },
        options={"rate_limit": limit, "window_s": window_s, "image_api": False},
    )


async def run_audit(url: str, token: str, namespaces: list[str]) -> dict[str, Any]:
    """``audit_namespaces`` (source auto) over every namespace; counts and timings."""
    from hubasync import HubClient
    from hubasync.audit import audit_namespaces

    async with HubClient(token=token, base_url=url, max_concurrency=CONCURRENCY) as hub:
        ok = failed = tags = 0
        sources: set[str | None] = set()
        t0 = time.time()
        async for audit in audit_namespaces(hub, namespaces, concurrency=CONCURRENCY):
            ok += audit.ok
            failed += not audit.ok
            tags += len(audit.tags or ())
            sources.add(audit.source)
        elapsed = time.time() - t0
        return {
            "t0": t0,
            "elapsed_s": elapsed,
            "ok": ok,
            "failed": failed,
            "tags": tags,
            "sources": sorted(str(s) for s in sources),
            "requests": hub.stats.requests,
            "client_429s": hub.stats.rate_limited,
            "waited_s": hub.stats.waited_s,
        }


def bounds(requests: int, limit: int, window_s: float, t0: float) -> dict[str, float]:
    """The ideal ``requests / rate`` and the fixed-window floor for ``requests`` requests."""
    ideal = requests / (limit / window_s)
    first = math.floor(t0 / window_s)
    last = first + math.ceil(requests / limit) - 1
    return {"ideal_s": ideal, "window_floor_s": max(0.0, last * window_s - t0)}


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the benchmark; print the table; write ``<out_dir>/audit_today.json``."""
    namespaces, repos, limit, window_s = (4, 5, 1000, 1.0) if quick else (50, 20, LIMIT, WINDOW_S)
    res = BenchResult(NAME, quick)
    res.params = {
        "namespaces": namespaces,
        "repositories_per_namespace": repos,
        "tags_per_repository": TAGS,
        "limit_per_window": limit,
        "window_s": window_s,
        "concurrency": CONCURRENCY,
        "source": "auto (image API retired, like Hub today)",
    }
    with _server(namespaces, repos, limit, window_s, quick) as server:
        token = server.call("token", "bench")
        generated = server.call("generated")
        out = asyncio.run(run_audit(server.url, token, generated["namespaces"]))
        out["server_over_limit"] = server.call("stats")["over_limit"]
    repositories = namespaces * repos
    out.update(bounds(out["requests"], limit, window_s, out.pop("t0")))
    out["ratio_to_ideal"] = out["elapsed_s"] / out["ideal_s"]
    out["ratio_to_window_floor"] = (
        out["elapsed_s"] / out["window_floor_s"] if out["window_floor_s"] > 0 else None
    )
    out["requests_per_repository"] = out["requests"] / repositories
    # The listings (up to 100 repositories a page), one probe, one tag page per repository
    # (the client holds a ready token: no login).
    out["expected_requests"] = namespaces * math.ceil(repos / 100) + 1 + repositories
    res.results = out
    floor = out["ratio_to_window_floor"]
    print_table(
        f"audit_today: {namespaces} namespaces x {repos} repositories x {TAGS} tags, "
        f"limit {limit} per {window_s:g} s window, concurrency {CONCURRENCY}",
        ["requests", "req/repo", "time", "ideal", "vs ideal", "vs window floor", "429s", "failed"],
        [
            [
                out["requests"],
                f"{out['requests_per_repository']:.3f}",
                f"{out['elapsed_s']:.2f} s",
                f"{out['ideal_s']:.2f} s",
                f"{out['ratio_to_ideal']:.2f}x",
                f"{floor:.2f}x" if floor is not None else "-",
                out["server_over_limit"],
                out["failed"],
            ]
        ],
    )
    res.target(
        "audit (tags source): time / ideal (requests / rate)", out["ratio_to_ideal"], "<=", 1.1
    )
    res.target("requests per repository", out["requests_per_repository"], "<=", 1.1)
    res.notes.append(EPOCH_WINDOW_NOTE)
    return res.finish(out_dir)
