"""The closed-form optimum of the KL-regularised RLHF objective over an enumerated response space."""

from __future__ import annotations

import numpy as np

from lineage._validation import as_float_array, check_real
from lineage.rlhf.sequences import AutoregressivePolicy


def kl_regularized_optimum(reference: AutoregressivePolicy, scores, *, beta: float) -> AutoregressivePolicy:
    """The policy that maximises E_{y~π}[score(y)] − β·KL(π ‖ π_ref), in closed form.

        π*(y) = π_ref(y) e^{score(y)/β} / Z,    Z = Σ_y π_ref(y) e^{score(y)/β}
        J(π*) = β log Z,    J(π) = J(π*) − β·KL(π ‖ π*) for every π

    (Gibbs variational principle; Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences", §2
    for the objective; Rafailov et al. 2023 "Direct Preference Optimization", eq. 4 for this solution). The second
    line makes KL(π ‖ π*) the exact shortfall of a policy, in units of β: what RLHF-PPO with a fixed β converges to
    is measured by it. Adding one constant to every score leaves π* unchanged (it cancels in Z), so a reward model
    trained with the Bradley–Terry loss, defined up to such a constant, fixes π* all the same. Computed in float64
    from log π_ref(y) + score(y)/β shifted by its maximum; π* is returned as next-token tables
    (:meth:`AutoregressivePolicy.from_sequence_probs`).

    Claims STD-RLHF-3, STD-RLHF-2; notes §PPO (RLHF part).

    Args:
        reference: π_ref over V^L responses.
        scores: score(y) of every response in the order of :func:`~lineage.rlhf.all_sequences`, finite, shape
            ``[V^L]``.
        beta: β > 0.

    Returns:
        π*, an :class:`~lineage.rlhf.AutoregressivePolicy` over the same responses (numpy: an exact oracle, no
        torch path). Raises ``ValueError`` naming ``beta`` if some π*(y) underflows to 0 (spread of score/β beyond
        float64's range).
    """
    beta = check_real("beta", beta, minimum=0.0, inclusive=False)
    score = as_float_array("scores", scores)
    count = len(reference.sequences)
    if score.shape != (count,):
        raise ValueError(f"scores: expected shape ({count},), one per response, got {score.shape}")
    logits = np.log(reference.sequence_probs()) + score / beta
    weights = np.exp(logits - logits.max())
    if np.any(weights == 0.0):
        raise ValueError(f"beta: score/β spans more than float64 can hold (π*(y) underflows to 0) at β = {beta}")
    return AutoregressivePolicy.from_sequence_probs(weights / weights.sum(), reference.vocab_size, reference.length)
