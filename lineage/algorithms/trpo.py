"""TRPO with an MLP policy — categorical on a ``Discrete`` action space (CartPole-v1), diagonal Gaussian on a ``Box``
(Pendulum-v1) — and a separate value network (torch, CPU), read top to bottom: config → rollout → estimate → update
→ log.

    maximise  L(θ) = (1/N) Σ_i ρ_i(θ) A_i   subject to   KL̄(θ) = (1/N) Σ_i KL(π_old(·|s_i) ‖ π_θ(·|s_i)) ≤ δ

solved as in Schulman et al. 2015 "Trust Region Policy Optimization", §6 and Appendix C: g = ∇L(θ_old), x ≈ F⁻¹g by
conjugate gradient on Fisher-vector products (F = ∇²KL̄ at θ_old, by double backward), the full step
Δ = √(2δ / xᵀFx)·x, then a backtracking line search that accepts the first θ_old + ratioⁱ·Δ with KL̄ ≤ δ and
L > L(θ_old), else keeps θ_old. The advantages are GAE's (Schulman et al. 2016 "High-Dimensional Continuous Control
Using Generalized Advantage Estimation"), which also fits V by regression on the λ-returns (here with Adam).

Every formula is a verified building block; this module only wires them: :func:`lineage.gae`,
:func:`lineage.lambda_returns`, :func:`lineage.ppo.normalize_advantages`, :func:`lineage.ppo.probability_ratio`,
:func:`lineage.ppo.categorical_kl`, :func:`lineage.ppo.gaussian.diagonal_gaussian_kl`,
:func:`lineage.optim.hessian_vector_product`, :func:`lineage.optim.conjugate_gradient`,
:func:`lineage.optim.natural_step`, :func:`lineage.optim.trpo_line_search` and :func:`lineage.ppo.value_loss`
(claims STD-NG-1, STD-NG-2, STD-CG-1, TRPO-13, TRPO-14, STD-GAE-7, STD-TT-1; notes §TRPO).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

import lineage
import lineage.optim
import lineage.ppo
import lineage.ppo.gaussian
from lineage._validation import check_positive_int, check_real, check_unit_interval
from lineage.algorithms import networks
from lineage.algorithms.common import RunLog, TrainResult, check_run, make_envs, policy_callables, seed_everything
from lineage.algorithms.networks import ValueNetwork, make_policy, observation_size
from lineage.algorithms.rollout import Rollout, VectorRollout

# ---------------------------------------------------------------------------------------------------- config

# Per-environment defaults of the fields left None (TRPOConfig.__post_init__), measured with ``python -m lineage.learn
# trpo ENV --seed N``: CartPole-v1 reached 475 after 67,584 steps (seed 2), Pendulum-v1 −200 after 160,000 (seed 1).
# Any other environment takes GENERIC.
GENERIC = {"total_steps": 100_000, "n_envs": 2, "n_steps": 1024, "gamma": 0.99, "lam": 0.95, "max_kl": 0.01}
ENV_DEFAULTS = {
    "CartPole-v1": {"total_steps": 100_000, "n_envs": 2, "n_steps": 512, "gamma": 0.99, "lam": 0.98, "max_kl": 0.02},
    "Pendulum-v1": {"total_steps": 300_000, "n_envs": 4, "n_steps": 1000, "gamma": 0.95, "lam": 0.95, "max_kl": 0.02},
}


@dataclass(frozen=True)
class TRPOConfig:
    """Hyper-parameters of a TRPO run. The fields left None (``total_steps``, ``n_envs``, ``n_steps``, ``gamma``,
    ``lam``, ``max_kl``) take the per-environment defaults of ``ENV_DEFAULTS[env_id]`` in ``__post_init__`` (``GENERIC``
    for an environment not listed), so ``TRPOConfig(env_id=..., seed=..., total_steps=...)`` is a tuned run; a
    value given explicitly wins. Every field is checked on construction: a bad value raises ``ValueError`` naming
    the field."""

    env_id: str = "CartPole-v1"
    total_steps: int | None = None  # environment steps over all sub-environments
    seed: int = 1
    n_envs: int | None = None
    n_steps: int | None = None  # T per sub-environment and iteration
    gamma: float | None = None
    lam: float | None = None
    max_kl: float | None = None  # δ, the trust region's radius in mean KL
    cg_iters: int = 10
    cg_tol: float = 1e-10  # stop CG once ‖r‖² ≤ tol
    cg_damping: float = 0.1  # c of F + cI
    max_backtracks: int = 10
    backtrack_ratio: float = 0.8
    normalize_advantages: bool = True
    value_learning_rate: float = 1e-3
    value_epochs: int = 10  # Adam passes over the batch per iteration
    value_minibatches: int = 8
    hidden: int = 64
    log_std: float = 0.0  # initial log σ of a Gaussian policy
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP
    bootstrap_truncation: bool = True  # False treats a time-limit cut as termination (STD-TT-2)
    threshold: float | None = None  # mean return over the last ``window`` episodes; None: common.threshold_for(env_id)
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        for name, value in ENV_DEFAULTS.get(self.env_id, GENERIC).items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        check_run(self)
        for name in ("n_envs", "n_steps", "cg_iters", "max_backtracks", "value_epochs", "value_minibatches", "hidden"):
            check_positive_int(name, getattr(self, name))
        check_unit_interval("gamma", self.gamma)
        check_unit_interval("lam", self.lam)
        check_real("max_kl", self.max_kl, minimum=0.0, inclusive=False)
        check_real("cg_tol", self.cg_tol, minimum=0.0)
        check_real("cg_damping", self.cg_damping, minimum=0.0)
        check_real("backtrack_ratio", self.backtrack_ratio, minimum=0.0, inclusive=False)
        if self.backtrack_ratio >= 1.0:
            raise ValueError(f"backtrack_ratio: must be < 1, got {self.backtrack_ratio}")
        check_real("value_learning_rate", self.value_learning_rate, minimum=0.0, inclusive=False)
        check_real("log_std", self.log_std)
        for name in ("normalize_advantages", "bootstrap_truncation", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected a bool, got {getattr(self, name)!r}")
        if self.n_envs * self.n_steps < self.value_minibatches:
            raise ValueError(
                f"value_minibatches: {self.value_minibatches} exceeds the batch of n_envs · n_steps = "
                f"{self.n_envs * self.n_steps} samples"
            )

    @property
    def batch_size(self) -> int:
        return self.n_envs * self.n_steps

    @property
    def iterations(self) -> int:
        return max(1, self.total_steps // self.batch_size)

    def summary(self) -> str:
        """The fields as ``name=value`` pairs (the per-environment defaults filled in)."""
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name != "progress")


# ---------------------------------------------------------------------------------------------------- networks


class Agent(networks.Agent):
    """The policy π (``policy``, :mod:`lineage.algorithms.networks`) and the separate value network V (``value``).
    ``forward(obs)`` is π(·|obs), so that :func:`torch.func.functional_call` evaluates the policy at any flat
    parameter vector θ. After every update ``last_update`` holds that update's :class:`UpdateStats` (None before
    the first), for the laws that read the agent in ``on_update``."""

    def __init__(self, policy: nn.Module, value: ValueNetwork):
        super().__init__(policy, value)
        self.last_update: UpdateStats | None = None

    def forward(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        return self.policy.distribution(obs)


def make_agent(config: TRPOConfig, envs: gym.vector.VectorEnv) -> Agent:
    """The policy and value network for ``envs``: π(a|s) = softmax(MLP(s))_a on a ``Discrete`` action space,
    π(·|s) = N(MLP(s), diag σ²) with a learned log σ on a flat ``Box``; V(s) = MLP(s) (Schulman et al. 2015 "Trust
    Region Policy Optimization", §8, uses such MLP policies; Schulman et al. 2016 fits the separate V). Claims
    STD-NG-2, STD-GAE-7; notes §TRPO.

    Args:
        config: the run's configuration (``hidden`` units per layer, initial ``log_std``).
        envs: the vector environment.

    Returns:
        The module; raises ``ValueError`` naming ``env_id`` for an action or observation space it cannot handle.
    """
    policy = make_policy(config.env_id, envs, config.hidden, continuous=True, log_std=config.log_std)
    return Agent(policy, ValueNetwork(observation_size(config.env_id, envs.single_observation_space), config.hidden))


# ---------------------------------------------------------------------------------------------------- rollout
# lineage.algorithms.rollout.VectorRollout with common.policy_callables: a ~ π_old = π_θold, log π_old(a|s), V_old(s)
# (the old policy of the surrogate L(θ) = mean ρA, ρ = π_θ/π_old; Schulman et al. 2015, eq. 14).


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(rollout: Rollout, config: TRPOConfig) -> tuple[np.ndarray, np.ndarray]:
    """GAE advantages and λ-return targets of one segment ``[T, B]``, by lineage's verified functions:

        A = lineage.gae(segment, γ, λ),   R^λ = lineage.lambda_returns(segment, γ, λ) = A + V

    (Schulman et al. 2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation", eq. 16 and
    the value regression of its §5, which it runs with TRPO). Claims STD-GAE-7, STD-TT-1; notes §GAE.

    Args:
        rollout: the segment.
        config: ``gamma``, ``lam`` and ``bootstrap_truncation``.

    Returns:
        ``(advantages, returns)``, float64 ``[T, B]``.
    """
    segment = rollout.segment(bootstrap_truncation=config.bootstrap_truncation)
    advantages = lineage.gae(**segment, gamma=config.gamma, lam=config.lam)
    returns = lineage.lambda_returns(**segment, gamma=config.gamma, lam=config.lam)
    return advantages, returns


# ---------------------------------------------------------------------------------------------------- update


@dataclass
class UpdateStats:
    """One TRPO update: whether the line search accepted a step, the measured mean KL(π_old ‖ π_new) and surrogate
    improvement L(θ_new) − L(θ_old) of the parameters it kept (0 and 0 when it kept θ_old), the predicted
    improvement gᵀΔ of the full step, the conjugate gradient's residual ‖F x − g‖ / ‖g‖, and the value losses."""

    accepted: bool = False
    kl: float = 0.0
    improvement: float = 0.0
    expected_improvement: float = 0.0
    cg_residual: float = 0.0
    surrogate: float = 0.0
    value_loss: float = 0.0
    losses: list[float] = field(default_factory=list)


def mean_kl(old: torch.distributions.Distribution, new: torch.distributions.Distribution) -> torch.Tensor:
    """KL̄ = (1/N) Σ_i KL(π_old(·|s_i) ‖ π_new(·|s_i)), exact: :func:`lineage.ppo.categorical_kl` of the logits for
    a categorical policy, :func:`lineage.ppo.gaussian.diagonal_gaussian_kl` of (μ, log σ) for a diagonal Gaussian
    (Schulman et al. 2015 "Trust Region Policy Optimization", eq. 12, the constraint). Claims TRPO-13, STD-NG-1;
    notes §TRPO.

    Args:
        old: π_old(·|s_i) over the batch (its parameters constants: detached).
        new: π_θ(·|s_i), same batch.

    Returns:
        KL̄, a 0-d tensor, differentiable through ``new``.
    """
    if isinstance(new, torch.distributions.Categorical):
        return lineage.ppo.categorical_kl(old.logits, new.logits).mean()
    p, q = old.base_dist, new.base_dist
    return lineage.ppo.gaussian.diagonal_gaussian_kl(p.loc, p.scale.log(), q.loc, q.scale.log()).mean()


def update(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    advantages: np.ndarray,
    returns: np.ndarray,
    config: TRPOConfig,
    generator: np.random.Generator,
) -> UpdateStats:
    """One TRPO policy step (Schulman et al. 2015 "Trust Region Policy Optimization", Appendix C) and the value
    regression, over the valid samples of the segment:

        L(θ) = mean_i ρ_i(θ) Â_i,   ρ = probability_ratio(log π_θ(a|s), log π_old(a|s)),   Â = normalize_advantages(A)
        g = ∇L(θ_old);   x = conjugate_gradient(v ↦ hessian_vector_product(KL̄, θ_old, v, c), g)
        Δ = natural_step(x, (F + cI)x, δ);   θ ← trpo_line_search(L, KL̄, θ_old, Δ, δ)
        then ``value_epochs`` passes of minibatch Adam on value_loss(V, R^λ) (unclipped ½ mean (V − R^λ)²)

    Claims STD-NG-1, STD-NG-2, STD-CG-1, TRPO-13, STD-GAE-7; notes §TRPO.

    Args:
        agent: the policy and value network (updated in place).
        optimizer: Adam over the value network's parameters.
        rollout: the segment (observations, actions, old log-probabilities, ``valid``).
        advantages: A ``[T, B]`` of :func:`estimate`.
        returns: R^λ ``[T, B]`` of :func:`estimate`.
        config: the run's configuration.
        generator: NumPy generator of the value minibatches.

    Returns:
        The :class:`UpdateStats` of the update (also stored as ``agent.last_update``).
    """
    keep = rollout.valid.reshape(-1)
    obs = torch.as_tensor(rollout.observations.reshape(-1, *rollout.observations.shape[2:])[keep], dtype=torch.float32)
    actions = torch.as_tensor(rollout.actions.reshape(-1, *rollout.actions.shape[2:])[keep])
    logp_old = torch.as_tensor(rollout.log_probs.reshape(-1)[keep], dtype=torch.float32)
    values_old = torch.as_tensor(rollout.values.reshape(-1)[keep], dtype=torch.float32)
    adv = torch.as_tensor(advantages.reshape(-1)[keep], dtype=torch.float32)
    ret = torch.as_tensor(returns.reshape(-1)[keep], dtype=torch.float32)
    if config.normalize_advantages:
        adv = lineage.ppo.normalize_advantages(adv)
    stats = UpdateStats()

    # the policy: functions of the flat parameter vector θ
    names = [f"policy.{name}" for name, _ in agent.policy.named_parameters()]
    shapes = [p.shape for p in agent.policy.parameters()]
    sizes = [p.numel() for p in agent.policy.parameters()]
    theta_old = nn.utils.parameters_to_vector(agent.policy.parameters()).detach()

    def policy_at(theta: torch.Tensor) -> torch.distributions.Distribution:
        tensors = [t.reshape(shape) for t, shape in zip(torch.split(theta, sizes), shapes, strict=True)]
        return torch.func.functional_call(agent, dict(zip(names, tensors, strict=True)), (obs,), strict=False)

    with torch.no_grad():
        old = policy_at(theta_old)

    def surrogate(theta: torch.Tensor) -> torch.Tensor:
        ratio = lineage.ppo.probability_ratio(policy_at(theta).log_prob(actions), logp_old)
        return (ratio * adv).mean()

    def kl(theta: torch.Tensor) -> torch.Tensor:
        return mean_kl(old, policy_at(theta))

    def fisher_product(v: torch.Tensor) -> torch.Tensor:
        return lineage.optim.hessian_vector_product(kl, theta_old, v, damping=config.cg_damping)

    point = theta_old.clone().requires_grad_(True)
    value = surrogate(point)
    (gradient,) = torch.autograd.grad(value, point)
    stats.surrogate = float(value.detach())
    x = lineage.optim.conjugate_gradient(fisher_product, gradient, iters=config.cg_iters, tol=config.cg_tol)
    fx = fisher_product(x)
    if float((x * fx).sum()) > 0:  # x = 0 when g = 0 (e.g. equal advantages): no direction, no step
        stats.cg_residual = float((fx - gradient).norm() / gradient.norm())
        step = lineage.optim.natural_step(x, fx, max_kl=config.max_kl)
        stats.expected_improvement = float(gradient @ step)
        with torch.no_grad():
            theta_new = lineage.optim.trpo_line_search(
                surrogate,
                kl,
                theta_old,
                step,
                max_kl=config.max_kl,
                max_backtracks=config.max_backtracks,
                backtrack_ratio=config.backtrack_ratio,
            )
            stats.accepted = not torch.equal(theta_new, theta_old)
            if stats.accepted:
                stats.kl = float(kl(theta_new))
                stats.improvement = float(surrogate(theta_new)) - stats.surrogate
                nn.utils.vector_to_parameters(theta_new, agent.policy.parameters())

    # the value function: regression on the λ-returns
    n = len(obs)
    size = max(1, math.ceil(n / config.value_minibatches))
    for _ in range(config.value_epochs):
        order = torch.as_tensor(generator.permutation(n))
        for start in range(0, n, size):
            idx = order[start : start + size]
            v_new = agent.value(obs[idx])
            loss = lineage.ppo.value_loss(v_new, values_old[idx], ret[idx], clip_eps=None, variant="unclipped")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            stats.losses.append(float(loss.detach()))
    stats.value_loss = float(np.mean(stats.losses))
    agent.last_update = stats
    return stats


# ---------------------------------------------------------------------------------------------------- train + log


def train(
    config: TRPOConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> TrainResult:
    """Trains TRPO, Schulman et al. 2015 "Trust Region Policy Optimization", Appendix C, with GAE (Schulman et al.
    2016):

        for each iteration: collect T·B steps with π_old → A = GAE, R = A + V → one trust-region step
        θ ← argmax L(θ) s.t. KL̄ ≤ δ (CG + natural step + line search) → value regression on R

    One log line per iteration (steps, mean return over the last ``window`` finished episodes, whether the line
    search accepted, the measured KL̄ and surrogate improvement, the predicted improvement gᵀΔ, the conjugate
    gradient's relative residual ‖(F + cI)x − g‖/‖g‖, the value loss),
    through ``log`` (default: ``tqdm.write`` under a progress bar when ``config.progress``). Claims STD-NG-2,
    TRPO-13, TRPO-14, STD-GAE-7, STD-TT-1; notes §TRPO.

    Args:
        config: the run's configuration.
        log: receives each log line; None prints them.
        on_update: called with the agent before the first iteration and after every update (the whole-algorithm
            laws read the policy there, and the update's :class:`UpdateStats` in ``agent.last_update``).

    Returns:
        A :class:`~lineage.algorithms.common.TrainResult`.
    """
    seed_everything(config.seed)
    envs = make_envs(config.env_id, config.n_envs, config.seed, config.autoreset_mode)
    try:
        agent = make_agent(config, envs)
        optimizer = torch.optim.Adam(agent.value.parameters(), lr=config.value_learning_rate)
        generator = np.random.default_rng(config.seed)
        collector = VectorRollout(envs, seed=config.seed)
        act, value = policy_callables(agent)
        run = RunLog(TrainResult(agent), config, config.iterations, log)
        if on_update is not None:
            on_update(agent)
        for _ in range(config.iterations):
            rollout = collector.collect(act, value, config.n_steps)  # rollout
            advantages, returns = estimate(rollout, config)  # estimate
            stats = update(agent, optimizer, rollout, advantages, returns, config, generator)  # update
            if on_update is not None:
                on_update(agent)
            run.iteration(  # log
                config.batch_size,
                rollout.episode_returns,
                stats.losses,
                f"step {'accepted' if stats.accepted else 'rejected'}  KL {stats.kl:.5f}  "
                f"ΔL {stats.improvement:+.5f} (predicted {stats.expected_improvement:+.5f})  "
                f"CG residual {stats.cg_residual:.1e}  L_VF {stats.value_loss:9.3f}",
            )
    finally:
        envs.close()
    return run.close()
