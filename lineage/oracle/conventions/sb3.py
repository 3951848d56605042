"""Stable-Baselines3's rollout buffer (``stable_baselines3.common.buffers.RolloutBuffer``).

    buffer = target(buffer_size=T, observation_space, action_space, device="cpu", gae_lambda=λ, gamma=γ, n_envs=B)
    buffer.rewards[:], buffer.values[:], buffer.episode_starts[:] = ...      # numpy float32 [T, B]
    buffer.compute_returns_and_advantage(last_values=V(s_T) as a torch tensor [B], dones=done flags of step T − 1)
    -> buffer.advantages (gae), buffer.returns (lambda_returns = advantages + values)

The target is the buffer class (``RolloutBuffer`` or a subclass); the adapter builds one buffer per call
with small Box spaces and drives it. ``episode_starts[t]`` flags that observation t starts an episode
(step t − 1 ended one); inside an episode V(s_{t+1}) is ``values[t + 1]``. The buffer knows one done
flag, so a truncation is expressed the way SB3's own ``collect_rollouts`` does: γ·V(final observation) is
folded into the reward of the truncated (not terminated) step, which is then marked done. The
discounted_returns contract is the buffer with zero values and gae_lambda = 1, read from ``.returns``.

The buffer stores float32 numpy arrays whatever framework or dtype is asked for, so the target is always
driven in numpy float32 and held to float32 accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, as_batch, episode_start_flags
from lineage.oracle.numerics import Numerics

STORAGE = Numerics("numpy", "float32")  # what the buffer stores, whatever the target's numerics say
BUFFER_ARRAYS = ("rewards", "values", "episode_starts")


@dataclass(frozen=True)
class BufferArray:
    """Reads one array of the driven buffer (``.advantages`` or ``.returns``)."""

    name: str

    def __call__(self, buffer) -> np.ndarray:
        return getattr(buffer, self.name)


class SB3(Convention):
    name = "sb3"
    summary = "Stable-Baselines3 RolloutBuffer: float32 [T, n_envs], episode starts, truncation folded into rewards"
    capabilities = Capabilities(separate_flags=False)
    numerics = STORAGE
    fixed_numerics = True
    imports = ("torch", "gymnasium")
    signatures = {
        "gae": "RolloutBuffer(T, obs_space, act_space, gae_lambda=λ, gamma=γ, n_envs=B)"
        ".compute_returns_and_advantage(last_values, dones) -> .advantages",
        "lambda_returns": "RolloutBuffer(...).compute_returns_and_advantage(last_values, dones) -> .returns",
        "discounted_returns": "RolloutBuffer(..., gae_lambda=1) with values = 0 -> .returns",
    }

    def calls(self, contract, arrays, params):
        terminated, truncated = as_batch(arrays["terminated"]), as_batch(arrays["truncated"])
        next_values, gamma = as_batch(arrays["next_values"]), params["gamma"]
        done = terminated | truncated
        rewards = as_batch(arrays["rewards"]) + gamma * np.where(truncated & ~terminated, next_values, 0.0)
        values = np.zeros_like(rewards) if contract == "discounted_returns" else as_batch(arrays["values"])
        args = [
            ("rewards", rewards),
            ("values", values),
            ("episode_starts", episode_start_flags(done)),
            ("last_values", next_values[-1]),
            ("dones", done[-1]),
        ]
        kwargs = {"gamma": gamma, "gae_lambda": params.get("lam", 1.0)}
        return [TargetCall(args, kwargs, read=BufferArray("advantages" if contract == "gae" else "returns"))]

    def prepare(self, call, numerics):
        return super().prepare(call, STORAGE)

    def execute(self, function, args, kwargs):
        import torch
        from gymnasium import spaces

        arrays = dict(args)
        steps, envs = arrays["rewards"].shape
        box = spaces.Box(-1.0, 1.0, (1,), np.float32)
        buffer = function(steps, box, box, device="cpu", n_envs=envs, **kwargs)
        for name in BUFFER_ARRAYS:
            getattr(buffer, name)[:] = arrays[name]
        buffer.compute_returns_and_advantage(last_values=torch.from_numpy(arrays["last_values"]), dones=arrays["dones"])
        return buffer

    def render(self, label, call, numerics):
        arrays = dict(call.args)
        steps, envs = arrays["rewards"].shape
        settings = ", ".join(f"{name}={value!r}" for name, value in call.kwargs.items())
        return [
            "import numpy as np",
            "import torch",
            "from gymnasium import spaces",
            "box = spaces.Box(-1.0, 1.0, (1,), np.float32)",
            f"buffer = target({steps}, box, box, device='cpu', n_envs={envs}, {settings})",
            *(f"buffer.{name}[:] = {STORAGE.literal(arrays[name])}" for name in BUFFER_ARRAYS),
            "buffer.compute_returns_and_advantage(",
            f"    last_values=torch.tensor({arrays['last_values'].tolist()!r}),",
            f"    dones={STORAGE.literal(arrays['dones'])},",
            ")",
            f"out = buffer.{call.read.name}",
        ]
