"""sb3-contrib's conjugate-gradient solver (``sb3_contrib.common.utils.conjugate_gradient_solver``, used by its TRPO).

    conjugate_gradient_solver(matrix_vector_dot_fn, b, max_iter=10, residual_tol=1e-10) -> x

torch tensors (float32 by default). ``max_iter`` is the contract's ``iters`` and ``residual_tol`` its ``tol`` (both a
bound on ‖r‖², compared with ``<`` where lineage's contract says ≤; the laws call with tol = 0, where only an exact 0
differs). The solver starts from x_0 = 10⁻⁴·N(0, I), not 0, "because of instability issues when the gradient becomes
small": CG from x_0 has the same laws with b − A x_0 in place of b, up to ‖x_0‖ ~ 10⁻⁴. The adapter seeds torch's
generator (seed 0, inside ``torch.random.fork_rng``, so the caller's random state is untouched) before every call, so
that the same input gives the same output, which the oracle requires.
"""

from __future__ import annotations

from lineage.oracle.conventions.base import Convention, TargetCall
from lineage.oracle.numerics import Numerics


class SB3Contrib(Convention):
    name = "sb3-contrib"
    summary = "sb3-contrib conjugate_gradient_solver: torch, random x_0 (seeded per call), max_iter/residual_tol"
    numerics = Numerics("torch", "float32")
    signatures = {
        "conjugate_gradient": "conjugate_gradient_solver(matrix_vector_dot_fn, b, max_iter, residual_tol) -> x"
    }
    imports = ("torch",)

    def calls(self, contract, arrays, params):
        args = [("matrix_vector_dot_fn", arrays["matvec"]), ("b", arrays["b"])]
        return [TargetCall(args, {"max_iter": params["iters"], "residual_tol": params["tol"]})]

    def execute(self, function, args, kwargs):
        import torch

        with torch.random.fork_rng():
            torch.manual_seed(0)
            return function(*(value for _, value in args), **kwargs)

    def render(self, label, call, numerics):
        return ["torch.manual_seed(0)  # the solver starts from a random x_0", *super().render(label, call, numerics)]
