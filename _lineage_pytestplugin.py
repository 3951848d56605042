"""lineage's pytest plugin (entry point ``pytest11: lineage``): the oracle's ``--lineage-*`` options.

It costs nothing where it is not used, like Hypothesis' own plugin: a top-level module outside the ``lineage``
package, so loading it imports nothing but this file (not lineage, numpy or torch); it registers no Hypothesis
profile, and unless ``--lineage-target`` is given it returns at once. With targets,
:class:`lineage.oracle.pytest.TargetRun` collects a preflight item per target and one item per law instead of
the suite, and ends the run with a report per target::

    pytest --lineage-target gae=mypkg.adv:compute_gae --lineage-convention cleanrl [-k lambda_zero]
"""


def pytest_addoption(parser) -> None:
    group = parser.getgroup("lineage", "lineage oracle: run lineage's laws against your implementation")
    group.addoption(
        "--lineage-target",
        action="append",
        default=[],
        metavar="CONTRACT=SPEC",
        help="contract=package.module:function to check against the contract's laws (repeatable)",
    )
    group.addoption("--lineage-convention", default="canonical", help="calling convention of the targets")
    group.addoption("--lineage-framework", default=None, choices=("numpy", "torch"), help="arrays the targets get")
    group.addoption("--lineage-dtype", default=None, choices=("float32", "float64"), help="dtype the targets get")
    group.addoption("--lineage-profile", default="oracle", help="oracle-quick, oracle (default), oracle-thorough")
    group.addoption(
        "--lineage-seed",
        type=int,
        default=0,  # lineage.oracle.runner.DEFAULT_SEED (not imported: this module imports nothing)
        help="Hypothesis seed of the laws' search (default 0): the same seed gives the same verdicts",
    )
    group.addoption(
        "--lineage-time-limit",
        type=float,
        default=10.0,  # lineage.oracle.calls.DEFAULT_TIME_LIMIT (not imported: this module imports nothing)
        metavar="SECONDS",
        help="seconds each call of a target may take (default 10; 0: no limit)",
    )


def pytest_configure(config) -> None:
    if not config.getoption("lineage_target"):
        return
    from lineage.oracle.pytest import TargetRun

    config.pluginmanager.register(TargetRun(config), "lineage-target-run")


# lineage.oracle.pytest.WARNING_KEY (not imported: this module imports nothing)
_WARNING_KEY = "lineage_accuracy_warning"


def pytest_terminal_summary(terminalreporter) -> None:
    """List the laws a float64 target held only to float32's accuracy (their items are expected failures, which
    pytest counts but does not explain): such a verdict is never a pass, so it is named at the end of the run."""
    warned = [
        (report.nodeid, reason)
        for report in terminalreporter.stats.get("xfailed", [])
        for key, reason in report.user_properties
        if key == _WARNING_KEY
    ]
    if not warned:
        return
    terminalreporter.section("lineage: laws held only to float32 accuracy")
    for nodeid, reason in warned:
        terminalreporter.write_line(f"WARNING {nodeid}: {reason}")
