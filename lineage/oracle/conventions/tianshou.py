"""Tianshou's GAE kernel (``tianshou.algorithm.algorithm_base._gae``).

    _gae(v_s, v_s_, rew, end_flag, gamma, gae_lambda) -> advantages

numpy float64 1-D arrays over buffer indices, episodes stored one after another. The adapter prepares
the arguments as Tianshou's own ``compute_episodic_return`` does: ``v_s_`` = V(obs_next), the true next
observation, already multiplied by ``value_mask`` = ¬terminated (so a truncated step keeps its bootstrap),
and ``end_flag`` = terminated ∨ truncated, also True at the last index of every segment (the buffer's
unfinished index). A [T, B] batch goes into one call as B segments laid out column after column.
"""

from __future__ import annotations

import numpy as np

from lineage.arrays import to_numpy
from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, as_batch
from lineage.oracle.numerics import Numerics


class Tianshou(Convention):
    name = "tianshou"
    summary = "Tianshou _gae: one flat buffer, v_s_ pre-masked by ¬terminated, end_flag incl. segment ends"
    capabilities = Capabilities(separate_flags=False)
    numerics = Numerics("numpy", "float64")
    signatures = {"gae": "_gae(v_s, v_s_, rew, end_flag, gamma, gae_lambda) -> advantages"}

    def calls(self, contract, arrays, params):
        shape = arrays["rewards"].shape
        end_flag = as_batch(arrays["terminated"] | arrays["truncated"]).copy()
        end_flag[-1] = True
        args = [
            ("v_s", flat(arrays["values"])),
            ("v_s_", flat(arrays["next_values"] * ~arrays["terminated"])),
            ("rew", flat(arrays["rewards"])),
            ("end_flag", flat(end_flag)),
            ("gamma", params["gamma"]),
            ("gae_lambda", params["lam"]),
        ]
        return [TargetCall(args, read=lambda out: unflat(out, shape))]


def flat(array: np.ndarray) -> np.ndarray:
    """[T] or [T, B] → one buffer of B·T entries, column after column (each column a contiguous segment)."""
    return as_batch(array).T.reshape(-1)


def unflat(out, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`flat`: a buffer of B·T entries → [T] or [T, B]."""
    return to_numpy(out).reshape(shape[::-1]).T
