"""A copy-paste reproduction of a failing law, written in the target's own calling convention."""

from __future__ import annotations

import numpy as np

from lineage.laws.contracts import CONTRACTS, call, per_step
from lineage.laws.law import Law, LawViolation, significant
from lineage.oracle.targets import Target

MAX_CALLS = 3
MAX_ENTRIES = 200  # larger inputs are not printed


def repro(target: Target, law: Law, calls: list) -> str:
    """Source that imports the target and makes the calls the failing law made, each followed by what the
    contract says it must return and what the target returned."""
    cases = [c for c in calls if hasattr(c, "inputs")][:MAX_CALLS]
    if not cases:
        return ""
    if any(sum(np.size(a) for a in c.inputs().values()) > MAX_ENTRIES for c in cases):
        return f"(inputs larger than {MAX_ENTRIES} entries are not printed; rerun the law {law.id})"
    lines = [
        f"# {law.id} in the {target.convention.name} convention ({target.numerics.framework} {target.numerics.dtype})",
        target.numerics.import_line,
        *_import_lines(target.label),
    ]
    adapted = target.as_contract()
    for number, case in enumerate(cases, start=1):
        parameters = _parameters_text(target.contract, case)
        lines.append(f"# call {number} of {len(cases)}" + (f": {parameters}" if parameters else ""))
        params = {p: getattr(case, p) for p in CONTRACTS[target.contract].parameters}
        for target_call in target.convention.calls(target.contract, case.inputs(), params):
            lines += target.convention.render(target.label, target_call, target.numerics)
        expected = CONTRACTS[target.contract].exact(case)
        contract = CONTRACTS[target.contract]
        layout = " (time-major)" if contract.shape is per_step else ""
        requires = f"# the contract requires {contract.output}{layout}:"
        lines.append(f"{requires} {_round(expected)}")
        lines.append(f"{'# the target gave:':<{len(requires)}} {_got(target, adapted, case)}")
    return "\n".join(lines)


def _import_lines(label: str) -> list[str]:
    module, _, qualname = label.partition(":")
    if "<" in qualname or "(" in qualname or module in ("", "__main__", "?"):
        return [f"target = ...  # your function {label}"]
    head, _, rest = qualname.partition(".")
    if not rest:
        return [f"from {module} import {head} as target"]
    return [f"from {module} import {head}", f"target = {qualname}"]


def _parameters_text(contract: str, case) -> str:
    return ", ".join(f"{p}={getattr(case, p)!r}" for p in CONTRACTS[contract].parameters)


def _got(target: Target, adapted, case) -> str:
    try:
        return _round(call(CONTRACTS[target.contract], adapted, case)[0])
    except LawViolation as violation:
        return str(violation).splitlines()[0].removeprefix("the target ")


def _round(array: np.ndarray) -> str:
    return significant(array)
