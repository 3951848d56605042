"""Laws about what a GAE target estimates, checked by exact enumeration of trajectories (no sampling).

From a fixed (s_0, a_0) every path of a small MDP is listed with its probability, all paths go to the
target in one batched call (one column per path), and the probability-weighted mean of Â_0 is compared
with a closed form (notes §GAE, §PPO; STD-GAE-2/5, STD-TT-2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from lineage.laws.cases.mdps import episodic_mdps, policies, tabular_mdps, value_functions
from lineage.laws.cases.segments import Segment, SegmentCase, unit_interval
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import rounding_tolerance, value_scale
from lineage.tabular import (
    TabularMDP,
    Trajectories,
    action_values,
    advantages,
    enumerate_trajectories,
    policy_transitions,
    state_values,
)

GAE = CONTRACTS["gae"]


@dataclass(frozen=True)
class StartedRollouts:
    """All rollouts of ``horizon`` steps of policy ``pi`` from state ``state`` and action ``action``, scored
    with the critic ``values`` (None: the exact V^π)."""

    mdp: TabularMDP
    pi: np.ndarray
    state: int
    action: int
    horizon: int
    lam: float
    values: np.ndarray | None = None

    def __repr__(self) -> str:
        critic = "V^π" if self.values is None else self.values.tolist()
        return (
            f"StartedRollouts(state={self.state}, action={self.action}, horizon={self.horizon}, lam={self.lam!r},"
            f"\n  pi={self.pi.tolist()!r},\n  values={critic},\n  mdp={self.mdp!r})"
        )

    def critic(self) -> np.ndarray:
        return state_values(self.mdp, self.pi) if self.values is None else self.values

    def paths(self) -> Trajectories:
        return enumerate_trajectories(self.mdp, self.pi, self.horizon, start_state=self.state, start_action=self.action)


def path_segments(rollouts: StartedRollouts, paths: Trajectories, *, terminated: np.ndarray, truncated: np.ndarray):
    """The enumerated paths as one batched segment [H, N] (column n = path n) for the target."""
    V = rollouts.critic()
    columns = {
        "rewards": rollouts.mdp.R[paths.states[:, :-1], paths.actions],
        "values": V[paths.states[:, :-1]],
        "next_values": V[paths.states[:, 1:]],
    }
    fields = {name: column.T.tolist() for name, column in columns.items()}
    segment = Segment(**fields, terminated=terminated.T.tolist(), truncated=truncated.T.tolist())
    return SegmentCase(segment, rollouts.mdp.gamma, rollouts.lam)


def expect_mean_first_advantage(
    what: str, target, rollouts: StartedRollouts, paths: Trajectories, expected: float, reference_scale: float, **flags
) -> None:
    """Compare E[Â_0 | s_0, a_0] under the target (a probability-weighted mean over the paths) with
    ``expected``: allowed are the target's rounding, averaged over the paths, and 1e-9 of the scale of the
    linear solve the expectation came from."""
    case = path_segments(rollouts, paths, **flags)
    got, eps = call(GAE, target, case)
    rounding = rounding_tolerance(case.segment, case.gamma, case.gamma * case.lam, eps)[0]
    allowance = paths.expectation(rounding) + 1e-9 * reference_scale
    expect_close(what, np.array([paths.expectation(got[0])]), np.array([expected]), np.array([allowance]))


@st.composite
def exact_critic_rollouts(draw):
    mdp = draw(tabular_mdps(max_states=3, max_actions=2))
    return StartedRollouts(
        mdp,
        draw(policies(mdp)),
        draw(st.integers(0, mdp.n_states - 1)),
        draw(st.integers(0, mdp.n_actions - 1)),
        draw(st.integers(1, 4)),
        draw(unit_interval()),
    )


@st.composite
def episodic_rollouts(draw):
    """Episodes of an absorbing MDP from a non-terminal start, scored by an arbitrary critic."""
    mdp = draw(episodic_mdps(max_states=4, max_actions=2))
    return StartedRollouts(
        mdp,
        draw(policies(mdp)),
        draw(st.integers(0, mdp.n_states - 2)),
        draw(st.integers(0, mdp.n_actions - 1)),
        mdp.n_states - 1,
        draw(unit_interval()),
        draw(value_functions(mdp)),
    )


# TC-17: one self-looping state, r = 1, γ = 0.9, V = 10; the cut comes after one step.
M4 = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
TC17 = StartedRollouts(M4, np.array([[1.0]]), state=0, action=0, horizon=1, lam=1.0)


def cut_flags(paths: Trajectories) -> np.ndarray:
    """True at the last step of every path: where the time limit cuts the episode."""
    flags = np.zeros(paths.actions.shape, dtype=bool)
    flags[:, -1] = True
    return flags


@law(
    "gae",
    claims=("STD-TT-2",),
    section="§PPO; §GAE",
    cases=exact_critic_rollouts(),
    examples=(TC17,),
)
def unbiased_when_truncation_bootstraps(target, rollouts: StartedRollouts):
    """With the exact critic V^π and an episode cut by a time limit after H steps (truncated, so the last
    step bootstraps from V^π of the final observation), GAE is unbiased for every λ:
    E[Â_0 | s_0, a_0] = A^π(s_0, a_0)."""
    paths = rollouts.paths()
    cut = cut_flags(paths)
    expected = advantages(rollouts.mdp, rollouts.pi)[rollouts.state, rollouts.action]
    expect_mean_first_advantage(
        "E[Â_0 | s_0, a_0] with the cut bootstrapped",
        target,
        rollouts,
        paths,
        expected,
        value_scale(rollouts.mdp.R, rollouts.mdp.gamma),
        terminated=np.zeros_like(cut),
        truncated=cut,
    )


@law(
    "gae",
    claims=("STD-TT-2",),
    section="§PPO; §GAE",
    cases=exact_critic_rollouts(),
    examples=(TC17,),
)
def termination_at_a_cut_drops_the_bootstrap(target, rollouts: StartedRollouts):
    """Flagging the time-limit cut after H steps as a termination drops its bootstrap, so with the exact
    critic E[Â_0 | s_0, a_0] = A^π(s_0, a_0) − (γλ)^{H−1} γ E[V^π(s_H) | s_0, a_0]: the bias of treating
    truncation as termination (M4: δ = 1 − 10 = −9 instead of 0)."""
    paths = rollouts.paths()
    cut = cut_flags(paths)
    mdp, V = rollouts.mdp, state_values(rollouts.mdp, rollouts.pi)
    missing = (
        (mdp.gamma * rollouts.lam) ** (rollouts.horizon - 1) * mdp.gamma * paths.expectation(V[paths.states[:, -1]])
    )
    expected = advantages(mdp, rollouts.pi)[rollouts.state, rollouts.action] - missing
    expect_mean_first_advantage(
        "E[Â_0 | s_0, a_0] with the cut flagged terminated",
        target,
        rollouts,
        paths,
        expected,
        value_scale(mdp.R, mdp.gamma),
        terminated=cut,
        truncated=np.zeros_like(cut),
    )


@law(
    "gae",
    claims=("STD-GAE-2", "STD-GAE-5", "GAE-4", "GAE-2"),
    section="§GAE",
    cases=episodic_rollouts(),
)
def expectation_matches_closed_form(target, rollouts: StartedRollouts):
    """Over whole episodes (terminated on reaching the absorbing state) and with any critic V,
    E[Â_0 | s, a] = Q^π(s, a) − V(s) + γ(1 − λ)[P (I − γλP_π)⁻¹ e](s, a),  e = V − V^π (e = 0 at the terminal):
    λ = 1 is unbiased for Q^π − V whatever V is; λ < 1 only when V = V^π."""
    mdp, pi = rollouts.mdp, rollouts.pi
    paths = rollouts.paths()
    terminal = mdp.n_states - 1
    ends = paths.states[:, 1:] == terminal
    error = rollouts.values - state_values(mdp, pi)
    error[terminal] = 0.0
    carried = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * rollouts.lam * policy_transitions(mdp, pi), error)
    s, a = rollouts.state, rollouts.action
    bias = mdp.gamma * (1 - rollouts.lam) * (mdp.P[s, a] @ carried)
    expected = action_values(mdp, pi)[s, a] - rollouts.values[s] + bias
    expect_mean_first_advantage(
        "E[Â_0 | s_0, a_0] vs its closed form",
        target,
        rollouts,
        paths,
        expected,
        max(value_scale(mdp.R, mdp.gamma), float(np.abs(rollouts.values).max())),
        terminated=ends,
        truncated=np.zeros_like(ends),
    )
