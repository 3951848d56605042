"""What every training algorithm shares and nothing verifies on its own: seeding, the vector environment, the
per-iteration log with its running mean return and steps-to-threshold, the run's result, and the evaluation of a
trained policy. The algorithms' formulas are not here: they are lineage's verified building blocks."""

from __future__ import annotations

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
from tqdm import tqdm

from lineage._validation import check_positive_int, check_real
from lineage.algorithms.rollout import evaluate_policy

# The score a run must reach (mean return over the last 100 finished episodes): Gymnasium's reward threshold for
# CartPole-v1 and the customary "solved" level for Pendulum-v1 (its returns are ≤ 0).
THRESHOLDS = {"CartPole-v1": 475.0, "Pendulum-v1": -200.0}


def threshold_for(env_id: str) -> float:
    """The return threshold of ``env_id``, threshold = THRESHOLDS[env_id] if listed, else the environment's registered
    ``reward_threshold``, else +∞ (never reached). Claim PPO-5 (the benchmark scores of Schulman et al. 2017
    "Proximal Policy Optimization Algorithms", §6); notes §PPO.

    Args:
        env_id: a Gymnasium id.

    Returns:
        The threshold.
    """
    if env_id in THRESHOLDS:
        return THRESHOLDS[env_id]
    spec = gym.spec(env_id)
    return float("inf") if spec.reward_threshold is None else float(spec.reward_threshold)


def check_seed(seed) -> int:
    """A seed is an integer, seed = n with n ∈ ℤ, n ≥ 0 (booleans refused); raises ``ValueError`` naming ``seed``
    otherwise. Claim PPO-5 (reproducible runs of Schulman et al. 2017 "Proximal Policy Optimization Algorithms");
    notes §PPO.

    Args:
        seed: the value to check.

    Returns:
        The seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    return int(seed)


def check_run(config) -> None:
    """Checks, valid = (total_steps ≥ 1) ∧ (seed ∈ ℤ≥0) ∧ (window ≥ 1) ∧ (threshold real or None), the fields every
    algorithm's configuration has (``total_steps``, ``seed``, ``window``, ``threshold``, and ``autoreset_mode`` when
    it steps a vector environment), raising ``ValueError`` naming the field. Claim PPO-5 (the runs of Schulman et
    al. 2017 "Proximal Policy Optimization Algorithms"); notes §PPO.

    Args:
        config: an algorithm's configuration dataclass.

    Returns:
        None.
    """
    check_positive_int("total_steps", config.total_steps)
    check_seed(config.seed)
    check_positive_int("window", config.window)
    if config.threshold is not None:
        check_real("threshold", config.threshold)
    if hasattr(config, "autoreset_mode") and not isinstance(config.autoreset_mode, AutoresetMode):
        raise ValueError(f"autoreset_mode: expected a gymnasium.vector.AutoresetMode, got {config.autoreset_mode!r}")


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


def make_envs(
    env_id: str, n_envs: int, seed: int, autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
) -> gym.vector.SyncVectorEnv:
    """``n_envs`` copies of ``env_id`` in a :class:`gymnasium.vector.SyncVectorEnv` with the given autoreset mode
    (B = n_envs columns of the segment ``[T, B]``; Schulman et al. 2017's N parallel actors). Claim STD-TT-1;
    notes §PPO.

    Args:
        env_id: a Gymnasium id.
        n_envs: B ≥ 1.
        seed: seeds the action spaces (the environments are seeded by the rollout's reset).
        autoreset_mode: the vector environment's autoreset mode.

    Returns:
        The vector environment.
    """
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n_envs)], autoreset_mode=autoreset_mode)
    envs.action_space.seed(seed)
    return envs


def policy_callables(agent: torch.nn.Module) -> tuple[Callable, Callable]:
    """The ``act`` (sample a ~ π(·|s), return a and log π(a|s)) and ``value`` (V(s)) callables of a rollout, without
    gradient: π_old, the sampling policy of the ratio ρ = π_θ/π_old (Schulman et al. 2017 "Proximal Policy
    Optimization Algorithms", eq. 6; Schulman et al. 2015 "Trust Region Policy Optimization", eq. 14), and V_old.
    Shapes: observations ``[B, n_obs]`` → actions ``[B]`` or ``[B, d]``, log-probabilities ``[B]``, values ``[B]``.
    Claims PPO-5, STD-TT-1; notes §PPO.

    Args:
        agent: an :class:`~lineage.algorithms.networks.Agent` with a value network.

    Returns:
        ``(act, value)`` on numpy observations.
    """

    @torch.no_grad()
    def act(obs):
        dist = agent.policy.distribution(torch.as_tensor(obs, dtype=torch.float32))
        action = dist.sample()
        return action.numpy(), dist.log_prob(action).numpy()

    @torch.no_grad()
    def value(obs):
        return agent.value(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    return act, value


@dataclass
class TrainResult:
    """What a run gives back: the trained agent (an ``nn.Module`` with a ``policy``), the environment steps at which
    the running mean return first reached the threshold (None if never), the running mean after each iteration,
    the log lines, the losses of every update, the steps taken and the training wall time."""

    agent: torch.nn.Module
    steps_to_threshold: int | None = None
    mean_returns: list[float] = field(default_factory=list)
    steps_log: list[int] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    steps: int = 0
    wall_time: float = 0.0


class RunLog:
    """The bookkeeping of one run (of ``iterations`` iterations, if known): a tqdm bar over the environment steps,
    the finished episodes' returns in a window of ``window``, the first step count at which their mean reaches the
    threshold, and one log line per iteration (through ``log``; by default ``tqdm.write`` under a bar, else
    ``print``)."""

    def __init__(
        self, result: TrainResult, config, iterations: int | None = None, log: Callable[[str], None] | None = None
    ):
        self.result, self.config = result, config
        self.of = "" if iterations is None else f"/{iterations}"
        self.recent: deque[float] = deque(maxlen=config.window)
        self.threshold = threshold_for(config.env_id) if config.threshold is None else config.threshold
        self.bar = tqdm(total=config.total_steps, unit="step", disable=not config.progress)
        self.emit = log or (tqdm.write if config.progress else print)
        self.started = time.perf_counter()

    def iteration(self, steps: int, episode_returns: list[float], losses: list[float], stats: str) -> None:
        """Records one iteration of ``steps`` environment steps and prints its line."""
        result = self.result
        result.steps += steps
        self.recent.extend(episode_returns)
        mean = float(np.mean(self.recent)) if self.recent else float("nan")
        result.mean_returns.append(mean)
        result.steps_log.append(result.steps)
        result.losses.extend(losses)
        if result.steps_to_threshold is None and len(self.recent) == self.config.window and mean >= self.threshold:
            result.steps_to_threshold = result.steps
        count = f"{len(result.log) + 1}{self.of}"
        line = f"iter {count:>9}  steps {result.steps:7d}  return(last {len(self.recent):3d}) {mean:8.2f}  "
        result.log.append(line + stats)
        self.emit(line + stats)
        self.bar.update(steps)

    def close(self) -> TrainResult:
        self.bar.close()
        self.result.wall_time = time.perf_counter() - self.started
        return self.result


def evaluate(agent: torch.nn.Module, config, *, episodes: int = 100, greedy: bool = True) -> np.ndarray:
    """The returns G_i = Σ_t r_t of ``episodes`` fresh episodes of the trained policy (its ``greedy`` action —
    argmax π or the Gaussian mean — when ``greedy``, else a ~ π(·|s)), seeded from ``config.seed`` + 10⁶ so that
    they differ from the training resets (the score of Schulman et al. 2017 "Proximal Policy Optimization
    Algorithms", §6). Shapes: returns ``[episodes]``; claim PPO-5; notes §PPO.

    Args:
        agent: the trained agent; ``agent.policy`` has ``distribution(obs)`` and ``greedy(obs)``.
        config: ``env_id`` and ``seed``.
        episodes: how many episodes.
        greedy: deterministic actions (True) or sampled ones.

    Returns:
        The returns, shape ``[episodes]``.
    """

    @torch.no_grad()
    def act(obs):
        obs = torch.as_tensor(obs, dtype=torch.float32)
        return (agent.policy.greedy(obs) if greedy else agent.policy.distribution(obs).sample()).numpy()

    return evaluate_policy(lambda: gym.make(config.env_id), act, episodes=episodes, seed=config.seed + 1_000_000)


def fill_env_defaults(config, defaults: dict[str, object], per_env: dict[str, dict[str, object]]) -> None:
    """Gives every per-environment field of a frozen config that was left ``None`` its default for the run's
    environment: field = per_env[env_id][field] if listed there, else defaults[field] (the hyper-parameters of
    Schulman et al. 2017 "Proximal Policy Optimization Algorithms" differ between its discrete and its MuJoCo
    runs, §6). A value the caller set is kept. Claim PPO-5; notes §PPO.

    Args:
        config: a frozen dataclass with ``env_id`` and the fields named in ``defaults``.
        defaults: field → value for any environment.
        per_env: env_id → {field → value} overriding ``defaults``.

    Returns:
        None (the config is filled in place, as its ``__post_init__`` may).
    """
    for name, value in (defaults | per_env.get(config.env_id, {})).items():
        if getattr(config, name) is None:
            object.__setattr__(config, name, value)
