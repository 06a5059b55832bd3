"""Helpers every benchmark shares: servers in child processes, results, tables, machine info.

Each benchmark module exposes ``NAME``, ``DESCRIPTION`` and ``run(*, quick, out_dir)``, which
prints a table, writes ``<out_dir>/<NAME>.json`` and returns the result document. A result
document looks like::

    {"benchmark": NAME, "quick": false, "started": "...", "duration_s": 12.3,
     "machine": {...}, "params": {...}, "results": {...},
     "targets": [{"name": ..., "value": ..., "op": "<=", "threshold": ..., "met": true}],
     "notes": ["..."]}

Servers run in a child process (``ServerProcess``) so that the client under test has a core
of its own on a two-core machine and its CPU is not shared with the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.metadata
import json
import math
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

__all__ = [
    "EPOCH_WINDOW_NOTE",
    "RESULTS_DIR",
    "BenchResult",
    "ServedApp",
    "ServerProcess",
    "Target",
    "child_main",
    "cpu_model",
    "default_out_dir",
    "fmt_ratio",
    "fmt_s",
    "item_digest",
    "machine_info",
    "median",
    "print_table",
    "rss_bytes",
    "serve_fakehub",
    "serve_pages",
    "total_from_name",
    "validate_result",
]

#: Where full runs write their JSON.
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: Where ``--quick`` runs write theirs unless told otherwise (never over the real figures).
QUICK_DIR = Path(tempfile.gettempdir()) / "hubasync-bench-quick"

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, t: v <= t,
    "<": lambda v, t: v < t,
    ">=": lambda v, t: v >= t,
    ">": lambda v, t: v > t,
    "==": lambda v, t: v == t,
}


#: Why a run against FakeHub can beat requests / rate (one wording for every benchmark).
EPOCH_WINDOW_NOTE = (
    "FakeHub's windows are fixed and aligned to the epoch: a run that starts late in a window "
    "gets that window's whole budget early, so it can beat requests / rate; the window floor "
    "is the tighter bound"
)


def default_out_dir(quick: bool) -> Path:
    """``benchmarks/results`` for full runs, a temporary directory for quick ones."""
    return QUICK_DIR if quick else RESULTS_DIR


# --------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's best guess)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hubasync": _version("hubasync"),
        "aiohttp": _version("aiohttp"),
        "httpx": _version("httpx"),
        "tenacity": _version("tenacity"),
        "loadavg": _loadavg(),
    }


def _loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (others' work on the machine blurs figures)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def rss_bytes() -> int:
    """The current resident set size of this process."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        # no /proc (not Linux): the high-water mark is the best available
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A published target and whether the run met it."""

    name: str
    value: float | None
    op: str
    threshold: float
    note: str = ""

    @property
    def met(self) -> bool:
        """Whether ``value op threshold`` holds (``False`` when nothing was measured)."""
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return False
        return _OPS[self.op](self.value, self.threshold)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "name": self.name,
            "value": None if self.value is None or not math.isfinite(self.value) else self.value,
            "op": self.op,
            "threshold": self.threshold,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class BenchResult:
    """One benchmark's result document, built up while it runs."""

    name: str
    quick: bool
    params: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    _t0: float = field(default_factory=time.perf_counter)

    def target(
        self, name: str, value: float | None, op: str, threshold: float, note: str = ""
    ) -> Target:
        """Record a target check."""
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        t = Target(name, value, op, threshold, note)
        self.targets.append(t)
        return t

    def document(self) -> dict[str, Any]:
        """The JSON document (see the module docstring)."""
        return {
            "benchmark": self.name,
            "quick": self.quick,
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - self._t0, 3),
            "machine": machine_info(),
            "params": self.params,
            "results": _jsonable(self.results),
            "targets": [t.as_dict() for t in self.targets],
            "notes": list(self.notes),
        }

    def finish(self, out_dir: Path) -> dict[str, Any]:
        """Print the targets, write ``<out_dir>/<name>.json`` and return the document."""
        doc = self.document()
        validate_result(doc)
        if self.targets:
            print_table(
                f"{self.name}: targets",
                ["target", "value", "wanted", "met"],
                [
                    [
                        t.name,
                        _fmt_value(t.value),
                        f"{t.op} {t.threshold:g}",
                        "yes" if t.met else "NO",
                    ]
                    for t in self.targets
                ],
            )
        for note in self.notes:
            print(f"  note: {note}")
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        tmp.replace(path)
        print(f"  wrote {path}")
        return doc


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 6)
    return value


def validate_result(doc: Any) -> None:
    """Raise ``ValueError`` unless ``doc`` is a well-formed result document."""
    if not isinstance(doc, dict):
        raise ValueError("a result document must be a JSON object")
    for key, kind in (
        ("benchmark", str),
        ("quick", bool),
        ("started", str),
        ("duration_s", float | int),
        ("machine", dict),
        ("params", dict),
        ("results", dict),
        ("targets", list),
        ("notes", list),
    ):
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"result document: {key!r} missing or not {kind}")
    if not doc["results"]:
        raise ValueError("result document: 'results' is empty")
    for t in doc["targets"]:
        if not isinstance(t, dict) or not {"name", "value", "op", "threshold", "met"} <= set(t):
            raise ValueError(f"result document: malformed target {t!r}")
        if not isinstance(t["met"], bool):
            raise ValueError(f"result document: target {t['name']!r} has no boolean 'met'")
    json.dumps(doc, allow_nan=False)  # strict JSON


# --------------------------------------------------------------------------------------------
# Numbers and tables
# --------------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    """The median (NaN for no values)."""
    vals = list(values)
    return statistics.median(vals) if vals else math.nan


def fmt_s(seconds: float) -> str:
    """Seconds, readably."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ratio: float) -> str:
    """A ratio as ``1.23x``."""
    return "n/a" if ratio is None or math.isnan(ratio) else f"{ratio:.2f}x"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a plain-text table (monospace, right-aligned numbers)."""
    cells = [[_fmt_value(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells:
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# Servers in a child process
# --------------------------------------------------------------------------------------------


class ServedApp(Protocol):
    """What a server factory returns inside the child process."""

    url: str

    async def command(self, name: str, arg: Any) -> Any:
        """Answer a command from the parent (e.g. "stats")."""
        ...

    async def close(self) -> None:
        """Stop serving."""
        ...


def child_main() -> None:
    """The child process's entry point: ``python -c "…; child_main()" FACTORY KWARGS_JSON``.

    Commands arrive on stdin and replies leave on stdout, one JSON array per line; anything
    the server prints goes to stderr.
    """
    factory, kwargs = sys.argv[1], json.loads(sys.argv[2])
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr
    module, _, func = factory.partition(":")
    make: Callable[..., Awaitable[ServedApp]] = getattr(importlib.import_module(module), func)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        asyncio.run(_child_loop(replies, make, kwargs))


async def _child_loop(
    replies: Any, make: Callable[..., Awaitable[ServedApp]], kwargs: dict[str, Any]
) -> None:
    loop = asyncio.get_running_loop()

    def send(kind: str, value: Any) -> None:
        replies.write(json.dumps([kind, value]) + "\n")

    try:
        app = await make(**kwargs)
    except BaseException as exc:
        send("error", repr(exc))
        raise
    send("ready", app.url)
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return  # the parent went away
            name, arg = json.loads(line)
            if name == "stop":
                return
            try:
                reply: Any = time.process_time() if name == "cpu" else await app.command(name, arg)
            except Exception as exc:
                send("error", repr(exc))
            else:
                send("ok", reply)
    finally:
        await app.close()


class ServerProcess:
    """A server running in a child Python process, for as long as the ``with`` lasts.

    ``factory`` is ``"module:function"``: an async function taking ``kwargs`` (JSON-able)
    and returning a started :class:`ServedApp` on 127.0.0.1. ``call(name, arg)`` forwards a
    command to it; ``cpu()`` reads the server's CPU seconds.

    ``inline=True`` runs the same server on an event loop in a thread of this process
    instead: no process start-up cost, for smoke runs whose figures do not matter (the
    server then shares the interpreter, and ``cpu()`` reads the server thread's CPU time).
    """

    def __init__(self, factory: str, *, inline: bool = False, **kwargs: Any) -> None:
        self._factory = factory
        self._kwargs = kwargs
        self._inline = inline
        self._proc: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: ServedApp | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""

    def __enter__(self) -> ServerProcess:
        if self._inline:
            self._start_thread()
            return self
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from benchmarks._common import child_main; child_main()",
                self._factory,
                json.dumps(self._kwargs),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        try:
            kind, value = self._read(timeout=120)
        except BaseException:
            self._kill()
            raise
        if kind != "ready":
            self._kill()
            raise RuntimeError(f"server {self._factory} failed to start: {value}")
        self.url = str(value)
        return self

    # -- in a thread -----------------------------------------------------------------------
    def _start_thread(self) -> None:
        module, _, func = self._factory.partition(":")
        make: Callable[..., Awaitable[ServedApp]] = getattr(importlib.import_module(module), func)
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                self._app = await make(**self._kwargs)
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                raise
            ready.set()
            try:
                await self._stop.wait()
            finally:
                await self._app.close()

        def main() -> None:
            with contextlib.suppress(BaseException):
                asyncio.run(serve())

        self._thread = threading.Thread(
            target=main, name=f"bench-server {self._factory}", daemon=True
        )
        self._thread.start()
        ready.wait(120)
        if failure or self._app is None:
            self._thread.join(10)
            raise RuntimeError(f"server {self._factory} failed to start: {failure[:1]!r}")
        self.url = self._app.url

    def _in_thread(self, coro: Awaitable[Any]) -> Any:
        assert self._loop is not None

        async def wrapped() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(300)

    # -- in a child process ----------------------------------------------------------------
    def _read(self, timeout: float) -> tuple[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"server {self._factory} did not answer within {timeout:g} s")
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server {self._factory} exited (code {self._proc.poll()})")
        kind, value = json.loads(line)
        return str(kind), value

    def call(self, name: str, arg: Any = None, timeout: float = 300.0) -> Any:
        """Send a command to the server and return its reply (blocking; use between runs)."""
        if self._inline:
            assert self._app is not None
            if name == "cpu":
                return self._in_thread(_thread_cpu())
            # JSON round trip, as the child process would do it
            return json.loads(json.dumps(self._in_thread(self._app.command(name, arg))))
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps([name, arg]) + "\n")
        self._proc.stdin.flush()
        kind, value = self._read(timeout)
        if kind != "ok":
            raise RuntimeError(f"server command {name!r} failed: {value}")
        return value

    def cpu(self) -> float:
        """The server's CPU seconds so far."""
        return float(self.call("cpu"))

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            if self._loop is not None and self._stop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)
            return
        proc = self._proc
        try:
            if proc is not None and proc.poll() is None and proc.stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    proc.stdin.write(json.dumps(["stop", None]) + "\n")
                    proc.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        finally:
            self._kill()
            if proc is not None and proc.stdout is not None:
                proc.stdout.close()


async def _thread_cpu() -> float:
    return time.thread_time()


# --------------------------------------------------------------------------------------------
# FakeHub in a child process
# --------------------------------------------------------------------------------------------


class _FakeHubApp:
    """FakeHub wrapped as a :class:`ServedApp` (runs inside the child)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url = str(server.url)

    async def command(self, name: str, arg: Any) -> Any:
        server = self.server
        if name == "token":
            return server.issue_token(str(arg))
        if name == "generated":
            g = server.generated
            return (
                None
                if g is None
                else {
                    "namespaces": list(g.namespaces),
                    "repositories": list(g.repositories),
                    "images": g.images,
                }
            )
        if name == "listed_digests":
            return await self._listed_digests(*arg)
        if name == "stats":
            return {"over_limit": server.over_limit, "requests": len(server.requests)}
        if name == "windows":
            # Requests per rate-limit window (needs log_requests=True): index → [ok, 429, other].
            window = float(arg)
            counts: dict[int, list[int]] = {}
            for rec in server.requests:
                row = counts.setdefault(math.floor(rec.time / window), [0, 0, 0])
                row[0 if 200 <= rec.status < 300 else 1 if rec.status == 429 else 2] += 1
            return sorted([k, *v] for k, v in counts.items())
        if name == "reset_log":
            server.reset_log()
            return None
        raise ValueError(f"unknown FakeHub command {name!r}")

    async def _listed_digests(self, ns: str, repo: str) -> list[str]:
        """The digests ``GET …/images`` serves, in order, read with plain aiohttp (latency
        faults lifted meanwhile): the ground truth a client's listing must match."""
        import aiohttp

        server = self.server
        pending = server.pending_faults()
        server.clear_faults()
        token = server.issue_token(server.generated.username)
        url = f"{self.url}/v2/namespaces/{ns}/repositories/{repo}/images"
        digests: list[str] = []
        try:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as s:
                page = 1
                while True:
                    async with s.get(url, params={"page": page, "page_size": 100}) as resp:
                        resp.raise_for_status()
                        body = await resp.json()
                    digests.extend(item["digest"] for item in body["results"])
                    if not body.get("next"):
                        return digests
                    page += 1
        finally:
            for fault, _times in pending:
                server.inject(fault)

    async def close(self) -> None:
        await self.server.close()


async def serve_fakehub(
    *,
    generate: dict[str, Any] | None = None,
    latency_s: float = 0.0,
    options: dict[str, Any] | None = None,
) -> _FakeHubApp:
    """Child-process factory: a started FakeHub (``FakeHub.generate(**generate)`` when given),
    with ``latency_s`` of latency on every request. The seed's image API is on unless
    ``options`` say ``image_api=False`` (the benchmarks of the seed path measure it)."""
    from hubasync.testing import FakeHub, Fault, FaultPlan

    opts = dict(options or {})
    opts.setdefault("log_requests", False)
    opts.setdefault("image_api", True)
    if latency_s > 0:
        opts["faults"] = FaultPlan(Fault("latency", latency_s=latency_s))
    server = FakeHub.generate(**generate, **opts) if generate is not None else FakeHub(**opts)
    await server.start()
    return _FakeHubApp(server)


# --------------------------------------------------------------------------------------------
# Generated pages on the fly (child process): audit logs and image lists of any length
# --------------------------------------------------------------------------------------------

#: The instant generated item ``i`` is stamped with, minus ``i`` seconds (newest first).
_BASE_TS = 1_780_000_000


def item_digest(i: int) -> str:
    """The digest of generated item ``i`` (its position, so order is checkable)."""
    return f"sha256:{i:064x}"


def total_from_name(name: str) -> int:
    """``"anything-12345"`` → 12345: the generated list's length rides in the name."""
    return int(name.rsplit("-", 1)[1])


def _ts(i: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_BASE_TS - i))


def _event_bytes(account: str, i: int) -> bytes:
    d = item_digest(i)
    return (
        f'{{"account":"{account}","action":"repo.tag.push","name":"{account}/app",'
        f'"actor":"bench","data":{{"digest":"{d}","tag":"latest"}},"timestamp":"{_ts(i)}",'
        f'"action_description":"pushed the tag latest with the digest {d[:19]} to the '
        f'repository {account}/app"}}'
    ).encode()


def _image_bytes(ns: str, repo: str, i: int) -> bytes:
    ts = _ts(i)
    return (
        f'{{"namespace":"{ns}","repository":"{repo}","digest":"{item_digest(i)}",'
        f'"tags":[{{"tag":"v{i}","is_current":true}}],"last_pushed":"{ts}",'
        f'"last_pulled":"{ts}","status":"active"}}'
    ).encode()


class CountingApp:
    """A served aiohttp app in a benchmark's server process: its URL and requests served."""

    def __init__(self, runner: Any, url: str) -> None:
        self._runner = runner
        self.url = url
        self.served = 0

    async def command(self, name: str, arg: Any) -> Any:
        if name == "served":
            return self.served
        raise ValueError(f"unknown command {name!r}")

    async def close(self) -> None:
        await self._runner.cleanup()


def _page_args(query: Any) -> tuple[int, int]:
    return max(1, int(query.get("page", "1"))), max(1, int(query.get("page_size", "100")))


async def serve_pages(*, latency_s: float = 0.0) -> CountingApp:
    """Child-process factory: a plain aiohttp.web server generating pages on the fly.

    ``GET /v2/auditlogs/{account}`` serves ``{"logs": [...]}`` of ``page_size`` events until
    ``total_from_name(account)`` events, then a short page; ``GET /v2/namespaces/{ns}/
    repositories/{repo}/images`` serves ``{"count", "next", "previous", "results"}`` with
    ``total_from_name(repo)`` images. Item ``i`` carries ``item_digest(i)``.
    """
    from aiohttp import web

    holder: list[CountingApp] = []

    async def audit_logs(request: web.Request) -> web.Response:
        holder[0].served += 1
        if latency_s:
            await asyncio.sleep(latency_s)
        account = request.match_info["account"]
        total = total_from_name(account)
        page, size = _page_args(request.query)
        start = (page - 1) * size
        items = b",".join(_event_bytes(account, i) for i in range(start, min(total, start + size)))
        return web.Response(body=b'{"logs":[' + items + b"]}", content_type="application/json")

    async def images(request: web.Request) -> web.Response:
        holder[0].served += 1
        if latency_s:
            await asyncio.sleep(latency_s)
        ns, repo = request.match_info["ns"], request.match_info["repo"]
        total = total_from_name(repo)
        page, size = _page_args(request.query)
        start = (page - 1) * size
        end = min(total, start + size)
        base = f"https://hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/images"
        nxt = f'"{base}?page={page + 1}&page_size={size}"' if end < total else "null"
        prev = f'"{base}?page={page - 1}&page_size={size}"' if page > 1 else "null"
        items = b",".join(_image_bytes(ns, repo, i) for i in range(start, end))
        head = f'{{"count":{total},"next":{nxt},"previous":{prev},"results":['.encode()
        return web.Response(body=head + items + b"]}", content_type="application/json")

    app = web.Application()
    app.router.add_get("/v2/auditlogs/{account}", audit_logs)
    app.router.add_get("/v2/namespaces/{ns}/repositories/{repo}/images", images)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    pages = CountingApp(runner, f"http://127.0.0.1:{runner.addresses[0][1]}")
    holder.append(pages)
    return pages
