"""RLHF-PPO: per-token KL-penalised rewards, whitening and the proportional KL controller (notes §PPO, RLHF part)."""
