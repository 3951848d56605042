"""The function approximators of the training algorithms: a categorical policy for ``Discrete`` action spaces, a
diagonal Gaussian policy for ``Box`` action spaces, and a value network — tanh MLPs with orthogonal initialisation
(Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §6.1; Huang et al. 2022 "The 37 Implementation
Details of Proximal Policy Optimization"). Every policy answers the same three questions — ``distribution(obs)``,
``greedy(obs)`` and ``parameters()`` — so the algorithms and the whole-algorithm laws treat them alike."""

from __future__ import annotations

import math

import gymnasium as gym
import torch
from torch import nn


def layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    """A linear layer y = Wx + b with W = gain · Q (Q orthogonal) and b = 0 (Saxe et al. 2014 "Exact solutions to
    the nonlinear dynamics of learning in deep linear neural networks"). Shapes ``[.., n_in] → [.., n_out]``; claim
    PPO-5 (the networks of Schulman et al. 2017, §6.1); notes §PPO.

    Args:
        n_in: input width.
        n_out: output width.
        gain: the orthogonal initialisation's gain.

    Returns:
        The layer.
    """
    linear = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(linear.weight, gain)
    nn.init.zeros_(linear.bias)
    return linear


def mlp(n_in: int, hidden: int, n_out: int, out_gain: float) -> nn.Sequential:
    """Two tanh hidden layers of ``hidden`` units: f(x) = W₃ tanh(W₂ tanh(W₁x + b₁) + b₂) + b₃, hidden gains √2
    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §6.1). Shapes ``[N, n_in] → [N, n_out]``;
    claim PPO-5; notes §PPO.

    Args:
        n_in: input width.
        hidden: units per hidden layer.
        n_out: output width.
        out_gain: the output layer's gain (0.01 for a policy head, 1 for a value head).

    Returns:
        The network.
    """
    g = math.sqrt(2)
    return nn.Sequential(
        layer(n_in, hidden, g), nn.Tanh(), layer(hidden, hidden, g), nn.Tanh(), layer(hidden, n_out, out_gain)
    )


class CategoricalPolicy(nn.Module):
    """π(a|s) = softmax(logits(s))_a over a ``Discrete(n)`` action space; ``logits(obs)`` is ``[N, n]``."""

    def __init__(self, n_obs: int, n_actions: int, hidden: int):
        super().__init__()
        self.logits = mlp(n_obs, hidden, n_actions, 0.01)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits(obs), validate_args=False)

    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        return self.logits(obs).argmax(-1)


class GaussianPolicy(nn.Module):
    """π(a|s) = N(μ(s), diag σ²) over a ``Box(d)`` action space, with a state-independent learned log σ (initial
    ``log_std``); ``mean(obs)`` is ``[N, d]``, ``log_std`` is ``[d]``. Actions outside the box are clipped by the
    environment's step only, never in the log-probabilities (the sample's own density is the one the ratio needs)."""

    def __init__(self, n_obs: int, action_dim: int, hidden: int, log_std: float = 0.0):
        super().__init__()
        self.mean = mlp(n_obs, hidden, action_dim, 0.01)
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std)))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Independent:
        mean = self.mean(obs)
        normal = torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean), validate_args=False)
        return torch.distributions.Independent(normal, 1, validate_args=False)

    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        return self.mean(obs)


class ValueNetwork(nn.Module):
    """V(s), an MLP with a value head of gain 1; ``forward(obs)`` is ``[N]``."""

    def __init__(self, n_obs: int, hidden: int):
        super().__init__()
        self.net = mlp(n_obs, hidden, 1, 1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)


class Agent(nn.Module):
    """What an algorithm trains: the policy π (``policy``, one of the policies above) and, if it has one, the separate
    value network V (``value``, a :class:`ValueNetwork`; None for REINFORCE)."""

    def __init__(self, policy: nn.Module, value: ValueNetwork | None = None):
        super().__init__()
        self.policy, self.value = policy, value


def observation_size(env_id: str, space: gym.Space) -> int:
    """The width n_obs = shape[0] of a flat (1-d) ``Box`` observation space; raises ``ValueError`` naming
    ``env_id`` otherwise. Shapes: obs ``[N, n_obs]``; claim PPO-5 (the MLP inputs of Schulman et al. 2017, §6.1);
    notes §PPO.

    Args:
        env_id: the environment's id, for the message.
        space: its single observation space.

    Returns:
        n_obs.
    """
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"env_id: {env_id} has the observation space {space}; expected a flat Box")
    return int(space.shape[0])


def make_policy(
    env_id: str, envs: gym.vector.VectorEnv, hidden: int, *, continuous: bool = True, log_std: float = 0.0
) -> CategoricalPolicy | GaussianPolicy:
    """The policy for ``envs``' action space: categorical π = softmax(logits(s)) for ``Discrete``, diagonal Gaussian
    N(μ(s), diag σ²) for a flat ``Box`` (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §6.1 for
    both). Shapes: obs ``[N, n_obs]`` → a distribution over ``[N]`` or ``[N, d]`` actions; claim PPO-5; notes §PPO.

    Args:
        env_id: the environment's id, for messages.
        envs: the vector environment.
        hidden: units per hidden layer.
        continuous: whether the algorithm handles a ``Box`` action space (False: only ``Discrete``).
        log_std: the Gaussian policy's initial log σ.

    Returns:
        The policy; raises ``ValueError`` naming ``env_id`` for an action space the algorithm does not handle.
    """
    n_obs = observation_size(env_id, envs.single_observation_space)
    space = envs.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        return CategoricalPolicy(n_obs, int(space.n), hidden)
    if continuous and isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        return GaussianPolicy(n_obs, int(space.shape[0]), hidden, log_std)
    wanted = "Discrete or a flat Box" if continuous else "Discrete"
    raise ValueError(f"env_id: {env_id} has the action space {space}; this algorithm's policy needs {wanted}")
