"""Rate-budget use: how close hubasync gets to Hub's budget without 429s, vs a naive loop.

Method: FakeHub (in a child process) limits each caller to ``limit`` requests per fixed
window of ``window_s`` seconds (windows aligned to the epoch, like Hub's resets) and sends
``X-RateLimit-Limit/Remaining/Reset`` on every answer and a retry hint on a 429. N
``images.summary`` requests are made by 64 tasks sharing one client; the server logs every
request, and the log is cut into windows afterwards.

* hubasync: one ``HubClient`` (``max_concurrency=64``, no ``requests_per_minute``: it
  starts from its default assumption and learns the real budget from the headers);
* naive: raw aiohttp, ``asyncio.gather`` over the N calls (64 at a time), each call wrapped
  in a tenacity retry loop (``wait_random_exponential(multiplier=0.1, max=5)``, 10 attempts)
  that retries on a 429 without reading its headers — what a user writes first.

Reported: over-limit sends (429s) in total and after the first window; budget use = the
successful requests in the run's full windows (every window but the first and the last) over
``limit`` x their number; elapsed time against the ideal (the start of the window in which a
perfect client's cumulative budget reaches N).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from benchmarks._common import BenchResult, ServerProcess, print_table

NAME = "budget"
DESCRIPTION = "1,200 requests from 64 tasks under 120 per 1 s window: hubasync vs naive tenacity"

TASKS = 64


def _server(limit: int, window_s: float, inline: bool) -> ServerProcess:
    return ServerProcess(
        "benchmarks._common:serve_fakehub",
        inline=inline,
        generate={
            "namespaces": 1,
            "repos_per_namespace": 1,
            "images_per_repo": 5,
            "audit": False,
        },
        options={"rate_limit": limit, "window_s": window_s, "log_requests": True},
    )


async def _workers(n: int, tasks: int, one: Any) -> None:
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(tasks)))


async def run_hubasync(url: str, token: str, ns: str, repo: str, n: int) -> dict[str, Any]:
    """N summaries from 64 tasks through one HubClient."""
    from hubasync import HubClient

    async with HubClient(token=token, base_url=url, max_concurrency=TASKS) as hub:
        ok = 0

        async def one() -> None:
            nonlocal ok
            await hub.images.summary(ns, repo)
            ok += 1

        t0 = time.time()
        await _workers(n, TASKS, one)
        t1 = time.time()
        return {
            "t0": t0,
            "elapsed_s": t1 - t0,
            "ok": ok,
            "failed": n - ok,
            "sent": hub.stats.requests,
            "client_429s": hub.stats.rate_limited,
            "client_waited_s": hub.stats.waited_s,
        }


async def run_naive(url: str, token: str, ns: str, repo: str, n: int) -> dict[str, Any]:
    """N summaries via asyncio.gather (64 at a time) + a tenacity retry on 429, raw aiohttp."""
    import aiohttp
    import tenacity

    class TooManyRequests(Exception):
        pass

    target = f"{url}/v2/namespaces/{ns}/repositories/{repo}/images-summary"
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    gate = asyncio.Semaphore(TASKS)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=TASKS)) as session:

        @tenacity.retry(
            retry=tenacity.retry_if_exception_type(TooManyRequests),
            wait=tenacity.wait_random_exponential(multiplier=0.1, max=5),
            stop=tenacity.stop_after_attempt(10),
            reraise=True,
        )
        async def fetch() -> dict[str, Any]:
            nonlocal sent
            sent += 1
            async with session.get(target, headers=headers) as resp:
                if resp.status == 429:
                    raise TooManyRequests()
                resp.raise_for_status()
                data: dict[str, Any] = await resp.json()
                return data

        async def one() -> bool:
            async with gate:
                try:
                    await fetch()
                except TooManyRequests:
                    return False
                return True

        t0 = time.time()
        results = await asyncio.gather(*(one() for _ in range(n)))
        t1 = time.time()
    ok = sum(results)
    return {"t0": t0, "elapsed_s": t1 - t0, "ok": ok, "failed": n - ok, "sent": sent}


def analyse(
    windows: list[list[int]], t0: float, elapsed: float, n: int, limit: int, window_s: float
) -> dict[str, Any]:
    """Cut the server log into windows: 429s per window, budget use, elapsed vs ideal."""
    rows = [{"window": w, "ok": ok, "over": over, "other": other} for w, ok, over, other in windows]
    if not rows:
        raise RuntimeError("the server logged no requests")
    first = math.floor(t0 / window_s)
    over_total = sum(r["over"] for r in rows)
    over_after_first = sum(r["over"] for r in rows if r["window"] > first)
    full = [r for r in rows[1:-1]]  # windows wholly inside the run
    use = sum(r["ok"] for r in full) / (limit * len(full)) if full else math.nan
    needed = math.ceil(n / limit)
    ideal_finish = (first + needed - 1) * window_s
    ideal = max(0.0, ideal_finish - t0)
    return {
        "over_limit_total": over_total,
        "over_limit_after_first_window": over_after_first,
        "budget_use_full_windows": use,
        "full_windows": len(full),
        "ideal_elapsed_s": ideal,
        "elapsed_s": elapsed,
        "lost_s": elapsed - ideal,
        "windows": [
            {**r, "window": r["window"] - first} for r in rows
        ],  # relative to the run's first window
    }


def _one_run(kind: str, n: int, limit: int, window_s: float, inline: bool) -> dict[str, Any]:
    with _server(limit, window_s, inline) as server:
        token = server.call("token", "bench")
        gen = server.call("generated")
        ns, repo = gen["repositories"][0].split("/")
        runner = run_hubasync if kind == "hubasync" else run_naive
        out = asyncio.run(runner(server.url, token, ns, repo, n))
        windows = server.call("windows", window_s)
    out.update(analyse(windows, out["t0"], out["elapsed_s"], n, limit, window_s))
    out.pop("t0")
    return out


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the rate-budget benchmark; print the table; write ``<out_dir>/budget.json``."""
    n, limit, window_s = (60, 100, 1.0) if quick else (1200, 120, 1.0)
    res = BenchResult(NAME, quick)
    res.params = {"requests": n, "tasks": TASKS, "limit_per_window": limit, "window_s": window_s}
    hub = _one_run("hubasync", n, limit, window_s, quick)
    naive = _one_run("naive", n, limit, window_s, quick)
    res.results = {"hubasync": hub, "naive_tenacity": naive}
    allowed = limit / window_s
    print_table(
        f"budget: {n} requests from {TASKS} tasks, limit {limit} per {window_s:g} s window",
        [
            "client",
            "sent",
            "429s",
            "429s after 1st window",
            "budget use",
            "elapsed",
            "ideal",
            "failed",
        ],
        [
            [
                label,
                r["sent"],
                r["over_limit_total"],
                r["over_limit_after_first_window"],
                f"{r['budget_use_full_windows']:.1%}",
                f"{r['elapsed_s']:.2f} s",
                f"{r['ideal_elapsed_s']:.2f} s",
                r["failed"],
            ]
            for label, r in (("hubasync", hub), ("naive gather+tenacity", naive))
        ],
    )
    print_table(
        "budget: per window (ok / 429), relative to the first window",
        ["window", "hubasync ok", "hubasync 429", "naive ok", "naive 429"],
        _window_rows(hub["windows"], naive["windows"]),
    )
    res.results["allowed_rate_per_s"] = allowed
    res.target(
        "hubasync over-limit sends after the first window",
        hub["over_limit_after_first_window"],
        "==",
        0,
    )
    res.target(
        "hubasync budget use in full windows (achieved / allowed rate)",
        hub["budget_use_full_windows"],
        ">=",
        0.95,
    )
    res.notes.append(
        "budget use counts only the windows wholly inside the run; the first window starts at a "
        "random phase and the last is partly empty by construction"
    )
    return res.finish(out_dir)


def _window_rows(a: list[dict[str, int]], b: list[dict[str, int]]) -> list[list[Any]]:
    by_a = {r["window"]: r for r in a}
    by_b = {r["window"]: r for r in b}
    rows = []
    for w in sorted(set(by_a) | set(by_b)):
        ra, rb = by_a.get(w, {}), by_b.get(w, {})
        rows.append([w, ra.get("ok", 0), ra.get("over", 0), rb.get("ok", 0), rb.get("over", 0)])
    return rows
