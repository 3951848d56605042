"""lineage: the policy-gradient lineage, checked.

Building blocks by topic: :mod:`lineage.returns` (returns and advantages over the rollout-segment contract),
:mod:`lineage.pg` (score functions, REINFORCE estimators, baselines, importance sampling), :mod:`lineage.ppo` (PPO
losses, KL estimators, advantage normalisation), :mod:`lineage.rlhf` (per-token rewards, whitening, KL control),
:mod:`lineage.actor_critic` (the one-step actor-critic: semi-gradient TD(0) critic, TD-error actor step),
:mod:`lineage.tabular` (exact small-MDP toolkit), :mod:`lineage.optim` (optimisation steps). Then the laws engine
(:mod:`lineage.laws`), the oracle (:mod:`lineage.oracle`), the bug zoo (:mod:`lineage.bugzoo`) and the training
algorithms (:mod:`lineage.algorithms`).
"""

from lineage.returns import discounted_returns, gae, lambda_returns, n_step_advantages, td_errors

__all__ = ["discounted_returns", "gae", "lambda_returns", "n_step_advantages", "td_errors"]
__version__ = "0.1.0"
