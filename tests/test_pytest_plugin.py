"""The pytest plugin as a user meets it: ``fake_hub`` fast by default (a generous limit with
headers, so the client never paces itself), ``hub_client`` ready to use, and both fixtures
working under pytest-asyncio's strict mode as well as auto mode."""

from __future__ import annotations

import pytest

from hubasync import HubClient
from hubasync.testing import FakeHub
from hubasync.testing.pytest_plugin import DEFAULT_RATE_LIMIT, HUB_CLIENT_USERNAME

pytest_plugins = ["pytester"]

# A user's test module: only the two fixtures, 200 calls, and what pacing would have cost.
USER_MODULE = """
import pytest

@pytest.mark.asyncio
async def test_two_hundred_calls(fake_hub, hub_client):
    fake_hub.add_repository("tester", "app")
    for _ in range(200):
        assert (await hub_client.repositories.get("tester", "app")).name == "app"
    assert hub_client.stats.requests >= 200
    assert hub_client.stats.waited_s == 0.0, hub_client.stats
    assert hub_client.rate_limit is not None and hub_client.rate_limit.limit > 10_000

@pytest.mark.asyncio
@pytest.mark.fake_hub(rate_limit=3, window_s=1)
async def test_pacing_is_opt_in(fake_hub, hub_client):
    fake_hub.add_repository("tester", "app")
    # 7 calls at 3 a window: only calls spread over three windows (over a second) dodge a wait;
    # 5 calls at 0.5 s windows could straddle one boundary on a loaded machine and never wait.
    for _ in range(7):
        await hub_client.repositories.get("tester", "app")
    assert hub_client.stats.waited_s > 0
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_users_module_runs_fast_in_strict_and_auto_mode(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_user=USER_MODULE)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", f"asyncio_mode={mode}",
        "-o", "asyncio_default_fixture_loop_scope=function",
    )  # fmt: skip
    result.assert_outcomes(passed=2)


async def test_fake_hub_sends_a_generous_limit_with_headers(fake_hub: FakeHub) -> None:
    assert fake_hub.rate_limit == DEFAULT_RATE_LIMIT


@pytest.mark.fake_hub(rate_limit=None)
async def test_the_marker_turns_the_limit_and_its_headers_off(fake_hub: FakeHub) -> None:
    assert fake_hub.rate_limit is None


@pytest.mark.hub_client(max_retries=0)
async def test_hub_client_is_logged_in_as_the_fixture_user(
    fake_hub: FakeHub, hub_client: HubClient
) -> None:
    fake_hub.add_repository(HUB_CLIENT_USERNAME, "private", is_private=True)
    repo = await hub_client.repositories.get(HUB_CLIENT_USERNAME, "private")
    assert repo.is_private and hub_client.stats.logins == 1
    assert hub_client.base_url == fake_hub.url
