"""The Bradley–Terry loss a reward model of RLHF is trained with, from pairs of responses labelled by preference."""

from __future__ import annotations

from lineage.arrays import per_sample_floats


def bradley_terry_loss(chosen_scores, rejected_scores):
    """The reward model's loss on preference pairs, the mean negative log-likelihood of the Bradley–Terry model.

        loss = −(1/N) Σ_i log σ(r_w,i − r_l,i) = (1/N) Σ_i log(1 + e^{−Δ_i}),   Δ_i = r_w,i − r_l,i

    with r_w,i = r_φ(x_i, y_w,i) the score of the preferred ("chosen") response of pair i and r_l,i that of the other
    one, under P(y_w ≻ y_l | x) = σ(r(x, y_w) − r(x, y_l)) (Bradley & Terry 1952; Christiano et al. 2017 "Deep
    Reinforcement Learning from Human Preferences", eq. 1; Ziegler et al. 2019 "Fine-Tuning Language Models from
    Human Preferences", §2.1 with two responses; Ouyang et al. 2022 "Training language models to follow
    instructions with human feedback", eq. 1). Computed as log(1 + e^{−Δ}) = logaddexp(0, −Δ), finite for any
    finite Δ (1000 and −1000 give 0 and 1000; Δ = 0 gives log 2). Only differences enter: adding one constant to
    both scores of a pair leaves its term unchanged, so the learned r_φ is defined up to a constant per prompt,
    which the optimum π* ∝ π_ref·e^{r/β} of RLHF does not see (claim STD-RLHF-3). Swapping the labels of a pair
    changes its term by Δ, and e^{−ℓ(a, b)} + e^{−ℓ(b, a)} = σ(Δ) + σ(−Δ) = 1.

    Derivative: ∂loss/∂r_w,i = −σ(−Δ_i)/N and ∂loss/∂r_l,i = +σ(−Δ_i)/N.

    Claims PPO-2, RLHF-1, STD-RLHF-3; notes §PPO (RLHF part: the reward model).

    Args:
        chosen_scores: r_φ of the preferred response of each pair, shape ``[N]`` (or any shape, one entry per
            pair).
        rejected_scores: r_φ of the other response, same shape.

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in both arguments; exact SymPy for a symbolic call.
    """
    backend, (chosen, rejected) = per_sample_floats(chosen_scores=chosen_scores, rejected_scores=rejected_scores)
    xp, margin = backend.xp, chosen - rejected
    # log(1 + e^{−Δ}): exactly in a symbolic call, else as logaddexp(0, −Δ), which cannot overflow
    symbolic = backend.is_symbolic
    terms = xp.log(1 + xp.exp(-margin)) if symbolic else xp.logaddexp(xp.zeros_like(margin), -margin)
    return backend.scalar(terms.mean())
