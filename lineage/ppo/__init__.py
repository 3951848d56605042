"""PPO: clipped and penalised surrogates, value clipping, KL estimators and the adaptive KL coefficient (notes §PPO)."""
