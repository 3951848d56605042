"""Seconds per target and the size of the shrunk counterexamples, for the oracle's default profile.

    python benchmarks/bench_oracle.py [--profile oracle]        (what `nox -s bench` runs; CI=1: derandomized)

Targets: lineage's own implementation of every contract (they must pass), every bug-zoo entry (each must
fail), and the real peers when they are installed. For a failing target, "shrunk size" lists the number
of entries (steps × columns) in each failing law's minimal counterexample.
"""

from __future__ import annotations

import argparse
import os
import sys

from lineage.bugzoo import BUGS
from lineage.oracle.runner import run_target
from lineage.oracle.targets import make_target
from lineage.properties.contracts import CONTRACTS

PEERS = [
    ("gae", "stable_baselines3.common.buffers:RolloutBuffer", "sb3"),
    ("gae", "torchrl.objectives.value.functional:generalized_advantage_estimate", "torchrl"),
    ("gae", "torchrl.objectives.value.functional:vec_generalized_advantage_estimate", "torchrl"),
    ("gae", "tianshou.algorithm.algorithm_base:_gae", "tianshou"),
]


def targets():
    for name, contract in CONTRACTS.items():
        yield make_target(name, contract.implementation())
    for bug in BUGS.values():
        yield make_target(bug.contract, bug.function)
    for contract, spec, convention in PEERS:
        try:
            yield make_target(contract, spec, convention=convention)
        except ValueError as missing:  # peers are optional here
            print(f"(skipping {spec}: {missing})")


def entries(counterexample: str) -> int:
    """Steps × columns of the first segment printed in a counterexample (0 if none)."""
    head = counterexample.partition("rewards=")[2].partition("], values=")[0]
    return head.count(",") + 1 if head.strip("[]") else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="oracle")
    args = parser.parse_args()
    os.environ.setdefault("CI", "1")
    print(f"{'target':72s} {'verdict':>8s} {'seconds':>8s} {'examples':>9s}  shrunk size per failing law")
    for target in targets():
        report = run_target(target, profile=args.profile)
        failed = [r for r in report.results if r.status == "failed"]
        sizes = ",".join(str(entries(r.counterexample) or "paths") for r in failed if r.counterexample)
        label = f"{target.contract}={target.label} [{target.convention.name}]"
        examples = sum(r.examples for r in report.results)
        verdict = "ok" if report.ok else f"{len(failed)} fail"
        print(f"{label[:72]:72s} {verdict:>8s} {report.seconds:8.2f} {examples:9d}  {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
