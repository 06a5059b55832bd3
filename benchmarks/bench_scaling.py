"""Scaling: the overhead and pagination figures at 10x and (reduced) 100x the work.

Method: the same measurements as ``overhead`` and ``pagination``, repeated with more work,
to show that cost per unit stays flat (linear growth):

* overhead: hubasync and raw aiohttp, N GETs at concurrency 32 against the same plain
  ``aiohttp.web`` server in a separate process, N = 5,000 (1x), 50,000 (10x) and 100,000
  (the 100x point reduced to 20x, to keep the whole run within minutes; httpx is left out
  at scale, its 1x figure is in ``overhead``);
* pagination: ``hub.images.list`` at ``prefetch=8``, 20 ms latency, page_size 100, over
  20,000 (1x), 200,000 (10x) and 500,000 (the 100x point reduced to 25x) images. FakeHub
  cannot hold millions of images cheaply, so every point here uses a plain ``aiohttp.web``
  server in a separate process that generates the pages on the fly; item ``i`` carries a
  digest naming ``i``, so exactness and order are checked at every scale.

Reported: per-request (per-page, per-item) cost at each scale and its ratio to the 1x cost
(1.00 = perfectly linear).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_overhead
from benchmarks._common import BenchResult, ServerProcess, item_digest, print_table

NAME = "scaling"
DESCRIPTION = "overhead and pagination at 1x, 10x and (reduced) 100x the work"

PAGE_SIZE = 100
LATENCY_S = 0.020
PREFETCH = 8


async def read_generated(url: str, total: int, prefetch: int) -> dict[str, Any]:
    """Read the generated image list of ``total`` items; check every digest's position."""
    from hubasync import HubClient

    async with HubClient(base_url=url, requests_per_minute=1_000_000, max_concurrency=16) as hub:
        repo = f"images-{total}"
        await hub.images.list("bench", repo, page_size=PAGE_SIZE).to_list(limit=1)  # warm up
        before = hub.stats.requests
        t0, c0 = time.perf_counter(), time.process_time()
        seen = 0
        exact = True
        async for image in hub.images.list("bench", repo, page_size=PAGE_SIZE, prefetch=prefetch):
            if image.digest != item_digest(seen):
                exact = False
            seen += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {
            "items": seen,
            "exact_in_order": exact and seen == total,
            "wall_s": wall,
            "cpu_s": cpu,
            "pages": hub.stats.requests - before,
        }


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the scaling benchmark; print the tables; write ``<out_dir>/scaling.json``."""
    overhead_scales: tuple[int, ...]
    page_scales: tuple[int, ...]
    if quick:
        overhead_scales, page_scales = (1, 10), (1, 10)
        base_requests, base_items = 50, 500
    else:
        overhead_scales, page_scales = (1, 10, 20), (1, 10, 25)
        base_requests, base_items = 5_000, 20_000
    res = BenchResult(NAME, quick)
    res.params = {
        "overhead": {
            "base_requests": base_requests,
            "scales": list(overhead_scales),
            "concurrency": bench_overhead.CONCURRENCY,
            "clients": ["hubasync", "aiohttp"],
        },
        "pagination": {
            "base_items": base_items,
            "scales": list(page_scales),
            "page_size": PAGE_SIZE,
            "latency_s": LATENCY_S,
            "prefetch": PREFETCH,
        },
    }
    if not quick:
        res.notes.append(
            "100x reduced: overhead to 20x (100,000 requests), pagination to 25x "
            "(500,000 images), to keep the full run within a few minutes"
        )

    overhead_rows: list[dict[str, Any]] = []
    with ServerProcess("benchmarks.bench_overhead:serve", inline=quick) as server:
        for scale in overhead_scales:
            n = base_requests * scale
            row: dict[str, Any] = {"scale": scale, "requests": n}
            for client in ("hubasync", "aiohttp"):
                m = bench_overhead.measure(server, client, n)
                row[client] = {
                    "wall_s": m["wall_s"],
                    "us_per_request": m["wall_s"] / n * 1e6,
                    "cpu_us_per_request": m["cpu_us_per_request"],
                }
            row["ratio_to_aiohttp"] = row["hubasync"]["wall_s"] / row["aiohttp"]["wall_s"]
            overhead_rows.append(row)
    base_o = overhead_rows[0]["hubasync"]["us_per_request"]
    for row in overhead_rows:
        row["hubasync"]["per_request_vs_1x"] = row["hubasync"]["us_per_request"] / base_o

    page_rows: list[dict[str, Any]] = []
    with ServerProcess(
        "benchmarks._common:serve_pages", inline=quick, latency_s=LATENCY_S
    ) as server:
        for scale in page_scales:
            total = base_items * scale
            m = asyncio.run(read_generated(server.url, total, PREFETCH))
            pages = max(1, math.ceil(total / PAGE_SIZE))
            floor = LATENCY_S * (1 + math.ceil((pages - 1) / PREFETCH))
            page_rows.append(
                {
                    "scale": scale,
                    **m,
                    "ms_per_page": m["wall_s"] / pages * 1e3,
                    "us_per_item": m["wall_s"] / total * 1e6,
                    "cpu_us_per_item": m["cpu_s"] / total * 1e6,
                    "floor_s": floor,
                    "ratio_to_floor": m["wall_s"] / floor,
                }
            )
    base_p = page_rows[0]["us_per_item"]
    for prow in page_rows:
        prow["per_item_vs_1x"] = prow["us_per_item"] / base_p

    res.results = {"overhead": overhead_rows, "pagination": page_rows}
    print_table(
        f"scaling: overhead, GETs at concurrency {bench_overhead.CONCURRENCY}",
        [
            "scale",
            "requests",
            "hubasync",
            "µs/req",
            "vs 1x",
            "aiohttp",
            "µs/req",
            "hubasync/aiohttp",
        ],
        [
            [
                f"{r['scale']}x",
                f"{r['requests']:,}",
                f"{r['hubasync']['wall_s']:.2f} s",
                f"{r['hubasync']['us_per_request']:.0f}",
                f"{r['hubasync']['per_request_vs_1x']:.2f}",
                f"{r['aiohttp']['wall_s']:.2f} s",
                f"{r['aiohttp']['us_per_request']:.0f}",
                f"{r['ratio_to_aiohttp']:.2f}x",
            ]
            for r in overhead_rows
        ],
    )
    print_table(
        f"scaling: pagination, prefetch {PREFETCH}, {LATENCY_S * 1e3:.0f} ms latency, "
        f"page_size {PAGE_SIZE}",
        ["scale", "items", "time", "ms/page", "µs/item", "vs 1x", "vs floor", "exact+ordered"],
        [
            [
                f"{r['scale']}x",
                f"{r['items']:,}",
                f"{r['wall_s']:.2f} s",
                f"{r['ms_per_page']:.2f}",
                f"{r['us_per_item']:.1f}",
                f"{r['per_item_vs_1x']:.2f}",
                f"{r['ratio_to_floor']:.2f}x",
                "yes" if r["exact_in_order"] else "NO",
            ]
            for r in page_rows
        ],
    )
    top_o, top_p = overhead_rows[-1], page_rows[-1]
    res.target(
        f"overhead: µs per request at {top_o['scale']}x / at 1x",
        top_o["hubasync"]["per_request_vs_1x"],
        "<=",
        1.2,
        "flat per-request cost = linear growth",
    )
    res.target(
        f"pagination: µs per item at {top_p['scale']}x / at 1x",
        top_p["per_item_vs_1x"],
        "<=",
        1.2,
        "flat per-item cost = linear growth",
    )
    res.target(
        "pagination: items exact and in order at every scale (1 = yes)",
        float(all(r["exact_in_order"] for r in page_rows)),
        "==",
        1.0,
    )
    return res.finish(out_dir)
