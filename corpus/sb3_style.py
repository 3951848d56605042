"""Custom Stable-Baselines3 rollout buffers: a user subclasses ``RolloutBuffer`` and rewrites
``compute_returns_and_advantage`` (float32 numpy ``[buffer_size, n_envs]`` storage, ``episode_starts``)."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.buffers import RolloutBuffer


class VectorizedGAEBuffer(RolloutBuffer):
    """Deltas computed for the whole buffer at once, then one backward pass for the carry."""

    def compute_returns_and_advantage(self, last_values, dones):
        last_values = last_values.clone().cpu().numpy().flatten()
        next_values = np.concatenate([self.values[1:], last_values[None]], axis=0)
        next_non_terminal = np.concatenate(
            [1.0 - self.episode_starts[1:], (1.0 - dones.astype(np.float32))[None]], axis=0
        )
        deltas = self.rewards + self.gamma * next_values * next_non_terminal - self.values
        running = np.zeros(self.n_envs, dtype=np.float32)
        for step in reversed(range(self.buffer_size)):
            running = deltas[step] + self.gamma * self.gae_lambda * next_non_terminal[step] * running
            self.advantages[step] = running
        self.returns = self.advantages + self.values


class Float64GAEBuffer(RolloutBuffer):
    """Accumulates in float64 before storing back into the float32 buffers."""

    def compute_returns_and_advantage(self, last_values, dones):
        last = last_values.detach().cpu().numpy().astype(np.float64).reshape(-1)
        rewards, values = self.rewards.astype(np.float64), self.values.astype(np.float64)
        starts = self.episode_starts.astype(np.float64)
        gae = np.zeros(self.n_envs)
        for step in range(self.buffer_size - 1, -1, -1):
            if step == self.buffer_size - 1:
                keep, v_next = 1.0 - np.asarray(dones, dtype=np.float64), last
            else:
                keep, v_next = 1.0 - starts[step + 1], values[step + 1]
            gae = rewards[step] + self.gamma * v_next * keep - values[step] + self.gamma * self.gae_lambda * keep * gae
            self.advantages[step] = gae
        self.returns = self.advantages + self.values


class EpisodeStartSameStepBuffer(RolloutBuffer):
    """BUG: next_non_terminal taken from episode_starts[step] instead of episode_starts[step + 1]."""

    def compute_returns_and_advantage(self, last_values, dones):
        last_values = last_values.clone().cpu().numpy().flatten()
        last_gae_lam = 0
        for step in reversed(range(self.buffer_size)):
            if step == self.buffer_size - 1:
                next_non_terminal = 1.0 - dones.astype(np.float32)
                next_values = last_values
            else:
                next_non_terminal = 1.0 - self.episode_starts[step]
                next_values = self.values[step + 1]
            delta = self.rewards[step] + self.gamma * next_values * next_non_terminal - self.values[step]
            last_gae_lam = delta + self.gamma * self.gae_lambda * next_non_terminal * last_gae_lam
            self.advantages[step] = last_gae_lam
        self.returns = self.advantages + self.values


class LambdaInBootstrapBuffer(RolloutBuffer):
    """BUG: gamma * gae_lambda precomputed once and used for the bootstrap in delta as well as for the carry."""

    def compute_returns_and_advantage(self, last_values, dones):
        last_values = last_values.clone().cpu().numpy().flatten()
        discount = self.gamma * self.gae_lambda
        last_gae_lam = 0
        for step in reversed(range(self.buffer_size)):
            if step == self.buffer_size - 1:
                next_non_terminal = 1.0 - dones.astype(np.float32)
                next_values = last_values
            else:
                next_non_terminal = 1.0 - self.episode_starts[step + 1]
                next_values = self.values[step + 1]
            delta = self.rewards[step] + discount * next_values * next_non_terminal - self.values[step]
            last_gae_lam = delta + discount * next_non_terminal * last_gae_lam
            self.advantages[step] = last_gae_lam
        self.returns = self.advantages + self.values


class ReturnsBeforeAdvantagesBuffer(RolloutBuffer):
    """BUG (returns only): the TD(lambda) returns are built as a discounted sum of rewards bootstrapped from
    last_values, i.e. Monte-Carlo returns, whatever gae_lambda is; the advantages are right."""

    def compute_returns_and_advantage(self, last_values, dones):
        super().compute_returns_and_advantage(last_values, dones)
        last = last_values.clone().cpu().numpy().flatten()
        running = last * (1.0 - dones.astype(np.float32))
        for step in reversed(range(self.buffer_size)):
            if step < self.buffer_size - 1:
                running = running * (1.0 - self.episode_starts[step + 1])
            running = self.rewards[step] + self.gamma * running
            self.returns[step] = running
