"""Calling conventions the oracle adapts to (spec/library-conventions.md §0)."""

from __future__ import annotations

from lineage.oracle.conventions.base import Convention
from lineage.oracle.conventions.canonical import Canonical
from lineage.oracle.conventions.cleanrl import CleanRL
from lineage.oracle.conventions.torchrl import TorchRL

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (Canonical(), CleanRL(), TorchRL())}
ALIASES = {"baselines": "cleanrl", "ppo2": "cleanrl"}


def get_convention(name: str) -> Convention:
    key = ALIASES.get(name, name)
    if key not in CONVENTIONS:
        known = sorted([*CONVENTIONS, *ALIASES])
        raise ValueError(f"convention: unknown convention {name!r}; choose one of {known}")
    return CONVENTIONS[key]
