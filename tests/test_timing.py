"""RFC timer formulas against every worked number in PROTOCOL.md §9.4 and the measured takeovers."""

from __future__ import annotations

import pytest

from vrrpscope.timing import master_down_interval, skew_time, takeover_allowance

# PROTOCOL.md §9.4, interval 1 s: priority -> (Skew_Time, Master_Down_Interval), 5 significant digits.
WORKED_1S = [
    (1, 0.99609, 3.99609),
    (50, 0.80469, 3.80469),
    (100, 0.609375, 3.609375),
    (150, 0.41406, 3.41406),
    (200, 0.21875, 3.21875),
    (254, 0.00781, 3.00781),
    (255, 0.00391, 3.00391),
]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize(("priority", "skew", "mdi"), WORKED_1S)
def test_worked_numbers_interval_1s(version: int, priority: int, skew: float, mdi: float) -> None:
    # With a 1 s interval v2 and v3 agree.
    assert skew_time(version, priority, 1.0) == pytest.approx(skew, abs=5e-6)
    assert master_down_interval(version, priority, 1.0) == pytest.approx(mdi, abs=5e-6)


def test_priority_100_exact() -> None:
    assert skew_time(2, 100, 1.0) == 0.609375
    assert master_down_interval(2, 100, 1.0) == 3.609375


def test_v2_and_v3_diverge_at_5s() -> None:
    # interval 5 s, priority 100: v2 MDI 15.609 s (skew independent of interval), v3 18.047 s.
    assert master_down_interval(2, 100, 5.0) == pytest.approx(15.609, abs=5e-4)
    assert master_down_interval(3, 100, 5.0) == pytest.approx(18.047, abs=5e-4)
    assert skew_time(2, 100, 5.0) == pytest.approx(0.609375)
    assert skew_time(3, 100, 5.0) == pytest.approx(3.046875)


def test_v3_subsecond_and_long_intervals() -> None:
    # v3 10 cs -> skew 0.0609 s, MDI 0.3609 s; 300 cs -> 1.828 / 10.828 s.
    assert skew_time(3, 100, 0.10) == pytest.approx(0.0609, abs=5e-5)
    assert master_down_interval(3, 100, 0.10) == pytest.approx(0.3609, abs=5e-5)
    assert skew_time(3, 100, 3.0) == pytest.approx(1.828, abs=5e-4)
    assert master_down_interval(3, 100, 3.0) == pytest.approx(10.828, abs=5e-4)


def test_observed_keepalived_takeovers_match_formula() -> None:
    # PROTOCOL.md "observed" 5: 3.6882 s vs 3.6875 (v2, prio 80); 1.8053 vs 1.8047 (v3, 0.5 s, prio 100);
    # 3.5319 vs 3.5312 (IPv6 v3, prio 120).
    assert master_down_interval(2, 80, 1.0) == pytest.approx(3.6875)
    assert master_down_interval(3, 100, 0.5) == pytest.approx(1.8047, abs=5e-5)
    assert master_down_interval(3, 120, 1.0) == pytest.approx(3.53125)


def test_down_timer_adverts_knob() -> None:
    # keepalived's down_timer_adverts replaces the RFC's 3.
    assert master_down_interval(2, 100, 1.0, down_timer_adverts=1) == pytest.approx(1.609375)
    with pytest.raises(ValueError):
        master_down_interval(2, 100, 1.0, down_timer_adverts=0)


def test_takeover_allowance_by_cause() -> None:
    assert takeover_allowance("resign", 2, 100, 1.0) == pytest.approx(0.609375)
    assert takeover_allowance("timeout", 3, 100, 0.5) == pytest.approx(1.8046875)
    assert takeover_allowance("preempt", 2, 200, 3.0) == 3.0
    with pytest.raises(ValueError):
        takeover_allowance("magic", 2, 100, 1.0)


@pytest.mark.parametrize(("version", "priority", "interval"), [(4, 100, 1.0), (2, 256, 1.0), (3, 100, -1.0)])
def test_bad_arguments(version: int, priority: int, interval: float) -> None:
    with pytest.raises(ValueError):
        skew_time(version, priority, interval)
