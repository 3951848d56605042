"""Score functions ∇_θ log π_θ(a|s): the factor every policy-gradient estimator multiplies by its weight ψ_t."""

from __future__ import annotations

import numbers

import numpy as np

from lineage.arrays import backend_of


def _indices(name: str, x, size: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as an integer numpy array with entries in [0, size) (and of ``shape`` if given), else ``ValueError``."""
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or (arr.dtype == object and _all_ints(arr))):
        raise ValueError(f"{name}: expected integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ValueError(f"{name}: every index must lie in [0, {size}), got {arr.min()} … {arr.max()}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    return arr


def _all_ints(arr: np.ndarray) -> bool:
    return all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in arr.ravel())


def _one_hot(backend, index: np.ndarray, size: int, dtype):
    return backend.astype(backend.index_array(index[..., None] == np.arange(size)), dtype)


def softmax_score(logits, actions):
    """The score of a categorical softmax policy, ∇_z log π(a) = e_a − π, per sample.

        π = softmax(z),   ∂ log π(a) / ∂z_b = 1[a = b] − π(b)

    the log-derivative step ∇π = π ∇log π of the policy-gradient theorem for the softmax (Williams 1992, "Simple
    Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning", the characteristic
    eligibility; Sutton et al. 2000). Its mean under π is 0: Σ_a π(a)(e_a − π) = 0.

    Claims PG-4, AC-6, STD-REINF-1; notes §PG, §AC.

    Args:
        logits: z, shape ``[..., A]`` (one row of logits per sample; a numpy object array of SymPy expressions
            gives the exact score).
        actions: integer actions in [0, A), shape ``[...]`` (the leading shape of ``logits``).

    Returns:
        ∇_z log π(a), shape ``[..., A]``; numpy or torch like ``logits`` (array rule of :mod:`lineage.arrays`),
        differentiable in ``logits``.
    """
    backend = backend_of(logits)
    (z,) = backend.floats(logits=logits)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits: expected shape [..., A] with A >= 1, got {tuple(z.shape)}")
    a = _indices("actions", actions, z.shape[-1], tuple(z.shape[:-1]))
    return _one_hot(backend, a, z.shape[-1], z.dtype) - backend.xp.exp(backend.log_softmax(z))


def tabular_softmax_score(logits, states, actions):
    """The score of the tabular softmax policy π(a|s) = softmax(θ[s])_a with respect to the whole table θ[S, A].

        ∂ log π(a|s) / ∂θ[s', b] = 1[s' = s] (1[a = b] − π(b|s))

    nonzero only in the row of the visited state (Sutton & Barto 2018, *Reinforcement Learning: An Introduction*,
    §13.1; the tabular parametrisation of Sutton et al. 2000 and Agarwal et al. 2021).

    Claims PG-4, STD-REINF-1, STD-PG-1; notes §PG.

    Args:
        logits: θ, shape ``[S, A]``.
        states: integer states in [0, S), any shape ``[...]``.
        actions: integer actions in [0, A), the shape of ``states``.

    Returns:
        ∇_θ log π(a|s) for every (state, action) pair, shape ``[..., S, A]``; numpy or torch like ``logits``
        (array rule of :mod:`lineage.arrays`), differentiable in ``logits``.
    """
    backend = backend_of(logits)
    (z,) = backend.floats(logits=logits)
    if z.ndim != 2:
        raise ValueError(f"logits: expected shape [S, A], got {tuple(z.shape)}")
    s = _indices("states", states, z.shape[0])
    a = _indices("actions", actions, z.shape[1], s.shape)
    row = softmax_score(z[backend.index_array(s)], a)
    return _one_hot(backend, s, z.shape[0], z.dtype)[..., :, None] * row[..., None, :]


def linear_softmax_score(features, theta, states=None, actions=None):
    """The score of the linear-feature softmax π_θ(a|s) ∝ exp(φ(s, a)ᵀθ), θ shared by all states.

        ∇_θ log π_θ(a|s) = φ(s, a) − Σ_b π_θ(b|s) φ(s, b)

    the feature minus its mean under the policy (Sutton & Barto 2018, *Reinforcement Learning: An Introduction*,
    Exercise 13.3; Williams 1992's characteristic eligibility). :meth:`lineage.tabular.LinearSoftmaxPolicy.score`
    is this table.

    Claims PG-4, STD-PG-1, STD-REINF-1; notes §PG.

    Args:
        features: φ, shape ``[S, A, K]``.
        theta: θ, shape ``[K]``.
        states: None for the whole table, or integer states in [0, S) of any shape ``[...]``.
        actions: None, or integer actions in [0, A) of the shape of ``states`` (both or neither).

    Returns:
        ``[S, A, K]`` (the table) or ``[..., K]`` (one score per pair); numpy or torch like the inputs (array rule
        of :mod:`lineage.arrays`), differentiable in ``theta`` and ``features``.
    """
    backend = backend_of(features, theta)
    phi, th = backend.floats(features=features, theta=theta)
    if phi.ndim != 3:
        raise ValueError(f"features: expected shape [S, A, K], got {tuple(phi.shape)}")
    if tuple(th.shape) != (phi.shape[2],):
        raise ValueError(f"theta: expected shape ({phi.shape[2]},) like the features' K, got {tuple(th.shape)}")
    pi = backend.xp.exp(backend.log_softmax((phi * th).sum(axis=-1)))
    table = phi - (pi[..., None] * phi).sum(axis=-2)[:, None, :]
    if (states is None) != (actions is None):
        raise ValueError("actions: give states and actions together, or neither for the whole table")
    if states is None:
        return table
    s = _indices("states", states, phi.shape[0])
    a = _indices("actions", actions, phi.shape[1], s.shape)
    return table[backend.index_array(s), backend.index_array(a)]


def gaussian_score(mean, log_std, actions):
    """The score of a diagonal Gaussian policy N(μ, diag σ²) in its mean and its log standard deviation.

        log π(a) = Σ_k [−(a_k − μ_k)² / (2σ_k²) − log σ_k − ½ log 2π]
        ∂ log π / ∂μ_k = (a_k − μ_k) / σ_k²,   ∂ log π / ∂log σ_k = (a_k − μ_k)² / σ_k² − 1

    (Williams 1992, "Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning",
    §6, Gaussian units). Both have mean 0 under π.

    Claims PG-4, STD-REINF-1; notes §PG.

    Args:
        mean: μ, any shape.
        log_std: log σ, the shape of ``mean``.
        actions: a, the shape of ``mean``.

    Returns:
        (∇_μ log π, ∇_{log σ} log π), each of the shape of ``mean``; numpy or torch like the inputs (array rule of
        :mod:`lineage.arrays`), differentiable in all three.
    """
    backend = backend_of(mean, log_std, actions)
    mu, log_sigma, a = backend.floats(mean=mean, log_std=log_std, actions=actions)
    for name, x in (("log_std", log_sigma), ("actions", a)):
        if tuple(x.shape) != tuple(mu.shape):
            raise ValueError(f"{name}: expected shape {tuple(mu.shape)} like mean, got {tuple(x.shape)}")
    z = (a - mu) * backend.xp.exp(-log_sigma)
    return z * backend.xp.exp(-log_sigma), z * z - 1
