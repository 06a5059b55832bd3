"""The audit's live display: two lines that fit 80 columns, the limiter's live state
("waiting for Hub's rate limit until 12:03:15") and wall time spent waiting (not a sum over
requests)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from hubasync import HubClient
from hubasync.cli._progress import LiveProgress, WaitClock, WaitState, status_text, wait_state
from hubasync.testing import FakeHub

NOON = datetime(2026, 12, 5, 12, 3, 15, tzinfo=UTC).timestamp()
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_ten_requests_waiting_together_for_ten_seconds_count_ten_seconds() -> None:
    clock = WaitClock()
    clock.observe(100.0, True)  # ten requests start waiting
    for step in range(1, 41):
        clock.observe(100.0 + step * 0.25, step < 40)  # they are let through at 110
    assert clock.total_s == pytest.approx(10.0)
    clock.observe(120.0, False)  # idle time does not count
    assert clock.total_s == pytest.approx(10.0)


def test_the_status_says_what_the_limiter_waits_for_and_until_when() -> None:
    line = status_text(
        state=WaitState(waiting=12, until=NOON, reason="reset"),
        requests=412,
        rate_limited=0,
        remaining=0,
        limit=180,
        waited_s=75.0,
        tz=UTC,
    )
    assert line == ("waiting for Hub's rate limit until 12:03:15 (budget spent) · waited 1m15s")
    assert len(line) <= 79
    paused = status_text(
        state=WaitState(waiting=3, until=NOON, reason="pause"),
        requests=9,
        rate_limited=2,
        remaining=None,
        limit=None,
        waited_s=4.2,
        tz=UTC,
    )
    assert "until 12:03:15 (a 429 pause)" in paused and "2 429s" in paused
    idle = status_text(
        state=WaitState(), requests=40, rate_limited=0, remaining=38, limit=180, waited_s=0.0
    )
    assert idle == "40 requests · budget 38/180 · waited 0s"


def test_a_long_status_is_cut_to_the_width() -> None:
    line = status_text(
        state=WaitState(waiting=1, until=NOON, reason="estimated"),
        requests=10**9,
        rate_limited=10**6,
        remaining=None,
        limit=None,
        waited_s=10**6,
        tz=UTC,
    )
    assert len(line) == 79 and line.endswith("…")


def test_wait_state_reads_what_a_limiter_exposes() -> None:
    class Bucket:
        waiting = 4
        waiting_until = NOON
        wait_reason = "pause"

    assert wait_state(Bucket()) == WaitState(waiting=4, until=NOON, reason="pause")
    assert wait_state(object()) == WaitState()  # a RateLimiter of your own: counts only


async def test_the_display_fits_80_columns_and_shows_the_wait_live() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    async with FakeHub(rate_limit=3, window_s=1.5) as server:
        server.add_user("alice", "alice-password")
        server.add_repository("alice", "app")
        async with HubClient(username="alice", secret="alice-password", base_url=server.url) as hub:
            with LiveProgress(console, hub, label="auditing") as progress:
                progress.set_total(8)
                for _ in range(8):
                    await hub.repositories.get("alice", "app")
                    progress.advance()
            waited = progress.waited_s
            summed = hub.stats.waited_s
    text = ANSI.sub("", out.getvalue()).replace("\r", "\n")
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines and max(len(line) for line in lines) <= 80
    assert "8/8" in text
    assert "waiting for Hub's rate limit until" in text
    assert 0 < waited <= summed + 0.5  # wall time, sampled
