"""Which differences between configurations are real: intervals and tests over seeds, or over test images.

Pure functions over numbers; the distributions and tests are scipy.stats'. Conventions:
- a group's interval is Student's t with n - 1 degrees of freedom over its seeds (none for n = 1);
- two groups are compared by a paired t-test over the seeds they share when they share at least
  2, else by Welch's t-test; the difference is `a - b` with the test's own 95% interval;
- two single jobs are compared by McNemar's exact test on the test images one gets right and the
  other wrong (a binomial test on the discordant images), when both saved their predictions;
- p-values of one table are corrected together with Holm's step-down method;
- a verdict from a t-test needs at least MIN_SEEDS seeds on both sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
ALPHA = 1 - LEVEL
MIN_SEEDS = 3  # a t-test on two points per side says little: below this, no verdict
TOO_FEW = "too few seeds to judge"


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float  # sample standard deviation (n - 1); NaN for n = 1
    sem: float  # standard error of the mean; NaN for n = 1
    low: float  # 95% interval of the mean; NaN for n = 1
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def describe(values) -> Summary:
    """n, mean, std, standard error and the 95% t interval of the mean of `values` (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    sem = std / math.sqrt(n)
    if sem == 0:  # identical values: the interval is the point
        return Summary(n, mean, std, sem, mean, mean)
    low, high = stats.t.interval(LEVEL, n - 1, loc=mean, scale=sem)
    return Summary(n, mean, std, sem, float(low), float(high))


@dataclass(frozen=True)
class Comparison:
    difference: float  # a - b
    low: float  # its 95% interval
    high: float
    p: float
    test: str  # "paired t (3 seeds)", "Welch t", "McNemar exact (10000 images)", "" when none
    n_a: int
    n_b: int


def compare_seeds(a: dict, b: dict) -> Comparison:
    """Two groups' values by seed ({seed: value}): paired t over the shared seeds (>= 2), else Welch's t."""
    a = {k: float(v) for k, v in a.items() if not math.isnan(float(v))}
    b = {k: float(v) for k, v in b.items() if not math.isnan(float(v))}
    shared = sorted(set(a) & set(b), key=str)
    difference = float(np.mean(list(a.values())) - np.mean(list(b.values()))) if a and b else math.nan
    if len(shared) >= 2:
        x, y = np.array([a[s] for s in shared]), np.array([b[s] for s in shared])
        if np.all(x - y == (x - y)[0]):  # a constant difference: no spread to test against
            d = float((x - y)[0])
            return Comparison(d, d, d, 0.0 if d else 1.0, f"paired t ({len(shared)} seeds)", len(a), len(b))
        result = stats.ttest_rel(x, y)
        interval = result.confidence_interval(LEVEL)
        return Comparison(float(np.mean(x - y)), float(interval.low), float(interval.high), float(result.pvalue), f"paired t ({len(shared)} seeds)", len(a), len(b))
    if len(a) >= 2 and len(b) >= 2:
        x, y = np.array(list(a.values())), np.array(list(b.values()))
        if x.std() == 0 and y.std() == 0:
            return Comparison(difference, difference, difference, 0.0 if difference else 1.0, "Welch t", len(a), len(b))
        result = stats.ttest_ind(x, y, equal_var=False)
        interval = result.confidence_interval(LEVEL)
        return Comparison(difference, float(interval.low), float(interval.high), float(result.pvalue), "Welch t", len(a), len(b))
    return Comparison(difference, math.nan, math.nan, math.nan, "", len(a), len(b))


def mcnemar(correct_a, correct_b) -> Comparison:
    """Two models on the same test images (boolean arrays: right or wrong on each image).

    The p-value is McNemar's exact test: of the images exactly one of them gets right, how unlikely
    a split this uneven is if each is as likely to be the one (a two-sided binomial test at 1/2).
    The difference in accuracy gets the usual paired-proportions interval (normal approximation,
    as scipy has none for paired proportions)."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    n = len(a)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue) if only_a + only_b else 1.0
    difference = (only_a - only_b) / n
    se = math.sqrt(max(only_a + only_b - (only_a - only_b) ** 2 / n, 0.0)) / n
    z = float(stats.norm.ppf(1 - ALPHA / 2))
    return Comparison(difference, difference - z * se, difference + z * se, p, f"McNemar exact ({n} images)", 1, 1)


def accuracy_interval(correct: int, total: int) -> tuple[float, float]:
    """95% Wilson interval of one job's accuracy on `total` test images: its uncertainty from the
    test set's size, the only one a single seed can show."""
    interval = stats.binomtest(correct, total).proportion_ci(LEVEL, method="wilson")
    return float(interval.low), float(interval.high)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down correction of a family of p-values (NaNs are not tested and stay NaN).

    Written out because scipy.stats has only Benjamini-Hochberg (`false_discovery_control`), which
    controls a different error rate."""
    p = np.asarray(pvalues, dtype=float)
    tested = np.flatnonzero(~np.isnan(p))
    adjusted = np.full_like(p, np.nan)
    m = len(tested)
    order = tested[np.argsort(p[tested], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def judgeable(comparison: Comparison) -> bool:
    """Whether a verdict may come from this comparison: McNemar on single jobs, or a t-test with
    at least MIN_SEEDS seeds on both sides. Only these enter a table's Holm family."""
    return comparison.test.startswith("McNemar") or (bool(comparison.test) and min(comparison.n_a, comparison.n_b) >= MIN_SEEDS)


def verdict(comparison: Comparison, p_adjusted: float) -> str:
    """`worse (p=0.003)`, `not distinguishable (p=0.41)` or TOO_FEW, against the best group."""
    if not judgeable(comparison) or math.isnan(p_adjusted):
        return TOO_FEW
    shown = format_p(p_adjusted)
    return f"{'worse' if p_adjusted < ALPHA else 'not distinguishable'} (p{shown if shown.startswith('<') else '=' + shown})"


def format_p(p: float) -> str:
    if math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.1 else f"{p:.2f}"
