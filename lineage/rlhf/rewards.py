"""Per-token RLHF rewards: a KL penalty on every response token, the reward-model score on the last one."""

from __future__ import annotations

import numpy as np

from lineage._validation import check_real, check_same_shape
from lineage.arrays import backend_of, to_numpy


def token_rewards(scores, logp, ref_logp, mask, *, beta: float):
    """The per-token rewards PPO optimises in RLHF.

        r_t = −β (log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)) + 1[t = last valid token] · score(x, y)

    for a batch of responses y = (y_1, …, y_T) to prompts x and β ≥ 0 (Ziegler et al. 2019 "Fine-Tuning Language
    Models from Human Preferences", §2; Ouyang et al. 2022 "Training language models to follow instructions with
    human feedback", §3.5; as openai/lm-human-preferences ``train_policy.py`` and TRL build them). The reference
    model enters only through the penalty, so π_ref = π leaves the score alone at the end of each response. With
    γ = 1 the rewards of a response sum to Ziegler's sequence reward score − β log π(y|x)/π_ref(y|x), by the chain
    rule of probability.

    ``mask[b, t]`` marks the valid response tokens of row b, in any layout (right or left padding, gaps). Padding
    gets reward 0 and no penalty, whatever log-probabilities it holds (TRL pads them with 1.0). The score sits on
    the last valid token, the EOS, not on the first padding position after it (TRL issues #1893, #3750).

    Derivative: ∂r_t/∂log π(y_t) = −β and ∂r_t/∂log π_ref(y_t) = β on valid tokens, 0 on padding;
    ∂r_t/∂score = 1 on the last valid token, 0 elsewhere.

    Claims STD-RLHF-1, STD-RLHF-2, RLHF-1, RLHF-2; notes §PPO (RLHF part).

    Args:
        scores: the reward model's score of each response, shape ``[batch]``.
        logp: log π(y_t | x, y_<t) of the policy, shape ``[batch, tokens]``.
        ref_logp: log π_ref(y_t | x, y_<t) of the reference model, same shape.
        mask: bool, same shape; True on the valid response tokens, at least one per response.
        beta: the KL coefficient β ≥ 0.

    Returns:
        r_t, shape ``[batch, tokens]``; numpy or torch with the float dtype of ``scores``, ``logp`` and ``ref_logp``
        together (array rule of :mod:`lineage.arrays`), differentiable in all three. The rewards are constants of
        the PPO loss: detach them (or build them under ``torch.no_grad()``) before using them as such.
    """
    beta = check_real("beta", beta, minimum=0.0)
    backend = backend_of(scores, logp, ref_logp, mask)
    xp = backend.xp
    score, policy, reference = backend.floats(scores=scores, logp=logp, ref_logp=ref_logp)
    if policy.ndim != 2 or 0 in tuple(policy.shape):
        raise ValueError(f"logp: expected shape [B, T] (responses, tokens) with B, T >= 1, got {tuple(policy.shape)}")
    (valid,) = backend.flags(mask=mask)
    check_same_shape("logp", policy, ref_logp=reference, mask=valid)
    if tuple(score.shape) != tuple(policy.shape[:1]):
        raise ValueError(
            f"scores: expected shape {tuple(policy.shape[:1])}, one score per response, got {tuple(score.shape)}"
        )
    empty = [row for row, any_valid in enumerate(valid.any(axis=1).tolist()) if not any_valid]
    if empty:
        raise ValueError(f"mask: response {empty[0]} has no valid token; the score needs one to sit on")

    zeros = xp.zeros_like(policy)
    penalty = xp.where(valid, -beta * (policy - reference), zeros)
    tokens = np.arange(policy.shape[1])
    last = backend.index_array(tokens.max() - np.argmax(to_numpy(valid)[:, ::-1], axis=1))
    on_last = backend.index_array(tokens)[None, :] == last[:, None]
    return penalty + xp.where(on_last, score[:, None], zeros)
