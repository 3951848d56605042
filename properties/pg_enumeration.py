"""Every episode of a small absorbing MDP with what the REINFORCE-family estimators need along it: lineage's
per-step scores of the tabular softmax, the rewards, and the time-indexed Q_t, V_t of backward induction (exact
Q^π, A^π, V^π for ψ4–ψ6 at any γ, γ = 1 included). Expectations are sums over the paths weighted by their
probabilities: no sampling."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from lineage.laws.cases.pg import EpisodicPolicy
from lineage.pg import (
    gradient_estimate,
    reward_to_go,
    reward_to_go_minus_baseline,
    tabular_softmax_score,
    td_error_weights,
    total_return,
)
from lineage.tabular import TabularMDP, Trajectories, backward_induction, softmax

PSI = ("ψ1 total return", "ψ2 reward-to-go", "ψ3 reward-to-go − b(s_t, t)", "ψ4 Q^π", "ψ5 A^π", "ψ6 TD error")


def undiscounted(case: EpisodicPolicy) -> EpisodicPolicy:
    """The same MDP and policy with γ = 1 (the episodes still end within S − 1 steps)."""
    mdp = case.mdp
    return EpisodicPolicy(TabularMDP(mdp.P, mdp.R, mdp.nu0, 1.0), case.logits)


@dataclass(frozen=True)
class Episodes:
    case: EpisodicPolicy

    @property
    def mdp(self) -> TabularMDP:
        return self.case.mdp

    @property
    def gamma(self) -> float:
        return self.case.mdp.gamma

    @cached_property
    def pi(self) -> np.ndarray:
        return softmax(self.case.logits)

    @cached_property
    def paths(self) -> Trajectories:
        return self.case.paths()

    @cached_property
    def scores(self) -> np.ndarray:
        """[N, T, S·A], lineage's ∇_θ log π(a_t|s_t) on every step of every path."""
        p = self.paths
        n, horizon = p.actions.shape
        return tabular_softmax_score(self.case.logits, p.states[:, :-1], p.actions).reshape(n, horizon, -1)

    @cached_property
    def rewards(self) -> np.ndarray:
        return self.paths.rewards(self.mdp)

    @cached_property
    def values(self):
        return backward_induction(self.mdp, self.pi, self.paths.actions.shape[1])

    def q(self) -> np.ndarray:
        """Q_t(s_t, a_t) on every step, [N, T]."""
        s, a = self.paths.states[:, :-1], self.paths.actions
        return self.values.Q[np.arange(a.shape[1]), s, a]

    def v(self) -> np.ndarray:
        """V_t(s_t) for t = 0 … T (V_T = 0), [N, T + 1]."""
        s = self.paths.states
        return self.values.V[np.arange(s.shape[1]), s]

    def psi(self, baseline: np.ndarray) -> dict[str, np.ndarray]:
        """The six ψ_t of the notes' list on every step, [N, T] each; ``baseline`` is b(s_t, t) per step [N, T]."""
        g, r = self.gamma, self.rewards
        v = self.v()
        return dict(
            zip(
                PSI,
                (
                    total_return(r, gamma=g),
                    reward_to_go(r, gamma=g),
                    reward_to_go_minus_baseline(r, baseline, gamma=g),
                    self.q(),
                    self.q() - v[:, :-1],
                    td_error_weights(r, v, gamma=g),
                ),
                strict=True,
            )
        )

    def expected(self, psi: np.ndarray, convention: str) -> np.ndarray:
        """E[Σ_t w_t ψ_t ∇log π(a_t|s_t)]: lineage's estimate on each path, weighted by the path's probability."""
        return self.paths.expectation(gradient_estimate(self.scores, psi, gamma=self.gamma, convention=convention))

    def state_baseline(self, table: np.ndarray) -> np.ndarray:
        """b(s_t, t) = table[t, s_t] on every step, [N, T]."""
        s = self.paths.states[:, :-1]
        return table[np.arange(s.shape[1]), s]


def gradient_atol(mdp: TabularMDP, baseline_bound: float = 0.0) -> float:
    """1e-9 · H · (H · R_max + max |b|): every weight ψ_t (returns, Q_t, V_t, TD errors, a baseline) is at most
    H·R_max + max|b| in size and a path sums H of them times a score of size ≤ 1 (H = S − 1 steps); from the drawn
    rewards and baselines, never from the code under test."""
    horizon = mdp.n_states - 1
    return 1e-9 * horizon * (horizon * float(np.abs(mdp.R).max()) + baseline_bound)


def fixed_episodic_mdp(seed: int) -> TabularMDP:
    """A 4-state absorbing MDP (episodes of 3 steps at most) with 2 actions, drawn once from ``seed``."""
    rng = np.random.default_rng(seed)
    later = np.triu(np.ones((4, 4)), k=1)[:, None, :]
    P = rng.uniform(0.1, 1.0, (4, 2, 4)) * later
    P[-1, :, -1] = 1.0
    R = rng.uniform(-1.0, 1.0, (4, 2))
    R[-1] = 0.0
    return TabularMDP(P / P.sum(-1, keepdims=True), R, np.array([0.4, 0.3, 0.3, 0.0]), 0.9)
