"""Calling conventions the oracle adapts to."""

from __future__ import annotations

from lineage.oracle.conventions.base import Convention
from lineage.oracle.conventions.canonical import Canonical
from lineage.oracle.conventions.cleanrl import CleanRL
from lineage.oracle.conventions.losses import Objective, SumReduction
from lineage.oracle.conventions.rlax import Rlax
from lineage.oracle.conventions.sb3 import SB3
from lineage.oracle.conventions.sb3_contrib import SB3Contrib
from lineage.oracle.conventions.spinningup import SpinningUp
from lineage.oracle.conventions.tianshou import Tianshou
from lineage.oracle.conventions.torchrl import TorchRL
from lineage.oracle.conventions.torchrl_ppo import TorchRLPPO
from lineage.oracle.conventions.trl import TRL

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        *(Canonical(), CleanRL(), TorchRL(), SB3(), Tianshou(), Rlax(), SpinningUp()),
        *(Objective(), SumReduction(), TorchRLPPO(), TRL(), SB3Contrib()),
    )
}
ALIASES = {"baselines": "cleanrl", "ppo2": "cleanrl", "stable-baselines3": "sb3", "spinup": "spinningup"}


def get_convention(name: str) -> Convention:
    key = ALIASES.get(name, name)
    if key not in CONVENTIONS:
        known = sorted([*CONVENTIONS, *ALIASES])
        raise ValueError(f"convention: unknown convention {name!r}; choose one of {known}")
    return CONVENTIONS[key]
