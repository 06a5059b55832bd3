"""Typing checks for HubClient, run by ``mypy --strict hubasync tests/typing`` (see .ci/run).

Each ``# type: ignore[code]`` below marks a line mypy must refuse: under ``--strict``
(``warn_unused_ignores``) an ignore that stops being needed is itself an error, so a change
that lets a typo through fails the type check. Not collected by pytest (no ``test_`` name).
"""

from __future__ import annotations

from hubasync import HubClient


def keywords_are_checked() -> None:
    HubClient.from_env(max_concurrency=4, timeout=5.0)
    HubClient.from_env(max_concurency=1)  # type: ignore[call-arg]
    HubClient.from_env(max_concurrency="4")  # type: ignore[arg-type]
    HubClient(username="me", secret="dckr_pat_x", max_wait=1.0)
    HubClient(username="me", secret="dckr_pat_x", max_concurency=1)  # type: ignore[call-arg]
