"""Developer sessions: tests, lint, typecheck, bench, demo (``nox -s NAME``)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, as CI runs it."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library."""
    session.install("-e", ".[test]")
    session.run("mypy", "--strict", "hubasync", "tests/typing")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (writes benchmarks/results/*.json); pass names to run a subset."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """hubasync demo: an audit against an embedded FakeHub."""
    session.install("-e", ".[cli]")
    session.run("hubasync", "demo")
