"""The claims of ``spec/claims.md`` (§10): id → verdict, section of the notes and a one-line title.

Verdicts: TRUE; COND (true only under stated conditions, or imprecise); FALSE (false or a typo as
printed: the suite refutes the printed form and checks the corrected one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    verdict: str
    section: str
    title: str


def _table(rows: str) -> dict[str, Claim]:
    table = {}
    for line in rows.strip().splitlines():
        claim_id, verdict, section, title = (part.strip() for part in line.split("|", 3))
        table[claim_id] = Claim(verdict, section, title)
    return table


CLAIMS: dict[str, Claim] = _table(
    """
PG-1 | TRUE | §PG | J = E[V(s0)] = ν0ᵀ(I − γP_π)⁻¹r_π = ⟨ρ, R⟩/(1 − γ)
PG-2 | COND | §PG | exact softmax gradient ascent reaches the optimum (tabular, small step)
PG-3 | TRUE | §PG | policy-gradient theorem with constant 1/(1 − γ) and discounted ν
PG-4 | TRUE | §PG | log-derivative step ∇π = π∇log π
PG-5 | COND | §PG | expectation form needs s ~ discounted ν
PG-6 | COND | §PG | on-policy unless importance-weighted
PG-7 | FALSE | §PG | REINFORCE gradient is missing γ^t
PG-8 | COND | §PG | REINFORCE update; reward-to-go recursion
PG-9 | TRUE | §PG | REINFORCE drawbacks (qualitative)
PG-10 | TRUE | §PG | TRPO/PPO are mainly on-policy
AC-1 | TRUE | §AC | roles of actor and critic
AC-2 | COND | §AC | "Actor-Critic learns Q" (it may learn V, Q or A)
AC-3 | COND | §AC | the six ψ_t agree only for γ = 1
AC-4 | TRUE | §AC | causality: past rewards do not correlate with the score
AC-5 | TRUE | §AC | ψ2 is REINFORCE
AC-6 | TRUE | §AC | an action-independent baseline keeps the gradient unbiased
AC-7 | COND | §VAR | the baseline V does not always reduce gradient variance
BASE-1 | TRUE | §VAR | E_{a~π}[A(s, a)] = 0
BASE-2 | TRUE | §VAR | Var(Q) = Var(A) + Var_s(V); a constant shift changes nothing
BASE-3 | COND | §VAR | E[G_t | s_t] = V_t(s_t) (conditional, time-indexed)
BASE-4 | COND | §VAR | ψ1 vs ψ2 variance
AC-8 | TRUE | §AC | ψ4 = Q keeps the expectation
AC-9 | TRUE | §AC | ψ5 = A keeps the expectation
AC-10 | TRUE | §TD | E[δ | s, a] = A^π with the exact V; bias γPe − e otherwise
AC-11 | TRUE | §TD | the TD error as an advantage estimator
AC-12 | TRUE | §TD | Bellman expectation equation with random rewards
AC-13 | FALSE | §TD | Q = r + γV(s') holds only in expectation
AC-14 | COND | §TD | the one-step target is unbiased iff V matches V^π on next states
AC-15 | TRUE | §TD | semi-gradient critic loss
AC-16 | FALSE | §TD | critic gradient has a spurious factor r
AC-17 | TRUE | §TD | semi-gradient TD(0) converges
AC-18 | FALSE | §TD | critic loss is not small just because the actor is optimal
AC-19 | COND | §AC | one-step actor update (C2 convention)
AC-20 | TRUE | §AC | bootstrapping allows online updates
TRPO-1 | TRUE | §TRPO | long steps along ∇J can decrease J
TRPO-2 | TRUE | §TRPO | telescoping rewrite of J under another policy's trajectories
TRPO-3 | TRUE | §TRPO | J(π') − J(π) = E_{π'}[Σγ^t δ̄] (first form)
TRPO-4 | TRUE | §TRPO | E[V^{π'}(s0)] = E_{π'}[Σγ^t r]
TRPO-5 | TRUE | §TRPO | performance-difference lemma
TRPO-6 | TRUE | §TRPO | exchange of sum and expectation
TRPO-7 | TRUE | §TRPO | visitation form of the performance difference
OCC-1 | TRUE | §OCC | ν^π = (1 − γ)Σγ^t P_t is a distribution
OCC-2 | TRUE | §OCC | ν satisfies the flow recursion (a fixed point, not a finite computation)
OCC-3 | TRUE | §OCC | occupancy measure: flow constraints, J = ⟨ρ, R⟩/(1 − γ), π from ρ
OCC-4 | TRUE | §OCC | ρ^π(s, a) = ν^π(s)π(a|s)
TRPO-8 | TRUE | §TRPO | non-negative expected advantage under ν^{π'} ⇒ J(π') ≥ J(π)
TRPO-9 | COND | §TRPO | visitation shift bounded by the policy's TV distance
TRPO-10 | TRUE | §TRPO | surrogate L_θ(θ') matches J to first order
TRPO-11 | FALSE | §TRPO | IS surrogate as printed (wrong sampling policy, missing 1/(1 − γ))
TRPO-12 | COND | §TRPO | old data estimates the surrogate, not J(θ')
TRPO-13 | TRUE | §TRPO | KL-constrained surrogate problem
TRPO-14 | COND | §TRPO | the trust region bounds degradation, it does not guarantee improvement
IS-1 | COND | §IS | importance-sampling identity needs support coverage
IS-2 | TRUE | §IS | IS variance grows with the χ² divergence
IS-3 | COND | §IS | PPO's clip removes an incentive; it is not truncated IS
GAE-1 | TRUE | §GAE | MSE = bias² + variance
GAE-2 | COND | §GAE | δ is unbiased for A^π only with the exact V
GAE-3 | TRUE | §GAE | Σ_l γ^l δ_{t+l} telescopes to the Monte-Carlo return minus V
GAE-4 | TRUE | §GAE | the Monte-Carlo advantage is unbiased for Q^π − V
GAE-5 | FALSE | §GAE | n-step does not reduce bias and variance together
GAE-6 | TRUE | §GAE | k-step advantage identities
GAE-7 | TRUE | §GAE | GAE is the λ-weighted average of k-step advantages
GAE-8 | FALSE | §GAE | λ = 0 case printed as r + γV(s_{t+1} − V(s_t)); correct δ_t
GAE-9 | COND | §GAE | bias/variance in λ (monotone variance only with the exact V)
GAE-10 | TRUE | §GAE | λ = 1 gives the Monte-Carlo return minus V
GAE-11 | TRUE | §GAE | PPO removes TRPO's constraint
PPO-1 | TRUE | §PPO | traditional vs RLHF reward structure
PPO-2 | TRUE | §PPO | model roster of RLHF-PPO
PPO-3 | TRUE | §PPO | adaptive-β directions (rationale imprecise)
PPO-4 | TRUE | §PPO | PPO-penalty objective
PPO-5 | TRUE | §PPO | PPO-clip objective and its piecewise form
PPO-6 | COND | §PPO | A > 0: clip removes the incentive, it does not bound the ratio
PPO-7 | COND | §PPO | A < 0: mirror image of PPO-6
PPO-8 | FALSE | §PPO | "most basic PPO" double-counts π_θ
PPO-9 | FALSE | §PPO | intermediate E_{π_k}[π_θ A] is not a valid approximation
PPO-10 | FALSE | §PPO | IS objective must use A^{π_θk}
PPO-11 | COND | §PPO | the ratio is relative to the old policy, not π_ref
PPO-12 | COND | §PPO | GAE attribution
PPO-13 | COND | §PPO | actor/critic update order with frozen targets
PPO-14 | FALSE | §PPO | GAE recursion printed without λ
PPO-15 | TRUE | §PPO | return target R_t = A_t + V_t is the TD(λ) return
PPO-16 | TRUE | §PPO | critic loss expansion; λ = 0 gives the TD(0) target
PPO-17 | FALSE | §PPO | value clipping printed with swapped bounds
RLHF-1 | TRUE | §PPO | RLHF reward from a reward model plus a KL term
RLHF-2 | TRUE | §PPO | reference model enters through the KL penalty
RLHF-3 | TRUE | §PPO | π_θk ≠ π_ref; KL directions differ
STD-PG-1 | TRUE | §PG | policy-gradient theorem (Sutton et al. 2000)
STD-PG-2 | TRUE | §PG | compatible function approximation
STD-REINF-1 | TRUE | §PG | score-function identity
STD-REINF-2 | TRUE | §PG | Williams' REINFORCE theorem
STD-REINF-3 | TRUE | §PG | causality / reward-to-go
STD-BASE-1 | TRUE | §VAR | variance-optimal baseline
STD-PDL-1 | TRUE | §TRPO | performance-difference lemma (Kakade & Langford 2002)
STD-CPI-1 | TRUE | §TRPO | conservative policy iteration bound
STD-TRPO-1 | TRUE | §TRPO | TRPO Theorem 1 and its KL corollary
STD-TRPO-2 | TRUE | §TRPO | monotonic improvement (MM) algorithm
STD-TRPO-3 | TRUE | §TRPO | first-order match of the surrogate
STD-TRPO-4 | TRUE | §TRPO | Q instead of A changes the surrogate by a constant
STD-CPO-1 | TRUE | §TRPO | visitation shift and CPO performance bound
STD-NG-1 | TRUE | §TRPO | Fisher matrix = Hessian of the KL
STD-NG-2 | TRUE | §TRPO | natural-gradient / TRPO step
STD-NG-3 | TRUE | §TRPO | NPG for tabular softmax
STD-CG-1 | TRUE | §TRPO | conjugate-gradient properties
STD-GAE-1 | TRUE | §GAE | γ-just estimators (GAE Proposition 1)
STD-GAE-2 | TRUE | §GAE | λ = 1 is γ-just for any V; λ = 0 only for V = V^π
STD-GAE-3 | TRUE | §GAE | A_t + V_t is the TD(λ) return
STD-GAE-4 | TRUE | §GAE | reward-shaping interpretation
STD-GAE-5 | TRUE | §GAE | exact GAE bias and its bound
STD-GAE-6 | TRUE | §GAE | variance monotone in λ with the exact critic
STD-GAE-7 | TRUE | §GAE | truncated GAE on a segment (exponent T − t − 1)
STD-PPO-1 | TRUE | §PPO | adaptive KL penalty rule
STD-PPO-2 | TRUE | §PPO | L^CLIP ≤ L^CPI, first-order match
STD-PPO-3 | TRUE | §PPO | zero-gradient set of the clipped objective
STD-PPO-4 | TRUE | §PPO | combined objective and sign convention
STD-PPO-5 | TRUE | §PPO | value clipping as implemented
STD-KL-1 | TRUE | §PPO | KL estimators k1, k2, k3
STD-KL-2 | TRUE | §PPO | KL direction and sampling distribution
STD-RLHF-1 | TRUE | §PPO | per-token RLHF reward
STD-RLHF-2 | TRUE | §PPO | sum of per-token rewards and its expectation
STD-RLHF-3 | TRUE | §PPO | optimum of the KL-regularised objective
STD-RLHF-4 | TRUE | §PPO | Ziegler's adaptive KL controller
STD-RLHF-5 | TRUE | §PPO | GAE and whitening in RLHF
STD-RLHF-6 | TRUE | §PPO | InstructGPT PPO-ptx objective
STD-TT-1 | TRUE | §PPO | masking: terminated stops the bootstrap, done stops the recursion
STD-TT-2 | TRUE | §PPO | bootstrapping at truncation is unbiased; treating it as termination is not
"""
)
