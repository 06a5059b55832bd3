"""Fan-out audit: 200 namespaces x 5 repositories under a rate limit and 10 ms latency.

Method: FakeHub in a child process holds 200 namespaces of 5 repositories, limits the caller
to ``limit`` requests per 1 s window and adds 10 ms of latency to every request. One
``HubClient`` (``max_concurrency=16``) runs two workloads, each on a fresh server:

* ``fan_out`` over ``hub.images.summary`` for each of the 1,000 repositories
  (``concurrency=16``): exactly 1,000 requests;
* ``audit_namespaces`` over the 200 namespaces (list each namespace's repositories, then per
  repository the summary and, where there are inactive images, their list): the request
  count is whatever the audit needs, read from ``hub.stats``.

Reported: time against the issue's ideal bound ``max(R / rate, R x latency / concurrency)``
(R requests, rate = limit per second, concurrency 16) and against the fixed-window floor
(the start of the window in which a perfect client's cumulative budget reaches R, counted
from the run's start, plus one latency), plus 429s.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from benchmarks._common import EPOCH_WINDOW_NOTE, BenchResult, ServerProcess, print_table

NAME = "fanout"
DESCRIPTION = "200 namespaces x 5 repositories, rate limit + 10 ms latency: time vs ideal bound"

CONCURRENCY = 16
LATENCY_S = 0.010
WINDOW_S = 1.0


def _server(namespaces: int, repos: int, limit: int, inline: bool) -> ServerProcess:
    return ServerProcess(
        "benchmarks._common:serve_fakehub",
        inline=inline,
        generate={
            "namespaces": namespaces,
            "repos_per_namespace": repos,
            "images_per_repo": 4,
            "audit": False,
        },
        latency_s=LATENCY_S,
        options={"rate_limit": limit, "window_s": WINDOW_S},
    )


async def run_summaries(url: str, token: str, repositories: list[str]) -> dict[str, Any]:
    """``fan_out`` over ``hub.images.summary`` for every repository."""
    from hubasync import HubClient, fan_out

    async with HubClient(token=token, base_url=url, max_concurrency=CONCURRENCY) as hub:

        async def summary(full: str) -> int:
            ns, repo = full.split("/")
            return (await hub.images.summary(ns, repo)).statistics.total

        ok = failed = 0
        t0 = time.time()
        async with fan_out(repositories, summary, concurrency=CONCURRENCY) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    ok += 1
                else:
                    failed += 1
        elapsed = time.time() - t0
        return _stats(hub, t0, elapsed, ok, failed)


async def run_audit(url: str, token: str, namespaces: list[str]) -> dict[str, Any]:
    """``audit_namespaces`` over every namespace."""
    from hubasync import HubClient
    from hubasync.audit import audit_namespaces

    async with HubClient(token=token, base_url=url, max_concurrency=CONCURRENCY) as hub:
        ok = failed = 0
        t0 = time.time()
        async for audit in audit_namespaces(hub, namespaces, concurrency=CONCURRENCY):
            if audit.ok:
                ok += 1
            else:
                failed += 1
        elapsed = time.time() - t0
        return _stats(hub, t0, elapsed, ok, failed)


def _stats(hub: Any, t0: float, elapsed: float, ok: int, failed: int) -> dict[str, Any]:
    return {
        "t0": t0,
        "elapsed_s": elapsed,
        "ok": ok,
        "failed": failed,
        "requests": hub.stats.requests,
        "client_429s": hub.stats.rate_limited,
        "waited_s": hub.stats.waited_s,
    }


def bounds(requests: int, limit: int, t0: float) -> dict[str, float]:
    """The issue's ideal bound and the fixed-window floor for ``requests`` requests."""
    rate = limit / WINDOW_S
    rate_bound = requests / rate
    latency_bound = requests * LATENCY_S / CONCURRENCY
    first = math.floor(t0 / WINDOW_S)
    last = first + math.ceil(requests / limit) - 1
    window_floor = max(0.0, last * WINDOW_S - t0) + LATENCY_S
    return {
        "rate_bound_s": rate_bound,
        "latency_bound_s": latency_bound,
        "ideal_bound_s": max(rate_bound, latency_bound),
        "window_floor_s": max(window_floor, latency_bound),
    }


def _one(kind: str, namespaces: int, repos: int, limit: int, inline: bool) -> dict[str, Any]:
    with _server(namespaces, repos, limit, inline) as server:
        token = server.call("token", "bench")
        gen = server.call("generated")
        if kind == "summaries":
            out = asyncio.run(run_summaries(server.url, token, gen["repositories"]))
        else:
            out = asyncio.run(run_audit(server.url, token, gen["namespaces"]))
        out["server_over_limit"] = server.call("stats")["over_limit"]
    out.update(bounds(out["requests"], limit, out.pop("t0")))
    out["ratio_to_ideal"] = out["elapsed_s"] / out["ideal_bound_s"]
    out["ratio_to_window_floor"] = out["elapsed_s"] / out["window_floor_s"]
    return out


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the fan-out benchmark; print the table; write ``<out_dir>/fanout.json``."""
    namespaces, repos, limit = (10, 5, 1000) if quick else (200, 5, 300)
    res = BenchResult(NAME, quick)
    res.params = {
        "namespaces": namespaces,
        "repositories_per_namespace": repos,
        "limit_per_window": limit,
        "window_s": WINDOW_S,
        "latency_s": LATENCY_S,
        "concurrency": CONCURRENCY,
    }
    summaries = _one("summaries", namespaces, repos, limit, quick)
    audit = _one("audit", namespaces, repos, limit, quick)
    res.results = {"fan_out_summaries": summaries, "audit_namespaces": audit}
    print_table(
        f"fanout: {namespaces} namespaces x {repos} repositories, limit {limit}/s, "
        f"{LATENCY_S * 1e3:.0f} ms latency, concurrency {CONCURRENCY}",
        [
            "workload",
            "requests",
            "time",
            "ideal bound",
            "vs ideal",
            "window floor",
            "vs floor",
            "429s",
            "failed",
        ],
        [
            [
                label,
                r["requests"],
                f"{r['elapsed_s']:.2f} s",
                f"{r['ideal_bound_s']:.2f} s",
                f"{r['ratio_to_ideal']:.2f}x",
                f"{r['window_floor_s']:.2f} s",
                f"{r['ratio_to_window_floor']:.2f}x",
                r["server_over_limit"],
                r["failed"],
            ]
            for label, r in (("fan_out(images.summary)", summaries), ("audit_namespaces", audit))
        ],
    )
    res.target(
        "fan_out(images.summary): time / ideal bound", summaries["ratio_to_ideal"], "<=", 1.25
    )
    res.target("audit_namespaces: time / ideal bound", audit["ratio_to_ideal"], "<=", 1.25)
    res.notes.append(EPOCH_WINDOW_NOTE)
    return res.finish(out_dir)
