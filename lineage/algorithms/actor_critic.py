"""One-step Actor-Critic with a categorical MLP policy and a value network (torch, CPU), read top to bottom: config →
rollout → estimate → update → log.

    δ_t = r_t + γ (1 − terminated_t) V_w(s_{t+1}) − V_w(s_t)
    θ ← θ + α [(1/M) Σ_t δ_t ∇_θ log π_θ(a_t|s_t) + c ∇_θ (1/M) Σ_t H[π_θ](s_t)],   w ← w + β (1/M) Σ_t δ_t ∇_w V_w(s_t)

Sutton & Barto 2018, §13.5 "One-step Actor-Critic", run on ``n_envs`` parallel sub-environments: every update uses
the M = n_envs · n_steps transitions just collected (by default 16 sub-environments × 2 steps: Sutton & Barto's
online algorithm batched over the sub-environments and two consecutive steps — A2C's synchronous layout of Mnih et
al. 2016 with one-step TD errors instead of n-step returns; every transition's weight is its own one-step δ, never
a multi-step return). Both steps are taken by Adam. The TD error bootstraps from V of the true next observation:
from the final observation when a time limit cut the episode, from 0 only when the episode terminated (Pardo et
al. 2018 "Time Limits in Reinforcement Learning"; claims STD-TT-1, STD-TT-2; the vector environment's autoreset is
handled by :class:`~lineage.algorithms.rollout.VectorRollout`).

The actor uses the C2 convention, I_t = 1 (the notes' update, claim AC-19): Sutton & Barto's I_t = γ^t needs each
transition's time within its episode, which a stream of parallel episodes cut into segments does not have, and
g^γ (Schulman et al. 2016) is the usual direction for an undiscounted score such as CartPole-v1's.

The entropy bonus c · H (c = ``ent_coef`` = 0.01; Williams & Peng 1991, as in A2C of Mnih et al. 2016) is not in
Sutton & Barto's algorithm: without it seed 3 of CartPole-v1 collapsed to a nearly deterministic policy and never
left a mean return of 20–47 in 200k steps (with gradient clipping instead, to 9.4); ``ent_coef=0`` is the plain
algorithm.

Every formula is a verified building block: δ_t is :func:`lineage.td_errors`; the entropy is
:func:`lineage.ppo.categorical_entropy`; the actor's Σ_t I_t δ_t ∇log π is
:func:`lineage.actor_critic.actor_direction` and the critic's semi-gradient −Σ_t δ_t ∇V_w(s_t) is
:func:`lineage.actor_critic.critic_loss_gradient`, each applied to the per-step log π_θ (resp. V_w) instead of its
gradient: both are linear in that argument, so autograd of the returned value is exactly the verified direction
(δ is a constant: the target is not differentiated, claim AC-15). Claims AC-15, AC-16, AC-19, AC-20, STD-TT-1;
notes §AC, §TD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import lineage
import lineage.actor_critic
import lineage.ppo
from lineage._validation import check_positive_int, check_real, check_unit_interval
from lineage.algorithms.common import RunLog, TrainResult, check_run, make_envs, policy_callables, seed_everything
from lineage.algorithms.networks import Agent, ValueNetwork, make_policy, observation_size
from lineage.algorithms.rollout import Rollout, VectorRollout

# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ActorCriticConfig:
    """Hyper-parameters of a one-step Actor-Critic run: ``n_envs`` sub-environments stepped ``n_steps`` times per
    update, Adam step sizes ``learning_rate`` (actor) and ``value_learning_rate`` (critic), discount ``gamma``, the
    entropy bonus ``ent_coef``. Without the bonus (ent_coef = 0), on CartPole-v1 (mean of the last 100 training
    episodes ≥ 475): seed 1 after 129k steps (both step sizes 2e-3: 123k, with a collapse to a mean of 46 on the
    way), seed 2 after 152k, seed 3 never in 200k. Every field is checked on construction: a bad value raises
    ``ValueError`` naming the field."""

    env_id: str = "CartPole-v1"
    total_steps: int = 200_000  # environment steps over all sub-environments
    seed: int = 1
    n_envs: int = 16
    n_steps: int = 2  # steps per sub-environment and update (each transition still uses its one-step δ)
    learning_rate: float = 1e-3
    value_learning_rate: float = 1e-3
    gamma: float = 0.99
    ent_coef: float = 0.01  # c of the entropy bonus c · mean H[π](s) (Williams & Peng 1991)
    hidden: int = 64
    max_grad_norm: float | None = None
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
    threshold: float | None = None  # mean return over the last ``window`` episodes; None: common.threshold_for(env_id)
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        check_run(self)
        for name in ("n_envs", "n_steps", "hidden"):
            check_positive_int(name, getattr(self, name))
        for name in ("learning_rate", "value_learning_rate"):
            check_real(name, getattr(self, name), minimum=0.0, inclusive=False)
        check_unit_interval("gamma", self.gamma)
        check_real("ent_coef", self.ent_coef, minimum=0.0)
        if self.max_grad_norm is not None:
            check_real("max_grad_norm", self.max_grad_norm, minimum=0.0, inclusive=False)

    @property
    def batch_size(self) -> int:
        return self.n_envs * self.n_steps

    @property
    def iterations(self) -> int:
        return max(1, self.total_steps // self.batch_size)


# ---------------------------------------------------------------------------------------------------- networks


def make_agent(config: ActorCriticConfig, envs: gym.vector.VectorEnv) -> Agent:
    """The actor π(a|s) = softmax(MLP(s))_a and the critic V(s) = MLP(s) for ``envs`` (Sutton & Barto 2018, §13.5:
    a differentiable policy π(a|s, θ) and state-value function v̂(s, w)). Claims AC-19, AC-15; notes §AC.

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


@dataclass
class Transitions:
    """The M valid transitions of a segment (the NEXT_STEP mode's padding steps left out), flat ``[M]``:
    ``observations`` ``[M, ...]``, ``actions``, float64 ``rewards``, ``values`` V(s_t), ``next_values`` V(s_{t+1})
    of the true next observation, ``terminated``."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray


def transitions(rollout: Rollout) -> Transitions:
    """The valid transitions of ``rollout``, flattened over time and sub-environments, batch = {(s_t, a_t, r_t,
    s_{t+1}) : valid_t}, since one-step TD errors need no order (Sutton 1988). Claim STD-TT-1 (the padding step
    after an episode's end is no transition); notes §TD.

    Args:
        rollout: a segment of :class:`~lineage.algorithms.rollout.VectorRollout`.

    Returns:
        The :class:`Transitions`.
    """
    keep = rollout.valid
    return Transitions(
        **{
            name: getattr(rollout, name)[keep]
            for name in ("observations", "actions", "rewards", "values", "next_values", "terminated")
        }
    )


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(batch: Transitions, config: ActorCriticConfig) -> np.ndarray:
    """The TD errors of the critic before the update, by lineage's verified function:

        δ_t = lineage.td_errors(r, V(s), V(s'), terminated, γ)_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)

    (Sutton 1988 "Learning to Predict by the Methods of Temporal Differences"; Sutton & Barto 2018, §13.5). A cut
    episode has terminated = False and V(s_{t+1}) of its final observation, so it bootstraps. Claims AC-10,
    STD-TT-1; notes §TD, §AC.

    Args:
        batch: the transitions.
        config: ``gamma``.

    Returns:
        δ ``[M]``, float64.
    """
    return lineage.td_errors(batch.rewards, batch.values, batch.next_values, batch.terminated, gamma=config.gamma)


# ---------------------------------------------------------------------------------------------------- update


@dataclass
class UpdateStats:
    """The objectives of one update, as floats."""

    actor: float
    critic: float
    mean_delta: float


def update(
    agent: Agent,
    actor_optimizer: torch.optim.Optimizer,
    critic_optimizer: torch.optim.Optimizer,
    batch: Transitions,
    deltas: np.ndarray,
    config: ActorCriticConfig,
) -> UpdateStats:
    """One Adam step of the actor and one of the critic along lineage's verified directions, averaged over the M
    transitions:

        actor:  maximise (1/M) actor_direction(log π_θ(a|s), δ, discount = 1) + c · mean categorical_entropy
                ∇_θ = (1/M) Σ_t δ_t ∇log π + c ∇ mean H
        critic: minimise (1/M) critic_loss_gradient(r, V(s), V(s'), terminated, V_w(s))   ∇_w = −(1/M) Σ_t δ_t ∇V_w

    (Sutton & Barto 2018, §13.5; the critic's target r + γV(s') is a constant: semi-gradient TD(0), claim AC-15;
    the entropy bonus of Williams & Peng 1991). Claims AC-15, AC-19, STD-PPO-4; notes §AC, §TD.

    Args:
        agent: the actor and critic (updated in place).
        actor_optimizer: Adam on the actor's parameters.
        critic_optimizer: Adam on the critic's parameters.
        batch: the transitions.
        deltas: δ ``[M]`` of :func:`estimate`.
        config: ``gamma``, ``ent_coef`` and ``max_grad_norm``.

    Returns:
        The :class:`UpdateStats`.
    """
    m = len(deltas)
    obs = torch.as_tensor(batch.observations, dtype=torch.float32)
    logits = agent.policy.logits(obs)
    logp = torch.distributions.Categorical(logits=logits, validate_args=False).log_prob(torch.as_tensor(batch.actions))
    entropy = lineage.ppo.categorical_entropy(logits).mean()
    (actor_sum,) = lineage.actor_critic.actor_direction(
        logp[:, None], torch.as_tensor(deltas, dtype=torch.float32), discount=1.0
    )
    v = agent.value(obs)
    (critic_sum,) = lineage.actor_critic.critic_loss_gradient(
        torch.as_tensor(batch.rewards, dtype=torch.float32),
        v.detach(),
        torch.as_tensor(batch.next_values, dtype=torch.float32),
        torch.as_tensor(batch.terminated),
        v[:, None],
        gamma=config.gamma,
    )
    actor_objective, critic_objective = actor_sum / m + config.ent_coef * entropy, critic_sum / m
    for objective, optimizer, module in (
        (-actor_objective, actor_optimizer, agent.policy),
        (critic_objective, critic_optimizer, agent.value),
    ):
        optimizer.zero_grad()
        objective.backward()
        if config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(module.parameters(), config.max_grad_norm)
        optimizer.step()
    return UpdateStats(float(actor_objective.detach()), float(critic_objective.detach()), float(np.mean(deltas)))


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: ActorCriticConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains the one-step Actor-Critic (Sutton & Barto 2018, §13.5), batched over ``n_envs`` sub-environments:

        repeat: n_steps steps of every sub-environment with π_θ → δ = td_errors → actor step along Σ δ ∇log π,
        critic step along Σ δ ∇V

    One log line per ``log_every`` = max(1, 2048 // batch_size) updates (steps, mean return over the last ``window``
    training episodes, the last update's objectives and mean δ), through ``log`` (default: ``tqdm.write`` under a
    progress bar when ``config.progress``). Claims AC-15, AC-19, AC-20, STD-TT-1; notes §AC, §TD.

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
        actor_optimizer = torch.optim.Adam(agent.policy.parameters(), lr=config.learning_rate)
        critic_optimizer = torch.optim.Adam(agent.value.parameters(), lr=config.value_learning_rate)
        collector = VectorRollout(envs, seed=config.seed)
        act, value = policy_callables(agent)
        log_every = max(1, 2048 // config.batch_size)
        run = RunLog(TrainResult(agent), config, -(-config.iterations // log_every), log)
        if on_update is not None:
            on_update(agent)
        steps, finished, losses, stats = 0, [], [], UpdateStats(0.0, 0.0, 0.0)
        for k in range(config.iterations):
            rollout = collector.collect(act, value, config.n_steps)  # rollout
            batch = transitions(rollout)
            if len(batch.rewards):  # every step a NEXT_STEP padding step (possible with n_envs · n_steps small)
                deltas = estimate(batch, config)  # estimate
                stats = update(agent, actor_optimizer, critic_optimizer, batch, deltas, config)  # update
                losses.append(-stats.actor + stats.critic)
            if on_update is not None:
                on_update(agent)
            steps += config.batch_size  # log
            finished.extend(rollout.episode_returns)
            if (k + 1) % log_every == 0 or k + 1 == config.iterations:
                run.iteration(
                    steps,
                    finished,
                    losses,
                    f"actor {stats.actor:+.4f}  critic {stats.critic:+.4f}  mean δ {stats.mean_delta:+.4f}",
                )
                steps, finished, losses = 0, [], []
    finally:
        envs.close()
    return run.close()
