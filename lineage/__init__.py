"""lineage: the policy-gradient lineage, checked.

The return and advantage functions below follow the canonical rollout-segment contract of
:mod:`lineage.segment`; the exact tabular toolkit lives in :mod:`lineage.tabular`.
"""

from lineage.actor_critic import td_errors
from lineage.gae import gae, lambda_returns, n_step_advantages
from lineage.reinforce import discounted_returns

__all__ = ["discounted_returns", "gae", "lambda_returns", "n_step_advantages", "td_errors"]
__version__ = "0.1.0"
