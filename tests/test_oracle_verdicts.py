"""Every entry point gives a broken target the same verdict: the Python API, the command line, pytest
--lineage-target and law_tests fail a target whose preflight fails, and show the preflight's message (a library
using law_tests must not stay green while its function raises, writes into its inputs or hangs)."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

import pytest

from lineage.oracle import check

BROKEN = """
import time

import numpy as np

import lineage


def raises(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    raise RuntimeError("broken on purpose")


def writes_into_its_input(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    rewards[...] = 0.0
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def hangs(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    time.sleep(3600)


def wrong_shape(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    return np.zeros(len(rewards) + 1)


def returns_none(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    return None
"""
# target → what the preflight says about it (with a time limit of 1 s per call)
MESSAGES = {
    "raises": "the target raised RuntimeError: broken on purpose",
    "writes_into_its_input": "the target wrote into its input 'rewards'",
    "hangs": "a trivial input did not return within 1 s",
    "wrong_shape": "the target's output has shape (3,); shape (2,) expected",
    "returns_none": "the target returned None",
}
TARGETS = sorted(MESSAGES)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A directory holding the module ``broken`` with the broken targets, and the runs of the three entry points
    that start a process (one run each, every target in it)."""
    where = tmp_path_factory.mktemp("broken")
    (where / "broken.py").write_text(BROKEN)
    (where / "test_library.py").write_text(
        "from lineage.oracle.pytest import law_tests\n"
        + "".join(
            f"test_{name} = law_tests('gae', 'broken:{name}', profile='oracle-quick', time_limit=1)\n"
            for name in TARGETS
        )
    )

    def run(*command):
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=where, timeout=600)

    targets = [f"gae=broken:{name}" for name in TARGETS]
    runs = {
        "cli": run(sys.executable, "-m", "lineage.oracle", *targets, "--time-limit", "1", "--json", "cli.json"),
        "target": run(
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *(option for target in targets for option in ("--lineage-target", target)),
            "--lineage-time-limit",
            "1",
            "--junitxml",
            "target.xml",
        ),
        "library": run(
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_library.py", "--junitxml", "library.xml"
        ),
    }
    return where, runs


def junit(path) -> dict[str, list[tuple[str, str]]]:
    """classname or test function → [(outcome, message and text)] of its items, from a JUnit XML report."""
    items = defaultdict(list)
    for case in ET.parse(path).getroot().iter("testcase"):
        group = case.get("classname").lstrip(".") + "::" + case.get("name").split("[")[0]
        outcome, text = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "failed"}.get(child.tag, child.tag)
                text = (child.get("message") or "") + "\n" + (child.text or "")
        items[group].append((outcome, text))
    return items


@pytest.mark.parametrize("name", TARGETS)
def test_python_api(name, broken, monkeypatch):
    where, _ = broken
    monkeypatch.syspath_prepend(str(where))
    report = check("gae", f"broken:{name}", profile="oracle-quick", time_limit=1)
    assert report.verdict == "failed" and not report.ok
    assert MESSAGES[name] in report.render(), report.render()
    with pytest.raises(AssertionError, match="Preflight failed"):
        report.raise_if_failed()


@pytest.mark.parametrize("name", TARGETS)
def test_command_line(name, broken):
    where, runs = broken
    run = runs["cli"]
    assert run.returncode == 1, run.stdout + run.stderr
    [report] = [r for r in json.loads((where / "cli.json").read_text()) if r["target"] == f"broken:{name}"]
    assert report["verdict"] == "failed" and any(MESSAGES[name] in problem for problem in report["preflight"])
    [printed] = [part for part in run.stdout.split("lineage oracle: ") if part.startswith(f"gae = broken:{name} ")]
    assert MESSAGES[name] in printed, printed


@pytest.mark.parametrize("name", TARGETS)
def test_pytest_target_mode(name, broken):
    where, runs = broken
    run = runs["target"]
    assert run.returncode == 1, run.stdout + run.stderr
    items = junit(where / "target.xml")
    [(outcome, text)] = items[f"gae=broken:{name}::preflight"]
    assert outcome == "failed" and MESSAGES[name] in text, text
    laws = [item for group, found in items.items() if group.startswith(f"gae=broken:{name}::gae.") for item in found]
    assert laws and all(outcome != "passed" for outcome, _ in laws), laws


@pytest.mark.parametrize("name", TARGETS)
def test_law_tests(name, broken):
    """A library's own suite fails (every law item, each showing the preflight's message), pytest exits 1."""
    where, runs = broken
    run = runs["library"]
    assert run.returncode == 1, run.stdout + run.stderr
    laws = junit(where / "library.xml")[f"test_library::test_{name}"]
    assert len(laws) == 14, laws
    assert all(outcome == "failed" and MESSAGES[name] in text for outcome, text in laws), laws


def test_pytest_target_mode_fails_a_law_whose_preflight_item_was_deselected(broken):
    """-k can deselect the preflight item; the selected laws of a broken target then fail with its message."""
    where, _ = broken
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--lineage-target", "gae=broken:raises"]
    run = subprocess.run(
        [*command, "-k", "lambda_zero", "-rf"], capture_output=True, text=True, check=False, cwd=where, timeout=600
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout and MESSAGES["raises"] in run.stdout, run.stdout
