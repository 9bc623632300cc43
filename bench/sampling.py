"""Weighted draws for the benchmark data: Zipf weights and draws by their running sums."""

from __future__ import annotations

import numpy as np


def weighted_choice(rng: np.random.Generator, p_cumulative: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the probabilities whose running sum is ``p_cumulative``."""
    return np.minimum(np.searchsorted(p_cumulative, rng.random(n), side="right"), len(p_cumulative) - 1)


def zipf_cumulative(count: int, exponent: float) -> np.ndarray:
    """The running sum of ``count`` Zipf weights with ``exponent``, normalised to end at 1."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]
