"""PPO-penalty, E[ρA − β·KL(π_old ‖ π_θ)], and the adaptive β (notes §PPO; claims PPO-3, PPO-4, STD-PPO-1), on
lineage's torch implementation in float64; the family-free form from per-sample log-probabilities and KLs
(``penalized_surrogate_from_kl``, the Gaussian policies' loss) is held to the categorical form and to its
formula. Expectations over a ~ π_old are exact: one sample per action of each state of a small batch, weighted by
π_old(a|s)/S.

Tolerances: every value and gradient is a short sum over at most 12 (state, action) pairs of terms no larger than
(|A| + β)·(1 + |log π|), each a few roundings deep; ``scaled_tolerance`` allows 8·eps·(terms + 1) times that
(plus an underflow floor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import positive_distributions
from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import (
    adapt_kl_coef,
    categorical_kl,
    penalized_surrogate,
    penalized_surrogate_from_kl,
    ppo_penalty_loss,
    ppo_penalty_loss_from_kl,
)
from lineage.ppo.gaussian import diagonal_gaussian_kl
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import (
    EPS,
    CategoricalBatch,
    categorical_batches,
    finite,
    gradient,
    tensor,
)


def expected_objective(batch: CategoricalBatch, logits_new: torch.Tensor, advantages, beta: float) -> torch.Tensor:
    """E_{s, a~π_old}[ρA − β·KL(π_old(·|s) ‖ π_new(·|s))] from lineage's per-sample terms, one per action."""
    states, actions = batch.every_action()
    logits_old = tensor(batch.logits_old)
    terms = penalized_surrogate(logits_new[states], logits_old[states], actions, advantages.reshape(-1), beta=beta)
    return (batch.weights() * terms).sum()


# ------------------------------------------------------------------------------------------------
# PPO-4: value and gradient at θ = θ_old
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("PPO-4")
@given(batch=categorical_batches(new_equals_old=True), beta=st.one_of(st.just(0.0), finite(0.0, 10.0)))
def test_penalty_objective_at_the_old_policy_is_zero_with_the_policy_gradient(batch, beta):
    """PPO-4 (notes §PPO): with the old policy's advantages (zero mean under it), E_{s, a~π_old}[ρA − β·KL] is 0 at
    θ = θ_old and its gradient in the logits there is the on-policy policy gradient π_old(b|s)·A(s, b)/S, whatever
    β: the KL(π_old ‖ π_θ) term has gradient 0 at θ_old (its minimum)."""
    logits = tensor(batch.logits_new, grad=True)
    objective = expected_objective(batch, logits, batch.advantages(), beta)
    magnitude = batch.magnitude()
    atol = scaled_tolerance(EPS, (magnitude + beta) * magnitude, math.prod(batch.shape))
    assert_identity(objective.item(), 0.0, atol=atol, what="objective at θ_old")
    grad = gradient(objective, logits)
    assert_identity(grad.numpy(), batch.policy_gradient().numpy(), atol=atol, what="∇θ objective vs policy gradient")
    kl_gradient = gradient(categorical_kl(tensor(batch.logits_old), logits).sum(), logits)
    assert_identity(kl_gradient.numpy(), 0.0, atol=atol, what="∇θ KL(π_old ‖ π_θ) at θ_old")


# ------------------------------------------------------------------------------------------------
# PPO-3: the KL of the penalised optimum does not increase with β
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PenalisedBandit:
    """One state: the old policy, the advantages, and two slacks s₁ < s₂ that pick two penalised optima.

    max_π Σ π(a)A(a) − β·KL(π_old ‖ π) is concave; its stationary point is π(a) = β·π_old(a)/(λ − A(a)) with
    λ > max A. Writing λ = max A + s, every slack s > 0 gives the optimum for β(s) = 1/Σ_a π_old(a)/(s + gap_a),
    gap_a = max A − A(a) — a closed form, increasing in s, so no root finding is needed.
    """

    pi_old: list
    advantages: list
    slacks: list

    def optimum(self, slack: float) -> tuple[float, np.ndarray]:
        """(β, π*) for the slack ``slack``."""
        a = np.array(self.advantages)
        weights = np.array(self.pi_old) / (slack + (a.max() - a))
        beta = 1.0 / weights.sum()
        return beta, beta * weights


@st.composite
def penalised_bandits(draw) -> PenalisedBandit:
    size = draw(st.integers(2, 4), label="K")
    pi_old = draw(positive_distributions((size,)), label="pi_old")
    advantages = draw(st.lists(finite(-3.0, 3.0), min_size=size, max_size=size), label="A")
    slacks = sorted(draw(st.lists(finite(1e-2, 10.0), min_size=2, max_size=2, unique=True), label="slacks"))
    return PenalisedBandit(pi_old.tolist(), advantages, slacks)


@pytest.mark.claim("PPO-3")
@given(bandit=penalised_bandits())
@example(bandit=PenalisedBandit(pi_old=[0.5, 0.5], advantages=[1.0, -1.0], slacks=[0.5, 2.0]))
def test_kl_of_the_penalised_optimum_does_not_increase_with_beta(bandit):
    """PPO-3 (notes §PPO): the optimum of E_{a~π_old}[ρA] − β·KL(π_old ‖ π) for β₁ < β₂ has KL₁ ≥ KL₂ (exchange
    argument: (β₂ − β₁)(KL₁ − KL₂) ≥ 0). That is why raising β when the KL is too large and lowering it when the
    KL is small steer the KL towards its target — not the notes' "shortcut": a small KL means a too strong penalty.
    Each optimum is checked to be one: lineage's penalised objective has gradient 0 there."""
    size = len(bandit.pi_old)
    batch = CategoricalBatch([np.log(bandit.pi_old).tolist()], [[0.0] * size], [bandit.advantages])
    kls, betas = [], []
    for slack in bandit.slacks:
        beta, pi = bandit.optimum(slack)
        logits = tensor(np.log(pi)[None, :], grad=True)
        objective = expected_objective(batch, logits, tensor([bandit.advantages]), beta)
        # log π* rounds with |log π*| and |log π_old|, β·KL and Σ π A pass that on times β + |A|.
        magnitude = (beta + np.abs(bandit.advantages).max()) * (1 + np.abs(np.log(pi)).max() + batch.magnitude())
        atol = scaled_tolerance(EPS, magnitude, size)
        assert_identity(gradient(objective, logits).numpy(), 0.0, atol=atol, what=f"∇ objective at π*(β = {beta})")
        kls.append(categorical_kl(batch.logits_old, logits).item())
        betas.append(beta)
    assert betas[0] <= betas[1], betas  # β(s) increases with the slack (ties: slacks too close to tell apart)
    assert_at_least(kls[0], kls[1], atol=atol, what=f"KL at β = {betas[0]} vs at β = {betas[1]}")


# ------------------------------------------------------------------------------------------------
# STD-PPO-1: the rule's band is closed
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-PPO-1", "PPO-3")
@given(beta=st.one_of(st.just(0.0), finite(1e-3, 10.0)), kl_target=finite(1e-4, 1.0))
@example(beta=1.0, kl_target=0.01)
def test_beta_changes_exactly_outside_the_closed_band(beta, kl_target):
    """STD-PPO-1, PPO-3 (notes §PPO): β is kept for d ∈ [d_targ/1.5, 1.5·d_targ], ends included, halved one float
    below the band and doubled one float above it. (RLlib's ×1.5 / ×0.5 at 2·d_targ / 0.5·d_targ is another rule:
    e.g. d = 1.8·d_targ doubles β here and keeps it there.)"""
    low, high = kl_target / 1.5, 1.5 * kl_target
    for kept in (low, kl_target, high):
        assert adapt_kl_coef(beta, kept, kl_target=kl_target) == beta, kept
    for below in (math.nextafter(low, 0.0), 0.0):
        assert adapt_kl_coef(beta, below, kl_target=kl_target) == beta / 2, below
    for above in (math.nextafter(high, math.inf), 1.8 * kl_target):
        assert adapt_kl_coef(beta, above, kl_target=kl_target) == 2 * beta, above


@pytest.mark.claim("PPO-4")
@given(advantage=finite(-10.0, 10.0), logit=finite(-4.0, 4.0), beta=st.sampled_from([0.0, 0.5]))
def test_a_single_action_leaves_only_the_advantage(advantage, logit, beta):
    """PPO-4 (notes §PPO) at K = 1, N = 1: both policies take the only action with probability 1, so ρ = 1, the
    KL is 0 and L^KLPEN = A exactly, whatever the logits."""
    got = penalized_surrogate(np.array([[logit]]), np.array([[0.0]]), np.array([0]), np.array([advantage]), beta=beta)
    np.testing.assert_array_equal(got, [advantage])


# ------------------------------------------------------------------------------------------------
# PPO-4 for any policy family: ρA − β·KL from per-sample log-probabilities and KLs
# ------------------------------------------------------------------------------------------------
@st.composite
def categorical_samples(draw) -> tuple[CategoricalBatch, np.ndarray, float]:
    batch = draw(categorical_batches(max_states=3))
    states, actions = batch.shape
    taken = np.array(draw(st.lists(st.integers(0, actions - 1), min_size=states, max_size=states), label="actions"))
    beta = draw(st.one_of(st.sampled_from([0.0, 0.5]), finite(0.0, 2.0)), label="beta")
    return batch, taken, beta


@pytest.mark.claim("PPO-4", "STD-PPO-1")
@given(drawn=categorical_samples())
@example(
    drawn=(
        CategoricalBatch([[0.0, 1.0], [2.0, -1.0]], [[1.0, 0.0], [2.0, -1.0]], [[1.0, -2.0], [0.5, 3.0]]),
        np.array([0, 1]),
        0.5,
    )
)
def test_penalty_from_kl_is_the_categorical_penalty_on_a_categorical_policy(drawn):
    """PPO-4, STD-PPO-1 (notes §PPO): fed a categorical policy's log π(a_i|s_i) and its exact KL(π_old ‖ π_new)
    (``categorical_kl``), the family-free ``penalized_surrogate_from_kl`` is ``penalized_surrogate`` of the logits:
    the same terms bit for bit (the same operations in the same order), and the same gradient in the new logits up
    to the rounding of the backward sums. The loss forms agree likewise."""
    batch, taken, beta = drawn
    rows = torch.arange(len(taken))
    advantages = tensor(batch.q_values)[rows, taken]
    logits_old = tensor(batch.logits_old)
    from_logits, from_kl = tensor(batch.logits_new, grad=True), tensor(batch.logits_new, grad=True)
    expected = penalized_surrogate(from_logits, logits_old, taken, advantages, beta=beta)
    logp_new = torch.log_softmax(from_kl, dim=-1)[rows, taken]
    logp_old = torch.log_softmax(logits_old, dim=-1)[rows, taken]
    got = penalized_surrogate_from_kl(logp_new, logp_old, advantages, categorical_kl(logits_old, from_kl), beta=beta)
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    ratio = float((logp_new - logp_old).detach().exp().max())
    magnitude = batch.magnitude() * (ratio * batch.magnitude() + beta)
    atol = scaled_tolerance(EPS, magnitude, batch.shape[1] + 2)
    assert_identity(
        gradient(got.sum(), from_kl).numpy(), gradient(expected.sum(), from_logits).numpy(), atol=atol, what="∇ logits"
    )
    loss = ppo_penalty_loss_from_kl(logp_new, logp_old, advantages, categorical_kl(logits_old, from_kl), beta=beta)
    categorical_loss = ppo_penalty_loss(from_logits, logits_old, taken, advantages, beta=beta)
    assert_identity(loss.item(), categorical_loss.item(), atol=atol, what="loss")


@st.composite
def penalty_samples(draw) -> dict:
    n = draw(st.integers(1, 6), label="N")
    column = lambda low, high, label: draw(  # noqa: E731
        st.lists(finite(low, high), min_size=n, max_size=n), label=label
    )
    return {
        "logp_new": column(-6.0, 0.0, "logp_new"),
        "logp_old": column(-6.0, 0.0, "logp_old"),
        "advantages": column(-10.0, 10.0, "advantages"),
        "kl": column(0.0, 5.0, "kl"),
        "beta": draw(st.one_of(st.sampled_from([0.0, 1.0]), finite(0.0, 10.0)), label="beta"),
    }


@pytest.mark.claim("PPO-4", "PPO-13", "STD-PPO-1")
@given(sample=penalty_samples())
@example(
    sample={"logp_new": [0.0, 0.0], "logp_old": [0.0, 0.0], "advantages": [1.5, -2.0], "kl": [0.0, 0.25], "beta": 2.0}
)
def test_penalty_from_kl_value_and_derivatives(sample):
    """PPO-4, PPO-13, STD-PPO-1 (notes §PPO): L_i = ρ_i A_i − β KL_i with ρ_i = exp(log π_new − log π_old), against
    the closed form in 50-digit decimals; ∂L_i/∂log π_new = ρ_i A_i, ∂L_i/∂KL_i = −β exactly, no gradient into
    log π_old or A (constants of the loss), and the loss is −mean L with ∂loss/∂KL_i = β/N. (Pinned: ρ = 1,
    A = (1.5, −2), KL = (0, 0.25), β = 2 → L = (1.5, −2.5), loss 0.5.)"""
    leaves = {k: tensor(sample[k], grad=True) for k in ("logp_new", "logp_old", "advantages", "kl")}
    beta = sample["beta"]
    terms = penalized_surrogate_from_kl(**leaves, beta=beta)
    with localcontext() as context:
        context.prec = 50
        ratio = [(Decimal(n) - Decimal(o)).exp() for n, o in zip(sample["logp_new"], sample["logp_old"], strict=True)]
        exact = [
            float(r * Decimal(a) - Decimal(beta) * Decimal(k))
            for r, a, k in zip(ratio, sample["advantages"], sample["kl"], strict=True)
        ]
        ratio_a = [float(r * Decimal(a)) for r, a in zip(ratio, sample["advantages"], strict=True)]
    scale = max(abs(x) for x in ratio_a) + beta * max(sample["kl"]) + 1.0
    atol = scaled_tolerance(EPS, scale, 4)
    assert_identity(terms.detach().numpy(), exact, atol=atol, what="ρA − β·KL")
    assert_identity(gradient(terms.sum(), leaves["logp_new"]).numpy(), ratio_a, atol=atol, what="∂/∂log π_new")
    np.testing.assert_array_equal(gradient(terms.sum(), leaves["kl"]).numpy(), np.full(len(exact), -beta))
    for constant in ("logp_old", "advantages"):
        np.testing.assert_array_equal(gradient(terms.sum(), leaves[constant]).numpy(), 0.0, err_msg=constant)
    loss = ppo_penalty_loss_from_kl(**leaves, beta=beta)
    n = len(exact)
    assert_identity(loss.item(), -sum(exact) / n, atol=scaled_tolerance(EPS, scale, n + 4), what="loss = −mean L")
    assert_identity(gradient(loss, leaves["kl"]).numpy(), beta / n, atol=0.0, what="∂loss/∂KL = β/N")
    if sample == {
        "logp_new": [0.0, 0.0],
        "logp_old": [0.0, 0.0],
        "advantages": [1.5, -2.0],
        "kl": [0.0, 0.25],
        "beta": 2.0,
    }:
        np.testing.assert_array_equal(terms.detach().numpy(), [1.5, -2.5])
        assert loss.item() == 0.5


@st.composite
def gaussian_samples(draw) -> dict:
    d = draw(st.integers(1, 3), label="d")
    column = lambda low, high, label: draw(  # noqa: E731
        st.lists(finite(low, high), min_size=d, max_size=d), label=label
    )
    return {
        "mean": column(-3.0, 3.0, "mean"),
        "log_std": column(-2.0, 1.0, "log_std"),
        "action": column(-5.0, 5.0, "action"),
        "advantage": draw(finite(-10.0, 10.0), label="advantage"),
        "beta": draw(st.one_of(st.sampled_from([0.0, 1.0]), finite(0.0, 10.0)), label="beta"),
    }


@pytest.mark.claim("PPO-4")
@given(sample=gaussian_samples())
@example(sample={"mean": [0.0], "log_std": [0.0], "action": [1.0], "advantage": 2.0, "beta": 1.0})
def test_gaussian_penalty_at_the_old_policy_has_the_policy_gradient_whatever_beta(sample):
    """PPO-4 (notes §PPO) for a diagonal Gaussian policy: at θ = θ_old, with KL = diagonal_gaussian_kl(π_old, π_θ),
    the gradient of ρA − β·KL (``penalized_surrogate_from_kl``) in (μ, log σ) is the score-function term
    A·∇ log π(a) = (A(a − μ)/σ², A((a − μ)²/σ² − 1)), whatever β: the KL has gradient 0 at its minimum. (Pinned:
    μ = 0, σ = 1, a = 1, A = 2 → (2, 0).)"""
    mean, log_std = tensor(sample["mean"], grad=True), tensor(sample["log_std"], grad=True)
    old_mean, old_log_std = tensor(sample["mean"]), tensor(sample["log_std"])
    action, advantage, beta = tensor(sample["action"]), sample["advantage"], sample["beta"]

    def log_prob(mu, ls):
        return torch.distributions.Normal(mu, ls.exp()).log_prob(action).sum().reshape(1)

    kl = diagonal_gaussian_kl(old_mean, old_log_std, mean, log_std).reshape(1)
    term = penalized_surrogate_from_kl(
        log_prob(mean, log_std), log_prob(old_mean, old_log_std), [advantage], kl, beta=beta
    )
    grad_mean, grad_log_std = torch.autograd.grad(term.sum(), (mean, log_std))
    a, mu, sigma = np.array(sample["action"]), np.array(sample["mean"]), np.exp(sample["log_std"])
    z = (a - mu) / sigma
    magnitude = (abs(advantage) + beta) * (1 + np.abs(z / sigma).max() + (z**2).max())
    atol = scaled_tolerance(EPS, magnitude, 8)
    assert_identity(grad_mean.numpy(), advantage * z / sigma, atol=atol, what="∂/∂μ = A(a − μ)/σ²")
    assert_identity(grad_log_std.numpy(), advantage * (z**2 - 1), atol=atol, what="∂/∂log σ = A((a − μ)²/σ² − 1)")
    assert term.item() == pytest.approx(advantage, abs=atol)  # ρ = 1, KL = 0
