"""REINFORCE building blocks (notes §PG)."""

from lineage.reinforce.returns import discounted_returns

__all__ = ["discounted_returns"]
