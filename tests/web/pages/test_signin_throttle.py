"""The sign-in throttle's counting, on a clock the test moves."""

from __future__ import annotations

from calsync.web.pages.signin_throttle import SignInThrottle


def _throttle() -> tuple[SignInThrottle, list[float]]:
    now = [0.0]
    return SignInThrottle(clock=lambda: now[0]), now


def test_one_account_is_held_back_after_five_failures_and_released_as_they_age() -> None:
    throttle, now = _throttle()
    for second in range(5):
        now[0] = float(second * 60)
        assert throttle.retry_after("ana@firm.example", "10.0.0.1") is None
        throttle.record_failure("ana@firm.example", "10.0.0.1")
    assert throttle.retry_after("ANA@firm.example ", "10.0.0.1") == 15 * 60 - 4 * 60
    now[0] = 15 * 60.0  # the first failure has left the window
    assert throttle.retry_after("ana@firm.example", "10.0.0.1") is None


def test_guessing_from_elsewhere_does_not_lock_the_owner_out() -> None:
    throttle, _ = _throttle()
    for _ in range(5):
        throttle.record_failure("ana@firm.example", "203.0.113.9")
    assert throttle.retry_after("ana@firm.example", "203.0.113.9") is not None
    assert throttle.retry_after("ana@firm.example", "10.0.0.1") is None


def test_one_address_trying_many_accounts_is_held_back_too() -> None:
    throttle, _ = _throttle()
    for number in range(30):
        throttle.record_failure(f"user{number}@firm.example", "203.0.113.9")
    assert throttle.retry_after("someone.new@firm.example", "203.0.113.9") is not None
