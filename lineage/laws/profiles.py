"""Hypothesis settings profiles: lineage's own run and the oracle's runs against other people's code.

lineage's own run (properties, derivations, tests; loaded by the checkout's ``conftest.py``):

* ``ci``        derandomized, no example database, 100 examples; loaded automatically when ``CI`` is set, so
                CI runs are reproducible;
* ``dev``       the local default: random, with the example database so a failure replays first;
* ``thorough``  2000 examples, for a nightly run or before a release;
* ``random``    random, 100 examples, no example database: every run draws afresh from ``--hypothesis-seed``
                (``nox -s flakes`` runs verify under many seeds to show no law is true only for ``ci``'s draws).

The oracle: ``oracle-quick`` (25 examples per law, first contact), ``oracle`` (50, the
default), ``oracle-thorough`` (2000, nightly). They are always derandomized, with no example database: the
oracle is a CI tool, and the same target must get the same verdicts run after run. The runner fixes
Hypothesis' random choices with a seed (``hypothesis.seed``; the report prints it), so other seeds explore
other inputs.

Every profile has ``deadline=None``: exact enumeration and first-call warm-up (torch, JAX) make per-example
deadlines a source of flakiness, not information. None has Hypothesis' explain phase except ``thorough``: a law
fails on the one line that raises, so the explain report only ever points at the assertion helper. Nothing here
is registered with Hypothesis on import: a project that merely has lineage installed keeps its own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import InvalidArgument

_QUIET = [phase for phase in Phase if phase is not Phase.explain]
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

PROFILES = {
    "ci": settings(max_examples=100, derandomize=True, database=None, print_blob=True, phases=_QUIET, **_COMMON),
    "dev": settings(max_examples=100, phases=_QUIET, **_COMMON),
    "thorough": settings(max_examples=2000, phases=list(Phase), **_COMMON),
    "random": settings(max_examples=100, database=None, print_blob=True, phases=_QUIET, **_COMMON),
}
ORACLE_EXAMPLES = {"oracle-quick": 25, "oracle": 50, "oracle-thorough": 2000}


def register_profiles() -> None:
    """Make lineage's profiles known to ``--hypothesis-profile`` (lineage's own run only)."""
    for name, profile in PROFILES.items():
        settings.register_profile(name, profile)


def load_default_profile(config) -> None:
    """``pytest_configure`` of lineage's own run: unless ``--hypothesis-profile`` chose one, load
    ``$LINEAGE_PROFILE``, else ``ci`` under CI, else ``dev``."""
    register_profiles()
    if config.getoption("hypothesis_profile", None):
        return
    wanted = os.environ.get("LINEAGE_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    try:
        settings.load_profile(wanted)
    except InvalidArgument:
        raise ValueError(f"LINEAGE_PROFILE: unknown profile {wanted!r}; choose one of {sorted(PROFILES)}") from None


def oracle_settings(profile: str = "oracle") -> settings:
    """The settings of an oracle profile (lineage's own profile names work too), derandomized and without an
    example database whatever the profile: a failure found once must not replay into the next run's verdicts."""
    if profile in PROFILES:
        return settings(PROFILES[profile], derandomize=True, database=None)
    if profile not in ORACLE_EXAMPLES:
        raise ValueError(f"profile: unknown profile {profile!r}; choose one of {sorted([*ORACLE_EXAMPLES, *PROFILES])}")
    return settings(
        max_examples=ORACLE_EXAMPLES[profile],
        derandomize=True,
        database=None,
        print_blob=True,
        phases=_QUIET,
        **_COMMON,
    )
