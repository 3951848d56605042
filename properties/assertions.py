"""The helpers every tabular property shares: assertions with their tolerances (float64 rounding of an exact
solve), the horizon of a truncated geometric series, and exact enumeration of the episodes of an absorbing MDP.

The strategies are constructive: every draw is valid by construction (positive weights normalised into
distributions, upper-triangular transitions for episodic MDPs), so nothing is filtered with ``assume``.
Arrays stay tiny (S ≤ 5, A ≤ 4) because every oracle is an exact solve, series or enumeration.
"""

from __future__ import annotations

import math

import numpy as np

from lineage.laws.tolerance import ROUNDING_FACTOR, value_scale
from lineage.tabular import TabularMDP, Trajectories, enumerate_trajectories

# --------------------------------------------------------------------------------------------------------
# Tolerances and exact references shared by the properties
# --------------------------------------------------------------------------------------------------------

EPS = np.finfo(np.float64).eps
DISTRIBUTION_ATOL = 1e-12  # probabilities are O(1) and cond(I − γP_π) ≤ (1 + γ)/(1 − γ) ≤ 39


def value_atol(mdp: TabularMDP) -> float:
    """Absolute tolerance for values, objectives and gradients: 1e-9 · R_max / (1 − γ), from the drawn rewards."""
    return 1e-9 * value_scale(mdp.R, mdp.gamma)


def solve_tolerance(mdp: TabularMDP, atol: float | None = None) -> dict[str, float]:
    """:func:`assert_identity`'s ``atol`` and ``rtol`` for a result of an exact linear solve on the MDP: ``atol``
    (default :func:`value_atol`), and rtol = 8·eps·n·κ for n ≤ S·A unknowns (the state-action chain's solve; the
    state chain's has S) at a condition number κ ≤ (1 + γ)/(1 − γ) in the ∞-norm (the kernel is row-stochastic)."""
    condition = (1.0 + mdp.gamma) / (1.0 - mdp.gamma)
    rtol = ROUNDING_FACTOR * EPS * mdp.R.size * condition
    return {"atol": value_atol(mdp) if atol is None else atol, "rtol": rtol}


def assert_identity(actual, desired, *, atol: float, what: str, rtol: float = ROUNDING_FACTOR * EPS) -> None:
    """An exact identity up to rounding, values in the message: |actual − desired| ≤ atol + rtol·|desired|. The
    relative part is float64 rounding: by default 8·eps, a few correctly rounded operations; a linear solve passes
    its own (:func:`solve_tolerance`)."""
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=what)


def assert_at_least(lhs, rhs, *, atol: float, what: str) -> None:
    """An inequality ``lhs >= rhs`` up to an absolute ``atol`` (never a relative tolerance on a bound)."""
    lhs, rhs = np.broadcast_arrays(np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float))
    worst = np.unravel_index(np.argmin(lhs - rhs), lhs.shape) if lhs.ndim else ()
    assert np.all(lhs >= rhs - atol), (
        f"{what}: lhs < rhs - {atol:.3g}; worst at {worst}: lhs = {lhs[worst]!r}, rhs = {rhs[worst]!r}\n"
        f"lhs = {lhs!r}\nrhs = {rhs!r}"
    )


def series_horizon(gamma: float, bound: float, tol: float = 1e-12) -> int:
    """The smallest K ≥ 1 with γ^K · bound < tol: a series Σ_t γ^t x_t with |Σ_{t≥K} γ^t x_t| ≤ γ^K · bound
    is then exact to ``tol`` when truncated after K terms."""
    if gamma == 0.0 or bound < tol:
        return 1
    horizon = max(1, math.floor(math.log(tol / bound) / math.log(gamma)) + 1)
    assert gamma**horizon * bound < tol, (gamma, bound, horizon)
    return horizon


def episodes(mdp: TabularMDP, pi) -> Trajectories:
    """Every path of an ``episodic_mdps`` MDP up to absorption (S − 1 steps), with its probability."""
    return enumerate_trajectories(mdp, pi, mdp.n_states - 1)


def expected_discounted_sum(paths: Trajectories, per_step: np.ndarray, gamma: float) -> float:
    """E_τ[Σ_t γ^t x_t] over enumerated paths, for ``per_step[n, t]`` = x_t on path n."""
    discounts = gamma ** np.arange(per_step.shape[1])
    return float(paths.expectation(per_step @ discounts))


def log_scale(*policies) -> float:
    """Σ over autoregressive ``policies`` (lineage.rlhf.AutoregressivePolicy) of L·max|log p(v | prefix)|: bounds
    the summed |log-probabilities| of any response (a difference of logs rounds with their size, not with the size
    of the difference)."""
    return sum(p.length * float(np.abs(np.log(p.conditionals)).max()) for p in policies)
