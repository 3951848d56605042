"""The oracle at run time: every call of a target has a time limit, a call that hangs fails its law with the input
it hung on (without minutes of shrinking), whatever the target raises is the target's failure, and a real Ctrl-C
still stops the run."""

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import lineage
from lineage.oracle import check
from lineage.oracle.calls import stuck


class HangsFromFiveSteps:
    """lineage's GAE, except that a segment of five to eight steps, one trajectory, makes it wait until released (a
    loop that never ends, as far as the oracle can tell); counts the calls that hung. Five or more: the expectation
    laws' rollouts have at most four steps, so the call that hangs is a segment law's; at most eight numbers per
    field, so the repro prints that input in full (it prints up to 200 numbers)."""

    def __init__(self) -> None:
        self.release, self.hung = threading.Event(), 0

    def __call__(self, rewards, values, next_values, terminated, truncated, *, gamma, lam):
        if len(rewards) >= 5 and np.size(rewards) <= 8:
            self.hung += 1
            while not self.release.wait(0.05):
                pass
        return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


@pytest.fixture
def hangs_from_five_steps():
    target = HangsFromFiveSteps()
    yield target
    target.release.set()


def test_a_call_that_hangs_fails_its_law_with_that_input_and_stops_the_search(hangs_from_five_steps):
    started = time.perf_counter()
    report = check("gae", hangs_from_five_steps, profile="oracle-quick", time_limit=0.5)
    assert time.perf_counter() - started < 60, "the oracle kept calling (or shrinking on) a target that hangs"
    assert not report.ok
    first = next(r for r in report.results if r.status != "passed")
    assert first.status == "failed", report.render()
    assert "did not return within 0.5 s" in first.message, first.message
    assert "SegmentCase(" in first.counterexample and not first.shrunk
    assert "# the target gave:" in first.repro and "did not return within 0.5 s" in first.repro, first.repro
    assert hangs_from_five_steps.hung == 1, "the target was called again after a call hung"
    # the target is never called while the hung call runs: its remaining laws are skipped, saying why
    after = report.results[report.results.index(first) + 1 :]
    assert after and all(r.status == "skipped" and "still running" in r.reason for r in after), report.render()
    rendered = report.render()
    assert "did not return within 0.5 s" in rendered and "Traceback" not in rendered


def test_once_the_hung_call_returns_the_target_is_called_again(hangs_from_five_steps):
    check("gae", hangs_from_five_steps, profile="oracle-quick", time_limit=0.5)
    assert stuck(hangs_from_five_steps) is not None
    hangs_from_five_steps.release.set()
    deadline = time.monotonic() + 10
    while stuck(hangs_from_five_steps) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stuck(hangs_from_five_steps) is None
    report = check("gae", hangs_from_five_steps, profile="oracle-quick", time_limit=0.5)
    assert report.ok, report.render()


def exits_from_three_steps(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    if len(rewards) >= 3:
        sys.exit(3)
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def interrupts_from_three_steps(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    if len(rewards) >= 3:
        raise KeyboardInterrupt
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


@pytest.mark.parametrize(
    ("target", "raised"),
    [(exits_from_three_steps, "SystemExit: 3"), (interrupts_from_three_steps, "KeyboardInterrupt")],
)
def test_system_exit_and_keyboard_interrupt_raised_by_the_target_are_its_failures(target, raised):
    report = check("gae", target, profile="oracle-quick")  # returns: nothing escapes
    assert not report.ok and not report.preflight
    failed = [r for r in report.results if r.status == "failed"]
    assert failed, report.render()
    for result in failed:
        assert f"the target raised {raised}" in result.message, result.render()
        assert result.counterexample, result.render()


def test_the_preflight_reports_a_target_that_exits():
    def exits(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        raise SystemExit("bye")

    report = check("gae", exits, profile="oracle-quick")
    assert report.preflight and "the target raised SystemExit: bye" in report.preflight[0], report.preflight


# The children restore Python's own SIGINT handler first: a suite started in the background by a non-interactive
# shell runs with SIGINT ignored, Python then installs no handler, and every child would inherit the ignore.
REAL_CTRL_C = """
import os, signal, threading, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import lineage
from lineage.oracle import check

def slow_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    time.sleep(0.05)
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)

threading.Timer({delay}, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
report = check("gae", slow_gae, profile="oracle-thorough")
print("REPORT", report.ok)
"""


def test_a_real_ctrl_c_stops_the_run():
    """SIGINT delivered to the process (not raised by the target) interrupts check() at once."""
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(REAL_CTRL_C.format(delay=3.0))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0 and "REPORT" not in run.stdout, run.stdout + run.stderr
    assert "KeyboardInterrupt" in run.stderr, run.stderr
    assert time.perf_counter() - started < 60


def test_a_real_ctrl_c_stops_the_command_line(tmp_path):
    (tmp_path / "slowpkg.py").write_text(
        "import time, lineage\n"
        "def slow_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):\n"
        "    time.sleep(0.05)\n"
        "    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)\n"
    )
    code = (
        "import os, signal, sys, threading\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from lineage.oracle.__main__ import main\n"
        "threading.Timer(3.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "sys.exit(main(['gae=slowpkg:slow_gae', '--profile', 'oracle-thorough']))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert run.returncode == 130, run.stdout + run.stderr
    assert "interrupted" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert "laws:" not in run.stdout


def test_time_limit_is_validated():
    with pytest.raises(ValueError, match="time_limit: expected a positive number"):
        check("gae", lineage.gae, time_limit=-1)


def test_lineage_passes_with_its_calls_in_worker_threads():
    """The worker thread changes nothing for a correct target (numpy and torch)."""
    assert check("gae", lineage.gae, profile="oracle-quick").ok
    import torch

    def torch_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        assert isinstance(rewards, torch.Tensor) and torch.is_grad_enabled()
        arrays = [np.asarray(a) for a in (rewards, values, next_values, terminated, truncated)]
        return torch.from_numpy(lineage.gae(*arrays, gamma=gamma, lam=lam))

    assert check("gae", torch_gae, framework="torch", profile="oracle-quick").ok


# ----------------------------------------------------------------------------------------------------
# lineage's own errors: contained and reported, never a crash or a traceback
# ----------------------------------------------------------------------------------------------------
class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")


def raises_an_unprintable_error(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    raise UnprintableError


def test_an_exception_whose_str_fails_is_the_targets_failure(capfd):
    report = check("gae", raises_an_unprintable_error, profile="oracle-quick")
    assert not report.ok and "the target raised UnprintableError: <str() of the exception" in report.preflight[0]
    assert "Traceback" not in capfd.readouterr().err


def test_an_error_inside_lineage_is_reported_as_an_oracle_error(monkeypatch, capfd):
    def broken_lineage(law_id):
        raise RuntimeError("a bug in lineage")

    monkeypatch.setattr("lineage.oracle.runner.pinned_cases", broken_lineage)
    report = check("gae", lineage.gae, profile="oracle-quick")  # returns: nothing escapes
    assert not report.ok and report.verdict == "failed"
    assert {r.status for r in report.results} == {"oracle error"}, report.render()
    rendered = report.render()
    assert "lineage itself raised RuntimeError: a bug in lineage" in rendered and "please report it" in rendered
    assert "Traceback" not in rendered + capfd.readouterr().err
    assert "1 oracle error" not in report.summary() and "14 oracle error" in report.summary()


def test_an_error_inside_the_preflight_is_reported(monkeypatch):
    def broken_lineage(target, case):
        raise RuntimeError("a bug in the preflight")

    monkeypatch.setattr("lineage.oracle.preflight._batch_probe", broken_lineage)
    report = check("gae", lineage.gae, profile="oracle-quick")
    assert report.preflight and report.preflight[0].startswith("oracle error: lineage itself raised RuntimeError")


def test_a_failure_stands_when_lineage_cannot_explain_it(monkeypatch):
    def broken_repro(target, law, calls):
        raise RuntimeError("a bug in the repro")

    monkeypatch.setattr("lineage.oracle.runner.repro", broken_repro)
    report = check("gae", "lineage.bugzoo.gae:lambda_missing_from_recursion", profile="oracle-quick")
    failed = [r for r in report.results if r.status == "failed"]
    assert failed and all(r.counterexample and "a bug in the repro" in r.repro for r in failed), report.render()
