"""tui/plotting.py: smoothing with debias against a hand-computed EMA, x-axis joins, log-y, group bands."""

from __future__ import annotations

import math

import pytest
from tracktui.tui import plotting as S


def test_ema_matches_hand_computed_debiased_values() -> None:
    # w = 0.5: acc 0.5, 1.25, 2.125; debias by 1 - 0.5**n: 0.5, 0.75, 0.875
    assert S.ema([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 1.25 / 0.75, 2.125 / 0.875])
    # w = 0.9 over a constant: debiasing keeps the first value exact (no pull towards 0)
    assert S.ema([4.0] * 5, 0.9) == pytest.approx([4.0] * 5)
    assert S.ema([1.0, 2.0], 0.0) == [1.0, 2.0]


def test_ema_passes_nan_and_inf_through_without_poisoning_the_average() -> None:
    out = S.ema([1.0, math.nan, 3.0, math.inf], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1]) and math.isinf(out[3])
    assert out[2] == pytest.approx((0.5 * 0.5 + 0.5 * 3.0) / 0.75)


def test_join_by_step_exact_interpolated_and_outside() -> None:
    # epoch logged at steps 0, 100, 200 with values 0, 1, 2
    xs = S.join_by_step([0, 50, 100, 200, 250], [0, 100, 200], [0.0, 1.0, 2.0])
    assert xs[:4] == [0.0, 0.5, 1.0, 2.0]
    assert math.isnan(xs[4])  # no basis after step 200: not placed, rather than guessed


def test_transform_x_times() -> None:
    steps, times = [0.0, 10.0, 20.0], [1000.0, 1005.0, 1030.0]
    assert S.transform_x([10, 15, 20], "wall", (steps, times)) == [1005.0, 1017.5, 1030.0]
    assert S.transform_x([0, 20], "relative", (steps, times), t0=990.0) == [10.0, 40.0]
    assert S.transform_x([3, 4], "step", None) == [3.0, 4.0]


def test_x_mode_cycle_and_labels() -> None:
    seen = ["default"]
    for _ in range(4):
        seen.append(S.next_x_mode(seen[-1]))
    assert seen == ["default", "step", "relative", "wall", "default"]
    assert S.next_x_mode("metric:epoch") == "default"
    assert S.x_label("metric:val/acc") == "val/acc"


def test_log_split_keeps_positive_and_reports_non_positive() -> None:
    xs, ys, dropped = S.log_split([0, 1, 2, 3], [0.0, -1.0, 1e-3, 10.0])
    assert (xs, ys, dropped) == ([2, 3], [1e-3, 10.0], [0, 1])


def test_group_band_over_different_x_samples() -> None:
    a = ([0.0, 10.0], [0.0, 10.0])  # y = x, two samples
    b = ([0.0, 5.0, 10.0], [10.0, 10.0, 10.0])  # constant 10, three samples
    c = ([0.0, 5.0], [4.0, 4.0])  # covers only the first half
    gx, mean, lo, hi = S.group_band([a, b, c], points=3)
    assert gx == [0.0, 5.0, 10.0]
    assert mean == pytest.approx([14 / 3, 19 / 3, 10.0])
    assert lo == [0.0, 4.0, 10.0] and hi == [10.0, 10.0, 10.0]
    assert S.group_band([([], [])]) == ([], [], [], [])


def test_value_at_nearest_point() -> None:
    assert S.value_at([0.0, 10.0, 20.0], [1.0, 2.0, 3.0], 14.0) == (10.0, 2.0)
    assert S.value_at([0.0, 10.0, 20.0], [1.0, 2.0, 3.0], 16.0) == (20.0, 3.0)
    assert S.value_at([], [], 1.0) is None
    assert S.fmt_value(math.nan) == "NaN" and S.fmt_value(-math.inf) == "-Inf"


def test_palette_ticks_number_formats_and_smoothing_steps() -> None:
    assert S.color(0) == "cyan" and S.color(len(S.PALETTE)) == "cyan" and S.rich_color("orange") == "dark_orange"
    assert [S.number_label(v) for v in (0, 0.0009999, 123456.0, 3.0, 1234.5, 0.123456)] == [
        "0", "1.00e-03", "1.23e+05", "3", "1,234", "0.1235"]
    assert S.tick_label(3725, "relative") == "1h02" and S.tick_label(65, "relative") == "1m05"
    assert S.tick_label(42, "relative") == "42s"
    ticks, labels = S.ticks(0, 100, 5)
    assert ticks == [0.0, 25.0, 50.0, 75.0, 100.0] and labels == ["0", "25", "50", "75", "100"]
    assert S.ticks(0, 1, 3) == ([0.0, 0.5, 1.0], ["0", "0.5", "1"])
    assert S.ticks(2, 2, 4) == ([2], ["2"])  # one value: one tick
    assert S.next_smoothing(0.0, 1) == 0.3 and S.next_smoothing(0.6, -1) == 0.3
    assert S.next_smoothing(0.0, -1) == 0.0 and S.next_smoothing(0.99, 3) == 0.99
    assert S.next_smoothing(0.55, 1) == 0.8  # from the nearest step
    assert [S.fmt_value(v) for v in (math.nan, math.inf, -math.inf, 0.5)] == ["NaN", "+Inf", "-Inf", "0.5"]


def test_ticks_of_a_narrow_range_never_repeat_a_label():
    # a learning rate decaying from 1e-3 to 0.9998e-3: the short form said "1.00e-03" on every tick
    for lo, hi in [(0.0009998, 0.001), (100.2, 100.4), (1.0, 1.00001), (2.5e6, 2.5001e6)]:
        _, labels = S.ticks(lo, hi, 3)
        assert len(set(labels)) == 3, labels
    assert S.ticks(0.0, 156.0, 3)[1] == ["0", "78", "156"]  # wide ranges keep their short labels
