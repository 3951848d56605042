"""The claims ledger (``lineage/claims.toml``, shipped with the package): claim id → verdict, section of the
notes and a one-line title.

Verdicts: TRUE; COND (true only under stated conditions, or imprecise); FALSE (false or a typo as printed: the
suite refutes the printed form and checks the corrected one).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

VERDICTS = ("TRUE", "COND", "FALSE")


@dataclass(frozen=True)
class Claim:
    verdict: str
    section: str
    title: str


def load_claims() -> dict[str, Claim]:
    """The ledger, by claim id, in the order of the file."""
    table = tomllib.loads(resources.files("lineage").joinpath("claims.toml").read_text(encoding="utf-8"))
    claims = {claim_id: Claim(**fields) for claim_id, fields in table.items()}
    for claim_id, claim in claims.items():
        if claim.verdict not in VERDICTS:
            raise ValueError(f"claims.toml: {claim_id} has verdict {claim.verdict!r}, not one of {VERDICTS}")
    return claims


CLAIMS: dict[str, Claim] = load_claims()
