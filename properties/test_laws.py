"""Every law of every contract, as one pytest item per law (and a preflight item per target).

Without options the targets are lineage's own implementations of every contract (returns and advantages, the
PPO losses, KL estimators and coefficient, advantage normalisation, RLHF token rewards), under the current
Hypothesis profile; with
``--target CONTRACT=SPEC`` (see ``lineage.oracle.pytest``) they are someone else's functions, under the
oracle profile, and only these items run.
"""

import pytest
from hypothesis import settings

from lineage.oracle.profiles import oracle_settings
from lineage.oracle.pytest import _preflight, configured_targets, run_item


def test_preflight(oracle_target):
    """The target can be called with its contract's arguments, is deterministic and leaves its inputs alone."""
    problems = _preflight(oracle_target)
    if problems:
        pytest.fail("\n".join(f"preflight {p.check}: {p.message}" for p in problems), pytrace=False)


def test_law(law_target, request):
    target, law = law_target
    config = request.config
    profile = oracle_settings(config.getoption("oracle_profile")) if configured_targets(config) else settings()
    run_item(target, law, profile, request.node.user_properties)
