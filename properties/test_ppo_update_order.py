"""Policy first, then critic? (notes §PPO; claim PPO-13). With advantages, return targets, old log-probabilities and
old values frozen before the epochs, as baselines ppo2 and lm-human-preferences compute them, and actor and critic
parameters disjoint, the order of the updates does not matter: all policy steps then all critic steps, the reverse,
or a joint step on the combined loss per minibatch end at the same parameters. A shared trunk breaks this, which
the last test documents.

Training is plain SGD in float64 with a fixed minibatch order, on lineage's ``ppo_clip_loss``, ``value_loss``,
``categorical_entropy`` and ``combined_loss``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.ppo import categorical_entropy, combined_loss, ppo_clip_loss, value_loss
from properties.ppo_strategies import finite, tensor

N, FEATURES, ACTIONS, HIDDEN = 8, 3, 3, 4
MINIBATCHES = (slice(0, 4), slice(4, 8))
EPOCHS, LR, CLIP_EPS, VF_COEF, ENT_COEF = 2, 0.1, 0.2, 0.5, 0.01
SCHEDULES = ("policy first", "critic first", "joint")


@dataclass(frozen=True)
class UpdateBatch:
    """One batch of N samples and the initial weights: a linear actor (logits = x·W_actor) and a linear critic
    (V = x·w_critic), optionally on a shared tanh trunk x = tanh(obs·W_trunk)."""

    observations: list  # [N, FEATURES]
    actions: list  # [N]
    advantages: list  # [N], frozen
    returns: list  # [N], frozen
    actor: list  # [FEATURES or HIDDEN, ACTIONS]
    critic: list  # [FEATURES or HIDDEN]
    trunk: list | None = None  # [FEATURES, HIDDEN] when shared

    def initial(self) -> dict[str, torch.Tensor]:
        names = ("actor", "critic") if self.trunk is None else ("actor", "critic", "trunk")
        return {name: tensor(getattr(self, name)) for name in names}

    def heads(self, params: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [N, ACTIONS], values [N])."""
        x = tensor(self.observations)
        if "trunk" in params:
            x = torch.tanh(x @ params["trunk"])
        return x @ params["actor"], x @ params["critic"]

    def losses(self, params, frozen, minibatch: slice) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(clip loss, value loss, per-state entropy) on one minibatch."""
        logits, values = self.heads(params)
        logp = torch.log_softmax(logits, dim=-1)[np.arange(N), self.actions]
        logp_old, values_old = frozen
        clip = ppo_clip_loss(logp[minibatch], logp_old[minibatch], self.advantages[minibatch], clip_eps=CLIP_EPS)
        critic = value_loss(values[minibatch], values_old[minibatch], self.returns[minibatch], clip_eps=CLIP_EPS)
        return clip, critic, categorical_entropy(logits[minibatch])

    def train(self, schedule: str) -> dict[str, np.ndarray]:
        """SGD for EPOCHS over MINIBATCHES in the given order; returns the final weights."""
        params = self.initial()
        with torch.no_grad():
            logits, values = self.heads(params)
            frozen = (torch.log_softmax(logits, dim=-1)[np.arange(N), self.actions], values)
        actor = [n for n in params if n != "critic"]
        critic = [n for n in params if n != "actor"]

        def policy(clip, _value, entropy):
            return combined_loss(clip, 0.0, entropy, vf_coef=VF_COEF, ent_coef=ENT_COEF)

        def value(_clip, critic_loss, _entropy):
            return VF_COEF * critic_loss

        def joint(clip, critic_loss, entropy):
            return combined_loss(clip, critic_loss, entropy, vf_coef=VF_COEF, ent_coef=ENT_COEF)

        phases = {
            "policy first": [(actor, policy), (critic, value)],
            "critic first": [(critic, value), (actor, policy)],
            "joint": [(list(params), joint)],
        }[schedule]
        for names, loss_of in phases:
            for _ in range(EPOCHS):
                for minibatch in MINIBATCHES:
                    leaves = {n: p.requires_grad_(n in names) for n, p in params.items()}
                    loss = loss_of(*self.losses(leaves, frozen, minibatch))
                    grads = torch.autograd.grad(loss, [leaves[n] for n in names])
                    params = {n: p.detach() for n, p in leaves.items()}
                    for n, g in zip(names, grads, strict=True):
                        params[n] = params[n] - LR * g
        return {n: p.numpy() for n, p in params.items()}


def weights(shape: tuple[int, ...], bound: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=finite(-bound, bound))


@st.composite
def update_batches(draw, *, shared: bool = False) -> UpdateBatch:
    width = HIDDEN if shared else FEATURES
    return UpdateBatch(
        observations=draw(weights((N, FEATURES)), label="observations").tolist(),
        actions=draw(st.lists(st.integers(0, ACTIONS - 1), min_size=N, max_size=N), label="actions"),
        advantages=draw(weights((N,), 2.0), label="advantages").tolist(),
        returns=draw(weights((N,), 2.0), label="returns").tolist(),
        actor=draw(weights((width, ACTIONS)), label="actor").tolist(),
        critic=draw(weights((width,)), label="critic").tolist(),
        trunk=draw(weights((FEATURES, HIDDEN)), label="trunk").tolist() if shared else None,
    )


@pytest.mark.claim("PPO-13")
@settings(max_examples=25)  # each example is three training runs of 20 SGD steps (about 40 ms)
@given(batch=update_batches())
def test_update_order_does_not_matter_with_frozen_targets_and_disjoint_parameters(batch):
    """PPO-13 (notes §PPO): with frozen targets and disjoint actor/critic parameters, policy-first, critic-first and
    joint per-minibatch updates end at the same weights (to 1e-12: the same gradients, summed in another order)."""
    reference = batch.train("policy first")
    for schedule in SCHEDULES[1:]:
        for name, w in batch.train(schedule).items():
            np.testing.assert_allclose(w, reference[name], rtol=0, atol=1e-12, err_msg=f"{schedule}: {name}")


# Deterministic, unremarkable numbers: nothing about them makes the orders agree or disagree.
SHARED_TRUNK = UpdateBatch(
    observations=np.sin(np.arange(N * FEATURES)).reshape(N, FEATURES).tolist(),
    actions=[i % ACTIONS for i in range(N)],
    advantages=np.cos(np.arange(N)).tolist(),
    returns=np.linspace(-1.0, 1.0, N).tolist(),
    actor=np.cos(np.arange(HIDDEN * ACTIONS)).reshape(HIDDEN, ACTIONS).tolist(),
    critic=np.sin(np.arange(1, HIDDEN + 1)).tolist(),
    trunk=np.cos(np.arange(1, FEATURES * HIDDEN + 1)).reshape(FEATURES, HIDDEN).tolist(),
)


@pytest.mark.claim("PPO-13")
def test_a_shared_trunk_makes_the_order_matter():
    """PPO-13 (notes §PPO): with a trunk shared by actor and critic, each schedule moves the trunk with the other
    head's gradients at other times, so the three end at different weights (here by more than 1e-4): the order is
    immaterial only for disjoint parameters."""
    results = {schedule: SHARED_TRUNK.train(schedule) for schedule in SCHEDULES}
    for schedule in SCHEDULES[1:]:
        gap = max(np.abs(results[schedule][n] - results["policy first"][n]).max() for n in results[schedule])
        assert gap > 1e-4, f"{schedule} vs policy first: the shared trunk made no difference ({gap})"
