"""PPO-clip with a categorical MLP policy and a value network (torch, CPU), read top to bottom:
config → rollout → estimate → update → log.

    maximise  L^CLIP(θ) − c1 L^VF(θ) + c2 S[π_θ],
    L^CLIP = (1/N) Σ_i min(ρ_i A_i, clip(ρ_i, 1 − ε, 1 + ε) A_i),   ρ_i = π_θ(a_i|s_i) / π_old(a_i|s_i)

(Schulman et al. 2017 "Proximal Policy Optimization Algorithms", Algorithm 1 and eq. 9), with the advantages of
GAE (Schulman et al. 2016), per-minibatch advantage normalisation, the clipped value loss, an entropy bonus, Adam
with a linearly annealed step size and gradient-norm clipping, as CleanRL's ``ppo.py`` (Huang et al. 2022 "The 37
Implementation Details of Proximal Policy Optimization") does. Every formula is a verified building block:
:func:`lineage.gae`, :func:`lineage.lambda_returns`, :func:`lineage.ppo.normalize_advantages`,
:func:`lineage.ppo.ppo_clip_loss`, :func:`lineage.ppo.value_loss`, :func:`lineage.ppo.categorical_entropy`,
:func:`lineage.ppo.combined_loss`; this module only wires them (claims PPO-5, STD-PPO-4, STD-PPO-5, STD-GAE-7,
STD-TT-1, STD-RLHF-5; notes §PPO).
"""

from __future__ import annotations

import math
import numbers
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn
from tqdm import tqdm

import lineage
import lineage.ppo
from lineage._validation import check_positive_int, check_ratio_clip, check_real, check_unit_interval
from lineage.algorithms.rollout import Rollout, VectorRollout, evaluate_policy

# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class PPOClipConfig:
    """Hyper-parameters of a PPO-clip run: CleanRL's CartPole defaults except the step size 1e-3 (CleanRL 2.5e-4) and
    10 epochs (4). The critic loss is lineage's verified clipped form (ε = 0.2, as CleanRL); with it seed 1 stalls
    near a mean return of 471 at 100k steps, while the unclipped L^VF reaches 475 after 62–68k steps on seeds 1–3 —
    that needs an unclipped variant of the verified value loss first (issue 12). Every field is checked on
    construction: a bad value raises ``ValueError`` naming the field."""

    env_id: str = "CartPole-v1"
    total_steps: int = 100_000  # environment steps over all sub-environments
    seed: int = 1
    n_envs: int = 4
    n_steps: int = 128  # T per sub-environment and iteration
    n_epochs: int = 10
    n_minibatches: int = 4
    learning_rate: float = 1e-3
    anneal_lr: bool = True
    gamma: float = 0.99
    lam: float = 0.95
    clip_eps: float = 0.2
    clip_value_eps: float = 0.2  # ε of lineage.ppo.value_loss ("max" form); lineage has no unclipped L^VF yet
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    hidden: int = 64
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
    threshold: float = 475.0  # mean return over the last ``window`` finished episodes
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        for name in ("total_steps", "n_envs", "n_steps", "n_epochs", "n_minibatches", "hidden", "window"):
            check_positive_int(name, getattr(self, name))
        check_real("seed", self.seed, minimum=0.0)
        if not isinstance(self.seed, numbers.Integral):
            raise ValueError(f"seed: expected an integer >= 0, got {self.seed!r}")
        check_real("learning_rate", self.learning_rate, minimum=0.0, inclusive=False)
        check_unit_interval("gamma", self.gamma)
        check_unit_interval("lam", self.lam)
        check_ratio_clip("clip_eps", self.clip_eps)
        check_real("clip_value_eps", self.clip_value_eps, minimum=0.0, inclusive=False)
        for name in ("ent_coef", "vf_coef"):
            check_real(name, getattr(self, name), minimum=0.0)
        check_real("max_grad_norm", self.max_grad_norm, minimum=0.0, inclusive=False)
        check_real("threshold", self.threshold)
        if self.n_envs * self.n_steps < self.n_minibatches:
            raise ValueError(
                f"n_minibatches: {self.n_minibatches} exceeds the batch of n_envs · n_steps = "
                f"{self.n_envs * self.n_steps} samples"
            )
        if not isinstance(self.autoreset_mode, AutoresetMode):
            raise ValueError(f"autoreset_mode: expected a gymnasium.vector.AutoresetMode, got {self.autoreset_mode!r}")

    @property
    def batch_size(self) -> int:
        return self.n_envs * self.n_steps

    @property
    def iterations(self) -> int:
        return max(1, self.total_steps // self.batch_size)


# ---------------------------------------------------------------------------------------------------- networks


def _layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """A categorical MLP policy π(a|s) = softmax(logits(s))_a and a separate MLP value V(s), tanh hidden layers
    with orthogonal initialisation (policy head gain 0.01, value head gain 1)."""

    def __init__(self, n_obs: int, n_actions: int, hidden: int):
        super().__init__()
        g = math.sqrt(2)
        self.actor = nn.Sequential(
            _layer(n_obs, hidden, g), nn.Tanh(), _layer(hidden, hidden, g), nn.Tanh(), _layer(hidden, n_actions, 0.01)
        )
        self.critic = nn.Sequential(
            _layer(n_obs, hidden, g), nn.Tanh(), _layer(hidden, hidden, g), nn.Tanh(), _layer(hidden, 1, 1.0)
        )

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.actor(obs), validate_args=False)


def make_agent(config: PPOClipConfig, envs: gym.vector.VectorEnv) -> ActorCritic:
    """The categorical policy and value network for ``envs``: π(a|s) = softmax(MLP(s))_a, V(s) = MLP(s).

    A categorical policy needs a ``Discrete`` action space and a flat ``Box`` observation space (Schulman et al.
    2017 "Proximal Policy Optimization Algorithms", §6.1 uses the same two-hidden-layer MLPs).
    Claim PPO-5; notes §PPO.

    Args:
        config: the run's configuration (``hidden`` units per layer).
        envs: the vector environment.

    Returns:
        The module; raises ``ValueError`` naming ``env_id`` for a continuous action space or a non-flat
        observation space.
    """
    action_space, obs_space = envs.single_action_space, envs.single_observation_space
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ValueError(
            f"env_id: {config.env_id} has the action space {action_space}; the categorical policy needs Discrete"
        )
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"env_id: {config.env_id} has the observation space {obs_space}; expected a flat Box")
    return ActorCritic(obs_space.shape[0], int(action_space.n), config.hidden)


# ---------------------------------------------------------------------------------------------------- rollout


def seed_everything(seed: int) -> None:
    """Seeds Python's, NumPy's and torch's generators: same seed → same run (environments are seeded by their
    reset). Formula: none beyond seed = seed; claim PPO-5 (a reproducible run of Schulman et al. 2017's
    Algorithm 1); notes §PPO.

    Args:
        seed: the seed.

    Returns:
        None.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_envs(config: PPOClipConfig) -> gym.vector.SyncVectorEnv:
    """``n_envs`` copies of ``env_id`` in a :class:`gymnasium.vector.SyncVectorEnv` with the configured autoreset
    mode (B = n_envs columns of the segment ``[T, B]``; Schulman et al. 2017's N parallel actors). Claim STD-TT-1;
    notes §PPO.

    Args:
        config: the run's configuration.

    Returns:
        The vector environment (its action spaces seeded by ``seed`` + i).
    """
    envs = gym.vector.SyncVectorEnv(
        [lambda: gym.make(config.env_id) for _ in range(config.n_envs)], autoreset_mode=config.autoreset_mode
    )
    envs.action_space.seed(config.seed)
    return envs


def policy_callables(agent: ActorCritic) -> tuple[Callable, Callable]:
    """The ``act`` (sample a ~ π(·|s), return a and log π(a|s)) and ``value`` (V(s)) callables of a rollout,
    without gradient. Claim PPO-5 (π_old = the sampling policy of Schulman et al. 2017's ratio); notes §PPO.

    Args:
        agent: the policy and value network.

    Returns:
        ``(act, value)`` on numpy observations.
    """

    @torch.no_grad()
    def act(obs):
        dist = agent.distribution(torch.as_tensor(obs, dtype=torch.float32))
        action = dist.sample()
        return action.numpy(), dist.log_prob(action).numpy()

    @torch.no_grad()
    def value(obs):
        return agent.value(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    return act, value


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(rollout: Rollout, config: PPOClipConfig) -> tuple[np.ndarray, np.ndarray]:
    """GAE advantages and λ-return targets of one segment ``[T, B]``, by lineage's verified functions:

        A = lineage.gae(segment, γ, λ),   R^λ = lineage.lambda_returns(segment, γ, λ) = A + V

    (Schulman et al. 2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation"; the
    truncated form of Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 11–12). Claims STD-GAE-7,
    STD-TT-1; notes §PPO.

    Args:
        rollout: the segment.
        config: ``gamma`` and ``lam``.

    Returns:
        ``(advantages, returns)``, float64 ``[T, B]``.
    """
    advantages = lineage.gae(**rollout.segment(), gamma=config.gamma, lam=config.lam)
    returns = lineage.lambda_returns(**rollout.segment(), gamma=config.gamma, lam=config.lam)
    return advantages, returns


# ---------------------------------------------------------------------------------------------------- update


@dataclass
class UpdateStats:
    """Means over the minibatches of the last update."""

    policy_loss: float = 0.0
    value_loss: float = 0.0
    entropy: float = 0.0
    clip_fraction: float = 0.0
    losses: list[float] = field(default_factory=list)


def update(
    agent: ActorCritic,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    advantages: np.ndarray,
    returns: np.ndarray,
    config: PPOClipConfig,
    generator: np.random.Generator,
) -> UpdateStats:
    """``n_epochs`` passes of minibatch Adam steps on PPO's combined loss, over the valid samples of the segment:

        loss = −L^CLIP + c1 L^VF − c2 mean H = ppo_clip_loss + c1 · value_loss − c2 · mean categorical_entropy

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
    actions = torch.as_tensor(rollout.actions.reshape(-1)[keep])
    logp_old = torch.as_tensor(rollout.log_probs.reshape(-1)[keep], dtype=torch.float32)
    values_old = torch.as_tensor(rollout.values.reshape(-1)[keep], dtype=torch.float32)
    adv_all = torch.as_tensor(advantages.reshape(-1)[keep], dtype=torch.float32)
    ret_all = torch.as_tensor(returns.reshape(-1)[keep], dtype=torch.float32)
    n = len(obs)
    size = max(1, math.ceil(n / config.n_minibatches))
    stats = UpdateStats()
    for _ in range(config.n_epochs):
        order = torch.as_tensor(generator.permutation(n))
        for start in range(0, n, size):
            idx = order[start : start + size]
            logits = agent.actor(obs[idx])
            logp_new = torch.distributions.Categorical(logits=logits, validate_args=False).log_prob(actions[idx])
            adv = adv_all[idx]
            if config.normalize_advantages:
                adv = lineage.ppo.normalize_advantages(adv)
            clip_loss = lineage.ppo.ppo_clip_loss(logp_new, logp_old[idx], adv, clip_eps=config.clip_eps)
            v_new = agent.value(obs[idx])
            v_loss = lineage.ppo.value_loss(v_new, values_old[idx], ret_all[idx], clip_eps=config.clip_value_eps)
            entropy = lineage.ppo.categorical_entropy(logits)
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


@dataclass
class PPOClipResult:
    """What a run gives back: the trained agent, the step count at which the running mean return first reached the
    threshold (None if never), the per-iteration log lines and the losses."""

    agent: ActorCritic
    steps_to_threshold: int | None
    mean_returns: list[float]
    log: list[str]
    losses: list[float]
    steps: int
    wall_time: float


def train(config: PPOClipConfig, log: Callable[[str], None] | None = None) -> PPOClipResult:
    """Trains PPO-clip, Schulman et al. 2017 "Proximal Policy Optimization Algorithms", Algorithm 1:

        for each iteration: collect T·B steps with π_old → A = GAE, R = A + V → K epochs of minibatch steps on
        ppo_clip_loss + c1 value_loss − c2 H;   lr_k = lr · (1 − k/iterations) when annealed

    One log line per iteration (steps, mean return over the last ``window`` finished episodes, losses, entropy,
    clip fraction), through ``log`` (default: ``tqdm.write`` under a progress bar when ``config.progress``).
    Claims PPO-5, STD-PPO-4, STD-GAE-7, STD-TT-1; notes §PPO.

    Args:
        config: the run's configuration.
        log: receives each log line; None prints them.

    Returns:
        A :class:`PPOClipResult`.
    """
    started = time.perf_counter()
    seed_everything(config.seed)
    envs = make_envs(config)
    try:
        agent = make_agent(config, envs)
        optimizer = torch.optim.Adam(agent.parameters(), lr=config.learning_rate, eps=1e-5)
        generator = np.random.default_rng(config.seed)
        collector = VectorRollout(envs, seed=config.seed)
        act, value = policy_callables(agent)
        recent: deque[float] = deque(maxlen=config.window)
        result = PPOClipResult(agent, None, [], [], [], 0, 0.0)
        bar = tqdm(total=config.iterations * config.batch_size, unit="step", disable=not config.progress)
        emit = log or (tqdm.write if config.progress else print)
        for k in range(config.iterations):
            if config.anneal_lr:
                optimizer.param_groups[0]["lr"] = config.learning_rate * (1.0 - k / config.iterations)
            rollout = collector.collect(act, value, config.n_steps)  # rollout
            advantages, returns = estimate(rollout, config)  # estimate
            stats = update(agent, optimizer, rollout, advantages, returns, config, generator)  # update
            result.steps += config.batch_size  # log
            recent.extend(rollout.episode_returns)
            mean = float(np.mean(recent)) if recent else float("nan")
            result.mean_returns.append(mean)
            result.losses.extend(stats.losses)
            if result.steps_to_threshold is None and len(recent) == config.window and mean >= config.threshold:
                result.steps_to_threshold = result.steps
            line = (
                f"iter {k + 1:4d}/{config.iterations}  steps {result.steps:7d}  return(last {len(recent):3d}) "
                f"{mean:7.2f}  L_clip {stats.policy_loss:+.4f}  L_VF {stats.value_loss:8.3f}  "
                f"H {stats.entropy:.3f}  clipfrac {stats.clip_fraction:.3f}"
            )
            result.log.append(line)
            emit(line)
            bar.update(config.batch_size)
        bar.close()
    finally:
        envs.close()
    result.wall_time = time.perf_counter() - started
    return result


def evaluate(agent: ActorCritic, config: PPOClipConfig, *, episodes: int = 100, greedy: bool = True) -> np.ndarray:
    """The returns G_i = Σ_t r_t of ``episodes`` fresh episodes of the trained policy (a = argmax π(·|s) when
    ``greedy``, else a ~ π(·|s)), seeded from ``config.seed`` + 10⁶ so that they differ from the training resets
    (the score of Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §6). Claim PPO-5; notes §PPO.

    Args:
        agent: the trained policy.
        config: ``env_id`` and ``seed``.
        episodes: how many episodes.
        greedy: argmax actions (True) or sampled ones.

    Returns:
        The returns, shape ``[episodes]``.
    """

    @torch.no_grad()
    def act(obs):
        dist = agent.distribution(torch.as_tensor(obs, dtype=torch.float32))
        return (dist.probs.argmax(-1) if greedy else dist.sample()).numpy()

    return evaluate_policy(lambda: gym.make(config.env_id), act, episodes=episodes, seed=config.seed + 1_000_000)
