"""Rollout segments as readable values, and the Hypothesis strategies that draw them (spec §0.3).

A :class:`Segment` holds plain Python lists, so a falsifying example prints as code a learner can read
and paste. Segments are drawn the way environments produce them: inside an episode
``next_values[t] == values[t+1]``; at an episode end (and at the last step) ``next_values[t]`` is the
value of the true final observation, unrelated to ``values[t+1]`` (the value of the observation the
environment reset to). Boundary cases are always reachable: T = 1, γ and λ ∈ {0, 1}, no episode end,
every step terminated, every step truncated, both flags on every step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

FLOAT_FIELDS = ("rewards", "values", "next_values")
FLAG_FIELDS = ("terminated", "truncated")


@dataclass(frozen=True)
class Segment:
    """One rollout segment in the canonical convention of :mod:`lineage.segment` ([T] or [T][B] lists)."""

    rewards: list
    values: list
    next_values: list
    terminated: list
    truncated: list

    @property
    def length(self) -> int:
        return len(self.rewards)

    @property
    def batched(self) -> bool:
        return bool(self.rewards) and isinstance(self.rewards[0], list)

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as float64 / bool numpy arrays, ready to pass to a contract function."""
        out = {name: np.array(getattr(self, name), dtype=np.float64) for name in FLOAT_FIELDS}
        out.update({name: np.array(getattr(self, name), dtype=bool) for name in FLAG_FIELDS})
        return out

    def columns(self) -> list[Segment]:
        """The B one-dimensional segments of a batched segment (itself if not batched)."""
        if not self.batched:
            return [self]
        width = len(self.rewards[0])
        return [
            Segment(**{f.name: [row[b] for row in getattr(self, f.name)] for f in fields(self)}) for b in range(width)
        ]

    def steps(self, start: int, stop: int | None = None) -> Segment:
        """The sub-segment of steps ``start:stop``."""
        return Segment(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})

    def replace(self, **changes) -> Segment:
        return replace(self, **changes)


def unit_interval() -> st.SearchStrategy[float]:
    """γ or λ in [0, 1], with both endpoints drawn often."""
    return st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


def magnitudes(bound: float = 10.0) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_subnormal=False)


FLAG_PATTERNS = ("mixed", "none", "all terminated", "all truncated", "all both")
# A step's flags as two bits: 1 = terminated, 2 = truncated.
_FLAG_CODES = {"none": 0, "all terminated": 1, "all truncated": 2, "all both": 3}


@st.composite
def segments(
    draw, *, min_length: int = 1, max_length: int = 64, min_batch: int = 0, max_batch: int = 3, bound: float = 10.0
):
    """A segment of T ∈ [min_length, max_length] steps (short ones drawn more often, every length
    reachable): shape [T] when the drawn B is 0, else [T, B]."""
    lengths = [st.integers(min_length, max(min_length, min(cap, max_length))) for cap in (8, 16, max_length)]
    length = draw(st.one_of(lengths), label="T")
    batch = draw(st.integers(min_batch, max_batch), label="B") or None
    shape = (length,) if batch is None else (length, batch)

    def floats() -> list:
        # fill=nothing(): every entry drawn on its own. Hypothesis' default fills most of an array with
        # one repeated value, which hides index mix-ups between neighbouring steps.
        return draw(arrays(np.float64, shape, elements=magnitudes(bound), fill=st.nothing())).tolist()

    pattern = draw(st.sampled_from(FLAG_PATTERNS), label="flag pattern")
    if pattern == "mixed":
        codes = draw(arrays(np.int8, shape, elements=st.integers(0, 3), fill=st.nothing()))
    else:
        codes = np.full(shape, _FLAG_CODES[pattern], dtype=np.int8)
    terminated, truncated = (codes & 1).astype(bool).tolist(), (codes & 2).astype(bool).tolist()
    rewards, values, final_values = floats(), floats(), floats()
    return Segment(rewards, values, next_values(values, final_values, terminated, truncated), terminated, truncated)


def next_values(values: list, final_values: list, terminated: list, truncated: list) -> list:
    """V(s_{t+1}): ``values[t+1]`` inside an episode, the final observation's value at its end."""
    flat = np.asarray(values, dtype=object)
    final = np.asarray(final_values, dtype=object)
    done = np.asarray(terminated) | np.asarray(truncated)
    follow = np.empty_like(flat)
    follow[:-1], follow[-1] = flat[1:], final[-1]
    return np.where(done, final, follow).tolist()


@dataclass(frozen=True)
class SegmentCase:
    """Everything one call of a return/advantage contract needs."""

    segment: Segment
    gamma: float
    lam: float | None = None
    n: int | None = None

    def __repr__(self) -> str:
        extra = "".join(f", {name}={getattr(self, name)!r}" for name in ("lam", "n") if getattr(self, name) is not None)
        return f"SegmentCase({self.segment!r}, gamma={self.gamma!r}{extra})"

    def on(self, segment: Segment) -> SegmentCase:
        """The same γ, λ and n applied to another segment."""
        return replace(self, segment=segment)


def segment_cases(
    *,
    lam: st.SearchStrategy | None = None,
    n: st.SearchStrategy | None = None,
    gamma: st.SearchStrategy | None = None,
    **segment_options,
) -> st.SearchStrategy[SegmentCase]:
    """Cases with γ (and λ or n when the contract takes them) drawn with their boundary values."""
    return st.builds(
        SegmentCase,
        segment=segments(**segment_options),
        gamma=gamma if gamma is not None else unit_interval(),
        lam=lam if lam is not None else st.none(),
        n=n if n is not None else st.none(),
    )
