"""The critic's loss gradient with a stop-gradient target (AC-15, AC-16), derived for a linear critic V_w(s) = wᵀφ(s)
with two features and set against lineage's ``critic_loss_gradient`` and ``linear_critic_update`` evaluated on
symbols. The notes print the gradient with a spurious factor r; TC-5 is the witness."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lineage.actor_critic import critic_loss_gradient, linear_critic_update

from .residual import GAMMA, assert_vanishes, symbolic_array

W = sp.symbols("w_0:2", real=True)
PHI = sp.symbols("phi_0:2", real=True)  # φ(s_t)
PHI_NEXT = sp.symbols("psi_0:2", real=True)  # φ(s_{t+1})
R, Y = sp.symbols("r y", real=True)
ALPHA = sp.Symbol("alpha", positive=True)
TEACHING_GAMMA = sp.Rational(9, 10)


def linear_value(features) -> sp.Expr:
    return sp.Add(*(w * f for w, f in zip(W, features, strict=True)))


def lineage_gradient(terminated: bool = False) -> list[sp.Expr]:
    """lineage's ∇_w L for the one transition (r; φ(s_t), φ(s_{t+1})) on symbols."""
    got = critic_loss_gradient(
        symbolic_array([R]),
        symbolic_array([linear_value(PHI)]),
        symbolic_array([linear_value(PHI_NEXT)]),
        np.array([terminated]),
        np.array([[sp.sympify(f) for f in PHI]], dtype=object),
        gamma=GAMMA,
    )
    return list(got)


def td_error(terminated: bool = False) -> sp.Expr:
    bootstrap = 0 if terminated else GAMMA * linear_value(PHI_NEXT)
    return R + bootstrap - linear_value(PHI)


@pytest.mark.claim("AC-15", "AC-16")
@pytest.mark.parametrize("terminated", [False, True])
def test_stop_gradient_derivative_is_minus_delta_grad_v(terminated):
    """AC-15, AC-16 (notes §TD): differentiating ½(y − V_w(s_t))² with the target y a constant and then putting
    y = r + γV_w(s_{t+1}) (0 bootstrap after a termination) gives −δ∇_w V_w(s_t), and lineage's loss gradient is
    exactly that; the update is w + αδφ(s_t). Differentiating ½δ² with the target too (the residual gradient) adds
    γδ∇_w V_w(s_{t+1}) when the step bootstraps."""
    target = R if terminated else R + GAMMA * linear_value(PHI_NEXT)
    loss = sp.Rational(1, 2) * (Y - linear_value(PHI)) ** 2
    semi = [sp.diff(loss, w).subs(Y, target) for w in W]
    delta = td_error(terminated)
    for k, (got, derived) in enumerate(zip(lineage_gradient(terminated), semi, strict=True)):
        assert_vanishes(derived + delta * PHI[k], f"AC-16: ∂L/∂w_{k} vs −δφ_{k}")
        assert_vanishes(got - derived, f"AC-16: lineage's ∂L/∂w_{k} vs the stop-gradient derivative")
    updated = linear_critic_update(
        symbolic_array(W),
        np.array([[sp.sympify(f) for f in PHI]], dtype=object),
        np.array([[sp.sympify(f) for f in PHI_NEXT]], dtype=object),
        symbolic_array([R]),
        np.array([terminated]),
        gamma=GAMMA,
        step_size=ALPHA,
    )
    for k in range(2):
        assert_vanishes(updated[k] - (W[k] + ALPHA * delta * PHI[k]), f"AC-15: w_{k} ← w_{k} + αδφ_{k}")
    residual = [sp.diff(sp.Rational(1, 2) * delta**2, w) for w in W]
    for k in range(2):
        extra = 0 if terminated else GAMMA * delta * PHI_NEXT[k]
        assert_vanishes(residual[k] - semi[k] - extra, f"AC-16: residual gradient − semi-gradient, w_{k}")


@pytest.mark.refutes("AC-16")
def test_printed_gradient_has_a_spurious_reward_factor():
    """AC-16 (notes §TD): the printed −r·δ·∇_w V_w(s_t) is not lineage's gradient; the residual is (1 − r)δφ(s_t),
    which is 0.9 ≠ 0 at TC-5 (r = 0, V(s') = 1, V(s) = 0, γ = 0.9 with φ(s) = (0, 1), φ(s') = (1, 0),
    w = (1, 0)), where the correct gradient is (0, −0.9) and the printed one 0."""
    delta = td_error()
    witness = {R: 0, GAMMA: TEACHING_GAMMA, W[0]: 1, W[1]: 0, PHI[0]: 0, PHI[1]: 1, PHI_NEXT[0]: 1, PHI_NEXT[1]: 0}
    got = lineage_gradient()
    assert [g.subs(witness) for g in got] == [0, -TEACHING_GAMMA]
    for k in range(2):
        printed = -R * delta * PHI[k]
        assert_vanishes(printed - got[k] - (1 - R) * delta * PHI[k], f"AC-16: printed − lineage = (1 − r)δφ_{k}")
    at_witness = (-R * delta * PHI[1] - got[1]).subs(witness)
    assert at_witness == TEACHING_GAMMA, f"AC-16: at TC-5 the printed form misses lineage's by {at_witness}, not 0.9"
