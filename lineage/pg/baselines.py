"""Baselines and the exact variance of an estimator: the variance-optimal constant b* of Greensmith, Bartlett &
Baxter (2004) and tr Var of a vector estimator under a finite law (enumerated outcomes with their probabilities)."""

from __future__ import annotations

from lineage.arrays import backend_of, to_numpy

PROBABILITY_ATOL = 1e-6


def _weighted(probabilities, **named):
    backend = backend_of(probabilities, *named.values())
    p, *arrays = backend.floats(probabilities=probabilities, **named)
    if p.ndim != 1 or p.shape[0] == 0:
        raise ValueError(f"probabilities: expected shape [N] with N >= 1, got {tuple(p.shape)}")
    if bool((p < 0).any()) or abs(float(to_numpy(p.sum())) - 1.0) > PROBABILITY_ATOL:
        raise ValueError("probabilities: entries must be >= 0 and sum to 1")
    for name, x in zip(named, arrays, strict=True):
        if x.ndim == 0 or x.shape[0] != p.shape[0]:
            raise ValueError(f"{name}: expected {p.shape[0]} samples along the first axis, got {tuple(x.shape)}")
    return backend, p, arrays


def estimator_variance(probabilities, samples):
    """The exact variance (trace of the covariance) of an estimator under a finite law.

        tr Var[x] = Σ_n p_n ‖x_n − E x‖²,   E x = Σ_n p_n x_n

    over every outcome n (e.g. every enumerated trajectory) with its probability: no sampling (Greensmith, Bartlett
    & Baxter 2004, "Variance Reduction Techniques for Gradient Estimates in Reinforcement Learning", measure the
    variance of a gradient estimate by this trace).

    Claims AC-7, STD-BASE-1, BASE-4, IS-2, GAE-1; notes §VAR, §IS, §GAE.

    Args:
        probabilities: p_n ≥ 0 summing to 1, shape ``[N]``.
        samples: x_n, shape ``[N]`` or ``[N, d]``.

    Returns:
        tr Var[x], a 0-d array; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`),
        differentiable in both.
    """
    backend, p, (x,) = _weighted(probabilities, samples=samples)
    flat = x.reshape(x.shape[0], -1)
    mean = (p[:, None] * flat).sum(axis=0)
    return backend.scalar((p[:, None] * (flat - mean) ** 2).sum())


def optimal_baseline(probabilities, scores, returns):
    """The constant baseline with the least variance of (G − b)·g, g = ∇log π (Greensmith, Bartlett & Baxter 2004).

        b* = E[‖g‖² G] / E[‖g‖²],   tr Var[(G − b) g] = tr Var[(G − b*) g] + (b − b*)² E[‖g‖²]

    The variance is a convex quadratic in b with its minimum at b*, which is generally not E[G] = V (Weaver & Tao
    2001; the notes' "the baseline reduces variance" holds for b* but not for every b, not even for b = V: AC-7).

    Claims AC-7, STD-BASE-1; notes §VAR.

    Args:
        probabilities: p_n ≥ 0 summing to 1, shape ``[N]`` (e.g. π(a) for every action a of a state).
        scores: g_n = ∇log π for each outcome, shape ``[N, d]``.
        returns: G_n, shape ``[N]``.

    Returns:
        b*, a 0-d array; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`).

    Raises:
        ValueError: if every score is 0 (then every b has the same variance), or on malformed input.
    """
    backend, p, (g, G) = _weighted(probabilities, scores=scores, returns=returns)
    if g.ndim != 2 or G.ndim != 1:
        raise ValueError(f"scores: expected shape [N, d] with returns [N], got {tuple(g.shape)} and {tuple(G.shape)}")
    norms = p * (g * g).sum(axis=1)
    if float(to_numpy(norms.sum())) == 0.0:
        raise ValueError("scores: every score is 0, so every baseline gives the same variance")
    return backend.scalar((norms * G).sum() / norms.sum())


def per_parameter_optimal_baseline(probabilities, scores, returns):
    """The variance-optimal baseline of each coordinate of the gradient estimate (Greensmith, Bartlett & Baxter 2004).

        b*_k = E[g_k² G] / E[g_k²],   minimising Var[(G − b_k) g_k] coordinate by coordinate

    so its total variance is at most that of the scalar b* (and of every scalar b). A coordinate whose score is
    always 0 gets b*_k = 0 (any value is optimal there).

    Claims AC-7, STD-BASE-1; notes §VAR.

    Args:
        probabilities: p_n ≥ 0 summing to 1, shape ``[N]``.
        scores: g_n, shape ``[N, d]``.
        returns: G_n, shape ``[N]``.

    Returns:
        b*, shape ``[d]``; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`).
    """
    backend, p, (g, G) = _weighted(probabilities, scores=scores, returns=returns)
    if g.ndim != 2 or G.ndim != 1:
        raise ValueError(f"scores: expected shape [N, d] with returns [N], got {tuple(g.shape)} and {tuple(G.shape)}")
    second = (p[:, None] * g * g).sum(axis=0)
    weighted = (p[:, None] * g * g * G[:, None]).sum(axis=0)
    safe = backend.xp.where(second > 0, second, second * 0 + 1)
    return backend.xp.where(second > 0, weighted / safe, second * 0)
