"""Bootstrap intervals of per-question means and the paired bootstrap test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from speechbert.errors import ConfigError
from speechbert.metrics.bootstrap import bootstrap_means, mean_intervals, paired_bootstrap, percentile_interval


def test_constant_scores_have_a_zero_width_interval() -> None:
    (iv,) = mean_intervals([70.0] * 50 + [None] * 3, samples=500, seed=3)
    assert (iv.mean, iv.low, iv.high, iv.half_width) == (70.0, 70.0, 70.0, 0.0)
    ff1, em = mean_intervals([[100.0, None], [100.0, None]], samples=200)
    assert ff1.half_width == 0.0 and em is None  # a metric nobody is scored on has no interval


def test_interval_of_a_coin_matches_the_normal_approximation() -> None:
    # 2000 questions, half right: the 95 % half-width of the mean (in points) is about
    # 1.96 · sqrt(0.25 / 2000) · 100 = 2.19.
    values = np.array([100.0, 0.0] * 1000)
    (iv,) = mean_intervals(values, samples=1000, seed=7)
    assert iv.mean == 50.0
    assert iv.half_width == pytest.approx(1.96 * math.sqrt(0.25 / 2000) * 100, abs=0.25)
    assert iv.low < 50.0 < iv.high
    assert (50.0 - iv.low) == pytest.approx(iv.high - 50.0, abs=0.4)  # nearly symmetric here


def test_same_seed_same_interval_and_the_seed_matters() -> None:
    rng = np.random.default_rng(0)
    values = rng.random((300, 2)) * 100
    a = mean_intervals(values, samples=400, seed=11)
    b = mean_intervals(values, samples=400, seed=11)
    c = mean_intervals(values, samples=400, seed=12)
    assert a == b
    assert a != c
    assert a[0].low == pytest.approx(c[0].low, abs=1.0)  # different draws, same answer roughly


def test_resampled_means_skip_unscored_questions() -> None:
    # Column 1 scores only the first two questions, both 100: a resample's mean of column 1 only
    # averages the drawn scored questions, so it is 100 whenever it is defined (counting the
    # unscored ones as 0 would pull it down).
    values = np.array([[100.0, 100.0], [0.0, 100.0], [100.0, np.nan], [0.0, np.nan]])
    boot = bootstrap_means(values, samples=2000, seed=1)
    assert boot.shape == (2000, 2)
    assert np.nanmean(boot[:, 0]) == pytest.approx(50.0, abs=1.5)
    col = boot[:, 1][~np.isnan(boot[:, 1])]
    assert 1800 < col.size < 2000  # (1/2)^4 = 6 % of the resamples draw neither scored question
    assert np.all(col == 100.0)
    low, high = percentile_interval(boot)
    assert (low[1], high[1]) == (100.0, 100.0)
    assert low[0] == 0.0 and high[0] == 100.0  # 4 questions: the extremes are within the 95 %


def test_paired_test_one_system_always_better() -> None:
    rng = np.random.default_rng(5)
    b = rng.random(500) * 90
    t = paired_bootstrap(b + 3.0, b, samples=1000, seed=2)
    assert t.diff == pytest.approx(3.0) and t.low == pytest.approx(3.0) and t.high == pytest.approx(3.0)
    assert t.p < 0.01 and t.p == pytest.approx(2 / 1001)
    worse = paired_bootstrap(b, b + 3.0, samples=1000, seed=2)
    assert worse.diff == pytest.approx(-3.0) and worse.p < 0.01


def test_paired_test_identical_systems() -> None:
    a = [10.0, 50.0, None, 90.0, 0.0]
    t = paired_bootstrap(a, list(a), samples=1000, seed=2)
    assert (t.diff, t.low, t.high, t.p) == (0.0, 0.0, 0.0, 1.0)
    assert t.questions == 4  # the unscored question is dropped


def test_paired_test_p_value_of_a_rare_difference() -> None:
    # A beats B on 5 of 200 questions: a resample misses all 5 with probability
    # (1 - 5/200)^200 = 0.0063, so p is about 2 · 0.0063; a sign-free symmetric difference has p near 1.
    a = np.zeros(200)
    a[:5] = 100.0
    t = paired_bootstrap(a, np.zeros(200), samples=4000, seed=9)
    assert t.diff == pytest.approx(2.5)
    assert 0.004 < t.p < 0.03
    assert t.low > 0.0
    mixed = np.zeros(200)
    mixed[:50], mixed[50:100] = 1.0, -1.0
    m = paired_bootstrap(mixed, np.zeros(200), samples=1000, seed=9)
    assert m.diff == 0.0 and m.p > 0.8 and m.low < 0.0 < m.high


def test_paired_test_errors_and_empty() -> None:
    with pytest.raises(ConfigError, match="same questions"):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError, match="at least 1"):
        bootstrap_means([1.0], samples=0)
    assert paired_bootstrap([None, 1.0], [1.0, None]) is None
