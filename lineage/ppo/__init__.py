"""PPO: clipped and penalised surrogates, value clipping, KL estimators and the adaptive KL coefficient (notes §PPO),
under the array rule of :mod:`lineage.arrays`."""

from lineage.ppo.advantage_normalization import normalize_advantages
from lineage.ppo.clip import clip_fraction, clipped_surrogate, ppo_clip_loss, probability_ratio
from lineage.ppo.entropy import categorical_entropy, combined_loss
from lineage.ppo.gaussian import diagonal_gaussian_entropy, diagonal_gaussian_kl
from lineage.ppo.kl_estimators import kl_k1, kl_k2, kl_k3
from lineage.ppo.penalty import (
    adapt_kl_coef,
    categorical_kl,
    penalized_surrogate,
    penalized_surrogate_from_kl,
    ppo_penalty_loss,
    ppo_penalty_loss_from_kl,
)
from lineage.ppo.value_loss import clip_value, value_loss

__all__ = [
    "adapt_kl_coef",
    "categorical_entropy",
    "categorical_kl",
    "clip_fraction",
    "clip_value",
    "clipped_surrogate",
    "combined_loss",
    "diagonal_gaussian_entropy",
    "diagonal_gaussian_kl",
    "kl_k1",
    "kl_k2",
    "kl_k3",
    "normalize_advantages",
    "penalized_surrogate",
    "penalized_surrogate_from_kl",
    "ppo_clip_loss",
    "ppo_penalty_loss",
    "ppo_penalty_loss_from_kl",
    "probability_ratio",
    "value_loss",
]
