"""The exact score of a trained policy on a registered tabular MDP (:mod:`lineage.tabular.gym_envs`): the whole-
algorithm laws of issue 12 train an algorithm of ``lineage.learn.ALGORITHMS`` on a small seeded MDP, read the policy
it has learned off its network at the S one-hot observations, and compare its exact discounted J with the exact
optimum J* and with the uniform policy:

    π(a|s) = agent.policy.distribution(e_s).probs[a],   J(π) = ν0ᵀ(I − γP_π)⁻¹ r_π,   J* = ν0ᵀV*,
    gap closed = (J(π) − J(π_unif)) / (J* − J(π_unif))

No Monte-Carlo estimate enters the score: :func:`lineage.tabular.objective` solves the Bellman equation and
:func:`lineage.tabular.optimal_values` runs policy iteration with exact evaluation (it reaches the same V* as value
iteration, exactly, in finitely many steps). The harness is generic over the algorithms: each gets the MDP's γ (if
its configuration has a ``gamma`` field) and its tabular hyper-parameters from :data:`TABULAR_OVERRIDES`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from lineage.tabular import objective, optimal_values
from lineage.tabular.gym_envs import RANDOM_MDP_IDS, register_tabular_envs, tabular_task
from lineage.tabular.mdp import TabularMDP

# Tabular hyper-parameters per algorithm (fields of its configuration), and its environment-step budget. γ comes
# from the MDP. No entropy bonus: the laws ask for the optimum of J itself, not of an entropy-regularised objective.
# PPO-clip keeps its default unclipped value loss: with the clipped one (ε = 0.2) V moves by at most 0.2 per
# iteration, and the late-reward chain's values (≈ 25) stay far below their targets for the whole run (bootstrapping
# at the cut then closed 65 % of the gap after 8192 steps instead of 99.96 %).
TABULAR_OVERRIDES: dict[str, dict] = {
    "reinforce": {"n_envs": 4, "learning_rate": 1e-2, "hidden": 32},
    "reinforce_baseline": {"n_envs": 4, "learning_rate": 1e-2, "value_learning_rate": 1e-2, "hidden": 32},
    "actor_critic": {
        "n_envs": 8,
        "n_steps": 1,
        "learning_rate": 3e-3,
        "value_learning_rate": 1e-2,
        "ent_coef": 0.0,
        "hidden": 32,
    },
    "trpo": {"n_envs": 4, "n_steps": 128, "max_kl": 0.02, "hidden": 32},
    "ppo_penalty": {"n_envs": 4, "n_steps": 128, "learning_rate": 3e-3, "ent_coef": 0.0, "hidden": 32},
    "ppo_clip": {"n_envs": 4, "n_steps": 128, "learning_rate": 3e-3, "ent_coef": 0.0, "hidden": 32},
}
TABULAR_STEPS: dict[str, int] = {
    "reinforce": 20_480,
    "reinforce_baseline": 20_480,
    "actor_critic": 20_480,
    "trpo": 20_480,
    "ppo_penalty": 20_480,
    "ppo_clip": 20_480,
}
DEFAULT_STEPS = 20_480
# Algorithms of lineage.learn that do not train on a Gymnasium MDP, with the reason; the tabular laws leave them out.
NOT_TABULAR: dict[str, str] = {"rlhf_ppo": "trains on the enumerable token environment, not on a Gymnasium MDP"}


def tabular_algorithms(algorithms: Mapping[str, tuple[type, Callable]]) -> dict[str, tuple[type, Callable]]:
    """The algorithms the tabular laws run: every entry of ``algorithms`` (``lineage.learn.ALGORITHMS``) except those
    of :data:`NOT_TABULAR`, tabular = {name ↦ (config, train) : name ∉ NOT_TABULAR}. The policy-gradient methods
    of Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, ch. 13, on finite MDPs. Claim PG-2;
    notes §PG.

    Args:
        algorithms: name → (config class, train).

    Returns:
        The same mapping without the algorithms of :data:`NOT_TABULAR`.
    """
    return {name: entry for name, entry in algorithms.items() if name not in NOT_TABULAR}


@dataclass(frozen=True)
class ExactScore:
    """J(π), J* and J(π_unif) of one policy on one MDP, and the fraction of the gap closed."""

    J: float
    J_star: float
    J_uniform: float

    @property
    def gap_closed(self) -> float:
        return (self.J - self.J_uniform) / (self.J_star - self.J_uniform)


@dataclass
class ExactRun:
    """One training run scored exactly: the algorithm, the task id, the training seed, the environment steps, the
    final :class:`ExactScore`, the policy table after every update (``policies[0]`` is the initial policy) and the
    wall time."""

    algo: str
    env_id: str
    seed: int
    steps: int
    score: ExactScore
    policies: list[np.ndarray] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def curve(self) -> list[float]:
        """J of the policy after every update (the first entry: before any)."""
        mdp = tabular_task(self.env_id).mdp
        return [objective(mdp, pi) for pi in self.policies]


@torch.no_grad()
def policy_table(agent: torch.nn.Module, n_states: int) -> np.ndarray:
    """The tabular policy a trained agent acts with, read at every one-hot observation e_s:

        π[s, a] = agent.policy.distribution(e_s).probs[a],   e_s = row s of the identity I_S

    computed in float64 from the distribution's logits (softmax, so that each row sums to 1 within float64
    rounding, as :meth:`lineage.tabular.TabularMDP.check_policy` requires). The policy of Sutton & Barto (2018),
    *Reinforcement Learning: An Introduction*, §3.5, π(a|s), on one-hot features (§9.5.4). Shapes: ``[S, A]``;
    claims PG-2, STD-TT-2; notes §PG.

    Args:
        agent: a trained agent whose ``policy`` has ``distribution(obs)`` returning a ``Categorical``.
        n_states: S, the width of the one-hot observations.

    Returns:
        [S, A] float64 array, rows on the simplex.
    """
    distribution = agent.policy.distribution(torch.eye(n_states, dtype=torch.float32))
    return torch.softmax(distribution.logits.double(), dim=-1).numpy()


def exact_score(mdp: TabularMDP, pi: np.ndarray) -> ExactScore:
    """The exact J of ``pi``, the optimum and the uniform policy's J, on ``mdp``:

        J(π) = ν0ᵀ(I − γP_π)⁻¹ r_π,   J* = ν0ᵀV* (policy iteration),   J(π_unif), π_unif(a|s) = 1/A,
        gap closed = (J(π) − J(π_unif)) / (J* − J(π_unif))

    (Sutton & Barto 2018, *Reinforcement Learning: An Introduction*, §3.5 and §4.3; Puterman 1994, *Markov
    Decision Processes*, §6.4). Claims PG-1, PG-2; notes §PG.

    Args:
        mdp: the MDP (γ < 1).
        pi: [S, A] policy.

    Returns:
        The :class:`ExactScore`.
    """
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    return ExactScore(objective(mdp, pi), float(mdp.nu0 @ optimal_values(mdp)), objective(mdp, uniform))


def tabular_config(config_class: type, algo: str, env_id: str, seed: int, total_steps: int | None = None, **overrides):
    """The configuration of ``algo`` for the tabular task ``env_id``: its defaults, then its entry of
    :data:`TABULAR_OVERRIDES`, then γ = the MDP's γ (if the configuration has ``gamma``), then ``overrides``:

        config = config_class(env_id, seed, total_steps, **(TABULAR_OVERRIDES[algo] | {γ} | overrides))

    so that the algorithm's discounted objective is the J the laws score (Sutton & Barto 2018, §3.3). Registers the
    tabular ids first. Claims PG-2, STD-TT-2; notes §PG.

    Args:
        config_class: the algorithm's configuration dataclass.
        algo: its name in ``lineage.learn.ALGORITHMS``.
        env_id: a tabular task id (:data:`lineage.tabular.gym_envs.TASKS`).
        seed: the training seed.
        total_steps: environment steps; None: :data:`TABULAR_STEPS` of ``algo`` (else :data:`DEFAULT_STEPS`).
        **overrides: further configuration fields.

    Returns:
        The configuration.
    """
    register_tabular_envs()
    task = tabular_task(env_id)
    fields = {f.name for f in dataclasses.fields(config_class)}
    kwargs = dict(TABULAR_OVERRIDES.get(algo, {}))
    if "gamma" in fields:
        kwargs["gamma"] = task.mdp.gamma
    kwargs.update(overrides)
    steps = TABULAR_STEPS.get(algo, DEFAULT_STEPS) if total_steps is None else total_steps
    return config_class(env_id=env_id, seed=seed, total_steps=steps, progress=False, **kwargs)


def run_exact(
    algo: str,
    config_class: type,
    train: Callable,
    env_id: str,
    seed: int,
    total_steps: int | None = None,
    **overrides,
) -> ExactRun:
    """Trains ``algo`` on the tabular task ``env_id`` and scores it exactly: through ``on_update`` the policy table
    π_k (:func:`policy_table`) is kept before the first update and after every one, and the final one is scored,

        gap closed = (J(π_K) − J(π_unif)) / (J* − J(π_unif))

    (the optimality law of issue 12; J* by policy iteration, Puterman 1994 §6.4). Claims PG-2, STD-TT-2; notes §PG.

    Args:
        algo: the algorithm's name (its entry of :data:`TABULAR_OVERRIDES`).
        config_class: its configuration dataclass.
        train: its ``train(config, log=None, on_update=None)``.
        env_id: a tabular task id.
        seed: the training seed.
        total_steps: environment steps; None: the algorithm's :data:`TABULAR_STEPS`.
        **overrides: further configuration fields.

    Returns:
        The :class:`ExactRun`.
    """
    config = tabular_config(config_class, algo, env_id, seed, total_steps, **overrides)
    mdp = tabular_task(env_id).mdp
    policies: list[np.ndarray] = []
    started = time.perf_counter()

    def keep(agent: torch.nn.Module) -> None:
        policies.append(policy_table(agent, mdp.n_states))

    result = train(config, log=lambda line: None, on_update=keep)
    wall = time.perf_counter() - started
    return ExactRun(algo, env_id, seed, result.steps, exact_score(mdp, policies[-1]), policies, wall)


def optimality_table(
    algorithms: Mapping[str, tuple[type, Callable]],
    env_ids: Sequence[str] = RANDOM_MDP_IDS,
    seed: int = 1,
    total_steps: int | None = None,
    emit: Callable[[str], None] = print,
) -> list[ExactRun]:
    """Runs every algorithm of ``algorithms`` (name → (config class, train), as ``lineage.learn.ALGORITHMS``) on every
    task of ``env_ids`` and emits a markdown table, one row per run (algorithm, task, S × A, steps, J, J*, J(π_unif),
    gap closed = (J − J(π_unif))/(J* − J(π_unif)), wall time), then each algorithm's worst gap closed (the optimality
    law of issue 12; J* by Puterman 1994 §6.4). Claims PG-2, STD-TT-2; notes §PG.

    Args:
        algorithms: name → (config class, train).
        env_ids: tabular task ids.
        seed: the training seed of every run.
        total_steps: environment steps; None: each algorithm's :data:`TABULAR_STEPS`.
        emit: receives each line.

    Returns:
        The runs.
    """
    emit("| algorithm | MDP | S×A | steps | J(π) | J* | J(unif) | gap closed | wall s |")
    emit("|---|---|---|---:|---:|---:|---:|---:|---:|")
    runs = []
    for algo, (config_class, train) in algorithms.items():
        for env_id in env_ids:
            run = run_exact(algo, config_class, train, env_id, seed, total_steps)
            runs.append(run)
            mdp, s = tabular_task(env_id).mdp, run.score
            emit(
                f"| {algo} | {env_id} | {mdp.n_states}×{mdp.n_actions} | {run.steps} | {s.J:.4f} | {s.J_star:.4f} | "
                f"{s.J_uniform:.4f} | {100 * s.gap_closed:.2f} % | {run.wall_time:.1f} |"
            )
    for algo in algorithms:
        worst = min(r.score.gap_closed for r in runs if r.algo == algo)
        emit(f"{algo}: worst gap closed over {len(env_ids)} MDPs (seed {seed}): {100 * worst:.2f} %")
    return runs
