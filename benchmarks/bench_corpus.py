"""The oracle against the outside-style corpus (``corpus/manifest.py``): does it pass the correct targets, kill the
buggy ones and report the broken ones, without hanging or crashing?

    python benchmarks/bench_corpus.py [--profile oracle] [--timeout 120] [--jobs 2] [--json corpus-results.json]
                                      [-k SUBSTRING]                     (what `nox -s corpus` runs; CI=1 is set)

Every manifest entry runs through ``lineage.oracle.check`` in its own subprocess with a wall-clock limit: a target
that hangs the oracle is an oracle error (a timeout), never a silent pass. One line per target (verdict, what the
kind expects, seconds, failed laws), then the figures; the JSON file holds every report.

Verdicts: ``passed`` (every law passed or not applicable), ``warning`` (no failure, some law only float32-accurate),
``failed`` (a law failed, or the preflight did), ``exception`` (an exception escaped ``check``), ``timeout``,
``crash`` (the worker died without a result). Oracle errors: exceptions, timeouts, crashes, and reports that carry
a traceback or a file path from lineage's own internals.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINEAGE_DIR = str(ROOT / "lineage") + os.sep


# ----------------------------------------------------------------------------------------------------------------
# worker: one target, in its own process
# ----------------------------------------------------------------------------------------------------------------
def worker(index: int, profile: str, out_path: str) -> int:
    sys.path.insert(0, str(ROOT))
    from corpus.manifest import MANIFEST

    entry = MANIFEST[index]
    result: dict = {"index": index}
    started = time.perf_counter()
    try:
        from lineage.oracle import check

        report = check(
            entry.contract,
            entry.spec,
            convention=entry.convention,
            framework=entry.framework,
            dtype=entry.dtype,
            profile=profile,
        )
        result["report"] = report.to_dict()
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from a target included: they escaped check()
        result["exception"] = {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exc(),
        }
    result["seconds"] = time.perf_counter() - started
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


# ----------------------------------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------------------------------
def run_one(index: int, profile: str, timeout: float) -> dict:
    """Run entry ``index`` in a subprocess; kill its whole process group at the time limit."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "result.json")
        command = [sys.executable, __file__, "--worker", str(index), "--profile", profile, "--out", out_path]
        env = {**os.environ, "CI": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            timed_out = True
        wall = time.perf_counter() - started
        result: dict = {"index": index, "wall_seconds": wall, "returncode": process.returncode}
        if timed_out:
            result["timeout"] = timeout
        elif os.path.exists(out_path):
            with open(out_path, encoding="utf-8") as handle:
                result.update(json.load(handle))
        result["stderr_tail"] = stderr.decode("utf-8", "replace")[-2000:]
        result["stdout_tail"] = stdout.decode("utf-8", "replace")[-500:]
        return result


def internal_leaks(report: dict) -> list[str]:
    """Places in a report where a traceback or a file of lineage's own internals shows through."""
    leaks = []
    texts = [*report.get("preflight", [])]
    for law in report.get("results", []):
        texts += [law.get("message", ""), law.get("reason", ""), law.get("repro", "")]
    for text in texts:
        if "Traceback (most recent call last)" in text:
            leaks.append(text.splitlines()[0][:160])
        elif LINEAGE_DIR in text:
            line = next(line for line in text.splitlines() if LINEAGE_DIR in line)
            leaks.append(line.strip()[:160])
    return leaks


def verdict(result: dict) -> str:
    if "timeout" in result:
        return "timeout"
    if "exception" in result:
        return "exception"
    if "report" not in result:
        return "crash"
    report = result["report"]
    if not report["ok"]:
        return "failed"
    return "warning" if report["counts"].get("warning") else "passed"


OUTCOMES = {  # (kind, verdict) -> outcome
    ("correct", "passed"): "ok",
    ("correct", "warning"): "FALSE ALARM (warning)",
    ("correct", "failed"): "FALSE ALARM",
    ("buggy", "failed"): "killed",
    ("buggy", "warning"): "warned only",
    ("buggy", "passed"): "MISSED",
    ("broken", "failed"): "reported",
    ("broken", "warning"): "MISSED (warning only)",
    ("broken", "passed"): "MISSED",
}


def summarise(entry, result: dict) -> dict:
    """One row of the table and the JSON: verdict, outcome, failed laws, the first message, likely causes."""
    v = verdict(result)
    outcome = OUTCOMES.get((entry.kind, v), "ORACLE ERROR")
    report = result.get("report") or {}
    failed = [r for r in report.get("results", []) if r["status"] == "failed"]
    warnings = [r for r in report.get("results", []) if r["status"] == "warning"]
    leaks = internal_leaks(report) if report else []
    if leaks and outcome != "ORACLE ERROR":
        outcome = f"ORACLE ERROR (internals shown; would be: {outcome})"
    if report.get("preflight"):
        first = report["preflight"][0]
    elif failed:
        first = f"{failed[0]['law']}: {failed[0]['message']}"
    elif "exception" in result:
        first = f"{result['exception']['type']}: {result['exception']['message']}"
    elif "timeout" in result:
        first = f"no result within {result['timeout']:g} s"
    elif v == "crash":
        first = f"worker exited with code {result.get('returncode')}: {result.get('stderr_tail', '')[-300:]}"
    else:
        first = ""
    causes = sorted({r["likely_cause"].split(":")[0] for r in failed if r.get("likely_cause")})
    seconds = report.get("seconds", result.get("seconds", result["wall_seconds"]))
    return {
        **entry.to_dict(),
        "verdict": v,
        "outcome": outcome,
        "preflight_failed": bool(report.get("preflight")),
        "failed_laws": [r["law"] for r in failed],
        "warning_laws": [r["law"] for r in warnings],
        "counts": report.get("counts", {}),
        "first_message": first[:600],
        "likely_causes": causes,
        "internal_leaks": leaks,
        "seconds": seconds,
        "wall_seconds": result["wall_seconds"],
        "exception": result.get("exception"),
        "report": report or None,
    }


def figures(rows: list[dict], wall: float) -> dict:
    by = Counter((r["kind"], r["outcome"]) for r in rows)
    kinds = Counter(r["kind"] for r in rows)
    errors = [r for r in rows if r["outcome"].startswith("ORACLE ERROR")]
    return {
        "targets": len(rows),
        "conventions": len({r["convention"] for r in rows}),
        "contracts": len({r["contract"] for r in rows}),
        "correct": kinds["correct"],
        "correct_passed": by[("correct", "ok")],
        "false_alarms": by[("correct", "FALSE ALARM")] + by[("correct", "FALSE ALARM (warning)")],
        "false_alarm_warnings": by[("correct", "FALSE ALARM (warning)")],
        "buggy": kinds["buggy"],
        "buggy_killed": by[("buggy", "killed")],
        "buggy_warned_only": by[("buggy", "warned only")],
        "buggy_missed": by[("buggy", "MISSED")],
        "broken": kinds["broken"],
        "broken_reported": by[("broken", "reported")],
        "broken_missed": by[("broken", "MISSED")] + by[("broken", "MISSED (warning only)")],
        "oracle_errors": len(errors),
        "oracle_errors_by_cause": dict(
            Counter("internals shown" if r["internal_leaks"] else r["verdict"] for r in errors)
        ),
        "wall_seconds": wall,
    }


def print_figures(f: dict) -> None:
    print()
    print(
        f"targets              {f['targets']} ({f['correct']} correct, {f['buggy']} buggy, {f['broken']} broken; "
        f"{f['contracts']} contracts, {f['conventions']} conventions)"
    )
    print(
        f"correct              {f['correct_passed']} passed, {f['false_alarms']} false alarms "
        f"({f['false_alarm_warnings']} of them warnings)"
    )
    print(
        f"buggy                {f['buggy_killed']} killed, {f['buggy_warned_only']} warned only, "
        f"{f['buggy_missed']} missed"
    )
    print(f"broken               {f['broken_reported']} reported, {f['broken_missed']} missed")
    causes = ", ".join(f"{n} {cause}" for cause, n in sorted(f["oracle_errors_by_cause"].items())) or "none"
    print(f"oracle errors        {f['oracle_errors']} ({causes})")
    print(f"wall time            {f['wall_seconds']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="oracle")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per target (default 120)")
    parser.add_argument("--jobs", type=int, default=2, help="targets run at once (default 2)")
    parser.add_argument("--json", default="corpus-results.json", help="where to write everything")
    parser.add_argument("-k", dest="select", default="", help="only entries whose name contains this")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return worker(args.worker, args.profile, args.out)

    os.environ["CI"] = "1"
    sys.path.insert(0, str(ROOT))
    from corpus.manifest import MANIFEST

    chosen = [i for i, e in enumerate(MANIFEST) if args.select in e.name]
    print(f"{len(chosen)} targets, profile {args.profile}, {args.timeout:g} s limit each, {args.jobs} at a time")
    print(f"{'target':78s} {'kind':7s} {'verdict':9s} {'outcome':22s} {'seconds':>7s} {'failed':>6s}")
    started = time.perf_counter()
    rows: dict[int, dict] = {}
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = {i: pool.submit(run_one, i, args.profile, args.timeout) for i in chosen}
        for i in chosen:
            row = summarise(MANIFEST[i], futures[i].result())
            rows[i] = row
            failed = "pre" if row["preflight_failed"] else str(len(row["failed_laws"]))
            print(
                f"{row['name'][:78]:78s} {row['kind']:7s} {row['verdict']:9s} {row['outcome'][:22]:22s} "
                f"{row['wall_seconds']:7.1f} {failed:>6s}",
                flush=True,
            )
    ordered = [rows[i] for i in chosen]
    result = figures(ordered, time.perf_counter() - started)
    print_figures(result)
    notable = [r for r in ordered if r["outcome"] not in ("ok", "killed", "reported")]
    if notable:
        print("\nfalse alarms, missed bugs, warnings and oracle errors:")
        for r in notable:
            print(f"  {r['outcome']:22s} {r['name']}: {r['description'] or r['kind']}")
            if r["first_message"]:
                print(f"      {r['first_message'].splitlines()[0][:200]}")
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(
            {"profile": args.profile, "timeout": args.timeout, "figures": result, "targets": ordered},
            handle,
            indent=2,
            ensure_ascii=False,
        )
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
