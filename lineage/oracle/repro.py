"""A reproduction of a failing law that runs as printed, written in the target's own calling convention.

The repro imports the target (a function, a class the convention drives, a ``functools.partial``, or a callable
instance rebuilt with ``pickle``), builds the inputs of the calls the failing law made, makes the calls and shows,
as comments, what the contract requires and what the target gave. Inputs too large to print are replaced by the
command that reruns the law against the target.
"""

from __future__ import annotations

import functools
import inspect
import pickle

import numpy as np

from lineage.laws.contracts import CONTRACTS, call, per_step
from lineage.laws.law import Law, LawViolation, significant
from lineage.oracle.targets import Target

MAX_CALLS = 3
MAX_ENTRIES = 200  # inputs with more numbers than this are not printed


def repro(target: Target, law: Law, calls: list) -> str:
    """Source that imports the target and makes the calls the failing law made, each followed by what the
    contract says it must return and what the target returned (as comments)."""
    cases = [c for c in calls if hasattr(c, "inputs")][:MAX_CALLS]
    if not cases:
        return ""
    if any(sum(getattr(a, "entries", None) or np.size(a) for a in c.inputs().values()) > MAX_ENTRIES for c in cases):
        return (
            f"# inputs larger than {MAX_ENTRIES} numbers are not printed; this reruns the law against the target:\n"
            f"{rerun_command(target, law)}"
        )
    lines = [
        f"# {law.id} in the {target.convention.name} convention ({target.numerics.framework} {target.numerics.dtype})",
        target.numerics.import_line,
        *import_lines(target),
    ]
    adapted = target.as_contract()
    contract = CONTRACTS[target.contract]
    layout = " (time-major)" if contract.shape is per_step else ""
    for number, case in enumerate(cases, start=1):
        parameters = ", ".join(f"{p}={getattr(case, p)!r}" for p in contract.parameters)
        lines.append(f"# call {number} of {len(cases)}" + (f": {parameters}" if parameters else ""))
        params = {p: getattr(case, p) for p in contract.parameters}
        for target_call in target.convention.calls(target.contract, case.inputs(), params):
            lines += target.convention.render(target.label, target_call, target.numerics)
        lines += commented(f"the contract requires {contract.output}{layout}:", significant(contract.exact(case)))
        lines += commented("the target gave:", _got(target, adapted, case))
    return "\n".join(lines)


def commented(title: str, text: str) -> list[str]:
    """``# title`` and every line of ``text`` as a comment (a [T, B] array prints on several lines)."""
    return [f"# {title}", *(f"#     {line}" for line in text.splitlines())]


def rerun_command(target: Target, law: Law) -> str:
    """The command line that reruns one law against the target (derandomized: the same counterexample)."""
    numerics = f" --framework {target.numerics.framework} --dtype {target.numerics.dtype}"
    spec = target.label if _importable(target.function) else "MODULE:FUNCTION"
    return (
        f"python -m lineage.oracle {target.contract}={spec} --convention {target.convention.name}{numerics} "
        f"--law {law.name}"
    )


def import_lines(target: Target) -> list[str]:
    """Lines that bind the target to the name ``target``."""
    function = target.function
    if isinstance(function, functools.partial):
        inner = Target(target.contract, function.func, target.label, target.convention, target.numerics)
        fixed = ", ".join(f"{name}={value!r}" for name, value in function.keywords.items())
        return [*import_lines(inner), "import functools", f"target = functools.partial(target, {fixed})"]
    if _importable(function):
        module, qualname = function.__module__, function.__qualname__
        head, _, rest = qualname.partition(".")
        if not rest:
            return [f"from {module} import {head} as target"]
        return [f"from {module} import {head}", f"target = {qualname}"]
    if _is_instance(function):
        try:
            data = pickle.dumps(function)
            pickle.loads(data)
        except Exception:
            return [f"target = ...  # your callable {type(function).__qualname__} instance (it cannot be pickled)"]
        return ["import pickle", f"target = pickle.loads(bytes.fromhex({data.hex()!r}))  # your {target.label}"]
    return [f"target = ...  # your function {target.label} (it cannot be imported by name)"]


def _importable(function) -> bool:
    """A function or class reachable as ``module.qualname`` (not a lambda, a local function or __main__'s)."""
    if not (inspect.isfunction(function) or inspect.isclass(function) or inspect.isbuiltin(function)):
        return False
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    return bool(module) and module != "__main__" and "<" not in qualname


def _is_instance(function) -> bool:
    return not (inspect.isroutine(function) or inspect.isclass(function) or isinstance(function, functools.partial))


def _got(target: Target, adapted, case) -> str:
    try:
        return significant(call(CONTRACTS[target.contract], adapted, case)[0])
    except LawViolation as violation:
        if violation.got is not None:  # read, but not acceptable (non-finite): show the values
            return significant(violation.got)
        return str(violation).splitlines()[0].removeprefix("the target ")
