"""The InstructGPT objective, PPO-ptx (Ouyang et al. 2022, eq. 2; claim STD-RLHF-6; notes §PPO, RLHF part):

    objective(φ) = E_{(x,y)~π_φ}[r(x, y) − β·log(π_φ(y|x)/π_SFT(y|x))] + γ_ptx·E_{x~D_pretrain}[log π_φ(x)]

The first term is the KL-regularised reward, the expected sum of :func:`~lineage.rlhf.token_rewards` (STD-RLHF-2);
PPO maximises it through the clipped surrogate. The second is the log-likelihood of pretraining text, mixed in so
the policy keeps its language-modelling ability. For a pretraining distribution D,

    E_{x~D}[log π(x)] = −H(D) − KL(D ‖ π)

so the term is at most −H(D), reached only at π = D: it pulls the policy towards D with the forward KL, where the
RLHF penalty pulls it towards π_SFT with the reverse one.

log π(x) = Σ_t log π(x_t | x_<t) is summed over the valid tokens of a sequence and averaged over the batch; a
per-token mean (the usual language-modelling loss) is this divided by the sequence lengths.
"""

from __future__ import annotations

import torch

from lineage._validation import check_real
from lineage.ppo._tensors import as_tensor


def pretraining_log_likelihood(token_logp, mask) -> torch.Tensor:
    """The batch estimate of E_{x~D}[log π(x)]: the mean over sequences of Σ_t log π(x_t | x_<t) on the valid
    tokens. ``token_logp`` ``[B, T]`` (differentiable), ``mask`` a bool ``[B, T]`` marking the valid tokens."""
    return _mean_sequence_log_prob(("token_logp", token_logp), ("mask", mask))


def ppo_ptx_loss(rl_loss, pretrain_token_logp, pretrain_mask, *, ptx_coef: float) -> torch.Tensor:
    """rl_loss − γ_ptx·E_D[log π(x)]: the loss whose descent maximises the PPO-ptx objective, with ``rl_loss`` the
    scalar PPO loss of the RL batch (e.g. :func:`~lineage.ppo.ppo_clip_loss`), the pretraining batch's token
    log-probabilities and mask as in :func:`pretraining_log_likelihood`, and γ_ptx ≥ 0."""
    ptx_coef = check_real("ptx_coef", ptx_coef, minimum=0.0)
    loss = as_tensor("rl_loss", rl_loss)
    if loss.ndim != 0:
        raise ValueError(f"rl_loss: expected a scalar loss, got shape {tuple(loss.shape)}")
    pretraining = _mean_sequence_log_prob(
        ("pretrain_token_logp", pretrain_token_logp), ("pretrain_mask", pretrain_mask)
    )
    return loss - ptx_coef * pretraining


def _mean_sequence_log_prob(named_logp: tuple[str, object], named_mask: tuple[str, object]) -> torch.Tensor:
    (logp_name, token_logp), (mask_name, mask) = named_logp, named_mask
    logp = as_tensor(logp_name, token_logp)
    if logp.ndim != 2 or 0 in logp.shape:
        raise ValueError(f"{logp_name}: expected shape [B, T] (sequences, tokens), B, T >= 1, got {tuple(logp.shape)}")
    valid = torch.as_tensor(mask, device=logp.device)
    if valid.dtype != torch.bool:
        raise ValueError(f"{mask_name}: expected bool flags (True on valid tokens), got dtype {valid.dtype}")
    if valid.shape != logp.shape:
        raise ValueError(f"{mask_name}: expected shape {tuple(logp.shape)} like {logp_name}, got {tuple(valid.shape)}")
    return torch.where(valid, logp, torch.zeros_like(logp)).sum(dim=1).mean()
