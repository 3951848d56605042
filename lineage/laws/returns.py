"""Laws of the return and advantage contracts (notes §GAE, §PPO).

Each law is a statement about a target function with the signature of its contract in
:mod:`lineage.laws.contracts`. Most need no reference implementation: the λ = 0 and λ = 1
limits, the recursions checked on the target's own output, linearity, independence of what lies
beyond an episode end, time-shift consistency, how the final observation's value enters. The
differential laws compare with the exact-rational tier of :mod:`lineage.laws.exact`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lineage.laws import exact
from lineage.laws.cases.segments import (
    CombinedCase,
    Segment,
    SegmentCase,
    ShiftedFinalValue,
    SplitCase,
    contract_cases,
    magnitudes,
    next_values,
    segment_cases,
    segments,
)
from lineage.laws.contracts import CONTRACTS, Contract, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import rounding_tolerance


def carry(contract: str, case: SegmentCase) -> float:
    """The factor by which step t + 1 enters step t: 0 (δ), γ (returns, n-step), γλ (GAE, λ-returns)."""
    return {
        "td_errors": 0.0,
        "gae": case.gamma * (case.lam or 0.0),
        "lambda_returns": case.gamma * (case.lam or 0.0),
    }.get(contract, case.gamma)


def tolerance(contract: str, case: SegmentCase, eps: float) -> np.ndarray:
    return rounding_tolerance(case.segment, case.gamma, carry(contract, case), eps)


def self_comparison_tolerance(case: SegmentCase, eps: float) -> np.ndarray:
    """atol_t for laws that compare the target with itself (linearity, batch columns, splits, flags): the rounding
    of any backward recursion whose factors are at most 1 — every contract's are (0, γ, γλ). The target is held to
    its own arithmetic, not to the contract's: a target that carries more than the contract (GAE with λ dropped
    carries γ, not γλ) rounds with what it carries, and these laws must not fail it for that."""
    return rounding_tolerance(case.segment, case.gamma, 1.0, eps)


def expect_target_output(contract: str, target, case: SegmentCase, expected: np.ndarray, what: str) -> None:
    """Call ``target`` on ``case`` and compare with the exact ``expected`` within the rounding allowance."""
    got, eps = call(CONTRACTS[contract], target, case)
    expect_close(what, got, expected, tolerance(contract, case, eps))


def following_step(outputs: np.ndarray) -> np.ndarray:
    """outputs[t + 1] at every t, 0 after the last step."""
    shifted = np.zeros_like(outputs)
    shifted[:-1] = outputs[1:]
    return shifted


def cases_for(contract: str, **segment_options) -> st.SearchStrategy[SegmentCase]:
    return contract_cases(contract, **segment_options)


# --------------------------------------------------------------------------------------------------
# gae
# --------------------------------------------------------------------------------------------------
GAE = CONTRACTS["gae"]


@law("gae", claims=("GAE-8",), section="§GAE (λ = 0)", cases=segment_cases(lam=st.just(0.0)))
def lambda_zero_is_td_error(target, case):
    """GAE(γ, 0) is the one-step TD error: A_t = δ_t = r_t + γ(1 − terminated_t)V(s_{t+1}) − V(s_t)."""
    expected = exact.evaluate(exact.td_errors, case.segment, case.gamma)
    expect_target_output("gae", target, case, expected, "advantages at λ = 0 vs TD errors δ_t")


@law(
    "gae",
    claims=("GAE-10", "GAE-3"),
    section="§GAE (λ = 1)",
    cases=segment_cases(lam=st.just(1.0)),
)
def lambda_one_is_monte_carlo(target, case):
    """GAE(γ, 1) is the bootstrapped Monte-Carlo return minus the baseline:
    A_t = Σ_l γ^l r_{t+l} + γ^{L+1}(1 − terminated)V(final observation) − V(s_t), summed to the episode end."""
    expected = exact.evaluate(exact.reward_to_go, case.segment, case.gamma) - case.segment.arrays()["values"]
    expect_target_output("gae", target, case, expected, "advantages at λ = 1 vs reward-to-go minus V(s_t)")


@law("gae", claims=("PPO-14", "STD-TT-1"), section="§PPO (GAE recursion)", cases=cases_for("gae"))
def backward_recursion(target, case):
    """The output satisfies A_t = δ_t + γλ(1 − done_t)A_{t+1} with A_T = 0, done = terminated ∨ truncated
    (λ inside the recursion; the recursion stops at every episode end)."""
    got, eps = call(GAE, target, case)
    a = case.segment.arrays()
    following = following_step(got)
    continues = ~(a["terminated"] | a["truncated"])
    lhs = got - case.gamma * case.lam * continues * following
    deltas = exact.evaluate(exact.td_errors, case.segment, case.gamma)
    # lhs combines two rounded outputs and δ: three times the allowance of one output.
    expect_close("A_t − γλ(1 − done_t)A_{t+1} vs δ_t", lhs, deltas, 3 * tolerance("gae", case, eps))


@law(
    "gae",
    claims=("STD-GAE-7", "GAE-7"),
    section="§GAE; PPO eq. 11",
    cases=cases_for("gae", max_length=24),
)
def explicit_sum(target, case):
    """A_t = δ_t + (γλ)δ_{t+1} + … + (γλ)^{L}δ_{t+L}, L = steps to the episode end (T − t − 1 without one),
    written out term by term in exact arithmetic."""
    expected = exact.evaluate(exact.gae_explicit_sum, case.segment, case.gamma, case.lam)
    expect_target_output("gae", target, case, expected, "advantages vs the explicit sum Σ(γλ)^l δ_{t+l}")


@law("gae", claims=("GAE-7",), section="§GAE", cases=cases_for("gae", max_length=10))
def average_of_k_step_advantages(target, case):
    """GAE is the λ-weighted average of k-step advantages:
    A_t = (1 − λ) Σ_{k=1}^{L} λ^{k−1} A^(k)_t + λ^L A^(L+1)_t, the remaining weight on the longest one."""
    expected = exact.evaluate(exact.k_step_mixture, case.segment, case.gamma, case.lam)
    expect_target_output("gae", target, case, expected, "advantages vs Σ_k (1 − λ)λ^{k−1} A^(k)")


# --------------------------------------------------------------------------------------------------
# td_errors, discounted_returns, n_step_advantages, lambda_returns
# --------------------------------------------------------------------------------------------------
@law("td_errors", claims=("GAE-8", "STD-TT-1"), section="§TD; §GAE", cases=cases_for("td_errors"))
def definition(target, case):
    """δ_t = r_t + γ(1 − terminated_t)V(s_{t+1}) − V(s_t): no bootstrap after a terminal state, the final
    observation's value after a truncation."""
    expected = exact.evaluate(exact.td_errors, case.segment, case.gamma)
    expect_target_output("td_errors", target, case, expected, "TD errors")


@law(
    "discounted_returns",
    claims=("GAE-3", "STD-TT-1"),
    section="§PG; §GAE",
    cases=cases_for("discounted_returns"),
)
def bootstrapped_reward_to_go(target, case):
    """G_t = Σ_{l=0}^{L} γ^l r_{t+l} + γ^{L+1}(1 − terminated_{t+L})V(s_{t+L+1}), summed to the end L of t's
    episode in the segment: bootstrap from the final observation unless the episode terminated."""
    expected = exact.evaluate(exact.reward_to_go, case.segment, case.gamma)
    expect_target_output("discounted_returns", target, case, expected, "returns")


@law(
    "n_step_advantages",
    claims=("GAE-6",),
    section="§GAE (k-step estimators)",
    cases=cases_for("n_step_advantages", max_length=24),
)
def k_step_identity(target, case):
    """A^(k)_t = Σ_{l<k} γ^l δ_{t+l} = −V(s_t) + Σ_{l<k} γ^l r_{t+l} + γ^k V(s_{t+k}), the sum stopping at the
    episode end (no bootstrap after termination)."""
    expected = exact.evaluate(exact.n_step_advantages, case.segment, case.gamma, case.n)
    expect_target_output("n_step_advantages", target, case, expected, f"{case.n}-step advantages")


@law(
    "lambda_returns",
    claims=("PPO-15", "STD-GAE-3"),
    section="§PPO (critic target)",
    cases=cases_for("lambda_returns"),
)
def advantage_plus_value(target, case):
    """The critic's target is R_t = A_t + V(s_t) with A_t = GAE(γ, λ)."""
    expected = exact.evaluate(exact.gae, case.segment, case.gamma, case.lam) + case.segment.arrays()["values"]
    expect_target_output("lambda_returns", target, case, expected, "λ-returns vs GAE + V")


@law(
    "lambda_returns",
    claims=("STD-GAE-3", "PPO-15"),
    section="§PPO (critic target)",
    cases=cases_for("lambda_returns"),
)
def td_lambda_recursion(target, case):
    """The output satisfies R_t = r_t + γ[(1 − λ)V(s_{t+1}) + λR_{t+1}] inside an episode and
    R_t = r_t + γ(1 − terminated_t)V(s_{t+1}) at its last step (and at the segment's last step)."""
    got, eps = call(CONTRACTS["lambda_returns"], target, case)
    a = case.segment.arrays()
    following = following_step(got)
    continues = ~(a["terminated"] | a["truncated"])
    continues[-1] = False
    inside = a["rewards"] + case.gamma * ((1 - case.lam) * a["next_values"] + case.lam * following)
    at_end = a["rewards"] + case.gamma * ~a["terminated"] * a["next_values"]
    expected = np.where(continues, inside, at_end)
    expect_close("R_t vs its TD(λ) recursion", got, expected, 3 * tolerance("lambda_returns", case, eps))


@law(
    "lambda_returns",
    claims=("PPO-16",),
    section="§PPO (critic loss)",
    cases=segment_cases(lam=st.just(0.0)),
)
def lambda_zero_is_td_target(target, case):
    """At λ = 0 the target is the TD(0) target of the Actor-Critic critic: R_t = r_t + γ(1 − terminated_t)V(s_{t+1})."""
    got, eps = call(CONTRACTS["lambda_returns"], target, case)
    a = case.segment.arrays()
    expected = a["rewards"] + case.gamma * ~a["terminated"] * a["next_values"]
    expect_close("λ-returns at λ = 0 vs r + γV(s')", got, expected, tolerance("lambda_returns", case, eps))


# --------------------------------------------------------------------------------------------------
# Structural laws, stated once for every contract
# --------------------------------------------------------------------------------------------------
def influence(contract: str, case: SegmentCase, source: int, step: int) -> float:
    """∂ output_source / ∂ (γ(1 − terminated_step)V(s_{step+1})) for source ≤ step in the same episode."""
    lag = step - source
    if contract == "td_errors":
        return float(lag == 0)
    if contract == "n_step_advantages":
        return case.gamma**lag if lag < case.n else 0.0
    return carry(contract, case) ** lag


@st.composite
def shifted_final_values(draw, contract: str):
    """Episode ends of every kind (and the segment's last step), each moved by a visible Δ ≠ 0."""
    patterns = ("mixed", "all truncated", "all terminated")
    case = draw(cases_for(contract, max_batch=0, flag_patterns=patterns))
    flags = case.segment.arrays()
    ends = [
        t for t, done in enumerate(flags["terminated"] | flags["truncated"]) if done or t == case.segment.length - 1
    ]
    delta = draw(st.one_of(st.just(1.0), magnitudes().filter(lambda x: abs(x) >= 1e-3)))
    return ShiftedFinalValue(case, draw(st.sampled_from(ends)), delta)


@st.composite
def episode_splits(draw, contract: str):
    """A split right after an episode end (a done flag is forced at step ``at − 1``)."""
    case = draw(cases_for(contract, min_length=2, max_batch=0))
    at = draw(st.integers(1, case.segment.length - 1))
    flags = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    terminated, truncated = list(case.segment.terminated), list(case.segment.truncated)
    terminated[at - 1], truncated[at - 1] = flags
    return SplitCase(case.on(case.segment.replace(terminated=terminated, truncated=truncated)), at)


@st.composite
def time_splits(draw, contract: str):
    case = draw(cases_for(contract))
    return SplitCase(case, draw(st.integers(0, case.segment.length - 1)))


@st.composite
def combinations(draw, contract: str):
    case = draw(cases_for(contract))
    length, width = case.segment.length, len(case.segment.rewards[0]) if case.segment.batched else 0
    other = draw(segments(min_length=length, max_length=length, min_batch=width, max_batch=width))
    coefficient = st.one_of(st.integers(-3, 3).map(float), st.floats(-2, 2, allow_subnormal=False))
    return CombinedCase(case, same_flags(other, case.segment), draw(coefficient), draw(coefficient))


def same_flags(segment: Segment, like: Segment) -> Segment:
    """``segment``'s numbers on ``like``'s episode structure (next values re-linked to the new flags)."""
    return Segment(
        segment.rewards,
        segment.values,
        next_values(segment.values, segment.next_values, like.terminated, like.truncated),
        like.terminated,
        like.truncated,
    )


def _structural_laws(contract: Contract) -> None:
    name, defining = contract.name, DEFINING_CLAIMS[contract.name]

    @law(
        name,
        claims=("STD-TT-1", "STD-TT-2"),
        section="§PPO; §GAE",
        cases=shifted_final_values(name),
    )
    def final_value_enters_with_its_weight(target, shifted: ShiftedFinalValue):
        """Changing V of the final observation at an episode end (or at the segment's last step) t by Δ moves
        every earlier output s of that episode by γ(1 − terminated_t)·w(s, t)·Δ, w the estimator's weight
        ((γλ)^{t−s} for GAE, γ^{t−s} for returns), and nothing else: a truncated episode bootstraps from
        its final observation, a terminated one does not."""
        case, t = shifted.case, shifted.step
        a = case.segment.arrays()
        moved = list(case.segment.next_values)
        moved[t] += shifted.delta
        after = case.on(case.segment.replace(next_values=moved))
        got_before, eps = call(contract, target, case)
        got_after, _ = call(contract, target, after)
        start = max([s + 1 for s in range(t) if a["terminated"][s] or a["truncated"][s]], default=0)
        bootstrap = case.gamma * (not a["terminated"][t]) * (moved[t] - case.segment.next_values[t])
        expected = np.zeros(case.segment.length)
        for s in range(start, t + 1):
            expected[s] = influence(name, case, s, t) * bootstrap
        atol = tolerance(name, case, eps) + tolerance(name, after, eps)
        expect_close(
            f"change in {contract.output} when V(final observation) at step {t} moves by Δ",
            got_after - got_before,
            expected,
            atol,
        )

    @law(
        name,
        claims=("STD-TT-1",),
        section="§PPO; §GAE",
        cases=episode_splits(name),
        requires=frozenset({"boundaries_in_call"}),
    )
    def independent_of_what_follows_an_episode_end(target, split: SplitCase):
        """Outputs before an episode end do not depend on anything after it: on a segment whose step
        at − 1 is done, the outputs of steps [:at] equal those of the segment cut at `at`."""
        case = split.case
        whole, eps = call(contract, target, case)
        head, _ = call(contract, target, case.on(case.segment.steps(0, split.at)))
        expect_close(
            f"{contract.output} of the first episode(s), computed with vs without what follows",
            whole[: split.at],
            head,
            2 * self_comparison_tolerance(case, eps)[: split.at],
        )

    @law(name, claims=("STD-TT-1",), section="§GAE", cases=time_splits(name))
    def time_shift_consistency(target, split: SplitCase):
        """Outputs depend only on the present and the future: the outputs of steps [at:] equal those of the
        segment that starts at `at`."""
        case = split.case
        whole, eps = call(contract, target, case)
        tail, _ = call(contract, target, case.on(case.segment.steps(split.at)))
        expect_close(
            f"{contract.output} of steps [at:], computed with vs without the steps before",
            whole[split.at :],
            tail,
            2 * self_comparison_tolerance(case, eps)[split.at :],
        )

    @law(name, claims=defining, section="§GAE", cases=combinations(name))
    def linear_in_rewards_and_values(target, combo: CombinedCase):
        """For fixed flags, γ (and λ, n) the output is linear in (rewards, values, next values):
        f(a·x + b·y) = a·f(x) + b·f(y)."""
        x, y, a, b = combo.case.segment, combo.other, combo.a, combo.b
        ax, ay = x.arrays(), y.arrays()
        mixed = {k: (a * ax[k] + b * ay[k]).tolist() for k in ("rewards", "values", "next_values")}
        mixed_case = combo.case.on(x.replace(**mixed))
        y_case = combo.case.on(y)
        got_mixed, eps = call(contract, target, mixed_case)
        got_x, _ = call(contract, target, combo.case)
        got_y, _ = call(contract, target, y_case)
        atol = (
            self_comparison_tolerance(mixed_case, eps)
            + abs(a) * self_comparison_tolerance(combo.case, eps)
            + abs(b) * self_comparison_tolerance(y_case, eps)
        )
        expect_close(f"{contract.output} of a·x + b·y vs a·f(x) + b·f(y)", got_mixed, a * got_x + b * got_y, atol)

    @law(
        name,
        claims=("STD-TT-1",),
        section="§PPO",
        cases=cases_for(name, min_batch=2),
        requires=frozenset({"batch_in_call"}),
    )
    def batch_columns_are_independent(target, case: SegmentCase):
        """A [T, B] batch is B independent segments: column b of the batched output equals the output for
        column b alone."""
        whole, eps = call(contract, target, case)
        for b, column in enumerate(case.segment.columns()):
            alone, _ = call(contract, target, case.on(column))
            expect_close(
                f"{contract.output} of batch column {b} vs that column alone",
                whole[:, b],
                alone,
                2 * self_comparison_tolerance(case, eps)[:, b],
            )

    if "truncated" in contract.arguments:

        @law(
            name,
            claims=("STD-TT-1",),
            section="§PPO",
            cases=cases_for(name),
            requires=frozenset({"separate_flags"}),
        )
        def termination_wins(target, case: SegmentCase):
            """A step flagged both terminated and truncated is a termination: adding truncated = True to every
            terminated step changes nothing."""
            before, eps = call(contract, target, case)
            flags = case.segment.arrays()
            both = (flags["truncated"] | flags["terminated"]).tolist()
            after, _ = call(contract, target, case.on(case.segment.replace(truncated=both)))
            expect_close(
                f"{contract.output} with truncated also set on terminated steps",
                after,
                before,
                2 * self_comparison_tolerance(case, eps),
            )


DEFINING_CLAIMS = {
    "td_errors": ("STD-TT-1",),
    "discounted_returns": ("GAE-3",),
    "n_step_advantages": ("GAE-6",),
    "gae": ("STD-GAE-7",),
    "lambda_returns": ("STD-GAE-3",),
}

for _name in DEFINING_CLAIMS:
    _structural_laws(CONTRACTS[_name])
