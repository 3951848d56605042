"""Throughput of the verify job: examples/second per property group, and its total wall time.

    python benchmarks/bench_verify.py            (what `nox -s bench` runs; CI=1 profile: derandomized)

Part 1 runs properties/ and derivations/ in-process, one worker, and prints for every module the
Hypothesis examples it ran, its seconds (test calls only) and examples per second. Part 2 runs the
verify command itself (`pytest properties derivations -n 2`) and prints its wall time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict

import pytest

VERIFY = [sys.executable, "-m", "pytest", "properties", "derivations", "-n", "2", "-q"]


class Throughput:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.examples: dict[str, int] = defaultdict(int)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            group = report.nodeid.split("::")[0]
            self.seconds[group] += report.duration
            self.examples[group] += dict(report.user_properties).get("lineage_examples", 0)


def main() -> int:
    os.environ.setdefault("CI", "1")
    throughput = Throughput()
    code = pytest.main(["properties", "derivations", "-qq", "--no-header"], plugins=[throughput])
    if not throughput.seconds:
        return code or 1
    print(f"{'group':58s} {'examples':>9s} {'seconds':>8s} {'examples/s':>11s}")
    for group in sorted(throughput.seconds):
        seconds, examples = throughput.seconds[group], throughput.examples[group]
        rate = f"{examples / seconds:11.0f}" if examples else f"{'-':>11s}"
        print(f"{group:58s} {examples:9d} {seconds:8.2f} {rate}")
    total_s, total_n = sum(throughput.seconds.values()), sum(throughput.examples.values())
    print(f"{'all groups (one worker, test calls only)':58s} {total_n:9d} {total_s:8.2f} {total_n / total_s:11.0f}")

    start = time.perf_counter()
    verify = subprocess.run(VERIFY, capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = [line for line in verify.stdout.splitlines() if "claims:" in line]
    print(
        f"verify wall time ({' '.join(VERIFY[2:])}): {wall:.1f} s; {summary[-1] if summary else verify.stdout[-500:]}"
    )
    return code or verify.returncode


if __name__ == "__main__":
    sys.exit(main())
