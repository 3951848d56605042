"""TRPO (lineage.algorithms.trpo) on CartPole-v1 and Pendulum-v1: short smoke runs, the calls into the verified
building blocks, what every update records for the laws, configuration errors and reproducibility (claims STD-NG-1,
STD-NG-2, STD-CG-1, TRPO-13, STD-GAE-7, STD-TT-1). The learning benchmark is ``python -m lineage.learn trpo ENV``,
not a test."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import lineage
import lineage.optim
import lineage.ppo
import lineage.ppo.gaussian
from lineage.algorithms import trpo
from lineage.algorithms.common import evaluate
from lineage.algorithms.rollout import evaluate_policy
from lineage.algorithms.trpo import TRPOConfig

SMOKE_SEED = 0


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def quiet(line: str) -> None:
    pass


def run_keeping_initial(config: TRPOConfig, on_update=None):
    """Trains and returns (initial parameters, result)."""
    initial = {}
    original = trpo.make_agent

    def keep_initial(config, envs):
        agent = original(config, envs)
        initial.update({k: v.clone() for k, v in agent.state_dict().items()})
        return agent

    trpo.make_agent = keep_initial
    try:
        result = trpo.train(config, log=quiet, on_update=on_update)
    finally:
        trpo.make_agent = original
    return initial, result


@pytest.fixture(scope="module")
def smoke():
    """6 iterations × 1024 CartPole steps on a fixed seed, every update's statistics kept."""
    torch.set_num_threads(1)
    config = TRPOConfig(total_steps=6144, seed=SMOKE_SEED, n_envs=2, n_steps=512)
    updates = []
    initial, result = run_keeping_initial(config, on_update=lambda agent: updates.append(agent.last_update))
    return config, initial, result, updates


@pytest.mark.claim("STD-NG-2", "TRPO-13")
def test_cartpole_smoke_run_has_finite_losses_changes_every_parameter_and_beats_a_random_policy(smoke, result):
    """STD-NG-2, TRPO-13: a few thousand steps of TRPO give finite value losses, move every parameter tensor, and a
    sampled policy whose mean return over 100 episodes beats the uniform random policy's on the same seeds."""
    config, initial, run, _ = smoke
    assert run.losses and np.isfinite(run.losses).all()
    assert len(run.log) == config.iterations
    for name, tensor in run.agent.state_dict().items():
        assert not torch.equal(tensor, initial[name]), f"{name} did not change"
    trained = evaluate(run.agent, config, episodes=100, greedy=False).mean()
    rng = np.random.default_rng(SMOKE_SEED)
    uniform = evaluate_policy(
        lambda: gym.make("CartPole-v1"), lambda obs: rng.integers(0, 2, len(obs)), episodes=100, seed=SMOKE_SEED
    ).mean()
    assert trained > uniform + 5
    result(
        "STD-NG-2",
        f"TRPO smoke run on CartPole-v1 ({run.steps} steps, seed {SMOKE_SEED}): mean return {trained:.1f} over 100 "
        f"sampled episodes vs {uniform:.1f} for the uniform random policy",
    )


@pytest.mark.claim("TRPO-13", "STD-NG-2")
def test_every_update_is_recorded_and_an_accepted_step_keeps_the_trust_region(smoke):
    """TRPO-13, STD-NG-2: on_update sees the agent before the first iteration (no update yet) and after each update;
    each update records whether the line search accepted a step, and an accepted step has a measured mean KL ≤ δ and
    a positive surrogate improvement (the line search's two conditions), both in the iteration's log line."""
    config, _, run, updates = smoke
    assert len(updates) == config.iterations + 1 and updates[0] is None
    for stats, line in zip(updates[1:], run.log, strict=True):
        assert ("accepted" if stats.accepted else "rejected") in line
        if stats.accepted:
            assert 0 <= stats.kl <= config.max_kl and stats.improvement > 0
            assert f"KL {stats.kl:.5f}" in line
        else:
            assert stats.kl == 0 and stats.improvement == 0
    assert any(stats.accepted for stats in updates[1:])


@pytest.fixture(scope="module")
def pendulum():
    torch.set_num_threads(1)
    config = TRPOConfig(env_id="Pendulum-v1", total_steps=800, seed=SMOKE_SEED, n_envs=2, n_steps=200)
    calls = {"diagonal_gaussian_kl": 0}
    original = lineage.ppo.gaussian.diagonal_gaussian_kl

    def spy(*args, **kwargs):
        calls["diagonal_gaussian_kl"] += 1
        return original(*args, **kwargs)

    lineage.ppo.gaussian.diagonal_gaussian_kl = spy
    try:
        initial, result = run_keeping_initial(config)
    finally:
        lineage.ppo.gaussian.diagonal_gaussian_kl = original
    return config, initial, result, calls


@pytest.mark.claim("STD-NG-2", "STD-NG-1")
def test_pendulum_smoke_run_trains_a_gaussian_policy_with_its_exact_kl(pendulum):
    """STD-NG-2, STD-NG-1: on Pendulum-v1 the policy is a diagonal Gaussian (learned log σ), the KL of the trust
    region is lineage.ppo.gaussian.diagonal_gaussian_kl, the value losses are finite and every parameter moves."""
    config, initial, run, calls = pendulum
    assert isinstance(run.agent.policy.distribution(torch.zeros(1, 3)), torch.distributions.Independent)
    assert calls["diagonal_gaussian_kl"] > 0
    assert run.losses and np.isfinite(run.losses).all()
    assert len(run.log) == config.iterations
    for name, tensor in run.agent.state_dict().items():
        assert not torch.equal(tensor, initial[name]), f"{name} did not change"


@pytest.mark.claim("STD-GAE-7", "STD-NG-2", "STD-CG-1", "TRPO-13")
def test_the_algorithm_calls_the_verified_functions(monkeypatch):
    """STD-GAE-7, STD-NG-2, STD-CG-1, TRPO-13: advantages and targets come from lineage.gae and
    lineage.lambda_returns, the step from conjugate_gradient on hessian_vector_product, natural_step and
    trpo_line_search, the surrogate's ratio from probability_ratio, the KL from categorical_kl and the critic's loss
    from value_loss, each looked up where the algorithm looks it up (patched, they are seen called)."""
    counted = {
        lineage: ("gae", "lambda_returns"),
        lineage.optim: ("conjugate_gradient", "hessian_vector_product", "natural_step", "trpo_line_search"),
        lineage.ppo: ("probability_ratio", "categorical_kl", "value_loss", "normalize_advantages"),
    }
    calls = {name: 0 for names in counted.values() for name in names}

    def spy(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for module, names in counted.items():
        for name in names:
            monkeypatch.setattr(module, name, spy(name, getattr(module, name)))
    config = TRPOConfig(total_steps=256, seed=SMOKE_SEED, n_envs=2, n_steps=64, cg_iters=4, value_epochs=2)
    trpo.train(config, log=quiet)
    iterations = config.iterations
    for name in ("gae", "lambda_returns", "conjugate_gradient", "natural_step", "trpo_line_search"):
        assert calls[name] == iterations, (name, calls)
    assert calls["normalize_advantages"] == iterations
    assert calls["value_loss"] == iterations * config.value_epochs * config.value_minibatches
    assert iterations * 2 <= calls["hessian_vector_product"] <= iterations * (config.cg_iters + 1)
    assert calls["probability_ratio"] >= iterations * 2  # the gradient's L(θ_old), then the line search's trials
    assert calls["categorical_kl"] >= iterations


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_steps", 0),
        ("seed", -1),
        ("n_envs", 0),
        ("n_steps", 1.5),
        ("gamma", 1.5),
        ("lam", -0.1),
        ("max_kl", 0.0),
        ("cg_iters", 0),
        ("cg_tol", -1.0),
        ("cg_damping", float("nan")),
        ("max_backtracks", True),
        ("backtrack_ratio", 1.0),
        ("value_learning_rate", 0.0),
        ("value_epochs", -2),
        ("value_minibatches", 10_000),
        ("hidden", 0),
        ("log_std", float("inf")),
        ("normalize_advantages", "yes"),
        ("window", 0),
        ("threshold", float("nan")),
        ("autoreset_mode", "next"),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    """STD-NG-2: a bad hyper-parameter raises ValueError naming the field."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        TRPOConfig(**{field: value})


def test_per_environment_defaults_fill_only_the_fields_left_none():
    """STD-NG-2: the fields left None take ENV_DEFAULTS[env_id]; a value given explicitly wins."""
    for env_id, defaults in trpo.ENV_DEFAULTS.items():
        config = TRPOConfig(env_id=env_id)
        assert {name: getattr(config, name) for name in defaults} == defaults
    assert TRPOConfig(env_id="Pendulum-v1", max_kl=0.5).max_kl == 0.5
    assert TRPOConfig(env_id="Acrobot-v1").max_kl == trpo.GENERIC["max_kl"]


def test_same_seed_gives_identical_parameters_and_another_seed_does_not():
    """STD-NG-2: seeds make a run reproducible (torch, numpy and environment seeds)."""
    config = {"total_steps": 256, "n_envs": 2, "n_steps": 64, "cg_iters": 4, "value_epochs": 2}
    runs = [trpo.train(TRPOConfig(seed=seed, **config), log=quiet) for seed in (3, 3, 4)]
    first, again, other = (run.agent.state_dict() for run in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].losses == runs[1].losses and runs[0].log == runs[1].log
    assert not all(torch.equal(first[k], other[k]) for k in first)
