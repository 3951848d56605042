"""PPO with the adaptive KL penalty instead of the clip — categorical policy on CartPole-v1, diagonal Gaussian on
Pendulum-v1 — and a value network (torch, CPU), read top to bottom: config → rollout → estimate → update → log.

    maximise  L^KLPEN(θ) − c1 L^VF(θ) + c2 S[π_θ],
    L^KLPEN = (1/N) Σ_i [ρ_i A_i − β KL(π_old(·|s_i) ‖ π_θ(·|s_i))],   ρ_i = π_θ(a_i|s_i) / π_old(a_i|s_i)

    after each update:  d = (1/N) Σ_i KL(π_old(·|s_i) ‖ π_θ(·|s_i));   β ← β/2 if d < d_targ/1.5,  2β if d > 1.5 d_targ

(Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4: several epochs of minibatch steps on
L^KLPEN, then β adapted for the next update). The KL is exact per state (the policies' closed forms, not a sample
estimate). Everything else — GAE advantages, per-minibatch normalisation, the value loss, the entropy bonus, Adam
with an annealed step size and gradient-norm clipping, the rollout with a Gaussian action clipped only by the
environment's step — is PPO-clip's (:mod:`lineage.algorithms.ppo_clip`, whose rollout and estimate this module
reuses). Every formula is a verified building block: :func:`lineage.gae`, :func:`lineage.lambda_returns`,
:func:`lineage.ppo.normalize_advantages`, :func:`lineage.ppo.ppo_penalty_loss` and
:func:`lineage.ppo.categorical_kl` (categorical), :func:`lineage.ppo.ppo_penalty_loss_from_kl` and
:func:`lineage.ppo.gaussian.diagonal_gaussian_kl` (Gaussian), :func:`lineage.ppo.adapt_kl_coef`,
:func:`lineage.ppo.kl_k3` (the sampled KL, logged beside the exact one), :func:`lineage.ppo.value_loss`,
:func:`lineage.ppo.categorical_entropy` / :func:`lineage.ppo.gaussian.diagonal_gaussian_entropy`,
:func:`lineage.ppo.combined_loss`; this module only wires them (claims PPO-3, PPO-4, STD-PPO-1, STD-PPO-4,
STD-GAE-7, STD-TT-1, STD-KL-1; notes §PPO).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import lineage.ppo
import lineage.ppo.gaussian
from lineage._validation import check_positive_int, check_real, check_unit_interval
from lineage.algorithms import ppo_clip
from lineage.algorithms.common import (
    RunLog,
    TrainResult,
    check_run,
    fill_env_defaults,
    make_envs,
    policy_callables,
    seed_everything,
)
from lineage.algorithms.networks import Agent, GaussianPolicy
from lineage.algorithms.ppo_clip import estimate, log_prob_and_entropy, make_agent, stepped_envs
from lineage.algorithms.rollout import Rollout, VectorRollout

# ---------------------------------------------------------------------------------------------------- config

# The per-environment fields (``None`` in the config) take these values unless the caller sets them
# (common.fill_env_defaults): DEFAULTS, overridden by PER_ENV[env_id].
DEFAULTS = ppo_clip.DEFAULTS | {
    # PPO-clip's CartPole settings, except rewards scaled by 0.1: with CartPole's returns of up to ~100 the critic's
    # gradient dominates the jointly clipped gradient norm, the policy barely moves, d stays below d_targ/1.5, β is
    # halved towards 0 (1e-11 on seed 2) and the unpenalised policy later collapses (seed 2: no 475 in 100k steps).
    "reward_scale": 0.1,
    "kl_target": 0.01,
}
# PPO-clip's Pendulum-v1 settings (ppo_clip.PER_ENV), with the KL target of DEFAULTS.
PER_ENV = {env: settings | {"kl_target": 0.01} for env, settings in ppo_clip.PER_ENV.items()}


@dataclass(frozen=True)
class PPOPenaltyConfig:
    """Hyper-parameters of a PPO-penalty run: PPO-clip's, with the clip replaced by the penalty β·KL whose β starts
    at ``beta_init`` (the paper's 1) and is halved or doubled after each update to steer the mean KL towards
    ``kl_target`` (d_targ; the paper tries 0.003, 0.01, 0.03). Fields typed ``| None`` take per-environment
    defaults (DEFAULTS, PER_ENV). Every field is checked on construction: a bad value raises ``ValueError`` naming
    the field."""

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
    beta_init: float = 1.0
    kl_target: float | None = None
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
        check_real("beta_init", self.beta_init, minimum=0.0)
        check_real("kl_target", self.kl_target, minimum=0.0, inclusive=False)
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


# ---------------------------------------------------------------------------------------------------- rollout
# PPO-clip's: make_agent (categorical or Gaussian policy, value network), policy_callables (a ~ π_old, log π_old,
# V), stepped_envs (a Gaussian action clipped by the environment's step only).

# ---------------------------------------------------------------------------------------------------- estimate
# PPO-clip's: A = lineage.gae, R^λ = lineage.lambda_returns on the segment with scaled rewards.

# ---------------------------------------------------------------------------------------------------- update


def policy_parameters(policy: nn.Module, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """What fixes π(·|s) at each state, the arguments of the exact KL (Schulman et al. 2017 "Proximal Policy
    Optimization Algorithms", §4: KL[π_old(·|s), π_θ(·|s)] per state):

        params(s) = (logits(s),) ``[N, K]`` (categorical),   params(s) = (μ(s), log σ) ``[N, d]``, ``[d]`` (Gaussian)

    Claim PPO-4; notes §PPO.

    Args:
        policy: a policy of :func:`lineage.algorithms.networks.make_policy`.
        obs: observations ``[N, n_obs]``.

    Returns:
        ``(logits,)`` or ``(mean, log_std)``, differentiable in the policy's parameters.
    """
    if isinstance(policy, GaussianPolicy):
        return policy.mean(obs), policy.log_std
    return (policy.logits(obs),)


def exact_kl(old: tuple[torch.Tensor, ...], new: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """KL(π_old(·|s_i) ‖ π_new(·|s_i)) per state, exactly, by lineage's verified closed form of the family:

        KL_i = categorical_kl(logits_old_i, logits_new_i)                        (categorical)
        KL_i = diagonal_gaussian_kl(μ_old_i, log σ_old, μ_new_i, log σ_new)      (Gaussian)

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4, eq. 8). Claims PPO-4, STD-PPO-1;
    notes §PPO.

    Args:
        old: :func:`policy_parameters` of the old policy.
        new: :func:`policy_parameters` of the new policy, same family.

    Returns:
        KL ``[N]``, differentiable in ``new``.
    """
    if len(old) == 1:
        return lineage.ppo.categorical_kl(old[0], new[0])
    return lineage.ppo.gaussian.diagonal_gaussian_kl(old[0], old[1], new[0], new[1])


def penalty_loss(
    policy: nn.Module,
    obs: torch.Tensor,
    actions: torch.Tensor,
    logp_old: torch.Tensor,
    old: tuple[torch.Tensor, ...],
    advantages: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO-penalty's policy loss on a minibatch, by lineage's verified form for the policy's family:

        loss = −(1/N) Σ_i [ρ_i A_i − β KL_i] = ppo_penalty_loss(logits_new, logits_old, a, A, β)   (categorical)
                                             = ppo_penalty_loss_from_kl(log π_new, log π_old, A, KL, β)   (Gaussian)

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4, eq. 8). Claims PPO-4, STD-PPO-1;
    notes §PPO.

    Args:
        policy: the policy being updated.
        obs: observations ``[N, n_obs]``.
        actions: the sampled actions ``[N]`` or ``[N, d]``.
        logp_old: log π_old(a_i|s_i) ``[N]`` of the rollout.
        old: :func:`policy_parameters` of π_old at ``obs`` (constants).
        advantages: A_i ``[N]``.
        beta: the penalty coefficient β.

    Returns:
        ``(loss, log π_new(a_i|s_i) [N], entropy [N])``.
    """
    logp_new, entropy = log_prob_and_entropy(policy, obs, actions)
    new = policy_parameters(policy, obs)
    if isinstance(policy, GaussianPolicy):
        kl = exact_kl(old, new)
        loss = lineage.ppo.ppo_penalty_loss_from_kl(logp_new, logp_old, advantages, kl, beta=beta)
    else:
        loss = lineage.ppo.ppo_penalty_loss(new[0], old[0], actions, advantages, beta=beta)
    return loss, logp_new, entropy


@dataclass
class UpdateStats:
    """Means over the minibatches of the last update, the exact mean KL d of the whole batch after it, its k3
    estimate from the rollout's actions, and the β used and the next β."""

    policy_loss: float = 0.0
    value_loss: float = 0.0
    entropy: float = 0.0
    kl: float = 0.0
    kl_k3: float = 0.0
    beta: float = 0.0
    next_beta: float = 0.0
    losses: list[float] = field(default_factory=list)


def update(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    advantages: np.ndarray,
    returns: np.ndarray,
    beta: float,
    config: PPOPenaltyConfig,
    generator: np.random.Generator,
) -> UpdateStats:
    """``n_epochs`` passes of minibatch Adam steps on PPO-penalty's combined loss, then the adaptive β:

        loss = −L^KLPEN + c1 L^VF − c2 mean H = penalty_loss + c1 · value_loss − c2 · mean H   (combined_loss)
        d = mean_i KL(π_old(·|s_i) ‖ π_θ(·|s_i)) over the batch,   β' = adapt_kl_coef(β, d, kl_target=d_targ)

    with the advantages normalised per minibatch and the gradient norm clipped to ``max_grad_norm`` (Schulman et
    al. 2017 "Proximal Policy Optimization Algorithms", §4 and eq. 9). Claims PPO-3, PPO-4, STD-PPO-1,
    STD-PPO-4; notes §PPO.

    Args:
        agent: the policy and value network (updated in place).
        optimizer: its Adam optimiser.
        rollout: the segment (observations, actions, old log-probabilities, old values, ``valid``).
        advantages: A ``[T, B]`` of :func:`~lineage.algorithms.ppo_clip.estimate`.
        returns: R^λ ``[T, B]``.
        beta: β of this update.
        config: the run's configuration.
        generator: NumPy generator of the minibatch permutations.

    Returns:
        The :class:`UpdateStats` of the update, with ``next_beta`` for the next one.
    """
    keep = rollout.valid.reshape(-1)
    obs = torch.as_tensor(rollout.observations.reshape(-1, *rollout.observations.shape[2:])[keep], dtype=torch.float32)
    actions = torch.as_tensor(rollout.actions.reshape(-1, *rollout.actions.shape[2:])[keep])
    logp_old = torch.as_tensor(rollout.log_probs.reshape(-1)[keep], dtype=torch.float32)
    values_old = torch.as_tensor(rollout.values.reshape(-1)[keep], dtype=torch.float32)
    adv_all = torch.as_tensor(advantages.reshape(-1)[keep], dtype=torch.float32)
    ret_all = torch.as_tensor(returns.reshape(-1)[keep], dtype=torch.float32)
    with torch.no_grad():  # π_old at every state of the batch, before any step (copies: log σ is a parameter)
        old = tuple(p.detach().clone() for p in policy_parameters(agent.policy, obs))
    n = len(obs)
    size = max(1, math.ceil(n / config.n_minibatches))
    value_variant = "unclipped" if config.clip_value_eps is None else "max"
    stats = UpdateStats(beta=beta)
    for _ in range(config.n_epochs):
        order = torch.as_tensor(generator.permutation(n))
        for start in range(0, n, size):
            idx = order[start : start + size]
            adv = adv_all[idx]
            if config.normalize_advantages:
                adv = lineage.ppo.normalize_advantages(adv)
            old_idx = tuple(p[idx] if p.dim() > 1 else p for p in old)
            policy_loss, _, entropy = penalty_loss(
                agent.policy, obs[idx], actions[idx], logp_old[idx], old_idx, adv, beta
            )
            v_new = agent.value(obs[idx])
            v_loss = lineage.ppo.value_loss(
                v_new, values_old[idx], ret_all[idx], clip_eps=config.clip_value_eps, variant=value_variant
            )
            loss = lineage.ppo.combined_loss(
                policy_loss, v_loss, entropy, vf_coef=config.vf_coef, ent_coef=config.ent_coef
            )
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                stats.losses.append(float(loss))
                stats.policy_loss += float(policy_loss)
                stats.value_loss += float(v_loss)
                stats.entropy += float(entropy.mean())
    k = max(1, len(stats.losses))
    stats.policy_loss, stats.value_loss, stats.entropy = stats.policy_loss / k, stats.value_loss / k, stats.entropy / k
    with torch.no_grad():
        stats.kl = float(exact_kl(old, policy_parameters(agent.policy, obs)).mean())
        logp_new, _ = log_prob_and_entropy(agent.policy, obs, actions)
        stats.kl_k3 = float(lineage.ppo.kl_k3(logp_new, logp_old).mean())
    stats.next_beta = lineage.ppo.adapt_kl_coef(beta, stats.kl, kl_target=config.kl_target)
    return stats


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: PPOPenaltyConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains PPO with the adaptive KL penalty, Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4:

        β = β_init;  for each iteration: collect T·B steps with π_old → A = GAE, R = A + V → K epochs of minibatch
        steps on −L^KLPEN + c1 L^VF − c2 H → d = mean KL(π_old ‖ π_θ) → β ← adapt_kl_coef(β, d, d_targ)

    One log line per iteration (steps, mean return over the last ``window`` finished episodes, losses, entropy,
    the exact mean KL d, its k3 estimate, β), through ``log`` (default: ``tqdm.write`` under a progress bar when
    ``config.progress``). Claims PPO-3, PPO-4, STD-PPO-1, STD-GAE-7, STD-TT-1; notes §PPO.

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
        beta = config.beta_init
        if on_update is not None:
            on_update(agent)
        for k in range(config.iterations):
            if config.anneal_lr:
                optimizer.param_groups[0]["lr"] = config.learning_rate * (1.0 - k / config.iterations)
            rollout = collector.collect(act, value, config.n_steps)  # rollout
            advantages, returns = estimate(rollout, config)  # estimate
            stats = update(agent, optimizer, rollout, advantages, returns, beta, config, generator)  # update
            beta = stats.next_beta
            if on_update is not None:
                on_update(agent)
            run.iteration(  # log
                config.batch_size,
                rollout.episode_returns,
                stats.losses,
                f"L_KLPEN {stats.policy_loss:+.4f}  L_VF {stats.value_loss:8.3f}  H {stats.entropy:.3f}  "
                f"KL {stats.kl:.4f} (k3 {stats.kl_k3:.4f})  beta {stats.beta:.3g} -> {stats.next_beta:.3g}",
            )
    finally:
        envs.close()
    return run.close()
