"""Ziegler et al.'s adaptive KL coefficient for RLHF: a proportional controller of β."""

from __future__ import annotations

from lineage._validation import check_positive_int, check_real

ERROR_CLIP = 0.2  # the proportional error is clipped to [−0.2, 0.2]


def proportional_kl_coef(beta: float, kl: float, *, kl_target: float, n_steps: int, horizon: int) -> float:
    """The next KL coefficient β of RLHF after measuring the KL, by a proportional controller.

        e = clip(KL / KL_target − 1, −0.2, 0.2),    β ← β · (1 + e · n_steps / horizon)

    β rises iff KL > KL_target; one update scales β by a factor within 1 ± 0.2·n_steps/horizon, and β stays
    positive because that factor is kept positive (n_steps/horizon < 5 is required). As in
    openai/lm-human-preferences and TRL's ``AdaptiveKLController`` (Ziegler et al. 2019 "Fine-Tuning Language
    Models from Human Preferences", §2.2); there the KL is the batch mean of each response's summed per-token
    log π − log π_ref (k1), which may be negative. This is not PPO's ×2 / ÷2 rule for PPO-penalty (see
    :func:`~lineage.ppo.adapt_kl_coef`).

    Claims STD-RLHF-4, STD-PPO-1; notes §PPO (RLHF part).

    Args:
        beta: the current β > 0.
        kl: the measured KL, any finite number.
        kl_target: KL_target > 0.
        n_steps: the samples the KL was measured over, ≥ 1.
        horizon: the controller's horizon, ≥ 1, with n_steps/horizon < 5.

    Returns:
        The next β, a Python float.
    """
    beta = check_real("beta", beta, minimum=0.0, inclusive=False)
    kl = check_real("kl", kl)
    kl_target = check_real("kl_target", kl_target, minimum=0.0, inclusive=False)
    gain = _gain(n_steps, horizon)
    error = min(max(kl / kl_target - 1.0, -ERROR_CLIP), ERROR_CLIP)
    return beta * (1.0 + error * gain)


def _gain(n_steps: int, horizon: int) -> float:
    """K_β = n_steps / horizon, below 1/0.2 so that the factor 1 − 0.2·K_β stays positive."""
    n_steps = check_positive_int("n_steps", n_steps)
    horizon = check_positive_int("horizon", horizon)
    gain = n_steps / horizon
    if 1.0 - ERROR_CLIP * gain <= 0.0:
        raise ValueError(
            f"n_steps: n_steps/horizon = {n_steps}/{horizon} must stay below {1 / ERROR_CLIP:g}, "
            f"else one update can scale β by 1 − {ERROR_CLIP}·n_steps/horizon <= 0"
        )
    return gain


class AdaptiveKLController:
    """Ziegler et al.'s adaptive KL controller as a stateful object: ``value`` is the current β.

        β ← β · (1 + clip(KL / target − 1, −0.2, 0.2) · n_steps / horizon)      at every :meth:`update`

    (Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences", §2.2; the interface of TRL's
    ``AdaptiveKLController``.)

    Claim STD-RLHF-4; notes §PPO (RLHF part).

    Args:
        init_kl_coef: the initial β > 0.
        target: KL_target > 0.
        horizon: ≥ 1.

    Returns:
        The controller; :meth:`update` returns the new β as a Python float.
    """

    def __init__(self, init_kl_coef: float, target: float, horizon: int):
        self.value = check_real("init_kl_coef", init_kl_coef, minimum=0.0, inclusive=False)
        self.target = check_real("target", target, minimum=0.0, inclusive=False)
        self.horizon = check_positive_int("horizon", horizon)

    def update(self, current: float, n_steps: int) -> float:
        """β ← :func:`proportional_kl_coef`(β, current, n_steps=n_steps, …); returns the new β (a Python float)."""
        self.value = proportional_kl_coef(
            self.value, current, kl_target=self.target, n_steps=n_steps, horizon=self.horizon
        )
        return self.value
