"""TRPO's optimisation pieces (notes §TRPO; Schulman et al. 2015, Appendix C): the conjugate-gradient solver, the
Fisher-vector product of the mean KL (closed form for a linear softmax policy; by double backward, the Hessian-vector
product, for any differentiable policy), the natural step scaled to the trust region and the backtracking line search
(claims STD-CG-1, STD-NG-1, STD-NG-2, TRPO-13). The exact tabular Fisher matrix and natural policy gradient live
in :mod:`lineage.tabular`."""

from lineage.optim.conjugate_gradient import conjugate_gradient
from lineage.optim.fisher import fisher_vector_product
from lineage.optim.hessian_vector import hessian_vector_product
from lineage.optim.line_search import trpo_line_search
from lineage.optim.natural import natural_step

__all__ = ["conjugate_gradient", "fisher_vector_product", "hessian_vector_product", "natural_step", "trpo_line_search"]
