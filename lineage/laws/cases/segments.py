"""Rollout segments as readable values, and the Hypothesis strategies that draw them.

A :class:`Segment` holds plain Python lists, so a falsifying example prints as code a learner can read
and paste. Segments are drawn the way environments produce them: inside an episode
``next_values[t] == values[t+1]``; at an episode end (and at the last step) ``next_values[t]`` is the
value of the true final observation, unrelated to ``values[t+1]`` (the value of the observation the
environment reset to). Boundary cases are always reachable: T = 1, γ and λ ∈ {0, 1}, no episode end,
every step terminated, every step truncated, both flags on every step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache

import numpy as np
from hypothesis import strategies as st

FLOAT_FIELDS = ("rewards", "values", "next_values")
FLAG_FIELDS = ("terminated", "truncated")


@dataclass(frozen=True)
class Segment:
    """One rollout segment in the layout of :mod:`lineage.returns.segment` ([T] or [T][B] lists)."""

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


@cache
def unit_interval() -> st.SearchStrategy[float]:
    """γ or λ in [0, 1]: an endpoint (0 or 1) about a quarter of the time, an interior value otherwise."""
    kinds = st.sampled_from(["endpoint", "interior", "interior", "interior"])
    return kinds.flatmap(lambda kind: st.sampled_from([0.0, 1.0]) if kind == "endpoint" else st.floats(0.0, 1.0))


@cache
def magnitudes(bound: float = 10.0) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_subnormal=False)


# "mixed" (every step drawn on its own) twice as often as each constant pattern.
FLAG_PATTERNS = ("mixed", "mixed", "none", "all terminated", "all truncated", "all both")
# A step's flags as two bits: 1 = terminated, 2 = truncated.
_FLAG_CODES = {"none": 0, "all terminated": 1, "all truncated": 2, "all both": 3}


@st.composite
def segments(
    draw,
    *,
    min_length: int = 1,
    max_length: int = 64,
    min_batch: int = 0,
    max_batch: int = 3,
    bound: float = 10.0,
    flag_patterns: tuple[str, ...] = FLAG_PATTERNS,
):
    """A segment of T ∈ [min_length, max_length] steps: shape [T] when the drawn B is 0, else [T, B].

    The segment is drawn as a list of steps (reward, V(s_t), V of the final observation, flags), so
    Hypothesis shrinks a failure by deleting whole steps down to the shortest segment that still fails,
    and every entry is drawn on its own (no repeated fill value hiding index mix-ups between steps)."""
    batch = draw(st.integers(min_batch, max_batch), label="B") or None
    pattern = draw(st.sampled_from(flag_patterns), label="flag pattern")
    steps = draw(_steps(batch or 1, pattern, bound, min_length, max_length), label="steps")

    def field(index: int, convert=lambda x: x) -> list:
        rows = [[convert(x) for x in s[index]] for s in steps]
        return rows if batch else [row[0] for row in rows]

    rewards, values, final_values = field(0), field(1), field(2)
    terminated, truncated = field(3, lambda code: bool(code & 1)), field(3, lambda code: bool(code & 2))
    return Segment(rewards, values, next_values(values, final_values, terminated, truncated), terminated, truncated)


@cache
def _steps(columns: int, pattern: str, bound: float, min_length: int, max_length: int) -> st.SearchStrategy:
    """Lists of steps (rewards, values, final values, flag codes), one entry per column in each.
    Built once per shape: Hypothesis validates every new strategy object, which would dominate."""
    number = st.tuples(*[magnitudes(bound)] * columns)
    flags = st.tuples(*[st.integers(0, 3)] * columns)
    if pattern != "mixed":
        flags = st.just((_FLAG_CODES[pattern],) * columns)
    return st.lists(st.tuples(number, number, number, flags), min_size=min_length, max_size=max_length)


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

    def inputs(self) -> dict[str, np.ndarray]:
        """The arrays a contract's target receives (see ``lineage.laws.contracts``)."""
        return self.segment.arrays()

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


# What each return/advantage contract takes besides the segment, drawn with its boundary values: n from 1 to beyond
# any segment's length (n ≥ T makes the n-step estimate the bootstrapped return).
CONTRACT_PARAMETERS = {
    "td_errors": {},
    "discounted_returns": {},
    "n_step_advantages": {"n": st.integers(1, 70)},
    "gae": {"lam": unit_interval()},
    "lambda_returns": {"lam": unit_interval()},
}


def contract_cases(contract: str, **segment_options) -> st.SearchStrategy[SegmentCase]:
    """The cases of a return/advantage contract: a segment, γ, and λ or n where the contract takes them."""
    return segment_cases(**CONTRACT_PARAMETERS[contract], **segment_options)


@dataclass(frozen=True)
class ShiftedFinalValue:
    """A case, and a change ``delta`` to V(s_{t+1}) at a step ``step`` that ends an episode or the segment."""

    case: SegmentCase
    step: int
    delta: float


@dataclass(frozen=True)
class SplitCase:
    """A case and a step ``at`` splitting its segment into steps [:at] and [at:]."""

    case: SegmentCase
    at: int


@dataclass(frozen=True)
class CombinedCase:
    """A case, a second segment ``other`` with the same flags, and coefficients for a·x + b·y."""

    case: SegmentCase
    other: Segment
    a: float
    b: float
