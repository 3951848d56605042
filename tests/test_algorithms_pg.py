"""REINFORCE, REINFORCE with a learned baseline and the one-step Actor-Critic on CartPole-v1
(lineage.algorithms.reinforce, reinforce_baseline, actor_critic): short smoke runs, the calls into the verified
building blocks, the surrogates whose autograd gradient is exactly the verified estimate, the episode collector,
the bootstrap at a time-limit cut, configuration errors and reproducibility (claims PG-7, PG-8, AC-6, AC-15, AC-19,
STD-REINF-2, STD-TT-1). The learning benchmark is ``python -m lineage.learn``, not a test."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import lineage
import lineage.actor_critic
import lineage.pg
import lineage.ppo
from lineage.algorithms import actor_critic, reinforce, reinforce_baseline
from lineage.algorithms.common import evaluate, make_envs, policy_callables
from lineage.algorithms.rollout import VectorRollout, evaluate_policy

SMOKE_SEED = 0
MODULES = {"reinforce": reinforce, "reinforce_baseline": reinforce_baseline, "actor_critic": actor_critic}
CONFIGS = {
    "reinforce": reinforce.ReinforceConfig,
    "reinforce_baseline": reinforce_baseline.ReinforceBaselineConfig,
    "actor_critic": actor_critic.ActorCriticConfig,
}
# a few thousand steps each: where the seed-1 benchmark curves have left the uniform random policy's ~22 behind
SMOKE_STEPS = {"reinforce": 6000, "reinforce_baseline": 6000, "actor_critic": 16000}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def quiet(line):
    pass


def short(name, **overrides):
    return CONFIGS[name](**({"total_steps": 300, "seed": SMOKE_SEED} | overrides))


@pytest.fixture(scope="module")
def smoke():
    """One smoke run per algorithm on a fixed seed, with the initial parameters kept (through ``on_update``, which
    sees the agent before the first update)."""
    torch.set_num_threads(1)
    runs = {}
    for name, module in MODULES.items():
        config = CONFIGS[name](total_steps=SMOKE_STEPS[name], seed=SMOKE_SEED)
        initial, seen = {}, []

        def keep(agent, initial=initial, seen=seen):
            if not seen:
                initial.update({k: v.clone() for k, v in agent.state_dict().items()})
            seen.append(1)

        runs[name] = (config, initial, len(seen), module.train(config, log=quiet, on_update=keep), seen)
    return runs


@pytest.mark.claim("PG-8", "AC-6", "AC-19")
@pytest.mark.parametrize("name", list(MODULES))
def test_smoke_run_has_finite_losses_changes_every_parameter_and_beats_a_random_policy(name, smoke, result):
    """PG-8, AC-6, AC-19: a few thousand steps give finite losses, move every parameter tensor, call ``on_update``
    once before the first update and once after each, and give a sampled policy whose mean return over 100
    episodes beats the uniform random policy's on the same seeds."""
    config, initial, _, run, seen = smoke[name]
    assert run.losses and np.isfinite(run.losses).all()
    assert run.steps >= config.total_steps
    for key, tensor in run.agent.state_dict().items():
        assert not torch.equal(tensor, initial[key]), f"{key} did not change"
    updates = len(run.log) if name != "actor_critic" else config.iterations
    assert len(seen) == 1 + updates
    torch.manual_seed(SMOKE_SEED)  # the sampled evaluation's actions, independent of the tests run before
    trained = evaluate(run.agent, config, episodes=100, greedy=False).mean()
    rng = np.random.default_rng(SMOKE_SEED)
    uniform = evaluate_policy(
        lambda: gym.make("CartPole-v1"), lambda obs: rng.integers(0, 2, len(obs)), episodes=100, seed=SMOKE_SEED
    ).mean()
    assert trained > uniform + 5
    result(
        {"reinforce": "PG-8", "reinforce_baseline": "AC-6", "actor_critic": "AC-19"}[name],
        f"{name} smoke run ({run.steps} steps, seed {SMOKE_SEED}): mean return {trained:.1f} over 100 sampled "
        f"episodes vs {uniform:.1f} for the uniform random policy",
    )


def spy(calls, name, function):
    def wrapper(*args, **kwargs):
        calls[name] += 1
        return function(*args, **kwargs)

    return wrapper


def patch(monkeypatch, calls, module, *names):
    for name in names:
        calls[name] = 0
        monkeypatch.setattr(module, name, spy(calls, name, getattr(module, name)))


@pytest.mark.claim("PG-7", "PG-8", "STD-REINF-2")
def test_reinforce_calls_the_verified_functions(monkeypatch):
    """PG-7, PG-8, STD-REINF-2: every update takes ψ = G from lineage.pg.reward_to_go and the weighted sum from
    lineage.pg.gradient_estimate (patched where REINFORCE looks them up, they are seen called once per update)."""
    calls = {}
    patch(monkeypatch, calls, lineage.pg, "reward_to_go", "gradient_estimate")
    run = reinforce.train(short("reinforce"), log=quiet)
    assert calls == {"reward_to_go": len(run.log), "gradient_estimate": len(run.log)} and len(run.log) >= 2


@pytest.mark.claim("AC-6", "PG-8")
def test_reinforce_baseline_calls_the_verified_functions(monkeypatch):
    """AC-6, PG-8: every update takes ψ = G − b from lineage.pg.reward_to_go_minus_baseline, the critic's target
    from lineage.pg.reward_to_go, the weighted sum from lineage.pg.gradient_estimate, and ``value_epochs``
    critic steps on lineage.ppo.value_loss."""
    calls = {}
    patch(monkeypatch, calls, lineage.pg, "reward_to_go", "reward_to_go_minus_baseline", "gradient_estimate")
    patch(monkeypatch, calls, lineage.ppo, "value_loss")
    config = short("reinforce_baseline", value_epochs=3)
    n = len(reinforce_baseline.train(config, log=quiet).log)
    assert n >= 2
    assert calls == {
        "reward_to_go": n,
        "reward_to_go_minus_baseline": n,
        "gradient_estimate": n,
        "value_loss": n * config.value_epochs,
    }


@pytest.mark.claim("AC-15", "AC-19", "STD-TT-1", "STD-PPO-4")
def test_actor_critic_calls_the_verified_functions(monkeypatch):
    """AC-15, AC-19, STD-TT-1, STD-PPO-4: every update takes δ from lineage.td_errors, the actor's direction from
    lineage.actor_critic.actor_direction, the critic's semi-gradient from lineage.actor_critic.critic_loss_gradient
    and the entropy bonus from lineage.ppo.categorical_entropy."""
    calls = {}
    patch(monkeypatch, calls, lineage, "td_errors")
    patch(monkeypatch, calls, lineage.actor_critic, "actor_direction", "critic_loss_gradient")
    patch(monkeypatch, calls, lineage.ppo, "categorical_entropy")
    config = short("actor_critic", n_envs=4, n_steps=8, total_steps=320)
    actor_critic.train(config, log=quiet)
    n = config.iterations
    assert calls == {"td_errors": n, "actor_direction": n, "critic_loss_gradient": n, "categorical_entropy": n}


def per_step_gradients(values: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    """∇ of each entry of ``values`` with respect to ``module``'s parameters, flattened: ``values.shape + [K]``."""
    flat = values.reshape(-1)
    rows = []
    for i in range(len(flat)):
        grads = torch.autograd.grad(flat[i], list(module.parameters()), retain_graph=True, allow_unused=True)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows).reshape(*values.shape, -1)


def flat_grad(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in module.parameters()])


def small_episodes(name="reinforce", n_envs=3):
    config = short(name, n_envs=n_envs, hidden=4)
    envs = make_envs(config.env_id, config.n_envs, config.seed, config.autoreset_mode)
    module = MODULES[name]
    torch.manual_seed(0)
    agent = module.make_agent(config, envs)
    episodes = reinforce.EpisodeCollector(envs, seed=0).collect(reinforce.sampler(agent))
    envs.close()
    return config, agent, episodes


@pytest.mark.claim("PG-7", "STD-REINF-2")
@pytest.mark.parametrize("convention", ["C1", "C2"])
def test_reinforce_surrogate_gradient_is_the_verified_estimate(convention):
    """PG-7, STD-REINF-2: autograd of REINFORCE's surrogate S(θ) = (1/N) Σ_n gradient_estimate(log π, G) is the
    verified estimate with the true per-step scores ∇log π — for C1 lineage.pg.reinforce_gradient itself
    ((1/N) Σ γ^t G_t ∇log π), for C2 gradient_estimate without γ^t — on three CartPole episodes (float64)."""
    config, agent, episodes = small_episodes()
    config = reinforce.ReinforceConfig(**{**config.__dict__, "convention": convention, "gamma": 0.9})
    agent = agent.double()
    mask = torch.as_tensor(episodes.mask)
    obs = torch.as_tensor(episodes.observations[episodes.mask], dtype=torch.float64)
    logp = torch.zeros(mask.shape, dtype=torch.float64).masked_scatter(
        mask, agent.policy.distribution(obs).log_prob(torch.as_tensor(episodes.actions[episodes.mask]))
    )
    scores = per_step_gradients(logp, agent.policy) * mask[..., None]
    psi = reinforce.estimate(episodes, config)
    agent.zero_grad()
    reinforce.surrogate(logp, psi, config).backward()
    rewards = torch.as_tensor(episodes.rewards)
    if convention == "C1":
        expected = lineage.pg.reinforce_gradient(scores, rewards, gamma=0.9)
    else:
        expected = lineage.pg.gradient_estimate(scores, torch.as_tensor(psi), gamma=0.9, convention="C2").mean(0)
    torch.testing.assert_close(flat_grad(agent.policy), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.claim("AC-15", "AC-19")
def test_actor_critic_update_directions_are_the_verified_ones():
    """AC-15, AC-19: the gradients the one-step Actor-Critic's update hands to Adam are (1/M) times
    lineage.actor_critic.actor_direction(∇log π, δ) (ascent) and (1/M) times
    lineage.actor_critic.critic_loss_gradient(…, ∇V) (descent), with the per-step gradients from autograd (the
    plain algorithm: no entropy bonus)."""
    config = short("actor_critic", n_envs=3, n_steps=6, hidden=4, ent_coef=0.0)
    envs = make_envs(config.env_id, config.n_envs, config.seed, config.autoreset_mode)
    torch.manual_seed(0)
    agent = actor_critic.make_agent(config, envs)
    act, value = policy_callables(agent)
    batch = actor_critic.transitions(VectorRollout(envs, seed=0).collect(act, value, config.n_steps))
    envs.close()
    deltas = actor_critic.estimate(batch, config)
    obs = torch.as_tensor(batch.observations, dtype=torch.float32)
    logp = agent.policy.distribution(obs).log_prob(torch.as_tensor(batch.actions))
    scores, value_grads = per_step_gradients(logp, agent.policy), per_step_gradients(agent.value(obs), agent.value)
    m = len(deltas)
    expected_actor = lineage.actor_critic.actor_direction(scores, torch.as_tensor(deltas, dtype=torch.float32)) / m
    expected_critic = (
        lineage.actor_critic.critic_loss_gradient(
            *(torch.as_tensor(x, dtype=torch.float32) for x in (batch.rewards, batch.values, batch.next_values)),
            torch.as_tensor(batch.terminated),
            value_grads,
            gamma=config.gamma,
        )
        / m
    )
    seen = {}

    class Recorder(torch.optim.SGD):
        def __init__(self, params, key):
            super().__init__(params, lr=0.0)
            self.key = key

        def step(self, closure=None):
            seen[self.key] = torch.cat([p.grad.reshape(-1) for g in self.param_groups for p in g["params"]])

    actor_critic.update(
        agent,
        Recorder(agent.policy.parameters(), "actor"),
        Recorder(agent.value.parameters(), "critic"),
        batch,
        deltas,
        config,
    )
    torch.testing.assert_close(seen["actor"], -expected_actor, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(seen["critic"], expected_critic, rtol=1e-4, atol=1e-6)


@pytest.mark.claim("AC-6")
def test_reinforce_baseline_weights_are_returns_minus_the_critic():
    """AC-6: the baseline variant's ψ is G − V(s) on every episode step and 0 on the padding, and the critic's
    targets are G (lineage.pg.reward_to_go)."""
    config, agent, episodes = small_episodes("reinforce_baseline")
    b = reinforce_baseline.baselines(agent, episodes)
    psi, returns = reinforce_baseline.estimate(episodes, b, config)
    assert (b[~episodes.mask] == 0).all() and (psi[~episodes.mask] == 0).all()
    np.testing.assert_array_equal(returns, lineage.pg.reward_to_go(episodes.rewards, gamma=config.gamma))
    np.testing.assert_allclose(psi, returns - b, rtol=0, atol=1e-12)


class Counter(gym.Env):
    """Observation [t] after t steps (reset: [0]), reward 1; terminates after ``end`` steps if given, and a
    TimeLimit cuts it."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, end=None):
        self.end = end

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t], np.float32), 1.0, self.t == self.end, False, {}


def counter_envs(mode, ends=(None, None), limit=3):
    return gym.vector.SyncVectorEnv(
        [lambda end=end: gym.wrappers.TimeLimit(Counter(end), max_episode_steps=limit) for end in ends],
        autoreset_mode=mode,
    )


@pytest.mark.claim("PG-8", "STD-TT-1")
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_episode_collector_records_one_whole_episode_per_sub_environment(mode):
    """PG-8, STD-TT-1: the collector keeps each sub-environment's first episode exactly — a terminal one after 2
    steps, one cut by the time limit after 4 — with the steps of the longer one padded in the shorter, the
    terminated flag only on the real termination, and a second call starting fresh episodes."""
    envs = counter_envs(mode, ends=(2, None), limit=4)
    collector = reinforce.EpisodeCollector(envs, seed=0)
    for _ in range(2):
        episodes = collector.collect(lambda obs: np.zeros(len(obs), dtype=np.int64))
        assert episodes.mask.tolist() == [[True, True, False, False], [True] * 4]
        assert episodes.observations[:, :, 0].tolist()[1] == [0, 1, 2, 3]
        assert episodes.observations[0, :2, 0].tolist() == [0, 1]
        assert episodes.rewards.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
        assert episodes.terminated.tolist() == [True, False]
        assert episodes.returns == [2.0, 4.0] and episodes.steps == 6
    envs.close()
    with pytest.raises(ValueError, match=r"autoreset_mode: .*DISABLED"):
        reinforce.EpisodeCollector(counter_envs(AutoresetMode.DISABLED), seed=0)


@pytest.mark.claim("STD-TT-1", "AC-19")
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_actor_critic_bootstraps_at_a_cut_and_not_at_a_termination(mode):
    """STD-TT-1, AC-19: the one-step TD error at a time-limit cut is r + γ V(final observation) − V(s), at a
    termination r − V(s), and the NEXT_STEP mode's padding step is no transition."""
    envs = counter_envs(mode, ends=(None, 2), limit=3)

    def value(obs):
        return 100.0 + np.asarray(obs, dtype=np.float64)[:, 0]

    def act(obs):
        return np.zeros(len(obs), dtype=np.int64), np.zeros(len(obs))

    rollout = VectorRollout(envs, seed=0).collect(act, value, 4)
    batch = actor_critic.transitions(rollout)
    deltas = actor_critic.estimate(batch, short("actor_critic", gamma=0.5))
    observed = {
        (float(s), bool(t)): float(d)
        for s, t, d in zip(batch.observations[:, 0], batch.terminated, deltas, strict=True)
    }
    assert observed[(2.0, False)] == 1.0 + 0.5 * 103.0 - 102.0  # env 0 cut after 3 steps: bootstrap V(s_3)
    assert observed[(1.0, True)] == 1.0 - 101.0  # env 1 terminated after 2 steps: no bootstrap
    assert len(deltas) == (6 if mode is AutoresetMode.NEXT_STEP else 8)  # NEXT_STEP: one padding step per env
    envs.close()


BAD_FIELDS = [
    ("total_steps", -1),
    ("seed", -3),
    ("window", 0),
    ("n_envs", 0),
    ("hidden", 2.5),
    ("learning_rate", -1e-3),
    ("gamma", 1.5),
    ("max_grad_norm", 0.0),
    ("autoreset_mode", "next"),
    ("threshold", float("nan")),
]
BAD = [(name, f, v) for name in MODULES for f, v in BAD_FIELDS]
BAD += [(name, "convention", "C3") for name in ("reinforce", "reinforce_baseline")]
BAD += [(name, "value_learning_rate", 0.0) for name in ("reinforce_baseline", "actor_critic")]
BAD += [("reinforce_baseline", "value_epochs", True), ("actor_critic", "n_steps", 0)]
BAD += [("actor_critic", "ent_coef", -0.1)]


@pytest.mark.claim("PG-8")
@pytest.mark.parametrize(("name", "field", "value"), BAD)
def test_bad_configuration_names_the_field(name, field, value):
    """PG-8: a bad hyper-parameter raises ValueError naming the field."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        CONFIGS[name](**{field: value})


@pytest.mark.claim("PG-8")
@pytest.mark.parametrize("name", list(MODULES))
def test_a_continuous_action_space_is_refused_naming_the_env(name):
    """PG-8: the categorical policy refuses Pendulum-v1's Box action space (ValueError naming env_id)."""
    with pytest.raises(ValueError, match=r"^env_id: Pendulum-v1 .*Discrete"):
        MODULES[name].train(short(name, env_id="Pendulum-v1"), log=quiet)


@pytest.mark.claim("PG-8")
@pytest.mark.parametrize("name", list(MODULES))
def test_same_seed_gives_identical_parameters_and_another_seed_does_not(name):
    """PG-8: seeds make a run reproducible (torch, numpy and environment seeds)."""
    runs = [MODULES[name].train(short(name, seed=seed), log=quiet) for seed in (3, 3, 4)]
    first, again, other = (run.agent.state_dict() for run in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].losses == runs[1].losses
    assert not all(torch.equal(first[k], other[k]) for k in first)
