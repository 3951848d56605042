"""The closed-form optimum π* ∝ π_ref·e^{score/β} of the KL-regularised RLHF objective,
``lineage.rlhf.kl_regularized_optimum``, by exact enumeration of tiny autoregressive policies (V ≤ 3, L ≤ 3; notes
§PPO, RLHF part; claims STD-RLHF-3, STD-RLHF-2). It is the oracle of the RLHF-PPO run (KL(π ‖ π*) over training),
so it is checked against the objective it claims to solve, J(π) = E_π[Σ_t r_t] with lineage's per-token rewards.

Tolerances as in ``test_rlhf_kl_objective``: sums over ≤ 27 responses of terms bounded by the instance's
magnitude, 64·eps·magnitude.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.rlhf import AutoregressivePolicy, kl_regularized_optimum, sequence_kl
from properties.assertions import assert_identity
from properties.test_rlhf_kl_objective import EPS, TC19, Responses, responses


def objective(case: Responses, policy: AutoregressivePolicy) -> float:
    """J(π) = E_{y~π}[Σ_t r_t], lineage's per-token KL-penalised rewards summed (γ = 1)."""
    return float(policy.expectation(case.rewards(policy).sum(axis=1)))


@pytest.mark.claim("STD-RLHF-3", "STD-RLHF-2")
@given(case=responses(min_beta=0.1))
def test_every_policy_falls_short_of_the_optimum_by_exactly_beta_kl_to_it(case):
    """STD-RLHF-3, STD-RLHF-2 (notes §PPO, RLHF part): J(π*) = β log E_{π_ref}[e^{score/β}] and, for any π,
    J(π*) − J(π) = β·KL(π ‖ π*) — the Gibbs identity that makes KL(π ‖ π*) the exact shortfall of a policy."""
    optimum = kl_regularized_optimum(case.reference, case.scores, beta=case.beta)
    logits = np.log(case.reference.sequence_probs()) + case.scores / case.beta
    log_partition = logits.max() + math.log(np.exp(logits - logits.max()).sum())
    atol = case.atol(case.policy, optimum)
    assert_identity(objective(case, optimum), case.beta * log_partition, atol=atol, what="J(π*) vs β log Z")
    shortfall = objective(case, optimum) - objective(case, case.policy)
    gap = case.beta * sequence_kl(case.policy, optimum)
    assert_identity(shortfall, gap, atol=atol, what="J(π*) − J(π) vs β·KL(π‖π*)")


@pytest.mark.claim("STD-RLHF-3")
@given(case=responses(min_beta=0.1), shift=st.floats(-10.0, 10.0))
def test_optimum_tilts_the_reference_by_the_score_and_ignores_a_constant(case, shift):
    """STD-RLHF-3 (notes §PPO, RLHF part): log π*(y) − log π_ref(y) − score(y)/β is one constant (−log Z) over
    all responses, and scores shifted by a constant c give the same π* (what a Bradley–Terry reward model leaves
    undetermined does not matter)."""
    optimum = kl_regularized_optimum(case.reference, case.scores, beta=case.beta)
    tilt = np.log(optimum.sequence_probs()) - np.log(case.reference.sequence_probs()) - case.scores / case.beta
    atol = 16 * case.atol(optimum) / case.beta
    assert_identity(tilt, np.full_like(tilt, tilt.mean()), atol=atol, what="log π* − log π_ref − score/β")
    shifted = kl_regularized_optimum(case.reference, case.scores + shift, beta=case.beta)
    scale = atol + 64 * EPS * abs(shift) / case.beta
    assert_identity(shifted.sequence_probs(), optimum.sequence_probs(), atol=scale, what="π* of shifted scores")


@pytest.mark.claim("STD-RLHF-3")
def test_pinned_one_token_optimum_and_arguments_named():
    """STD-RLHF-3: one token, π_ref = (0.5, 0.5), scores (1, 0), β = 1: π* = (e, 1)/(e + 1) = (0.731, 0.269);
    a wrong score shape, β ≤ 0 and an underflowing π* raise ValueError naming the argument."""
    optimum = kl_regularized_optimum(TC19.reference, np.array([1.0, 0.0]), beta=1.0)
    np.testing.assert_allclose(optimum.sequence_probs(), [math.e / (math.e + 1), 1 / (math.e + 1)], rtol=1e-15)
    with pytest.raises(ValueError, match=r"^scores:"):
        kl_regularized_optimum(TC19.reference, np.zeros(3), beta=1.0)
    with pytest.raises(ValueError, match=r"^beta:"):
        kl_regularized_optimum(TC19.reference, np.zeros(2), beta=0.0)
    with pytest.raises(ValueError, match=r"^beta:"):
        kl_regularized_optimum(TC19.reference, np.array([1000.0, 0.0]), beta=1e-3)
