"""STD-NG-1, STD-NG-2 (notes §TRPO): lineage.optim.hessian_vector_product, TRPO's Fisher-vector product for any
differentiable policy, against matrices formed explicitly by another route.

* Linear softmax policy: the double-backward product of the mean KL equals (F + c·I)·v with F the explicit float64
  matrix (1/B) Σ_b J_bᵀ(diag p_b − p_b p_bᵀ)J_b of lineage.laws.exact_optim (the oracle of fisher_vector_product's
  contract), in float64 and float32.
* Neural policies (a tanh MLP, categorical and diagonal Gaussian heads): F is the Fisher matrix of the policy's output
  distribution pulled back through the network's Jacobian, F = (1/B) Σ_b J_bᵀ G_b J_b, J_b = ∂(outputs of s_b)/∂θ by
  torch.autograd.functional.jacobian, G_b = diag p_b − p_b p_bᵀ (logits) or diag(σ⁻², 2) (mean, log σ): the Hessian
  of the mean KL at θ' = θ (Schulman et al. 2015, Appendix C; Pascanu & Bengio 2014), formed without any second
  derivative.
* A function with a known Hessian everywhere: f(θ) = ½θᵀAθ + bᵀθ + Σ_i θ_i³/6 has ∇²f = A + diag θ.

Tolerances come from the dtype: :func:`~lineage.laws.tolerance.scaled_tolerance` of eps(dtype) over the terms of the
product, sized by the same product taken in absolute values (so a cancelling result cannot hide an error). Plants
seen to fail: the damping dropped or squared, the product halved, the gradient·v instead of the Hessian·v, the
first backward without ``create_graph`` (then H·v = 0).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.exact_optim import fisher_matrix
from lineage.laws.tolerance import scaled_tolerance
from lineage.optim import hessian_vector_product

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

DTYPES = {"float64": torch.float64, "float32": torch.float32}
DAMPINGS = st.sampled_from([0.0, 1e-3, 0.1, 1.0])
ENTRIES = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)


def eps(dtype: torch.dtype) -> float:
    return float(torch.finfo(dtype).eps)


def assert_product(actual: torch.Tensor, desired: np.ndarray, magnitude: np.ndarray, dtype, terms: int, what: str):
    """|actual − desired| ≤ scaled_tolerance(eps(dtype), magnitude, terms) entrywise; magnitude is the product in
    absolute values (float64)."""
    assert actual.dtype == dtype and actual.shape == desired.shape, (actual.dtype, actual.shape, desired.shape)
    error = np.abs(actual.double().numpy() - desired)
    allowed = np.array([scaled_tolerance(eps(dtype), float(m), terms) for m in magnitude.ravel()]).reshape(error.shape)
    worst = int(np.argmax(error - allowed))
    assert np.all(error <= allowed), (
        f"{what}: |Hv − exact| = {error.ravel()[worst]:.3g} > {allowed.ravel()[worst]:.3g} at {worst}\n"
        f"actual = {actual.double().numpy()!r}\nexact = {desired!r}"
    )


# --------------------------------------------------------------------------------------------------------
# linear softmax policy: the double backward against the explicit F of the optim contracts' oracle
# --------------------------------------------------------------------------------------------------------
@st.composite
def linear_problems(draw):
    batch, d, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    features = draw(arrays(np.float64, (batch, d), elements=ENTRIES))
    theta = draw(arrays(np.float64, (d, k), elements=ENTRIES))
    v = draw(arrays(np.float64, (d * k,), elements=ENTRIES))
    return features, theta, v, draw(DAMPINGS)


@pytest.mark.claim("STD-NG-1", "STD-NG-2")
@pytest.mark.parametrize("dtype", list(DTYPES))
@given(problem=linear_problems())
def test_double_backward_of_the_linear_softmax_mean_kl_is_the_explicit_fisher_product(dtype, problem):
    """STD-NG-1, STD-NG-2: for π_θ(·|s_b) = softmax(x_bᵀθ), hessian_vector_product of θ' ↦ (1/B) Σ_b KL(π_θ ‖ π_θ')
    at θ' = θ is (F + c·I)·v with F = (1/B) Σ_b J_bᵀ(diag p_b − p_b p_bᵀ)J_b formed explicitly in float64."""
    features, theta, v, damping = problem
    torch_dtype = DTYPES[dtype]
    x = torch.as_tensor(features, dtype=torch_dtype)
    shape = theta.shape
    theta_t = torch.as_tensor(theta.reshape(-1), dtype=torch_dtype)
    log_old = torch.log_softmax(x @ theta_t.reshape(shape), dim=1)

    def mean_kl(point):
        log_new = torch.log_softmax(x @ point.reshape(shape), dim=1)
        return (log_old.exp() * (log_old - log_new)).sum(dim=1).mean()

    actual = hessian_vector_product(mean_kl, theta_t, torch.as_tensor(v, dtype=torch_dtype), damping=damping)
    # the oracle at the inputs as rounded to the dtype
    x64, th64, v64 = (t.double().numpy() for t in (x, theta_t.reshape(shape), torch.as_tensor(v, dtype=torch_dtype)))
    fisher = fisher_matrix(x64, th64)
    desired = fisher @ v64 + damping * v64
    logits = np.abs(x64) @ np.abs(th64)
    size = np.abs(x64).max() ** 2 * np.abs(v64).sum() * (1.0 + logits.max())
    magnitude = np.full(desired.shape, 4.0 * size) + damping * np.abs(v64)
    assert_product(actual, desired, magnitude, torch_dtype, features.size * shape[1] + 8, "linear softmax")


# --------------------------------------------------------------------------------------------------------
# neural policies: the double backward against J_bᵀ G_b J_b (no second derivative)
# --------------------------------------------------------------------------------------------------------
@st.composite
def network_problems(draw):
    batch, n_obs, hidden, n_out = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
    )
    gaussian = draw(st.booleans())
    n = hidden * n_obs + hidden + n_out * hidden + n_out + (n_out if gaussian else 0)
    obs = draw(arrays(np.float64, (batch, n_obs), elements=ENTRIES))
    theta = draw(arrays(np.float64, (n,), elements=ENTRIES))
    v = draw(arrays(np.float64, (n,), elements=ENTRIES))
    return obs, (n_obs, hidden, n_out), gaussian, theta, v, draw(DAMPINGS)


def network_outputs(obs: torch.Tensor, theta: torch.Tensor, sizes: tuple[int, int, int], gaussian: bool):
    """The outputs of the one-hidden-layer tanh network at θ: logits [B, K], or (mean [B, d], log σ [d])."""
    n_obs, hidden, n_out = sizes
    parts = torch.split(theta, [hidden * n_obs, hidden, n_out * hidden, n_out] + ([n_out] if gaussian else []))
    h = torch.tanh(obs @ parts[0].reshape(hidden, n_obs).T + parts[1])
    out = h @ parts[2].reshape(n_out, hidden).T + parts[3]
    return (out, parts[4]) if gaussian else out


def kl_of_outputs(old, new, gaussian: bool) -> torch.Tensor:
    """The mean KL(old ‖ new) over the batch, written from its definition."""
    if not gaussian:
        log_old, log_new = torch.log_softmax(old, dim=1), torch.log_softmax(new, dim=1)
        return (log_old.exp() * (log_old - log_new)).sum(dim=1).mean()
    (mu_p, ls_p), (mu_q, ls_q) = old, new
    terms = ls_q - ls_p + (torch.exp(2 * ls_p) + (mu_p - mu_q) ** 2) / (2 * torch.exp(2 * ls_q)) - 0.5
    return terms.sum(dim=1).mean()


def logit_curvature(obs: np.ndarray, theta: np.ndarray, sizes: tuple[int, int, int]) -> np.ndarray:
    """Σ_{b,k} |∇²_θ z_bk| of z = W₂ tanh(W₁s + b₁) + b₂, by hand: with a = W₁s + b₁ and u = (s, 1) the inputs of
    hidden unit j, ∂²z_k/∂W₂[k,j]∂(W₁[j], b₁[j]) = tanh'(a_j)·u and ∂²z_k/∂(W₁[j], b₁[j])² = W₂[k,j] tanh''(a_j)·uuᵀ;
    all other second derivatives are 0."""
    n_obs, hidden, n_out = sizes
    w1 = theta[: hidden * n_obs].reshape(hidden, n_obs)
    b1 = theta[hidden * n_obs : hidden * n_obs + hidden]
    w2 = theta[hidden * (n_obs + 1) : hidden * (n_obs + 1) + n_out * hidden].reshape(n_out, hidden)
    total = np.zeros((len(theta), len(theta)))
    for s in obs:
        a = w1 @ s + b1
        t = np.tanh(a)
        d1, d2 = 1 - t**2, -2 * t * (1 - t**2)
        u = np.append(s, 1.0)
        for j in range(hidden):
            rows = [j * n_obs + i for i in range(n_obs)] + [hidden * n_obs + j]  # W₁[j, :], b₁[j]
            for k in range(n_out):
                w2_index = hidden * (n_obs + 1) + k * hidden + j
                total[np.ix_(rows, rows)] += np.abs(w2[k, j] * d2[j] * np.outer(u, u))
                total[rows, w2_index] += np.abs(d1[j] * u)
                total[w2_index, rows] += np.abs(d1[j] * u)
    return total


def pulled_back_fisher(obs, theta, sizes, gaussian: bool) -> tuple[np.ndarray, np.ndarray]:
    """F = (1/B) Σ_b J_bᵀ G_b J_b in float64, and the size of the terms the double backward adds, for the allowance:
    (1/B) Σ_b (|J_b|ᵀ|G_b||J_b| + Σ_k |∇²z_bk|)."""
    obs64, theta64 = obs.double(), theta.double()
    n_out = sizes[2]

    def flat_outputs(point):
        out = network_outputs(obs64, point, sizes, gaussian)
        if not gaussian:
            return out
        mean, log_std = out
        return torch.cat([mean, log_std.expand_as(mean)], dim=1)

    jacobian = torch.autograd.functional.jacobian(flat_outputs, theta64).numpy()  # [B, outputs, n]
    out = flat_outputs(theta64).detach().numpy()
    # Σ_{b,k} |∇²z_bk|: the double backward also multiplies the outputs' second derivatives by ∂KL/∂z, exactly 0
    # in exact arithmetic at θ' = θ but a rounding residual in floating point (Σ_a p_a is not exactly 1)
    curvature = (
        np.zeros((len(theta), len(theta))) if gaussian else logit_curvature(obs64.numpy(), theta64.numpy(), sizes)
    )
    fisher, absolute = np.zeros((len(theta), len(theta))), np.zeros((len(theta), len(theta)))
    for b in range(len(obs64)):
        if gaussian:
            sigma2 = np.exp(2 * out[b, n_out:])
            g = np.diag(np.concatenate([1.0 / sigma2, np.full(n_out, 2.0)]))
            g_abs = g
        else:
            z = out[b] - out[b].max()
            p = np.exp(z) / np.exp(z).sum()
            g, g_abs = np.diag(p) - np.outer(p, p), np.diag(p) + np.outer(p, p)
        j = jacobian[b]
        fisher += j.T @ g @ j
        absolute += np.abs(j).T @ g_abs @ np.abs(j)
    return fisher / len(obs64), absolute / len(obs64) + curvature / len(obs64)


@pytest.mark.claim("STD-NG-1", "STD-NG-2")
@pytest.mark.parametrize("dtype", list(DTYPES))
@settings(max_examples=50)  # each example forms a Jacobian and an n × n matrix: half the default count
@given(problem=network_problems())
def test_double_backward_of_a_network_policy_mean_kl_is_the_pulled_back_fisher_product(dtype, problem):
    """STD-NG-1, STD-NG-2: for a tanh network with a categorical or diagonal Gaussian head, hessian_vector_product
    of the mean KL(π_θ ‖ π_θ') at θ' = θ is (F + c·I)·v with F = (1/B) Σ_b J_bᵀ G_b J_b, the output distribution's
    Fisher matrix G pulled back through the Jacobian J (formed in float64, first derivatives only)."""
    obs_np, sizes, gaussian, theta_np, v_np, damping = problem
    torch_dtype = DTYPES[dtype]
    obs, theta, v = (torch.as_tensor(a, dtype=torch_dtype) for a in (obs_np, theta_np, v_np))
    with torch.no_grad():
        old = network_outputs(obs, theta, sizes, gaussian)

    def mean_kl(point):
        return kl_of_outputs(old, network_outputs(obs, point, sizes, gaussian), gaussian)

    actual = hessian_vector_product(mean_kl, theta, v, damping=damping)
    fisher, absolute = pulled_back_fisher(obs, theta, sizes, gaussian)
    v64 = v.double().numpy()
    desired = fisher @ v64 + damping * v64
    scale = np.exp(2 * np.abs(theta.double().numpy()).max())  # σ⁻² ≤ e^{2 max|θ|} in the Gaussian head
    magnitude = 4.0 * (absolute @ np.abs(v64)) * scale + damping * np.abs(v64)
    terms = len(theta) + len(obs) * (sizes[1] + 1) * (2 * sizes[2] + 2)
    assert_product(actual, desired, magnitude, torch_dtype, terms, "gaussian head" if gaussian else "categorical head")


# --------------------------------------------------------------------------------------------------------
# a function with a known Hessian everywhere (not only at a KL's minimum)
# --------------------------------------------------------------------------------------------------------
@st.composite
def cubic_problems(draw):
    n = draw(st.integers(1, 5))
    a = draw(arrays(np.float64, (n, n), elements=ENTRIES))
    return a + a.T, *(draw(arrays(np.float64, (n,), elements=ENTRIES)) for _ in range(3)), draw(DAMPINGS)


@pytest.mark.claim("STD-NG-1")
@given(problem=cubic_problems())
def test_hessian_vector_product_of_a_cubic_is_its_known_hessian_times_v(problem):
    """STD-NG-1: f(θ) = ½θᵀAθ + bᵀθ + Σ_i θ_i³/6 (A symmetric) has ∇²f(θ) = A + diag θ; hessian_vector_product gives
    (A + diag θ + c·I)·v in float64 at any θ, also away from a minimum."""
    a, b, theta, v, damping = problem
    a_t, b_t = torch.as_tensor(a), torch.as_tensor(b)

    def cubic(point):
        return 0.5 * point @ a_t @ point + b_t @ point + (point**3).sum() / 6

    actual = hessian_vector_product(cubic, torch.as_tensor(theta), torch.as_tensor(v), damping=damping)
    desired = a @ v + theta * v + damping * v
    magnitude = 2 * (np.abs(a) @ np.abs(v) + np.abs(theta * v)) + damping * np.abs(v)
    assert_product(actual, desired, magnitude, torch.float64, 2 * len(v) + 4, "cubic")


@pytest.mark.claim("STD-NG-2")
def test_bad_arguments_name_the_argument():
    """STD-NG-2: a numpy θ, a v of another shape or dtype, a non-scalar f and a negative damping are refused by name."""
    theta = torch.zeros(3, dtype=torch.float64)

    def f(point):
        return (point**2).sum()

    with pytest.raises(ValueError, match=r"^theta:"):
        hessian_vector_product(f, np.zeros(3), np.zeros(3), damping=0.0)
    with pytest.raises(ValueError, match=r"^v:"):
        hessian_vector_product(f, theta, torch.zeros(2, dtype=torch.float64), damping=0.0)
    with pytest.raises(ValueError, match=r"^v:"):
        hessian_vector_product(f, theta, torch.zeros(3, dtype=torch.float32), damping=0.0)
    with pytest.raises(ValueError, match=r"^function:"):
        hessian_vector_product(lambda p: p**2, theta, theta, damping=0.0)
    with pytest.raises(ValueError, match=r"^damping:"):
        hessian_vector_product(f, theta, theta, damping=-1.0)
    # a linear f has H = 0: the product is c·v
    v = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    assert torch.equal(hessian_vector_product(lambda p: p.sum(), theta, v, damping=0.5), 0.5 * v)
