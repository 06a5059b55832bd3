"""What every ``hubasync`` subcommand shares: options, credentials, the client, exit codes.

Exit codes: 0 ok, 1 a failure reported by Hub (or some repositories failed), 2 a usage
error (bad option, bad name, missing credentials). Each failure is one ``error: …`` line on
stderr; ``--debug`` adds the traceback. Secrets never come from the command line: the token
is read from ``DOCKERHUB_TOKEN`` or, with ``--token-stdin``, from standard input.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import sys
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TypeVar

import attrs
import click

from .._client import DEFAULT_BASE_URL, HubClient
from ..errors import HubError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "FORMATS",
    "Connection",
    "connection_options",
    "format_option",
    "parse_repository",
    "parse_when",
    "run",
    "when_option",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
FORMATS = ("table", "json", "csv")

F = TypeVar("F", bound=Callable[..., Any])

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_when(text: str, now: datetime, *, future: bool = False) -> datetime:
    """An instant from the command line: ``2024-05-01``, an ISO 8601 date-time (naive means
    UTC) or a duration (``30d``, ``12h``, ``8w``) before ``now``, or after it with
    ``future=True``. Pure.

    Raises:
        ValueError: the text is none of these.
    """
    value = text.strip()
    match = _RELATIVE.match(value.lower())
    if match:
        delta = int(match.group(1)) * _UNITS[match.group(2)]
        return now + delta if future else now - delta
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use e.g. 2024-05-01, 2024-05-01T12:00:00Z or 30d "
            f"(30 days {'from now' if future else 'ago'})"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_repository(text: str) -> tuple[str, str]:
    """``NAMESPACE/REPOSITORY`` split in two (names are checked later, by the client).

    Raises:
        ValueError: not exactly one ``/`` with text on both sides.
    """
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"{text!r} is not NAMESPACE/REPOSITORY; write e.g. myorg/app (for official "
            "images: library/nginx)"
        )
    return parts[0], parts[1]


def when_option(fn: F) -> F:
    """Add ``--active-from DATE`` (a date, a date-time or ``30d``; default: Hub's, a month)."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_when(value, datetime.now(UTC))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return click.option(
        "--active-from",
        metavar="DATE",
        callback=convert,
        help="Count an image active if pushed or pulled since DATE (2024-05-01, an ISO "
        "date-time, or 30d / 12h / 8w ago). Default: Hub's, one month ago.",
    )(fn)


@attrs.frozen(kw_only=True)
class Connection:
    """Where to connect and as whom (the secret itself is read only when connecting).

    Attributes:
        base_url: Hub's address (``--base-url`` / ``HUBASYNC_BASE_URL``).
        username: the Docker Hub user (``--username`` / ``DOCKERHUB_USERNAME``).
        token_stdin: read the token from standard input instead of ``DOCKERHUB_TOKEN``.
        debug: show tracebacks.
    """

    base_url: str
    username: str | None
    token_stdin: bool
    debug: bool

    def read_secret(self) -> str | None:
        """The token: from stdin (``--token-stdin``) or ``DOCKERHUB_TOKEN``; ``None`` if none."""
        if self.token_stdin:
            stream = sys.stdin
            if stream.isatty():
                secret = click.prompt("Docker Hub token", hide_input=True, err=True)
            else:
                secret = stream.readline()
            secret = secret.strip()
            if not secret:
                raise click.UsageError(
                    "--token-stdin: standard input was empty; pipe the token in, e.g. "
                    "`hubasync ... --token-stdin < token.txt`"
                )
            return str(secret)
        return os.environ.get("DOCKERHUB_TOKEN") or None

    def client(self, **options: Any) -> HubClient:
        """A :class:`HubClient` for these settings (``options`` go to the constructor)."""
        secret = self.read_secret()
        if secret and not self.username:
            raise click.UsageError(
                "a token needs its user name: set DOCKERHUB_USERNAME or pass --username"
            )
        if self.username and not secret:
            raise click.UsageError(
                f"no token for user {self.username!r}: set DOCKERHUB_TOKEN or pass "
                "--token-stdin and pipe the token in"
            )
        interactive = not self.token_stdin and sys.stdin.isatty()
        return HubClient(
            username=self.username if secret else None,
            secret=secret,
            base_url=self.base_url,
            two_factor=_prompt_two_factor if interactive else None,
            **options,
        )


def _prompt_two_factor() -> str:
    return str(click.prompt("Two-factor authentication code", err=True)).strip()


def connection_options(fn: F) -> F:
    """Add ``--base-url``, ``--username``, ``--token-stdin`` and ``--debug`` to a command;
    the command receives them as one ``connection`` argument."""

    decorators = [
        click.option(
            "--base-url",
            envvar="HUBASYNC_BASE_URL",
            default=DEFAULT_BASE_URL,
            show_default=True,
            help="Hub's address, for a mirror or a FakeHub (env HUBASYNC_BASE_URL).",
        ),
        click.option(
            "--username",
            envvar="DOCKERHUB_USERNAME",
            help="Docker Hub user (env DOCKERHUB_USERNAME); the token comes from "
            "DOCKERHUB_TOKEN or --token-stdin, never from an argument.",
        ),
        click.option(
            "--token-stdin",
            is_flag=True,
            help="Read the token (PAT, org token or password) from standard input.",
        ),
        click.option("--debug", is_flag=True, help="Show tracebacks of failures."),
    ]

    @functools.wraps(fn)  # keeps the click parameters already attached to fn
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["connection"] = Connection(
            base_url=kwargs.pop("base_url"),
            username=kwargs.pop("username") or None,
            token_stdin=kwargs.pop("token_stdin"),
            debug=kwargs.pop("debug"),
        )
        return fn(*args, **kwargs)

    wrapped: Any = wrapper
    for decorator in reversed(decorators):
        wrapped = decorator(wrapped)
    return wrapped  # type: ignore[no-any-return]


def format_option(fn: F) -> F:
    """Add ``--format table|json|csv``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format (json and csv print data only, for scripts).",
    )(fn)


def error_line(message: str) -> None:
    """One ``error: …`` line on stderr."""
    click.echo(f"error: {' '.join(message.split())}", err=True)


def run(debug: bool, main: Callable[[], Awaitable[int]]) -> NoReturn:
    """Run a command's coroutine on a fresh event loop and exit with its code.

    A :class:`HubError` becomes ``error: <message>`` and exit 1; a ``ValueError`` (bad
    input the client refused) exit 2; Ctrl-C exit 130. ``debug`` adds tracebacks.
    """
    ctx = click.get_current_context()
    try:
        code = asyncio.run(_call(main))
    except HubError as exc:
        _report(exc, debug)
        code = EXIT_FAILURE
    except BrokenPipeError:
        # the reader went away (`hubasync audit ... | head`): stop quietly, like other tools
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE
    except UnicodeError as exc:  # a ValueError, but the terminal's fault, not the input's
        _report(exc, debug)
        error_line("the output cannot be encoded: set PYTHONIOENCODING=utf-8")
        code = EXIT_FAILURE
    except ValueError as exc:
        _report(exc, debug)
        code = EXIT_USAGE
    except OSError as exc:  # e.g. --output to a directory that does not exist
        _report(exc, debug)
        code = EXIT_FAILURE
    except KeyboardInterrupt:
        error_line("interrupted")
        code = 130
    ctx.exit(code)


async def _call(main: Callable[[], Awaitable[int]]) -> int:
    return await main()


def _report(exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    error_line(str(exc) or type(exc).__name__)
