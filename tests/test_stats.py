"""instructor_lib.stats against hand computations: t-intervals, pairing, bootstrap, noise floor."""
import math
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats

from instructor_lib.claims import verdict
from instructor_lib.stats import (Interval, bootstrap_interval, paired_bootstrap_interval, paired_difference,
                                  paired_noise_floor_gap, paired_replicate_sd, replicate_sd, seeds_for_half_width,
                                  t_interval)

# Student t quantile 0.975 with 2 degrees of freedom. Two degrees of freedom have a closed form,
# t_p = (2p - 1) / sqrt(2p(1 - p)) = 0.95 / sqrt(0.04875) = 4.30265272974946 (tables print 4.303).
T_975_2 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
T_975_1 = 12.706204736174707  # Student t quantile 0.975 with 1 degree of freedom (tables; scipy.stats.t.ppf)
D2_FIVE = 2.326  # expected range of 5 independent standard normals (control-chart constant d2, n=5)
D3_FIVE = 0.864  # standard deviation of that range (control-chart constant d3, n=5)


def test_t_interval_of_three_values_by_hand():
    # values 1, 2, 4: mean 7/3; deviations -4/3, -1/3, 5/3; squares sum 16/9 + 1/9 + 25/9 = 42/9;
    # sample variance 42/9 / 2 = 7/3; standard error sqrt(7/3) / sqrt(3) = sqrt(7) / 3.
    half = T_975_2 * math.sqrt(7) / 3
    assert T_975_2 == pytest.approx(4.303, abs=5e-4)
    interval = t_interval([1.0, 2.0, 4.0])
    assert interval.n == 3
    assert interval.mean == pytest.approx(7 / 3, abs=1e-12)
    assert interval.low == pytest.approx(7 / 3 - half, abs=1e-12)
    assert interval.high == pytest.approx(7 / 3 + half, abs=1e-12)
    assert interval.half_width == pytest.approx(half, abs=1e-12)


def test_t_interval_of_one_seed_is_undefined_not_zero_width():
    interval = t_interval([0.7])
    assert interval.mean == 0.7 and interval.n == 1
    assert math.isnan(interval.low) and math.isnan(interval.high) and not interval.defined
    assert verdict(interval, +1) == "inconclusive"


@pytest.mark.parametrize("values, message", [([], "non-empty"), ([1.0, float("nan")], "position 1"),
                                             ([[1.0, 2.0]], "non-empty")])
def test_t_interval_rejects_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        t_interval(values)


def test_paired_difference_is_the_t_interval_of_differences_and_narrower_on_correlated_data():
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 1.0, size=5)  # shared by both models trained with the same seed
    a = 70 + seed_effect + rng.normal(0, 0.05, size=5) + 0.4
    b = 70 + seed_effect + rng.normal(0, 0.05, size=5)
    paired = paired_difference(a, b)
    by_hand = t_interval(a - b)
    assert (paired.mean, paired.low, paired.high, paired.n) == pytest.approx((by_hand.mean, by_hand.low, by_hand.high, 5))
    # Unpaired: two independent samples, pooled variance, 2n - 2 degrees of freedom.
    pooled_se = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 5)
    unpaired_half = scipy_stats.t.ppf(0.975, 8) * pooled_se
    assert paired.half_width < unpaired_half / 5
    assert verdict(paired, +1) == "reproduced"


def test_paired_difference_names_both_lengths():
    with pytest.raises(ValueError, match="a has 3 values, b has 2"):
        paired_difference([1, 2, 3], [1, 2])


def test_an_interval_as_a_metrics_entry():
    assert t_interval([1.0, 3.0]).as_dict() == pytest.approx({"mean": 2.0, "low": 2.0 - T_975_1, "high": 2.0 + T_975_1, "n": 2})
    assert math.isnan(t_interval([1.0]).as_dict()["low"])  # undefined bounds stay nan


def test_seeds_for_half_width_solve_the_t_interval_for_n():
    # values 1 and 3: sd sqrt 2; 0.3 points needs t(0.975, n-1) sqrt(2 / n) <= 0.3: n = 88 (t = 1.988, 0.2997)
    plan = seeds_for_half_width([1.0, 3.0], 0.3)
    assert plan["sd"] == pytest.approx(math.sqrt(2)) and plan["half_width"] == pytest.approx(T_975_1)
    assert plan["seeds"] == 88 and plan["target"] == 0.3
    assert seeds_for_half_width([2.0, 2.0, 2.0], 0.3)["seeds"] == 2  # no spread: any n >= 2
    assert seeds_for_half_width([5.0], 0.3) == {"target": 0.3, "sd": None, "half_width": None, "seeds": None}


def test_replicate_sds_average_over_seeds_and_pair_the_replicates():
    # seed 1: replicates 1, 2, 3 (sd 1); seed 2: 2, 4, 6 (sd 2): mean 1.5
    assert replicate_sd([[1.0, 2.0, 3.0], np.array([2.0, 4.0, 6.0])]) == pytest.approx(1.5)
    # a - b per seed: (0, 0, 0) sd 0 and (1, 0, -1) sd 1: mean 0.5; unpaired, b's own spread would count too
    a, b = [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]
    assert paired_replicate_sd(a, b) == pytest.approx(0.5)


def test_bootstrap_is_deterministic_per_seed():
    scores = np.random.default_rng(0).random(200)
    first, again = bootstrap_interval(scores, seed=7), bootstrap_interval(scores, seed=7)
    assert first == again
    other = bootstrap_interval(scores, seed=8)
    assert (other.low, other.high) != (first.low, first.high)
    assert first.mean == other.mean == pytest.approx(scores.mean())
    assert first.low < first.mean < first.high and first.n == 200


def test_bootstrap_interval_of_the_mean_approaches_the_normal_interval():
    n, resamples = 10_000, 2_000
    sample = np.random.default_rng(1).normal(5.0, 2.0, size=n)
    interval = bootstrap_interval(sample, n_resamples=resamples, seed=0)
    se = sample.std() / math.sqrt(n)  # the bootstrap resamples the sample itself, so its own (ddof=0) spread
    # A quantile estimated from R draws has standard error sqrt(p(1-p)/R) / density at the quantile; the
    # resampled means are normal with sd `se`, so at p = 0.025 the density is pdf(1.96) / se. Four such errors.
    tolerance = 4 * math.sqrt(0.025 * 0.975 / resamples) / scipy_stats.norm.pdf(1.96) * se
    assert interval.low == pytest.approx(sample.mean() - 1.96 * se, abs=tolerance)
    assert interval.high == pytest.approx(sample.mean() + 1.96 * se, abs=tolerance)


def test_bootstrap_keeps_the_rows_of_a_two_column_statistic_together():
    x = np.random.default_rng(2).random(50)
    spearman = lambda pairs: scipy_stats.spearmanr(pairs[:, 0], pairs[:, 1]).statistic  # noqa: E731
    # y = x: every resample of whole rows is perfectly rank-correlated (ties fall on both columns alike).
    same = bootstrap_interval(np.column_stack([x, x]), statistic=spearman, n_resamples=200)
    assert (same.mean, same.low, same.high) == pytest.approx((1.0, 1.0, 1.0))
    noisy = np.column_stack([x, x + np.random.default_rng(3).normal(0, 0.3, 50)])
    interval = bootstrap_interval(noisy, statistic=spearman, n_resamples=200)
    assert interval.low < interval.mean < interval.high < 1


def test_bootstrap_names_a_statistic_undefined_on_resamples():
    constant_x = np.column_stack([np.r_[np.zeros(4), 1.0], np.arange(5.0)])
    with warnings.catch_warnings(), pytest.raises(ValueError, match="non-finite value on"):
        warnings.simplefilter("ignore")  # scipy warns about each constant resample
        bootstrap_interval(constant_x, statistic=lambda p: scipy_stats.spearmanr(p[:, 0], p[:, 1]).statistic)


def test_paired_bootstrap_resamples_the_same_examples_for_both_models():
    rng = np.random.default_rng(4)
    a = rng.random(300)
    b = a - 0.02 + rng.normal(0, 0.01, 300)
    paired = paired_bootstrap_interval(a, b, seed=5)
    # Same seed, same index draws: the paired interval is the bootstrap of the per-example differences.
    on_differences = bootstrap_interval(a - b, seed=5)
    assert (paired.mean, paired.low, paired.high) == pytest.approx(
        (on_differences.mean, on_differences.low, on_differences.high), rel=1e-12, abs=1e-12)
    assert paired.half_width < bootstrap_interval(a, seed=5).half_width / 10
    assert verdict(paired, +1) == "reproduced"
    with pytest.raises(ValueError, match="a has 300 examples, b has 299"):
        paired_bootstrap_interval(a, b[:-1])


def test_paired_noise_floor_by_hand():
    # two scorings, four paired replicates: centred on their means (3 and 3) -2 -1 0 3 and -1 -1 2 0, ranges
    # 1 0 2 3: mean 1.5; sorted 0 1 2 3, linear quantiles 0.25 and 0.75 at positions 0.75 and 2.25
    floor = paired_noise_floor_gap([[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 5.0, 3.0]], confidence=0.5)
    assert floor == Interval(1.5, 0.75, 2.25, 4)
    # three scorings, three replicates: centred -3 0 3, -1 -1 2, -1 2 -1; per replicate ranges 2, 3, 4: mean 3;
    # quantiles 0.025 and 0.975 at positions 0.05 and 1.95: 2.05 and 3.95
    floor = paired_noise_floor_gap({"a": [0.0, 3.0, 6.0], "b": [10.0, 10.0, 13.0], "c": [5.0, 8.0, 5.0]})
    assert (floor.mean, floor.low, floor.high, floor.n) == pytest.approx((3.0, 2.05, 3.95, 3))


def test_the_paired_floor_ignores_what_the_scorings_share_and_their_systematic_differences():
    replicates = [70.5, 71.25, 69.0, 72.0]
    shifted = [[value + shift for value in replicates] for shift in (0.0, -3.5, 10.25, 0.125)]
    assert paired_noise_floor_gap(shifted) == Interval(0.0, 0.0, 0.0, 4)  # only constants apart: no noise of their own
    # a shared draw (an easy or hard resample moves every scoring alike) and a constant shift leave the floor as it was
    shared = np.array([5.0, -5.0, 0.0, 10.0])
    apart = [[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 5.0, 3.0]]
    assert paired_noise_floor_gap([apart[0] + shared, apart[1] + shared + 7.0]) == paired_noise_floor_gap(apart)


def test_the_paired_floor_is_the_expected_range_of_the_scorings_own_noise():
    rng = np.random.default_rng(6)
    shared = rng.normal(0.0, 10.0, size=20_000)  # the resample's effect on every scoring: sd 10
    own = rng.normal(0.0, 1.0, size=(5, 20_000))  # each scoring's own sampling noise: sd 1
    floor = paired_noise_floor_gap(70.0 + np.arange(5)[:, None] + shared + own)
    # the range of 5 independent standard normals: expected d2, sd d3 (tables); four standard errors of the mean
    assert floor.mean == pytest.approx(D2_FIVE, abs=4 * D3_FIVE / math.sqrt(20_000) + 0.002)
    assert floor.n == 20_000 and 0 < floor.low < floor.mean < floor.high
    # replicates drawn on different resamples per scoring (unpaired) would count the shared sd 10 as well
    unpaired = paired_noise_floor_gap([rng.permutation(row) for row in 70.0 + shared + own])
    assert unpaired.mean > 10 * floor.mean


@pytest.mark.parametrize("replicates, message", [
    ([[1.0, 2.0, 3.0]], "k >= 2 scorings, got 1"),
    ([], "k >= 2 scorings, got 0"),
    ([[1.0, 2.0, 3.0], [1.0, 2.0]], "scoring 0: 3, scoring 1: 2"),
    ({"paraphrase-1": [1.0, 2.0], "paraphrase-2": [1.0, math.nan]}, "scoring paraphrase-2 holds a non-finite value"),
    ([[1.0], [2.0]], "at least 2 bootstrap replicates"),
    ([[], []], "non-empty"),
])
def test_the_paired_floor_names_what_is_wrong_with_its_input(replicates, message):
    with pytest.raises(ValueError, match=message):
        paired_noise_floor_gap(replicates)
    with pytest.raises(ValueError, match="confidence"):
        paired_noise_floor_gap([[1.0, 2.0], [2.0, 3.0]], confidence=1.0)
