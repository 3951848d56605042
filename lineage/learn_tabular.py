"""``python -m lineage.learn_tabular [ALGO ...] [--mdps K ...] [--seed N] [--steps N]``: the tabular optimality
table of issue 12. Each algorithm of ``lineage.learn.ALGORITHMS`` (all that train on Gymnasium MDPs by default: not
``rlhf_ppo``) trains on the seeded
random MDPs ``lineage/RandomMDP-K-v0`` (K = 0..4 by default) and is scored by the exact J of the policy it has
learned, next to the exact optimum J* and the uniform policy's J (:mod:`lineage.algorithms.exact`)."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence

import torch

from lineage.algorithms.exact import optimality_table, tabular_algorithms
from lineage.learn import ALGORITHMS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lineage.learn_tabular", description=__doc__)
    algorithms = tabular_algorithms(ALGORITHMS)
    parser.add_argument("algos", nargs="*", choices=[[], *sorted(algorithms)], default=[], metavar="ALGO")
    parser.add_argument("--mdps", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="K of lineage/RandomMDP-K-v0")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--steps", type=int, default=None, help="environment steps (default: per algorithm)")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = args.algos or sorted(algorithms)
    runs = optimality_table(
        {name: algorithms[name] for name in names},
        [f"lineage/RandomMDP-{k}-v0" for k in args.mdps],
        seed=args.seed,
        total_steps=args.steps,
    )
    if args.json is not None:
        rows = [
            {
                "algorithm": run.algo,
                "env_id": run.env_id,
                "seed": run.seed,
                "steps": run.steps,
                "J": run.score.J,
                "J_star": run.score.J_star,
                "J_uniform": run.score.J_uniform,
                "gap_closed": run.score.gap_closed,
                "wall_time": run.wall_time,
            }
            for run in runs
        ]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
