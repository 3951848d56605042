"""The surrogate L_π(π') of conservative policy iteration and TRPO, its importance-sampled form, and the lower bounds
on J(π') built on it: TRPO's penalty (total-variation and KL forms), the conservative mixture bound and the CPO bound
with the trust-region degradation it implies. π is the old policy, π' the new one; all exact, numpy float64."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lineage._validation import check_real, check_unit_interval
from lineage.ppo.penalty import categorical_kl
from lineage.tabular.evaluation import advantages, require_discounting, state_values
from lineage.tabular.mdp import TabularMDP
from lineage.tabular.visitation import state_visitation


def surrogate(mdp: TabularMDP, pi_old, pi_new) -> float:
    """The surrogate L_π(π') = J(π) + 1/(1 − γ) · E_{s~ν^π} E_{a~π'}[A^π(s, a)]: the performance difference with the
    old policy's visitation in place of the new one's (needs γ < 1).

        L_π(π') = J(π) + 1/(1 − γ) Σ_s ν^π(s) Σ_a π'(a|s) A^π(s, a) = J(π) + Σ_s d^π(s) Σ_a π'(a|s) A^π(s, a)
        J(π') − L_π(π') = 1/(1 − γ) Σ_s (ν^{π'}(s) − ν^π(s)) Σ_a π'(a|s) A^π(s, a)

    L is affine in π', L_π(π) = J(π) (Σ_a π A^π = 0) and, for smooth π_θ, ∇_θ' L_π(π_θ') = ∇J at θ' = θ: a first-order
    match only, since the second line (the state-distribution shift) is what data from π cannot estimate.

    See Kakade & Langford (2002), "Approximately Optimal Approximate Reinforcement Learning", §4 (the policy
    advantage), and Schulman et al. (2015), "Trust Region Policy Optimization", eq. 3 (L_π with the unnormalised
    ρ_π = d^π). Serves TRPO-10, TRPO-12, PG-10, STD-TRPO-3, STD-TRPO-4 (notes §TRPO, §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] old policy π, rows on the simplex (its values, advantages and visitation are used).
        pi_new: [S, A] new policy π', rows on the simplex.

    Returns:
        L_π(π') as a Python float.

    Raises:
        ValueError: if γ = 1, or naming ``pi_old`` / ``pi_new`` if it is not an [S, A] array of distributions.
    """
    pi_old, pi_new = _policies(mdp, pi_old, pi_new)
    J, A, nu = _old_policy_terms(mdp, pi_old)
    return J + float(nu @ (pi_new * A).sum(axis=1)) / (1.0 - mdp.gamma)


def importance_sampled_surrogate(mdp: TabularMDP, pi_old, pi_new) -> float:
    """The surrogate with actions drawn from the old policy and re-weighted by the ratio π'/π (needs γ < 1).

        L_π(π') = J(π) + 1/(1 − γ) · E_{s~ν^π} E_{a~π(·|s)}[π'(a|s) / π(a|s) · A^π(s, a)]

    It equals :func:`surrogate` (IS-1 on each state): states and actions both come from π, so π's data estimates it.
    Each sampled action carries the ratio once, and the visitation form keeps its 1/(1 − γ); the notes' form draws
    a ~ π' and applies the ratio as well, without 1/(1 − γ), which is a different function of π' (TRPO-11).

    See Schulman et al. (2015), "Trust Region Policy Optimization", eq. 14 (sampling distribution q = π_old), and
    Kakade & Langford (2002), "Approximately Optimal Approximate Reinforcement Learning". Serves TRPO-11 (corrected),
    TRPO-12, STD-TRPO-3 (notes §TRPO, §IS).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] sampling policy π; π(a|s) > 0 wherever π'(a|s) > 0 (support).
        pi_new: [S, A] new policy π'.

    Returns:
        L_π(π') as a Python float.

    Raises:
        ValueError: if γ = 1, naming ``pi_old`` / ``pi_new`` if it is not an [S, A] array of distributions, or naming
            ``pi_old`` if it gives probability 0 to an action π' takes.
    """
    pi_old, pi_new = _policies(mdp, pi_old, pi_new)
    if np.any((pi_old == 0.0) & (pi_new > 0.0)):
        raise ValueError("pi_old: importance sampling needs pi_old(a|s) > 0 wherever pi_new(a|s) > 0")
    ratio = np.divide(pi_new, pi_old, out=np.zeros_like(pi_new), where=pi_old > 0.0)
    J, A, nu = _old_policy_terms(mdp, pi_old)
    return J + float(nu @ (pi_old * ratio * A).sum(axis=1)) / (1.0 - mdp.gamma)


def trpo_penalty_coefficient(mdp: TabularMDP, pi_old) -> float:
    """TRPO's penalty coefficient C = 4εγ/(1 − γ)², ε = max_{s,a} |A^π(s, a)| (needs γ < 1).

        J(π') ≥ L_π(π') − C · (max_s D_TV(π(·|s) ‖ π'(·|s)))² ≥ L_π(π') − C · max_s D_KL(π(·|s) ‖ π'(·|s))

    With this C, maximising L_π − C·D_KL^max never decreases J (the MM argument of TRPO's Algorithm 1).

    See Schulman et al. (2015), "Trust Region Policy Optimization", Theorem 1 and eq. 9. Serves STD-TRPO-1 and, as
    the only form with guaranteed improvement, TRPO-14 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] old policy π.

    Returns:
        C ≥ 0 as a Python float.

    Raises:
        ValueError: if γ = 1, or naming ``pi_old`` if it is not an [S, A] array of distributions.
    """
    (pi_old,) = _policies(mdp, pi_old)
    return _penalty(float(np.abs(advantages(mdp, pi_old)).max()), mdp.gamma)


class PerformanceBounds(NamedTuple):
    """Three lower bounds on J(π') from π's quantities (see :func:`performance_lower_bounds`)."""

    trpo_tv: float  # L_π(π') − C α², α = max_s D_TV
    trpo_kl: float  # L_π(π') − C D_KL^max
    cpo: float  # J(π) + E_{s~ν^π}[E_{a~π'}A^π − 2γε^{π'} D_TV(s)/(1 − γ)] / (1 − γ)


def performance_lower_bounds(mdp: TabularMDP, pi_old, pi_new) -> PerformanceBounds:
    """Lower bounds on J(π'): TRPO's Theorem 1 (max total variation), its KL corollary, and the CPO bound.

        trpo_tv = L_π(π') − C α²,  α = max_s D_TV(s),  D_TV(s) = ½ Σ_a |π'(a|s) − π(a|s)|,  C = 4γ max|A^π|/(1 − γ)²
        trpo_kl = L_π(π') − C max_s D_KL(π(·|s) ‖ π'(·|s))                                      (D_TV² ≤ D_KL)
        cpo     = J(π) + 1/(1 − γ) Σ_s ν^π(s) [Σ_a π'(a|s) A^π(s, a) − 2γ ε^{π'} D_TV(s) / (1 − γ)]
        ε^{π'}  = max_s |Σ_a π'(a|s) A^π(s, a)|

    Each is ≤ J(π') for every pair (π, π'); all three equal J(π) at π' = π. The CPO bound averages the divergence
    over ν^π instead of taking its maximum; with Pinsker and Jensen it gives the trust-region degradation bound
    (:func:`trust_region_degradation_bound`).

    See Schulman et al. (2015), "Trust Region Policy Optimization", Theorem 1 and eq. 9, and Achiam, Held, Tamar &
    Abbeel (2017), "Constrained Policy Optimization", Corollary 1 of Theorem 1. Serves STD-TRPO-1, STD-CPO-1 and
    TRPO-9 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] old policy π with every π(a|s) > 0 (a softmax policy), so the KL is finite.
        pi_new: [S, A] new policy π' with every π'(a|s) > 0.

    Returns:
        :class:`PerformanceBounds` ``(trpo_tv, trpo_kl, cpo)`` of Python floats.

    Raises:
        ValueError: if γ = 1, or naming ``pi_old`` / ``pi_new`` if it is not an [S, A] array of distributions with
            positive entries.
    """
    pi_old, pi_new = _policies(mdp, pi_old, pi_new, positive=True)
    gamma, (J, A, nu) = mdp.gamma, _old_policy_terms(mdp, pi_old)
    expected = (pi_new * A).sum(axis=1)
    L, C = J + float(nu @ expected) / (1.0 - gamma), _penalty(float(np.abs(A).max()), gamma)
    tv = _total_variation(pi_old, pi_new)
    kl = categorical_kl(np.log(pi_old), np.log(pi_new))
    penalised = expected - 2.0 * gamma * float(np.abs(expected).max()) * tv / (1.0 - gamma)
    cpo = J + float(nu @ penalised) / (1.0 - gamma)
    return PerformanceBounds(L - C * float(tv.max()) ** 2, L - C * float(kl.max()), cpo)


def mixture_lower_bound(mdp: TabularMDP, pi_old, pi_target, alpha: float) -> float:
    """The conservative-policy-iteration bound on J of the mixture π_α = (1 − α)π + απ̃ (needs γ < 1).

        J(π_α) ≥ L_π(π_α) − 2εγα² / (1 − γ)²,   ε = max_s |Σ_a π̃(a|s) A^π(s, a)|,   α ∈ [0, 1]

    L_π(π_α) = J(π) + α (L_π(π̃) − J(π)) is linear in α and the penalty quadratic, so for small α the mixture
    improves J whenever π̃ has a positive policy advantage.

    See Kakade & Langford (2002), "Approximately Optimal Approximate Reinforcement Learning", Theorem 4.1, as
    restated by Schulman et al. (2015), "Trust Region Policy Optimization", eq. 6. Serves STD-CPI-1 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] old policy π.
        pi_target: [S, A] policy π̃ mixed in.
        alpha: mixing weight α in [0, 1].

    Returns:
        The lower bound on J(π_α) as a Python float.

    Raises:
        ValueError: if γ = 1, naming ``pi_old`` / ``pi_target`` if it is not an [S, A] array of distributions, or
            naming ``alpha`` if it is not a real in [0, 1].
    """
    alpha = check_unit_interval("alpha", alpha)
    pi_old, pi_target = _policies(mdp, pi_old, pi_target, names=("pi_old", "pi_target"))
    epsilon = float(np.abs((pi_target * advantages(mdp, pi_old)).sum(axis=1)).max())
    mixture = (1.0 - alpha) * pi_old + alpha * pi_target
    return surrogate(mdp, pi_old, mixture) - 2.0 * epsilon * mdp.gamma * alpha**2 / (1.0 - mdp.gamma) ** 2


def trust_region_degradation_bound(mdp: TabularMDP, pi_old, pi_new, delta: float) -> float:
    """The worst case J(π') − J(π) ≥ −√(2δ) γ ε^{π'} / (1 − γ)² of a trust-region step (needs γ < 1).

        premise: E_{s~ν^π}[D_KL(s)] ≤ δ (either direction) and Σ_s ν^π(s) Σ_a π'(a|s) A^π(s, a) ≥ 0
        bound:   J(π') − J(π) ≥ −√(2δ) γ ε^{π'} / (1 − γ)²,   ε^{π'} = max_s |Σ_a π'(a|s) A^π(s, a)|

    From the CPO bound of :func:`performance_lower_bounds` with Pinsker (D_TV ≤ √(D_KL/2)) and Jensen. It bounds the
    loss, it does not rule it out: a KL-feasible step with positive surrogate gain can still decrease J (TRPO-14);
    only the penalised step with TRPO's C guarantees improvement.

    See Achiam, Held, Tamar & Abbeel (2017), "Constrained Policy Optimization", Proposition 1, for the update of
    Schulman et al. (2015), "Trust Region Policy Optimization", eq. 12. Serves TRPO-14 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi_old: [S, A] old policy π.
        pi_new: [S, A] new policy π' (the premise is the caller's to check).
        delta: the trust-region radius δ ≥ 0 of the average KL.

    Returns:
        The bound on J(π') − J(π) (≤ 0) as a Python float.

    Raises:
        ValueError: if γ = 1, naming ``pi_old`` / ``pi_new`` if it is not an [S, A] array of distributions, or naming
            ``delta`` if it is not a finite real ≥ 0.
    """
    delta = check_real("delta", delta, minimum=0.0)
    pi_old, pi_new = _policies(mdp, pi_old, pi_new)
    epsilon_new = float(np.abs((pi_new * advantages(mdp, pi_old)).sum(axis=1)).max())
    return -math.sqrt(2.0 * delta) * mdp.gamma * epsilon_new / (1.0 - mdp.gamma) ** 2


def _penalty(epsilon: float, gamma: float) -> float:
    """C = 4εγ/(1 − γ)²."""
    return 4.0 * epsilon * gamma / (1.0 - gamma) ** 2


def _old_policy_terms(mdp: TabularMDP, pi_old: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """J(π) = ν0ᵀV^π, A^π = R + γPV^π − V^π and ν^π from one value solve and one visitation solve."""
    V = state_values(mdp, pi_old)
    return float(mdp.nu0 @ V), mdp.R + mdp.gamma * mdp.P @ V - V[:, None], state_visitation(mdp, pi_old)


def _total_variation(pi_old: np.ndarray, pi_new: np.ndarray) -> np.ndarray:
    """D_TV(s) = ½ Σ_a |π'(a|s) − π(a|s)| for every state."""
    return 0.5 * np.abs(pi_new - pi_old).sum(axis=1)


def _policies(mdp: TabularMDP, *policies, names=("pi_old", "pi_new"), positive: bool = False) -> list[np.ndarray]:
    """Validate each policy with :meth:`TabularMDP.check_policy`, the error naming the argument; refuse γ = 1 first."""
    require_discounting(mdp)
    checked = []
    for name, pi in zip(names, policies, strict=False):
        try:
            pi = mdp.check_policy(pi)
        except ValueError as error:
            raise ValueError(f"{name}: {str(error).removeprefix('pi: ')}") from None
        if positive and np.any(pi <= 0.0):
            raise ValueError(f"{name}: the KL bound needs every probability > 0 (a softmax policy)")
        checked.append(pi)
    return checked
