"""FakeHub's rate-limit test features: rate-header faults (``Fault.no_rate_headers``,
``Fault.shift_reset``) and a window changed mid-run with ``keep_counts``. The headers lie,
FakeHub's own count (``over_limit``) does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from hubasync.testing import FakeHub, Fault, FaultPlan, ManualClock

NOW = 1_700_000_000.0  # a multiple of 20 and 10: windows start here
PATH = "/v2/namespaces/acme/repositories"
RATE = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW + 1)


@pytest.fixture
async def server(clock: ManualClock) -> AsyncIterator[FakeHub]:
    async with FakeHub(clock=clock, rate_limit=3, window_s=20) as hub:
        hub.add_namespace("acme")
        yield hub


@pytest.fixture
async def http(server: FakeHub) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


async def get(http: aiohttp.ClientSession) -> tuple[int, dict[str, str]]:
    async with http.get(PATH) as resp:
        await resp.read()
        return resp.status, {k: resp.headers[k] for k in RATE if k in resp.headers}


async def test_shift_reset_moves_the_header_not_the_window(
    server: FakeHub, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.shift_reset(600, times=1))
    assert (await get(http))[1]["X-RateLimit-Reset"] == str(int(NOW) + 20 + 600)
    assert (await get(http))[1]["X-RateLimit-Reset"] == str(int(NOW) + 20)  # fired once
    await get(http)
    assert (await get(http))[0] == 429 and server.over_limit == 1  # Hub's real window
    assert [r.fault for r in server.requests] == ["shift_reset", None, None, None]


async def test_shift_reset_on_last_fires_only_on_the_windows_last_request(
    server: FakeHub, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    server.inject(Fault.shift_reset(-12, on_last=True))
    seen = [(await get(http))[1]["X-RateLimit-Reset"] for _ in range(4)]
    real = str(int(NOW) + 20)
    assert seen == [real, real, str(int(NOW) + 8), real]  # the third spent it; a 429 is not
    clock.advance(20)
    assert (await get(http))[1]["X-RateLimit-Reset"] == str(int(NOW) + 40)


async def test_no_rate_headers_drops_them_at_the_plans_seeded_rate() -> None:
    def run(seed: int) -> Any:
        return FakeHub(rate_limit=1000, window_s=60, faults=FaultPlan(
            Fault.no_rate_headers(probability=0.3), seed=seed))  # fmt: skip

    seen = []
    for seed in (7, 7, 8):
        async with run(seed) as server, aiohttp.ClientSession(base_url=server.url) as http:
            server.add_namespace("acme")
            seen.append([len((await get(http))[1]) for _ in range(40)])
    assert set(seen[0]) == {0, 3} and 4 <= seen[0].count(0) <= 20
    assert seen[0] == seen[1] != seen[2]  # reproducible from the seed


async def test_keep_counts_carries_the_running_windows_count_into_the_new_window(
    server: FakeHub, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await get(http)
    await get(http)  # 2 of 3 spent in [NOW, NOW + 20)
    server.configure_rate_limit(3, window_s=10, keep_counts=True)
    status, headers = await get(http)
    assert (status, headers["X-RateLimit-Remaining"]) == (200, "0")
    assert headers["X-RateLimit-Reset"] == str(int(NOW) + 10)  # earlier than it was
    assert (await get(http))[0] == 429 and server.over_limit == 1
    clock.advance(10)
    assert (await get(http))[1]["X-RateLimit-Remaining"] == "2"  # the next window is fresh
    server.configure_rate_limit(3, window_s=10)  # without keep_counts: a full budget
    assert (await get(http))[1]["X-RateLimit-Remaining"] == "2"


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Fault.shift_reset(0), "non-zero shift_s"),
        (lambda: Fault.shift_reset(float("inf")), "non-zero shift_s"),
        (lambda: Fault("latency", on_last=True), "belong to shift_reset"),
        (lambda: Fault("error", shift_s=5), "belong to shift_reset"),
        (lambda: Fault.no_rate_headers(probability=2), "probability"),
    ],
)
def test_bad_rate_header_faults_are_refused(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


async def test_keep_counts_needs_rate_limiting_on(server: FakeHub) -> None:
    with pytest.raises(ValueError, match="keep_counts"):
        server.configure_rate_limit(None, keep_counts=True)
    server.configure_rate_limit(None)
    with pytest.raises(ValueError, match="keep_counts"):
        server.configure_rate_limit(3, keep_counts=True)
