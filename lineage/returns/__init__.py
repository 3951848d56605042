"""Returns and advantages on a rollout segment (notes §PG, §TD, §GAE, §PPO): TD errors, discounted returns,
k-step advantages, GAE and λ-returns, all over the rollout-segment contract of :mod:`lineage.returns.segment`
and the array rule of :mod:`lineage.arrays`."""

from lineage.returns.discounted import discounted_returns
from lineage.returns.gae import gae
from lineage.returns.lambda_returns import lambda_returns
from lineage.returns.n_step import n_step_advantages
from lineage.returns.td import td_errors

__all__ = ["discounted_returns", "gae", "lambda_returns", "n_step_advantages", "td_errors"]
