"""Seconds per target, examples per second and the size of the shrunk counterexamples, for the oracle's default profile.

    python benchmarks/bench_oracle.py [--profile oracle]        (what `nox -s bench` runs; the oracle is derandomized)

Targets: lineage's own implementation of every contract (they must pass), every bug-zoo entry (each must
fail), and the real peers when they are installed. For a failing target, "shrunk size" lists the number
of entries in each failing law's minimal counterexample (steps × columns of a segment, samples of a loss case;
"-" for cases without arrays: MDP paths, scalar coefficients).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from lineage.bugzoo import BUGS
from lineage.laws.contracts import CONTRACTS
from lineage.oracle.runner import check_target
from lineage.oracle.targets import make_target

PEERS = [  # contract, target, convention, framework (None: the convention's)
    ("gae", "stable_baselines3.common.buffers:RolloutBuffer", "sb3", None),
    ("gae", "torchrl.objectives.value.functional:generalized_advantage_estimate", "torchrl", None),
    ("gae", "torchrl.objectives.value.functional:vec_generalized_advantage_estimate", "torchrl", None),
    ("gae", "tianshou.algorithm.algorithm_base:_gae", "tianshou", None),
    ("ppo_clip_loss", "torchrl.objectives:ClipPPOLoss", "torchrl-ppo", None),
    ("value_loss", "torchrl.objectives:ClipPPOLoss", "torchrl-ppo", None),
    ("adapt_kl_coef", "torchrl.objectives:KLPENPPOLoss", "torchrl-ppo", None),
    ("normalize_advantages", "torchrl._utils:_standardize", "canonical", "torch"),
]


def targets():
    for name, contract in CONTRACTS.items():
        yield make_target(name, contract.reference)
    for bug in BUGS.values():
        yield make_target(bug.contract, bug.function)
    for contract, spec, convention, framework in PEERS:
        try:
            yield make_target(contract, spec, convention=convention, framework=framework)
        except ValueError as missing:  # peers are optional here
            print(f"(skipping {spec}: {missing})")


def entries(counterexample: str) -> int:
    """Numbers in the first array field of a counterexample (steps × columns of a segment's rewards; 0 if none)."""
    start = counterexample.find("=[")
    if start < 0:
        return 0
    depth, end = 0, start + 1
    for end in range(start + 1, len(counterexample)):
        depth += {"[": 1, "]": -1}.get(counterexample[end], 0)
        if depth == 0:
            break
    return len(re.findall(r"[^\s\[\],]+", counterexample[start + 1 : end + 1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="oracle")
    args = parser.parse_args()
    os.environ.setdefault("CI", "1")
    print(f"{'target':72s} {'verdict':>8s} {'seconds':>8s} {'examples':>9s} {'ex/s':>7s}  shrunk size per failing law")
    total_seconds, total_examples, count = 0.0, 0, 0
    for target in targets():
        report = check_target(target, profile=args.profile)
        failed = [r for r in report.results if r.status == "failed"]
        sizes = ",".join(str(entries(r.counterexample) or "-") for r in failed if r.counterexample)
        label = f"{target.contract}={target.label} [{target.convention.name}]"
        examples = sum(r.examples for r in report.results)
        verdict = "ok" if report.ok else f"{len(failed)} fail"
        rate = examples / report.seconds if report.seconds else 0.0
        print(f"{label[:72]:72s} {verdict:>8s} {report.seconds:8.2f} {examples:9d} {rate:7.0f}  {sizes}")
        total_seconds, total_examples, count = total_seconds + report.seconds, total_examples + examples, count + 1
    print(
        f"{count} targets: {total_seconds / count:.2f} s per target, {total_examples / total_seconds:.0f} examples/s "
        f"({args.profile} profile)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
