"""REINFORCE with a categorical MLP policy (torch, CPU), read top to bottom: config → rollout → estimate → update →
log.

    θ ← θ + α ĝ,   ĝ = (1/N) Σ_n Σ_t w_t G_{n,t} ∇_θ log π_θ(a_{n,t}|s_{n,t}),   G_{n,t} = Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}

over N complete Monte-Carlo episodes of the current policy, with no baseline (Williams 1992 "Simple Statistical
Gradient-Following Algorithms for Connectionist Reinforcement Learning"; Sutton & Barto 2018, §13.3), the step taken
by Adam. The weights w_t are the discounting convention of :mod:`lineage.pg.reinforce`: ``"C1"`` w_t = γ^t, an
unbiased estimate of ∇J_γ (Sutton & Barto's update carries γ^t G_t; claim PG-7 is that the notes drop it), or
``"C2"`` w_t = 1, the direction g^γ of Schulman et al. 2016 that treats γ as a variance-reduction parameter of the
undiscounted return (the one CartPole-v1 scores). Both learn CartPole-v1; the default is C2, the direction for an
undiscounted score, and measured no slower (the figures are in the config's docstring).

Every formula is a verified building block: ψ_t = G_t is :func:`lineage.pg.reward_to_go` and the weighted sum
Σ_t w_t ψ_t (·) is :func:`lineage.pg.gradient_estimate`, applied to the per-step log-probabilities instead of their
gradients. Because the estimate is linear in its ``scores``, autograd of

    surrogate(θ) = (1/N) Σ_n gradient_estimate(log π_θ(a_{n,t}|s_{n,t}), G_{n,t})   is exactly ĝ

(ψ is a constant, no gradient flows into it). A time-limit cut ends the Monte-Carlo return (G = 0 after the cut):
REINFORCE has no critic to bootstrap from, and the estimate is then the gradient of the time-limited return, the
quantity CartPole-v1 scores (Pardo et al. 2018 "Time Limits in Reinforcement Learning"). Claims PG-7, PG-8, AC-5,
STD-REINF-1, STD-REINF-2; notes §PG.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import lineage.pg
from lineage._validation import check_positive_int, check_real, check_unit_interval
from lineage.algorithms.common import RunLog, TrainResult, check_run, make_envs, seed_everything
from lineage.algorithms.networks import Agent, make_policy
from lineage.algorithms.rollout import autoreset_mode

# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ReinforceConfig:
    """Hyper-parameters of a REINFORCE run: ``n_envs`` complete episodes per update (one per sub-environment), Adam
    with step size ``learning_rate``, discount ``gamma`` and the convention of the per-step weights (``"C1"``:
    γ^t, ``"C2"``: 1). Measured on CartPole-v1, seed 1 (mean of the last 100 training episodes ≥ 475): C2 at
    lr 2e-3 after 172k steps, C2 at lr 1e-3 after 202k, C1 at lr 1e-3 after 190k. Every field is checked on
    construction: a bad value raises ``ValueError`` naming the field."""

    env_id: str = "CartPole-v1"
    total_steps: int = 300_000  # environment steps of the collected episodes
    seed: int = 1
    n_envs: int = 8  # episodes per update
    learning_rate: float = 2e-3
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
        check_positive_int("n_envs", self.n_envs)
        check_positive_int("hidden", self.hidden)
        check_real("learning_rate", self.learning_rate, minimum=0.0, inclusive=False)
        check_unit_interval("gamma", self.gamma)
        check_convention(self.convention)
        if self.max_grad_norm is not None:
            check_real("max_grad_norm", self.max_grad_norm, minimum=0.0, inclusive=False)


def check_convention(convention) -> str:
    """The discounting convention of the per-step weights, one of ``lineage.pg.reinforce.CONVENTIONS``:
    w_t = γ^t (C1, Sutton et al. 2000) or w_t = 1 (C2, Schulman et al. 2016); raises ``ValueError`` naming
    ``convention`` otherwise. Claims PG-7, AC-3; notes §PG.

    Args:
        convention: the value to check.

    Returns:
        The convention.
    """
    if convention not in lineage.pg.reinforce.CONVENTIONS:
        raise ValueError(f"convention: expected one of {lineage.pg.reinforce.CONVENTIONS}, got {convention!r}")
    return convention


# ---------------------------------------------------------------------------------------------------- networks


def make_agent(config: ReinforceConfig, envs: gym.vector.VectorEnv) -> Agent:
    """The categorical policy π(a|s) = softmax(MLP(s))_a for ``envs`` (Williams 1992 "Simple Statistical
    Gradient-Following Algorithms for Connectionist Reinforcement Learning": any differentiable π). Claim PG-8;
    notes §PG.

    Args:
        config: the run's configuration (``hidden`` units per layer).
        envs: the vector environment.

    Returns:
        The agent; raises ``ValueError`` naming ``env_id`` for a continuous action space or a non-flat
        observation space.
    """
    return Agent(make_policy(config.env_id, envs, config.hidden, continuous=False))


# ---------------------------------------------------------------------------------------------------- rollout


@dataclass
class Episodes:
    """N complete episodes, episode-major and padded to the longest, T: ``observations`` ``[N, T, ...]``,
    ``actions`` ``[N, T]``, float64 ``rewards`` ``[N, T]`` (0 on padding), ``mask`` ``[N, T]`` (True on the
    episode's own steps), ``terminated`` ``[N]`` (True: the episode reached a terminal state; False: a time limit
    cut it) and the undiscounted ``returns`` Σ_t r_t."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mask: np.ndarray
    terminated: np.ndarray
    returns: list[float]

    @property
    def steps(self) -> int:
        return int(self.mask.sum())


class EpisodeCollector:
    """Collects one complete episode per sub-environment of a vector environment with the current policy: every
    sub-environment is reset, stepped until its first episode ends (terminated or truncated), and its later steps
    (after the vector environment's own reset, in either handled autoreset mode) are not recorded. The environments
    are seeded once, by the first reset; later resets continue their generators."""

    def __init__(self, envs: gym.vector.VectorEnv, *, seed: int | None = None):
        autoreset_mode(envs)  # refuses DISABLED, naming it
        self.envs, self.seed = envs, seed

    def collect(self, act: Callable) -> Episodes:
        """N = ``envs.num_envs`` complete episodes a ~ π(·|s) of the current policy (Williams 1992's Monte-Carlo
        episodes). Claims PG-8, STD-TT-1 (the terminated/truncated flags are kept apart); notes §PG.

        Args:
            act: observations ``[B, ...]`` → actions ``[B]`` (numpy).

        Returns:
            The :class:`Episodes`.
        """
        obs, _ = self.envs.reset(seed=self.seed)
        self.seed = None
        n = self.envs.num_envs
        running, terminated = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        record = {"observations": [], "actions": [], "rewards": [], "mask": []}
        while running.any():
            actions = act(obs)
            next_obs, rewards, term, trunc, _ = self.envs.step(actions)
            term, trunc = np.asarray(term, bool), np.asarray(trunc, bool)
            record["observations"].append(obs)
            record["actions"].append(actions)
            record["rewards"].append(np.where(running, np.asarray(rewards, dtype=np.float64), 0.0))
            record["mask"].append(running.copy())
            terminated |= running & term
            running &= ~(term | trunc)
            obs = next_obs
        arrays = {name: np.swapaxes(np.stack(items), 0, 1) for name, items in record.items()}  # [N, T, ...]
        return Episodes(**arrays, terminated=terminated, returns=arrays["rewards"].sum(axis=1).tolist())


def sampler(agent: Agent) -> Callable:
    """The ``act`` callable of the collector: a = sample of π_θ(·|s), without gradient, on numpy observations
    (Williams 1992). Claim PG-8 (the episodes are drawn from π_θ itself: REINFORCE is on-policy); notes §PG.

    Args:
        agent: the policy.

    Returns:
        ``act``: observations ``[B, ...]`` → actions ``[B]``.
    """

    @torch.no_grad()
    def act(obs):
        return agent.policy.distribution(torch.as_tensor(obs, dtype=torch.float32)).sample().numpy()

    return act


def log_probabilities(agent: Agent, episodes: Episodes) -> torch.Tensor:
    """ℓ_{n,t} = log π_θ(a_{n,t}|s_{n,t}) ``[N, T]`` with gradient, ℓ = 0 on the padding (where the reward-to-go is 0
    too). Williams 1992: the score ∇_θ ℓ is REINFORCE's characteristic eligibility. Claim STD-REINF-1; notes §PG.

    Args:
        agent: the policy.
        episodes: the episodes.

    Returns:
        The log-probabilities, float32 ``[N, T]``.
    """
    mask = torch.as_tensor(episodes.mask)
    obs = torch.as_tensor(episodes.observations[episodes.mask], dtype=torch.float32)
    actions = torch.as_tensor(episodes.actions[episodes.mask])
    logp = torch.zeros(mask.shape, dtype=torch.float32)
    return logp.masked_scatter(mask, agent.policy.distribution(obs).log_prob(actions))


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(episodes: Episodes, config: ReinforceConfig) -> np.ndarray:
    """ψ_t = G_t, the discounted reward-to-go of every step by lineage's verified function:

        G_{n,t} = lineage.pg.reward_to_go(r_n, γ)_t = Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}

    (Williams 1992 "Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning").
    Each padded episode ends after its last step (zero rewards after it), so the padding changes nothing.
    Claims PG-8, AC-5; notes §PG.

    Args:
        episodes: the episodes.
        config: ``gamma``.

    Returns:
        G ``[N, T]``, float64.
    """
    return lineage.pg.reward_to_go(episodes.rewards, gamma=config.gamma)


# ---------------------------------------------------------------------------------------------------- update


def surrogate(logp: torch.Tensor, psi, config: ReinforceConfig) -> torch.Tensor:
    """The batch mean of lineage's verified per-episode estimate, applied to log π instead of ∇log π:

        S(θ) = (1/N) Σ_n gradient_estimate(log π_θ(a_{n,·}|s_{n,·}), ψ_n, γ, convention)
             = (1/N) Σ_n Σ_t w_t ψ_{n,t} log π_θ(a_{n,t}|s_{n,t}),   ∇_θ S = ĝ

    (linear in the scores, so its gradient is the estimate itself; ψ carries no gradient). Williams 1992;
    Sutton & Barto 2018, §13.3 (C1); Schulman et al. 2016 §2 (C2). Claims PG-7, PG-8, STD-REINF-2; notes §PG.

    Args:
        logp: log π_θ ``[N, T]`` with gradient, 0 on padding.
        psi: ψ ``[N, T]`` (numpy or torch), 0 on padding.
        config: ``gamma`` and ``convention``.

    Returns:
        S, a 0-d tensor.
    """
    psi = torch.as_tensor(psi, dtype=logp.dtype)
    per_episode = lineage.pg.gradient_estimate(
        logp[..., None], psi, gamma=config.gamma, convention=config.convention
    )  # [N, 1]
    return per_episode.mean()


def policy_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, module: nn.Module, max_grad_norm) -> float:
    """One Adam step θ ← Adam(θ, ∇_θ loss), the gradient norm clipped to ``max_grad_norm`` when given (Kingma & Ba
    2015 "Adam"; claim PG-8's θ ← θ + α ĝ with an adaptive α); notes §PG.

    Args:
        loss: the scalar to minimise.
        optimizer: the optimiser of ``module``'s parameters.
        module: the module whose gradient is clipped.
        max_grad_norm: the clip, or None.

    Returns:
        The loss, as a float.
    """
    optimizer.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        nn.utils.clip_grad_norm_(module.parameters(), max_grad_norm)
    optimizer.step()
    return float(loss.detach())


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: ReinforceConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains REINFORCE (Williams 1992 "Simple Statistical Gradient-Following Algorithms for Connectionist
    Reinforcement Learning"; Sutton & Barto 2018, §13.3):

        repeat until total_steps: N episodes of π_θ → G = reward_to_go → θ ← Adam step on −S(θ)

    One log line per update (steps, mean return over the last ``window`` training episodes, the loss −S, the mean
    episode length), through ``log`` (default: ``tqdm.write`` under a progress bar when ``config.progress``).
    Claims PG-7, PG-8, STD-REINF-2; notes §PG.

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
        optimizer = torch.optim.Adam(agent.parameters(), lr=config.learning_rate)
        collector = EpisodeCollector(envs, seed=config.seed)
        act = sampler(agent)
        run = RunLog(TrainResult(agent), config, None, log)
        if on_update is not None:
            on_update(agent)
        while run.result.steps < config.total_steps:
            episodes = collector.collect(act)  # rollout
            psi = estimate(episodes, config)  # estimate
            loss = policy_step(  # update
                -surrogate(log_probabilities(agent, episodes), psi, config), optimizer, agent, config.max_grad_norm
            )
            if on_update is not None:
                on_update(agent)
            run.iteration(  # log
                episodes.steps,
                episodes.returns,
                [loss],
                f"loss {loss:+10.3f}  mean length {episodes.steps / len(episodes.returns):6.1f}",
            )
    finally:
        envs.close()
    return run.close()
