"""Overhead: what hubasync adds on top of the network, against raw aiohttp and httpx.

Method: a plain ``aiohttp.web`` server in a separate process serves one small fixed JSON body
(an images-summary) at the images-summary path, so the client's CPU is not shared with the
server's event loop. Each client makes N GETs at concurrency 32 (32 tasks, each sending one
request after another), with no rate limit:

* hubasync: ``hub.images.summary(ns, repo)`` → a structured ``ImagesSummary`` (validated path,
  concurrency slot, limiter token, retry wrapper, status mapping, JSON decode, cattrs);
* raw aiohttp: ``session.get(url)`` → ``await resp.json()`` (a dict), 32 pooled connections;
* httpx: ``AsyncClient.get(url)`` → ``resp.json()`` (a dict), 32 pooled connections.

Rounds alternate the clients (the order rotates every round); each client warms its pool
first. Reported: wall seconds, client CPU per request, the server's CPU share (to show
whether the server was the bottleneck), and the median over rounds of the per-round ratio
to raw aiohttp. A cProfile of one hubasync run goes to ``benchmarks/profile_overhead.txt``.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from benchmarks._common import (
    BenchResult,
    CountingApp,
    ServerProcess,
    fmt_ratio,
    median,
    print_table,
)

NAME = "overhead"
DESCRIPTION = "5,000 GETs at concurrency 32: hubasync vs raw aiohttp vs httpx"

NAMESPACE, REPOSITORY = "bench", "app"
PATH = f"/v2/namespaces/{NAMESPACE}/repositories/{REPOSITORY}/images-summary"
BODY = json.dumps(
    {
        "active_from": "2026-03-01T12:00:00.123456789Z",
        "statistics": {"total": 50, "active": 20, "inactive": 30},
    }
).encode()
CLIENTS = ("hubasync", "aiohttp", "httpx")
CONCURRENCY = 32
PROFILE_PATH = Path(__file__).resolve().parent / "profile_overhead.txt"


# --------------------------------------------------------------------------------------------
# The server (child process)
# --------------------------------------------------------------------------------------------


_PlainApp = CountingApp


async def serve() -> _PlainApp:
    """Child-process factory: a plain aiohttp.web server with one fixed JSON route."""
    from aiohttp import web

    holder: list[_PlainApp] = []

    async def summary(request: web.Request) -> web.Response:
        holder[0].served += 1
        return web.Response(body=BODY, content_type="application/json")

    app = web.Application()
    app.router.add_get(PATH, summary)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    plain = _PlainApp(runner, f"http://127.0.0.1:{port}")
    holder.append(plain)
    return plain


# --------------------------------------------------------------------------------------------
# The clients
# --------------------------------------------------------------------------------------------


async def _drive(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> None:
    """``n`` calls of ``one`` from ``concurrency`` tasks, each calling one after another."""
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))


async def _timed(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> dict[str, float]:
    await _drive(min(n, 2 * concurrency), concurrency, one)  # warm the pool
    t0, c0 = time.perf_counter(), time.process_time()
    await _drive(n, concurrency, one)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu}


async def run_hubasync(url: str, n: int, concurrency: int = CONCURRENCY) -> dict[str, float]:
    """hubasync: ``hub.images.summary`` (a structured model) ``n`` times."""
    from hubasync import HubClient

    async with HubClient(
        base_url=url, requests_per_minute=1_000_000, max_concurrency=concurrency
    ) as hub:

        async def one() -> None:
            summary = await hub.images.summary(NAMESPACE, REPOSITORY)
            if summary.statistics.total != 50:
                raise AssertionError("wrong body")

        out = await _timed(n, concurrency, one)
        out["requests_sent"] = hub.stats.requests
        return out


async def run_aiohttp(url: str, n: int, concurrency: int = CONCURRENCY) -> dict[str, float]:
    """raw aiohttp: ``session.get`` + ``resp.json()`` (a dict) ``n`` times."""
    import aiohttp

    target = url + PATH
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(target) as resp:
                if resp.status != 200:
                    raise AssertionError(resp.status)
                data = await resp.json()
            if data["statistics"]["total"] != 50:
                raise AssertionError("wrong body")

        return await _timed(n, concurrency, one)


async def run_httpx(url: str, n: int, concurrency: int = CONCURRENCY) -> dict[str, float]:
    """httpx.AsyncClient: ``client.get`` + ``resp.json()`` (a dict) ``n`` times."""
    import httpx

    target = url + PATH
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def one() -> None:
            resp = await client.get(target)
            if resp.status_code != 200:
                raise AssertionError(resp.status_code)
            if resp.json()["statistics"]["total"] != 50:
                raise AssertionError("wrong body")

        return await _timed(n, concurrency, one)


class _CannedResponse:
    """What ``session.request`` yields in :func:`own_cost`: the bench body, Hub-like headers."""

    status = 200

    def __init__(self, headers: Any) -> None:
        self.headers = headers

    async def read(self) -> bytes:
        return BODY

    async def __aenter__(self) -> _CannedResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _CannedSession:
    """Stands in for the client's aiohttp session: no socket, no aiohttp, one fixed answer."""

    closed = False

    def __init__(self, headers: Any) -> None:
        self._response = _CannedResponse(headers)

    def request(self, *args: Any, **kwargs: Any) -> _CannedResponse:
        return self._response

    async def close(self) -> None:
        return None


async def own_cost(n: int, concurrency: int = CONCURRENCY) -> dict[str, float]:
    """hubasync's own CPU per request: the same calls with the network taken away.

    The client's session is replaced by one that answers at once with the bench body and the
    headers Hub sends (``Date`` and ``X-RateLimit-*``), so what is measured is everything
    hubasync does around aiohttp: validation, slot, limiter, headers, JSON, cattrs. (The
    session is swapped rather than the transport's ``send``, so that the aiohttp adapter the
    transport calls, ``Transport._aiohttp_send``, stays in the figure.)
    """
    from multidict import CIMultiDict, CIMultiDictProxy

    from hubasync import HubClient

    headers = CIMultiDictProxy(
        CIMultiDict(
            {
                "Content-Type": "application/json",
                "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                "X-RateLimit-Limit": "100000000",
                "X-RateLimit-Remaining": "99999999",
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
            }
        )
    )
    async with HubClient(
        base_url="http://127.0.0.1:9", requests_per_minute=100_000_000, max_concurrency=concurrency
    ) as hub:
        hub._transport._session = _CannedSession(headers)  # type: ignore[assignment]

        async def one() -> None:
            summary = await hub.images.summary(NAMESPACE, REPOSITORY)
            if summary.statistics.total != 50:
                raise AssertionError("wrong body")

        try:
            out = await _timed(n, concurrency, one)
        finally:
            hub._transport._session = None  # nothing of ours to close
    out["cpu_us_per_request"] = out["cpu_s"] / n * 1e6
    return out


RUNNERS: dict[str, Callable[[str, int, int], Coroutine[Any, Any, dict[str, float]]]] = {
    "hubasync": run_hubasync,
    "aiohttp": run_aiohttp,
    "httpx": run_httpx,
}


def measure(
    server: ServerProcess, client: str, n: int, concurrency: int = CONCURRENCY
) -> dict[str, float]:
    """One timed run of ``client`` against ``server``, with the server's CPU over it."""
    s0 = server.cpu()
    out = asyncio.run(RUNNERS[client](server.url, n, concurrency))
    server_cpu = server.cpu() - s0
    out["server_cpu_s"] = server_cpu  # includes the warm-up requests (a few dozen)
    out["rate_per_s"] = n / out["wall_s"]
    out["cpu_us_per_request"] = out["cpu_s"] / n * 1e6
    return out


def compare_rounds(
    server: ServerProcess,
    n: int,
    rounds: int,
    clients: tuple[str, ...] = CLIENTS,
    sparse: tuple[str, ...] = ("httpx",),
) -> dict[str, Any]:
    """Alternating rounds; per-client medians and median per-round ratios to aiohttp.

    The order of the clients rotates every round. ``sparse`` clients (httpx: ten times
    slower, it would dominate the run time) take part in every third round only.
    """
    per_round: list[dict[str, dict[str, float]]] = []
    for r in range(rounds):
        taking = tuple(c for c in clients if c not in sparse or r % 3 == 0)
        order = taking[r % len(taking) :] + taking[: r % len(taking)]
        per_round.append({client: measure(server, client, n) for client in order})
    summary: dict[str, Any] = {}
    for client in clients:
        mine = [rd for rd in per_round if client in rd]
        walls = [rd[client]["wall_s"] for rd in mine]
        summary[client] = {
            "rounds": len(mine),
            "median_wall_s": median(walls),
            "median_rate_per_s": n / median(walls),
            "median_cpu_us_per_request": median(rd[client]["cpu_us_per_request"] for rd in mine),
            "median_server_cpu_share": median(
                rd[client]["server_cpu_s"] / rd[client]["wall_s"] for rd in mine
            ),
            "median_ratio_to_aiohttp": median(
                rd[client]["wall_s"] / rd["aiohttp"]["wall_s"] for rd in mine
            ),
            "median_cpu_ratio_to_aiohttp": median(
                rd[client]["cpu_us_per_request"] / rd["aiohttp"]["cpu_us_per_request"]
                for rd in mine
            ),
            "walls_s": walls,
        }
    return {"clients": summary, "rounds": per_round}


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------

_GROUPS = (
    ("hubasync", "/hubasync/"),
    ("tenacity", "/tenacity/"),
    ("cattrs/attrs", "/cattrs/"),
    ("cattrs/attrs", "/attr/"),
    ("cattrs/attrs", "<cattrs generated"),
    ("yarl/multidict", "/yarl/"),
    ("yarl/multidict", "/multidict/"),
    ("aiohttp", "/aiohttp/"),
    ("asyncio", "/asyncio/"),
    ("json", "/json/"),
)


_ROOT = str(Path(__file__).resolve().parent.parent) + "/"
_PATH_PREFIX = re.compile(r"/\S*?/(?:site-packages|python3\.\d+)/")


def _short_paths(text: str) -> str:
    """File names relative to the repository, site-packages or the standard library."""
    return _PATH_PREFIX.sub("", text.replace(_ROOT, ""))


def _group(filename: str) -> str:
    for label, needle in _GROUPS:
        if needle in filename:
            return label
    if filename.startswith("~") or filename == "<built-in>":
        return "builtins (C)"
    return "other"


def profile_hubasync(server: ServerProcess, n: int, out_path: Path | None) -> dict[str, Any]:
    """cProfile one hubasync run; own time grouped by package, top functions to ``out_path``."""
    asyncio.run(run_hubasync(server.url, 100))  # imports and first-use costs stay out
    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(run_hubasync(server.url, n))
    prof.disable()
    stats = pstats.Stats(prof)
    groups: dict[str, float] = {}
    total = 0.0
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        label = _group(filename)
        groups[label] = groups.get(label, 0.0) + tottime
        total += tottime
    shares = {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}
    top: list[dict[str, Any]] = []
    for (filename, line, func), (_cc, nc, tottime, cumtime, _callers) in sorted(
        raw.items(), key=lambda kv: -kv[1][2]
    )[:15]:
        short = _short_paths(filename)
        top.append(
            {
                "function": f"{short}:{line}({func})",
                "calls": nc,
                "tottime_s": tottime,
                "cumtime_s": cumtime,
            }
        )
    if out_path is not None:
        buf = io.StringIO()
        buf.write(f"cProfile of {n} hubasync images.summary GETs at concurrency {CONCURRENCY}\n")
        buf.write("(profiling slows everything ~2x; compare shares, not seconds)\n\n")
        buf.write("Own time by package:\n")
        for k, v in shares.items():
            buf.write(f"  {k:16s} {v:6.1%}\n")
        buf.write("\n")
        ps = pstats.Stats(prof, stream=buf)
        ps.sort_stats("tottime").print_stats(30)
        ps.sort_stats("cumulative").print_stats(40)
        out_path.write_text(_short_paths(buf.getvalue()))
    return {"own_time_share_by_package": shares, "top_tottime": top}


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the overhead benchmark; print the table; write ``<out_dir>/overhead.json``."""
    n = 100 if quick else 5_000
    rounds = 1 if quick else 6
    res = BenchResult(NAME, quick)
    res.params = {
        "requests": n,
        "concurrency": CONCURRENCY,
        "rounds": rounds,
        "clients": list(CLIENTS),
    }
    with ServerProcess("benchmarks.bench_overhead:serve", inline=quick) as server:
        cmp = compare_rounds(server, n, rounds)
        own = [asyncio.run(own_cost(4 * n))["cpu_us_per_request"] for _ in range(rounds)]
        if not quick:
            res.results["profile"] = profile_hubasync(server, n, PROFILE_PATH)
            res.notes.append(f"cProfile of one hubasync run: {PROFILE_PATH.name}")
    res.results.update(cmp)
    s = cmp["clients"]
    print_table(
        f"overhead: {n} GETs at concurrency {CONCURRENCY}, median of {rounds} alternating rounds",
        ["client", "wall", "req/s", "vs aiohttp", "client CPU/req", "CPU vs aiohttp", "server CPU"],
        [
            [
                c,
                f"{s[c]['median_wall_s']:.3f} s",
                f"{s[c]['median_rate_per_s']:,.0f}",
                fmt_ratio(s[c]["median_ratio_to_aiohttp"]),
                f"{s[c]['median_cpu_us_per_request']:.0f} µs",
                fmt_ratio(s[c]["median_cpu_ratio_to_aiohttp"]),
                f"{s[c]['median_server_cpu_share']:.0%}",
            ]
            for c in CLIENTS
        ],
    )
    own_us = median(own)
    aiohttp_us = s["aiohttp"]["median_cpu_us_per_request"]
    res.results["own_cost"] = {
        "cpu_us_per_request": own_us,
        "rounds_us": own,
        "share_of_raw_aiohttp_request": own_us / aiohttp_us,
    }
    print(
        f"  hubasync's own CPU with the network taken away: {own_us:.0f} µs/request "
        f"(median of {rounds}), {own_us / aiohttp_us:.2f}x a raw aiohttp request's"
    )
    if "profile" in res.results:
        shares = res.results["profile"]["own_time_share_by_package"]
        print(
            "  hubasync profile, own time by package: "
            + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
        )
    res.target(
        "hubasync wall time / raw aiohttp (median ratio)",
        s["hubasync"]["median_ratio_to_aiohttp"],
        "<=",
        1.15,
    )
    res.target(
        "hubasync wall time / httpx (median ratio)",
        s["hubasync"]["median_ratio_to_aiohttp"] / s["httpx"]["median_ratio_to_aiohttp"],
        "<",
        1.0,
    )
    return res.finish(out_dir)
