"""The KL-regularised objective of RLHF-PPO, E_{y~π}[score(y)] − β·KL(π‖π_ref), by exact enumeration of every
response of tiny autoregressive policies (V ≤ 3 tokens, L ≤ 3 positions; notes §PPO, RLHF part; claims
STD-RLHF-2, STD-RLHF-3, RLHF-3, STD-KL-2). No sampling: E_{y~π}[f(y)] is Σ_y π(y) f(y) over all V^L responses.

Tolerances: each quantity is a float64 sum over at most 27 responses of terms no larger than the instance's
``magnitude`` (the largest |score| plus β times the largest summed |log-probability| of a response), a few
operations each, so its rounding stays below 64·eps·magnitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import LOGIT_BOUND
from lineage.ppo import kl_k3
from lineage.rlhf import AutoregressivePolicy, sequence_kl, token_kls, token_rewards
from properties.assertions import assert_at_least, assert_identity, log_scale

EPS = np.finfo(np.float64).eps
SEARCH = settings(database=None, max_examples=500)


@dataclass(frozen=True, eq=False)
class Responses:
    """A policy π and a reference π_ref over the same responses, a reward-model score per response and β."""

    policy: AutoregressivePolicy
    reference: AutoregressivePolicy
    scores: np.ndarray  # [V^L], in the order of policy.sequences
    beta: float

    def rewards(self, policy: AutoregressivePolicy | None = None) -> np.ndarray:
        """lineage's per-token rewards of every response, [V^L, L], with log π from ``policy`` (default π)."""
        policy = policy or self.policy
        every_token = np.ones(policy.sequences.shape, dtype=bool)
        logp, ref_logp = policy.token_log_probs(), self.reference.token_log_probs()
        return token_rewards(self.scores, logp, ref_logp, every_token, beta=self.beta)

    def atol(self, *policies: AutoregressivePolicy) -> float:
        """64·eps·magnitude, with the log-probabilities of the reference and of ``policies`` (default π)."""
        logs = log_scale(self.reference, *(policies or [self.policy]))
        return 64 * EPS * (np.abs(self.scores).max() + self.beta * logs)


@cache
def _logits(rows: int, vocab: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, (rows, vocab), elements=st.floats(-LOGIT_BOUND, LOGIT_BOUND))


@st.composite
def policy_pairs(draw) -> tuple[AutoregressivePolicy, AutoregressivePolicy]:
    """(π, π_ref): softmax tables over V ∈ {2, 3} tokens for L ∈ {1, 2, 3} positions, logits in [−4, 4];
    sometimes π_ref = π (every KL is 0)."""
    vocab, length = draw(st.integers(2, 3), label="V"), draw(st.integers(1, 3), label="L")
    rows = sum(vocab**t for t in range(length))
    logits = draw(_logits(rows, vocab), label="logits of π")
    reference_logits = draw(st.one_of(st.just(logits), _logits(rows, vocab)), label="logits of π_ref")
    return AutoregressivePolicy.from_logits(logits, length), AutoregressivePolicy.from_logits(reference_logits, length)


@st.composite
def responses(draw, min_beta: float = 0.0) -> Responses:
    """A policy pair, scores in [−5, 5] and β in [min_beta, 1]."""
    policy, reference = draw(policy_pairs())
    scores = draw(arrays(np.float64, (len(policy.sequences),), elements=st.floats(-5.0, 5.0)), label="scores")
    return Responses(policy, reference, scores, draw(st.floats(min_beta, 1.0), label="beta"))


def log_ratio_mean(policy: AutoregressivePolicy, reference: AutoregressivePolicy) -> float:
    """E_{y~π}[Σ_t (log π(y_t|y_<t) − log π_ref(y_t|y_<t))]: the RLHF per-token ``kl`` averaged under π."""
    return float(policy.expectation((policy.token_log_probs() - reference.token_log_probs()).sum(axis=1)))


# --------------------------------------------------------------------------------------------------------
# STD-RLHF-2: the summed per-token rewards and their expectation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.claim("STD-RLHF-2", "RLHF-1")
@given(case=responses())
def test_expected_return_is_expected_score_minus_beta_kl(case):
    """STD-RLHF-2, RLHF-1 (notes §PPO, RLHF part): with γ = 1 the expected sum of lineage's per-token rewards is
    E_{y~π}[score] − β·KL(π‖π_ref), the KL taken between the distributions of whole responses."""
    expected_return = case.policy.expectation(case.rewards().sum(axis=1))
    objective = case.policy.expectation(case.scores) - case.beta * sequence_kl(case.policy, case.reference)
    assert_identity(expected_return, objective, atol=case.atol(), what="E_π[Σ_t r_t] vs E_π[score] − β·KL(π‖π_ref)")


@pytest.mark.claim("STD-RLHF-2")
@given(pair=policy_pairs())
def test_sequence_kl_is_the_sum_of_expected_per_token_kls(pair):
    """STD-RLHF-2 (notes §PPO, RLHF part): chain rule of KL, KL(π‖π_ref) over responses equals
    Σ_t E_{y~π}[KL(π(·|y_<t) ‖ π_ref(·|y_<t))], each per-token KL exact over the whole vocabulary."""
    policy, reference = pair
    chained = policy.expectation(token_kls(policy, reference).sum(axis=1))
    atol = 64 * EPS * log_scale(policy, reference)
    assert_identity(sequence_kl(policy, reference), chained, atol=atol, what="KL over responses vs Σ_t E[token KL]")


@pytest.mark.claim("STD-RLHF-2")
@given(pair=policy_pairs())
def test_summed_per_token_k3_is_unbiased_for_the_sequence_kl(pair):
    """STD-RLHF-2 (notes §PPO, RLHF part): with ρ_t = π_ref(y_t|y_<t)/π(y_t|y_<t) on responses from π, lineage's
    per-token k3 = (ρ_t − 1) − log ρ_t is ≥ 0 and E_{y~π}[Σ_t k3_t] = KL(π‖π_ref): each k3_t is unbiased for
    its conditional KL given y_<t, and the chain rule adds them up."""
    policy, reference = pair
    logp, ref_logp = policy.token_log_probs(), reference.token_log_probs()
    k3 = kl_k3(logp_new=ref_logp, logp_old=logp)  # π samples the responses: it plays the "old" policy
    log_rho = ref_logp - logp
    assert np.all(k3 >= 0.0), f"negative k3: {k3.min()!r}"
    # log ρ_t rounds with |log π| + |log π_ref|; k3 passes that on times |ρ_t − 1|, and weighted by π the ratios
    # add up to probabilities of π_ref, so E_π|ρ_t − 1| ≤ 2.
    atol = 64 * EPS * (1 + np.abs(log_rho).max()) * (policy.length + log_scale(policy, reference))
    expected = sequence_kl(policy, reference)
    assert_identity(policy.expectation(k3.sum(axis=1)), expected, atol=atol, what="E_π[Σ_t k3_t] vs KL(π‖π_ref)")


# --------------------------------------------------------------------------------------------------------
# RLHF-3, STD-KL-2, TC-19: the per-token log-ratio under π estimates KL(π‖π_ref), not KL(π_ref‖π)
# --------------------------------------------------------------------------------------------------------
TC19 = Responses(
    policy=AutoregressivePolicy(np.array([[0.9, 0.1]]), length=1),
    reference=AutoregressivePolicy(np.array([[0.5, 0.5]]), length=1),
    scores=np.zeros(2),
    beta=1.0,
)


@pytest.mark.claim("RLHF-3", "STD-KL-2")
def test_kl_direction_teaching_counterexample_tc19():
    """RLHF-3, STD-KL-2 (notes §PPO, RLHF part; TC-19): π = (0.9, 0.1), π_ref = (0.5, 0.5). The KL penalty in
    lineage's rewards, averaged over responses from π, is KL(π‖π_ref) = 0.368, not KL(π_ref‖π) = 0.511."""
    penalty = -TC19.policy.expectation(TC19.rewards().sum(axis=1))  # β = 1, scores 0
    forward = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    reverse = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert (round(forward, 3), round(reverse, 3)) == (0.368, 0.511)
    assert penalty == pytest.approx(forward, abs=1e-15)
    assert sequence_kl(TC19.policy, TC19.reference) == pytest.approx(forward, abs=1e-15)
    assert sequence_kl(TC19.reference, TC19.policy) == pytest.approx(reverse, abs=1e-15)


@pytest.mark.claim("RLHF-3", "STD-KL-2")
@given(pair=policy_pairs())
@example(pair=(TC19.policy, TC19.reference))
def test_log_ratio_under_pi_is_the_forward_kl_and_the_reverse_needs_weights(pair):
    """RLHF-3, STD-KL-2 (notes §PPO, RLHF part): on responses from π the RLHF ``kl = logp − ref_logp`` averages
    to KL(π‖π_ref). The same samples give KL(π_ref‖π) only reweighted: E_{y~π}[w log w] with w = π_ref(y)/π(y)."""
    policy, reference = pair
    log_w = np.log(reference.sequence_probs()) - np.log(policy.sequence_probs())
    # log w rounds with |log π(y)| + |log π_ref(y)|; w·log w passes that on times |w(1 + log w)|, and π·w = π_ref.
    atol = 64 * EPS * (1 + np.abs(log_w).max()) * (1 + log_scale(policy, reference))
    assert_identity(log_ratio_mean(policy, reference), sequence_kl(policy, reference), atol=atol, what="E_π[kl]")
    reweighted = policy.expectation(np.exp(log_w) * log_w)
    assert_identity(reweighted, sequence_kl(reference, policy), atol=atol, what="E_π[w log w] vs KL(π_ref‖π)")


@pytest.mark.claim("RLHF-3", "STD-KL-2")
def test_search_finds_policies_where_the_two_kl_directions_differ():
    """RLHF-3, STD-KL-2: hypothesis.find must come back with policies for which the per-token log-ratio averaged
    under π misses KL(π_ref‖π) by more than 1e-3: mixing up the direction gives another number."""

    def directions_differ(pair) -> bool:
        return abs(log_ratio_mean(*pair) - sequence_kl(pair[1], pair[0])) > 1e-3

    policy, reference = find(policy_pairs(), directions_differ, settings=SEARCH)
    assert abs(sequence_kl(policy, reference) - sequence_kl(reference, policy)) > 1e-3, (policy, reference)


# --------------------------------------------------------------------------------------------------------
# STD-RLHF-3: the optimum of the KL-regularised objective
# --------------------------------------------------------------------------------------------------------


@pytest.mark.claim("STD-RLHF-3")
@given(case=responses(min_beta=0.1))
def test_gibbs_policy_attains_beta_log_partition_and_nothing_beats_it(case):
    """STD-RLHF-3 (notes §PPO, RLHF part): J(π) = E_π[score] − β·KL(π‖π_ref) is maximised by
    π* ∝ π_ref·e^{score/β}, with J(π*) = β log E_{π_ref}[e^{score/β}]; any π falls short by exactly β·KL(π‖π*)
    (Gibbs variational principle). J is the expected return of lineage's per-token rewards."""
    logits = np.log(case.reference.sequence_probs()) + case.scores / case.beta
    top = logits.max()
    log_partition = top + math.log(np.exp(logits - top).sum())
    vocab, length = case.policy.vocab_size, case.policy.length
    optimal = AutoregressivePolicy.from_sequence_probs(np.exp(logits - log_partition), vocab, length)

    def objective(policy: AutoregressivePolicy) -> float:
        return float(policy.expectation(case.rewards(policy).sum(axis=1)))

    best = case.beta * log_partition
    atol = case.atol(case.policy, optimal)
    assert_identity(objective(optimal), best, atol=atol, what="J(π*) vs β log E_ref[e^{score/β}]")
    assert_at_least(best, objective(case.policy), atol=atol, what="J(π*) >= J(π)")
    shortfall = case.beta * sequence_kl(case.policy, optimal)
    assert_identity(best - objective(case.policy), shortfall, atol=atol, what="J(π*) − J(π) vs β·KL(π‖π*)")
