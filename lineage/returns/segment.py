"""The rollout segment: lineage's contract for returns and advantages.

One segment holds T transitions, time axis first, shape ``[T]`` or ``[T, B]``:

* ``rewards[t]``      reward of the transition t → t+1;
* ``values[t]``       V(s_t);
* ``next_values[t]``  V(s_{t+1}) of the *true* next observation (the final observation when the
  episode was cut), never the observation an environment auto-resets to;
* ``terminated[t]``   the episode reached a terminal state at t+1: no bootstrap;
* ``truncated[t]``    the episode was cut at t+1 (time limit): bootstrap from ``next_values[t]``.
  Termination wins when both flags are set.

``done = terminated ∨ truncated`` stops every recursion; the bootstrap of an unfinished segment is
already inside the last TD error, so nothing is carried in from beyond step T-1.
(Gymnasium step API; Pardo et al. 2018; claims STD-TT-1, STD-TT-2.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_bool_array, as_float_array, check_same_shape, check_time_major


@dataclass(frozen=True)
class SegmentArrays:
    """Validated arrays of one segment; ``dtype`` is the floating type results are computed in."""

    rewards: np.ndarray
    values: np.ndarray | None
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray | None

    @property
    def dtype(self) -> np.dtype:
        floats = [a for a in (self.rewards, self.values, self.next_values) if a is not None]
        return np.result_type(*floats)

    @property
    def bootstrap_mask(self) -> np.ndarray:
        """1 − terminated_t: whether V(s_{t+1}) enters the target of step t."""
        return (~self.terminated).astype(self.dtype)

    @property
    def continue_mask(self) -> np.ndarray:
        """1 − done_t: whether the recursion carries step t+1 back into step t."""
        done = self.terminated if self.truncated is None else self.terminated | self.truncated
        return (~done).astype(self.dtype)


def validate_segment(rewards, values, next_values, terminated, truncated) -> SegmentArrays:
    """Check a segment against the contract above; ``values`` or ``truncated`` may be ``None``
    for functions that do not take them. Raises ``ValueError`` naming the offending argument."""
    r = as_float_array("rewards", rewards)
    check_time_major("rewards", r)
    v = None if values is None else as_float_array("values", values)
    nv = as_float_array("next_values", next_values)
    term = as_bool_array("terminated", terminated)
    trunc = None if truncated is None else as_bool_array("truncated", truncated)
    shaped = {"values": v, "next_values": nv, "terminated": term, "truncated": trunc}
    check_same_shape("rewards", r, **{k: a for k, a in shaped.items() if a is not None})
    return SegmentArrays(r, v, nv, term, trunc)
