"""What every ``hubasync`` subcommand shares: options, credentials, the client, exit codes.

Exit codes (:data:`EXIT_CODES`): 0 ok, 1 nothing worked (a failure reported by Hub, a
refused login, every repository failed), 2 a usage error (bad option, bad name, missing
credentials), 3 partial (the report was written, but some repositories, namespaces or
deletions failed), 130 interrupted, 141 the reader of stdout went away. Each failure is one
``error: …`` line on stderr; ``--debug`` adds the traceback; the library's advice ("raise
max_wait", "pass allow_http=True") is given as the flag to use (:func:`cli_advice`).

Secrets never come from the command line: the token is read from ``DOCKERHUB_TOKEN`` or,
with ``--token-stdin``, from standard input.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
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
    "EXIT_CODES",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "exit_for",
    "FORMATS",
    "Connection",
    "cli_advice",
    "connection_options",
    "LIST_FORMATS",
    "expires_option",
    "format_option",
    "list_format_option",
    "global_options",
    "log_level",
    "parse_repository",
    "parse_when",
    "run",
    "setup_logging",
    "when_option",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141  # 128 + SIGINT, 128 + SIGPIPE
#: Every exit code and its meaning (shown by ``hubasync --help``).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok",
    EXIT_FAILURE: "nothing worked (one `error:` line says why)",
    EXIT_USAGE: "usage error (bad option or name, missing credentials)",
    EXIT_PARTIAL: "partial: output written, some items failed (`error:` lines)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_PIPE: "the reader of stdout went away",
}


def exit_for(failed: int, total: int) -> int:
    """The exit code of a command that acted on ``total`` items of which ``failed`` failed:
    0 when none failed, 3 (partial) when some did, 1 when all did (or there were none). Pure."""
    if failed <= 0:
        return EXIT_OK
    return EXIT_PARTIAL if failed < total else EXIT_FAILURE


FORMATS = ("table", "json", "csv")
#: Formats of the listing commands: also JSON Lines, streamed.
LIST_FORMATS = ("table", "json", "jsonl", "csv")

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


def _instant_option(flag: str, *, future: bool, help_text: str) -> Callable[[F], F]:
    """A ``DATE`` option parsed by :func:`parse_when` (before now, or after it with
    ``future``): the command receives an aware ``datetime`` or ``None``."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_when(value, datetime.now(UTC), future=future)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return click.option(flag, metavar="DATE", callback=convert, help=help_text)


#: Add ``--active-from DATE`` (a date, a date-time or ``30d``; default: Hub's, a month).
when_option = _instant_option(
    "--active-from",
    future=False,
    help_text="Count an image active if pushed or pulled since DATE (2024-05-01, an ISO "
    "date-time, or 30d / 12h / 8w ago). Default: Hub's, one month ago.",
)
#: Add ``--expires-at DATE`` (a date, a date-time or ``30d`` from now; must lie ahead).
expires_option = _instant_option(
    "--expires-at",
    future=True,
    help_text="When the token stops working (a date, a date-time, or 30d from now).",
)


@attrs.frozen(kw_only=True)
class Connection:
    """Where to connect, as whom and how patiently (the secret is read only when connecting).

    Attributes:
        base_url: Hub's address (``--base-url`` / ``HUBASYNC_BASE_URL``).
        username: the Docker Hub user (``--username`` / ``DOCKERHUB_USERNAME``).
        token_stdin: read the token from standard input instead of ``DOCKERHUB_TOKEN``.
        debug: show tracebacks.
        verbosity: ``-v`` count (1: INFO, 2: DEBUG); see :func:`setup_logging`.
        client_options: ``HubClient`` keyword arguments from ``--max-wait``,
            ``--requests-per-minute``, ``--timeout``, ``--max-retries`` and ``--allow-http``
            (only those given).
    """

    base_url: str
    username: str | None
    token_stdin: bool
    debug: bool
    verbosity: int = 0
    client_options: dict[str, Any] = attrs.field(factory=dict)

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
        """A :class:`HubClient` for these settings (``options`` go to the constructor, over
        the global options)."""
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
            **{**self.client_options, **options},
        )


def _prompt_two_factor() -> str:
    return str(click.prompt("Two-factor authentication code", err=True)).strip()


# ------------------------------------------------------------------ global options

#: name -> (flags, click.option keyword arguments). Each is accepted before the subcommand
#: (on the group) and after it (on the command); the command's value wins.
_GLOBAL_OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "base_url": (
        ("--base-url",),
        {
            "metavar": "URL",
            "help": f"Hub's address, for a mirror or a FakeHub (env HUBASYNC_BASE_URL; "
            f"default {DEFAULT_BASE_URL}).",
        },
    ),
    "username": (
        ("--username",),
        {
            "help": "Docker Hub user (env DOCKERHUB_USERNAME); the token comes from "
            "DOCKERHUB_TOKEN or --token-stdin, never from an argument.",
        },
    ),
    "token_stdin": (
        ("--token-stdin",),
        {
            "is_flag": True,
            "default": None,
            "help": "Read the token (PAT, org token or password) from standard input.",
        },
    ),
    "max_wait": (
        ("--max-wait",),
        {
            "type": click.FloatRange(min=0),
            "metavar": "SECONDS",
            "help": "Longest single wait for Hub's rate limit before failing (default 300).",
        },
    ),
    "requests_per_minute": (
        ("--requests-per-minute",),
        {
            "type": click.IntRange(min=1),
            "metavar": "N",
            "help": "Rate assumed until Hub's headers say otherwise (default 180).",
        },
    ),
    "timeout": (
        ("--timeout",),
        {
            "type": click.FloatRange(min=0, min_open=True),
            "metavar": "SECONDS",
            "help": "Timeout of one request (default 30).",
        },
    ),
    "max_retries": (
        ("--max-retries",),
        {
            "type": click.IntRange(min=0),
            "metavar": "N",
            "help": "Retries of a failed request (5xx, connection errors; 429s are not "
            "counted). Default 5.",
        },
    ),
    "allow_http": (
        ("--allow-http",),
        {
            "is_flag": True,
            "default": None,
            "help": "Allow a plain http:// --base-url that is not loopback (sends the "
            "credentials in clear text).",
        },
    ),
    "verbose": (
        ("-v", "--verbose"),
        {
            "count": True,
            "help": "Log to stderr: -v waits, retries and logins (INFO), -vv everything "
            "(DEBUG). Env HUBASYNC_LOG=info|debug does the same.",
        },
    ),
    "debug": (("--debug",), {"is_flag": True, "default": None, "help": "Show tracebacks."}),
}
_CLIENT_OPTIONS = ("max_wait", "requests_per_minute", "timeout", "max_retries", "allow_http")


def global_options(fn: F) -> F:
    """Add the global options to the ``hubasync`` group; their values are kept in the
    context's ``obj`` for :func:`connection_options` to fall back on."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        ctx.obj = {name: kwargs.pop(name) for name in _GLOBAL_OPTIONS}
        return fn(*args, **kwargs)

    return _with_options(wrapper)  # type: ignore[no-any-return]


def _with_options(fn: Any) -> Any:
    for flags, settings in reversed(_GLOBAL_OPTIONS.values()):
        fn = click.option(*flags, **settings)(fn)
    return fn


def _merged(ctx: click.Context, own: dict[str, Any]) -> dict[str, Any]:
    """The command's options over the group's (``None``/0 = not given there)."""
    outer = ctx.find_root().obj or {}
    merged = {name: own[name] if own[name] else outer.get(name) for name in _GLOBAL_OPTIONS}
    merged["verbose"] = (own["verbose"] or 0) + (outer.get("verbose") or 0)
    for name in ("max_wait", "max_retries"):  # 0 is a value, not "not given"
        if own[name] is not None:
            merged[name] = own[name]
    return merged


def connection_options(fn: F) -> F:
    """Add the global options (``--base-url``, ``--username``, ``--token-stdin``,
    ``--max-wait``, ``--requests-per-minute``, ``--timeout``, ``--max-retries``,
    ``--allow-http``, ``-v``, ``--debug``) to a command, accepted there as well as before
    the subcommand; the command receives them as one ``connection`` argument and logging is
    set up."""

    @functools.wraps(fn)  # keeps the click parameters already attached to fn
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = _merged(click.get_current_context(), {n: kwargs.pop(n) for n in _GLOBAL_OPTIONS})
        setup_logging(values["verbose"])
        kwargs["connection"] = Connection(
            base_url=values["base_url"] or os.environ.get("HUBASYNC_BASE_URL") or DEFAULT_BASE_URL,
            username=values["username"] or os.environ.get("DOCKERHUB_USERNAME") or None,
            token_stdin=bool(values["token_stdin"]),
            debug=bool(values["debug"]),
            verbosity=values["verbose"],
            client_options={n: values[n] for n in _CLIENT_OPTIONS if values[n] is not None},
        )
        return fn(*args, **kwargs)

    return _with_options(wrapper)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------ logging

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def log_level(verbosity: int, env: str | None) -> int | None:
    """The level of the ``hubasync`` loggers for ``-v`` count and ``HUBASYNC_LOG``
    (whichever is more verbose); ``None``: leave logging alone (warnings only). Pure.

    Raises:
        click.UsageError: ``HUBASYNC_LOG`` is not ``debug``, ``info`` or ``warning``.
    """
    levels = []
    if verbosity:
        levels.append(logging.DEBUG if verbosity >= 2 else logging.INFO)
    if env:
        level = _LEVELS.get(env.strip().lower())
        if level is None:
            raise click.UsageError(
                f"HUBASYNC_LOG={env!r} is not a level: use HUBASYNC_LOG=info or debug"
            )
        levels.append(level)
    return min(levels) if levels else None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (a progress bar redirects it, so a
    log line prints above the bar instead of through it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(verbosity: int) -> None:
    """Send the ``hubasync`` loggers to stderr at the level of ``-v``/``HUBASYNC_LOG``,
    one line each: ``12:03:01 INFO hubasync.ratelimit: ...`` (idempotent)."""
    level = log_level(verbosity, os.environ.get("HUBASYNC_LOG"))
    logger = logging.getLogger("hubasync")
    ours = [h for h in logger.handlers if isinstance(h, _StderrHandler)]
    for handler in ours:
        logger.removeHandler(handler)
    if level is None:
        if ours:  # a previous call set the level: undo it
            logger.setLevel(logging.NOTSET)
        return
    handler = _StderrHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    logger.addHandler(handler)
    logger.setLevel(level)


def _format(choices: tuple[str, ...], help_text: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="table",
        show_default=True,
        help=help_text,
    )


#: Add ``--format table|json|csv``.
format_option = _format(
    FORMATS,
    "Output format (json and csv print data only, for scripts; json is written once "
    "complete, never half a document).",
)
#: Add ``--format table|json|jsonl|csv`` (for listings).
list_format_option = _format(
    LIST_FORMATS,
    "Output format: json is one document written once complete; jsonl (one object per "
    "line) and csv stream as rows arrive, valid up to where Ctrl-C stopped.",
)


def error_line(message: str) -> None:
    """One ``error: …`` line on stderr (the library's advice given as flags)."""
    click.echo(f"error: {' '.join(cli_advice(message).split())}", err=True)


def run(debug: bool, main: Callable[[], Awaitable[int]]) -> NoReturn:
    """Run a command's coroutine on a fresh event loop and exit with its code.

    A :class:`HubError` becomes ``error: <message>`` (its advice in flags, see
    :func:`cli_advice`) and exit 1; a ``ValueError`` (bad input the client refused) exit 2;
    Ctrl-C exit 130. ``debug`` adds tracebacks.
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
        code = EXIT_PIPE
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
        code = EXIT_INTERRUPTED
    ctx.exit(code)


async def _call(main: Callable[[], Awaitable[int]]) -> int:
    return await main()


def _report(exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    error_line(str(exc) or type(exc).__name__)


#: The library's advice (written for Python callers) and what to do from the shell instead.
_ADVICE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (
            r"pass username= and secret= \(or token=\) to HubClient, or set "
            r"DOCKERHUB_USERNAME/DOCKERHUB_TOKEN for HubClient\.from_env\(\)",
            "set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (or pass --username and --token-stdin)",
        ),
        (
            r"pass a fresh token=, or username= and secret= so hubasync logs in and "
            r"refreshes as needed",
            "set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (or pass --username and --token-stdin)",
        ),
        (
            r"authenticate \(username= and secret=, or token=\)",
            "set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN",
        ),
        (
            r"pass two_factor= \(a callable returning the current TOTP code\) to HubClient",
            "run the command in a terminal to be asked for the code (not with --token-stdin)",
        ),
        (r"check that the two_factor callable returns", "check that you typed"),
        (r"create a new HubClient to try again", "run the command again"),
        (r"pass allow_http=True", "pass --allow-http"),
        (r"\bmax_wait=([0-9.]+) s\b", r"--max-wait \1 s"),
        (r"\bmax_wait\b", "--max-wait"),
        (r"\brequests_per_minute\b", "--requests-per-minute"),
        (r"\bmax_retries\b", "--max-retries"),
        (r"\btimeout=", "--timeout "),
        (r"to_list\(limit=\.\.\.\)", "fewer items"),
    )
)


def cli_advice(message: str) -> str:
    """A library message with its advice for Python callers ("raise max_wait", "pass
    allow_http=True", "pass username= … to HubClient") turned into the command line's
    flags and environment variables. Pure."""
    for pattern, replacement in _ADVICE:
        message = pattern.sub(replacement, message)
    return message
