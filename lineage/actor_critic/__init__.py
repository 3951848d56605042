"""One-step actor-critic: the semi-gradient TD(0) critic and the TD-error actor step (notes §TD, §AC), under the
array rule of :mod:`lineage.arrays`; the expected synchronous tabular TD(0) step for exact runs on a
:class:`~lineage.tabular.TabularMDP`."""

from lineage.actor_critic.actor import actor_direction, actor_update
from lineage.actor_critic.critic import critic_loss_gradient, critic_update, expected_td_steps, linear_critic_update

__all__ = [
    "actor_direction",
    "actor_update",
    "critic_loss_gradient",
    "critic_update",
    "expected_td_steps",
    "linear_critic_update",
]
