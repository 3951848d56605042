"""Laws of the ``normalize_advantages`` contract: per-minibatch advantage normalisation as PPO implementations apply it
before the clipped loss (notes §PPO; the whitening law of claim STD-RLHF-5; SB3 and CleanRL normalise per minibatch,
and SB3 returned NaN for a minibatch of one).

The std's convention differs between libraries and is not prescribed: ddof = 1 (SB3, CleanRL, Tianshou) and ddof = 0
(baselines, Spinning Up) both pass, as does a small ε (≤ 1e-6) added to the std. What every convention must do is centre
and rescale a batch with spread, and stay finite on a batch without spread (one entry, or all entries equal): there the
standard forms give 0, and SB3's fix leaves a single advantage as it is.
"""

from __future__ import annotations

import numpy as np

from lineage.laws.cases.losses import AdvantageBatch, advantage_batches, degenerate_batches
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import scaled_tolerance

CONTRACT = CONTRACTS["normalize_advantages"]
STD_OFFSET = 1e-6  # the largest ε an implementation may add to the std (SB3, CleanRL, baselines add 1e-8)


@law(
    "normalize_advantages",
    claims=("STD-RLHF-5",),
    section="§PPO (advantage normalisation)",
    cases=advantage_batches(),
    examples=(AdvantageBatch([1.0, 2.0, 4.0]), AdvantageBatch([-5.0, 5.0])),
)
def standardised(target, batch: AdvantageBatch):
    """A batch with spread becomes (A − mean A)/(std A + ε): mean 0 and unit std, with the std's ddof 0 or 1 and
    0 ≤ ε ≤ 1e-6 (the conventions differ; either is accepted, nothing else)."""
    got, eps = call(CONTRACT, target, batch)
    a = batch.inputs()["advantages"]
    mismatches = []
    for ddof in (1, 0):
        std = scaled_std(a, ddof)
        expected = normalized(a, std)
        atol = scaled_tolerance(eps, 2 * np.max(np.abs(a)) / std, a.size) + np.abs(expected) * STD_OFFSET / std
        if np.all(np.abs(got - expected) <= atol):
            return
        mismatches.append((float(np.max(np.abs(got - expected) - atol)), ddof, expected, atol))
    _, ddof, expected, atol = min(mismatches, key=lambda m: m[0])
    expect_close(f"normalised advantages vs (A − mean)/std with ddof={ddof} (the nearer form)", got, expected, atol)


def normalized(a: np.ndarray, std: float) -> np.ndarray:
    return (a - a.mean()) / std


def scaled_std(a: np.ndarray, ddof: int) -> float:
    """The std computed on deviations scaled by the largest one: a spread down to the smallest normal numbers does not
    underflow to 0 the way Σ(A − mean)² does (batches of a small spread are part of the domain)."""
    centred = a - a.mean()
    scale = float(np.max(np.abs(centred)))
    return scale * float(np.sqrt(np.sum((centred / scale) ** 2) / (a.size - ddof))) if scale else 0.0


@law(
    "normalize_advantages",
    claims=("STD-RLHF-5",),
    section="§PPO (advantage normalisation)",
    cases=degenerate_batches(),
    examples=(AdvantageBatch([3.0]), AdvantageBatch([1.0, 1.0])),
)
def finite_without_spread(target, batch: AdvantageBatch):
    """A batch of one advantage, or of equal advantages, has no spread: normalising it must still give finite
    numbers (0 in the standard forms), never the NaN of 0/0 — a minibatch of size 1 is routine at the end of an
    epoch."""
    call(CONTRACT, target, batch)
