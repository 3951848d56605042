"""``python -m lineage.learn_tabular [ALGO ...] [--mdps K ...] [--seed N] [--steps N]``: the tabular optimality
table of issue 12. Each algorithm of ``lineage.learn.ALGORITHMS`` (all of them by default) trains on the seeded
random MDPs ``lineage/RandomMDP-K-v0`` (K = 0..4 by default) and is scored by the exact J of the policy it has
learned, next to the exact optimum J* and the uniform policy's J (:mod:`lineage.algorithms.exact`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import torch

from lineage.algorithms.exact import optimality_table
from lineage.learn import ALGORITHMS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lineage.learn_tabular", description=__doc__)
    parser.add_argument("algos", nargs="*", choices=[[], *sorted(ALGORITHMS)], default=[], metavar="ALGO")
    parser.add_argument("--mdps", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="K of lineage/RandomMDP-K-v0")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--steps", type=int, default=None, help="environment steps (default: per algorithm)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = args.algos or sorted(ALGORITHMS)
    optimality_table(
        {name: ALGORITHMS[name] for name in names},
        [f"lineage/RandomMDP-{k}-v0" for k in args.mdps],
        seed=args.seed,
        total_steps=args.steps,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
