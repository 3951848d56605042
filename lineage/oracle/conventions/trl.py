"""TRL-style token losses (Hugging Face TRL's PPO trainer; spec/library-conventions.md §1.6, §2.4, §2.5): every
per-sample array is a ``[batch, tokens]`` tensor of a padded batch of responses, with a response ``mask``
(True on a response token, False on padding), and the losses are masked means over the response tokens.

    ppo_clip_loss: target(logp_new, logp_old, advantages, mask, clip_eps)
                   -> masked_mean(max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), mask)
    value_loss:    target(values_new, values_old, returns, mask, clip_eps)
                   -> ½·masked_mean(max((V − R)², (clip(V, V_old ± ε) − R)²), mask)

The adapter lays the case's samples out as one response followed by one padded token. The padded token holds
TRL's placeholder log-probability 1.0 (``INVALID_LOGPROB``) on both sides, an advantage of 1 and values 0 against a
return of 1. A target that averages over the padding as well is off by (padded term − masked mean)/(N + 1): the
padded token's term is −1 in the policy loss and 1 under the value loss's ½·mean, so only a case whose own mean
term is exactly that hides the mistake.
"""

from __future__ import annotations

import numpy as np

from lineage.oracle.conventions.base import Convention, TargetCall
from lineage.oracle.numerics import Numerics

PAD = {
    "logp_new": 1.0,
    "logp_old": 1.0,
    "advantages": 1.0,
    "values_new": 0.0,
    "values_old": 0.0,
    "returns": 1.0,
}  # the padded token's entries
ARGUMENTS = {
    "ppo_clip_loss": ("logp_new", "logp_old", "advantages"),
    "value_loss": ("values_new", "values_old", "returns"),
}


def padded_response(name: str, samples: np.ndarray) -> np.ndarray:
    """The samples as a [1, N + 1] batch: one response of N tokens, then one padded token."""
    return np.append(samples, PAD[name])[None, :]


class TRL(Convention):
    name = "trl"
    summary = "TRL-style token losses: [batch, tokens] tensors with a response mask, masked means over tokens"
    numerics = Numerics("torch", "float32")
    signatures = {
        "ppo_clip_loss": "target(logp_new, logp_old, advantages, mask, clip_eps) -> masked token-mean loss",
        "value_loss": "target(values_new, values_old, returns, mask, clip_eps) -> ½ masked token-mean of the max",
    }

    def calls(self, contract, arrays, params):
        names = ARGUMENTS[contract]
        tokens = len(arrays[names[0]])
        mask = np.append(np.ones(tokens, dtype=bool), False)[None, :]
        args = [*((name, padded_response(name, arrays[name])) for name in names), ("mask", mask)]
        return [TargetCall([*args, ("clip_eps", params["clip_eps"])])]
