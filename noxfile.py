"""lineage's automation. Every session installs through ``constraints.txt`` (torch pinned to the CPU build).

nox -s verify                     properties + derivations, with a verdict per claim (the main job)
nox -s verify -- -k gae           extra arguments go to pytest
nox -s tests                      everything: properties, derivations and the project's own tests
nox -s lint                       ruff
nox -s bench                      examples/second per property group and the wall time of verify
nox -s corpus                     the oracle against the outside-style corpus (figures: false alarms, missed bugs, ...)
nox -s mutants                    mutation score per module (mutmut) and the survivors; `-- --quick`: every 5th mutant
nox -s learn                      the learning benchmark: every algorithm, SB3 PPO side by side, results/ table + PNGs
nox -s flakes                     verify under 20 fresh random seeds (`-- 50`, `-- --seeds 1,2`): failures by seed
"""

from __future__ import annotations

import random
import re

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["verify"]
nox.options.reuse_venv = "yes"

PYTHON = "3.11"
CONSTRAINTS = ("-c", "constraints.txt")
# Two pytest workers: the CI machines have 2 cores; the claim summary is collected across workers.
PARALLEL = ("-n", "2")


def install_project(session: nox.Session) -> None:
    session.install(*CONSTRAINTS, "-e", ".[dev]")


def split_installs(posargs: list[str]) -> tuple[list[str], list[str]]:
    """Pull ``--install PATH_OR_REQUIREMENT`` (repeatable) out of the arguments meant for pytest."""
    installs, rest, args = [], [], iter(posargs)
    for arg in args:
        if arg == "--install":
            installs.append(next(args))
        elif arg.startswith("--install="):
            installs.append(arg.partition("=")[2])
        else:
            rest.append(arg)
    return installs, rest


@nox.session(python=PYTHON)
def verify(session: nox.Session) -> None:
    """Check every claim (one verdict per claim), or with --lineage-target run the laws against your function."""
    install_project(session)
    installs, pytest_args = split_installs(session.posargs)
    for requirement in installs:
        session.install(*CONSTRAINTS, requirement)
    session.run("pytest", "properties", "derivations", *PARALLEL, *pytest_args)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Everything: the claims (properties, derivations) and the project's own tests (tests/), including the
    oracle against the real peers (SB3, TorchRL, Tianshou)."""
    session.install(*CONSTRAINTS, "-e", ".[dev,peers]")
    session.run("pytest", "properties", "derivations", "tests", *PARALLEL, *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Examples/second per property group and the verify wall time; seconds per oracle target."""
    session.install(*CONSTRAINTS, "-e", ".[dev,peers]")
    session.run("python", "benchmarks/bench_verify.py")
    session.run("python", "benchmarks/bench_oracle.py", *session.posargs)


@nox.session(python=PYTHON)
def corpus(session: nox.Session) -> None:
    """Every target of corpus/manifest.py through the oracle, each in its own subprocess with a time limit: correct
    targets passed, buggy ones killed, broken ones reported, oracle errors; arguments go to the script
    (``nox -s corpus -- --profile oracle-quick -k cleanrl``)."""
    session.install(*CONSTRAINTS, "-e", ".[dev,peers]")
    session.run("python", "benchmarks/bench_corpus.py", *session.posargs, env={"CI": "1"})


@nox.session(python=PYTHON)
def flakes(session: nox.Session) -> None:
    """verify under N fresh random seeds (default 20) in the ``random`` profile (no example database): a law that
    holds only for the ``ci`` profile's fixed draws fails here. Prints every failing test with its seed and the
    command that replays it; ``-- 50`` runs 50 seeds, ``-- --seeds 7,987654321`` replays given seeds."""
    install_project(session)
    seeds = flake_seeds(session.posargs)
    failures: dict[int, list[str]] = {}
    for number, seed in enumerate(seeds, 1):
        args = ("pytest", "properties", "derivations", *PARALLEL, "-q", "-rf", f"--hypothesis-seed={seed}")
        output = session.run(*args, env={"LINEAGE_PROFILE": "random"}, success_codes=[0, 1], silent=True)
        failed = re.findall(r"^FAILED (\S+)", output, flags=re.MULTILINE)
        counts = output.strip().splitlines()[-1] if output.strip() else "no output"
        session.log(f"seed {number}/{len(seeds)} = {seed}: {counts}")
        if failed:
            failures[seed] = failed
    for seed, failed in failures.items():
        replay = f"LINEAGE_PROFILE=random pytest {' '.join(failed)} --hypothesis-seed={seed}"
        session.log(f"seed {seed}: {len(failed)} failed\n  " + "\n  ".join(failed) + f"\n  replay: {replay}")
    session.log(f"{len(seeds)} seeds, {sum(map(len, failures.values()))} failures in {len(failures)} seeds")
    if failures:
        session.error("flaky laws: see the seeds above")


def flake_seeds(posargs: list[str]) -> list[int]:
    """``[N]`` fresh random seeds (default 20), or the seeds of ``--seeds A,B,...``."""
    if posargs[:1] == ["--seeds"] and len(posargs) == 2:
        return [int(seed) for seed in posargs[1].split(",")]
    if len(posargs) > 1 or (posargs and not posargs[0].isdigit()):
        raise ValueError(f"nox -s flakes: expected a number of seeds or --seeds A,B,..., got {posargs}")
    return [random.SystemRandom().randrange(2**32) for _ in range(int(posargs[0]) if posargs else 20)]


# Every fifth mutant of each function (mutmut names end in a number; fnmatch keeps those ending in 0 or 5).
QUICK_MUTANTS = "lineage.*__mutmut_*[05]"


@nox.session(python=PYTHON)
def mutants(session: nox.Session) -> None:
    """Mutation testing of lineage's implementations (``[tool.mutmut]`` in pyproject.toml): each mutant runs only
    the properties and derivations that call the mutated function, in the derandomized ``ci`` profile; then the
    score per module and the survivors (``mutation/score.py``). ``-- --quick`` runs every fifth mutant; other
    arguments are mutant names or patterns (``-- 'lineage.returns.gae.*'``). Incremental: a rerun tests only the
    mutants of functions that changed, so delete ``mutants/`` for a full run."""
    install_project(session)
    session.install(*CONSTRAINTS, "mutmut")
    names = [QUICK_MUTANTS if arg == "--quick" else arg for arg in session.posargs]
    session.run("mutmut", "run", "--max-children", "2", *names, env={"CI": "1"})
    session.run("python", "mutation/score.py", "--json", "mutants/score.json")


@nox.session(python=PYTHON)
def learn(session: nox.Session) -> None:
    """The learning benchmark: every algorithm to its threshold, SB3 PPO on CartPole-v1 in the same run, the results
    table (markdown + JSON) and learning curves in results/. Arguments go to benchmarks/bench_learn.py
    (e.g. ``-- --only ppo_clip --seeds 1,2,3``)."""
    session.install(*CONSTRAINTS, "-e", ".[dev,learn]")
    session.run("python", "benchmarks/bench_learn.py", *session.posargs)
    session.run("python", "-m", "lineage.learn_tabular", "--json", "results/tabular.json")
