"""Laws of the KL contracts: the per-sample estimators k1, k2, k3 of KL(old ‖ new) on samples from the old
policy (Schulman 2020; STD-KL-1, STD-KL-2) and the PPO paper's adaptive coefficient (notes §PPO;
PPO-3, STD-PPO-1). Expectations are exact: every outcome of a small categorical distribution is one sample,
weighted by its probability under the old policy.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lineage.laws import exact
from lineage.laws.cases.losses import (
    DIRECTION,
    KLCoefCase,
    KLSamples,
    TwoDistributions,
    distribution_pairs,
    kl_coef_cases,
    kl_samples,
    measured_kls,
)
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import scaled_tolerance

# TC-19-like direction check: old = (0.5, 0.5), new = (0.9, 0.1): KL(old‖new) = 0.511, KL(new‖old) = 0.368.


def kl_laws(estimator: str) -> None:
    contract = CONTRACTS[f"kl_{estimator}"]

    @law(contract.name, claims=("STD-KL-1",), section="§PPO (KL penalty)", cases=kl_samples())
    def per_sample_formula(target, case: KLSamples):
        got, eps = call(contract, target, case)
        a = case.inputs()
        log_ratio = np.abs(a["logp_new"] - a["logp_old"])
        magnitude = np.exp(log_ratio) + log_ratio**2 + 1  # bounds r, |log r|, ½(log r)² and 1 term by term
        expect_close(
            f"{estimator} per sample", got, exact.kl_estimator(estimator)(case), scaled_tolerance(eps, magnitude, 2)
        )

    per_sample_formula.__doc__ = {
        "k1": "k1 = −log r per sample, r = π_new(x)/π_old(x), x drawn from the old policy.",
        "k2": "k2 = ½(log r)² per sample, r = π_new(x)/π_old(x), x drawn from the old policy.",
        "k3": "k3 = (r − 1) − log r per sample, r = π_new(x)/π_old(x), x drawn from the old policy.",
    }[estimator]

    if estimator == "k2":
        return

    @law(
        contract.name,
        claims=("STD-KL-1", "STD-KL-2"),
        section="§PPO (KL penalty)",
        cases=distribution_pairs(),
        examples=(DIRECTION,),
    )
    def unbiased_for_kl_old_new(target, pair: TwoDistributions):
        """Averaged under the old policy the estimates equal KL(old ‖ new) = Σ old·log(old/new) exactly — the
        direction PPO-penalty uses; KL(new ‖ old) or a flipped sign give another number."""
        got, eps = call(contract, target, pair.samples())
        mean = float(np.dot(pair.old, got))
        log_ratio = float(np.max(np.abs(np.log(pair.new) - np.log(pair.old))))
        atol = scaled_tolerance(eps, np.exp(log_ratio) + log_ratio + 1, len(pair.old))
        expect_close(
            f"E_old[{estimator}] vs KL(old ‖ new)", np.array([mean]), np.array([pair.kl_old_new()]), np.array([atol])
        )


for _estimator in ("k1", "k2", "k3"):
    kl_laws(_estimator)


# Two correct implementations of the rule may compare at a threshold differently: ``kl > 1.5 * kl_target`` and
# ``kl / kl_target > 1.5`` (or ``kl < kl_target / 1.5`` and ``kl * 1.5 < kl_target``) each round one product or
# quotient, so their verdicts can differ for a KL within a rounding or two of the threshold, ≤ eps·threshold apart
# (eps of the target's dtype; ½ ulp per rounding). Within TIE_ROUNDINGS·eps·threshold of a threshold the law accepts
# the outcome of either side; a threshold or a factor that is wrong by more than rounding still fails.
TIE_ROUNDINGS = 4.0


def allowed_coefficients(case: KLCoefCase, eps: float) -> list[float]:
    """The new β the paper's rule gives, and at a KL tied with a threshold (within rounding) the neighbouring outcome
    as well: β/2 or β at d_targ/1.5, β or 2β at 1.5·d_targ."""
    allowed = [float(exact.adapt_kl_coef(case))]
    for threshold, sides in ((case.kl_target / 1.5, (0.5, 1.0)), (1.5 * case.kl_target, (1.0, 2.0))):
        if abs(case.kl - threshold) <= TIE_ROUNDINGS * eps * threshold:
            allowed += [case.beta * factor for factor in sides]
    return sorted(set(allowed))


@law("adapt_kl_coef", claims=("STD-PPO-1", "PPO-3"), section="§PPO (PPO-penalty)", cases=kl_coef_cases())
def paper_rule(target, case: KLCoefCase):
    """β ← β/2 if d < d_targ/1.5, β ← 2β if d > 1.5·d_targ, β unchanged in between (PPO paper, §4). A KL exactly at a
    threshold (within the rounding of the comparison) may go either way: ``d > 1.5·d_targ`` and ``d/d_targ > 1.5`` are
    both the rule."""
    got, eps = call(CONTRACTS["adapt_kl_coef"], target, case)
    atol = scaled_tolerance(eps, 2 * case.beta, 1)
    allowed = allowed_coefficients(case, eps)
    nearest = min(allowed, key=lambda beta: abs(beta - float(got)))
    what = "new β" if len(allowed) == 1 else f"new β (KL at a threshold: any of {allowed} accepted)"
    expect_close(what, np.reshape(got, 1), np.reshape(nearest, 1), np.array([atol]))


@st.composite
def kl_coef_pairs(draw) -> tuple[KLCoefCase, KLCoefCase]:
    case = draw(kl_coef_cases())
    other = draw(measured_kls(case.kl_target))
    return case, KLCoefCase(case.beta, other, case.kl_target)


@law(
    "adapt_kl_coef",
    claims=("PPO-3",),
    section="§PPO (PPO-penalty)",
    cases=kl_coef_pairs(),
)
def monotone_in_the_measured_kl(target, pair: tuple[KLCoefCase, KLCoefCase]):
    """A larger measured KL never gives a smaller coefficient: the penalty grows when the policy moves too far
    and shrinks when it barely moves (the notes' "shortcut" rationale aside, this direction is right)."""
    low, high = sorted(pair, key=lambda c: c.kl)
    got_low, eps = call(CONTRACTS["adapt_kl_coef"], target, low)
    got_high, _ = call(CONTRACTS["adapt_kl_coef"], target, high)
    if float(got_low) > float(got_high) + scaled_tolerance(eps, 2 * low.beta, 1):
        expect_close(
            f"β after KL {low.kl!r} vs after KL {high.kl!r}",
            np.reshape(got_high, 1),
            np.reshape(got_low, 1),
            np.array([0.0]),
        )
