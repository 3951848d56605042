"""Hypothesis settings for checking other people's code (spec oracle-ux §6.3).

``oracle-quick`` (25 examples per law, first contact), ``oracle`` (50, the default), ``oracle-thorough`` (2000,
nightly); lineage's own ``dev``/``thorough`` names work too. All have ``deadline=None`` (torch and JAX
warm up on the first call) and no explain phase; under ``CI`` they are derandomized with no database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

from lineage.properties.profiles import PROFILES

EXAMPLES = {"oracle-quick": 25, "oracle": 50, "oracle-thorough": 2000}
_QUIET = [phase for phase in Phase if phase is not Phase.explain]


def oracle_settings(profile: str = "oracle") -> settings:
    if profile in PROFILES:
        return PROFILES[profile]
    if profile not in EXAMPLES:
        raise ValueError(f"profile: unknown profile {profile!r}; choose one of {sorted([*EXAMPLES, *PROFILES])}")
    in_ci = bool(os.environ.get("CI"))
    return settings(
        max_examples=EXAMPLES[profile],
        deadline=None,
        phases=_QUIET,
        derandomize=in_ci,
        database=None if in_ci else settings.default.database,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
