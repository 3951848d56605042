"""The pretraining term of the InstructGPT objective (PPO-ptx; claim STD-RLHF-6; notes §PPO, RLHF part), by exact
enumeration of every sequence of tiny autoregressive models (V ≤ 3 tokens, L ≤ 3 positions):

    E_{x~D}[log π(x)] = −H(D) − KL(D ‖ π) ≤ −H(D), with equality only at π = D.

Tolerances: every quantity is a float64 sum over at most 27 sequences of terms bounded by the summed
|log-probabilities| of a sequence (``log_scale``), a few operations each: 64·eps·log_scale covers the rounding.
The masked batch estimate is held to ``scaled_tolerance`` of its B·T terms, each at most max |log π| in size.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import LOGIT_BOUND
from lineage.laws.tolerance import scaled_tolerance
from lineage.rlhf import AutoregressivePolicy, ppo_ptx_loss, pretraining_log_likelihood, sequence_kl
from properties.assertions import assert_at_least, assert_identity, log_scale

EPS = np.finfo(np.float64).eps


@st.composite
def model_pairs(draw) -> tuple[AutoregressivePolicy, AutoregressivePolicy]:
    """(D, π): softmax tables over V ∈ {2, 3} tokens for L ∈ {1, 2, 3} positions; sometimes π = D."""
    vocab, length = draw(st.integers(2, 3), label="V"), draw(st.integers(1, 3), label="L")
    rows = sum(vocab**t for t in range(length))
    logits = arrays(np.float64, (rows, vocab), elements=st.floats(-LOGIT_BOUND, LOGIT_BOUND))
    data_logits = draw(logits, label="logits of D")
    policy_logits = draw(st.one_of(st.just(data_logits), logits), label="logits of π")
    return (
        AutoregressivePolicy.from_logits(data_logits, length),
        AutoregressivePolicy.from_logits(policy_logits, length),
    )


def sequence_log_probs(model: AutoregressivePolicy) -> np.ndarray:
    """log model(x) for every sequence x."""
    return model.token_log_probs().sum(axis=1)


@pytest.mark.claim("STD-RLHF-6")
@given(pair=model_pairs())
def test_pretraining_term_is_minus_entropy_minus_forward_kl(pair):
    """STD-RLHF-6 (notes §PPO, RLHF part): E_{x~D}[log π(x)] = −H(D) − KL(D‖π), summed over every sequence."""
    data, policy = pair
    term = data.expectation(sequence_log_probs(policy))
    entropy = -data.expectation(sequence_log_probs(data))
    atol = 64 * EPS * log_scale(data, policy)
    assert_identity(term, -entropy - sequence_kl(data, policy), atol=atol, what="E_D[log π] vs −H(D) − KL(D‖π)")


@pytest.mark.claim("STD-RLHF-6")
@given(pair=model_pairs())
def test_pretraining_term_is_largest_at_the_pretraining_distribution(pair):
    """STD-RLHF-6: E_D[log π] ≤ E_D[log D] (Gibbs' inequality), with equality at π = D: the ptx term pulls the
    policy towards the pretraining distribution."""
    data, policy = pair
    atol = 64 * EPS * log_scale(data, policy)
    best, term = data.expectation(sequence_log_probs(data)), data.expectation(sequence_log_probs(policy))
    assert_at_least(best, term, atol=atol, what="E_D[log D] vs E_D[log π]")
    if np.array_equal(data.conditionals, policy.conditionals):
        assert_identity(term, best, atol=atol, what="E_D[log π] at π = D")


@pytest.mark.claim("STD-RLHF-6")
@given(
    vocab=st.integers(2, 3),
    length=st.integers(1, 3),
    logits=st.data(),
    rl_loss=st.floats(-5.0, 5.0),
    ptx_coef=st.one_of(st.just(0.0), st.floats(0.0, 2.0)),
)
def test_ptx_loss_on_every_sequence_of_a_uniform_corpus(vocab, length, logits, rl_loss, ptx_coef):
    """STD-RLHF-6: on a corpus holding every sequence once (D uniform over V^L sequences), lineage's
    pretraining_log_likelihood is exactly E_D[log π] = −L·log V − KL(U‖π), ppo_ptx_loss subtracts γ_ptx times it,
    and its gradient in π's logits vanishes at π = U (the term's maximiser), where it equals −L·log V."""
    rows = sum(vocab**t for t in range(length))
    table = logits.draw(arrays(np.float64, (rows, vocab), elements=st.floats(-LOGIT_BOUND, LOGIT_BOUND)))
    for policy_logits in (table, np.zeros_like(table)):
        z = torch.tensor(policy_logits, requires_grad=True)
        policy = AutoregressivePolicy.from_logits(policy_logits, length)
        chosen = torch.as_tensor(policy.sequences[:, :, None])
        rows_of = torch.as_tensor(policy.prefix_rows())
        token_logp = torch.log_softmax(z, dim=1)[rows_of].gather(2, chosen)[:, :, 0]
        mask = torch.ones(token_logp.shape, dtype=torch.bool)
        term = pretraining_log_likelihood(token_logp, mask)
        uniform = AutoregressivePolicy.from_logits(np.zeros_like(table), length)
        expected = -length * math.log(vocab) - sequence_kl(uniform, policy)
        atol = 64 * EPS * log_scale(uniform, policy)
        assert_identity(term.item(), expected, atol=atol, what="pretraining_log_likelihood vs −L log V − KL(U‖π)")
        loss = ppo_ptx_loss(torch.tensor(rl_loss, dtype=torch.float64), token_logp, mask, ptx_coef=ptx_coef)
        assert_identity(loss.item(), rl_loss - ptx_coef * term.item(), atol=atol, what="ppo_ptx_loss")
        (gradient,) = torch.autograd.grad(term, z)
        if not policy_logits.any():
            assert_identity(gradient.numpy(), np.zeros_like(table), atol=atol, what="∂E_U[log π]/∂logits at π = U")


@st.composite
def masked_batches(draw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token log π [B, T], mask, other): B ∈ [1, 4], T ∈ [1, 6], log π in [−20, 0], any mask (all-false rows and
    an all-false batch included), and ``other`` equal to log π on the valid tokens and arbitrary elsewhere."""
    shape = (draw(st.integers(1, 4), label="B"), draw(st.integers(1, 6), label="T"))
    log_probs = st.one_of(st.just(0.0), st.floats(-20.0, 0.0))
    token_logp = draw(arrays(np.float64, shape, elements=log_probs), label="token log π")
    mask = draw(st.one_of(st.just(np.ones(shape, dtype=bool)), arrays(bool, shape)), label="mask")
    padding = draw(arrays(np.float64, shape, elements=st.floats(-1e6, 1e6)), label="values on padding")
    return token_logp, mask, np.where(mask, token_logp, padding)


def exact_masked_estimate(token_logp: np.ndarray, mask: np.ndarray) -> Fraction:
    """(1/B) Σ_b Σ_t mask[b, t]·log π[b, t] in exact rational arithmetic: a sequence without a valid token has
    log-likelihood 0 (the empty sum) and still counts in B."""
    return sum((Fraction(float(x)) for x in token_logp[mask]), Fraction(0)) / token_logp.shape[0]


@pytest.mark.claim("STD-RLHF-6")
@pytest.mark.parametrize("framework", ["numpy", "torch"])
@given(batch=masked_batches(), rl_loss=st.floats(-5.0, 5.0), ptx_coef=st.one_of(st.just(0.0), st.floats(0.0, 2.0)))
def test_ptx_term_is_the_masked_sum_per_sequence_averaged_over_the_batch(framework, batch, rl_loss, ptx_coef):
    """STD-RLHF-6 (notes §PPO, RLHF part): for any mask, pretraining_log_likelihood is exactly
    (1/B) Σ_b Σ_t mask·log π — rows without a valid token add 0 and still count, an all-false mask gives 0 — and
    ppo_ptx_loss is rl_loss − γ_ptx times it; what the masked-out entries hold never changes either result."""
    token_logp, mask, other = batch
    as_input = torch.from_numpy if framework == "torch" else np.asarray
    term = pretraining_log_likelihood(as_input(token_logp), as_input(mask))
    expected = exact_masked_estimate(token_logp, mask)
    magnitude = float(np.abs(token_logp).max())
    atol = scaled_tolerance(EPS, magnitude, token_logp.size)
    assert abs(float(term) - float(expected)) <= atol, (
        f"{framework}: estimate {float(term)!r}, exact masked mean {float(expected)!r} (allowed {atol:.3g})\n"
        f"token log π {token_logp!r}\nmask {mask!r}"
    )
    moved = pretraining_log_likelihood(as_input(other), as_input(mask))
    assert float(moved) == float(term), (
        f"{framework}: changing masked-out entries moved the estimate from {float(term)!r} to {float(moved)!r}\n"
        f"mask {mask!r}\nbefore {token_logp!r}\nafter {other!r}"
    )
    loss = ppo_ptx_loss(as_input(np.array(rl_loss)), as_input(token_logp), as_input(mask), ptx_coef=ptx_coef)
    expected_loss = Fraction(rl_loss) - Fraction(ptx_coef) * expected
    loss_atol = scaled_tolerance(EPS, abs(rl_loss) + ptx_coef * magnitude, token_logp.size + 2)
    assert abs(float(loss) - float(expected_loss)) <= loss_atol, (
        f"{framework}: ppo_ptx_loss {float(loss)!r}, exact {float(expected_loss)!r} (allowed {loss_atol:.3g})"
    )
    moved_loss = ppo_ptx_loss(as_input(np.array(rl_loss)), as_input(other), as_input(mask), ptx_coef=ptx_coef)
    assert float(moved_loss) == float(loss), (
        f"{framework}: changing masked-out entries moved the loss from {float(loss)!r} to {float(moved_loss)!r}"
    )
