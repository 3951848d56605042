"""The oracle: lineage's laws run against someone else's implementation, in their calling convention.

    from lineage.oracle import check
    report = check("gae", my_gae, convention="cleanrl")
    print(report.render()); report.raise_if_failed()

Also ``python -m lineage.oracle gae=mypkg.adv:compute_gae --convention cleanrl``, ``nox -s verify --
--target gae=mypkg.adv:compute_gae --convention cleanrl`` and, in a library's own tests,
:func:`lineage.oracle.pytest.law_tests`.
"""

from lineage.oracle.conventions import CONVENTIONS
from lineage.oracle.report import LawResult, OracleFailure, Report
from lineage.oracle.runner import check
from lineage.oracle.targets import TargetError

__all__ = ["CONVENTIONS", "LawResult", "OracleFailure", "Report", "TargetError", "check"]
