"""The inputs of the contracts' laws as readable values, and the Hypothesis strategies that draw them.

A case hands its arrays to a target through ``case.inputs()`` and its keyword parameters as attributes.
:mod:`~lineage.laws.cases.segments` holds the rollout segments of the return and advantage contracts,
:mod:`~lineage.laws.cases.losses` the PPO, KL and RLHF cases, :mod:`~lineage.laws.cases.mdps` small tabular
MDPs and policies, :mod:`~lineage.laws.cases.pg` batches of episodes and episodic MDPs for REINFORCE.
"""

from lineage.laws.cases.losses import (
    DIRECTION,
    PADDED,
    AdvantageBatch,
    ClipCase,
    KLCoefCase,
    KLSamples,
    TokenRewardCase,
    TwoDistributions,
    ValueCase,
)
from lineage.laws.cases.segments import CombinedCase, Segment, SegmentCase, ShiftedFinalValue, SplitCase

__all__ = [
    "DIRECTION",
    "PADDED",
    "AdvantageBatch",
    "ClipCase",
    "CombinedCase",
    "KLCoefCase",
    "KLSamples",
    "Segment",
    "SegmentCase",
    "ShiftedFinalValue",
    "SplitCase",
    "TokenRewardCase",
    "TwoDistributions",
    "ValueCase",
]
