"""The Fisher matrix of a softmax policy as the Hessian of the KL at the old policy (STD-NG-1), on lineage's own KL and
Fisher block evaluated on symbols.

A 3-action softmax is written with x_a = e^{θ_a}, as in ``test_ppo.py``: lineage gets the logits θ_a = log x_a,
p_a = x_a / Σ_b x_b, and ∂/∂θ_a = x_a·∂/∂x_a. The old policy's logits are log k_a. The derivatives are taken with
every x_a and k_a symbolic, then evaluated at θ = θ_old on the simplex: x = k = (p_0, p_1, 1 − p_0 − p_1), a generic
old policy (a constant added to all logits changes neither policy nor KL, so the weights may sum to 1). There the
logarithms cancel and every residual is a polynomial fraction in p_0, p_1 that ``cancel`` decides. The symbols carry
no assumptions: SymPy's assumption queries would dominate the differentiation time.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lineage import ppo
from lineage.tabular import categorical_fisher

from .residual import assert_vanishes

ACTIONS = range(3)
X = sp.symbols("x_0:3")  # e^{θ_a} of the new policy
X_OLD = sp.symbols("k_0:3")  # e^{θ_old,a} of the old policy
P_FREE = sp.symbols("p_0:2")
P_OLD = (P_FREE[0], P_FREE[1], 1 - P_FREE[0] - P_FREE[1])  # the old policy, a generic point of the simplex


def logits(weights) -> np.ndarray:
    """The logits log x_a as lineage's [1, 3] input."""
    return np.array([[sp.log(w) for w in weights]], dtype=object)


def logit_derivative(expr: sp.Expr, a: int) -> sp.Expr:
    """∂ expr / ∂θ_a = x_a·∂ expr / ∂x_a."""
    return X[a] * sp.diff(expr, X[a])


def at_old_policy(expr: sp.Expr) -> sp.Expr:
    """θ = θ_old = log p: x_a ↦ p_a."""
    return expr.subs(dict(zip(X, P_OLD, strict=True)))


@pytest.mark.claim("STD-NG-1")
@pytest.mark.parametrize("direction", ["KL(π_old ‖ π_θ)", "KL(π_θ ‖ π_old)"])
def test_kl_hessian_at_the_old_policy_is_the_fisher_matrix(direction: str) -> None:
    """STD-NG-1 (notes §TRPO): for lineage's categorical KL of a 3-action softmax, in either direction, the gradient in
    θ vanishes at θ = θ_old and the Hessian there is diag(p) − ppᵀ with p = π_old, which is lineage's Fisher block
    ``categorical_fisher(p)`` (so KL ≈ ½ΔᵀFΔ, TRPO Appendix C)."""
    old, new = logits(X_OLD), logits(X)
    kl = (ppo.categorical_kl(old, new) if direction.startswith("KL(π_old") else ppo.categorical_kl(new, old))[0]
    kl = sp.expand_log(kl, force=True)  # log of a product or ratio of positive weights: a sum of logs
    kl = kl.subs(dict(zip(X_OLD, P_OLD, strict=True)))  # θ_old = log p; only θ is differentiated
    p = P_OLD
    fisher = categorical_fisher(np.array(p, dtype=object))
    for a in ACTIONS:
        first = logit_derivative(kl, a)
        assert_vanishes(at_old_policy(first), f"STD-NG-1: ∂{direction}/∂θ_{a} at θ_old")
        for b in ACTIONS:
            closed_form = (p[a] if a == b else 0) - p[a] * p[b]
            assert_vanishes(fisher[a, b] - closed_form, f"STD-NG-1: lineage's F(p)[{a}, {b}] vs diag(p) − ppᵀ")
            if b >= a:  # the Hessian is symmetric: the entries above the diagonal stand for those below
                second = at_old_policy(logit_derivative(first, b))
                assert_vanishes(second - closed_form, f"STD-NG-1: ∂²{direction}/∂θ_{a}∂θ_{b} at θ_old vs diag(p) − ppᵀ")
