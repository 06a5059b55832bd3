"""Memory: streaming a million audit-log events in flat memory, against ``to_list``.

Method: FakeHub would have to hold a million events in memory and render them, so a plain
``aiohttp.web`` server in a separate process generates audit-log pages on the fly
(``{"logs": [...]}`` of ``page_size`` events until the count is reached, then a short page).
Each measurement runs in a fresh Python process so that nothing else has touched its heap:

* stream: ``async for event in hub.audit_logs.list(account, page_size=100)`` over 1,000,000
  events (default ``prefetch``), keeping only a counter and an order check;
* to_list: ``await hub.audit_logs.list(...).to_list()`` of 200,000 events (a million would
  take a gigabyte and most of a minute), extrapolated linearly to 1,000,000.

The baseline is the process's RSS after a one-page warm-up (imports, session, converter);
the peak is the highest of the RSS sampled every 1,000 events and the kernel's high-water
mark ``VmHWM``, reset at the baseline (``/proc/self/clear_refs``). Growth = peak - baseline.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import BenchResult, ServerProcess, item_digest, print_table, rss_bytes

NAME = "memory"
DESCRIPTION = "stream 1,000,000 audit-log events: peak RSS growth vs to_list"

MB = 1024 * 1024


async def _measure(url: str, mode: str, count: int) -> dict[str, Any]:
    from hubasync import HubClient

    account = f"bench-{count}"
    async with HubClient(base_url=url, requests_per_minute=1_000_000) as hub:
        warm = await hub.audit_logs.list(account, page_size=100).to_list(limit=1)
        assert warm and warm[0].data["digest"] == item_digest(0)
        del warm
        gc.collect()
        hwm_reset = _reset_peak()
        baseline = rss_bytes()
        peak = baseline
        t0 = time.perf_counter()
        seen = 0
        in_order = True
        kept: list[Any] = []
        if mode == "stream":
            async for event in hub.audit_logs.list(account, page_size=100):
                if event.data["digest"] != item_digest(seen):
                    in_order = False
                seen += 1
                if seen % 1000 == 0:
                    peak = max(peak, rss_bytes())
        else:
            kept = await hub.audit_logs.list(account, page_size=100).to_list()
            seen = len(kept)
            in_order = all(e.data["digest"] == item_digest(i) for i, e in enumerate(kept))
        elapsed = time.perf_counter() - t0
        holding = rss_bytes()
        peak = max(peak, holding)
        # The kernel's high-water mark since the reset (VmHWM); without a reset it would
        # include whatever peak imports reached before the baseline, so it is not used then.
        hwm = _peak_since_reset() if hwm_reset else None
        del kept
    return {
        "mode": mode,
        "events": seen,
        "expected": count,
        "in_order": in_order,
        "elapsed_s": elapsed,
        "events_per_s": seen / elapsed if elapsed else 0.0,
        "baseline_rss": baseline,
        "peak_rss_sampled": peak,
        "peak_rss_kernel": hwm,
        "peak_growth_bytes": max(peak, hwm or 0) - baseline,
        "holding_growth_bytes": holding - baseline,
    }


def _reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _peak_since_reset() is not None


def _peak_since_reset() -> int | None:
    """``VmHWM`` from /proc/self/status, in bytes (``None`` where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def child_main() -> None:
    """Entry point of the measuring process: ``URL MODE COUNT`` → one JSON line on stdout."""
    url, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(_measure(url, mode, count))))


def measure_in_fresh_process(url: str, mode: str, count: int) -> dict[str, Any]:
    """Run one measurement in a new Python process (clean heap)."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from benchmarks.bench_memory import child_main; child_main()",
            url,
            mode,
            str(count),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory measurement {mode} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(*, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Run the memory benchmark; print the table; write ``<out_dir>/memory.json``."""
    stream_n, list_n, target_n = (
        (5_000, 2_000, 1_000_000) if quick else (1_000_000, 200_000, 1_000_000)
    )
    res = BenchResult(NAME, quick)
    res.params = {
        "stream_events": stream_n,
        "to_list_events": list_n,
        "extrapolated_to": target_n,
        "page_size": 100,
        "prefetch": "client default (4)",
        "server": "plain aiohttp.web in a separate process, pages generated on the fly",
    }
    with ServerProcess("benchmarks._common:serve_pages", inline=quick) as server:
        if quick:  # smoke run: same code, in this process (the RSS figures mean nothing)
            stream = asyncio.run(_measure(server.url, "stream", stream_n))
            listed = asyncio.run(_measure(server.url, "to_list", list_n))
        else:
            stream = measure_in_fresh_process(server.url, "stream", stream_n)
            listed = measure_in_fresh_process(server.url, "to_list", list_n)
    per_event = listed["holding_growth_bytes"] / max(1, listed["events"])
    extrapolated = per_event * target_n
    res.results = {
        "stream": stream,
        "to_list": listed,
        "to_list_bytes_per_event": per_event,
        "to_list_extrapolated_growth_bytes": extrapolated,
        "stream_vs_to_list_extrapolated": stream["peak_growth_bytes"] / extrapolated
        if extrapolated
        else None,
    }
    print_table(
        "memory: audit-log events, RSS growth over the post-warm-up baseline",
        ["mode", "events", "peak growth", "held after", "events/s", "exact+ordered"],
        [
            [
                "stream (async for)",
                f"{stream['events']:,}",
                f"{stream['peak_growth_bytes'] / MB:.1f} MB",
                f"{stream['holding_growth_bytes'] / MB:.1f} MB",
                f"{stream['events_per_s']:,.0f}",
                "yes" if stream["in_order"] and stream["events"] == stream_n else "NO",
            ],
            [
                "to_list",
                f"{listed['events']:,}",
                f"{listed['peak_growth_bytes'] / MB:.1f} MB",
                f"{listed['holding_growth_bytes'] / MB:.1f} MB",
                f"{listed['events_per_s']:,.0f}",
                "yes" if listed["in_order"] and listed["events"] == list_n else "NO",
            ],
            [
                f"to_list, extrapolated to {target_n:,}",
                f"{target_n:,}",
                "",
                f"{extrapolated / MB:.0f} MB",
                "",
                "",
            ],
        ],
    )
    res.target("stream: peak RSS growth (MB)", stream["peak_growth_bytes"] / MB, "<", 50.0)
    res.target(
        "stream and to_list: every event once, in order (1 = yes)",
        float(
            stream["in_order"]
            and listed["in_order"]
            and stream["events"] == stream_n
            and listed["events"] == list_n
        ),
        "==",
        1.0,
    )
    res.notes.append(
        f"to_list measured at {list_n:,} events and extrapolated linearly to {target_n:,} "
        f"({per_event:.0f} bytes per held event)"
    )
    if quick:
        res.notes.append(f"quick mode streams {stream_n:,} events, not {target_n:,}")
    return res.finish(out_dir)
