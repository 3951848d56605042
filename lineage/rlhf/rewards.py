"""Per-token RLHF rewards: a KL penalty on every response token, the reward-model score on the last one.

For a batch of responses y = (y_1, …, y_T) to prompts x, with β ≥ 0,

    r_t = −β (log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)) + 1[t = last valid token] · score(x, y)

(Ziegler et al. 2019; InstructGPT; openai/lm-human-preferences ``train_policy.py``; claims STD-RLHF-1,
RLHF-1, RLHF-2; notes §PPO, RLHF part). The reference model enters only through the penalty, so
π_ref = π leaves the score alone at the end of each response. With γ = 1 the rewards of a response sum to
Ziegler's sequence reward score − β log π(y|x)/π_ref(y|x) (chain rule of probability; STD-RLHF-2).

``mask[b, t]`` marks the valid response tokens of row b; any layout works (right or left padding). Padding
gets reward 0 and no penalty, whatever log-probabilities it holds (TRL pads them with 1.0). The score sits
on the last valid token, the EOS, not on the first padding position after it (TRL issues #1893/#3750).
"""

from __future__ import annotations

import numpy as np

from lineage._validation import as_bool_array, as_float_array, check_real, check_same_shape
from lineage.arrays import same_framework, to_numpy


def token_rewards(scores, logp, ref_logp, mask, *, beta: float):
    """Per-token rewards ``[B, T]`` from ``scores [B]``, ``logp``, ``ref_logp`` and a bool ``mask``, all ``[B, T]``.

    numpy in, numpy out; torch in (``logp`` a tensor), a tensor out on ``logp``'s device, without gradient.
    Computed in the floating type of ``scores``, ``logp`` and ``ref_logp`` together (float32 stays float32).
    """
    beta = check_real("beta", beta, minimum=0.0)
    policy = as_float_array("logp", to_numpy(logp))
    if policy.ndim != 2 or 0 in policy.shape:
        raise ValueError(f"logp: expected shape [B, T] (responses, tokens) with B, T >= 1, got {policy.shape}")
    reference = as_float_array("ref_logp", to_numpy(ref_logp))
    valid = as_bool_array("mask", to_numpy(mask))
    check_same_shape("logp", policy, ref_logp=reference, mask=valid)
    score = as_float_array("scores", to_numpy(scores))
    if score.shape != policy.shape[:1]:
        raise ValueError(f"scores: expected shape {policy.shape[:1]}, one score per response, got {score.shape}")
    empty = np.flatnonzero(~valid.any(axis=1))
    if empty.size:
        raise ValueError(f"mask: response {empty[0]} has no valid token; the score needs one to sit on")

    dtype = np.result_type(score, policy, reference)
    rewards = np.where(valid, -beta * (policy - reference), 0.0).astype(dtype)
    last = valid.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    rewards[np.arange(len(rewards)), last] += score
    return same_framework(rewards, logp)
