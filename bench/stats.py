"""Least-squares fits of time against services, and whether a quadratic term is real."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fit:
    """time ≈ intercept + per_service·N, and the quadratic term of time ≈ a + b·N + c·N²."""

    intercept: float
    per_service: float
    quadratic: float
    # The quadratic term's t statistic and two-sided p-value (Student's t, n - 3 degrees of
    # freedom): p < 0.05 means the growth is not linear.
    t: float
    p: float

    @property
    def linear(self) -> bool:
        return self.p >= 0.05


def fit(services: Sequence[float], seconds: Sequence[float]) -> Fit:
    """Both fits over every run (not medians), so the noise between runs is in the test."""
    if len(set(services)) < 3 or len(services) < 4:
        raise ValueError(
            f"a quadratic fit needs three sizes and four runs or more, got {len(services)} runs "
            f"of {len(set(services))} sizes"
        )
    slope, intercept = statistics.linear_regression(services, seconds)
    # Services in hundreds keep the normal equations well conditioned; t does not change.
    xs = [n / 100 for n in services]
    rows = [[1.0, x, x * x] for x in xs]
    normal = [[sum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]
    inverse = _inverse(normal)
    moments = [sum(r[i] * y for r, y in zip(rows, seconds, strict=True)) for i in range(3)]
    a, b, c = (sum(inverse[i][j] * moments[j] for j in range(3)) for i in range(3))
    residual = sum((y - a - b * x - c * x * x) ** 2 for x, y in zip(xs, seconds, strict=True))
    freedom = len(xs) - 3
    error = math.sqrt(residual / freedom * inverse[2][2])
    t = c / error if error else math.inf
    return Fit(intercept, slope, c / 100**2, t, two_sided_p(t, freedom))


def _inverse(m: list[list[float]]) -> list[list[float]]:
    """A 3x3 matrix's inverse, by its adjugate."""
    (a, b, c), (d, e, f), (g, h, i) = m
    cofactors = [
        [e * i - f * h, c * h - b * i, b * f - c * e],
        [f * g - d * i, a * i - c * g, c * d - a * f],
        [d * h - e * g, b * g - a * h, a * e - b * d],
    ]
    determinant = a * cofactors[0][0] + b * cofactors[1][0] + c * cofactors[2][0]
    return [[value / determinant for value in row] for row in cofactors]


def two_sided_p(t: float, freedom: int) -> float:
    """P(|T| ≥ |t|) for Student's t: the density integrated by Simpson's rule."""
    if math.isinf(t):
        return 0.0
    log_scale = (
        math.lgamma((freedom + 1) / 2)
        - math.lgamma(freedom / 2)
        - 0.5 * math.log(freedom * math.pi)
    )

    def density(x: float) -> float:
        return math.exp(log_scale - (freedom + 1) / 2 * math.log1p(x * x / freedom))

    steps, end = 2000, abs(t)
    width = end / steps
    inner = sum((4 if k % 2 else 2) * density(k * width) for k in range(1, steps))
    half = width / 3 * (density(0) + inner + density(end))
    return max(0.0, 1 - 2 * half)
