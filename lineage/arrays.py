"""numpy or torch in, the same framework out: shared by the PPO and RLHF helpers.

The RLHF helpers compute in numpy. A torch caller gets back a tensor of the computed dtype on the device of its
template argument, without gradient: per-token rewards and whitened advantages are constants of the PPO
loss (lm-human-preferences and TRL build them under ``torch.no_grad()``).
"""

from __future__ import annotations

import numpy as np


def is_torch(x) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch for numpy callers."""
    return type(x).__module__.split(".")[0] == "torch"


def to_numpy(x):
    """A torch tensor as a numpy array (detached, on the CPU, dtype kept; bfloat16, which numpy lacks, becomes the
    float32 holding the same values); anything else is returned as is, for the caller's own validation to read."""
    if not is_torch(x):
        return x
    x = x.detach().cpu()
    return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()


def same_framework(result: np.ndarray, template):
    """``result`` as a tensor on ``template``'s device if ``template`` is a torch tensor, else unchanged."""
    if not is_torch(template):
        return result
    import torch

    return torch.from_numpy(result).to(template.device)
