"""Command line: run the oracle in the caller's own environment.

    python -m lineage.oracle gae=mypkg.adv:compute_gae [lambda_returns=...] --convention cleanrl \\
        [--framework torch] [--dtype float32] [--profile oracle] [--seed 0] [--time-limit 10] [--law NAME]
        [--json report.json] [--quiet]

Prints a report per target (the law, the minimal counterexample, expected vs got, the likely cause and a
repro for every failing law; a count line at the end) and exits 1 if any target failed, 2 on bad usage, 130 when
interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys

from lineage.oracle.calls import DEFAULT_TIME_LIMIT, check_time_limit
from lineage.oracle.conventions import CONVENTIONS
from lineage.oracle.numerics import DTYPES, FRAMEWORKS
from lineage.oracle.runner import DEFAULT_SEED, check_seed, check_target, selected_laws
from lineage.oracle.targets import TargetError, make_target, parse_target_option


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lineage.oracle", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", metavar="CONTRACT=SPEC", help="e.g. gae=mypkg.adv:compute_gae")
    parser.add_argument("--convention", default="canonical", help=f"one of {sorted(CONVENTIONS)}")
    parser.add_argument("--framework", choices=FRAMEWORKS, default=None)
    parser.add_argument("--dtype", choices=DTYPES, default=None)
    parser.add_argument("--profile", default="oracle", help="oracle-quick, oracle (default), oracle-thorough")
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"Hypothesis seed (default {DEFAULT_SEED}): the same seed gives the same verdicts, others explore",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"seconds each call of a target may take (default {DEFAULT_TIME_LIMIT:g}; 0: no limit); a call that "
        "takes longer fails its law with the input it hung on",
    )
    parser.add_argument("--law", action="append", metavar="NAME", help="run only this law (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also write the reports as JSON")
    parser.add_argument("--quiet", action="store_true", help="one line per law instead of the full report")
    args = parser.parse_args(argv)
    time_limit = args.time_limit or None
    try:
        check_seed(args.seed)
        check_time_limit(time_limit)
        targets = [
            make_target(
                *parse_target_option(option), convention=args.convention, framework=args.framework, dtype=args.dtype
            )
            for option in args.targets
        ]
        for target in targets:
            selected_laws(target.contract, args.law)
    except (TargetError, ValueError) as problem:
        print(f"lineage oracle: {problem}", file=sys.stderr)
        return 2
    try:
        reports = [
            check_target(target, profile=args.profile, seed=args.seed, time_limit=time_limit, laws=args.law)
            for target in targets
        ]
    except KeyboardInterrupt:  # a real Ctrl-C (one raised by a target is that target's failure)
        print("lineage oracle: interrupted", file=sys.stderr)
        return 130
    for report in reports:
        print(report.render(compact=args.quiet), end="\n\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([r.to_dict() for r in reports], handle, indent=2, ensure_ascii=False)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
