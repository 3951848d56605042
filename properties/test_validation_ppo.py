"""Bad input to the PPO functions raises ValueError naming the argument."""

import numpy as np
import pytest
import torch

from lineage.ppo import (
    adapt_kl_coef,
    categorical_entropy,
    categorical_kl,
    clip_fraction,
    clip_value,
    clipped_surrogate,
    combined_loss,
    kl_k1,
    kl_k2,
    kl_k3,
    normalize_advantages,
    penalized_surrogate,
    penalized_surrogate_from_kl,
    ppo_clip_loss,
    ppo_penalty_loss,
    ppo_penalty_loss_from_kl,
    probability_ratio,
    value_loss,
)

N, K = 3, 2
NOT_A_FINITE_REAL = [float("nan"), float("inf"), True, "0.1", None]


def bad_arrays(good: np.ndarray, *, reference: bool):
    """(label, bad value) pairs every float array argument must refuse; a shape mismatch is blamed on the argument
    compared with the ``reference`` (the first array), so only the others get one."""
    yield "nan", np.where(np.arange(good.size).reshape(good.shape) == 0, np.nan, good)
    yield "inf", np.full_like(good, np.inf)
    yield "strings", good.astype(str)
    yield "bools", np.ones(good.shape, dtype=bool)
    yield "torch nan", torch.full(good.shape, float("nan"), dtype=torch.float64)
    if not reference:
        yield "other shape", np.zeros(good.size + 1)


def bad_scalars(name: str, *, invalid: tuple = ()):
    for bad in (*invalid, *NOT_A_FINITE_REAL):
        yield name, repr(bad), bad


def cases(function, good: dict, arrays: tuple[str, ...], scalars):
    reference = next(iter(good))
    for name in arrays:
        for label, bad in bad_arrays(np.asarray(good[name]), reference=name == reference):
            yield pytest.param(function, good, name, bad, id=f"{function.__name__}-{name}-{label}")
    for name, label, bad in scalars:
        yield pytest.param(function, good, name, bad, id=f"{function.__name__}-{name}-{label}")


PER_SAMPLE = {"logp_new": np.full(N, -1.0), "logp_old": np.full(N, -1.2), "advantages": np.array([1.0, -1.0, 0.0])}
CLIP = {**PER_SAMPLE, "clip_eps": 0.2}
VALUE_CLIP = {"values_new": np.zeros(N), "values_old": np.ones(N), "clip_eps": 0.2}  # ε in value units: ≥ 1 is fine
VALUES = {**VALUE_CLIP, "returns": np.zeros(N)}
LOGITS = {"logits_new": np.zeros((N, K)), "logits_old": np.ones((N, K))}
PENALTY = {**LOGITS, "actions": np.array([0, 1, 0]), "advantages": np.ones(N), "beta": 0.1}
PENALTY_FROM_KL = {**PER_SAMPLE, "kl": np.array([0.0, 0.1, 0.2]), "beta": 0.1}
KL = {"logp_new": PER_SAMPLE["logp_new"], "logp_old": PER_SAMPLE["logp_old"]}
CLIP_RANGE = (0.0, -0.1, 1.0, 1.5)

CASES = [
    *(
        case
        for f in (clipped_surrogate, ppo_clip_loss, clip_fraction)
        for case in cases(f, CLIP, ("logp_new", "logp_old", "advantages"), bad_scalars("clip_eps", invalid=CLIP_RANGE))
    ),
    *cases(probability_ratio, KL, ("logp_new", "logp_old"), ()),
    *(case for f in (kl_k1, kl_k2, kl_k3) for case in cases(f, KL, ("logp_new", "logp_old"), ())),
    *cases(clip_value, VALUE_CLIP, ("values_new", "values_old"), bad_scalars("clip_eps", invalid=(0.0, -0.1))),
    *cases(value_loss, VALUES, ("values_new", "values_old", "returns"), bad_scalars("clip_eps", invalid=(0.0, -0.1))),
    *(
        case
        for f in (penalized_surrogate, ppo_penalty_loss)
        for case in cases(f, PENALTY, ("logits_old", "advantages"), bad_scalars("beta", invalid=(-0.1,)))
    ),
    *(
        case
        for f in (penalized_surrogate_from_kl, ppo_penalty_loss_from_kl)
        for case in cases(
            f, PENALTY_FROM_KL, ("logp_new", "logp_old", "advantages", "kl"), bad_scalars("beta", invalid=(-0.1,))
        )
    ),
    *cases(categorical_kl, LOGITS, ("logits_new",), ()),
    *cases(categorical_entropy, {"logits": LOGITS["logits_new"]}, (), ()),
]


@pytest.mark.parametrize(("function", "good", "argument", "bad"), CASES)
def test_bad_argument_is_named(function, good, argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        function(**{**good, argument: bad})


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("logits_new", np.zeros(N)),  # one row of logits, not [N, K]
        ("logits_new", np.zeros((N, K, 1))),
        ("logits_new", np.zeros((0, K))),  # no sample
        ("logits_new", np.zeros((N, 0))),  # no action
        ("logits_old", np.zeros((N, K + 1))),
        ("actions", np.array([0.0, 1.0, 0.0])),
        ("actions", np.array([True, False, True])),
        ("actions", np.array([0, 1])),
        ("actions", np.array([0, 2, 0])),
        ("actions", np.array([-1, 0, 0])),
        ("advantages", np.ones(N + 1)),
    ],
)
def test_penalty_shapes_and_actions(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        ppo_penalty_loss(**{**PENALTY, argument: bad})


@pytest.mark.parametrize(
    ("message", "call"),
    [
        pytest.param(
            r"^logits_old: expected shape \(3, 2\) like logits_new, got \(3, 3\)$",
            lambda: penalized_surrogate(**{**PENALTY, "logits_old": np.zeros((N, K + 1))}),
            id="logits_old like logits_new",
        ),
        pytest.param(
            r"^advantages: expected shape \(3,\), one per row of logits_new$",
            lambda: penalized_surrogate(**{**PENALTY, "advantages": np.ones((N, K))}),
            id="advantages one per row",
        ),
        pytest.param(
            r"^logits_old: expected logits over the actions along the last axis, got a scalar$",
            lambda: categorical_kl(np.float64(1.0), np.float64(0.0)),
            id="scalar logits_old",
        ),
    ],
)
def test_shape_messages_state_what_was_expected(message, call):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("bad", ["huber", "MAX", None])
def test_value_loss_variant(bad):
    with pytest.raises(ValueError, match=r"^variant:"):
        value_loss(**VALUES, variant=bad)


@pytest.mark.parametrize(("variant", "clip_eps"), [("unclipped", 0.2), ("max", None), ("clipped", None)])
def test_value_loss_clip_eps_belongs_to_the_clipped_variants_only(variant, clip_eps):
    """An ε given to the unclipped loss (which would ignore it) or missing from a clipped one is named."""
    with pytest.raises(ValueError, match=r"^clip_eps:"):
        value_loss(VALUES["values_new"], VALUES["values_old"], VALUES["returns"], clip_eps=clip_eps, variant=variant)


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("logp_new", np.zeros(0)),
        ("logits", np.float64(1.0)),
    ],
)
def test_empty_samples_and_scalar_logits(argument, bad):
    function = ppo_clip_loss if argument == "logp_new" else categorical_entropy
    good = CLIP if argument == "logp_new" else {}
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        function(**{**good, argument: bad})


@pytest.mark.parametrize(
    ("argument", "bad"),
    [(name, value) for name in ("beta", "kl") for _, _, value in bad_scalars(name)]
    + [("beta", -1.0), ("kl_target", 0.0), ("kl_target", -0.01), ("kl_target", float("nan")), ("beta", np.ones(2))],
)
def test_adapt_kl_coef(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        adapt_kl_coef(**{"beta": 1.0, "kl": 0.01, "kl_target": 0.01, argument: bad})


def test_adapt_kl_coef_accepts_zero_d_arrays_and_tensors():
    assert adapt_kl_coef(np.array(1.0), torch.tensor(0.0), kl_target=0.01) == 0.5


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("advantages", np.zeros(0)),
        ("advantages", np.array([1.0, np.nan])),
        ("advantages", np.array([True, False])),
        ("ddof", 2),
        ("ddof", True),
        ("ddof", 0.0),
        ("ddof", None),
        ("eps", -1e-8),
        ("eps", float("nan")),
    ],
)
def test_normalize_advantages(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        normalize_advantages(**{"advantages": np.ones(2), "ddof": 1, "eps": 1e-8, argument: bad})


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("clip_loss", torch.ones(2)),
        ("value_loss", np.ones(3)),
        ("clip_loss", float("nan")),
        ("entropy", np.zeros(0)),
        ("vf_coef", -0.5),
        ("ent_coef", -0.01),
        ("ent_coef", float("inf")),
    ],
)
def test_combined_loss(argument, bad):
    good = {"clip_loss": 0.0, "value_loss": 0.0, "entropy": np.ones(2), "vf_coef": 0.5, "ent_coef": 0.01}
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        combined_loss(**{**good, argument: bad})


def test_defaults_the_libraries_share():
    """Keywords every library sets alike have that default: ddof=1 and eps=1e-8 for advantage normalisation (SB3,
    CleanRL, Tianshou), ε = 0.2 for the policy clip (the PPO paper, SB3, CleanRL, baselines, Spinning Up),
    c1 = 0.5 for the value loss in the combined loss (SB3, CleanRL, baselines)."""
    advantages = np.array([1.0, 3.0, -2.0])
    np.testing.assert_array_equal(normalize_advantages(advantages), normalize_advantages(advantages, ddof=1, eps=1e-8))
    for function in (clipped_surrogate, ppo_clip_loss, clip_fraction):
        np.testing.assert_array_equal(
            function(PER_SAMPLE["logp_new"], PER_SAMPLE["logp_old"], PER_SAMPLE["advantages"]),
            function(PER_SAMPLE["logp_new"], PER_SAMPLE["logp_old"], PER_SAMPLE["advantages"], clip_eps=0.2),
        )
    assert combined_loss(1.0, 2.0, np.ones(2), ent_coef=0.01) == combined_loss(
        1.0, 2.0, np.ones(2), vf_coef=0.5, ent_coef=0.01
    )
