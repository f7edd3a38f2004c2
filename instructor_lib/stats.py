"""Uncertainty of scores: intervals over training seeds, bootstrap over test examples.

Two sources of error are kept apart:
- *training* noise: a configuration trained with several seeds gives one score per seed; `t_interval` and
  `paired_difference` (Student t over seeds) say where the mean over seeds lies, and `seeds_for_half_width`
  how many seeds a narrower interval would need;
- *evaluation* noise: a score is a statistic of a finite test sample; `bootstrap_interval`,
  `paired_bootstrap_interval` resample the test examples (seeded, so reruns agree), `replicate_sd` and
  `paired_replicate_sd` give the spread of bootstrap replicates of a score and of a gain, and
  `paired_noise_floor_gap` turns paired bootstrap replicates of k scorings on the same examples into the
  best-minus-worst gap that sampling noise alone gives among them.
`claims` turns these intervals into verdicts on the paper's claims.

Pure functions on numbers (numpy and scipy); nothing here trains or evaluates a model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import stats as scipy_stats


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval.

    `mean` is the estimate (the mean over seeds, or the statistic on the full test sample for a bootstrap),
    `low`/`high` the interval's bounds, `n` the number of values it rests on (seeds for a t-interval,
    examples for a bootstrap). Bounds are nan where the interval is undefined (a single seed).
    """

    mean: float
    low: float
    high: float
    n: int

    @property
    def defined(self) -> bool:
        """Whether both bounds are finite numbers."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def half_width(self) -> float:
        """Half the interval's width (nan when undefined)."""
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        """True when the whole interval lies strictly on one side of 0 (a bound equal to 0 does not exclude it)."""
        return self.defined and (self.low > 0 or self.high < 0)

    def as_dict(self) -> dict:
        """The interval as a metrics entry: {"mean", "low", "high", "n"} (undefined bounds stay nan)."""
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


# ------------------------------------------------------------------------------------------ over seeds
def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Student-t confidence interval of the mean of `values` (one score per training seed).

    Args:
        values: the scores, one per seed (finite numbers).
        confidence: the coverage of the interval, in (0, 1).
    Returns mean ± t_{(1+confidence)/2, n-1} · sd / sqrt(n), with sd the sample standard deviation (n-1 in
    the denominator). With one value the spread of seeds is unknown: the bounds are nan (undefined), never a
    zero-width interval, and `claims.verdict` calls such a result inconclusive.
    """
    array = _finite_vector(values, "values")
    _check_confidence(confidence)
    mean = float(array.mean())
    if array.size == 1:
        return Interval(mean, math.nan, math.nan, 1)
    half = scipy_stats.t.ppf((1 + confidence) / 2, array.size - 1) * array.std(ddof=1) / math.sqrt(array.size)
    return Interval(mean, mean - half, mean + half, int(array.size))


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Interval:
    """t-interval of the mean of `a - b`, where `a[i]` and `b[i]` come from the same seed.

    Args:
        a, b: one score per seed for the two models, in the same seed order (e.g. finetuned and backbone,
            or variant and full model trained with the same seed).
        confidence: the coverage of the interval.
    Pairing removes what the two share per seed (batch order, evaluation sample), so the interval is
    narrower than comparing two independent t-intervals when the scores are correlated.
    """
    a, b = _finite_vector(a, "a"), _finite_vector(b, "b")
    if a.size != b.size:
        raise ValueError(f"a paired difference needs one score per seed in both: a has {a.size} values, "
                         f"b has {b.size}")
    return t_interval(a - b, confidence)


def seeds_for_half_width(values: Sequence[float], target: float, most: int = 1000) -> dict:
    """How many seeds the t-interval of the mean needs for a half-width of at most `target`, if the seeds spread
    as these `values` (e.g. one gain per seed) do: the smallest n >= 2 with t(0.975, n-1) * sd / sqrt(n) <= target.

    Returns {"target", "sd" (of `values`), "half_width" (of their own interval), "seeds" (that n; None when more
    than `most`)}; with fewer than 2 values the spread is unknown and sd, half_width and seeds are None.
    """
    if len(values) < 2:
        return {"target": target, "sd": None, "half_width": None, "seeds": None}
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))
    half_width = scipy_stats.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    return {"target": target, "sd": sd, "half_width": half_width, "seeds": seeds_needed(sd, target, most)}


def seeds_needed(sd: float, target: float, most: int = 1000) -> int | None:
    """The smallest n >= 2 with t(0.975, n-1) * sd / sqrt(n) <= target: the seeds a 95% t-interval of a mean needs
    for a half-width of at most `target` when single seeds spread with standard deviation `sd` (None: more than
    `most`)."""
    return next((n for n in range(2, most + 1) if scipy_stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= target), None)


def interval_sd(interval: Interval) -> float:
    """The per-seed standard deviation behind a 95% t-interval of a mean over `interval.n` seeds (nan if undefined)."""
    if not interval.defined:
        return math.nan
    return interval.half_width * math.sqrt(interval.n) / scipy_stats.t.ppf(0.975, interval.n - 1)


# -------------------------------------------------------------------------------- over test examples
def replicate_sd(replicates_per_seed: Sequence) -> float:
    """The evaluation sampling error of a score: the standard deviation of its bootstrap replicates (one array
    per seed, e.g. `evaluate(..., bootstrap=B)["bootstrap"][row]["replicates"]`), averaged over seeds."""
    return float(np.mean([np.asarray(replicates).std(ddof=1) for replicates in replicates_per_seed]))


def paired_replicate_sd(a_per_seed: Sequence, b_per_seed: Sequence) -> float:
    """The evaluation sampling error of a difference a - b of two models scored on the same resampled examples:
    the standard deviation of the difference of their paired bootstrap replicates (one array per seed for each
    model, in the same seed order), averaged over seeds."""
    return float(np.mean([(np.asarray(a) - np.asarray(b)).std(ddof=1) for a, b in zip(a_per_seed, b_per_seed)]))


def bootstrap_interval(examples, statistic: Callable = np.mean, n_resamples: int = 1000, seed: int = 0,
                       confidence: float = 0.95) -> Interval:
    """Percentile bootstrap interval of `statistic` over the test examples.

    Args:
        examples: per-example values, an array whose first axis runs over examples: shape (n,) for
            per-example scores (e.g. accuracy 0/1), or (n, k) when the statistic needs the examples as a
            whole (e.g. the Spearman correlation of n sentence pairs: columns gold score, predicted score).
        statistic: maps an array shaped like `examples` to one number (default: the mean).
        n_resamples: number of bootstrap resamples (n examples drawn with replacement each).
        seed: seed of the resampling; the same seed gives the same interval.
        confidence: the coverage of the interval.
    Returns Interval(statistic(examples), lower and upper (1-confidence)/2 quantiles of the resampled
    statistics, n). With a single example the bounds are nan (nothing to resample).
    """
    data = _examples(examples, "examples")
    return _bootstrap([data], lambda parts: statistic(parts[0]), n_resamples, seed, confidence)


def paired_bootstrap_interval(a, b, statistic: Callable = np.mean, n_resamples: int = 1000, seed: int = 0,
                              confidence: float = 0.95) -> Interval:
    """Percentile bootstrap interval of `statistic(a) - statistic(b)` for two models scored on the same examples.

    Args:
        a, b: per-example values of the two models, same shape conventions as `bootstrap_interval`; row i of
            both is the same test example, and every resample draws the same rows from both.
        statistic, n_resamples, seed, confidence: as in `bootstrap_interval`.
    The shared draw makes the difference's interval reflect only where the models disagree.
    """
    a, b = _examples(a, "a"), _examples(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a paired bootstrap needs the same examples for both models: a has {len(a)} examples, "
                         f"b has {len(b)}")
    return _bootstrap([a, b], lambda parts: statistic(parts[0]) - statistic(parts[1]), n_resamples, seed, confidence)


def paired_noise_floor_gap(replicates_by_set: Sequence | Mapping, confidence: float = 0.95) -> Interval:
    """The best-minus-worst gap that evaluation sampling noise alone gives among k scorings of one task that are
    all scored on the same test examples (e.g. one model under five paraphrased instructions).

    Args:
        replicates_by_set: k >= 2 arrays (a list, or a dict by scoring name), one per scoring, of B >= 2
            bootstrap replicates each; replicate r of every scoring is computed on the same resampled examples
            (`evaluate(..., bootstrap=B)` draws the same indices per task for every model and instruction set:
            `evaluation.bootstrap.task_seed`).
        confidence: the coverage of the interval.
    The null: wording changes no scoring's score beyond the sample, so the observed gap is the range of the k
    scorings' sampling errors on these examples. A replicate minus its scoring's replicate mean is one draw of
    that scoring's error (the centring removes any systematic difference between the scorings), and replicate r
    draws all k errors on the same resample, so what the scorings share (an easy or a hard draw of examples
    moves them all) cancels in the range, as it cancels in the observed gap. Resampling each scoring on its own
    examples instead would count that shared noise and overstate the floor. Per replicate r: max over scorings
    minus min over scorings of the centred values. Returns Interval(mean of those B gaps = the noise floor, their
    lower and upper (1-confidence)/2 quantiles, n = B). An observed gap above `high` is more than sampling noise
    gives (a one-sided test at level (1-confidence)/2). Scorings whose replicates differ only by constants give a
    floor of 0 (up to rounding); so do constant replicates (a bootstrap that cannot resample: spread unknown).
    """
    _check_confidence(confidence)
    named = dict(replicates_by_set) if isinstance(replicates_by_set, Mapping) else dict(enumerate(replicates_by_set))
    sets = {name: _finite_vector(replicates, f"the replicates of scoring {name}") for name, replicates in named.items()}
    if len(sets) < 2:
        raise ValueError(f"a best-minus-worst gap needs the replicates of k >= 2 scorings, got {len(sets)}")
    sizes = {replicates.size for replicates in sets.values()}
    if len(sizes) > 1:
        counts = ", ".join(f"scoring {name}: {replicates.size}" for name, replicates in sets.items())
        raise ValueError(f"paired replicates need the same number per scoring (replicate r of each on the same "
                         f"resample), got {counts}")
    if sizes == {1}:
        raise ValueError("a noise floor needs at least 2 bootstrap replicates per scoring, got 1")
    errors = np.stack(list(sets.values()))
    errors -= errors.mean(axis=1, keepdims=True)
    gaps = errors.max(axis=0) - errors.min(axis=0)
    low, high = np.quantile(gaps, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(float(gaps.mean()), float(low), float(high), int(gaps.size))


def _bootstrap(parts: list[np.ndarray], difference: Callable, n_resamples: int, seed: int,
               confidence: float) -> Interval:
    """Resample the same example indices from every array of `parts`; `difference(parts)` gives the number."""
    _check_resampling(n_resamples, confidence)
    n = len(parts[0])
    estimate = float(difference(parts))
    if n == 1:
        return Interval(estimate, math.nan, math.nan, 1)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_resamples)
    for r in range(n_resamples):
        rows = rng.integers(0, n, n)
        draws[r] = difference([data[rows] for data in parts])
    _check_finite_resamples(draws, "the statistic")
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(estimate, float(low), float(high), n)


# ------------------------------------------------------------------------------------------- checks
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite_vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty list of numbers, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name} holds a non-finite value at position {int(bad[0])} ({array[bad[0]]})")
    return array


def _examples(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{name} must hold at least one example (first axis), got shape {array.shape}")
    return array


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _check_resampling(n_resamples: int, confidence: float) -> None:
    _check_confidence(confidence)
    if not _is_int(n_resamples) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")


def _check_finite_resamples(draws: np.ndarray, what: str) -> None:
    bad = int((~np.isfinite(draws)).sum())
    if bad:
        raise ValueError(f"{what} gave a non-finite value on {bad} of {draws.size} resamples (e.g. a correlation "
                         "of a constant resample); use more examples or a statistic defined on every resample")
