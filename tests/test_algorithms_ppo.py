"""PPO-clip on CartPole-v1 (lineage.algorithms.ppo_clip) and the vector-env rollout it runs on
(lineage.algorithms.rollout): short smoke runs, the calls into the verified building blocks, configuration errors,
reproducibility, and the bootstrap at a time-limit cut under both autoreset modes (claims PPO-5, STD-PPO-4,
STD-GAE-7, STD-TT-1, STD-TT-2). The learning benchmark is ``python -m lineage.learn``, not a test."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import lineage
import lineage.ppo
import lineage.ppo.gaussian
from lineage.algorithms import ppo_clip
from lineage.algorithms.common import evaluate, make_envs, policy_callables
from lineage.algorithms.networks import GaussianPolicy
from lineage.algorithms.ppo_clip import PPOClipConfig
from lineage.algorithms.rollout import VectorRollout, evaluate_policy

SMOKE_SEED = 0
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def short(**overrides) -> PPOClipConfig:
    return PPOClipConfig(**({"total_steps": 512, "seed": SMOKE_SEED, "n_steps": 64} | overrides))


@pytest.fixture(scope="module")
def smoke():
    """One run of 10 iterations × 512 steps on a fixed seed, with the initial parameters kept."""
    torch.set_num_threads(1)
    config = PPOClipConfig(total_steps=5120, seed=SMOKE_SEED)
    initial = {}
    original = ppo_clip.make_agent

    def keep_initial(config, envs):
        agent = original(config, envs)
        initial.update({k: v.clone() for k, v in agent.state_dict().items()})
        return agent

    ppo_clip.make_agent = keep_initial
    try:
        result = ppo_clip.train(config, log=lambda line: None)
    finally:
        ppo_clip.make_agent = original
    return config, initial, result


@pytest.mark.claim("PPO-5", "STD-PPO-4")
def test_smoke_run_has_finite_losses_changes_every_parameter_and_beats_a_random_policy(smoke, result):
    """PPO-5, STD-PPO-4: a few thousand steps of PPO-clip give finite losses, move every parameter tensor, and a
    sampled policy whose mean return over 100 episodes beats the uniform random policy's on the same seeds."""
    config, initial, run = smoke
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
        "PPO-5",
        f"PPO-clip smoke run ({run.steps} steps, seed {SMOKE_SEED}): mean return {trained:.1f} over 100 "
        f"sampled episodes vs {uniform:.1f} for the uniform random policy",
    )


@pytest.mark.claim("STD-GAE-7", "PPO-5", "STD-PPO-4")
def test_the_algorithm_calls_the_verified_functions(monkeypatch):
    """STD-GAE-7, PPO-5, STD-PPO-4: the advantages come from lineage.gae and the policy loss from
    lineage.ppo.ppo_clip_loss, looked up where the algorithm looks them up (patched, they are seen called)."""
    calls = {"gae": 0, "ppo_clip_loss": 0, "value_loss": 0, "combined_loss": 0}

    def spy(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(lineage, "gae", spy("gae", lineage.gae))
    for name in ("ppo_clip_loss", "value_loss", "combined_loss"):
        monkeypatch.setattr(lineage.ppo, name, spy(name, getattr(lineage.ppo, name)))
    config = short(total_steps=256, n_steps=64, clip_value_eps=0.2)  # the clipped value loss is lineage.ppo.value_loss
    ppo_clip.train(config, log=lambda line: None)
    updates = config.iterations * config.n_epochs * config.n_minibatches
    assert calls == {
        "gae": config.iterations,
        "ppo_clip_loss": updates,
        "value_loss": updates,
        "combined_loss": updates,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_steps", -1),
        ("n_envs", 0),
        ("n_steps", 2.5),
        ("n_epochs", True),
        ("learning_rate", -1e-3),
        ("gamma", 1.5),
        ("lam", -0.1),
        ("clip_eps", 0.0),
        ("clip_value_eps", -0.2),
        ("ent_coef", float("nan")),
        ("max_grad_norm", 0.0),
        ("seed", -3),
        ("n_minibatches", 10_000),
        ("autoreset_mode", "next"),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    """PPO-5: a bad hyper-parameter raises ValueError naming the field."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        PPOClipConfig(**{field: value})


def test_an_action_space_without_a_policy_is_refused_naming_the_env():
    """PPO-5: an action space with neither a categorical nor a Gaussian policy (MultiDiscrete) is refused
    (ValueError naming env_id)."""
    env_id = "lineage-test/MultiDiscrete-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=MultiDiscreteEnv, max_episode_steps=10)
    with pytest.raises(ValueError, match=rf"^env_id: {env_id} .*MultiDiscrete"):
        ppo_clip.train(short(env_id=env_id), log=lambda line: None)


class MultiDiscreteEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.MultiDiscrete([2, 3])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, False, False, {}


@pytest.mark.claim("PPO-5", "STD-PPO-4")
def test_pendulum_smoke_run_trains_a_gaussian_policy():
    """PPO-5, STD-PPO-4: on Pendulum-v1 the policy is a diagonal Gaussian; a short run gives finite losses and moves
    every parameter tensor, the learned log σ included (Pendulum learns too slowly for a return test this short)."""
    config = short(env_id="Pendulum-v1", total_steps=1024, n_steps=128, n_minibatches=4)
    initial = {}
    original = ppo_clip.make_agent

    def keep_initial(config, envs):
        agent = original(config, envs)
        initial.update({k: v.clone() for k, v in agent.state_dict().items()})
        return agent

    ppo_clip.make_agent = keep_initial
    try:
        run = ppo_clip.train(config, log=lambda line: None)
    finally:
        ppo_clip.make_agent = original
    assert isinstance(run.agent.policy, GaussianPolicy)
    assert run.losses and np.isfinite(run.losses).all()
    for name, tensor in run.agent.state_dict().items():
        assert not torch.equal(tensor, initial[name]), f"{name} did not change"


@pytest.mark.claim("PPO-5")
def test_gaussian_actions_are_clipped_only_by_the_environment_step():
    """PPO-5: a wide Gaussian (σ = e²) samples actions outside Pendulum's Box [−2, 2]; the rollout stores them as
    drawn, with log π of the drawn action, while the environment is stepped with the clipped action (its reward
    is that of the clipped torque)."""
    config = short(env_id="Pendulum-v1", log_std_init=2.0)
    envs = make_envs(config.env_id, 2, SMOKE_SEED)
    try:
        agent = ppo_clip.make_agent(config, envs)
        act, value = policy_callables(agent)
        stepped = ppo_clip.stepped_envs(envs)
        rollout = VectorRollout(stepped, seed=SMOKE_SEED).collect(act, value, 32)
    finally:
        envs.close()
    actions = rollout.actions.reshape(-1, 1)
    assert rollout.actions.shape == (32, 2, 1) and (np.abs(actions) > 2.0).any()
    with torch.no_grad():
        dist = agent.policy.distribution(torch.as_tensor(rollout.observations.reshape(-1, 3)))
        logp = dist.log_prob(torch.as_tensor(actions)).numpy()
    np.testing.assert_allclose(rollout.log_probs.reshape(-1), logp, rtol=1e-5, atol=1e-5)
    env = gym.make("Pendulum-v1")  # replay sub-environment 0 with the clipped torques: the same rewards
    env.reset(seed=SMOKE_SEED)
    for t in range(32):
        _, reward, *_ = env.step(np.clip(rollout.actions[t, 0], -2.0, 2.0))
        assert reward == pytest.approx(rollout.rewards[t, 0], rel=1e-6)


def test_same_seed_gives_identical_parameters_and_another_seed_does_not():
    """PPO-5: seeds make a run reproducible (torch, numpy and environment seeds)."""
    runs = [ppo_clip.train(short(seed=seed), log=lambda line: None) for seed in (3, 3, 4)]
    first, again, other = (run.agent.state_dict() for run in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].losses == runs[1].losses
    assert not all(torch.equal(first[k], other[k]) for k in first)


class Counter(gym.Env):
    """Observation [t] after t steps (reset: [0]), reward 1, never terminates; a TimeLimit cuts it."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t], np.float32), 1.0, False, False, {}


def counter_envs(mode, n_envs=2, limit=3):
    return gym.vector.SyncVectorEnv(
        [lambda: gym.wrappers.TimeLimit(Counter(), max_episode_steps=limit) for _ in range(n_envs)],
        autoreset_mode=mode,
    )


def value(obs):
    return 100.0 + np.asarray(obs, dtype=np.float64)[:, 0]  # V(s) = 100 + t: the final and reset values differ


def act(obs):
    return np.zeros(len(obs), dtype=np.int64), np.zeros(len(obs))


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_truncation_bootstraps_from_the_true_final_observation(mode):
    """STD-TT-1, STD-TT-2: at a time-limit cut the recorded next value is V(final observation) = 100 + 3, not
    V(reset observation) = 100; truncated is set, terminated is not, and (NEXT_STEP) the reset step after the cut
    is padding that stops the recursion and enters no loss."""
    rollout = VectorRollout(counter_envs(mode), seed=0).collect(act, value, 9)
    cuts = np.flatnonzero(rollout.truncated[:, 0])
    if mode is AutoresetMode.NEXT_STEP:  # steps t = 0,1,2 | pad | 4,5,6 | pad | 8
        assert cuts.tolist() == [2, 6]
        assert rollout.valid[:, 0].tolist() == [True, True, True, False, True, True, True, False, True]
        assert rollout.terminated[~rollout.valid].all() and (rollout.rewards[~rollout.valid] == 0).all()
    else:  # steps t = 0,1,2 | 3,4,5 | 6,7,8
        assert cuts.tolist() == [2, 5, 8]
        assert rollout.valid.all()
    assert (rollout.next_values[cuts, 0] == 103.0).all()
    assert not rollout.terminated[cuts, 0].any()
    assert rollout.episode_returns == [3.0] * (2 * len(cuts))
    advantages = lineage.gae(**rollout.segment(), gamma=1.0, lam=1.0)
    assert advantages[cuts[0], 0] == 1.0 + 103.0 - 102.0  # δ at the cut: r + V(final) − V(s)


def test_an_unhandled_autoreset_mode_is_refused():
    """STD-TT-1: the DISABLED mode (the caller resets by hand) is rejected with a ValueError naming it."""
    with pytest.raises(ValueError, match=r"autoreset_mode: .*DISABLED"):
        VectorRollout(counter_envs(AutoresetMode.DISABLED), seed=0)
    with pytest.raises(ValueError, match=r"autoreset_mode: .*DISABLED"):
        ppo_clip.train(short(autoreset_mode=AutoresetMode.DISABLED), log=lambda line: None)


def test_learn_prints_a_line_per_iteration_and_the_summary(capsys):
    """PPO-5: ``python -m lineage.learn ppo_clip CartPole-v1`` logs each iteration and ends with steps-to-475, the
    evaluation mean and the wall time; a bad ``--steps`` is refused naming the field."""
    from lineage.learn import main

    main(["ppo_clip", "CartPole-v1", "--seed", "0", "--steps", "1024", "--eval-episodes", "3", "--no-progress"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["iter", "1/2"], ["iter", "2/2"]]
    assert lines[-1].startswith("ppo_clip CartPole-v1 seed 0: steps to 475: not reached (of 1024); final mean return")
    assert "over 3 evaluation episodes" in lines[-1] and "wall time" in lines[-1]
    with pytest.raises(SystemExit):
        main(["ppo_clip", "CartPole-v1", "--steps", "-5"])
    assert "total_steps: expected an integer >= 1" in capsys.readouterr().err


def test_every_training_algorithm_is_registered_with_learn():
    """PPO-5: each module of lineage.algorithms that trains (has ``train``) is an entry of lineage.learn.ALGORITHMS
    with its own config class and train function, and ``nox -s learn`` benchmarks each — a forgotten registration
    fails here."""
    import pkgutil

    import lineage.algorithms
    from lineage.learn import ALGORITHMS

    trainers = {
        info.name: importlib.import_module(f"lineage.algorithms.{info.name}")
        for info in pkgutil.iter_modules(lineage.algorithms.__path__)
    }
    trainers = {name: module for name, module in trainers.items() if hasattr(module, "train")}
    assert set(ALGORITHMS) == set(trainers)
    for name, (config_class, train) in ALGORITHMS.items():
        assert train is trainers[name].train and config_class.__module__ == trainers[name].__name__
    assert set(bench_learn().BENCHMARKS) == set(ALGORITHMS), "nox -s learn must benchmark every algorithm"


def bench_learn():
    spec = importlib.util.spec_from_file_location("bench_learn", ROOT / "benchmarks" / "bench_learn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.claim("PPO-5")
def test_the_learning_benchmark_writes_its_table_json_and_curves_with_sb3_side_by_side(tmp_path, monkeypatch):
    """PPO-5: ``nox -s learn``'s script, on a tiny budget: lineage's PPO-clip and SB3's PPO (matched
    hyper-parameters) each give a row, the comparison line states both wall times and their ratio, and the markdown
    table, the JSON rows and one PNG per environment are written."""
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("matplotlib")
    module = bench_learn()
    monkeypatch.setattr(
        "sys.argv",
        [
            "bench_learn.py",
            *("--only", "ppo_clip", "--env", "CartPole-v1", "--seeds", "0", "--steps", "1024"),
            *("--out", str(tmp_path)),
        ],
    )
    module.main()
    rows = json.loads((tmp_path / "learn.json").read_text())
    assert [(r["algo"], r["env"], r["steps"]) for r in rows] == [
        ("ppo_clip", "CartPole-v1", 1024),
        ("sb3_ppo", "CartPole-v1", 1024),
    ]
    markdown = (tmp_path / "learn.md").read_text()
    assert "| ppo_clip | CartPole-v1 | 0 |" in markdown and "| sb3_ppo | CartPole-v1 | 0 |" in markdown
    assert "ratio lineage/SB3 = " in markdown
    assert (tmp_path / "curve_CartPole-v1.png").stat().st_size > 0


def test_per_environment_defaults_fill_only_the_fields_left_unset():
    """PPO-5: the fields left None take the environment's defaults (Pendulum-v1 its own, any other env DEFAULTS),
    a value set by the caller is kept."""
    cartpole, pendulum = PPOClipConfig(), PPOClipConfig(env_id="Pendulum-v1")
    for name, value in ppo_clip.DEFAULTS.items():
        assert getattr(cartpole, name) == value
    for name, value in ppo_clip.PER_ENV["Pendulum-v1"].items():
        assert getattr(pendulum, name) == value
    assert PPOClipConfig(env_id="Pendulum-v1", n_steps=7).n_steps == 7


@pytest.mark.claim("PPO-5", "STD-PPO-4")
def test_the_gaussian_run_calls_the_verified_functions(monkeypatch):
    """PPO-5, STD-PPO-4: on Pendulum-v1 (a Gaussian policy) the policy loss is still lineage.ppo.ppo_clip_loss on
    the policy's log-probabilities and the entropy bonus is lineage.ppo.gaussian.diagonal_gaussian_entropy (never
    the categorical one), each once per minibatch."""
    calls = {"ppo_clip_loss": 0, "combined_loss": 0, "categorical_entropy": 0, "diagonal_gaussian_entropy": 0}

    def spy(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for name in ("ppo_clip_loss", "combined_loss", "categorical_entropy"):
        monkeypatch.setattr(lineage.ppo, name, spy(name, getattr(lineage.ppo, name)))
    monkeypatch.setattr(
        lineage.ppo.gaussian,
        "diagonal_gaussian_entropy",
        spy("diagonal_gaussian_entropy", lineage.ppo.gaussian.diagonal_gaussian_entropy),
    )
    config = short(env_id="Pendulum-v1", total_steps=256, n_steps=64, n_minibatches=2, n_epochs=2)
    ppo_clip.train(config, log=lambda line: None)
    updates = config.iterations * config.n_epochs * config.n_minibatches
    assert calls == {
        "ppo_clip_loss": updates,
        "combined_loss": updates,
        "categorical_entropy": 0,
        "diagonal_gaussian_entropy": updates,
    }
