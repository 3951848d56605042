"""Wrong GAE implementations, each one flaw away from :func:`lineage.gae` (the contract's signature)."""

from __future__ import annotations

import numpy as np

from lineage.bugzoo import bug
from lineage.laws.cases import Segment, SegmentCase, ShiftedFinalValue, SplitCase


def segment(rewards, values, next_values, terminated=None, truncated=None) -> Segment:
    """A 1-D segment for a bug report's minimal input (flags default to all False)."""
    flags = [False] * len(rewards)
    return Segment(rewards, values, next_values, terminated or flags, truncated or flags)


def backward_scan(base, weight, *, stop: int = 0) -> np.ndarray:
    """out_t = base_t + weight_t·out_{t+1} with out_T = 0, over the steps T − 1 down to ``stop`` (0 before)."""
    out, running = np.zeros_like(base), np.zeros_like(base[0])
    for t in reversed(range(stop, len(base))):
        running = base[t] + weight[t] * running
        out[t] = running
    return out


def flawed_deltas(rewards, values, next_values, terminated, *, gamma, bootstrap=None, bootstrap_values=None):
    """δ_t = r_t + γ·bootstrap_t·bootstrap_values_t − V_t, by default bootstrap = 1 − terminated and the
    bootstrap values V(s_{t+1}) = next_values."""
    r, v, nv = (np.asarray(x, dtype=np.float64) for x in (rewards, values, next_values))
    bootstrap = ~np.asarray(terminated, dtype=bool) if bootstrap is None else bootstrap
    return r + gamma * bootstrap * (nv if bootstrap_values is None else bootstrap_values) - v


def following_values(values, next_values) -> np.ndarray:
    """values[t + 1] at every step (next_values at the last): V of the observation an environment reset to
    wherever an episode ended, instead of V of its final observation."""
    return np.concatenate([np.asarray(values, dtype=np.float64)[1:], np.asarray(next_values, dtype=np.float64)[-1:]])


def _flawed_gae(
    rewards,
    values,
    next_values,
    terminated,
    truncated,
    *,
    gamma,
    lam,
    carry=None,
    bootstrap=None,
    continues=None,
    bootstrap_values=None,
) -> np.ndarray:
    """A_t = δ_t + carry·continues_t·A_{t+1}, δ_t = r_t + γ·bootstrap_t·bootstrap_values_t − V_t; the keyword
    arguments replace one ingredient of the correct recursion with a flawed one."""
    term, trunc = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    deltas = flawed_deltas(
        rewards, values, next_values, term, gamma=gamma, bootstrap=bootstrap, bootstrap_values=bootstrap_values
    )
    continues = ~(term | trunc) if continues is None else continues
    carry = gamma * lam if carry is None else carry
    return backward_scan(deltas, carry * continues)


@bug(
    "lambda_missing_from_recursion",
    contract="gae",
    caught_by="gae.lambda_zero_is_td_error",
    source="the notes' §PPO GAE recursion (claim PPO-14)",
    counterexample=SegmentCase(segment([1.0, 0.0], [0.5, 0.2], [0.2, 0.0]), gamma=0.9, lam=0.0),  # TC-14
)
def lambda_missing_from_recursion(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """A_t = δ_t + γA_{t+1}: λ dropped, so every λ gives GAE(γ, 1)."""
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, carry=gamma)


@bug(
    "gamma_missing_from_recursion",
    contract="gae",
    caught_by="gae.lambda_one_is_monte_carlo",
    source="classic mistake (γ/λ mix-ups)",
    counterexample=SegmentCase(segment([0.0, 1.0], [0.0, 0.0], [0.0, 0.0]), gamma=0.5, lam=1.0),
)
def gamma_missing_from_recursion(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """A_t = δ_t + λA_{t+1}: γ dropped from the recursion; right at λ = 0, wrong at λ = 1."""
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, carry=lam)


@bug(
    "truncation_as_termination",
    contract="gae",
    caught_by="gae.final_value_enters_with_its_weight",
    source="SB3 issue #633 / PR #658; TorchRL PR #1661; CleanRL and baselines ppo2 mask with 1 − done",
    counterexample=ShiftedFinalValue(  # SB3 #633: truncated step, V(final obs) = 10, γ = 0.9: A = 9, bug 0
        SegmentCase(segment([0.0], [0.0], [10.0], truncated=[True]), gamma=0.9, lam=0.95), step=0, delta=1.0
    ),
)
def truncation_as_termination(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """No bootstrap after a time-limit cut: the mask 1 − done is used where 1 − terminated belongs."""
    done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap=~done)


@bug(
    "bootstrap_after_terminal",
    contract="gae",
    caught_by="gae.lambda_zero_is_td_error",
    source="Tianshou issue #869 (raw `_gae` does not mask next values; callers must)",
    counterexample=SegmentCase(  # Tianshou #869: last advantage −1, the raw helper 1 + 2γ − 2
        segment([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [2.0, 2.0, 2.0], terminated=[False, False, True]), gamma=0.9, lam=0.0
    ),
)
def bootstrap_after_terminal(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """δ_t bootstraps V(s_{t+1}) even when the episode terminated at t + 1."""
    ones = np.ones(np.shape(rewards), dtype=bool)
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap=ones)


@bug(
    "recursion_not_cut_at_done",
    contract="gae",
    caught_by="gae.independent_of_what_follows_an_episode_end",
    source="CleanRL PQN PR #494 (λ-return recursion leaked across episodes)",
    counterexample=SplitCase(  # CleanRL #494: episode ends after t = 0, r = (1, 5), γ = λ = 1: 1, bug 6
        SegmentCase(segment([1.0, 5.0], [0.0, 0.0], [0.0, 0.0], terminated=[True, False]), gamma=1.0, lam=1.0), at=1
    ),
)
def recursion_not_cut_at_done(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """A_{t+1} of the next episode leaks back across the episode boundary."""
    ones = np.ones(np.shape(rewards), dtype=bool)
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, continues=ones)


@bug(
    "bootstraps_from_reset_observation",
    contract="gae",
    caught_by="gae.final_value_enters_with_its_weight",
    source="TorchRL PR #3771 (GAE shifted='compact'); TorchRL issue #4209 (V-trace)",
    counterexample=ShiftedFinalValue(  # TorchRL #3771: V(final obs) = 1, V(reset obs) = 100, γ = 1, λ = 0
        SegmentCase(segment([0.0, 0.0], [0.0, 100.0], [1.0, 0.0], truncated=[True, False]), gamma=1.0, lam=0.0),
        step=0,
        delta=1.0,
    ),
)
def bootstraps_from_reset_observation(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """At an episode end V(s_{t+1}) is taken from values[t + 1], the observation the env reset to."""
    following = following_values(values, next_values)
    return _flawed_gae(
        rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap_values=following
    )


@bug(
    "done_flags_one_step_late",
    contract="gae",
    caught_by="gae.backward_recursion",
    source="SB3 issue #105 / PR #110 (done flag stored one step late)",
    counterexample=SegmentCase(  # SB3 #105: terminated after step 0, r = (1, 0), V = (0, 10): A_0 = 1, bug 11
        segment([1.0, 0.0], [0.0, 10.0], [10.0, 0.0], terminated=[True, False]), gamma=1.0, lam=0.0
    ),
)
def done_flags_one_step_late(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """The done flag of step t + 1 masks step t: bootstrap and recursion see the episode end one step late."""
    done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
    late = np.concatenate([done[1:], done[-1:]])
    return _flawed_gae(
        rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap=~late, continues=~late
    )


@bug(
    "bootstraps_from_last_stored_observation",
    contract="gae",
    caught_by="gae.lambda_one_is_monte_carlo",
    source="SB3 PR #185 (commit fc952715: off-by-one for the last value)",
    counterexample=SegmentCase(  # SB3 #185: T = 1, r = 0, V(s_0) = 1, V(s_1) = 5, γ = λ = 1: A_0 = 4, bug 0
        segment([0.0], [1.0], [5.0]), gamma=1.0, lam=1.0
    ),
)
def bootstraps_from_last_stored_observation(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """The segment's last step bootstraps from V(s_{T−1}), the last stored observation, instead of V(s_T)."""
    stale = np.concatenate([np.asarray(next_values, dtype=np.float64)[:-1], np.asarray(values, dtype=np.float64)[-1:]])
    return _flawed_gae(
        rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap_values=stale
    )


@bug(
    "no_bootstrap_at_segment_end",
    contract="gae",
    caught_by="gae.backward_recursion",
    source="CleanRL issue #16 (early PPO GAE: wrong last advantage of a rollout ending mid-episode)",
    counterexample=SegmentCase(  # rollout ends mid-episode: A_{T−1} must be δ = 0 + 2 − 1 = 1, bug 0 − 1 = −1
        segment([0.0], [1.0], [2.0]), gamma=1.0, lam=0.95
    ),
)
def no_bootstrap_at_segment_end(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """The unfinished episode at the segment's end gets no bootstrap: its last step is treated as terminal."""
    ends = np.zeros(np.shape(rewards), dtype=bool)
    ends[-1] = True
    bootstrap = ~(np.asarray(terminated, dtype=bool) | ends)
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam, bootstrap=bootstrap)


@bug(
    "gamma_and_lambda_swapped",
    contract="gae",
    caught_by="gae.lambda_one_is_monte_carlo",
    source="classic mistake (γ/λ mix-ups)",
    counterexample=SegmentCase(  # γ = 0, λ = 1: A_0 must be r − V = 0; the swap bootstraps λ·V(s_1) = 1
        segment([0.0], [0.0], [1.0]), gamma=0.0, lam=1.0
    ),
)
def gamma_and_lambda_swapped(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """gamma and lam passed in each other's place: δ_t bootstraps with weight λ (the product γλ is unchanged)."""
    return _flawed_gae(rewards, values, next_values, terminated, truncated, gamma=lam, lam=gamma)
