"""Pagination: prefetch against server latency, items exact and in order.

Method: FakeHub in a child process holds one repository of 20,000 images and adds 20 ms of
latency to every request. ``hub.images.list(ns, repo, page_size=100, prefetch=p)`` is read to
the end for p = 1 (sequential), 4, 8 and 16 (the client's ``max_concurrency`` is 16), in
alternating rounds. Each run's digests are compared with the order FakeHub serves
(``-last_activity``): exact means every item once, none missing, in that order.

Reported: wall time per prefetch, speed-up over sequential, and the floor
``latency x (1 + ceil((pages - 1) / p))`` (page 1 is fetched alone, to learn the count).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from benchmarks._common import BenchResult, ServerProcess, median, print_table

NAME = "pagination"
DESCRIPTION = "20,000 images, page_size 100, 20 ms latency: prefetch 1, 4, 8, 16"

PREFETCHES = (1, 4, 8, 16)
PAGE_SIZE = 100
LATENCY_S = 0.020


def fakehub(images: int, latency_s: float, inline: bool = False) -> ServerProcess:
    """FakeHub with one repository of ``images`` images, ``latency_s`` on every request."""
    return ServerProcess(
        "benchmarks._common:serve_fakehub",
        inline=inline,
        generate={
            "namespaces": 1,
            "repos_per_namespace": 1,
            "images_per_repo": images,
            "audit": False,
        },
        latency_s=latency_s,
    )


async def read_all(
    url: str, token: str | None, ns: str, repo: str, prefetch: int, page_size: int = PAGE_SIZE
) -> tuple[float, list[str], dict[str, Any]]:
    """Read every image with ``prefetch``; returns (seconds, digests in order, stats)."""
    from hubasync import HubClient

    async with HubClient(
        token=token, base_url=url, requests_per_minute=1_000_000, max_concurrency=16
    ) as hub:
        await hub.images.summary(ns, repo)  # open a connection, warm the converter
        before = hub.stats.requests
        t0 = time.perf_counter()
        digests = [
            image.digest
            async for image in hub.images.list(ns, repo, page_size=page_size, prefetch=prefetch)
        ]
        elapsed = time.perf_counter() - t0
        return elapsed, digests, {"requests": hub.stats.requests - before}


def floor_s(items: int, page_size: int, latency_s: float, prefetch: int) -> float:
    """The least time the pages can take: page 1 alone, then ``prefetch`` at a time."""
    pages = max(1, math.ceil(items / page_size))
    return latency_s * (1 + math.ceil((pages - 1) / prefetch))


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the pagination benchmark; print the table; write ``<out_dir>/pagination.json``."""
    images = 1_000 if quick else 20_000
    rounds = 1 if quick else 2
    res = BenchResult(NAME, quick)
    res.params = {
        "images": images,
        "page_size": PAGE_SIZE,
        "latency_s": LATENCY_S,
        "prefetch": list(PREFETCHES),
        "rounds": rounds,
        "max_concurrency": 16,
    }
    times: dict[int, list[float]] = {p: [] for p in PREFETCHES}
    exact: dict[int, bool] = {p: True for p in PREFETCHES}
    requests: dict[int, int] = {}
    with fakehub(images, LATENCY_S, inline=quick) as server:
        token = server.call("token", "bench")
        ns, repo = server.call("generated")["repositories"][0].split("/")
        expected = server.call("listed_digests", [ns, repo])
        for r in range(rounds):
            order = PREFETCHES if r % 2 == 0 else tuple(reversed(PREFETCHES))
            for p in order:
                elapsed, digests, stats = asyncio.run(read_all(server.url, token, ns, repo, p))
                times[p].append(elapsed)
                exact[p] = exact[p] and digests == expected
                requests[p] = stats["requests"]
    seq = median(times[1])
    per: dict[str, Any] = {}
    for p in PREFETCHES:
        t = median(times[p])
        fl = floor_s(images, PAGE_SIZE, LATENCY_S, p)
        per[str(p)] = {
            "median_s": t,
            "times_s": times[p],
            "speedup_vs_sequential": seq / t,
            "floor_s": fl,
            "ratio_to_floor": t / fl,
            "items_exact_in_order": exact[p],
            "requests": requests[p],
        }
    res.results = {"expected_items": len(expected), "by_prefetch": per}
    print_table(
        f"pagination: {images:,} images, page_size {PAGE_SIZE}, {LATENCY_S * 1e3:.0f} ms latency "
        f"(median of {rounds})",
        ["prefetch", "time", "speed-up", "floor", "vs floor", "pages", "exact+ordered"],
        [
            [
                p,
                f"{per[str(p)]['median_s']:.2f} s",
                f"{per[str(p)]['speedup_vs_sequential']:.1f}x",
                f"{per[str(p)]['floor_s']:.2f} s",
                f"{per[str(p)]['ratio_to_floor']:.2f}x",
                per[str(p)]["requests"],
                "yes" if exact[p] else "NO",
            ]
            for p in PREFETCHES
        ],
    )
    res.target(
        "speed-up at prefetch 8 over sequential", per["8"]["speedup_vs_sequential"], ">=", 6.0
    )
    res.target(
        "items exact and in order at every prefetch (1 = yes)",
        float(all(exact.values())),
        "==",
        1.0,
    )
    return res.finish(out_dir)
