"""Retry decisions (pure) and the rate-limit deadline table."""

from __future__ import annotations

import pytest

from hubasync._retry import (
    MAX_CONSECUTIVE_429,
    FailureKind,
    RetryState,
    backoff_delay,
    decide,
    rate_limit_deadline,
)


@pytest.mark.parametrize(
    ("fault", "idempotent", "expected"),
    [
        (FailureKind.SERVER, True, True),
        (FailureKind.SERVER, False, False),  # a creating POST may have been processed
        (FailureKind.TRANSPORT, True, True),
        (FailureKind.TRANSPORT, False, False),
        (FailureKind.CONNECT, False, True),  # never reached Hub: safe even for a POST
        (FailureKind.CONNECT, True, True),
        (FailureKind.RATE_LIMITED, False, True),  # Hub did not process a 429
        (FailureKind.FINAL, True, False),
    ],
)
def test_decide_per_fault_and_idempotency(
    fault: FailureKind, idempotent: bool, expected: bool
) -> None:
    state = RetryState()
    assert decide(fault, state, idempotent=idempotent, can_refresh=False, max_retries=3) is expected


def test_max_retries_bounds_server_faults_but_not_429s() -> None:
    state = RetryState()
    results = [
        decide(FailureKind.SERVER, state, idempotent=True, can_refresh=False, max_retries=2)
        for _ in range(4)
    ]
    assert results == [True, True, False, False]
    # 429s do not use up max_retries...
    assert decide(
        FailureKind.RATE_LIMITED, state, idempotent=True, can_refresh=False, max_retries=2
    )
    assert state.retries == 2


def test_consecutive_429s_end_after_twenty() -> None:
    state = RetryState()
    answers = [
        decide(FailureKind.RATE_LIMITED, state, idempotent=True, can_refresh=False, max_retries=0)
        for _ in range(MAX_CONSECUTIVE_429)
    ]
    assert answers.count(True) == MAX_CONSECUTIVE_429 - 1
    assert answers[-1] is False


def test_a_non_429_fault_resets_the_429_streak() -> None:
    state = RetryState()
    for _ in range(5):
        decide(FailureKind.RATE_LIMITED, state, idempotent=True, can_refresh=False, max_retries=9)
    decide(FailureKind.SERVER, state, idempotent=True, can_refresh=False, max_retries=9)
    assert state.consecutive_429 == 0


def test_401_refreshes_once_and_only_with_credentials() -> None:
    state = RetryState()
    kw = {"idempotent": True, "max_retries": 5}
    assert decide(FailureKind.UNAUTHORIZED, state, can_refresh=True, **kw) is True
    assert decide(FailureKind.UNAUTHORIZED, state, can_refresh=True, **kw) is False
    assert decide(FailureKind.UNAUTHORIZED, RetryState(), can_refresh=False, **kw) is False


def test_backoff_is_full_jitter_and_capped() -> None:
    from hubasync import _retry

    scale = _retry.backoff_scale()
    _retry.set_backoff_scale(1.0)
    try:
        assert backoff_delay(1, rng=lambda: 1.0) == 0.5
        assert backoff_delay(3, rng=lambda: 1.0) == 2.0
        assert backoff_delay(50, rng=lambda: 1.0) == 30.0
        assert backoff_delay(10**6, rng=lambda: 1.0) == 30.0  # no overflow far out
        assert backoff_delay(3, base=1.0, cap=3.0, rng=lambda: 1.0) == 3.0
        assert backoff_delay(4, rng=lambda: 0.0) == 0.0
        assert backoff_delay(0) == 0.0
    finally:
        _retry.set_backoff_scale(scale)


def test_backoff_scale_rejects_negative() -> None:
    from hubasync import _retry

    with pytest.raises(ValueError, match="backoff scale"):
        _retry.set_backoff_scale(-1)


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # the 429's own instant hint wins over everything
        ({"hinted_at": NOW + 7, "hinted_after": 3.0, "reset_at": NOW + 30}, NOW + 7),
        # delta seconds count from receipt
        ({"hinted_after": 3.0, "reset_at": NOW + 30}, NOW - 1 + 3.0),
        # then the same response's reset
        ({"reset_at": NOW + 30, "last_reset_at": NOW + 50}, NOW + 30),
        # then the last known reset
        ({"reset_at": NOW - 5, "last_reset_at": NOW + 50}, NOW + 50),
        # a hint in the past still waits a moment
        ({"hinted_at": NOW - 100}, NOW + 0.05),
    ],
)
def test_rate_limit_deadline_hint_precedence(kwargs: dict[str, float], expected: float) -> None:
    args: dict[str, float | None] = {
        "hinted_at": None,
        "hinted_after": None,
        "reset_at": None,
        "last_reset_at": None,
    }
    args.update(kwargs)
    got = rate_limit_deadline(
        now=NOW, received_at=NOW - 1, consecutive_429=0, rng=lambda: 0.5, **args
    )
    assert got == pytest.approx(expected)


def test_rate_limit_deadline_without_any_hint_backs_off_exponentially() -> None:
    waits = [
        rate_limit_deadline(
            now=NOW,
            hinted_at=None,
            hinted_after=None,
            received_at=NOW,
            reset_at=None,
            last_reset_at=None,
            consecutive_429=n,
            rng=lambda: 1.0,
        )
        - NOW
        for n in range(8)
    ]
    assert waits == sorted(waits)
    assert waits[0] >= 0.5
    assert max(waits) <= 60.0


def test_disable_backoff_switch_restores_the_scale() -> None:
    from hubasync import _retry
    from hubasync.testing import disable_backoff

    _retry.set_backoff_scale(1.0)
    try:
        with disable_backoff():
            assert backoff_delay(5, rng=lambda: 1.0) == 0.0
        assert backoff_delay(5, rng=lambda: 1.0) == 8.0
    finally:
        _retry.set_backoff_scale(0.0)
