"""The notes' printed PPO objectives and value clip that are wrong (claims PPO-8, PPO-9,
PPO-10, PPO-17), each refuted three ways: the teaching counterexample with its exact numbers (TC-13, M5, TC-15), a
property pinned to it with ``@example`` that says what the printed form computes instead, and a ``hypothesis.find``
search that must come back with a counterexample of its own. The corrected forms are checked on lineage's functions.

The objectives live on a batch of one-step states (bandits): there A^π(s, a) = Q(s, a) − Σ_b π(b|s)Q(s, b) with Q
fixed, so the advantage of any policy is known exactly. Gradients are in the new policy's logits, by autograd at
θ = θ_k unless said otherwise; a state's terms are weighted 1/S.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, find, given

from lineage.laws.cases.losses import ValueCase, value_cases
from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import clip_value, probability_ratio
from properties.assertions import assert_identity
from properties.ppo_strategies import (
    DIFFERENT,
    EPS,
    SEARCH,
    TC15,
    CategoricalBatch,
    categorical_batches,
    gradient,
    tensor,
)

Objective = Callable[[CategoricalBatch, torch.Tensor], torch.Tensor]


def corrected_surrogate(batch: CategoricalBatch, logits: torch.Tensor) -> torch.Tensor:
    """E_{s, a~π_k}[ρ·A^{π_k}(s, a)] with lineage's ratio ρ = π_θ/π_k: one sample per action, weighted by π_k/S."""
    states, actions = batch.every_action()
    logp_new = torch.log_softmax(logits, dim=-1)[states, actions]
    logp_old = torch.log_softmax(tensor(batch.logits_old), dim=-1)[states, actions]
    ratio = probability_ratio(logp_new, logp_old)
    return (batch.weights() * ratio * batch.advantages().reshape(-1)).sum()


def printed_basic(batch: CategoricalBatch, logits: torch.Tensor) -> torch.Tensor:
    """PPO-8 as printed: E_{s, a~π_θ}[π_θ(a|s)·A(s, a)] = Σ_s Σ_a π_θ² A / S (A of the old policy)."""
    pi = torch.softmax(logits, dim=-1)
    return (pi**2 * batch.advantages()).sum() / batch.shape[0]


def printed_intermediate(batch: CategoricalBatch, logits: torch.Tensor) -> torch.Tensor:
    """PPO-9 as printed: E_{s, a~π_k}[π_θ(a|s)·A(s, a)] = Σ_s Σ_a π_k π_θ A / S."""
    pi = torch.softmax(logits, dim=-1)
    return (batch.pi_old() * pi * batch.advantages()).sum() / batch.shape[0]


def printed_importance_sampled(batch: CategoricalBatch, logits: torch.Tensor) -> torch.Tensor:
    """PPO-10 as printed: E_{s, a~π_k}[ρ·A^{π_θ}(s, a)], with the advantage of the policy being optimised."""
    pi = torch.softmax(logits, dim=-1)
    q = tensor(batch.q_values)
    own_advantage = q - (pi * q).sum(dim=-1, keepdim=True)
    return (batch.pi_old() * pi / batch.pi_old() * own_advantage).sum() / batch.shape[0]


def value_and_gradient(
    objective: Objective, batch: CategoricalBatch, *, at_old: bool = True
) -> tuple[float, np.ndarray]:
    """The objective and its gradient in the logits, at θ_k (or at the batch's new logits)."""
    logits = tensor(batch.logits_old if at_old else batch.logits_new, grad=True)
    value = objective(batch, logits)
    return value.item(), gradient(value, logits).numpy()


def atol(batch: CategoricalBatch) -> float:
    """Sums over ≤ 12 pairs of terms ≤ M² (probability products times advantages, log-ratios inside ρ)."""
    return scaled_tolerance(EPS, batch.magnitude() ** 2, math.prod(batch.shape))


def gradients_differ(objective: Objective) -> Callable[[CategoricalBatch], bool]:
    """Whether the objective's gradient at θ_k differs from the corrected surrogate's (lineage's ratio) by more
    than ``DIFFERENT``."""

    def differ(batch: CategoricalBatch) -> bool:
        printed, corrected = value_and_gradient(objective, batch)[1], value_and_gradient(corrected_surrogate, batch)[1]
        return bool(np.abs(printed - corrected).max() > DIFFERENT)

    return differ


def policy_gradient_miss(objective: Objective, batch: CategoricalBatch) -> float:
    """max |∇ objective − π⊙A/S| at θ_k: how far the objective's gradient is from the policy gradient's closed form."""
    return float(np.abs(value_and_gradient(objective, batch)[1] - batch.policy_gradient().numpy()).max())


# TC-13: one state, π_k = (0.8, 0.2), A = (0.2, −0.8) (zero mean under π_k).
TC13 = CategoricalBatch([[math.log(0.8), math.log(0.2)]], [[math.log(0.8), math.log(0.2)]], [[0.2, -0.8]])
# M5: π_k = (0.5, 0.5), π_θ = (0.9, 0.1), A^{π_k} = (1, −1).
M5 = CategoricalBatch([[0.0, 0.0]], [[math.log(0.9), math.log(0.1)]], [[1.0, -1.0]])
ON_OLD_POLICY = categorical_batches(new_equals_old=True)


# ------------------------------------------------------------------------------------------------
# PPO-8: the "most basic PPO" objective puts π_θ inside an expectation already over π_θ.
# ------------------------------------------------------------------------------------------------
@pytest.mark.refutes("PPO-8")
def test_basic_objective_teaching_counterexample_tc13():
    """PPO-8 (notes §PPO, TC-13): π_k = (0.8, 0.2), A = (0.2, −0.8). At θ_k the printed E_{π_θ}[π_θ A] is 0.096 with
    gradient 0.1024 in logit 0; the corrected E_{π_θ}[A^{π_k}] (lineage's ratio under π_k) is 0 with gradient 0.16.
    At the uniform two-action policy the two gradients coincide, which is why the tests draw non-uniform ones."""
    printed, printed_grad = value_and_gradient(printed_basic, TC13)
    correct, correct_grad = value_and_gradient(corrected_surrogate, TC13)
    assert (printed, printed_grad[0, 0]) == (pytest.approx(0.096, abs=1e-15), pytest.approx(0.1024, abs=1e-15))
    assert (correct, correct_grad[0, 0]) == (pytest.approx(0.0, abs=1e-15), pytest.approx(0.16, abs=1e-15))
    uniform = CategoricalBatch([[0.0, 0.0]], [[0.0, 0.0]], [[1.0, -1.0]])
    np.testing.assert_allclose(value_and_gradient(printed_basic, uniform)[1], uniform.policy_gradient(), atol=1e-15)


@pytest.mark.refutes("PPO-8")
@given(batch=ON_OLD_POLICY)
@example(batch=TC13)
def test_basic_objective_is_the_squared_policy_form(batch):
    """PPO-8 (notes §PPO): the printed objective is Σ_a π_θ² A; at θ_k its gradient is 2π⊙(π⊙A − Σπ²A)/S, not the
    policy gradient π⊙A/S — which the corrected E_{π_θ}[A^{π_k}] = E_{π_k}[ρA^{π_k}] (lineage's ratio) does give."""
    pi, adv = batch.pi_old(), batch.advantages()
    value, grad = value_and_gradient(printed_basic, batch)
    tol = atol(batch)
    assert_identity(value, float((pi**2 * adv).sum()) / batch.shape[0], atol=tol, what="printed value")
    squared = (pi**2 * adv).sum(dim=-1, keepdim=True)
    assert_identity(grad, (2 * pi * (pi * adv - squared) / batch.shape[0]).numpy(), atol=tol, what="printed gradient")
    _, correct_grad = value_and_gradient(corrected_surrogate, batch)
    assert_identity(correct_grad, batch.policy_gradient().numpy(), atol=tol, what="corrected gradient vs PG")


@pytest.mark.refutes("PPO-8")
def test_basic_objective_search_finds_a_counterexample():
    """PPO-8: hypothesis.find must come back with a policy where the printed objective's gradient at θ_k misses that of
    lineage's surrogate, and there it must miss the closed-form policy gradient π⊙A/S."""
    found = find(ON_OLD_POLICY, gradients_differ(printed_basic), settings=SEARCH)
    assert policy_gradient_miss(printed_basic, found) > DIFFERENT, found


# ------------------------------------------------------------------------------------------------
# PPO-9: the intermediate E_{a~π_k}[π_θ A] keeps π_θ after changing the sampling distribution.
# ------------------------------------------------------------------------------------------------
@pytest.mark.refutes("PPO-9")
def test_intermediate_objective_teaching_counterexample():
    """PPO-9 (notes §PPO), on TC-13's numbers: at θ_k the printed Σ_a π_k π_θ A is 0.096 with gradient 0.0512 in
    logit 0, against 0 and 0.16 for the surrogate it is meant to approximate."""
    value, grad = value_and_gradient(printed_intermediate, TC13)
    assert (value, grad[0, 0]) == (pytest.approx(0.096, abs=1e-15), pytest.approx(0.0512, abs=1e-15))
    correct, correct_grad = value_and_gradient(corrected_surrogate, TC13)
    assert (correct, correct_grad[0, 0]) == (pytest.approx(0.0, abs=1e-15), pytest.approx(0.16, abs=1e-15))


@pytest.mark.refutes("PPO-9")
@given(batch=categorical_batches())
@example(batch=TC13)
def test_intermediate_objective_misses_the_surrogate_by_the_unsampled_mass(batch):
    """PPO-9 (notes §PPO): for any θ, Σ_a π_k π_θ A − Σ_a π_θ A^{π_k} = −Σ_a (1 − π_k) π_θ A (per state, /S) — not 0 in
    general; the corrected surrogate is lineage's E_{π_k}[ρA^{π_k}]. At θ_k the printed gradient is
    π_k⊙(π_k⊙A − Σπ_k²A)/S."""
    pi_new = torch.softmax(tensor(batch.logits_new), dim=-1)
    pi_old, adv = batch.pi_old(), batch.advantages()
    printed, _ = value_and_gradient(printed_intermediate, batch, at_old=False)
    correct, _ = value_and_gradient(corrected_surrogate, batch, at_old=False)
    missing = -float(((1 - pi_old) * pi_new * adv).sum()) / batch.shape[0]
    tol = atol(batch)
    assert_identity(printed - correct, missing, atol=tol, what="printed minus corrected surrogate")
    _, grad = value_and_gradient(printed_intermediate, batch)
    squared = (pi_old**2 * adv).sum(dim=-1, keepdim=True)
    expected = pi_old * (pi_old * adv - squared) / batch.shape[0]
    assert_identity(grad, expected.numpy(), atol=tol, what="printed gradient at θ_k")


@pytest.mark.refutes("PPO-9")
def test_intermediate_objective_search_finds_a_counterexample():
    """PPO-9: hypothesis.find must come back with (π_k, π_θ, A) where Σ_a π_k π_θ A ≠ Σ_a π_θ A^{π_k}."""

    def differs(batch: CategoricalBatch) -> bool:
        printed = value_and_gradient(printed_intermediate, batch, at_old=False)[0]
        return abs(printed - value_and_gradient(corrected_surrogate, batch, at_old=False)[0]) > DIFFERENT

    found = find(categorical_batches(), differs, settings=SEARCH)
    assert differs(found), found


# ------------------------------------------------------------------------------------------------
# PPO-10: the importance-sampled objective needs the old policy's advantage.
# ------------------------------------------------------------------------------------------------
@pytest.mark.refutes("PPO-10")
def test_importance_sampled_objective_teaching_counterexample_m5():
    """PPO-10 (notes §PPO, M5): π_k = (0.5, 0.5), π_θ = (0.9, 0.1), A^{π_k} = (1, −1). The corrected
    E_{π_k}[ρA^{π_k}] is 0.9 − 0.1 = 0.8; with the printed A^{π_θ} = Q − Σπ_θQ = (0.2, −1.8) it is 0. At θ_k the
    printed gradient is 0, the policy gradient (0.5, −0.5)."""
    correct, _ = value_and_gradient(corrected_surrogate, M5, at_old=False)
    printed, _ = value_and_gradient(printed_importance_sampled, M5, at_old=False)
    assert (correct, printed) == (pytest.approx(0.8, abs=1e-15), pytest.approx(0.0, abs=1e-15))
    np.testing.assert_allclose(value_and_gradient(printed_importance_sampled, M5)[1], [[0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(value_and_gradient(corrected_surrogate, M5)[1], [[0.5, -0.5]], atol=1e-15)


@pytest.mark.refutes("PPO-10")
def test_importance_sampled_objective_search_finds_a_counterexample():
    """PPO-10: hypothesis.find must come back with a batch where the printed objective's gradient at θ_k (0) misses that
    of lineage's surrogate, and there it must miss the closed-form policy gradient π⊙A/S."""
    found = find(ON_OLD_POLICY, gradients_differ(printed_importance_sampled), settings=SEARCH)
    assert policy_gradient_miss(printed_importance_sampled, found) > DIFFERENT, found


@pytest.mark.refutes("PPO-10")
@pytest.mark.claim("PPO-10")
@given(batch=categorical_batches())
@example(batch=M5)
def test_importance_sampled_objective_needs_the_old_advantage(batch):
    """PPO-10 (notes §PPO): with A^{π_θ} the printed E_{π_k}[ρA^{π_θ}] = Σ_a π_θ(Q − Σ_b π_θ Q) is 0 for every θ, and
    so is its gradient: an advantage with zero mean under the policy being optimised carries no signal (and is not
    known from π_k's data in the first place). Corrected, E_{a~π_k}[(π_θ/π_k)·A^{π_k}] with lineage's ratio equals
    Σ_a π_θ A^{π_k} for every θ (L^CPI, reusable on π_k's data as a surrogate), with the policy gradient at θ_k."""
    tol = atol(batch)
    printed, printed_grad = value_and_gradient(printed_importance_sampled, batch, at_old=False)
    assert_identity(printed, 0.0, atol=tol, what="printed objective")
    assert_identity(printed_grad, 0.0, atol=tol, what="printed gradient")
    value, _ = value_and_gradient(corrected_surrogate, batch, at_old=False)
    pi_new = torch.softmax(tensor(batch.logits_new), dim=-1)
    expected = float((pi_new * batch.advantages()).sum()) / batch.shape[0]
    assert_identity(value, expected, atol=tol, what="E_{π_k}[ρA^{π_k}] vs Σ π_θ A^{π_k}")
    _, grad = value_and_gradient(corrected_surrogate, batch)
    assert_identity(grad, batch.policy_gradient().numpy(), atol=tol, what="gradient at θ_k vs PG")


# ------------------------------------------------------------------------------------------------
# PPO-17: the value clip printed with its bounds swapped.
# ------------------------------------------------------------------------------------------------


def printed_value_clip(case: ValueCase) -> list[Fraction]:
    """clip(V_new, V_old + ε, V_old − ε) with the notes' clip(x, l, r) = max(min(x, r), l), exactly."""
    eps = Fraction(case.clip_eps)
    return [
        max(min(Fraction(v), Fraction(o) - eps), Fraction(o) + eps)
        for v, o in zip(case.values_new, case.values_old, strict=True)
    ]


def lineage_value_clip(case: ValueCase) -> list[float]:
    return clip_value(case.values_new, case.values_old, clip_eps=case.clip_eps).tolist()


@pytest.mark.refutes("PPO-17")
def test_value_clip_teaching_counterexample_tc15():
    """PPO-17 (notes §PPO, TC-15): V_old = 0, ε = 0.2, V_new = 0: the printed clip gives 0.2, lineage's 0."""
    assert printed_value_clip(TC15) == [Fraction(0.2)]
    assert lineage_value_clip(TC15) == [0.0]


@pytest.mark.refutes("PPO-17")
@given(case=value_cases())
@example(case=TC15)
def test_printed_value_clip_is_a_constant(case):
    """PPO-17 (notes §PPO): with l = V_old + ε > r = V_old − ε the printed clip is V_old + ε for every V_new (exact
    arithmetic). numpy and torch, which apply the upper bound last, give the other constant V_old − ε."""
    eps = Fraction(case.clip_eps)
    assert printed_value_clip(case) == [Fraction(o) + eps for o in case.values_old]
    old = np.array(case.values_old)
    library = np.clip(np.array(case.values_new), old + case.clip_eps, old - case.clip_eps)
    assert np.array_equal(library, old - case.clip_eps)


@pytest.mark.refutes("PPO-17")
def test_value_clip_search_finds_a_counterexample():
    """PPO-17: hypothesis.find must come back with values where the printed clip and lineage's differ."""

    def differs(case: ValueCase) -> bool:
        return [float(x) for x in printed_value_clip(case)] != lineage_value_clip(case)

    found = find(value_cases(), differs, settings=SEARCH)
    assert differs(found), found
