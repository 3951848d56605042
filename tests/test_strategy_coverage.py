"""Every strategy reaches every corner of its contract's domain (``lineage.laws.cases.domain.DOMAIN``).

Each corner is searched for with ``hypothesis.find`` in the strategy the laws draw from (derandomized, no database,
no shrinking: the first case in the corner is enough). ``python tests/test_strategy_coverage.py`` prints the coverage
table: contract, strategy, corner, how it is drawn, and how many draws the search took.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample

from lineage.laws.cases.domain import DOMAIN, Corner, Domain
from lineage.laws.contracts import CONTRACTS

SEARCH = settings(database=None, derandomize=True, max_examples=3000, phases=[Phase.generate])


def draws_to_reach(domain: Domain, corner: Corner) -> int | None:
    """How many cases the search drew until the first one in the corner (None: not reached)."""
    draws = [0]

    def holds(case) -> bool:
        draws[0] += 1
        return corner.holds(case)

    try:
        find(domain.cases(), holds, settings=SEARCH)
    except NoSuchExample:
        return None
    return draws[0]


CORNERS = [
    pytest.param(domain, corner, id=f"{contract}-{domain.strategy}-{corner.name}")
    for contract, domains in DOMAIN.items()
    for domain in domains
    for corner in domain.corners
]


def test_every_contract_has_a_domain():
    assert set(DOMAIN) == set(CONTRACTS)


@pytest.mark.parametrize(("domain", "corner"), CORNERS)
def test_the_strategy_reaches_the_corner(domain, corner):
    assert draws_to_reach(domain, corner) is not None, f"{domain.strategy} never drew a case with {corner.name}"


def coverage_table() -> str:
    lines = ["| contract | strategy | corner | drawn by | reached (draws) |", "|---|---|---|---|---|"]
    for contract, domains in DOMAIN.items():
        for domain in domains:
            for corner in domain.corners:
                draws = draws_to_reach(domain, corner)
                reached = "no" if draws is None else f"yes ({draws})"
                lines.append(f"| {contract} | `{domain.strategy}` | {corner.name} | {corner.how} | {reached} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(coverage_table())
