"""``python -m lineage.learn ALGO ENV [--seed N --steps N]``: train one of lineage's algorithms and print its
per-iteration log, then one line with the steps to the threshold (the first iteration whose mean return over the
last 100 finished episodes reaches it), the mean return of 100 evaluation episodes and the wall time.

:func:`learn` is the same run as a function returning a :class:`LearnRow`, one row of the results table that
``nox -s learn`` (benchmarks/bench_learn.py) writes."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from lineage.algorithms import actor_critic, ppo_clip, ppo_penalty, reinforce, reinforce_baseline, rlhf_ppo, trpo
from lineage.algorithms.common import evaluate, threshold_for
from lineage.tabular.gym_envs import register_tabular_envs

# name → (config class, train); explicit, one entry per algorithm (a test checks every training module is here).
ALGORITHMS = {
    "ppo_clip": (ppo_clip.PPOClipConfig, ppo_clip.train),
    "ppo_penalty": (ppo_penalty.PPOPenaltyConfig, ppo_penalty.train),
    "trpo": (trpo.TRPOConfig, trpo.train),
    "rlhf_ppo": (rlhf_ppo.RLHFPPOConfig, rlhf_ppo.train),
    "reinforce": (reinforce.ReinforceConfig, reinforce.train),
    "reinforce_baseline": (reinforce_baseline.ReinforceBaselineConfig, reinforce_baseline.train),
    "actor_critic": (actor_critic.ActorCriticConfig, actor_critic.train),
}


@dataclass
class LearnRow:
    """One run: what the results table shows (steps to the threshold or None, the mean of the last 100 training
    episodes, the evaluation mean over ``eval_episodes`` fresh greedy episodes, wall times) and the learning curve
    (environment steps, running mean return after each iteration)."""

    algo: str
    env: str
    seed: int
    steps: int
    threshold: float
    steps_to_threshold: int | None
    train_mean: float
    eval_mean: float
    eval_std: float
    eval_episodes: int
    wall_time: float
    train_time: float
    curve_steps: list[int] = field(default_factory=list)
    curve_returns: list[float] = field(default_factory=list)
    exact_curve: list[dict[str, float]] = field(default_factory=list)  # the module's ``curve_rows``, if it has one

    def summary(self) -> str:
        reached = "not reached" if self.steps_to_threshold is None else f"{self.steps_to_threshold}"
        return (
            f"{self.algo} {self.env} seed {self.seed}: steps to {self.threshold:g}: {reached} (of {self.steps}); "
            f"final mean return over {self.eval_episodes} evaluation episodes: {self.eval_mean:.1f} "
            f"(std {self.eval_std:.1f}); wall time {self.wall_time:.1f} s (training {self.train_time:.1f} s)"
        )


def make_config(algo: str, env_id: str, *, seed: int, steps: int | None = None, progress: bool = False):
    """The configuration of ``algo`` on ``env_id``: its defaults for that environment, with the seed, the step
    budget (None keeps the algorithm's default) and the progress bar set. Raises ``ValueError`` naming a bad field.
    Registers the tabular MDPs first (e.g. ``lineage/RandomMDP-0-v0``, :mod:`lineage.tabular.gym_envs`)."""
    register_tabular_envs()
    config_class, _ = ALGORITHMS[algo]
    overrides = {"env_id": env_id, "seed": seed, "progress": progress}
    if steps is not None:
        overrides["total_steps"] = steps
    return config_class(**overrides)


def learn(
    algo: str,
    env_id: str,
    *,
    seed: int,
    steps: int | None = None,
    eval_episodes: int = 100,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> LearnRow:
    """Trains ``algo`` on ``env_id`` and evaluates the result (the algorithm module's own ``evaluate`` if it has
    one, else greedy episodes of :func:`lineage.algorithms.common.evaluate`); a module with ``curve_rows(result)``
    (RLHF-PPO's exact KL-to-optimum curve) adds those rows."""
    config = make_config(algo, env_id, seed=seed, steps=steps, progress=progress)
    _, train = ALGORITHMS[algo]
    module = sys.modules[train.__module__]
    own_evaluate = getattr(module, "evaluate", evaluate)
    torch.set_num_threads(1)  # small networks: one thread is fastest, and a shared machine stays responsive
    started = time.perf_counter()
    result = train(config, log=log)
    returns = np.asarray(own_evaluate(result.agent, config, episodes=eval_episodes), dtype=np.float64)
    wall = time.perf_counter() - started
    last = result.mean_returns[-1] if result.mean_returns else float("nan")
    return LearnRow(
        algo=algo,
        env=env_id,
        seed=seed,
        steps=result.steps,
        threshold=threshold_for(env_id) if config.threshold is None else config.threshold,
        steps_to_threshold=result.steps_to_threshold,
        train_mean=float(last),
        eval_mean=float(returns.mean()),
        eval_std=float(returns.std()),
        eval_episodes=len(returns),
        wall_time=wall,
        train_time=result.wall_time,
        curve_steps=list(result.steps_log),
        curve_returns=[float(x) for x in result.mean_returns],
        exact_curve=module.curve_rows(result) if hasattr(module, "curve_rows") else [],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lineage.learn", description=__doc__)
    parser.add_argument("algo", choices=sorted(ALGORITHMS))
    parser.add_argument("env", help="a Gymnasium environment id, e.g. CartPole-v1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="environment steps (default: the algorithm's own)")
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar (on stderr)")
    args = parser.parse_args(argv)
    try:
        make_config(args.algo, args.env, seed=args.seed, steps=args.steps)
    except ValueError as error:
        parser.error(str(error))
    row = learn(
        args.algo,
        args.env,
        seed=args.seed,
        steps=args.steps,
        eval_episodes=args.eval_episodes,
        progress=not args.no_progress,
    )
    print(row.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
