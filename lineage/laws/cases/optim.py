"""Inputs of TRPO's optimisation contracts (notes §TRPO): symmetric positive definite systems for the conjugate
gradient, linear-softmax policy batches for the Fisher-vector product and the line search, with their strategies
and exact (float64 closed-form) quantities.

These contracts take *functions* as arguments (``matvec``, ``surrogate``, ``kl``). A case stays plain data (lists
and floats, readable in a report); ``inputs()`` builds each function argument as a :class:`SourceFunction`: a
callable defined by a few lines of Python source over named constant arrays. Called with a numpy array or a torch
tensor it computes in that framework and dtype (the array rule, for the argument's argument), and
``source(numerics)`` prints the same lines, with the constants as literals of the target's framework and dtype,
so that a repro defines exactly the function the target was given.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from lineage.arrays import is_torch

# --------------------------------------------------------------------------------------------------
# Function arguments
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SourceFunction:
    """A function argument of a case: ``code`` defines ``name`` over the ``constants`` (float64 arrays) and the
    array namespace ``xp``; each call evaluates it in the framework and dtype of its first argument."""

    name: str
    code: str
    constants: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        """How many numbers a repro prints for it."""
        return sum(int(np.size(c)) for c in self.constants.values())

    def __call__(self, value):
        key = (type(value).__module__, str(getattr(value, "dtype", "")))
        cache = self.__dict__.setdefault("_functions", {})
        if key not in cache:
            cache[key] = self._compiled(value)
        return cache[key](value)

    def _compiled(self, value):
        if is_torch(value):
            import torch

            dtype = value.dtype if value.is_floating_point() else torch.float64
            namespace = {"xp": torch, **{k: torch.from_numpy(c).to(dtype) for k, c in self.constants.items()}}
        else:
            dtype = np.asarray(value).dtype
            dtype = dtype if np.issubdtype(dtype, np.floating) else np.float64
            namespace = {"xp": np, **{k: c.astype(dtype) for k, c in self.constants.items()}}
        exec(_code(self.code, self.name), namespace)
        return namespace[self.name]

    def source(self, numerics) -> list[str]:
        """Lines that define the same function, constants printed as ``numerics`` (a framework and a dtype) gives
        them to the target."""
        xp = "torch" if numerics.framework == "torch" else "np"
        constants = [f"{k} = {numerics.literal(c)}" for k, c in self.constants.items()]
        return [f"xp = {xp}", *constants, *self.code.splitlines()]

    def __repr__(self) -> str:
        return f"<{self.name}: {self.code.splitlines()[-1].strip()}>"


@cache
def _code(code: str, name: str):
    return compile(code, f"<lineage case function {name}>", "exec")


def is_function_argument(value) -> bool:
    return isinstance(value, SourceFunction)


# --------------------------------------------------------------------------------------------------
# Conjugate gradient
# --------------------------------------------------------------------------------------------------
MATVEC = "def matvec(v):\n    return A @ v"


@dataclass(frozen=True)
class LinearSystem:
    """A x = b with A symmetric positive definite (A = Q diag(λ) Qᵀ, Q orthogonal), and the CG call's ``iters`` and
    ``tol``; the target receives ``matvec`` (v ↦ A·v) and ``b``."""

    matrix: list
    b: list
    iters: int
    tol: float = 0.0

    def inputs(self) -> dict:
        return {"matvec": SourceFunction("matvec", MATVEC, {"A": self.a()}), "b": np.array(self.b, dtype=np.float64)}

    def a(self) -> np.ndarray:
        return np.array(self.matrix, dtype=np.float64)

    @property
    def n(self) -> int:
        return len(self.b)

    def solution(self) -> np.ndarray:
        """x* = A⁻¹b (float64 solve)."""
        return np.linalg.solve(self.a(), np.array(self.b, dtype=np.float64))

    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.a())

    def condition(self) -> float:
        """κ = λ_max / λ_min of the stored matrix."""
        values = self.eigenvalues()
        return float(values[-1] / values[0])

    def a_norm(self, e: np.ndarray) -> float:
        """‖e‖_A = √(eᵀAe)."""
        return float(np.sqrt(max(float(e @ self.a() @ e), 0.0)))

    def with_iters(self, iters: int) -> LinearSystem:
        return LinearSystem(self.matrix, self.b, iters, self.tol)


def _orthogonal(seed: int, n: int) -> np.ndarray:
    """Q of the QR decomposition of a Gaussian n × n matrix drawn from ``seed`` (Haar-distributed up to signs). A
    seed rather than n² drawn entries: drawing 144 floats per case made Hypothesis' generation the cost of the law;
    the case still stores the matrix itself, so a counterexample reads as numbers."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q


def _spd(q: np.ndarray, eigenvalues: list) -> list:
    a = q @ np.diag(eigenvalues) @ q.T
    return ((a + a.T) / 2).tolist()


@cache
def _unit(low: float = -1.0, high: float = 1.0) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


MAX_N = 12
MAX_CONDITION = 1e4


@st.composite
def spd_systems(draw, max_n: int = MAX_N, distinct: bool = False) -> LinearSystem:
    """Random SPD systems, n ≤ 12 and κ ≤ 1e4: eigenvalues s·κ^t with t ∈ [0, 1] (t = 0 and 1 both present for
    n ≥ 2), the scale s ∈ [1e-2, 1e2], Q a random orthogonal matrix, b ∈ [−1, 1]^n; ``iters`` = n. With
    ``distinct``, only k ≤ n distinct eigenvalues (each repeated) and ``iters`` = k."""
    n = draw(st.integers(1, max_n))
    log_condition = draw(_unit(0.0, float(np.log10(MAX_CONDITION))))
    scale = 10 ** draw(_unit(-2.0, 2.0))
    k = draw(st.integers(1, n)) if distinct else n
    t = [0.0, 1.0][:k] + draw(st.lists(_unit(0.0, 1.0), min_size=max(k - 2, 0), max_size=max(k - 2, 0)))
    values = sorted({scale * 10 ** (log_condition * x) for x in t})
    assume(len(values) == k)
    eigenvalues = [values[i % k] for i in range(n)]
    q = _orthogonal(draw(st.integers(0, 2**32 - 1)), n) if n > 1 else np.ones((1, 1))
    b = draw(st.lists(_unit(), min_size=n, max_size=n))
    return LinearSystem(_spd(q, eigenvalues), b, iters=k)


def distinct_eigenvalue_systems() -> st.SearchStrategy[LinearSystem]:
    return spd_systems(distinct=True)


# --------------------------------------------------------------------------------------------------
# Linear-softmax policies: the Fisher-vector product and the line search
# --------------------------------------------------------------------------------------------------
def softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class FisherCase:
    """A batch of states x_b ([B, d]) of the policy softmax(x_bᵀθ) over K actions, θ ([d, K]), a vector v ([d, K])
    and the damping c."""

    features: list
    theta: list
    v: list
    damping: float

    def inputs(self) -> dict[str, np.ndarray]:
        return {name: np.array(getattr(self, name), dtype=np.float64) for name in ("features", "theta", "v")}


@st.composite
def fisher_cases(draw) -> FisherCase:
    """B ≤ 4 states, d ≤ 3 features in [−2, 2], K ≤ 3 actions (K = 1: F = 0), θ and v in [−2, 2], c = 0 or in
    [0, 1]."""
    b, d, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))

    def matrix(rows, cols):
        return draw(st.lists(st.lists(_unit(-2.0, 2.0), min_size=cols, max_size=cols), min_size=rows, max_size=rows))

    damping = draw(st.one_of(st.just(0.0), _unit(0.0, 1.0)))
    return FisherCase(matrix(b, d), matrix(d, k), matrix(d, k), damping)


SURROGATE = """def surrogate(theta):
    logits = features @ theta.reshape(features.shape[1], -1)
    logp = logits - xp.log(xp.exp(logits).sum(1))[:, None]
    return (xp.exp((logp * taken).sum(1) - logp_taken_old) * advantages).mean()"""
MEAN_KL = """def kl(theta):
    logits = features @ theta.reshape(features.shape[1], -1)
    logp = logits - xp.log(xp.exp(logits).sum(1))[:, None]
    return (xp.exp(logp_old) * (logp_old - logp)).sum(1).mean()"""


@dataclass(frozen=True)
class LineSearchCase:
    """TRPO's line search on a batch of a linear-softmax policy: states x_b ([B, d]), the actions taken and their
    advantages, the old parameters θ_old (flattened [d·K], row-major), the full step Δ, δ, the number of trials and
    the shrink ratio. The target receives ``surrogate`` (θ ↦ mean_b π_θ(a_b|s_b)/π_old(a_b|s_b)·A_b) and ``kl``
    (θ ↦ mean_b KL(π_old(·|s_b) ‖ π_θ(·|s_b))), ``theta_old`` and ``full_step``."""

    features: list
    actions: list
    advantages: list
    theta_old: list
    full_step: list
    max_kl: float
    max_backtracks: int
    backtrack_ratio: float

    def constants(self) -> dict[str, np.ndarray]:
        x = np.array(self.features, dtype=np.float64)
        logp_old = self.log_probs(np.array(self.theta_old, dtype=np.float64))
        taken = np.eye(self.num_actions)[np.array(self.actions, dtype=int)]
        return {
            "features": x,
            "taken": taken,
            "logp_taken_old": (logp_old * taken).sum(1),
            "logp_old": logp_old,
            "advantages": np.array(self.advantages, dtype=np.float64),
        }

    def inputs(self) -> dict:
        c = self.constants()
        return {
            "surrogate": SourceFunction("surrogate", SURROGATE, {k: c[k] for k in SURROGATE_CONSTANTS}),
            "kl": SourceFunction("kl", MEAN_KL, {k: c[k] for k in ("features", "logp_old")}),
            "theta_old": np.array(self.theta_old, dtype=np.float64),
            "full_step": np.array(self.full_step, dtype=np.float64),
        }

    @property
    def num_actions(self) -> int:
        return len(self.theta_old) // len(self.features[0])

    def logits(self, theta: np.ndarray) -> np.ndarray:
        x = np.array(self.features, dtype=np.float64)
        return x @ np.asarray(theta, dtype=np.float64).reshape(x.shape[1], -1)

    def log_probs(self, theta: np.ndarray) -> np.ndarray:
        return log_softmax_rows(self.logits(theta))

    def surrogate(self, theta: np.ndarray) -> float:
        """L(θ) = mean_b exp(log π_θ(a_b|s_b) − log π_old(a_b|s_b))·A_b (float64)."""
        rows = np.arange(len(self.actions))
        log_ratio = self.log_probs(theta)[rows, self.actions] - self.log_probs(self.old())[rows, self.actions]
        return float(np.mean(np.exp(log_ratio) * np.array(self.advantages)))

    def surrogate_scale(self, theta: np.ndarray) -> float:
        """mean_b |r_b A_b|: the size of the terms the surrogate sums."""
        rows = np.arange(len(self.actions))
        log_ratio = self.log_probs(theta)[rows, self.actions] - self.log_probs(self.old())[rows, self.actions]
        return float(np.mean(np.abs(np.exp(log_ratio) * np.array(self.advantages))))

    def kl(self, theta: np.ndarray) -> float:
        """mean_b KL(π_old(·|s_b) ‖ π_θ(·|s_b)) (float64)."""
        log_old = self.log_probs(self.old())
        return float(np.mean((np.exp(log_old) * (log_old - self.log_probs(theta))).sum(axis=1)))

    def old(self) -> np.ndarray:
        return np.array(self.theta_old, dtype=np.float64)

    def step(self) -> np.ndarray:
        return np.array(self.full_step, dtype=np.float64)

    def candidates(self) -> list[np.ndarray]:
        """θ_i = θ_old + ratio^i·Δ, i = 0 … max_backtracks − 1."""
        return [self.old() + self.backtrack_ratio**i * self.step() for i in range(self.max_backtracks)]

    def logit_scale(self) -> float:
        """1 + the largest |logit| at θ_old and every trial: the size log-probabilities round with."""
        return 1.0 + max(float(np.max(np.abs(self.logits(t)))) for t in [self.old(), *self.candidates()])


SURROGATE_CONSTANTS = ("features", "taken", "logp_taken_old", "advantages")


@st.composite
def line_search_cases(draw) -> LineSearchCase:
    """B ≤ 4 states, d ≤ 2 features in [−1, 1], K ∈ {2, 3} actions, θ_old in [−1, 1], advantages in [−1, 1]. The
    full step is s·(m·g/‖g‖ + (1 − m)·u): g the surrogate's gradient at θ_old, u a random direction, m ∈ [0, 1],
    s ∈ [0, 3] (so some searches succeed at once, some backtrack and some fail); δ ∈ [1e-4, 0.1], 1 to 10 trials,
    ratio ∈ [0.3, 0.9]."""
    b, d, k = draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(2, 3))
    features = draw(st.lists(st.lists(_unit(), min_size=d, max_size=d), min_size=b, max_size=b))
    actions = draw(st.lists(st.integers(0, k - 1), min_size=b, max_size=b))
    advantages = draw(st.lists(_unit(), min_size=b, max_size=b))
    theta_old = draw(st.lists(_unit(), min_size=d * k, max_size=d * k))
    noise = np.array(draw(st.lists(_unit(), min_size=d * k, max_size=d * k)))
    mix, size = draw(_unit(0.0, 1.0)), draw(_unit(0.0, 3.0))
    partial = LineSearchCase(features, actions, advantages, theta_old, [0.0] * (d * k), 0.0, 1, 0.5)
    g = surrogate_gradient(partial)
    direction = mix * g / max(float(np.linalg.norm(g)), 1e-12) + (1 - mix) * noise
    return LineSearchCase(
        features,
        actions,
        advantages,
        theta_old,
        (size * direction).tolist(),
        max_kl=10 ** draw(_unit(-4.0, -1.0)),
        max_backtracks=draw(st.integers(1, 10)),
        backtrack_ratio=draw(_unit(0.3, 0.9)),
    )


def surrogate_gradient(case: LineSearchCase) -> np.ndarray:
    """∇L(θ_old) = mean_b A_b x_b ⊗ (e_{a_b} − π_old(·|s_b)) (flattened like θ), the policy gradient."""
    x = np.array(case.features, dtype=np.float64)
    p = np.exp(case.log_probs(case.old()))
    onehot = np.eye(case.num_actions)[np.array(case.actions, dtype=int)]
    g = x.T @ ((onehot - p) * np.array(case.advantages)[:, None]) / x.shape[0]
    return g.reshape(-1)


@st.composite
def failing_line_search_cases(draw) -> LineSearchCase:
    """Searches no trial passes: δ set to a fraction f ∈ [0, 0.5] of the smallest trial's KL, or the step reversed
    (−Δ along the surrogate's descent direction) with every trial checked to lower the surrogate."""
    case = draw(line_search_cases())
    smallest = case.candidates()[-1]
    if draw(st.booleans()):
        kl = case.kl(smallest)
        assume(kl > 1e-6)
        return dataclasses.replace(case, max_kl=kl * draw(_unit(0.0, 0.5)))
    g = surrogate_gradient(case)
    assume(float(np.linalg.norm(g)) > 1e-3)
    reversed_case = dataclasses.replace(case, full_step=(-draw(_unit(0.01, 1.0)) * g / np.linalg.norm(g)).tolist())
    baseline = reversed_case.surrogate(reversed_case.old())
    assume(all(reversed_case.surrogate(t) < baseline - 1e-6 for t in reversed_case.candidates()))
    return reversed_case


# Tianshou PR #1287: one trial (max_backtracks = 1) whose KL exceeds δ: the parameters must stay θ_old.
TIANSHOU_FAILED_SEARCH = LineSearchCase(
    features=[[1.0]],
    actions=[0],
    advantages=[1.0],
    theta_old=[0.0, 0.0],
    full_step=[2.0, -2.0],
    max_kl=0.01,
    max_backtracks=1,
    backtrack_ratio=0.8,
)
