"""Softmax policies on a tabular MDP: tabular logits θ[s, a], and linear-feature logits φ(s, a)ᵀθ with shared θ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array
from lineage.pg.score import linear_softmax_score


def softmax(logits) -> np.ndarray:
    """Softmax over the last axis, π(a|s) = exp(θ_{s,a}) / Σ_b exp(θ_{s,b}), shifted by the row maximum.

        π_θ(a|s) = exp(θ_{s,a} − m_s) / Σ_b exp(θ_{s,b} − m_s),   m_s = max_b θ_{s,b}
        ∂ log π_θ(a|s) / ∂θ_{s,b} = 1[a = b] − π_θ(b|s)

    The shift m_s cancels between numerator and denominator, so the result is that of the plain formula; it
    keeps every exponent ≤ 0 (no overflow) and leaves one term equal to 1 in each denominator (no division by
    zero), so logits of ±1000 give no overflow or NaN. The second line is the score of the tabular softmax, the
    factor ∇ log π in the log-derivative step ∇π = π ∇ log π.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §13.1 (soft-max in action
    preferences). The tabular parametrisation of STD-PG-1 and PG-3; the score is the step of PG-4 (notes §PG).

    Args:
        logits: [..., A] real array, e.g. [S, A] tabular logits θ[s, a]; normalised over the last axis.

    Returns:
        Array of the shape of ``logits`` whose slices along the last axis lie on the simplex (floating; integers
        are promoted to float64, float32 stays float32).

    Raises:
        ValueError: if ``logits`` is not an array of real numbers or has a non-finite entry.
    """
    logits = as_float_array("logits", logits)
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class LinearSoftmaxPolicy:
    """A softmax policy with logits linear in features, π_θ(a|s) ∝ exp(φ(s, a)ᵀθ), θ shared by all states.

        π_θ(a|s) = exp(φ(s, a)ᵀθ) / Σ_b exp(φ(s, b)ᵀθ),   θ ∈ R^K

    One θ moves the action probabilities of every state at once, so the gradient of J in θ mixes states:
    a check of the policy-gradient theorem on it does not rest on the tabular closed form, where each θ_{s,a}
    acts in one state only. The features are stored as given, not validated.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §13.1 (soft-max in linear
    action preferences). The shared-parameter case of STD-PG-1 and PG-3 (notes §PG).

    Args:
        features: [S, A, K] array, features[s, a, k] = φ_k(s, a).
    """

    features: np.ndarray

    def probabilities(self, theta) -> np.ndarray:
        """The policy table π_θ(a|s) = softmax_a(φ(s, a)ᵀθ).

            π_θ(a|s) = exp(φ(s, a)ᵀθ) / Σ_b exp(φ(s, b)ᵀθ)

        See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §13.1. Gives the
        policy whose gradient STD-PG-1 and PG-3 check (notes §PG).

        Args:
            theta: [K] parameters θ.

        Returns:
            [S, A] array, rows on the simplex.

        Raises:
            ValueError: if ``theta`` is not real or has a non-finite entry, or (NumPy's matmul error) if its
                length is not the feature dimension K.
        """
        return softmax(self.features @ as_float_array("theta", theta))

    def score(self, theta) -> np.ndarray:
        """The score ∇_θ log π_θ(a|s) = φ(s, a) − Σ_b π_θ(b|s) φ(s, b) for every state and action.

            ∇_θ log π_θ(a|s) = φ(s, a) − E_{b~π_θ(·|s)}[φ(s, b)]

        Differentiating log π_θ(a|s) = φ(s, a)ᵀθ − log Σ_b exp(φ(s, b)ᵀθ) gives the feature minus its mean
        under the policy, so Σ_a π_θ(a|s) ∇_θ log π_θ(a|s) = 0 in every state.

        See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., ch. 13, Exercise 13.3
        (eligibility vector of the linear soft-max); Williams (1992) calls it the characteristic eligibility.
        The log-derivative factor of PG-4, used by STD-PG-1 (notes §PG). The table of
        :func:`lineage.pg.linear_softmax_score`, which computes it.

        Args:
            theta: [K] parameters θ.

        Returns:
            [S, A, K] array, entry [s, a] = ∇_θ log π_θ(a|s).

        Raises:
            ValueError: as :meth:`probabilities`.
        """
        return linear_softmax_score(self.features, as_float_array("theta", theta))
