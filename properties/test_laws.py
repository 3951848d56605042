"""Every law of every contract, bound to lineage's own implementation of the contract (one item per law).

The same laws run against other people's code in the oracle (:mod:`lineage.oracle`); here the target is the
contract's ``reference``, held to its own dtype's tolerance under the current Hypothesis profile, after the
bug zoo's minimal inputs for the law.
"""

import pytest

from lineage.bugzoo import pinned_cases
from lineage.laws import CONTRACTS, LAWS


@pytest.mark.parametrize(
    "law", [pytest.param(law, id=law.id, marks=pytest.mark.claim(*law.claims)) for law in LAWS.values()]
)
def test_law_holds_for_lineage(law):
    law.verify(CONTRACTS[law.contract].reference, pinned=pinned_cases(law.id))
