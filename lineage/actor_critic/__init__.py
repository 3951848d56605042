"""Actor-Critic building blocks (notes §AC, §TD)."""

from lineage.actor_critic.td_error import td_errors

__all__ = ["td_errors"]
