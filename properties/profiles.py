"""Hypothesis settings profiles for the properties and laws.

* ``ci``        derandomized, no example database, 100 examples; loaded automatically when ``CI`` is set
                (this workplace runs ``.ci/run`` with ``CI=true``), so CI runs are reproducible.
* ``dev``       the local default: random, with the example database so a failure replays first.
* ``thorough``  2000 examples, for a nightly run or before a release.

Every profile has ``deadline=None``: exact enumeration and first-call warm-up (torch) make per-example
deadlines a source of flakiness, not information.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import InvalidArgument

# No explain phase by default: a law fails on the one line that raises, so its "lines only run by failing
# cases" report only ever points at the assertion helper.
_QUIET = [phase for phase in Phase if phase is not Phase.explain]
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

PROFILES = {
    "ci": settings(max_examples=100, derandomize=True, database=None, print_blob=True, phases=_QUIET, **_COMMON),
    "dev": settings(max_examples=100, phases=_QUIET, **_COMMON),
    "thorough": settings(max_examples=2000, phases=list(Phase), **_COMMON),
}


def register_profiles() -> None:
    """Make ``dev`` and ``thorough`` available to ``--hypothesis-profile`` (the plugin does this on import).
    ``ci`` is Hypothesis' own auto-loaded profile name, so lineage's is registered only where lineage's
    own folders load it: registering it globally would change every project's settings under CI."""
    for name, profile in PROFILES.items():
        if name != "ci":
            settings.register_profile(name, profile)


def load_default_profile(config) -> None:
    """``pytest_configure`` of lineage's own test folders: unless ``--hypothesis-profile`` chose one, load
    ``$LINEAGE_PROFILE``, else ``ci`` under CI, else ``dev``. Other projects' test suites that merely
    have lineage installed keep their own Hypothesis settings."""
    if config.getoption("hypothesis_profile", None):
        return
    wanted = os.environ.get("LINEAGE_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    settings.register_profile("ci", PROFILES["ci"])
    try:
        settings.load_profile(wanted)
    except InvalidArgument:
        raise ValueError(f"LINEAGE_PROFILE: unknown profile {wanted!r}; choose one of {sorted(PROFILES)}") from None
