"""lineage's automation. Every session installs through ``constraints.txt`` (torch pinned to the CPU build).

nox -s verify                     properties + derivations, with a verdict per claim (the main job)
nox -s verify -- -k gae           extra arguments go to pytest
nox -s tests                      everything: properties, derivations and the project's own tests
nox -s lint                       ruff
nox -s bench                      examples/second per property group and the wall time of verify
nox -s corpus                     the oracle against the outside-style corpus (figures: false alarms, missed bugs, ...)
"""

from __future__ import annotations

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
