"""How the oracle words an exception: the target's (``the target raised ...``) or lineage's own (an oracle error)."""

from __future__ import annotations

import traceback


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` of an exception, even one whose ``str()`` fails."""
    try:
        text = str(exc)
    except Exception as failure:  # a broken __str__ is the target's problem, not a reason to crash
        text = f"<str() of the exception raised {type(failure).__name__}>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def oracle_error(doing: str, error: BaseException) -> str:
    """What to say when lineage's own code raised while ``doing`` something (its innermost frame included)."""
    frames = traceback.extract_tb(error.__traceback__)
    at = f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return (
        f"lineage itself raised {describe_exception(error)}{at} while {doing}: a bug in lineage, not a verdict on "
        "the target; please report it"
    )
