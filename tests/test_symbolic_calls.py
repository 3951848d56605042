"""Symbolic calls (the array rule of lineage.arrays): numpy object arrays of SymPy expressions go through the building
blocks exactly, bad symbolic input raises ValueError naming the argument, and float calls are unchanged."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

import lineage
from lineage import ppo

T = 3
GAMMA, LAM = sp.symbols("gamma lambda", positive=True)
R = sp.symbols(f"r_0:{T}", real=True)
V = sp.symbols(f"V_0:{T + 1}", real=True)
FLAGS = np.zeros(T, dtype=bool)


def symbolic(xs) -> np.ndarray:
    return np.array(xs, dtype=object)


def segment(**changes) -> dict:
    arrays = {"rewards": symbolic(R), "values": symbolic(V[:-1]), "next_values": symbolic(V[1:])}
    return arrays | {"terminated": FLAGS, "truncated": FLAGS} | changes


def test_a_symbolic_segment_gives_exact_expressions():
    advantages = lineage.gae(**segment(), gamma=GAMMA, lam=LAM)
    assert advantages.dtype == object and advantages.shape == (T,)
    last = R[-1] + GAMMA * V[-1] - V[-2]
    assert sp.expand(advantages[-1] - last) == 0
    assert sp.expand(advantages[-2] - (R[-2] + GAMMA * V[-2] - V[-3] + GAMMA * LAM * last)) == 0


def test_flags_act_as_zero_and_one_and_float_arrays_are_promoted():
    terminated = np.array([False, True, False])
    returns = lineage.discounted_returns(symbolic(R), np.zeros(T), terminated, FLAGS, gamma=GAMMA)
    assert returns.dtype == object
    assert sp.expand(returns[0] - (R[0] + GAMMA * R[1])) == 0


@pytest.mark.parametrize(
    "entry", [0.5, None, "r", sp.oo, sp.nan, sp.I, sp.zoo, sp.Eq(R[0], 1), sp.I * sp.Symbol("u", positive=True)]
)
def test_a_bad_entry_names_the_argument(entry):
    with pytest.raises(ValueError, match=r"^values:"):
        lineage.gae(**segment(values=symbolic([V[0], entry, V[2]])), gamma=GAMMA, lam=LAM)


@pytest.mark.parametrize("bad", [sp.Symbol("g", negative=True), sp.Rational(3, 2), -1, sp.nan, sp.I, True, "0.9"])
def test_a_bad_symbolic_discount_names_the_parameter(bad):
    for parameter in ("gamma", "lam"):
        with pytest.raises(ValueError, match=rf"^{parameter}:"):
            lineage.lambda_returns(**segment(), **({"gamma": GAMMA, "lam": LAM} | {parameter: bad}))


def test_a_symbolic_ratio_clip_must_lie_in_the_open_unit_interval():
    logp = symbolic([sp.Symbol("l", real=True)])
    for bad in (sp.S.Zero, sp.S.One, sp.Symbol("e", nonpositive=True)):
        with pytest.raises(ValueError, match=r"^clip_eps:"):
            ppo.clipped_surrogate(logp, logp, logp, clip_eps=bad)


def test_float_calls_keep_refusing_symbols_and_compute_in_floats():
    floats = {"rewards": np.ones(T), "values": np.zeros(T), "next_values": np.zeros(T)}
    arrays = floats | {"terminated": FLAGS, "truncated": FLAGS}
    with pytest.raises(ValueError, match=r"^gamma:"):
        lineage.gae(**arrays, gamma=GAMMA, lam=0.5)
    assert lineage.gae(**arrays, gamma=sp.Rational(1, 2), lam=0.5).dtype == np.float64
    with pytest.raises(ValueError, match=r"^rewards: expected real numbers, got dtype object"):
        lineage.gae(**arrays | {"rewards": symbolic(R), "values": torch.zeros(T)}, gamma=0.5, lam=0.5)


def test_an_undecidable_branch_raises_type_error():
    """clip compares ρ with 1 ± ε: nothing orders a symbol without assumptions against them."""
    logp_new, zero = symbolic([sp.Symbol("l", real=True)]), symbolic([sp.S.Zero])
    with pytest.raises(TypeError, match="cannot determine truth value"):
        ppo.clipped_surrogate(logp_new, zero, symbolic([sp.S.One]), clip_eps=sp.Rational(1, 5))


def test_numpy_callers_never_import_sympy():
    """SymPy is imported by the first symbolic call, not by ``import lineage`` or a float call."""
    program = (
        "import sys, numpy as np, lineage\n"
        "r = np.array([1.0, 2.0]); f = np.array([False, True])\n"
        "lineage.gae(r, r, r, f, f, gamma=0.9, lam=0.5)\n"
        "assert 'sympy' not in sys.modules, 'sympy was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
