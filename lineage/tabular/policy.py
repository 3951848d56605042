"""Softmax policies: tabular logits θ[s, a], and linear-feature logits φ(s, a)ᵀθ with shared θ.

    π_θ(a|s) = exp(θ_{s,a}) / Σ_b exp(θ_{s,b}),      ∂ log π(a|s) / ∂θ_{s,b} = 1[a = b] − π(b|s)

(notes §PG; claim PG-4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array


def softmax(logits) -> np.ndarray:
    """Row-wise softmax over the last axis, shifted by the row maximum for stability."""
    logits = as_float_array("logits", logits)
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class LinearSoftmaxPolicy:
    """π_θ(a|s) ∝ exp(φ(s, a)ᵀθ) with ``features[s, a, k]`` = φ_k(s, a): parameters shared across states."""

    features: np.ndarray

    def probabilities(self, theta) -> np.ndarray:
        """π_θ as an [S, A] array."""
        return softmax(self.features @ as_float_array("theta", theta))

    def score(self, theta) -> np.ndarray:
        """∇_θ log π_θ(a|s) as an [S, A, K] array: φ(s, a) − Σ_b π(b|s) φ(s, b)."""
        pi = self.probabilities(theta)
        return self.features - np.einsum("sb,sbk->sk", pi, self.features)[:, None, :]
