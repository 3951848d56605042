"""REINFORCE with a learned state-value baseline (torch, CPU), read top to bottom: config → rollout → estimate →
update → log.

    θ ← θ + α ĝ,   ĝ = (1/N) Σ_n Σ_t w_t (G_{n,t} − V_w(s_{n,t})) ∇_θ log π_θ(a_{n,t}|s_{n,t})
    w ← w − β ∇_w ½ (1/M) Σ (V_w(s) − G)²

over N complete Monte-Carlo episodes of the current policy (Williams 1992 "Simple Statistical Gradient-Following
Algorithms for Connectionist Reinforcement Learning", the reinforcement baseline; Sutton & Barto 2018, §13.4,
"REINFORCE with Baseline"), both steps taken by Adam. The baseline depends on the state only, so it leaves the
expected estimate unchanged (claim AC-6) and only changes its variance (claim AC-7: not always downwards for the
vector estimate). The weights w_t follow the convention of :mod:`lineage.algorithms.reinforce` (default C2, w_t = 1;
C1, w_t = γ^t, estimates ∇J_γ: claim PG-7).

Every formula is a verified building block: ψ_t = G_t − V(s_t) is :func:`lineage.pg.reward_to_go_minus_baseline`,
the critic's target G_t is :func:`lineage.pg.reward_to_go`, the per-step weighted sum is
:func:`lineage.pg.gradient_estimate` (through :func:`lineage.algorithms.reinforce.surrogate`, whose gradient is ĝ),
and the critic's regression loss is :func:`lineage.ppo.value_loss` (its unclipped variant, ½ mean (V − G)²). As in
REINFORCE, a time-limit cut ends the Monte-Carlo return: the baseline cannot change what is estimated, only its
variance, so the estimate stays the gradient of the time-limited return CartPole-v1 scores (Pardo et al. 2018
"Time Limits in Reinforcement Learning"). Claims AC-6, AC-7, PG-7, PG-8, STD-BASE-1; notes §PG, §VAR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode

import lineage.pg
import lineage.ppo
from lineage._validation import check_positive_int, check_real, check_unit_interval
from lineage.algorithms.common import RunLog, TrainResult, check_run, make_envs, seed_everything
from lineage.algorithms.networks import Agent, ValueNetwork, make_policy, observation_size
from lineage.algorithms.reinforce import (
    EpisodeCollector,
    Episodes,
    check_convention,
    log_probabilities,
    policy_step,
    sampler,
    surrogate,
)

# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ReinforceBaselineConfig:
    """Hyper-parameters of a run of REINFORCE with a learned baseline: ``n_envs`` complete episodes per update (one
    per sub-environment), Adam steps of size ``learning_rate`` for the policy and ``value_learning_rate`` for the
    baseline (``value_epochs`` full-batch steps per update), discount ``gamma``, the convention of the per-step
    weights. Measured on CartPole-v1, seed 1 (mean of the last 100 training episodes ≥ 475): C2 after 124k steps,
    C1 after 193k; with a weaker critic (4 epochs at 1e-3) C2 needed 208k. Every field is checked on construction:
    a bad value raises ``ValueError`` naming the field."""

    env_id: str = "CartPole-v1"
    total_steps: int = 250_000  # environment steps of the collected episodes
    seed: int = 1
    n_envs: int = 8  # episodes per update
    learning_rate: float = 1e-3
    value_learning_rate: float = 3e-3
    value_epochs: int = 10
    gamma: float = 0.99
    convention: str = "C2"  # "C1": w_t = γ^t (∇J_γ); "C2": w_t = 1 (g^γ)
    hidden: int = 64
    max_grad_norm: float | None = None
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
    threshold: float | None = None  # mean return over the last ``window`` episodes; None: common.threshold_for(env_id)
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        check_run(self)
        for name in ("n_envs", "value_epochs", "hidden"):
            check_positive_int(name, getattr(self, name))
        for name in ("learning_rate", "value_learning_rate"):
            check_real(name, getattr(self, name), minimum=0.0, inclusive=False)
        check_unit_interval("gamma", self.gamma)
        check_convention(self.convention)
        if self.max_grad_norm is not None:
            check_real("max_grad_norm", self.max_grad_norm, minimum=0.0, inclusive=False)


# ---------------------------------------------------------------------------------------------------- networks


def make_agent(config: ReinforceBaselineConfig, envs: gym.vector.VectorEnv) -> Agent:
    """The categorical policy π(a|s) = softmax(MLP(s))_a and the baseline V(s) = MLP(s) for ``envs`` (Sutton & Barto
    2018, §13.4: a state-value baseline v̂(s, w)). Claims AC-6, PG-8; notes §VAR.

    Args:
        config: the run's configuration (``hidden`` units per layer).
        envs: the vector environment.

    Returns:
        The agent; raises ``ValueError`` naming ``env_id`` for a continuous action space or a non-flat
        observation space.
    """
    policy = make_policy(config.env_id, envs, config.hidden, continuous=False)
    return Agent(policy, ValueNetwork(observation_size(config.env_id, envs.single_observation_space), config.hidden))


# ---------------------------------------------------------------------------------------------------- rollout
# (the complete episodes of lineage.algorithms.reinforce.EpisodeCollector, sampled by its ``sampler``)


@torch.no_grad()
def baselines(agent: Agent, episodes: Episodes) -> np.ndarray:
    """b_{n,t} = V_w(s_{n,t}) of the critic before this update, 0 on padding, float64 ``[N, T]`` (a function of the
    state only: claim AC-6). Sutton & Barto 2018, §13.4; notes §VAR.

    Args:
        agent: the policy and baseline.
        episodes: the episodes.

    Returns:
        b ``[N, T]``.
    """
    b = np.zeros(episodes.mask.shape)
    b[episodes.mask] = agent.value(torch.as_tensor(episodes.observations[episodes.mask], dtype=torch.float32)).numpy()
    return b


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(episodes: Episodes, b: np.ndarray, config: ReinforceBaselineConfig) -> tuple[np.ndarray, np.ndarray]:
    """The actor's weights and the critic's targets, by lineage's verified functions:

        ψ_{n,t} = lineage.pg.reward_to_go_minus_baseline(r_n, b_n, γ)_t = G_{n,t} − b_{n,t}
        G_{n,t} = lineage.pg.reward_to_go(r_n, γ)_t = Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}

    (Williams 1992; Sutton & Barto 2018, §13.4). Padding has r = 0 and b = 0, so ψ = G = 0 there.
    Claims AC-6, PG-8; notes §PG, §VAR.

    Args:
        episodes: the episodes.
        b: the baselines ``[N, T]`` of :func:`baselines`.
        config: ``gamma``.

    Returns:
        ``(psi, returns)``, float64 ``[N, T]``.
    """
    psi = lineage.pg.reward_to_go_minus_baseline(episodes.rewards, b, gamma=config.gamma)
    returns = lineage.pg.reward_to_go(episodes.rewards, gamma=config.gamma)
    return psi, returns


# ---------------------------------------------------------------------------------------------------- update


def value_update(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    episodes: Episodes,
    b: np.ndarray,
    returns: np.ndarray,
    config: ReinforceBaselineConfig,
) -> list[float]:
    """``value_epochs`` full-batch Adam steps of the baseline on lineage's verified regression loss

        L(w) = lineage.ppo.value_loss(V_w(s), V_old(s), G, variant="unclipped") = ½ (1/M) Σ_i (V_w(s_i) − G_i)²

    over the M = Σ_n T_n steps of the episodes (Sutton & Barto 2018, §13.4: w ← w + β (G_t − v̂(S_t, w)) ∇v̂;
    Schulman et al. 2017's unclipped L^VF). Claims AC-6, STD-PPO-5; notes §VAR, §PPO.

    Args:
        agent: the policy and baseline (the baseline is updated in place).
        optimizer: the baseline's Adam optimiser.
        episodes: the episodes.
        b: V_old ``[N, T]`` of :func:`baselines`.
        returns: G ``[N, T]`` of :func:`estimate`.
        config: ``value_epochs`` and ``max_grad_norm``.

    Returns:
        The loss of each step.
    """
    obs = torch.as_tensor(episodes.observations[episodes.mask], dtype=torch.float32)
    v_old = torch.as_tensor(b[episodes.mask], dtype=torch.float32)
    targets = torch.as_tensor(returns[episodes.mask], dtype=torch.float32)
    losses = []
    for _ in range(config.value_epochs):
        loss = lineage.ppo.value_loss(agent.value(obs), v_old, targets, clip_eps=None, variant="unclipped")
        losses.append(policy_step(loss, optimizer, agent.value, config.max_grad_norm))
    return losses


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: ReinforceBaselineConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains REINFORCE with a learned baseline (Williams 1992; Sutton & Barto 2018, §13.4):

        repeat until total_steps: N episodes of π_θ → b = V_w(s) → ψ = G − b, G →
        θ ← Adam step on −S(θ) with ψ → w ← ``value_epochs`` Adam steps on ½ mean (V_w − G)²

    One log line per update (steps, mean return over the last ``window`` training episodes, the policy loss −S, the
    critic loss, the mean episode length), through ``log`` (default: ``tqdm.write`` under a progress bar when
    ``config.progress``). Claims AC-6, PG-7, PG-8; notes §PG, §VAR.

    Args:
        config: the run's configuration.
        log: receives each log line; None prints them.
        on_update: called with the agent before the first update and after every update.

    Returns:
        A :class:`~lineage.algorithms.common.TrainResult`.
    """
    seed_everything(config.seed)
    envs = make_envs(config.env_id, config.n_envs, config.seed, config.autoreset_mode)
    try:
        agent = make_agent(config, envs)
        policy_optimizer = torch.optim.Adam(agent.policy.parameters(), lr=config.learning_rate)
        value_optimizer = torch.optim.Adam(agent.value.parameters(), lr=config.value_learning_rate)
        collector = EpisodeCollector(envs, seed=config.seed)
        act = sampler(agent)
        run = RunLog(TrainResult(agent), config, None, log)
        if on_update is not None:
            on_update(agent)
        while run.result.steps < config.total_steps:
            episodes = collector.collect(act)  # rollout
            b = baselines(agent, episodes)
            psi, returns = estimate(episodes, b, config)  # estimate
            policy_loss = policy_step(  # update
                -surrogate(log_probabilities(agent, episodes), psi, config),
                policy_optimizer,
                agent.policy,
                config.max_grad_norm,
            )
            value_losses = value_update(agent, value_optimizer, episodes, b, returns, config)
            if on_update is not None:
                on_update(agent)
            run.iteration(  # log
                episodes.steps,
                episodes.returns,
                [policy_loss, *value_losses],
                f"loss {policy_loss:+10.3f}  L_V {value_losses[-1]:9.3f}  "
                f"mean length {episodes.steps / len(episodes.returns):6.1f}",
            )
    finally:
        envs.close()
    return run.close()
