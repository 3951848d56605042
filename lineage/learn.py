"""``python -m lineage.learn ALGO ENV [--seed N --steps N]``: train one of lineage's algorithms and print its
per-iteration log, then one line with the steps to the threshold (the first iteration whose mean return over the
last 100 finished episodes reaches it), the mean return of 100 evaluation episodes and the wall time."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import torch

from lineage.algorithms import ppo_clip, ppo_penalty
from lineage.algorithms.common import evaluate, threshold_for

# name → (config class, train); explicit, one entry per algorithm.
ALGORITHMS = {
    "ppo_clip": (ppo_clip.PPOClipConfig, ppo_clip.train),
    "ppo_penalty": (ppo_penalty.PPOPenaltyConfig, ppo_penalty.train),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lineage.learn", description=__doc__)
    parser.add_argument("algo", choices=sorted(ALGORITHMS))
    parser.add_argument("env", help="a Gymnasium environment id, e.g. CartPole-v1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100_000, help="environment steps over all sub-environments")
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar (on stderr)")
    args = parser.parse_args(argv)
    config_class, train = ALGORITHMS[args.algo]
    try:
        config = config_class(env_id=args.env, seed=args.seed, total_steps=args.steps, progress=not args.no_progress)
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(1)  # small networks: one thread is fastest, and a shared machine stays responsive
    started = time.perf_counter()
    result = train(config)
    returns = evaluate(result.agent, config, episodes=args.eval_episodes)
    wall = time.perf_counter() - started
    reached = "not reached" if result.steps_to_threshold is None else f"{result.steps_to_threshold}"
    threshold = threshold_for(config.env_id) if config.threshold is None else config.threshold
    print(
        f"{args.algo} {args.env} seed {args.seed}: steps to {threshold:g}: {reached} (of {result.steps}); "
        f"final mean return over {len(returns)} evaluation episodes: {returns.mean():.1f} "
        f"(std {returns.std():.1f}); wall time {wall:.1f} s (training {result.wall_time:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
