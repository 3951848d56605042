"""What a calling convention can express, and how drawn cases are restricted to what it can.

A law that needs something a convention cannot express is reported "not applicable" with the reason,
never passed and never failed. Laws that merely *could* draw inexpressible inputs run on the inputs the
convention can express instead (for example, a library that treats every episode end as a termination
is tested on segments whose inner episode ends are terminations; a library whose responses are right-padded by
construction is tested on right-padded masks).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lineage.laws.cases.losses import TokenRewardCase
from lineage.laws.cases.segments import Segment


@dataclass(frozen=True)
class Capabilities:
    truncation_inside: bool = True  # a time-limit cut before the last step, bootstrapped from its own final value
    separate_flags: bool = True  # terminated and truncated reach the target as two flags
    boundaries_in_call: bool = True  # the target itself sees the episode ends inside one call
    batch_in_call: bool = True  # a [T, B] batch reaches the target in one call
    any_mask_layout: bool = True  # a response mask may be left-padded or have gaps, not only right-padded
    autograd: bool = False  # the target receives the law's torch tensors and its output tensor reaches the law

    def missing(self, requires: frozenset[str]) -> list[str]:
        """The required capabilities this convention lacks, described for a report."""
        return [REASONS[name] for name in sorted(requires) if not getattr(self, name)]


REASONS = {
    "truncation_inside": "the convention cannot express a time-limit truncation inside a segment",
    "separate_flags": "the target does not receive separate terminated and truncated flags",
    "boundaries_in_call": "the target computes one episode per call (the adapter splits at episode ends)",
    "batch_in_call": "the target takes one trajectory per call (the adapter loops over batch columns)",
    "any_mask_layout": "the convention's responses are right-padded by construction",
    "autograd": "the convention hands the target copies and reads its output back as numpy: gradients through the "
    "target are not observed",
}


def restrict(case, capabilities: Capabilities):
    """``case`` with every segment inside it made expressible: without ``truncation_inside`` a truncated
    step before the last one becomes a termination (the only episode end the convention knows); without
    ``any_mask_layout`` every response mask becomes right padding with the same number of valid tokens per row."""
    if not capabilities.any_mask_layout and isinstance(case, TokenRewardCase):
        case = dataclasses.replace(case, mask=[_right_padded(row) for row in case.mask])
    if capabilities.truncation_inside:
        return case
    return _map_segments(case, _terminate_inner_truncations)


def _right_padded(row: list) -> list:
    valid = sum(bool(flag) for flag in row)
    return [t < valid for t in range(len(row))]


def _map_segments(value, transform):
    if isinstance(value, Segment):
        return transform(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _map_segments(getattr(value, f.name), transform) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _terminate_inner_truncations(segment: Segment) -> Segment:
    last = segment.length - 1

    def inner(rows: list, flag_rows: list) -> list:
        return [
            _or(row, flags) if t < last else row for t, (row, flags) in enumerate(zip(rows, flag_rows, strict=True))
        ]

    return segment.replace(terminated=inner(segment.terminated, segment.truncated))


def _or(a, b):
    return [x or y for x, y in zip(a, b, strict=True)] if isinstance(a, list) else a or b
