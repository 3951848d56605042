"""Bad input to the RLHF helpers raises ValueError naming the argument."""

import numpy as np
import pytest
import torch

from lineage.rlhf import (
    AdaptiveKLController,
    AutoregressivePolicy,
    all_sequences,
    ppo_ptx_loss,
    pretraining_log_likelihood,
    proportional_kl_coef,
    sequence_kl,
    token_rewards,
    whiten,
)

B, T = 2, 3
GOOD_REWARDS = {
    "scores": np.zeros(B),
    "logp": np.full((B, T), -1.0),
    "ref_logp": np.full((B, T), -1.0),
    "mask": np.ones((B, T), dtype=bool),
    "beta": 0.1,
}
NOT_A_FINITE_REAL = [float("nan"), float("inf"), True, "0.1", None]


def bad_token_reward_inputs():
    for name in ("scores", "logp", "ref_logp"):
        good = GOOD_REWARDS[name]
        yield name, "nan", np.where(np.arange(good.size).reshape(good.shape) == 0, np.nan, good)
        yield name, "inf", np.full_like(good, np.inf)
        yield name, "strings", good.astype(str)
    yield "logp", "1-D", np.zeros(T)
    yield "logp", "3-D", np.zeros((B, T, 1))
    yield "logp", "no tokens", np.zeros((B, 0))
    yield "ref_logp", "other shape", np.zeros((B, T + 1))
    yield "scores", "one per token", np.zeros((B, T))
    yield "scores", "too few", np.zeros(B - 1)
    yield "mask", "float flags", np.ones((B, T))
    yield "mask", "int flags", np.ones((B, T), dtype=int)
    yield "mask", "other shape", np.ones((B, T + 1), dtype=bool)
    yield "mask", "a response with no valid token", np.array([[True, True, False], [False, False, False]])
    for bad in (-0.1, *NOT_A_FINITE_REAL):
        yield "beta", repr(bad), bad


@pytest.mark.parametrize(
    ("argument", "bad"), [pytest.param(a, b, id=f"{a}-{label}") for a, label, b in bad_token_reward_inputs()]
)
def test_token_rewards_names_the_bad_argument(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        token_rewards(**{**GOOD_REWARDS, argument: bad})


def test_token_rewards_checks_torch_masks_too():
    with pytest.raises(ValueError, match=r"^mask:"):
        token_rewards(**{**GOOD_REWARDS, "mask": torch.ones(B, T)})


@pytest.mark.parametrize(
    ("argument", "changes"),
    [
        ("values", {"values": np.array([0.0, np.nan])}),
        ("values", {"values": np.zeros(0)}),
        ("mask", {"mask": np.ones(2)}),
        ("mask", {"mask": np.ones(3, dtype=bool)}),
        ("mask", {"mask": np.zeros(2, dtype=bool)}),
        ("shift_mean", {"shift_mean": 0}),
        ("shift_mean", {"shift_mean": None}),
    ],
    ids=lambda x: x if isinstance(x, str) else "-".join(f"{k}={v!r}" for k, v in x.items()),
)
def test_whiten_names_the_bad_argument(argument, changes):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        whiten(**{"values": np.array([1.0, 2.0]), "mask": None, **changes})


GOOD_UPDATE = {"beta": 0.2, "kl": 1.0, "kl_target": 6.0, "n_steps": 256, "horizon": 10_000}


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        *[("beta", b) for b in (0.0, -1.0, *NOT_A_FINITE_REAL)],
        *[("kl", b) for b in NOT_A_FINITE_REAL],
        *[("kl_target", b) for b in (0.0, -6.0, *NOT_A_FINITE_REAL)],
        *[("n_steps", b) for b in (0, -1, 1.5, True)],
        *[("horizon", b) for b in (0, -1, 1.5, True)],
    ],
)
def test_proportional_kl_coef_names_the_bad_argument(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        proportional_kl_coef(**{**GOOD_UPDATE, argument: bad})


@pytest.mark.parametrize(("n_steps", "horizon"), [(5, 1), (50_000, 10_000), (7, 1)])
def test_a_gain_that_could_zero_beta_is_refused(n_steps, horizon):
    """n_steps/horizon ≥ 5 lets one update scale β by 1 − 0.2·n_steps/horizon ≤ 0."""
    with pytest.raises(ValueError, match=rf"^n_steps: n_steps/horizon = {n_steps}/{horizon} must stay below 5,"):
        proportional_kl_coef(**{**GOOD_UPDATE, "n_steps": n_steps, "horizon": horizon})


@pytest.mark.parametrize(
    ("argument", "changes"),
    [
        ("init_kl_coef", {"init_kl_coef": 0.0}),
        ("init_kl_coef", {"init_kl_coef": float("nan")}),
        ("target", {"target": -1.0}),
        ("target", {"target": 0.0}),
        ("target", {"target": True}),
        ("horizon", {"horizon": 0}),
        ("horizon", {"horizon": 2.0}),
    ],
)
def test_adaptive_kl_controller_names_the_bad_argument(argument, changes):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        AdaptiveKLController(**{"init_kl_coef": 0.2, "target": 6.0, "horizon": 10_000, **changes})


UNIFORM_TWO_TOKENS = np.full((3, 2), 0.5)  # V = 2, L = 2: prefixes (), (0), (1)
ONE_FAIR_TOKEN = AutoregressivePolicy(np.array([[0.5, 0.5]]), 1)  # V = 2, L = 1


@pytest.mark.parametrize(
    ("argument", "conditionals", "length"),
    [
        ("conditionals", np.full((2, 2), 0.5), 2),  # a prefix row missing
        ("conditionals", np.full(2, 0.5), 1),  # 1-D
        ("conditionals", np.array([[1.0, 0.0]]), 1),  # no full support
        ("conditionals", np.array([[0.6, 0.6]]), 1),  # not a distribution
        ("conditionals", np.array([[np.nan, 0.5]]), 1),
        ("length", UNIFORM_TWO_TOKENS, 0),
        ("length", UNIFORM_TWO_TOKENS, 2.0),
    ],
)
def test_autoregressive_policy_names_the_bad_argument(argument, conditionals, length):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        AutoregressivePolicy(conditionals, length)


@pytest.mark.parametrize("probs", [np.full(3, 1 / 3), np.array([0.5, 0.5, 0.0, 0.0]), np.full(4, 0.3)])
def test_sequence_probabilities_must_be_a_full_distribution_over_the_responses(probs):
    with pytest.raises(ValueError, match=r"^probs:"):
        AutoregressivePolicy.from_sequence_probs(probs, vocab_size=2, length=2)


def test_kl_between_policies_over_different_responses_names_q():
    one_token = AutoregressivePolicy(np.array([[0.5, 0.5]]), 1)
    with pytest.raises(ValueError, match=r"^q:"):
        sequence_kl(one_token, AutoregressivePolicy(UNIFORM_TWO_TOKENS, 2))


GOOD_PTX = {
    "rl_loss": torch.tensor(0.5),
    "pretrain_token_logp": torch.full((B, T), -1.0),
    "pretrain_mask": torch.ones(B, T, dtype=torch.bool),
    "ptx_coef": 0.5,
}


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        pytest.param("rl_loss", torch.zeros(2), id="rl_loss-not a scalar"),
        pytest.param("rl_loss", float("nan"), id="rl_loss-nan"),
        pytest.param("pretrain_token_logp", torch.zeros(T), id="pretrain_token_logp-1-D"),
        pytest.param("pretrain_token_logp", torch.zeros(B, 0), id="pretrain_token_logp-no tokens"),
        pytest.param("pretrain_token_logp", torch.full((B, T), float("inf")), id="pretrain_token_logp-inf"),
        pytest.param("pretrain_mask", torch.ones(B, T), id="pretrain_mask-float flags"),
        pytest.param("pretrain_mask", torch.ones(B, T + 1, dtype=torch.bool), id="pretrain_mask-other shape"),
        pytest.param("ptx_coef", -1.0, id="ptx_coef--1.0"),
        pytest.param("ptx_coef", float("nan"), id="ptx_coef-nan"),
    ],
)
def test_ppo_ptx_loss_names_the_bad_argument(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        ppo_ptx_loss(**{**GOOD_PTX, argument: bad})


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("scores", torch.tensor([0.0, float("nan")])),
        ("logp", torch.full((B, T), float("inf"))),
        ("ref_logp", torch.zeros(B, T + 1)),
        ("mask", torch.ones(B, T + 1, dtype=torch.bool)),
        ("scores", torch.zeros(B + 1)),
        ("logp", torch.ones(B, T, dtype=torch.bool)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_token_rewards_checks_torch_input_like_numpy(argument, bad):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        token_rewards(**{**GOOD_REWARDS, argument: bad})


@pytest.mark.parametrize(
    ("argument", "changes"),
    [
        ("values", {"values": torch.tensor([0.0, float("nan")], requires_grad=True)}),
        ("mask", {"values": torch.zeros(2), "mask": torch.ones(3, dtype=torch.bool)}),
        ("mask", {"values": torch.zeros(2), "mask": torch.ones(2)}),
        ("mask", {"values": torch.zeros(2), "mask": torch.zeros(2, dtype=torch.bool)}),
    ],
    ids=["nan", "mask shape", "float mask", "empty mask"],
)
def test_whiten_checks_torch_input_like_numpy(argument, changes):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        whiten(**{"values": np.array([1.0, 2.0]), "mask": None, **changes})


@pytest.mark.parametrize(
    ("argument", "call"),
    [
        pytest.param("vocab_size", lambda: all_sequences(0, 2), id="vocab_size-0"),
        pytest.param("length", lambda: all_sequences(2, 0), id="length-0"),
        pytest.param("probs", lambda: AutoregressivePolicy.from_sequence_probs([0.5, np.nan], 2, 1), id="probs-nan"),
        pytest.param("per_sequence", lambda: ONE_FAIR_TOKEN.expectation([0.0, np.inf]), id="per_sequence-inf"),
        pytest.param("per_sequence", lambda: ONE_FAIR_TOKEN.expectation(["a", "b"]), id="per_sequence-strings"),
        pytest.param("per_sequence", lambda: ONE_FAIR_TOKEN.expectation(np.zeros(3)), id="per_sequence-3 of 2"),
        pytest.param("per_sequence", lambda: ONE_FAIR_TOKEN.expectation(np.zeros((1, 2))), id="per_sequence-rows"),
    ],
)
def test_enumeration_names_the_bad_argument(argument, call):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()


@pytest.mark.parametrize(
    ("argument", "changes"),
    [
        ("token_logp", {"token_logp": np.zeros(T)}),
        ("token_logp", {"token_logp": np.full((B, T), np.nan)}),
        ("mask", {"mask": np.ones((B, T))}),
        ("mask", {"mask": np.ones((B, T + 1), dtype=bool)}),
    ],
    ids=["1-D", "nan", "float flags", "other shape"],
)
def test_pretraining_log_likelihood_names_the_bad_argument(argument, changes):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        pretraining_log_likelihood(
            **{"token_logp": np.full((B, T), -1.0), "mask": np.ones((B, T), dtype=bool), **changes}
        )


@pytest.mark.parametrize(
    ("message", "call"),
    [
        pytest.param(
            r"^mask: expected shape \(2,\) like values, got \(3,\)$",
            lambda: whiten(np.array([1.0, 2.0]), np.ones(3, dtype=bool)),
            id="whiten mask like values",
        ),
        pytest.param(
            r"^ref_logp: expected shape \(2, 3\) like logp, got \(2, 4\)$",
            lambda: token_rewards(**{**GOOD_REWARDS, "ref_logp": np.zeros((B, T + 1))}),
            id="ref_logp like logp",
        ),
        pytest.param(
            r"^scores: expected shape \(2,\), one score per response, got \(2, 3\)$",
            lambda: token_rewards(**{**GOOD_REWARDS, "scores": np.zeros((B, T))}),
            id="scores one per response",
        ),
        pytest.param(
            r"^pretrain_mask: expected shape \(2, 3\) like pretrain_token_logp, got \(2, 4\)$",
            lambda: ppo_ptx_loss(**{**GOOD_PTX, "pretrain_mask": torch.ones(B, T + 1, dtype=torch.bool)}),
            id="pretrain_mask like pretrain_token_logp",
        ),
        pytest.param(
            r"^conditionals: expected 4 rows, one per prefix of fewer than 2 tokens over a vocabulary of 3, got 2$",
            lambda: AutoregressivePolicy(np.full((2, 3), 1 / 3), 2),
            id="conditionals rows",
        ),
    ],
)
def test_shape_messages_state_what_was_expected(message, call):
    with pytest.raises(ValueError, match=message):
        call()
