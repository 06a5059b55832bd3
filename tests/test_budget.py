"""The pure budget core (hubasync._budget): the rules the issue-12 table broke."""

from __future__ import annotations

import pytest

from hubasync import _budget
from hubasync._budget import BudgetUpdate, Grant, Refuse, State, Wait

T0 = 1_000_000.0


def upd(now: float, remaining: int | None, reset: float | None, limit: int = 100) -> BudgetUpdate:
    """What a response at ``now`` says; Hub's clock equals ours (hub_reset == reset_at)."""
    return BudgetUpdate(
        limit=limit, remaining=remaining, reset_at=reset, observed_at=now, hub_reset=reset
    )


def spend(s: State, now: float, n: int) -> int:
    """Take up to ``n``; return how many were granted."""
    granted = 0
    for _ in range(n):
        if isinstance(_budget.take(s, now), Grant):
            granted += 1
    return granted


def settled(remaining: int = 50, reset: float = T0 + 20, window: float = 20.0) -> State:
    """A state that learned a ``window`` s window and holds ``remaining`` until ``reset``."""
    s = State()
    _budget.take(s, T0 - 2 * window)
    _budget.settle(s, upd(T0 - 2 * window, 99, reset - window), T0 - 2 * window)
    _budget.take(s, T0)
    _budget.settle(s, upd(T0, remaining, reset), T0)
    assert _budget.window(s) == window and s.reset_at == reset and s.remaining == remaining
    return s


def test_an_older_window_response_is_charged_not_dropped() -> None:
    s = settled(remaining=50)
    assert spend(s, T0 + 1, 1) == 1
    _budget.settle(s, upd(T0 + 1, 7, T0), T0 + 1)  # names the window that ended at T0
    assert _budget.available(s, T0 + 1) == 49  # charged one request, its count ignored
    assert s.reset_at == T0 + 20


def test_an_earlier_reset_is_believed_only_when_a_second_response_names_it() -> None:
    s = settled(remaining=50)
    assert spend(s, T0 + 1, 2) == 2
    _budget.settle(s, upd(T0 + 1, 40, T0 + 10), T0 + 1)  # Hub's window shrank to 10 s?
    assert s.reset_at == T0 + 20 and s.remaining == 40  # the count at once, not the reset
    _budget.settle(s, upd(T0 + 1, 39, T0 + 10), T0 + 1)  # a second response confirms it
    assert s.reset_at == T0 + 10 and s.remaining == 39 and s.from_hub


def test_a_backwards_reset_on_the_last_request_never_refills_early() -> None:
    s = settled(remaining=1)
    assert spend(s, T0 + 1, 1) == 1
    _budget.settle(s, upd(T0 + 1, 0, T0 + 5), T0 + 1)  # one response says: reset in 4 s
    # nothing may go before the reset Hub named first (no second response can confirm)
    assert spend(s, T0 + 6, 5) == 0
    answer = _budget.take(s, T0 + 6)
    assert answer == Wait(T0 + 20, _budget.RESET)
    assert spend(s, T0 + 20, 5) == 5


def test_a_reset_far_ahead_is_suspect_until_confirmed() -> None:
    s = settled(remaining=50)
    assert spend(s, T0 + 1, 2) == 2
    _budget.settle(s, upd(T0 + 1, 30, T0 + 600), T0 + 1)
    assert s.reset_at == T0 + 20 and s.remaining == 30  # its count, not its reset
    assert s.pend_raw == T0 + 600
    # the real next window replaces it
    _budget.settle(s, upd(T0 + 21, 99, T0 + 40), T0 + 21)
    assert s.reset_at == T0 + 40 and s.remaining == 99
    # Hub really moved to long windows: a second response naming the far reset confirms it
    for _ in range(2):
        _budget.take(s, T0 + 22)
        _budget.settle(s, upd(T0 + 22, 90, T0 + 622), T0 + 22)
    assert s.reset_at == T0 + 622


@pytest.mark.parametrize(("window", "margin"), [(1.0, 0.5), (4.0, 2.0), (20.0, 5.0)])
def test_the_headerless_margin_scales_with_the_window(window: float, margin: float) -> None:
    s = settled(remaining=50, reset=T0 + window, window=window)
    start = T0  # the window [T0, T0 + window)
    s.ghosts = [start - margin - 0.01, start - margin + 0.01]
    assert _budget.available(s, T0) == 49


def test_max_wait_refuses_an_announced_reset_at_once_and_an_estimate_after_waiting() -> None:
    s = settled(remaining=1)
    assert spend(s, T0 + 1, 1) == 1  # in flight: the budget is spent until Hub's reset
    assert _budget.take(s, T0 + 1, max_wait=5) == Refuse(T0 + 20, _budget.RESET)
    s2 = State()
    _budget.take(s2, T0)
    _budget.settle(s2, upd(T0, 0, None), T0)  # a count, no reset: the reset is estimated
    assert _budget.take(s2, T0 + 1, max_wait=5) == Wait(T0 + 60, _budget.ESTIMATED)
    assert _budget.take(s2, T0 + 6, max_wait=5, waited=5) == Refuse(T0 + 60, _budget.ESTIMATED)


def test_pacing_is_never_refused_and_a_pause_restarts_the_bucket_with_one_token() -> None:
    s = State(rate=1.0, burst=3)
    assert spend(s, T0, 5) == 3
    assert _budget.take(s, T0, max_wait=0) == Wait(T0 + 1, _budget.PACING)
    _budget.pause(s, T0 + 10, T0)
    assert _budget.take(s, T0 + 5, max_wait=100) == Wait(T0 + 10, _budget.PAUSE)
    assert spend(s, T0 + 10, 3) == 1


def shared(reset: float = T0 + 10, window: float = 20.0) -> State:
    """A third of a 90-per-window budget, taken over at ``T0`` (the window ends at ``reset``)."""
    s = State(share=1 / 3)
    _budget.take_over(s, 90, window, reset, T0)
    return s


def test_a_share_taking_over_mid_window_grants_nothing_before_that_windows_reset() -> None:
    s = shared()
    assert _budget.take(s, T0 + 1) == Wait(T0 + 10, _budget.ESTIMATED)  # others spent it
    s = State(share=1 / 3)
    _budget.take_over(s, 90, 20.0, None, T0)  # no reset known: a whole window
    assert _budget.take(s, T0 + 1) == Wait(T0 + 20, _budget.ESTIMATED)
    s = State(share=1 / 3)
    _budget.take_over(s, 90, 20.0, T0 - 35, T0)  # a reset long past: the window it is in
    assert _budget.take(s, T0 + 1) == Wait(T0 + 5, _budget.ESTIMATED)
    s = State()  # the whole budget: no quota, but the same hold (the first token at the reset)
    _budget.take_over(s, 90, 20.0, T0 + 10, T0)
    assert _budget.take(s, T0 + 1) == Wait(T0 + 10 + 20 / 90, _budget.PACING)


def test_a_share_grants_its_quota_per_hub_window_and_hubs_count_only_lowers_it() -> None:
    s = shared()
    assert spend(s, T0 + 11, 1) == 1  # the start-up bucket, from no token at the reset
    _budget.settle(s, upd(T0 + 11, 80, T0 + 30, limit=90), T0 + 11)  # Hub: 80 left
    assert spend(s, T0 + 11, 80) == 29  # its quota, 90 / 3, not 80
    assert _budget.take(s, T0 + 12) == Wait(T0 + 30, _budget.RESET)
    for _ in range(25):
        _budget.settle(s, upd(T0 + 12, 60, T0 + 30, limit=90), T0 + 12)
    assert spend(s, T0 + 30, 80) == 26  # the next window: the quota less the 4 in flight
    for _ in range(30):
        _budget.settle(s, upd(T0 + 31, 50, T0 + 50, limit=90), T0 + 31)
    assert spend(s, T0 + 50, 1) == 1
    _budget.settle(s, upd(T0 + 50, 3, T0 + 70, limit=90), T0 + 50)  # others spent the rest
    assert spend(s, T0 + 50, 10) == 3  # Hub's count lowers the quota


def test_a_share_restarts_its_count_where_hub_names_a_later_window() -> None:
    s = shared()
    assert spend(s, T0 + 11, 1) == 1
    _budget.settle(s, upd(T0 + 11, 80, T0 + 30, limit=90), T0 + 11)
    assert spend(s, T0 + 29, 30) == 29
    # Hub's window ended before ours: a response names the next one (its request landed
    # there, and so may the 28 still in flight)
    _budget.settle(s, upd(T0 + 29.5, 89, T0 + 50, limit=90), T0 + 29.5)
    assert s.quota_reset == T0 + 50 and s.quota_used == 28 + 1
    assert spend(s, T0 + 29.5, 30) == 1  # 30 - 29
    # and a reset named well before the counted one (Hub's windows shrank): spent until it
    s = shared(reset=T0 + 10)
    assert spend(s, T0 + 11, 1) == 1
    _budget.settle(s, upd(T0 + 11, 80, T0 + 18, limit=90), T0 + 11)
    assert s.quota_reset == T0 + 18
    assert _budget.take(s, T0 + 12) == Wait(T0 + 18, _budget.RESET)


def test_reseed_starts_from_no_token_after_the_known_reset_at_the_known_rate() -> None:
    s = State(burst=10)
    _budget.reseed(s, 120, 20.0, T0 + 5, T0)
    assert _budget.take(s, T0) == Wait(T0 + 5 + 20 / 120, _budget.PACING)
    assert spend(s, T0 + 5 + 20 / 120, 10) == 1
    s = State(burst=10)
    _budget.reseed(s, 120, 20.0, T0 - 100, T0)  # a reset long past: from now
    assert _budget.take(s, T0) == Wait(T0 + 20 / 120, _budget.PACING)
