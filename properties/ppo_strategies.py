"""Small PPO instances as readable dataclasses (plain lists and floats, so a falsifying example prints as code), the
Hypothesis strategies that draw them, and the float64 torch helpers the PPO properties share.

Expectations are exact: a categorical policy over K ≤ 4 actions is enumerated, every action one sample weighted by
its probability under the sampling policy. Boundary values are reachable: values exactly V_old ± ε, ties of the
clipped and unclipped value errors, identical old and new policies (ratios exactly 1); ``loss_cases.clip_cases``
supplies ratios exactly 1 ± ε and zero advantages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.losses import TwoDistributions, ValueCase
from lineage.laws.cases.mdps import LOGIT_BOUND, positive_distributions

DTYPE = torch.float64
EPS = float(torch.finfo(DTYPE).eps)

SEARCH = settings(database=None, max_examples=500)  # the hypothesis.find searches for teaching counterexamples
DIFFERENT = 1e-3  # a search counts two numbers as different beyond this, far above any rounding here

# The tensors here have a handful of entries: torch's intra-op thread pool only adds wake-up latency (up to about a
# millisecond per operation on a busy 2-core machine, where pytest already runs two workers).
torch.set_num_threads(1)


def tensor(values, *, grad: bool = False) -> torch.Tensor:
    """A float64 tensor of ``values``, a leaf with ``requires_grad`` if ``grad``."""
    return torch.tensor(values, dtype=DTYPE, requires_grad=grad)


def gradient(output: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """∂ output / ∂ leaf by autograd (zeros where the output does not depend on the leaf); the graph is kept for
    further gradients of outputs that share it."""
    (grad,) = torch.autograd.grad(output, leaf, retain_graph=True, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad


@cache
def finite(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@cache
def logit_rows(rows: int, actions: int) -> st.SearchStrategy[np.ndarray]:
    """``[rows, actions]`` logits in [−4, 4] (no saturation)."""
    return arrays(np.float64, (rows, actions), elements=finite(-LOGIT_BOUND, LOGIT_BOUND))


# --------------------------------------------------------------------------------------------------------
# Categorical policies over a batch of states
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoricalBatch:
    """S states with K actions each: the old (sampling) policy's logits, the new policy's logits and action values
    Q[s][a]. The batch's states are weighted equally, actions by the old policy."""

    logits_old: list
    logits_new: list
    q_values: list

    @property
    def shape(self) -> tuple[int, int]:
        return np.shape(self.logits_old)

    def pi_old(self) -> torch.Tensor:
        return torch.softmax(tensor(self.logits_old), dim=-1)

    def advantages(self) -> torch.Tensor:
        """A^{π_old}(s, a) = Q(s, a) − Σ_b π_old(b|s) Q(s, b): zero mean under the old policy."""
        q = tensor(self.q_values)
        return q - (self.pi_old() * q).sum(dim=-1, keepdim=True)

    def weights(self) -> torch.Tensor:
        """Probability of each (s, a) in the batch: π_old(a|s) / S, flattened state-major."""
        return (self.pi_old() / self.shape[0]).reshape(-1)

    def every_action(self) -> tuple[torch.Tensor, np.ndarray]:
        """Row index and action of each of the S·K samples, state-major (one sample per action of each state)."""
        states, actions = np.indices(self.shape).reshape(2, -1)
        return torch.as_tensor(states), actions

    def policy_gradient(self) -> torch.Tensor:
        """∂/∂θ[s, b] of E_{s, a~π_θ}[A^{π_old}(s, a)] at θ = θ_old: π_old(b|s)(A(s, b) − Σ_a π_old A) / S."""
        pi, adv = self.pi_old(), self.advantages()
        return pi * (adv - (pi * adv).sum(dim=-1, keepdim=True)) / self.shape[0]

    def magnitude(self) -> float:
        """M with M ≥ |Q|, M ≥ |A^{π_old}| and M ≥ 1 + |log π_old|: the size every value and gradient here is
        built from."""
        log_pi = torch.log_softmax(tensor(self.logits_old), dim=-1)
        return max(2 * float(np.abs(self.q_values).max()), 1 + float(log_pi.abs().max()))


@st.composite
def categorical_batches(draw, *, max_states: int = 2, new_equals_old: bool = False) -> CategoricalBatch:
    """1..max_states states, 2..4 actions, logits in [−4, 4], Q in [−10, 10]; the new policy is sometimes the old."""
    shape = (draw(st.integers(1, max_states), label="S"), draw(st.integers(2, 4), label="K"))
    old = draw(logit_rows(*shape), label="logits_old")
    new = old if new_equals_old else draw(st.one_of(st.just(old), logit_rows(*shape)), label="logits_new")
    q = draw(arrays(np.float64, shape, elements=finite(-10.0, 10.0)), label="Q")
    return CategoricalBatch(old.tolist(), new.tolist(), q.tolist())


# --------------------------------------------------------------------------------------------------------
# Paths of distributions away from the old one (KL estimators; the pairs are lineage.laws.cases.losses')
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TiltedPath:
    """The path p_t = normalise(q·e^{t·d}) away from q along the direction d (spec STD-KL-1)."""

    old: list
    direction: list

    def at(self, t: float) -> TwoDistributions:
        """(q, p_t), with log p_t = log q + t·d − log Σ q e^{t·d} computed in log space."""
        shifted = np.log(self.old) + t * np.array(self.direction)
        top = shifted.max()
        log_new = shifted - (top + math.log(np.exp(shifted - top).sum()))
        return TwoDistributions(self.old, np.exp(log_new).tolist())

    def span(self) -> float:
        return float(np.ptp(self.direction))


@st.composite
def tilted_paths(draw) -> TiltedPath:
    size = draw(st.integers(2, 5), label="outcomes")
    old = draw(positive_distributions((size,)), label="q")
    return TiltedPath(old.tolist(), draw(arrays(np.float64, (size,), elements=finite(-1.0, 1.0)), label="d").tolist())


# --------------------------------------------------------------------------------------------------------
# Value clipping
# --------------------------------------------------------------------------------------------------------


# TC-15: V_old = 0, ε = 0.2, V_new = 0 — the notes' clip with swapped bounds gives 0.2, the correct clip 0.
TC15 = ValueCase(values_new=[0.0], values_old=[0.0], returns=[0.0], clip_eps=0.2)


GAUSSIAN_MEANS = st.floats(-5.0, 5.0, allow_nan=False)
GAUSSIAN_LOG_STDS = st.one_of(st.just(0.0), st.floats(-3.0, 2.0, allow_nan=False))


@st.composite
def gaussian_pairs(draw):
    """Two diagonal Gaussians over d = 1..3 action dimensions for a batch of 1..3 states (equal ones reachable)."""
    shape = (draw(st.integers(1, 3), label="states"), draw(st.integers(1, 3), label="d"))
    mean_p = draw(arrays(np.float64, shape, elements=GAUSSIAN_MEANS), label="mean_p")
    log_std_p = draw(arrays(np.float64, shape, elements=GAUSSIAN_LOG_STDS), label="log_std_p")
    if draw(st.booleans(), label="q = p"):
        return mean_p, log_std_p, mean_p.copy(), log_std_p.copy()
    mean_q = draw(arrays(np.float64, shape, elements=GAUSSIAN_MEANS), label="mean_q")
    log_std_q = draw(arrays(np.float64, shape, elements=GAUSSIAN_LOG_STDS), label="log_std_q")
    return mean_p, log_std_p, mean_q, log_std_q
