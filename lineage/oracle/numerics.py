"""The array type a target receives: numpy or torch, float32 or float64 (bool masks stay bool)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAMEWORKS = ("numpy", "torch")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Numerics:
    framework: str = "numpy"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"framework: expected one of {FRAMEWORKS}, got {self.framework!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {DTYPES}, got {self.dtype!r}")

    def convert(self, value):
        """numpy arrays become arrays of this framework and dtype; scalars pass through."""
        if not isinstance(value, np.ndarray):
            return value
        array = value if value.dtype == bool else value.astype(self.dtype)
        if self.framework == "torch":
            import torch

            return torch.from_numpy(array.copy())
        return array.copy()

    def literal(self, value) -> str:
        """Python source that rebuilds ``value`` as the target received it (for a repro)."""
        if not isinstance(value, np.ndarray):
            return repr(value)
        items = value.tolist()
        if self.framework == "torch":
            dtype = "torch.bool" if value.dtype == bool else f"torch.{self.dtype}"
            return f"torch.tensor({items!r}, dtype={dtype})"
        dtype = "bool" if value.dtype == bool else f"np.{self.dtype}"
        return f"np.array({items!r}, dtype={dtype})"

    @property
    def import_line(self) -> str:
        return "import torch" if self.framework == "torch" else "import numpy as np"
