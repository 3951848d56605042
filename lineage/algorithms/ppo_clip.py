"""PPO-clip with an MLP policy — categorical for a ``Discrete`` action space (CartPole-v1), diagonal Gaussian for a
``Box`` one (Pendulum-v1) — and a value network (torch, CPU), read top to bottom: config → rollout → estimate →
update → log.

    maximise  L^CLIP(θ) − c1 L^VF(θ) + c2 S[π_θ],
    L^CLIP = (1/N) Σ_i min(ρ_i A_i, clip(ρ_i, 1 − ε, 1 + ε) A_i),   ρ_i = π_θ(a_i|s_i) / π_old(a_i|s_i)

(Schulman et al. 2017 "Proximal Policy Optimization Algorithms", Algorithm 1 and eq. 9), with the advantages of
GAE (Schulman et al. 2016), per-minibatch advantage normalisation, the clipped value loss, an entropy bonus, Adam
with a linearly annealed step size and gradient-norm clipping, as CleanRL's ``ppo.py`` (Huang et al. 2022 "The 37
Implementation Details of Proximal Policy Optimization") does. A Gaussian policy's sampled action is stored and
scored as drawn; only the environment's step sees it clipped to the ``Box`` (Gymnasium's ``ClipAction`` vector
wrapper). Every formula is a verified building block: :func:`lineage.gae`, :func:`lineage.lambda_returns`,
:func:`lineage.ppo.normalize_advantages`, :func:`lineage.ppo.ppo_clip_loss`, :func:`lineage.ppo.value_loss`,
:func:`lineage.ppo.categorical_entropy` or :func:`lineage.ppo.gaussian.diagonal_gaussian_entropy`,
:func:`lineage.ppo.combined_loss`; this module only wires them (claims PPO-5, STD-PPO-4, STD-PPO-5, STD-GAE-7,
STD-TT-1, STD-RLHF-5; notes §PPO).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import lineage
import lineage.ppo
import lineage.ppo.gaussian
from lineage._validation import check_positive_int, check_ratio_clip, check_real, check_unit_interval
from lineage.algorithms.common import (
    RunLog,
    TrainResult,
    check_run,
    fill_env_defaults,
    make_envs,
    policy_callables,
    seed_everything,
)
from lineage.algorithms.networks import Agent, GaussianPolicy, ValueNetwork, make_policy, observation_size
from lineage.algorithms.rollout import Rollout, VectorRollout

# ---------------------------------------------------------------------------------------------------- config

# The per-environment fields (``None`` in the config) take these values unless the caller sets them
# (common.fill_env_defaults): DEFAULTS, overridden by PER_ENV[env_id].
DEFAULTS = {
    "total_steps": 100_000,
    "n_envs": 4,
    "n_steps": 128,
    "n_minibatches": 4,
    "learning_rate": 1e-3,
    "gamma": 0.99,
    "ent_coef": 0.01,
    "reward_scale": 1.0,
}
PER_ENV = {
    # Pendulum-v1 (returns in [−1700, 0], a 200-step cut and no termination): a short horizon γ = 0.9, a large batch
    # of small minibatches, no entropy bonus, rewards scaled to ~[−1.6, 0] for the critic (as RL Baselines3 Zoo's
    # PPO settings, without its observation/reward normalisation and gSDE).
    "Pendulum-v1": {
        "total_steps": 200_000,  # −200 reached at 102,400–106,496 steps (seeds 1, 2)
        "n_envs": 4,
        "n_steps": 1024,
        "n_minibatches": 16,
        "learning_rate": 1e-3,
        "gamma": 0.9,
        "ent_coef": 0.0,
        "reward_scale": 0.1,
    },
}


@dataclass(frozen=True)
class PPOClipConfig:
    """Hyper-parameters of a PPO-clip run: CleanRL's CartPole defaults except the step size 1e-3 (CleanRL 2.5e-4) and
    10 epochs (4), and the critic loss: the paper's unclipped L^VF (CleanRL clips it with ε = 0.2; with that clipped
    form seed 1 stalls near a mean return of 471 at 100k steps). Every field is checked on construction: a bad value
    raises ``ValueError`` naming the field."""

    env_id: str = "CartPole-v1"
    total_steps: int | None = None  # environment steps over all sub-environments
    seed: int = 1
    n_envs: int | None = None  # None: DEFAULTS / PER_ENV[env_id], as every field typed "| None" below
    n_steps: int | None = None  # T per sub-environment and iteration
    n_epochs: int = 10
    n_minibatches: int | None = None
    learning_rate: float | None = None
    anneal_lr: bool = True
    gamma: float | None = None
    lam: float = 0.95
    clip_eps: float = 0.2
    clip_value_eps: float | None = None  # None: the unclipped L^VF; ε > 0: the clipped "max" form of CleanRL
    ent_coef: float | None = None
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    hidden: int = 64
    log_std_init: float = 0.0  # initial log σ of a Gaussian policy
    reward_scale: float | None = None  # GAE and the critic see c·r; the logged returns are the environment's own
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
    bootstrap_truncation: bool = True  # False treats a time-limit cut as termination (the STD-TT-2 counterexample)
    threshold: float | None = None  # mean return over the last ``window`` episodes; None: common.threshold_for(env_id)
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        fill_env_defaults(self, DEFAULTS, PER_ENV)
        check_run(self)
        for name in ("n_envs", "n_steps", "n_epochs", "n_minibatches", "hidden"):
            check_positive_int(name, getattr(self, name))
        check_real("learning_rate", self.learning_rate, minimum=0.0, inclusive=False)
        check_unit_interval("gamma", self.gamma)
        check_unit_interval("lam", self.lam)
        check_ratio_clip("clip_eps", self.clip_eps)
        if self.clip_value_eps is not None:
            check_real("clip_value_eps", self.clip_value_eps, minimum=0.0, inclusive=False)
        for name in ("ent_coef", "vf_coef"):
            check_real(name, getattr(self, name), minimum=0.0)
        check_real("max_grad_norm", self.max_grad_norm, minimum=0.0, inclusive=False)
        check_real("log_std_init", self.log_std_init)
        check_real("reward_scale", self.reward_scale, minimum=0.0, inclusive=False)
        if self.n_envs * self.n_steps < self.n_minibatches:
            raise ValueError(
                f"n_minibatches: {self.n_minibatches} exceeds the batch of n_envs · n_steps = "
                f"{self.n_envs * self.n_steps} samples"
            )

    @property
    def batch_size(self) -> int:
        return self.n_envs * self.n_steps

    @property
    def iterations(self) -> int:
        return max(1, self.total_steps // self.batch_size)


# ---------------------------------------------------------------------------------------------------- networks


def make_agent(config: PPOClipConfig, envs: gym.vector.VectorEnv) -> Agent:
    """The policy and value network for ``envs``: π(a|s) = softmax(MLP(s))_a for a ``Discrete`` action space,
    π(·|s) = N(MLP(s), diag σ²) with a learned state-independent log σ for a flat ``Box`` one; V(s) = MLP(s).

    The observation space must be a flat ``Box`` (Schulman et al. 2017 "Proximal Policy Optimization Algorithms",
    §6.1 uses the same two-hidden-layer MLPs and the same Gaussian policy). Claim PPO-5; notes §PPO.

    Args:
        config: the run's configuration (``hidden`` units per layer, ``log_std_init``).
        envs: the vector environment.

    Returns:
        The module; raises ``ValueError`` naming ``env_id`` for another action space (e.g. ``MultiDiscrete``) or a
        non-flat observation space.
    """
    policy = make_policy(config.env_id, envs, config.hidden, continuous=True, log_std=config.log_std_init)
    return Agent(policy, ValueNetwork(observation_size(config.env_id, envs.single_observation_space), config.hidden))


# ---------------------------------------------------------------------------------------------------- rollout


def stepped_envs(envs: gym.vector.VectorEnv) -> gym.vector.VectorEnv:
    """The environment the rollout steps: for a ``Box`` action space, ``envs`` behind Gymnasium's ``ClipAction``
    vector wrapper, a_env = clip(a, low, high), so that the stored action and its log-probability stay those of the
    sample a ~ N(μ, σ²) (the ratio of Schulman et al. 2017 "Proximal Policy Optimization Algorithms" needs the
    sample's own density); ``envs`` itself otherwise. Claim PPO-5; notes §PPO.

    Args:
        envs: the vector environment.

    Returns:
        The environment to step.
    """
    if isinstance(envs.single_action_space, gym.spaces.Box):
        return gym.wrappers.vector.ClipAction(envs)
    return envs


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(rollout: Rollout, config: PPOClipConfig) -> tuple[np.ndarray, np.ndarray]:
    """GAE advantages and λ-return targets of one segment ``[T, B]``, by lineage's verified functions:

        A = lineage.gae(segment, γ, λ),   R^λ = lineage.lambda_returns(segment, γ, λ) = A + V

    (Schulman et al. 2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation"; the
    truncated form of Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 11–12). Claims STD-GAE-7,
    STD-TT-1; notes §PPO.

    The rewards enter scaled by ``reward_scale`` c (r ← c·r: the critic learns c·V; the logged returns are the
    environment's).

    Args:
        rollout: the segment.
        config: ``gamma``, ``lam`` and ``reward_scale``.

    Returns:
        ``(advantages, returns)``, float64 ``[T, B]``.
    """
    segment = rollout.segment(bootstrap_truncation=config.bootstrap_truncation)
    segment["rewards"] = config.reward_scale * segment["rewards"]
    advantages = lineage.gae(**segment, gamma=config.gamma, lam=config.lam)
    returns = lineage.lambda_returns(**segment, gamma=config.gamma, lam=config.lam)
    return advantages, returns


# ---------------------------------------------------------------------------------------------------- update


def log_prob_and_entropy(policy: nn.Module, obs: torch.Tensor, actions: torch.Tensor):
    """log π_θ(a_i|s_i) from the policy's own distribution and the entropy H_i of π_θ(·|s_i) by lineage's verified
    form for its family:

        H_i = categorical_entropy(logits_i)   (categorical),   H_i = diagonal_gaussian_entropy(log σ)   (Gaussian)

    (the entropy bonus of Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 9). Claims STD-PPO-4,
    PPO-5; notes §PPO.

    Args:
        policy: a policy of :func:`lineage.algorithms.networks.make_policy`.
        obs: observations ``[N, n_obs]``.
        actions: the actions ``[N]`` (categorical) or ``[N, d]`` (Gaussian), as sampled.

    Returns:
        ``(log_probs, entropy)``, both ``[N]``, differentiable in the policy's parameters.
    """
    dist = policy.distribution(obs)
    if isinstance(policy, GaussianPolicy):
        entropy = lineage.ppo.gaussian.diagonal_gaussian_entropy(policy.log_std.expand_as(dist.mean))
    else:
        entropy = lineage.ppo.categorical_entropy(dist.logits)
    return dist.log_prob(actions), entropy


@dataclass
class UpdateStats:
    """Means over the minibatches of the last update."""

    policy_loss: float = 0.0
    value_loss: float = 0.0
    entropy: float = 0.0
    clip_fraction: float = 0.0
    losses: list[float] = field(default_factory=list)


def update(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    advantages: np.ndarray,
    returns: np.ndarray,
    config: PPOClipConfig,
    generator: np.random.Generator,
) -> UpdateStats:
    """``n_epochs`` passes of minibatch Adam steps on PPO's combined loss, over the valid samples of the segment:

        loss = −L^CLIP + c1 L^VF − c2 mean H = ppo_clip_loss + c1 · value_loss − c2 · mean H (log_prob_and_entropy)

    with the advantages normalised per minibatch (``normalize_advantages``) and the gradient norm clipped to
    ``max_grad_norm`` (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 9 and Algorithm 1).
    Claims PPO-5, STD-PPO-4, STD-PPO-5, STD-RLHF-5; notes §PPO.

    Args:
        agent: the policy and value network (updated in place).
        optimizer: its Adam optimiser.
        rollout: the segment (observations, actions, old log-probabilities, old values, ``valid``).
        advantages: A ``[T, B]`` of :func:`estimate`.
        returns: R^λ ``[T, B]`` of :func:`estimate`.
        config: the run's configuration.
        generator: NumPy generator of the minibatch permutations.

    Returns:
        The :class:`UpdateStats` of the update.
    """
    keep = rollout.valid.reshape(-1)
    obs = torch.as_tensor(rollout.observations.reshape(-1, *rollout.observations.shape[2:])[keep], dtype=torch.float32)
    actions = torch.as_tensor(rollout.actions.reshape(-1, *rollout.actions.shape[2:])[keep])
    logp_old = torch.as_tensor(rollout.log_probs.reshape(-1)[keep], dtype=torch.float32)
    values_old = torch.as_tensor(rollout.values.reshape(-1)[keep], dtype=torch.float32)
    adv_all = torch.as_tensor(advantages.reshape(-1)[keep], dtype=torch.float32)
    ret_all = torch.as_tensor(returns.reshape(-1)[keep], dtype=torch.float32)
    n = len(obs)
    size = max(1, math.ceil(n / config.n_minibatches))
    value_variant = "unclipped" if config.clip_value_eps is None else "max"
    stats = UpdateStats()
    for _ in range(config.n_epochs):
        order = torch.as_tensor(generator.permutation(n))
        for start in range(0, n, size):
            idx = order[start : start + size]
            logp_new, entropy = log_prob_and_entropy(agent.policy, obs[idx], actions[idx])
            adv = adv_all[idx]
            if config.normalize_advantages:
                adv = lineage.ppo.normalize_advantages(adv)
            clip_loss = lineage.ppo.ppo_clip_loss(logp_new, logp_old[idx], adv, clip_eps=config.clip_eps)
            v_new = agent.value(obs[idx])
            v_loss = lineage.ppo.value_loss(
                v_new, values_old[idx], ret_all[idx], clip_eps=config.clip_value_eps, variant=value_variant
            )
            loss = lineage.ppo.combined_loss(
                clip_loss, v_loss, entropy, vf_coef=config.vf_coef, ent_coef=config.ent_coef
            )
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                stats.losses.append(float(loss))
                stats.clip_fraction += lineage.ppo.clip_fraction(
                    logp_new.detach(), logp_old[idx], adv.detach(), clip_eps=config.clip_eps
                )
                stats.policy_loss += float(clip_loss)
                stats.value_loss += float(v_loss)
                stats.entropy += float(entropy.mean())
    k = max(1, len(stats.losses))
    stats.policy_loss, stats.value_loss = stats.policy_loss / k, stats.value_loss / k
    stats.entropy, stats.clip_fraction = stats.entropy / k, stats.clip_fraction / k
    return stats


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: PPOClipConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains PPO-clip, Schulman et al. 2017 "Proximal Policy Optimization Algorithms", Algorithm 1:

        for each iteration: collect T·B steps with π_old → A = GAE, R = A + V → K epochs of minibatch steps on
        ppo_clip_loss + c1 value_loss − c2 H;   lr_k = lr · (1 − k/iterations) when annealed

    One log line per iteration (steps, mean return over the last ``window`` finished episodes, losses, entropy,
    clip fraction), through ``log`` (default: ``tqdm.write`` under a progress bar when ``config.progress``).
    Claims PPO-5, STD-PPO-4, STD-GAE-7, STD-TT-1; notes §PPO.

    Args:
        config: the run's configuration.
        log: receives each log line; None prints them.
        on_update: called with the agent before the first iteration and after every update (the whole-algorithm
            laws read the policy there).

    Returns:
        A :class:`~lineage.algorithms.common.TrainResult`.
    """
    seed_everything(config.seed)
    envs = make_envs(config.env_id, config.n_envs, config.seed, config.autoreset_mode)
    try:
        agent = make_agent(config, envs)
        optimizer = torch.optim.Adam(agent.parameters(), lr=config.learning_rate, eps=1e-5)
        generator = np.random.default_rng(config.seed)
        collector = VectorRollout(stepped_envs(envs), seed=config.seed)
        act, value = policy_callables(agent)
        run = RunLog(TrainResult(agent), config, config.iterations, log)
        if on_update is not None:
            on_update(agent)
        for k in range(config.iterations):
            if config.anneal_lr:
                optimizer.param_groups[0]["lr"] = config.learning_rate * (1.0 - k / config.iterations)
            rollout = collector.collect(act, value, config.n_steps)  # rollout
            advantages, returns = estimate(rollout, config)  # estimate
            stats = update(agent, optimizer, rollout, advantages, returns, config, generator)  # update
            if on_update is not None:
                on_update(agent)
            run.iteration(  # log
                config.batch_size,
                rollout.episode_returns,
                stats.losses,
                f"L_clip {stats.policy_loss:+.4f}  L_VF {stats.value_loss:8.3f}  H {stats.entropy:.3f}  "
                f"clipfrac {stats.clip_fraction:.3f}",
            )
    finally:
        envs.close()
    return run.close()
