"""PPO with the adaptive KL penalty (lineage.algorithms.ppo_penalty) on CartPole-v1 (categorical policy) and
Pendulum-v1 (diagonal Gaussian policy): short smoke runs, the calls into the verified building blocks, the β
schedule, configuration errors and reproducibility (claims PPO-3, PPO-4, STD-PPO-1, STD-PPO-4, STD-GAE-7). The
learning benchmark is ``python -m lineage.learn ppo_penalty ENV``, not a test."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import lineage
import lineage.ppo
import lineage.ppo.gaussian
from lineage.algorithms import ppo_penalty
from lineage.algorithms.common import evaluate
from lineage.algorithms.networks import GaussianPolicy
from lineage.algorithms.ppo_penalty import PPOPenaltyConfig
from lineage.algorithms.rollout import evaluate_policy

SMOKE_SEED = 0


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def short(**overrides) -> PPOPenaltyConfig:
    return PPOPenaltyConfig(**({"total_steps": 512, "seed": SMOKE_SEED, "n_steps": 64} | overrides))


def short_pendulum(**overrides) -> PPOPenaltyConfig:
    return short(**({"env_id": "Pendulum-v1", "n_steps": 128, "n_minibatches": 4} | overrides))


def run_keeping_initial(config: PPOPenaltyConfig):
    """A run of ``config`` with the agent's initial parameters kept."""
    initial = {}
    original = ppo_penalty.make_agent

    def keep_initial(config, envs):
        agent = original(config, envs)
        initial.update({k: v.clone() for k, v in agent.state_dict().items()})
        return agent

    ppo_penalty.make_agent = keep_initial
    try:
        result = ppo_penalty.train(config, log=lambda line: None)
    finally:
        ppo_penalty.make_agent = original
    return initial, result


def assert_every_parameter_changed(initial, run):
    assert run.losses and np.isfinite(run.losses).all()
    for name, tensor in run.agent.state_dict().items():
        assert not torch.equal(tensor, initial[name]), f"{name} did not change"


@pytest.fixture(scope="module")
def smoke():
    """One CartPole run of 10 iterations × 512 steps on a fixed seed, with the initial parameters kept."""
    torch.set_num_threads(1)
    config = PPOPenaltyConfig(total_steps=5120, seed=SMOKE_SEED)
    return (config, *run_keeping_initial(config))


@pytest.mark.claim("PPO-4", "STD-PPO-1")
def test_cartpole_smoke_run_has_finite_losses_changes_every_parameter_and_beats_a_random_policy(smoke, result):
    """PPO-4, STD-PPO-1: a few thousand steps of PPO-penalty give finite losses, move every parameter tensor, and a
    sampled policy whose mean return over 100 episodes beats the uniform random policy's on the same seeds."""
    config, initial, run = smoke
    assert_every_parameter_changed(initial, run)
    assert len(run.log) == config.iterations
    trained = evaluate(run.agent, config, episodes=100, greedy=False).mean()
    rng = np.random.default_rng(SMOKE_SEED)
    uniform = evaluate_policy(
        lambda: gym.make("CartPole-v1"), lambda obs: rng.integers(0, 2, len(obs)), episodes=100, seed=SMOKE_SEED
    ).mean()
    assert trained > uniform + 5
    result(
        "PPO-4",
        f"PPO-penalty smoke run on CartPole-v1 ({run.steps} steps, seed {SMOKE_SEED}): mean return {trained:.1f} "
        f"over 100 sampled episodes vs {uniform:.1f} for the uniform random policy",
    )


@pytest.mark.claim("PPO-4", "STD-PPO-1")
def test_pendulum_smoke_run_trains_a_gaussian_policy():
    """PPO-4, STD-PPO-1: on Pendulum-v1 the policy is a diagonal Gaussian; a short run gives finite losses and moves
    every parameter tensor, the learned log σ included (Pendulum learns too slowly for a return test this short)."""
    initial, run = run_keeping_initial(short_pendulum(total_steps=1024))
    assert isinstance(run.agent.policy, GaussianPolicy)
    assert_every_parameter_changed(initial, run)
    assert all("KL" in line and "beta" in line for line in run.log)


def spy(calls: dict, name: str, function):
    def wrapper(*args, **kwargs):
        calls[name] += 1
        return function(*args, **kwargs)

    return wrapper


@pytest.mark.claim("PPO-4", "STD-PPO-1", "STD-GAE-7", "STD-PPO-4")
def test_the_categorical_run_calls_the_verified_functions(monkeypatch):
    """PPO-4, STD-PPO-1, STD-GAE-7, STD-PPO-4: on a categorical policy the advantages come from lineage.gae, the
    policy loss from lineage.ppo.ppo_penalty_loss on the logits, the measured KL d from lineage.ppo.categorical_kl,
    β from lineage.ppo.adapt_kl_coef, the rest from value_loss, categorical_entropy and combined_loss (patched
    where the algorithm looks them up, they are seen called)."""
    calls = dict.fromkeys(
        ("gae", "ppo_penalty_loss", "categorical_kl", "adapt_kl_coef", "value_loss", "categorical_entropy"), 0
    ) | {"combined_loss": 0, "ppo_penalty_loss_from_kl": 0}
    monkeypatch.setattr(lineage, "gae", spy(calls, "gae", lineage.gae))
    for name in set(calls) - {"gae"}:
        monkeypatch.setattr(lineage.ppo, name, spy(calls, name, getattr(lineage.ppo, name)))
    config = short(total_steps=256, n_steps=64)
    ppo_penalty.train(config, log=lambda line: None)
    iterations, updates = config.iterations, config.iterations * config.n_epochs * config.n_minibatches
    assert calls == {
        "gae": iterations,
        "ppo_penalty_loss": updates,
        "ppo_penalty_loss_from_kl": 0,
        "categorical_kl": iterations,  # d after each update
        "adapt_kl_coef": iterations,
        "value_loss": updates,
        "categorical_entropy": updates + iterations,
        "combined_loss": updates,
    }


@pytest.mark.claim("PPO-4", "STD-PPO-1", "STD-PPO-4")
def test_the_gaussian_run_calls_the_verified_functions(monkeypatch):
    """PPO-4, STD-PPO-1, STD-PPO-4: on a Gaussian policy the policy loss is lineage.ppo.ppo_penalty_loss_from_kl with
    the exact KL of lineage.ppo.gaussian.diagonal_gaussian_kl (every minibatch, and once more for d), the entropy
    lineage.ppo.gaussian.diagonal_gaussian_entropy, β from adapt_kl_coef."""
    calls = dict.fromkeys(("ppo_penalty_loss_from_kl", "ppo_penalty_loss", "adapt_kl_coef", "combined_loss"), 0)
    calls |= {"diagonal_gaussian_kl": 0, "diagonal_gaussian_entropy": 0}
    for name in ("ppo_penalty_loss_from_kl", "ppo_penalty_loss", "adapt_kl_coef", "combined_loss"):
        monkeypatch.setattr(lineage.ppo, name, spy(calls, name, getattr(lineage.ppo, name)))
    for name in ("diagonal_gaussian_kl", "diagonal_gaussian_entropy"):
        monkeypatch.setattr(lineage.ppo.gaussian, name, spy(calls, name, getattr(lineage.ppo.gaussian, name)))
    config = short_pendulum(total_steps=256, n_steps=64, n_epochs=2)
    ppo_penalty.train(config, log=lambda line: None)
    iterations, updates = config.iterations, config.iterations * config.n_epochs * config.n_minibatches
    assert calls == {
        "ppo_penalty_loss_from_kl": updates,
        "ppo_penalty_loss": 0,
        "adapt_kl_coef": iterations,
        "combined_loss": updates,
        "diagonal_gaussian_kl": updates + iterations,
        "diagonal_gaussian_entropy": updates + iterations,
    }


@pytest.mark.claim("STD-PPO-1", "PPO-3")
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_beta_starts_at_beta_init_and_each_update_uses_the_last_adapted_beta(monkeypatch, env_id):
    """STD-PPO-1, PPO-3: the first update's β is ``beta_init``; after each update β is adapt_kl_coef(β, d, d_targ)
    with d the exact mean KL between the policies before and after it, and the next update uses that β (the log
    line shows it)."""
    seen = []
    original = lineage.ppo.adapt_kl_coef

    def record(beta, kl, *, kl_target):
        seen.append((beta, kl, kl_target, original(beta, kl, kl_target=kl_target)))
        return seen[-1][-1]

    monkeypatch.setattr(lineage.ppo, "adapt_kl_coef", record)
    config = (short if env_id == "CartPole-v1" else short_pendulum)(total_steps=512, beta_init=0.7, kl_target=0.003)
    run = ppo_penalty.train(config, log=lambda line: None)
    assert seen[0][0] == 0.7 and all(target == 0.003 for _, _, target, _ in seen)
    assert [beta for beta, *_ in seen[1:]] == [after for *_, after in seen[:-1]]
    assert all(kl >= 0 for _, kl, _, _ in seen)
    assert len({seen[0][0], *(after for *_, after in seen)}) > 1, "β never changed"
    for line, (beta, _, _, after) in zip(run.log, seen, strict=True):
        assert line.endswith(f"beta {beta:.3g} -> {after:.3g}")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_steps", 0),
        ("n_envs", -1),
        ("n_steps", 1.5),
        ("n_epochs", True),
        ("learning_rate", 0.0),
        ("gamma", -0.5),
        ("lam", 2.0),
        ("beta_init", -1.0),
        ("kl_target", 0.0),
        ("clip_value_eps", 0.0),
        ("ent_coef", float("inf")),
        ("vf_coef", -1.0),
        ("max_grad_norm", -1.0),
        ("log_std_init", float("nan")),
        ("reward_scale", 0.0),
        ("seed", 1.5),
        ("n_minibatches", 100_000),
        ("autoreset_mode", "same"),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    """PPO-4: a bad hyper-parameter raises ValueError naming the field."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        PPOPenaltyConfig(**{field: value})


def test_per_environment_defaults_fill_only_the_fields_left_unset():
    """PPO-4: the fields left None take the environment's defaults (Pendulum-v1 its own), a value set is kept."""
    cartpole, pendulum = PPOPenaltyConfig(), PPOPenaltyConfig(env_id="Pendulum-v1")
    for name, value in ppo_penalty.DEFAULTS.items():
        assert getattr(cartpole, name) == value
    for name, value in ppo_penalty.PER_ENV["Pendulum-v1"].items():
        assert getattr(pendulum, name) == value
    assert PPOPenaltyConfig(env_id="Pendulum-v1", gamma=0.5).gamma == 0.5


def test_an_action_space_without_a_policy_is_refused_naming_the_env():
    """PPO-4: an action space with no policy here (MultiDiscrete) is refused, ValueError naming env_id."""
    env_id = "lineage-test/MultiDiscreteCounter-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=MultiDiscreteEnv, max_episode_steps=10)
    with pytest.raises(ValueError, match=rf"^env_id: {env_id} .*MultiDiscrete"):
        ppo_penalty.train(short(env_id=env_id), log=lambda line: None)


class MultiDiscreteEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.MultiDiscrete([2, 3])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, False, False, {}


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_same_seed_gives_identical_parameters_and_another_seed_does_not(env_id):
    """PPO-4: seeds make a run reproducible (torch, numpy and environment seeds), for both policy families."""
    make = short if env_id == "CartPole-v1" else short_pendulum
    runs = [ppo_penalty.train(make(seed=seed, total_steps=256), log=lambda line: None) for seed in (3, 3, 4)]
    first, again, other = (run.agent.state_dict() for run in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].losses == runs[1].losses
    assert not all(torch.equal(first[k], other[k]) for k in first)


@pytest.mark.claim("PPO-4", "STD-PPO-1")
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_the_measured_kl_is_the_exact_kl_from_the_policy_before_to_the_policy_after_the_update(monkeypatch, env_id):
    """PPO-4, STD-PPO-1: the d that steers β is the mean over the batch's states of KL(π_before ‖ π_after) — the
    policies before and after the update (the on_update snapshots), in that direction, log σ included — recomputed
    here from the snapshots with lineage's closed forms (float32 rounding apart)."""
    import copy

    snapshots, updates = [], []
    original = ppo_penalty.update

    def record(agent, optimizer, rollout, *args, **kwargs):
        stats = original(agent, optimizer, rollout, *args, **kwargs)
        updates.append((rollout, stats))
        return stats

    monkeypatch.setattr(ppo_penalty, "update", record)
    make = short if env_id == "CartPole-v1" else short_pendulum
    ppo_penalty.train(
        make(total_steps=256), log=lambda line: None, on_update=lambda a: snapshots.append(copy.deepcopy(a))
    )
    rollout, stats = updates[0]
    obs = torch.as_tensor(rollout.observations[rollout.valid], dtype=torch.float32)
    before, after = snapshots[0].policy, snapshots[1].policy
    with torch.no_grad():
        if env_id == "CartPole-v1":
            kl = lineage.ppo.categorical_kl(before.logits(obs).double(), after.logits(obs).double())
        else:
            assert not torch.equal(before.log_std, after.log_std)
            kl = lineage.ppo.gaussian.diagonal_gaussian_kl(
                before.mean(obs).double(), before.log_std.double(), after.mean(obs).double(), after.log_std.double()
            )
    assert stats.kl == pytest.approx(float(kl.mean()), rel=1e-4, abs=1e-7)
