"""The oracle's three entry points (Python API, pytest --target mode and law_tests, command line) run the
same engine and report the same verdicts, without tracebacks from lineage's internals."""

import json
import subprocess
import sys

import pytest

import lineage
from lineage.oracle import OracleFailure, check
from lineage.oracle.conventions import get_convention
from lineage.oracle.targets import TargetError, make_target

BROKEN = "lineage.bugzoo.gae:lambda_missing_from_recursion"


def test_python_api_passes_lineage_and_reports_json():
    report = check("gae", lineage.gae, profile="oracle-quick")
    assert report.ok, report.render()
    report.raise_if_failed()
    data = json.loads(report.to_json())
    assert data["ok"] and data["counts"]["passed"] == len(report.results) > 10
    assert report.summary().startswith(f"{len(report.results)} laws: {len(report.results)} passed, 0 failed")


def test_python_api_raises_with_the_whole_report():
    report = check("gae", BROKEN, profile="oracle-quick")
    with pytest.raises(OracleFailure) as failure:
        report.raise_if_failed()
    text = str(failure.value)
    for fragment in ("FAILED", "gae.lambda_zero_is_td_error", "Minimal counterexample", "Likely cause", "Reproduce"):
        assert fragment in text, fragment
    assert "Traceback" not in text


def test_repro_is_python_that_reproduces_the_failure():
    """The repro of a failing law runs as written and shows the target disagreeing with the contract."""
    report = check("gae", BROKEN, profile="oracle-quick")
    result = next(r for r in report.results if r.law == "gae.lambda_zero_is_td_error")
    namespace: dict = {}
    exec(compile(result.repro, "<repro>", "exec"), namespace)
    expected = lineage.gae(
        namespace["rewards"],
        namespace["values"],
        namespace["next_values"],
        namespace["terminated"],
        namespace["truncated"],
        gamma=namespace["gamma"],
        lam=0.0,
    )
    assert not (namespace["out"] == expected).all()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nopackage.module:function", "cannot import 'nopackage.module'"),
        ("lineage:no_such_function", "has no attribute 'no_such_function'"),
        ("lineage", "is not of the form"),
        ("lineage.claims:CLAIMS", "is not callable"),
    ],
)
def test_bad_targets_get_one_clear_message(spec, message):
    with pytest.raises(TargetError, match=message):
        make_target("gae", spec)


def test_unknown_contract_and_convention_are_named():
    with pytest.raises(TargetError, match=r"^contract: unknown contract 'gea'"):
        make_target("gea", lineage.gae)
    with pytest.raises(ValueError, match=r"^convention: unknown convention 'cleanrll'"):
        get_convention("cleanrll")
    with pytest.raises(TargetError, match=r"^convention: cleanrl has no form of the td_errors contract"):
        make_target("td_errors", lineage.td_errors, convention="cleanrl")


def test_command_line_reports_and_exits_with_the_verdict(tmp_path):
    out = tmp_path / "report.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "lineage.oracle",
            f"gae={BROKEN}",
            "gae=lineage:gae",
            "--profile",
            "oracle-quick",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gae.lambda_zero_is_td_error" in run.stdout and "Reproduce:" in run.stdout
    reports = json.loads(out.read_text())
    assert [r["ok"] for r in reports] == [False, True]


def test_command_line_usage_error_has_no_traceback():
    run = subprocess.run(
        [sys.executable, "-m", "lineage.oracle", "gae=nopackage:f"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2
    assert "cannot import 'nopackage'" in run.stderr and "Traceback" not in run.stderr


def test_pytest_target_mode_runs_one_item_per_law(pytester):
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--lineage-target",
        f"gae={BROKEN}",
        "--lineage-profile",
        "oracle-quick",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 4 and outcomes.get("passed", 0) >= 5, outcomes
    result.stdout.fnmatch_lines(["*lineage oracle*", "FAILED*gae.lambda_zero_is_td_error*", "14 laws: *"])
    assert result.ret == 1


def test_pytest_target_mode_selects_laws_with_k(pytester):
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--lineage-target",
        f"gae={BROKEN}",
        "--lineage-profile",
        "oracle-quick",
        "-k",
        "lambda_zero",
    )
    assert result.parseoutcomes().get("failed") == 1


def test_pytest_target_mode_refuses_a_bad_target(pytester):
    result = pytester.runpytest_subprocess("--lineage-target", "gae=nopackage:f")
    assert result.ret == 4  # pytest's usage error
    result.stderr.fnmatch_lines(["*cannot import 'nopackage'*"])


def test_law_tests_gives_a_library_one_item_per_law(pytester):
    pytester.makepyfile(
        test_mine=f"""
from lineage.oracle.pytest import law_tests
test_my_gae = law_tests("gae", "{BROKEN}", profile="oracle-quick",
                        expected_failures={{"backward_recursion": "we know"}})
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "lambda_zero or backward or linear")
    outcomes = result.parseoutcomes()
    assert outcomes == {"failed": 1, "passed": 1, "xfailed": 1, "deselected": 11}, outcomes
