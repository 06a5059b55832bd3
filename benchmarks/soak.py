"""Soak: a minute of random traffic through one client, under faults and a tight rate limit.

``python -m benchmarks.soak [--duration 60] [--tasks 64] [--fault-rate 0.05] [--json PATH]``

Not part of CI. 64 tasks share one ``HubClient`` against an in-process FakeHub (real sockets
on loopback) and pick operations at random: get a repository, an images summary, list images
(prefetch 1-8) or tags, list repositories, PATCH a repository, PUT org settings, create an
access token, a dry-run delete-images. A ``FaultPlan`` makes about ``--fault-rate`` of all
requests fail (503/500 bursts, resets before and after the headers, truncated bodies, HTML
502 pages, HAProxy 429s, answers slower than the client's timeout), and FakeHub allows only
``--rate-limit`` requests per ``--window`` seconds.

It counts, and prints every ``--sample`` seconds and at the end:

* unexpected exceptions: anything that is not a ``HubError`` (must be 0); typed errors are
  listed by operation and class (a 503 on a create is not retried, so some are expected);
* lost or repeated items: every listing is compared with the server's data (must be 0);
* duplicated creates: tokens the server holds beyond the creates that succeeded plus those
  that failed after the request may have been processed (must be 0);
* RSS and connections over time (checked out of the pool and idle in it), limiter state.

RSS is the whole process: FakeHub runs in the same event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hubasync import HubClient
from hubasync.errors import HubError, TransportError
from hubasync.models import ManifestRef, RestrictedImages
from hubasync.testing import FakeHub, FakeImage, Fault, FaultPlan, digest_of

USER, SECRET = "soak", "dckr_pat_soak_secret"
ORG = "soakorg"
REPOS = 8
IMAGES = 37  # a short last page at every page size used


def rss_mb() -> float:
    """This process's resident set size in MiB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fault_plan(rate: float, timeout: float, seed: int) -> FaultPlan:
    """About ``rate`` of all requests meet one fault, spread over every kind."""
    share = {
        "error503": 0.25,
        "error500": 0.10,
        "reset": 0.15,
        "reset_after_headers": 0.10,
        "truncate": 0.10,
        "html": 0.15,
        "hap429": 0.10,
        "slow": 0.05,
    }
    p = {k: rate * v for k, v in share.items()}
    return FaultPlan(
        Fault.latency(timeout * 2, probability=p["slow"]),
        Fault.error(503, probability=p["error503"]),
        Fault.error(500, probability=p["error500"]),
        Fault.reset(probability=p["reset"]),
        Fault.reset(after_headers=True, probability=p["reset_after_headers"]),
        Fault.truncate(probability=p["truncate"]),
        Fault.html(502, probability=p["html"]),
        Fault.hap429(probability=p["hap429"]),
        seed=seed,
    )


@dataclass
class Tally:
    """What happened, as the client saw it."""

    ops: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    typed_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    lost_items: int = 0
    repeated_items: int = 0
    misordered: int = 0  # listings with the right items in another order
    listings_checked: int = 0
    creates_ok: int = 0
    creates_maybe: int = 0  # failed after the request may have reached Hub
    creates_not_sent: int = 0  # failed before Hub could have processed it


@dataclass
class Sample:
    """One point of the time series."""

    t_s: float
    rss_mb: float
    conns_acquired: int
    conns_idle: int
    in_flight: int
    waiting: int
    requests: int
    retries: int
    rate_limited: int
    ops_done: int


def connections(hub: HubClient) -> tuple[int, int]:
    """Connections checked out of the pool, and idle ones kept in it."""
    session = hub._transport._session
    if session is None or session.connector is None:
        return 0, 0
    connector: Any = session.connector
    idle = sum(len(v) for v in getattr(connector, "_conns", {}).values())
    return len(connector._acquired), idle


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    tally = Tally()
    baseline_snapshot: list[tracemalloc.Snapshot] = []
    if args.tracemalloc:
        tracemalloc.start(8)
    samples: list[Sample] = []
    truth: dict[str, list[str]] = {}
    server = FakeHub(log_requests=False, seed=args.seed)
    async with server:
        server.add_user(USER, "pw", pats=[SECRET])
        server.add_namespace(ORG, members=[USER])
        for r in range(REPOS):
            images = [FakeImage(digest_of(f"{r}-{i}"), tags=[f"v{i}"]) for i in range(IMAGES)]
            server.add_repository(USER, f"repo{r}", images=images)
        # the listing order is the server's: learn it once, before faults and limits
        async with HubClient(
            username=USER, secret=SECRET, base_url=server.url, requests_per_minute=1_000_000
        ) as clean:
            for r in range(REPOS):
                found = await clean.images.list(USER, f"repo{r}").to_list()
                truth[f"repo{r}"] = [i.digest for i in found]
                assert sorted(truth[f"repo{r}"]) == sorted(server.image_digests(USER, f"repo{r}"))
        server.configure_rate_limit(
            args.rate_limit, window_s=args.window, retry_hint="retry-after-seconds"
        )
        server.inject(*fault_plan(args.fault_rate, args.timeout, args.seed).faults)
        tokens_at_start = len(server.access_tokens(USER))
        policy = RestrictedImages(
            enabled=True, allow_official_images=True, allow_verified_publishers=False
        )

        async with HubClient(
            username=USER,
            secret=SECRET,
            base_url=server.url,
            max_concurrency=args.concurrency,
            timeout=args.timeout,
            max_wait=60.0,
        ) as hub:

            async def listed(repo: str, prefetch: int) -> None:
                got = [
                    i.digest
                    for i in await hub.images.list(
                        USER, repo, page_size=rng.choice([5, 10, 25]), prefetch=prefetch
                    ).to_list()
                ]
                tally.listings_checked += 1
                want = truth[repo]
                tally.lost_items += len(set(want) - set(got))
                tally.repeated_items += len(got) - len(set(got))
                tally.misordered += got != want and sorted(got) == sorted(want)

            async def one(op: str) -> None:
                repo = f"repo{rng.randrange(REPOS)}"
                if op == "get":
                    r = await hub.repositories.get(USER, repo)
                    assert r.name == repo
                elif op == "summary":
                    s = await hub.images.summary(USER, repo)
                    assert s.statistics.total == IMAGES
                elif op == "list":
                    await listed(repo, rng.choice([1, 2, 4, 8]))
                elif op == "tags":
                    digest = rng.choice(truth[repo])
                    await hub.images.tags(USER, repo, digest, prefetch=2).to_list()
                elif op == "repos":
                    found = await hub.repositories.list(USER, page_size=3, prefetch=4).to_list()
                    names = [x.name for x in found]
                    tally.listings_checked += 1
                    tally.lost_items += REPOS - len(set(names) & {f"repo{i}" for i in range(REPOS)})
                    tally.repeated_items += len(names) - len(set(names))
                elif op == "patch":
                    await hub.repositories.update(
                        USER, repo, description=f"soak {rng.random():.6f}"
                    )
                elif op == "put":
                    await hub.orgs.update_settings(ORG, policy)
                elif op == "create":
                    try:
                        await hub.access_tokens.create("soak", ["repo:read"])
                    except TransportError as exc:
                        if "may have been processed" in str(exc):
                            tally.creates_maybe += 1
                        else:
                            tally.creates_not_sent += 1
                        raise
                    except HubError:
                        tally.creates_not_sent += 1
                        raise
                    tally.creates_ok += 1
                elif op == "delete-dry-run":
                    ref = ManifestRef(repository=repo, digest=rng.choice(truth[repo]))
                    try:
                        await hub.images.delete(USER, [ref], dry_run=True)
                    except HubError as exc:
                        if exc.status != 400:  # Hub's warnings (tagged, active) are answers
                            raise

            ops = ["get", "summary", "list", "tags", "repos", "patch", "put", "create"]
            weights = [20, 20, 25, 8, 7, 8, 5, 2]
            ops.append("delete-dry-run")
            weights.append(5)
            started = time.monotonic()
            stop_at = started + args.duration

            async def worker() -> None:
                while time.monotonic() < stop_at:
                    op = rng.choices(ops, weights)[0]
                    tally.ops[op] += 1
                    try:
                        await one(op)
                    except HubError as exc:
                        tally.typed_errors[f"{op}: {type(exc).__name__}"] += 1
                    except Exception as exc:  # the count that must stay 0
                        tally.unexpected.append(f"{op}: {type(exc).__name__}: {exc}")
                    else:
                        tally.ok[op] += 1

            async def sampler() -> None:
                while True:
                    if args.tracemalloc and len(samples) == 2:
                        baseline_snapshot.append(tracemalloc.take_snapshot())
                    acquired, idle = connections(hub)
                    limiter: Any = hub.rate_limiter
                    samples.append(
                        Sample(
                            t_s=round(time.monotonic() - started, 1),
                            rss_mb=round(rss_mb(), 1),
                            conns_acquired=acquired,
                            conns_idle=idle,
                            in_flight=limiter.in_flight,
                            waiting=limiter.waiting,
                            requests=hub.stats.requests,
                            retries=hub.stats.retries,
                            rate_limited=hub.stats.rate_limited,
                            ops_done=sum(tally.ops.values()),
                        )
                    )
                    print_sample(samples[-1], first=len(samples) == 1)
                    await asyncio.sleep(args.sample)

            sampling = asyncio.ensure_future(sampler())
            await asyncio.gather(*(worker() for _ in range(args.tasks)))
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
            growth: list[str] = []
            if args.tracemalloc and baseline_snapshot:
                diff = tracemalloc.take_snapshot().compare_to(baseline_snapshot[0], "traceback")
                for stat in diff[:8]:
                    frames = " <- ".join(
                        f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback[:4]
                    )
                    growth.append(
                        f"{stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d}: {frames}"
                    )
            elapsed = time.monotonic() - started
            acquired, idle = connections(hub)
            limiter_end: Any = hub.rate_limiter
            end_state = {
                "conns_acquired": acquired,
                "conns_idle": idle,
                "limiter_in_flight": limiter_end.in_flight,
                "limiter_waiting": limiter_end.waiting,
            }
            stats = {
                "requests": hub.stats.requests,
                "retries": hub.stats.retries,
                "rate_limited": hub.stats.rate_limited,
                "waited_s": round(hub.stats.waited_s, 1),
                "logins": hub.stats.logins,
            }
        await asyncio.sleep(0.2)  # let the server finish answers the client gave up on
        created = len(server.access_tokens(USER)) - tokens_at_start
        over_limit = server.over_limit
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    return {
        "params": vars(args),
        "elapsed_s": round(elapsed, 1),
        "ops": dict(tally.ops),
        "ok": dict(tally.ok),
        "typed_errors": dict(tally.typed_errors),
        "unexpected_exceptions": len(tally.unexpected),
        "unexpected_examples": tally.unexpected[:10],
        "listings_checked": tally.listings_checked,
        "lost_items": tally.lost_items,
        "repeated_items": tally.repeated_items,
        "misordered_listings": tally.misordered,
        "creates": {
            "ok": tally.creates_ok,
            "failed_maybe_processed": tally.creates_maybe,
            "failed_not_processed": tally.creates_not_sent,
            "server_created": created,
            "duplicated": max(0, created - tally.creates_ok - tally.creates_maybe),
            "missing": max(0, tally.creates_ok - created),
        },
        "client_stats": stats,
        "server_over_limit": over_limit,
        "end_state": end_state,
        "pending_tasks_after_close": len(pending),
        "samples": [asdict(s) for s in samples],
        "heap_growth_top": growth,
    }


def print_sample(s: Sample, *, first: bool) -> None:
    if first:
        print(
            f"{'t(s)':>6} {'RSS MiB':>8} {'conn busy':>9} {'conn idle':>9} {'in flight':>9} "
            f"{'waiting':>7} {'requests':>9} {'retries':>8} {'429s':>6} {'ops':>7}"
        )
    print(
        f"{s.t_s:>6.1f} {s.rss_mb:>8.1f} {s.conns_acquired:>9} {s.conns_idle:>9} "
        f"{s.in_flight:>9} {s.waiting:>7} {s.requests:>9} {s.retries:>8} "
        f"{s.rate_limited:>6} {s.ops_done:>7}",
        flush=True,
    )


def print_report(r: dict[str, Any]) -> None:
    c = r["creates"]
    rss = [s["rss_mb"] for s in r["samples"]] or [0.0]
    busy = [s["conns_acquired"] for s in r["samples"]] or [0]
    total_ops = sum(r["ops"].values())
    print()
    print(
        f"soak: {total_ops} operations in {r['elapsed_s']} s ({total_ops / r['elapsed_s']:.0f}/s)"
    )
    print(f"  client: {r['client_stats']}")
    print(f"  server: {r['server_over_limit']} requests arrived over the rate limit")
    print(f"  unexpected exceptions: {r['unexpected_exceptions']}  (must be 0)")
    for line in r["unexpected_examples"]:
        print(f"    {line}")
    print(
        f"  listings checked: {r['listings_checked']}; lost items: {r['lost_items']}; "
        f"repeated items: {r['repeated_items']}; out of order: {r['misordered_listings']}  "
        "(must be 0)"
    )
    print(
        f"  creates: {c['ok']} ok, {c['failed_maybe_processed']} failed after maybe reaching Hub, "
        f"{c['failed_not_processed']} failed unprocessed; server created {c['server_created']}: "
        f"duplicated {c['duplicated']}, missing {c['missing']}  (must be 0)"
    )
    print(f"  typed errors (faults beyond what may be retried): {r['typed_errors']}")
    print(
        f"  RSS MiB: start {rss[0]}, max {max(rss)}, end {rss[-1]}; connections busy: "
        f"max {max(busy)}, end {r['end_state']['conns_acquired']}; limiter at the end: "
        f"in_flight {r['end_state']['limiter_in_flight']}, "
        f"waiting {r['end_state']['limiter_waiting']}; tasks pending after close: "
        f"{r['pending_tasks_after_close']}"
    )
    ok = (
        r["unexpected_exceptions"] == 0
        and r["lost_items"] == 0
        and r["repeated_items"] == 0
        and r["misordered_listings"] == 0
        and c["duplicated"] == 0
        and c["missing"] == 0
        and r["end_state"]["conns_acquired"] == 0
        and r["end_state"]["limiter_in_flight"] == 0
    )
    for line in r["heap_growth_top"]:
        print(f"  heap growth since the second sample: {line}")
    print(f"  verdict: {'PASS' if ok else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its report; exit status 1 if an invariant broke."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    parser.add_argument("--tasks", type=int, default=64, help="concurrent tasks")
    parser.add_argument("--concurrency", type=int, default=16, help="client max_concurrency")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of faulty answers")
    parser.add_argument("--rate-limit", type=int, default=200, help="requests per window")
    parser.add_argument("--window", type=float, default=2.0, help="rate-limit window, seconds")
    parser.add_argument("--timeout", type=float, default=0.5, help="client timeout, seconds")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="report where the heap grew (slower)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    report = asyncio.run(soak(args))
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    c = report["creates"]
    broken = (
        report["unexpected_exceptions"]
        or report["lost_items"]
        or report["repeated_items"]
        or report["misordered_listings"]
        or c["duplicated"]
        or c["missing"]
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
