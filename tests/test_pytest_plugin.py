"""lineage's pytest plugin costs nothing where it is not used: loading it imports nothing heavy, registers no
Hypothesis profile, and without ``--lineage-target`` a project's pytest run never imports lineage's oracle."""

import subprocess
import sys

HEAVY = ("lineage", "numpy", "torch", "hypothesis", "sympy")


def test_loading_the_plugin_imports_nothing_heavy():
    code = (
        "import sys; before = set(sys.modules); import _lineage_pytestplugin; "
        f"print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {HEAVY!r}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout


def test_a_project_without_lineage_options_never_imports_the_oracle(pytester):
    pytester.makepyfile(
        test_foreign="""
import sys

def test_nothing_of_lineage_loaded():
    assert not [m for m in sys.modules if m == "lineage" or m.startswith("lineage.")]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_options_are_namespaced(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--lineage-target=CONTRACT=SPEC*", "*--lineage-convention*", "*--lineage-profile*"])
    assert "  --target" not in result.stdout.str() and "  --convention" not in result.stdout.str()
