"""RLHF-PPO: the reward model's Bradley–Terry loss, per-token KL-penalised rewards, the closed-form optimum
π* ∝ π_ref·e^{r/β}, whitening, the proportional KL controller and the PPO-ptx pretraining term (notes §PPO, RLHF
part); the array functions follow the array rule of :mod:`lineage.arrays`."""

from lineage.rlhf.kl_controller import AdaptiveKLController, proportional_kl_coef
from lineage.rlhf.optimum import kl_regularized_optimum
from lineage.rlhf.ptx import ppo_ptx_loss, pretraining_log_likelihood
from lineage.rlhf.reward_model import bradley_terry_loss
from lineage.rlhf.rewards import token_rewards
from lineage.rlhf.sequences import AutoregressivePolicy, all_sequences, sequence_kl, token_kls
from lineage.rlhf.whiten import whiten

__all__ = [
    "AdaptiveKLController",
    "AutoregressivePolicy",
    "all_sequences",
    "bradley_terry_loss",
    "kl_regularized_optimum",
    "ppo_ptx_loss",
    "pretraining_log_likelihood",
    "proportional_kl_coef",
    "sequence_kl",
    "token_kls",
    "token_rewards",
    "whiten",
]
