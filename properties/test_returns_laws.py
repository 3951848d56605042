"""Every law of the return/advantage contracts holds for lineage's own implementations.

The laws (``lineage.properties.returns_laws``) name their claims; this module binds them to
``lineage.td_errors``, ``discounted_returns``, ``n_step_advantages``, ``gae`` and ``lambda_returns``.
"""

import pytest

import lineage
from lineage.bugzoo import pinned_cases
from lineage.properties.contracts import CONTRACTS
from lineage.properties.law import laws_for

RETURN_LAWS = [law for contract in CONTRACTS for law in laws_for(contract)]


@pytest.mark.parametrize(
    "law", [pytest.param(law, id=law.id, marks=pytest.mark.claim(*law.claims)) for law in RETURN_LAWS]
)
def test_law_holds_for_lineage(law):
    law.verify(getattr(lineage, law.contract), pinned=pinned_cases(law.id))
