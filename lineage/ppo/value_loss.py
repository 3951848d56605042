"""Value clipping of the PPO critic loss."""

from __future__ import annotations

from lineage._validation import check_real
from lineage.arrays import per_sample_floats

VARIANTS = ("max", "clipped", "unclipped")


def clip_value(values_new, values_old, *, clip_eps: float):
    """The new value predictions clipped to a band around the old ones.

        V_clip = clip(V_new, V_old − ε, V_old + ε)

    which is V_new itself inside the band; OpenAI baselines' form V_old + clip(V_new − V_old, −ε, ε) agrees with it
    up to rounding. The notes print the clip with its bounds swapped, clip(V_new, V_old + ε, V_old − ε): with
    clip(x, l, r) = max(min(x, r), l) and l > r that is the constant V_old + ε, whatever V_new is. ε is in the
    units of the values, so any ε > 0 is allowed (OpenAI baselines ppo2; not in Schulman et al. 2017 "Proximal
    Policy Optimization Algorithms").

    Derivative: ∂V_clip/∂V_new = 1 inside the closed band, 0 outside.

    Claims PPO-17, STD-PPO-5; notes §PPO (value clipping).

    Args:
        values_new: V_new(s_i), shape ``[N]``.
        values_old: V_old(s_i) of the rollout, same shape.
        clip_eps: ε > 0 (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        V_clip, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``values_new``.
    """
    backend, (v, v_old) = per_sample_floats(values_new=values_new, values_old=values_old)
    clip_eps = check_real("clip_eps", clip_eps, minimum=0.0, inclusive=False, symbolic=backend.is_symbolic)
    return backend.xp.clip(v, v_old - clip_eps, v_old + clip_eps)


def value_loss(values_new, values_old, returns, *, clip_eps: float | None = None, variant: str = "max"):
    """The critic loss of PPO (a scalar to minimise), in one of three forms.

        "max"        L^VF = ½ (1/N) Σ_i max((V_new,i − R_i)², (V_clip,i − R_i)²)  (OpenAI baselines ppo2, CleanRL, TRL)
        "clipped"    L^VF = (1/N) Σ_i (V_clip,i − R_i)²                          (Stable-Baselines3, ``clip_range_vf``)
        "unclipped"  L^VF = ½ (1/N) Σ_i (V_new,i − R_i)²                          (the paper's squared error, ×½)

    with V_clip from :func:`clip_value` and R_i the return target (e.g. :func:`~lineage.returns.lambda_returns`).
    The PPO paper's L^VF is the unclipped squared error (Schulman et al. 2017 "Proximal Policy Optimization
    Algorithms", eq. 9; "unclipped" halves it like CleanRL, so that its gradient is the error); the clipped forms are
    the implementations' (Engstrom et al. 2020 "Implementation Matters in Deep Policy Gradients" and Andrychowicz
    et al. 2021 "What Matters in On-Policy Reinforcement Learning?" study them). The notes leave out how V_clip
    enters the loss. The "max" form is pessimistic, L^VF ≥ ½ (1/N) Σ (V_new − R)², and on a tie of the two errors
    takes the unclipped branch.

    Derivative in V_new,i: "max": 0 where the clipped error is strictly the larger (which needs
    |V_new − V_old| > ε), (V_new,i − R_i)/N otherwise; "clipped": 2(V_new,i − R_i)/N inside the closed band, 0
    outside; "unclipped": (V_new,i − R_i)/N.

    Claims PPO-17, STD-PPO-5; notes §PPO (value clipping).

    Args:
        values_new: V_new(s_i), shape ``[N]``.
        values_old: V_old(s_i) of the rollout, same shape.
        returns: R_i, same shape.
        clip_eps: ε > 0, in the units of the values (the libraries disagree on a default, so there is none);
            required by the clipped forms, and must be None for ``"unclipped"`` (which ignores ``values_old`` apart
            from checking its shape, so that switching the form is one argument).
        variant: ``"max"`` (default), ``"clipped"`` or ``"unclipped"``.

    Returns:
        L^VF, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``values_new``; ``values_old`` and ``returns`` are constants (no gradient).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, got {variant!r}")
    if (variant == "unclipped") != (clip_eps is None):
        wanted = (
            "None for the unclipped variant" if variant == "unclipped" else f"a number > 0 for the {variant!r} variant"
        )
        raise ValueError(f"clip_eps: expected {wanted}, got {clip_eps!r}")
    backend, (v, v_old, r) = per_sample_floats(values_new=values_new, values_old=values_old, returns=returns)
    v_old, r = backend.no_gradient(v_old), backend.no_gradient(r)  # constants of the loss (claim PPO-13)
    if variant == "unclipped":
        return backend.scalar(((v - r) ** 2).mean() / 2)
    clipped = (clip_value(v, v_old, clip_eps=clip_eps) - r) ** 2
    if variant == "clipped":
        return backend.scalar(clipped.mean())
    unclipped = (v - r) ** 2
    return backend.scalar(backend.xp.where(clipped > unclipped, clipped, unclipped).mean() / 2)
