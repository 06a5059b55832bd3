"""A standalone FakeHub: ``python -m hubasync.testing`` and ``hubasync fakehub serve``.

Serves a seeded, generated FakeHub on loopback until Ctrl-C and prints, on start, its URL,
a user with a personal access token, the organizations, and the environment to point the
``hubasync`` command (or any client) at it. The same seed always gives the same data and
token. Needs no ``[cli]`` extra (argparse only).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from ._fakehub import FakeHub

__all__ = ["build_parser", "main", "serve", "start_banner"]

USERNAME = "demo"
PASSWORD = "demo-password"


def build_parser(prog: str = "python -m hubasync.testing") -> argparse.ArgumentParser:
    """The command line of the standalone FakeHub."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a seeded FakeHub (an in-process Docker Hub) until Ctrl-C; prints "
        "its URL and a user with an access token on start.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data (default 1)")
    parser.add_argument(
        "--namespaces", type=int, default=4, help="organizations to generate (default 4)"
    )
    parser.add_argument(
        "--repos", type=int, default=5, help="repositories per organization (default 5)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=180,
        help="requests per window per caller, with X-RateLimit-* headers (default 180)",
    )
    parser.add_argument(
        "--window", type=float, default=60.0, help="rate-limit window in seconds (default 60)"
    )
    parser.add_argument(
        "--image-api", action="store_true", help="also serve the image API Hub retired in 2023"
    )
    return parser


def start_banner(server: FakeHub) -> str:
    """What is printed on start: the URL, the user and token, and how to use them."""
    data = server.generated
    env = {
        "HUBASYNC_BASE_URL": server.url,
        "DOCKERHUB_USERNAME": data.username,
        "DOCKERHUB_TOKEN": data.pat,
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    first = data.namespaces[0] if data.namespaces else data.username
    return (
        f"FakeHub serving on {server.url} (Ctrl-C to stop)\n"
        f"  user:          {data.username}\n"
        f"  access token:  {data.pat}\n"
        f"  password:      {data.password}\n"
        f"  organizations: {', '.join(data.namespaces)}\n"
        f"  rate limit:    {server.rate_limit} requests per {server.window_s:g} s\n"
        f"Try:\n"
        f"  export {exports}\n"
        f"  hubasync repos list {first}\n"
        f"  hubasync audit {first}\n"
    )


async def serve(args: argparse.Namespace, out: TextIO = sys.stdout) -> None:
    """Start the FakeHub ``args`` describe, print :func:`start_banner`, serve until cancelled."""
    hub = FakeHub.generate(
        namespaces=args.namespaces,
        repos_per_namespace=args.repos,
        images_per_repo=12,
        seed=args.seed,
        username=USERNAME,
        password=PASSWORD,
        host=args.host,
        port=args.port,
        rate_limit=args.rate_limit,
        window_s=args.window,
        image_api=args.image_api,
        log_requests=False,
    )
    async with hub as server:
        out.write(start_banner(server))
        out.flush()
        await asyncio.Event().wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m hubasync.testing") -> int:
    """Run the standalone FakeHub; returns the exit code (0 after Ctrl-C, 2 on bad options)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    for name, low in (("namespaces", 1), ("repos", 1), ("rate_limit", 1)):
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} must be at least {low}")
    if not args.window > 0:
        parser.error("--window must be a positive number of seconds")
    # Ctrl-C stops the server even when this process was started with SIGINT ignored (a
    # background job of a non-interactive shell); SIGTERM stops it the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        print("FakeHub stopped", file=sys.stderr)
    except OSError as exc:  # e.g. the port is taken
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
