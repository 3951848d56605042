"""The pretraining term of InstructGPT's PPO-ptx objective."""

from __future__ import annotations

import math

from lineage._validation import check_real, check_same_shape
from lineage.arrays import backend_of


def pretraining_log_likelihood(token_logp, mask):
    """The batch estimate of E_{x~D}[log π(x)], the log-likelihood of pretraining text under the policy.

        (1/B) Σ_b Σ_t mask[b, t] · log π(x_{b,t} | x_{b,<t})

    the log-likelihood of whole sequences (summed over their valid tokens) averaged over the batch; a per-token
    mean, the usual language-modelling loss, is this divided by the sequence lengths. For a pretraining
    distribution D, E_{x~D}[log π(x)] = −H(D) − KL(D ‖ π): at most −H(D), reached only at π = D, so the term
    pulls the policy towards D with the forward KL (Ouyang et al. 2022 "Training language models to follow
    instructions with human feedback", eq. 2).

    Derivative: ∂/∂token_logp[b, t] = mask[b, t] / B.

    Claim STD-RLHF-6; notes §PPO (RLHF part).

    Args:
        token_logp: log π(x_t | x_<t), shape ``[batch, tokens]``.
        mask: bool, same shape; True on the valid tokens.

    Returns:
        The estimate, a 0-d array; numpy or torch with the input's float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``token_logp``.
    """
    backend = backend_of(token_logp, mask)
    return backend.scalar(_mean_sequence_log_prob(backend, ("token_logp", token_logp), ("mask", mask)))


def ppo_ptx_loss(rl_loss, pretrain_token_logp, pretrain_mask, *, ptx_coef: float):
    """The loss whose descent maximises InstructGPT's PPO-ptx objective.

        objective(φ) = E_{(x,y)~π_φ}[r(x, y) − β log(π_φ(y|x)/π_SFT(y|x))] + γ_ptx E_{x~D_pretrain}[log π_φ(x)]
        ppo_ptx_loss = rl_loss − γ_ptx · (1/B) Σ_b Σ_t mask[b, t] log π(x_{b,t} | x_{b,<t})

    The first term of the objective is the KL-regularised reward, the expected sum of
    :func:`~lineage.rlhf.token_rewards`, which PPO maximises through ``rl_loss``; the second is
    :func:`pretraining_log_likelihood`, mixed in so that the policy keeps its language-modelling ability. It pulls
    towards the pretraining distribution with the forward KL, where the RLHF penalty pulls towards π_SFT with the
    reverse one (Ouyang et al. 2022 "Training language models to follow instructions with human feedback", eq. 2).

    Derivative: ∂loss/∂rl_loss = 1, ∂loss/∂pretrain_token_logp[b, t] = −γ_ptx mask[b, t] / B.

    Claims STD-RLHF-6, STD-RLHF-2; notes §PPO (RLHF part).

    Args:
        rl_loss: the scalar PPO loss of the RL batch (e.g. :func:`~lineage.ppo.ppo_clip_loss`).
        pretrain_token_logp: log π(x_t | x_<t) of the pretraining batch, shape ``[batch, tokens]``.
        pretrain_mask: bool, same shape; True on the valid tokens.
        ptx_coef: γ_ptx ≥ 0.

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``rl_loss`` and ``pretrain_token_logp``.
    """
    ptx_coef = check_real("ptx_coef", ptx_coef, minimum=0.0)
    backend = backend_of(rl_loss, pretrain_token_logp, pretrain_mask)
    (loss,) = backend.floats(rl_loss=rl_loss)
    if loss.ndim != 0:
        raise ValueError(f"rl_loss: expected a scalar loss, got shape {tuple(loss.shape)}")
    pretraining = _mean_sequence_log_prob(
        backend, ("pretrain_token_logp", pretrain_token_logp), ("pretrain_mask", pretrain_mask)
    )
    return backend.scalar(loss - ptx_coef * pretraining)


def _mean_sequence_log_prob(backend, named_logp: tuple[str, object], named_mask: tuple[str, object]):
    (logp_name, token_logp), (mask_name, mask) = named_logp, named_mask
    (logp,) = backend.floats(**{logp_name: token_logp})
    if logp.ndim != 2 or math.prod(logp.shape) == 0:
        raise ValueError(f"{logp_name}: expected shape [B, T] (sequences, tokens), B, T >= 1, got {tuple(logp.shape)}")
    (valid,) = backend.flags(**{mask_name: mask})
    check_same_shape(logp_name, logp, **{mask_name: valid})
    return backend.xp.where(valid, logp, backend.xp.zeros_like(logp)).sum(axis=1).mean()
