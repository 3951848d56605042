"""CleanRL's inline GAE (``cleanrl/ppo.py``; the same layout as openai/baselines ppo2's runner).

    target(rewards, values, dones, next_value, next_done, gamma, gae_lambda) -> advantages
        (or (advantages, returns); returns = advantages + values for the lambda_returns contract)

Time-major ``[num_steps, num_envs]`` float tensors; ``dones[t]`` flags that observation t *starts* an
episode (it is the ``next_done`` of the previous step); ``next_value``/``next_done`` describe the
observation after the last step. One done flag: CleanRL treats truncation as termination
(CleanRL issue #198), so truncations inside a segment cannot be expressed.
"""

from __future__ import annotations

import numpy as np

from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, as_batch, episode_start_flags, pick
from lineage.oracle.numerics import Numerics

OUTPUT_INDEX = {"gae": 0, "lambda_returns": 1}


class CleanRL(Convention):
    name = "cleanrl"
    summary = "CleanRL / baselines ppo2: [T, B] tensors, dones = episode-start flags, next_value, next_done"
    capabilities = Capabilities(truncation_inside=False, separate_flags=False)
    numerics = Numerics("torch", "float32")
    signatures = {
        "gae": "target(rewards, values, dones, next_value, next_done, gamma, gae_lambda) -> advantages",
        "lambda_returns": "target(rewards, values, dones, next_value, next_done, gamma, gae_lambda) -> returns",
    }

    def calls(self, contract, arrays, params):
        done = as_batch(arrays["terminated"] | arrays["truncated"])
        args = [
            ("rewards", as_batch(arrays["rewards"])),
            ("values", as_batch(arrays["values"])),
            ("dones", episode_start_flags(done)),
            ("next_value", as_batch(arrays["next_values"])[-1]),
            ("next_done", as_batch(arrays["terminated"])[-1].astype(np.float64)),
            ("gamma", params["gamma"]),
            ("gae_lambda", params["lam"]),
        ]
        return [TargetCall(args, read=lambda out: pick(out, OUTPUT_INDEX[contract]))]
