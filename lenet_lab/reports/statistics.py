"""Which differences between configurations are real: intervals and tests over seeds, or over test images.

Pure functions over numbers; the distributions and tests are scipy.stats'. Conventions:
- a group's interval is Student's t with n - 1 degrees of freedom over its jobs (none for n = 1);
- one new run is expected inside the prediction interval mean ± t * s * sqrt(1 + 1/n);
- two groups are compared by a paired t-test when their jobs pair up one to one (the same seed and
  every other setting that varies inside a group), else by Welch's t-test over all their jobs; the
  difference is always the difference of the two means (`a - b`) with the test's own 95% interval;
- two single jobs are compared by McNemar's exact test on the test images one gets right and the
  other wrong (a binomial test on the discordant images), when both saved their predictions;
- p-values of one table are corrected together with Holm's step-down method;
- a verdict from a t-test needs at least MIN_SEEDS jobs on both sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05  # written as is: 1 - 0.95 is 0.05000000000000004, and p = 0.05 must not pass for p < 0.05
LEVEL = 1 - ALPHA
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


def prediction_interval(values) -> tuple[float, float]:
    """95% interval for one new run of the same configuration: mean ± t(n-1) * s * sqrt(1 + 1/n).

    What a single published run is checked against: the interval of the *mean* (describe) holds a
    perfect reproduction's one run only ~84% of the time with 3 seeds and ~47% with 10."""
    d = describe(values)
    if d.n < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(1 - ALPHA / 2, d.n - 1)) * d.std * math.sqrt(1 + 1 / d.n)
    return d.mean - half, d.mean + half


@dataclass(frozen=True)
class Comparison:
    difference: float  # mean of a - mean of b
    low: float  # its 95% interval
    high: float
    p: float
    test: str  # "paired t (3 pairs)", "Welch t (5 vs 3 jobs)", "McNemar exact (10000 images)", "" when none
    n_a: int
    n_b: int


def pairs(a_keys: list, b_keys: list) -> list[tuple[int, int]] | None:
    """(i, j) with a_keys[i] == b_keys[j] when the two lists pair up one to one, else None.

    Only a complete pairing is used: a paired test over part of the jobs would judge a difference
    other than the one between the means the table shows."""
    if len(a_keys) != len(b_keys) or len(set(a_keys)) != len(a_keys) or set(a_keys) != set(b_keys):
        return None
    where = {key: j for j, key in enumerate(b_keys)}
    return [(i, where[key]) for i, key in enumerate(a_keys)]


@dataclass(frozen=True)
class Design:
    """Which t-test two groups get, and the values it runs on (x, y aligned by pair when paired)."""

    kind: str  # "paired", "welch" or "" (too few values for either)
    x: np.ndarray
    y: np.ndarray

    @property
    def label(self) -> str:
        if self.kind == "paired":
            return f"paired t ({len(self.x)} pairs)"
        return f"Welch t ({len(self.x)} vs {len(self.y)} jobs)" if self.kind else ""

    def degenerate_p(self) -> float | None:
        """p where the values have no spread to test against (scipy's answer there is NaN)."""
        spread = np.std(self.x - self.y) if self.kind == "paired" else np.std(self.x) + np.std(self.y)
        return None if spread else (0.0 if self.x.mean() != self.y.mean() else 1.0)


def design(a, b, a_keys: list | None = None, b_keys: list | None = None) -> Design:
    """Paired when `a_keys` and `b_keys` (each job's seed and other varying settings) pair the two
    groups one to one with at least 2 pairs, else Welch's when each side has 2 values; NaNs are
    dropped with their keys."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    matched = None
    if a_keys is not None and b_keys is not None:
        matched = pairs([k for k, v in zip(a_keys, a) if not math.isnan(v)], [k for k, v in zip(b_keys, b) if not math.isnan(v)])
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if matched is not None and len(matched) >= 2:
        return Design("paired", a[[i for i, _ in matched]], b[[j for _, j in matched]])
    return Design("welch" if len(a) >= 2 and len(b) >= 2 else "", a, b)


def p_values(tests: list[Design]) -> list[float]:
    """The two-sided p-value of each design's t-test (NaN where there is none), with one scipy call
    per kind and size: a table of k groups has k(k - 1)/2 pairs, and scipy's per-call cost, not
    the arithmetic, is what a table of 10 groups would wait on one pair at a time."""
    p = [math.nan if not test.kind else test.degenerate_p() for test in tests]
    batches: dict[tuple, list[int]] = {}
    for index, test in enumerate(tests):
        if test.kind and p[index] is None:
            batches.setdefault((test.kind, len(test.x), len(test.y)), []).append(index)
    for (kind, *_), members in batches.items():
        x, y = np.stack([tests[i].x for i in members]), np.stack([tests[i].y for i in members])
        batch = stats.ttest_rel(x, y, axis=1) if kind == "paired" else stats.ttest_ind(x, y, axis=1, equal_var=False)
        for index, value in zip(members, np.atleast_1d(batch.pvalue)):
            p[index] = float(value)
    return p


def compare_groups(a, b, a_keys: list | None = None, b_keys: list | None = None) -> Comparison:
    """Two groups' values by `design`: the difference of their means, its 95% interval, p."""
    test = design(a, b, a_keys, b_keys)
    n_a, n_b = (len(test.x), len(test.y))
    if test.kind == "paired":  # every value has its pair: the same values as the group's
        n_a = n_b = len(test.x)
    difference = float(test.x.mean() - test.y.mean()) if len(test.x) and len(test.y) else math.nan
    if not test.kind:
        return Comparison(difference, math.nan, math.nan, math.nan, "", n_a, n_b)
    if (p := test.degenerate_p()) is not None:
        return Comparison(difference, difference, difference, p, test.label, n_a, n_b)
    result = stats.ttest_rel(test.x, test.y) if test.kind == "paired" else stats.ttest_ind(test.x, test.y, equal_var=False)
    low, high = result.confidence_interval(LEVEL)
    return Comparison(difference, float(low), float(high), float(result.pvalue), test.label, n_a, n_b)


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


def verdict(comparison: Comparison, p_adjusted: float, higher_is_better: bool = True) -> str:
    """`better (p=0.003)`, `worse (p=0.003)`, `not distinguishable (p=0.41)` or TOO_FEW: group a
    against the reference b. The direction is the sign of the difference of their means, so a
    verdict never contradicts the Δ printed beside it."""
    if not judgeable(comparison) or math.isnan(p_adjusted):
        return TOO_FEW
    shown = format_p(p_adjusted)
    shown = shown if shown.startswith("<") else "=" + shown
    if p_adjusted >= ALPHA or comparison.difference == 0:
        return f"not distinguishable (p{shown})"
    return f"{'better' if (comparison.difference > 0) == higher_is_better else 'worse'} (p{shown})"


def format_p(p: float) -> str:
    """Two significant digits, more where rounding would cross ALPHA (0.0496 is "0.0496", never "0.050")."""
    if math.isnan(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < ALPHA) == (p < ALPHA):
            return text
    return repr(p)
