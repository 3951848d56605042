"""Inputs of the PPO losses as torch tensors, checked: numpy arrays, lists or tensors in; tensors keep their
graph, dtype and device, so the losses stay differentiable in the caller's parameters."""

from __future__ import annotations

import torch

from lineage._validation import as_float_array, check_real
from lineage.arrays import is_torch, to_numpy


def as_tensor(name: str, x) -> torch.Tensor:
    """``x`` as a floating tensor with finite entries (integers become float64, bools are refused)."""
    checked = as_float_array(name, to_numpy(x))
    if not is_torch(x):
        return torch.tensor(checked)
    return x if x.is_floating_point() else x.to(torch.float64)


def per_sample_tensors(**named) -> list[torch.Tensor]:
    """Non-empty arrays of one shape (one entry per sample), as tensors on the device of the first tensor given."""
    tensors = {name: as_tensor(name, x) for name, x in named.items()}
    (first_name, first), *others = tensors.items()
    if first.numel() == 0:
        raise ValueError(f"{first_name}: expected at least one sample, got shape {tuple(first.shape)}")
    for name, t in others:
        if t.shape != first.shape:
            raise ValueError(f"{name}: expected shape {tuple(first.shape)} like {first_name}, got {tuple(t.shape)}")
    device = next((x.device for x in named.values() if is_torch(x)), first.device)
    return [t.to(device) for t in tensors.values()]


def check_ratio_clip(name: str, x) -> float:
    """ε of a ratio band [1 − ε, 1 + ε]: in (0, 1), so that the band is non-empty and 1 − ε > 0."""
    value = check_real(name, x, minimum=0.0, inclusive=False)
    if value >= 1.0:
        raise ValueError(f"{name}: must lie in (0, 1), got {value}")
    return value
