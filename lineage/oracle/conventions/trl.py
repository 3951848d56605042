"""TRL-style PPO code (Hugging Face TRL's PPO trainer): every
per-token array is a ``[batch, tokens]`` tensor of a padded batch of responses; the losses take a response
``mask`` (True on a response token) and are masked means over the response tokens, the rewards take a
``padding_mask`` (True on padding) and the KL coefficient as ``kl_coef``.

    ppo_clip_loss: target(logp_new, logp_old, advantages, mask, clip_eps)
                   -> masked_mean(max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), mask)
    value_loss:    target(values_new, values_old, returns, mask, clip_eps)
                   -> ½·masked_mean(max((V − R)², (clip(V, V_old ± ε) − R)²), mask)
    token_rewards: target(scores, logprobs, ref_logprobs, padding_mask, kl_coef) -> rewards [batch, tokens]

For the losses the adapter lays the case's samples out as one response followed by one padded token. The padded
token holds TRL's placeholder log-probability 1.0 (``INVALID_LOGPROB``) on both sides, an advantage of 1 and values
0 against a return of 1. A target that averages over the padding as well is off by (padded term − masked mean)/(N + 1):
the padded token's term is −1 in the policy loss and 1 under the value loss's ½·mean, so only a case whose own
mean term is exactly that hides the mistake. The rewards' batch is passed as it is, padding values included: where
TRL puts the score is what the token_rewards laws check (TRL's trainer places it on the first padded token after the
response, lm-human-preferences and the contract on the last response token). TRL's responses are right-padded by
construction (``padding_mask = index > sequence_length``), so the laws draw right-padded masks for this convention
(capability ``any_mask_layout``): left padding or gaps are not TRL inputs.
"""

from __future__ import annotations

import numpy as np

from lineage.oracle.capabilities import Capabilities
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
    summary = "TRL-style: [batch, tokens] tensors; losses are masked token means, rewards take a padding mask"
    numerics = Numerics("torch", "float32")
    capabilities = Capabilities(any_mask_layout=False)
    signatures = {
        "ppo_clip_loss": "target(logp_new, logp_old, advantages, mask, clip_eps) -> masked token-mean loss",
        "value_loss": "target(values_new, values_old, returns, mask, clip_eps) -> ½ masked token-mean of the max",
        "token_rewards": "target(scores, logprobs, ref_logprobs, padding_mask, kl_coef) -> per-token rewards",
    }

    def calls(self, contract, arrays, params):
        if contract == "token_rewards":
            args = [
                ("scores", arrays["scores"]),
                ("logprobs", arrays["logp"]),
                ("ref_logprobs", arrays["ref_logp"]),
                ("padding_mask", ~arrays["mask"]),
                ("kl_coef", params["beta"]),
            ]
            return [TargetCall(args)]
        names = ARGUMENTS[contract]
        tokens = len(arrays[names[0]])
        mask = np.append(np.ones(tokens, dtype=bool), False)[None, :]
        args = [*((name, padded_response(name, arrays[name])) for name in names), ("mask", mask)]
        return [TargetCall([*args, ("clip_eps", params["clip_eps"])])]
