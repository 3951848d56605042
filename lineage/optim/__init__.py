"""Optimisation steps of the lineage (notes §TRPO): where TRPO's conjugate gradient, Fisher-vector product and
backtracking line search belong. Nothing is implemented here yet; the theory issue adds them with their claims
(STD-CG-1, STD-TRPO-1..4)."""
