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

The floats are numpy arrays or torch tensors, the flags bool arrays of the same framework; the results
follow the array rule of :mod:`lineage.arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage._validation import check_same_shape, check_time_major
from lineage.arrays import Backend, backend_of


@dataclass(frozen=True)
class SegmentArrays:
    """Validated arrays of one segment, all of ``backend``'s framework; the floats share one dtype, the one the
    results are computed in."""

    backend: Backend
    rewards: Any
    values: Any | None
    next_values: Any
    terminated: Any
    truncated: Any | None

    @property
    def dtype(self):
        return self.rewards.dtype

    @property
    def bootstrap_mask(self):
        """1 − terminated_t: whether V(s_{t+1}) enters the target of step t."""
        return self.backend.astype(~self.terminated, self.dtype)

    @property
    def continue_mask(self):
        """1 − done_t: whether the recursion carries step t+1 back into step t."""
        done = self.terminated if self.truncated is None else self.terminated | self.truncated
        return self.backend.astype(~done, self.dtype)

    def backward_scan(self, base, carry):
        """out_t = base_t + carry_t · out_{t+1} with out_T = 0, for t = T − 1 down to 0 (a new array; tensors stay
        differentiable)."""
        xp = self.backend.xp
        if len(base) == 0:
            return base * 0
        running, steps = xp.zeros_like(base[0]), []
        for t in reversed(range(len(base))):
            running = base[t] + carry[t] * running
            steps.append(running)
        return xp.stack(steps[::-1])


def validate_segment(rewards, values, next_values, terminated, truncated) -> SegmentArrays:
    """A segment checked against the contract of this module, in the framework and dtype of the array rule.

        bootstrap_mask = 1 − terminated,   continue_mask = 1 − (terminated ∨ truncated)

    (Gymnasium's step API; Pardo et al. 2018 "Time Limits in Reinforcement Learning" for why the two flags differ.)

    Claims STD-TT-1, STD-TT-2; notes §PPO.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V(s_t), same shape, or None for functions that do not take it.
        next_values: V(s_{t+1}), same shape.
        terminated: bool flags, same shape.
        truncated: bool flags, same shape, or None for functions that do not take it.

    Returns:
        The checked arrays, numpy or torch (:mod:`lineage.arrays`); raises ``ValueError`` naming the offending
        argument.
    """
    backend = backend_of(rewards, values, next_values, terminated, truncated)
    given = {"rewards": rewards, "values": values, "next_values": next_values}
    floats = {name: x for name, x in given.items() if x is not None}
    checked = dict(zip(floats, backend.floats(**floats), strict=True))
    r, nv, v = checked["rewards"], checked["next_values"], checked.get("values")
    check_time_major("rewards", r)
    flags = {"terminated": terminated} | ({} if truncated is None else {"truncated": truncated})
    checked_flags = dict(zip(flags, backend.flags(**flags), strict=True))
    term, trunc = checked_flags["terminated"], checked_flags.get("truncated")
    shaped = {"values": v, "next_values": nv, "terminated": term, "truncated": trunc}
    check_same_shape("rewards", r, **{k: a for k, a in shaped.items() if a is not None})
    return SegmentArrays(backend, r, v, nv, term, trunc)
