"""Wrong returns, λ-returns, TD errors and n-step advantages, each one flaw away from lineage's own
(:func:`lineage.discounted_returns`, :func:`lineage.lambda_returns`, :func:`lineage.td_errors`,
:func:`lineage.n_step_advantages`)."""

from __future__ import annotations

import numpy as np

from lineage.bugzoo import bug
from lineage.bugzoo.gae import backward_scan, flawed_deltas, following_values, segment
from lineage.laws.cases import Segment, SegmentCase, ShiftedFinalValue, SplitCase


def _flawed_returns(
    rewards, next_values, terminated, truncated, *, gamma, bootstrap=None, bootstrap_values=None, stop=0
) -> np.ndarray:
    """G_t = r_t + γ·G_{t+1} inside an episode, G_t = r_t + γ·bootstrap_t·bootstrap_values_t at its end (and at
    the segment's last step), computed for the steps T − 1 down to ``stop``; by default bootstrap =
    1 − terminated and the bootstrap values are next_values. The keyword arguments plant the flaw."""
    r = np.asarray(rewards, dtype=np.float64)
    term, trunc = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    continues = ~(term | trunc)
    continues[-1] = False
    bootstrap = ~term if bootstrap is None else bootstrap
    finals = np.asarray(next_values, dtype=np.float64) if bootstrap_values is None else bootstrap_values
    return backward_scan(r + gamma * ~continues * bootstrap * finals, gamma * continues, stop=stop)


# --------------------------------------------------------------------------------------------------
# discounted_returns
# --------------------------------------------------------------------------------------------------
@bug(
    "reward_to_go_scrambles_batch_and_time",
    contract="discounted_returns",
    caught_by="discounted_returns.batch_columns_are_independent",
    source="TorchRL PRs #2087 and #2089 (reward2go: view_as on a time-last layout)",
    counterexample=SegmentCase(  # TorchRL #2087: columns must be [0.729, 0.81, 0.9, 1] and its negative
        Segment(
            rewards=[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, -1.0]],
            values=[[0.0, 0.0]] * 4,
            next_values=[[0.0, 0.0]] * 4,
            terminated=[[False, False]] * 3 + [[True, True]],
            truncated=[[False, False]] * 4,
        ),
        gamma=0.9,
    ),
)
def reward_to_go_scrambles_batch_and_time(rewards, next_values, terminated, truncated, *, gamma):
    """Returns computed time-last [B, T], then reshaped to [T, B] (view_as) instead of transposed back."""
    returns = _flawed_returns(rewards, next_values, terminated, truncated, gamma=gamma)
    time_last = np.ascontiguousarray(returns.T)
    return time_last.reshape(np.shape(rewards))


@bug(
    "rewards_stored_one_step_late",
    contract="discounted_returns",
    caught_by="discounted_returns.bootstrapped_reward_to_go",
    source="Spinning Up issue #50 / PR #126 (buffer stored the previous step's reward; last_val = r on terminal)",
    counterexample=SegmentCase(  # Spinning Up #50: 1-step episode, terminal reward 5, γ = 0.99: 5, bug 4.95
        segment([5.0], [0.0], [0.0], terminated=[True]), gamma=0.99
    ),
)
def rewards_stored_one_step_late(rewards, next_values, terminated, truncated, *, gamma):
    """Step t is stored with r_{t−1} (0 at an episode's first step); a terminal step bootstraps its own reward."""
    r = np.asarray(rewards, dtype=np.float64)
    term, trunc = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    starts = np.concatenate([np.ones_like(term[:1]), (term | trunc)[:-1]])
    stored = np.where(starts, 0.0, np.concatenate([np.zeros_like(r[:1]), r[:-1]]))
    finals = np.where(term, r, np.asarray(next_values, dtype=np.float64))
    ones = np.ones_like(term)
    return _flawed_returns(
        stored, next_values, terminated, truncated, gamma=gamma, bootstrap=ones, bootstrap_values=finals
    )


@bug(
    "reversed_loop_skips_first_step",
    contract="discounted_returns",
    caught_by="discounted_returns.bootstrapped_reward_to_go",
    source="classic mistake (reversed loop off by one: range(T − 1, 0, −1) never reaches t = 0)",
    counterexample=SegmentCase(segment([1.0], [0.0], [0.0], terminated=[True]), gamma=0.9),  # G_0 = 1, bug 0
)
def reversed_loop_skips_first_step(rewards, next_values, terminated, truncated, *, gamma):
    """The backward loop runs t = T − 1, …, 1: G_0 is never computed and stays 0."""
    return _flawed_returns(rewards, next_values, terminated, truncated, gamma=gamma, stop=1)


# --------------------------------------------------------------------------------------------------
# lambda_returns
# --------------------------------------------------------------------------------------------------
@bug(
    "returns_from_stale_advantages",
    contract="lambda_returns",
    caught_by="lambda_returns.advantage_plus_value",
    source="CleanRL PR #337 (regression from #334: returns = storage.advantages + storage.values)",
    counterexample=SegmentCase(  # CleanRL #337: T = 1, r = 1, V = 0, terminal: returns must be [1], bug [0]
        segment([1.0], [0.0], [0.0], terminated=[True]), gamma=0.99, lam=0.95
    ),
)
def returns_from_stale_advantages(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """R_t = A_t + V_t with A read from the advantage buffer before it was filled (zeros): returns == values."""
    stale_advantages = np.zeros(np.shape(rewards))
    return stale_advantages + np.asarray(values, dtype=np.float64)


@bug(
    "lambda_return_recursion_not_cut_at_done",
    contract="lambda_returns",
    caught_by="lambda_returns.independent_of_what_follows_an_episode_end",
    source="CleanRL PQN PR #494 (commit 1ed80620: only the value term of the λ-return was masked)",
    counterexample=SplitCase(  # CleanRL #494: episode ends after t = 0, r = (1, 5), γ = λ = 1: G_0 = 1, bug 6
        SegmentCase(segment([1.0, 5.0], [0.0, 0.0], [0.0, 0.0], terminated=[True, False]), gamma=1.0, lam=1.0), at=1
    ),
)
def lambda_return_recursion_not_cut_at_done(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """R_t = r_t + γ[λR_{t+1} + (1 − λ)(1 − done_t)V(s_{t+1})]: the done mask is on the value term only."""
    r, nv = np.asarray(rewards, dtype=np.float64), np.asarray(next_values, dtype=np.float64)
    value_weight = np.full(np.shape(rewards), 1.0 - lam)
    value_weight[-1] = 1.0  # the segment's last step: R = r + γ(1 − terminated)V(s_T)
    base = r + gamma * value_weight * ~np.asarray(terminated, dtype=bool) * nv
    return backward_scan(base, np.full(np.shape(rewards), gamma * lam))


@bug(
    "returns_are_discounted_rewards",
    contract="lambda_returns",
    caught_by="lambda_returns.advantage_plus_value",
    source="classic mistake (critic target = discounted reward sum instead of A + V)",
    counterexample=SegmentCase(  # unfinished 1-step segment, V(s_1) = 2, γ = λ = 0.5: R_0 = 1 + 1 = 2, bug 1
        segment([1.0], [0.0], [2.0]), gamma=0.5, lam=0.5
    ),
)
def returns_are_discounted_rewards(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """R_t = Σ_l γ^l r_{t+l} to the episode end: no bootstrap from V and no λ (Monte-Carlo, not TD(λ))."""
    no_bootstrap = np.zeros(np.shape(rewards), dtype=bool)
    return _flawed_returns(rewards, next_values, terminated, truncated, gamma=gamma, bootstrap=no_bootstrap)


# --------------------------------------------------------------------------------------------------
# td_errors, n_step_advantages
# --------------------------------------------------------------------------------------------------
@bug(
    "td_error_bootstraps_from_reset_observation",
    contract="td_errors",
    caught_by="td_errors.final_value_enters_with_its_weight",
    source="classic mistake (δ_t = r_t + γV[t + 1] − V[t] over a stacked value array; cf. TorchRL issue #4209)",
    counterexample=ShiftedFinalValue(  # step 0 truncated: δ_0 must move by γΔ = 1 when V(final obs) does; bug 0
        SegmentCase(segment([0.0, 0.0], [0.0, 0.0], [0.0, 0.0], truncated=[True, False]), gamma=1.0),
        step=0,
        delta=1.0,
    ),
)
def td_error_bootstraps_from_reset_observation(rewards, values, next_values, terminated, *, gamma):
    """V(s_{t+1}) is read from values[t + 1] (the reset observation after a truncation), not next_values[t]."""
    following = following_values(values, next_values)
    return flawed_deltas(rewards, values, next_values, terminated, gamma=gamma, bootstrap_values=following)


@bug(
    "n_step_sum_crosses_episode_end",
    contract="n_step_advantages",
    caught_by="n_step_advantages.independent_of_what_follows_an_episode_end",
    source="classic mistake (n-step sum over the next n stored steps, whichever episode they belong to)",
    counterexample=SplitCase(  # episode ends after t = 0, r = (1, 5), γ = 1, n = 2: A_0 = 1, bug 6
        SegmentCase(segment([1.0, 5.0], [0.0, 0.0], [0.0, 0.0], terminated=[True, False]), gamma=1.0, n=2), at=1
    ),
)
def n_step_sum_crosses_episode_end(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """A^(n)_t = Σ_{l<n} γ^l δ_{t+l} summed over the next n steps even past the end of t's episode."""
    deltas = flawed_deltas(rewards, values, next_values, terminated, gamma=gamma)
    advantages = np.zeros_like(deltas)
    for lag in range(min(n, len(deltas))):
        advantages[: len(deltas) - lag] += gamma**lag * deltas[lag:]
    return advantages
