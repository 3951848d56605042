"""The oracle against sb3-contrib's conjugate-gradient solver (sb3-contrib 2.9.0, torch 2.13), and the solver against
lineage's CG within a tolerance reasoned from its residual tolerance.

Tianshou 2.0.1's TRPO line search is written inline in ``TRPO._update_with_batch`` (no function to drive without a
whole algorithm, policy and batch); its failure branch already restores ``flat_params`` in 2.0.1 (the PR #1287 fix), and
the bug as it was is the zoo entry ``tianshou_line_search_keeps_rejected_step``, caught by
``trpo_line_search.failed_search_returns_old_parameters``.
"""

import numpy as np
import torch
from sb3_contrib.common.utils import conjugate_gradient_solver

from lineage.optim.conjugate_gradient import conjugate_gradient
from lineage.oracle import check

RANDOM_START = (
    "starts from x_0 = 1e-4·N(0, I) instead of 0: r_0 = b − A x_0 ≠ b, and on b = 0 the solution x* = 0 is only "
    "reached to the rounding of x_0"
)
ZERO_RESIDUAL = (
    "stops on ‖r‖² < residual_tol (strict): with residual_tol = 0 an exactly vanishing residual goes on to β = 0, "
    "p = 0 and α = 0/0 = nan (the contract stops at ‖r‖² ≤ tol)"
)


def statuses(report) -> dict[str, str]:
    return {result.law.partition(".")[2]: result.status for result in report.results}


def test_sb3_contrib_cg_in_float32():
    """Expected failures, each traced to one of two causes. Minimal counterexamples: solves_spd_systems on
    LinearSystem(matrix=[[1.0]], b=[0.0], iters=1, tol=0) → [nan] (the residual is exactly 0 after one step);
    a_norm_error_never_grows → nan likewise; residuals_are_orthogonal on A = [[9.67, −1.70], [−1.70, 1.33]],
    b = [0, 1]: r_0ᵀr_1 = 0.00197 (r_0 is b − A x_0, not b); k_distinct_eigenvalues_take_k_steps on A = [[31.6]],
    b = [0]: ‖x_1 − 0‖_A = 8.2e-11 from x_0."""
    reasons = {
        "solves_spd_systems": ZERO_RESIDUAL,
        "a_norm_error_never_grows": ZERO_RESIDUAL,
        "residuals_are_orthogonal": RANDOM_START,
        "k_distinct_eigenvalues_take_k_steps": RANDOM_START,
    }
    report = check(
        "conjugate_gradient",
        conjugate_gradient_solver,
        convention="sb3-contrib",
        profile="oracle-quick",
        expected_failures=reasons,
    )
    assert statuses(report) == dict.fromkeys(reasons, "expected failure"), report.render()
    assert report.ok


def test_sb3_contrib_cg_in_float64():
    """As in float32, except that the A-norm error's search meets no exactly vanishing residual."""
    reasons = {
        "solves_spd_systems": ZERO_RESIDUAL,
        "residuals_are_orthogonal": RANDOM_START,
        "k_distinct_eigenvalues_take_k_steps": RANDOM_START,
    }
    report = check(
        "conjugate_gradient",
        conjugate_gradient_solver,
        convention="sb3-contrib",
        dtype="float64",
        profile="oracle-quick",
        expected_failures=reasons,
    )
    assert statuses(report) == {**dict.fromkeys(reasons, "expected failure"), "a_norm_error_never_grows": "passed"}
    assert report.ok


def test_sb3_contrib_cg_agrees_with_lineage_within_its_residual_tolerance():
    """With its default residual_tol = 1e-10 the solver stops once ‖r‖² < 1e-10, i.e. ‖b − A x‖ < 1e-5, so
    ‖x − x*‖ ≤ ‖A⁻¹‖·1e-5 (plus float64 rounding); lineage's CG with the same tolerance is within the same bound of x*,
    hence the two within 2·‖A⁻¹‖·1e-5 of each other (here ‖A⁻¹‖ = 1/λ_min = 10)."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    a = q @ np.diag([0.1, 0.3, 1.0, 2.0, 5.0, 10.0]) @ q.T
    b = rng.standard_normal(6)
    a_t, b_t = torch.tensor(a), torch.tensor(b)
    torch.manual_seed(0)
    theirs = conjugate_gradient_solver(lambda v: a_t @ v, b_t, max_iter=30, residual_tol=1e-10).numpy()
    ours = conjugate_gradient(lambda v: a @ v, b, iters=30, tol=1e-10)
    bound = 2 * 10 * 1e-5
    assert np.linalg.norm(theirs - ours) <= bound
    assert np.linalg.norm(ours - np.linalg.solve(a, b)) <= bound / 2
