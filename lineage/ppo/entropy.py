"""The entropy bonus of a categorical policy and PPO's combined loss."""

from __future__ import annotations

import math

from lineage._validation import check_real
from lineage.arrays import backend_of, per_sample_floats

VF_COEF = 0.5  # c1 of Stable-Baselines3, CleanRL and OpenAI baselines


def categorical_entropy(logits):
    """The entropy of a categorical policy, per state.

        H[π](s) = −Σ_a π(a|s) log π(a|s),   π = softmax(logits) over the last axis

    the bonus S of PPO's combined objective (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §5,
    eq. 9; Williams & Peng 1991 for entropy regularisation).

    Derivative: ∂H/∂logits = −π ⊙ (log π + H).

    Claim STD-PPO-4; notes §PPO (combined objective).

    Args:
        logits: shape ``[..., K]`` (e.g. ``[N, K]``, a row of action logits per state).

    Returns:
        H per row, shape ``[...]`` (``[N]``); numpy or torch with the input's float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``logits``.
    """
    backend, (z,) = per_sample_floats(logits=logits)
    if z.ndim == 0:
        raise ValueError("logits: expected logits over the actions along the last axis, got a scalar")
    log_pi = backend.log_softmax(z)
    return -(backend.xp.exp(log_pi) * log_pi).sum(axis=-1)


def combined_loss(clip_loss, value_loss, entropy, *, vf_coef: float = VF_COEF, ent_coef: float):
    """PPO's combined loss, with the signs that make a descent step raise the objective.

        PPO maximises L^CLIP − c1 L^VF + c2 S;  its loss is
        loss = −L^CLIP + c1 L^VF − c2 mean H = clip_loss + c1 · value_loss − c2 · (1/N) Σ_i H_i

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §5, eq. 9.) A descent step raises the
    entropy: OpenAI baselines ppo2's sign; Stable-Baselines3 once had it flipped (PR #130).

    Derivative: ∂loss/∂clip_loss = 1, ∂loss/∂value_loss = c1, ∂loss/∂H_i = −c2/N.

    Claim STD-PPO-4; notes §PPO (combined objective).

    Args:
        clip_loss: the scalar loss of :func:`~lineage.ppo.ppo_clip_loss` (a number or a 0-d array).
        value_loss: the scalar loss of :func:`~lineage.ppo.value_loss`.
        entropy: H_i per state, shape ``[N]`` (e.g. :func:`categorical_entropy`).
        vf_coef: c1 ≥ 0; 0.5 by default, as in Stable-Baselines3, CleanRL and OpenAI baselines.
        ent_coef: c2 ≥ 0; no default, because the libraries disagree (0.0 in Stable-Baselines3 and OpenAI
            baselines, 0.01 in CleanRL).

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in all three arguments.
    """
    vf_coef = check_real("vf_coef", vf_coef, minimum=0.0)
    ent_coef = check_real("ent_coef", ent_coef, minimum=0.0)
    backend = backend_of(clip_loss, value_loss, entropy)
    clip, value, h = backend.floats(clip_loss=clip_loss, value_loss=value_loss, entropy=entropy)
    for name, term in (("clip_loss", clip), ("value_loss", value)):
        if term.ndim != 0:
            raise ValueError(f"{name}: expected a scalar loss, got shape {tuple(term.shape)}")
    if math.prod(h.shape) == 0:
        raise ValueError(f"entropy: expected at least one sample, got shape {tuple(h.shape)}")
    return backend.scalar(clip + vf_coef * value - ent_coef * h.mean())
