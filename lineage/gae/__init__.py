"""Generalized advantage estimation and its relatives (notes §GAE, §PPO)."""

from lineage.gae.gae import gae
from lineage.gae.lambda_returns import lambda_returns
from lineage.gae.n_step import n_step_advantages

__all__ = ["gae", "lambda_returns", "n_step_advantages"]
