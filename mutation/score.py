"""The mutation score of lineage's implementations, per module, from a ``mutmut run`` (``nox -s mutants``).

mutmut 3 leaves one ``mutants/<path>.meta`` file per mutated module: the exit code of the tests for every mutant
(1 or 3: a test failed, the mutant is killed; 0: every test passed, it survived; 33: no test calls the function;
36 and SIGXCPU's codes: time-out; ``None``: not run, as in a sampled run). This script reads them and prints,
per module,

    score = (killed + timed out) / (mutants − equivalent)

so a mutant that no test reaches, or that only looks suspicious, counts against the score. Mutants judged
equivalent (the program means the same thing) are listed in ``mutation/equivalent.toml``, each with the
changed line and a one-line reason; an entry whose mutant no longer changes that line is stale and is not
counted as equivalent. Survivors are listed with their changed line, so each one names a missing law.

    python mutation/score.py [--goal 0.95] [--json PATH]     exit 1 if a module is below the goal
"""

from __future__ import annotations

import argparse
import difflib
import json
import pathlib
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"

KILLED = {1, 3, 36, 24, -24, 152, 255}  # a failing test (3: pytest's internal error) or a time-out
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class ModuleScore:
    module: str
    mutants: int = 0
    killed: int = 0
    equivalent: int = 0
    not_run: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, why: survived / no tests / ...)

    @property
    def counted(self) -> int:
        return self.mutants - self.equivalent - self.not_run

    @property
    def score(self) -> float:
        return self.killed / self.counted if self.counted else 1.0


def changed_line(path: pathlib.Path, mutant: str) -> str:
    """The first line ``mutant`` adds to the original function, or the first it removes, marked "(removed)"
    (read with mutmut's spans index)."""
    spans = json.loads(path.with_name(path.name + ".spans").read_text())["spans"]
    function = mutant.rsplit(".", 1)[1]
    original = function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    lines = path.read_text().splitlines()

    def source(name: str) -> list[str]:
        start, end = spans[name]
        body = [line.strip() for line in lines[start - 1 : end]]
        return [line.replace(name, "") for line in body]  # the ``def`` line names the mutant

    diff = list(difflib.ndiff(source(original), source(function)))
    added = [d[2:] for d in diff if d.startswith("+ ")]
    removed = [d[2:] for d in diff if d.startswith("- ")]
    return added[0] if added else f"(removed) {removed[0]}" if removed else "(no textual change)"


def scores(mutants: pathlib.Path = MUTANTS, equivalent_file: pathlib.Path = EQUIVALENT):
    """Per-module scores (a list of :class:`ModuleScore`) and the stale entries of the equivalence file."""
    equivalent = tomllib.loads(equivalent_file.read_text()) if equivalent_file.exists() else {}
    stale, result, seen = [], [], set()
    for meta in sorted(mutants.glob("lineage/**/*.py.meta")):
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not exit_codes:
            continue
        source = meta.with_name(meta.name.removesuffix(".meta"))
        module = meta.relative_to(mutants).as_posix().removesuffix(".py.meta").replace("/", ".")
        score = ModuleScore(module, mutants=len(exit_codes))
        for mutant, code in sorted(exit_codes.items()):
            entry = equivalent.get(mutant)
            if entry is not None:
                seen.add(mutant)
                line = changed_line(source, mutant)
                if line == entry["line"]:
                    score.equivalent += 1
                    continue
                stale.append(f"{mutant}: the entry says {entry['line']!r}, the mutant changes {line!r}")
            if code is None:
                score.not_run += 1
            elif code in KILLED:
                score.killed += 1
            else:
                why = "survived" if code in SURVIVED else "no test reaches it" if code in NO_TESTS else f"exit {code}"
                score.survivors.append((mutant, f"{why}: {changed_line(source, mutant)}"))
        result.append(score)
    stale += [f"{mutant}: no such mutant" for mutant in sorted(set(equivalent) - seen)]
    return result, stale


def table(modules: list[ModuleScore]) -> str:
    rows = ["| module | mutants | equivalent | killed | survived | score |", "|---|---:|---:|---:|---:|---:|"]
    for m in modules:
        sampled = f" (of {m.counted}; {m.not_run} not run)" if m.not_run else ""
        rows.append(
            f"| `{m.module}` | {m.mutants} | {m.equivalent} | {m.killed} | {len(m.survivors)} | "
            f"{m.score:.1%}{sampled} |"
        )
    total = ModuleScore("all", *(sum(getattr(m, f) for m in modules) for f in ("mutants", "killed", "equivalent")))
    total.not_run = sum(m.not_run for m in modules)
    rows.append(
        f"| **all** | {total.mutants} | {total.equivalent} | {total.killed} | "
        f"{sum(len(m.survivors) for m in modules)} | {total.score:.1%} |"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", type=float, default=0.95, help="minimum score of every module (default 0.95)")
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not MUTANTS.exists():
        print("no mutants/ folder: run `nox -s mutants` first", file=sys.stderr)
        return 2
    modules, stale = scores()
    print(table(modules))
    survivors = [(m.module, mutant, why) for m in modules for mutant, why in m.survivors]
    if survivors:
        print(f"\n{len(survivors)} survivors (each names a law the properties miss):")
        by_module = defaultdict(list)
        for module, mutant, why in survivors:
            by_module[module].append(f"  {mutant}  {why}")
        for module, lines in by_module.items():
            print(f"{module}:", *lines, sep="\n")
    if stale:
        print("\nstale entries in mutation/equivalent.toml (not counted as equivalent):", *stale, sep="\n  ")
    if args.json:
        figures = [
            {"module": m.module, "mutants": m.mutants, "equivalent": m.equivalent, "killed": m.killed,
             "not_run": m.not_run, "score": m.score, "survivors": m.survivors}
            for m in modules
        ]  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    below = [m.module for m in modules if m.score < args.goal]
    if below:
        print(f"\nbelow the goal of {args.goal:.0%}: {', '.join(below)}")
    return 1 if below or stale else 0


if __name__ == "__main__":
    sys.exit(main())
