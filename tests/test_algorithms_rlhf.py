"""RLHF-PPO on the enumerable token space (lineage.algorithms.rlhf_ppo): a short run whose exact KL(π ‖ π*) falls
while the learned reward rises, the calls into the verified building blocks, configuration errors, reproducibility,
and the exact check itself — the embedding of EOS-terminated responses in the V^L sequences of
lineage.rlhf.sequences, and J* − J = β·KL(π ‖ π*) along the curve (claims RLHF-1, RLHF-2, RLHF-3, PPO-2,
STD-RLHF-1, STD-RLHF-2, STD-RLHF-3, STD-RLHF-5, PPO-5, STD-GAE-7). The learning benchmark is
``python -m lineage.learn rlhf_ppo tokens``, not a test."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import lineage
import lineage.ppo
import lineage.rlhf
from lineage.algorithms import rlhf_ppo
from lineage.algorithms.rlhf_ppo import EOS, PAD, RLHFPPOConfig

SMOKE_SEED = 0


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def short(**overrides) -> RLHFPPOConfig:
    return RLHFPPOConfig(**({"total_steps": 512, "seed": SMOKE_SEED, "n_pairs": 500, "rm_steps": 50} | overrides))


@pytest.fixture(scope="module")
def smoke():
    """One run of 32 iterations × 256 responses on a fixed seed (the default hyper-parameters), with the initial
    policy kept."""
    torch.set_num_threads(1)
    config = RLHFPPOConfig(total_steps=8192, seed=SMOKE_SEED)
    initial = {}
    original = rlhf_ppo.make_policy

    def keep_initial(config):
        policy = original(config)
        initial["logits"] = policy.logits.detach().clone()
        return policy

    rlhf_ppo.make_policy = keep_initial
    try:
        result = rlhf_ppo.train(config, log=lambda line: None)
    finally:
        rlhf_ppo.make_policy = original
    return config, initial, result


@pytest.mark.claim("STD-RLHF-3", "STD-RLHF-2", "PPO-5")
def test_smoke_run_brings_the_policy_to_the_closed_form_optimum(smoke, result):
    """STD-RLHF-3, STD-RLHF-2, PPO-5: 8192 responses of RLHF-PPO take the exact KL(π ‖ π*) (π* ∝ π_ref·e^{r_φ/β}
    with the learned r_φ; uniform mean over prompts) from about 2 nats to below 0.02 nats, while E_π[r_φ] and the
    hidden score rise and KL(π ‖ π_ref) grows from 0; losses are finite and every reachable row of the policy
    table and the critic moves. Correct runs end at 0.0018–0.0036 nats (seeds 0–3); the 0.02 bound catches
    runs that optimise another objective: γ = 0.9 in GAE, or rewards whitened with their mean kept (a per-token
    bonus), end at 0.048–0.056; no KL penalty, or twice β, at 0.46–0.51 (measured at 3072 responses)."""
    config, initial, run = smoke
    first, last = run.curve[0], run.final
    assert len(run.curve) == config.iterations + 1 and run.steps == 8192
    assert run.losses and np.isfinite(run.losses).all()
    assert first.kl_to_reference == 0.0
    assert last.kl_to_optimum < 0.02 < first.kl_to_optimum / 50
    assert last.reward > first.reward + 0.5 and last.hidden_score > first.hidden_score + 0.5
    assert last.kl_to_reference > 0.1
    reachable = ~torch.as_tensor(rlhf_ppo.after_eos_rows(config))
    moved = (run.agent.policy.logits.detach() != initial["logits"]).any(dim=-1)
    assert moved[:, reachable].all(), "a reachable row of the policy table did not change"
    assert (run.agent.value.values.detach()[:, reachable] != 0).all(), "a reachable critic entry did not change"
    assert torch.equal(run.agent.reference.logits, initial["logits"]), "the reference must stay the initial policy"
    result(
        "STD-RLHF-3",
        f"RLHF-PPO smoke run ({run.steps} responses, seed {SMOKE_SEED}, β = {config.beta}): KL(π‖π*) "
        f"{first.kl_to_optimum:.3f} → {last.kl_to_optimum:.4f} nats, E[r_φ] {first.reward:+.3f} → {last.reward:+.3f},"
        f" KL(π‖π_ref) 0 → {last.kl_to_reference:.3f}, hidden score {first.hidden_score:+.3f} → "
        f"{last.hidden_score:+.3f}; reward model ranking agreement {run.reward_model_agreement:.3f}",
    )


@pytest.mark.claim("STD-RLHF-3")
def test_the_objective_gap_is_beta_times_the_kl_to_the_optimum_along_the_curve(smoke):
    """STD-RLHF-3 (notes §PPO, RLHF part): at every point of the exact curve J* − J(π) = β·KL(π ‖ π*) (the Gibbs
    identity, per prompt and so for the mean), and J* stays one number: the oracle does not move during the run."""
    config, _, run = smoke
    for point in run.curve:
        gap = point.optimal_objective - point.objective
        assert gap == pytest.approx(config.beta * point.kl_to_optimum, abs=1e-12)
    assert len({round(p.optimal_objective, 12) for p in run.curve}) == 1


@pytest.mark.claim("STD-RLHF-2", "RLHF-3")
def test_responses_embed_in_the_full_length_sequences_without_changing_a_kl(smoke):
    """STD-RLHF-2, RLHF-3: the 40 responses per prompt (EOS-terminated, at most 3 tokens) sit in the 4³ sequences of
    lineage.rlhf.all_sequences with a uniform filler after EOS in π, π_ref and π*: the KL of
    lineage.rlhf.sequence_kl over the sequences equals the KL computed directly over the responses, with
    π(y) = Π_t π(y_t | y_<t) over the valid tokens only."""
    config, _, run = smoke
    oracle = run.oracle
    sequences = lineage.rlhf.all_sequences(config.vocab_size, config.max_length)
    mask = rlhf_ppo.response_mask(sequences)
    distinct = oracle.distinct
    assert len(distinct) == 1 + 3 + 9 + 27
    for x in range(config.n_prompts):
        policy, optimum = run.agent.policy.exact(x, config.max_length), oracle.optimum[x]

        def response_probs(p):
            return np.where(mask, p.token_probs(), 1.0).prod(axis=1)[distinct]

        p, q = response_probs(policy), response_probs(optimum)
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and q.sum() == pytest.approx(1.0, abs=1e-12)
        direct = float(p @ (np.log(p) - np.log(q)))
        assert lineage.rlhf.sequence_kl(policy, optimum) == pytest.approx(direct, abs=1e-12)


@pytest.mark.claim("PPO-2", "RLHF-1")
def test_hidden_rule_and_token_environment_are_as_documented():
    """PPO-2, RLHF-1: prompt x wants token 1 + x mod 3 (+1), other content tokens −½, EOS +½; a response is the
    tokens up to its first EOS (the rest padding), and the prefix rows follow AutoregressivePolicy's order."""
    config = RLHFPPOConfig()
    weights = rlhf_ppo.hidden_weights(config)
    np.testing.assert_array_equal(weights, [[0.5, 1, -0.5, -0.5], [0.5, -0.5, 1, -0.5], [0.5, -0.5, -0.5, 1]])
    tokens = np.array([[1, 1, 0], [2, 0, 3], [0, 1, 1], [3, 3, 3]])
    mask = rlhf_ppo.response_mask(tokens)
    assert mask.tolist() == [[True] * 3, [True, True, False], [True, False, False], [True] * 3]
    scores = rlhf_ppo.bag_of_tokens_scores(weights, np.array([0, 1, 2, 2]), tokens, mask)
    np.testing.assert_array_equal(scores, [2.5, 1.5, 0.5, 3.0])
    policy = rlhf_ppo.make_policy(config).exact(0, config.max_length)
    sequences = lineage.rlhf.all_sequences(config.vocab_size, config.max_length)
    np.testing.assert_array_equal(rlhf_ppo.prefix_rows(sequences, config.vocab_size), policy.prefix_rows())
    assert (EOS, PAD) == (0, -1)


@pytest.mark.claim("STD-RLHF-1", "STD-GAE-7", "STD-RLHF-5", "PPO-5", "PPO-2", "STD-RLHF-3")
def test_the_algorithm_calls_the_verified_functions(monkeypatch):
    """STD-RLHF-1, STD-GAE-7, STD-RLHF-5, PPO-5, PPO-2, STD-RLHF-3: the rewards come from
    lineage.rlhf.token_rewards, the advantages and targets from lineage.gae and lineage.lambda_returns, whitened by
    lineage.rlhf.whiten; the losses from lineage.ppo (ppo_clip_loss, value_loss, combined_loss); the reward model
    from lineage.rlhf.bradley_terry_loss; π* from lineage.rlhf.kl_regularized_optimum and every KL from
    lineage.rlhf.sequence_kl — patched where the algorithm looks them up, they are seen called; ``on_update`` sees
    the agent before the first update and after each."""
    calls = dict.fromkeys(
        ["token_rewards", "gae", "lambda_returns", "whiten", "ppo_clip_loss", "value_loss", "combined_loss"], 0
    ) | dict.fromkeys(["bradley_terry_loss", "kl_regularized_optimum", "sequence_kl"], 0)

    keywords = []

    def spy(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            keywords.append((name, kwargs))
            return function(*args, **kwargs)

        return wrapper

    for name in ("gae", "lambda_returns"):
        monkeypatch.setattr(lineage, name, spy(name, getattr(lineage, name)))
    for name in ("token_rewards", "whiten", "bradley_terry_loss", "kl_regularized_optimum", "sequence_kl"):
        monkeypatch.setattr(lineage.rlhf, name, spy(name, getattr(lineage.rlhf, name)))
    for name in ("ppo_clip_loss", "value_loss", "combined_loss"):
        monkeypatch.setattr(lineage.ppo, name, spy(name, getattr(lineage.ppo, name)))
    config = short()
    seen = []
    run = rlhf_ppo.train(config, log=lambda line: None, on_update=seen.append)
    assert len(seen) == config.iterations + 1 and all(agent is run.agent for agent in seen)
    updates = config.iterations * config.n_epochs * config.n_minibatches
    points = config.iterations + 1
    assert calls == {
        "token_rewards": config.iterations,
        "gae": config.iterations,
        "lambda_returns": config.iterations,
        "whiten": config.iterations,
        "ppo_clip_loss": updates,
        "value_loss": updates,
        "combined_loss": updates,
        "bradley_terry_loss": config.rm_steps + 1,
        "kl_regularized_optimum": config.n_prompts,
        "sequence_kl": 3 * config.n_prompts * points,
    }
    # no entropy bonus (it would move the optimum), β as configured, γ = 1: π* is the optimum being trained for
    assert {kw["ent_coef"] for name, kw in keywords if name == "combined_loss"} == {0.0}
    assert {kw["beta"] for name, kw in keywords if name == "token_rewards"} == {config.beta}
    assert {kw["gamma"] for name, kw in keywords if name in ("gae", "lambda_returns")} == {1.0}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("env_id", "CartPole-v1"),
        ("total_steps", 0),
        ("seed", -1),
        ("n_prompts", 0),
        ("vocab_size", 1),
        ("max_length", 5),
        ("beta", 0.0),
        ("reference_scale", -0.5),
        ("n_pairs", 2.5),
        ("labels", "coin"),
        ("rm_steps", True),
        ("rm_learning_rate", float("nan")),
        ("batch_size", 0),
        ("n_epochs", -1),
        ("n_minibatches", 1000),
        ("learning_rate", 0.0),
        ("anneal_lr", 1),
        ("lam", 1.5),
        ("clip_eps", 1.0),
        ("clip_value_eps", 0.0),
        ("vf_coef", -1.0),
        ("whiten_advantages", "yes"),
        ("threshold", 0.0),
        ("threshold", None),
        ("window", 0),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    """PPO-5: a bad hyper-parameter raises ValueError naming the field."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        RLHFPPOConfig(**{field: value})


@pytest.mark.claim("PPO-5")
def test_same_seed_gives_identical_parameters_and_another_seed_does_not():
    """PPO-5: seeds make a run reproducible (preference pairs, reward model, rollouts, minibatches)."""
    runs = [rlhf_ppo.train(short(seed=seed), log=lambda line: None) for seed in (3, 3, 4)]
    first, again, other = (run.agent.state_dict() for run in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].losses == runs[1].losses and runs[0].curve == runs[1].curve
    assert not all(torch.equal(first[k], other[k]) for k in first)


@pytest.mark.claim("STD-RLHF-2", "STD-RLHF-3")
def test_evaluation_summary_and_curve_data(smoke, tmp_path):
    """STD-RLHF-2, STD-RLHF-3: ``evaluate`` gives the KL-penalised return of fresh responses (finite, the same on
    a second call, torch's global generator left alone); ``summary`` states the final KL(π‖π*) and the goal;
    ``write_curve`` writes one row per curve point as CSV and as JSON."""
    config, _, run = smoke
    state = torch.random.get_rng_state()
    returns = rlhf_ppo.evaluate(run.agent, config, episodes=50)
    assert returns.shape == (50,) and np.isfinite(returns).all()
    np.testing.assert_array_equal(returns, rlhf_ppo.evaluate(run.agent, config, episodes=50))
    assert torch.equal(torch.random.get_rng_state(), state)
    line = rlhf_ppo.summary(run, config)
    assert line.startswith(f"rlhf_ppo tokens seed {SMOKE_SEED}: KL(π‖π*)") and f"{run.final.kl_to_optimum:.4f}" in line
    rows = json.loads(rlhf_ppo.write_curve(run, tmp_path / "curve.json").read_text())
    assert [row["steps"] for row in rows] == run.curve_steps and math.isclose(
        rows[-1]["kl_to_optimum"], run.final.kl_to_optimum
    )
    lines = rlhf_ppo.write_curve(run, tmp_path / "curve.csv").read_text().splitlines()
    assert lines[0].startswith("steps,kl_to_optimum,reward,kl_to_reference") and len(lines) == len(rows) + 1


@pytest.mark.claim("PPO-5", "STD-RLHF-3")
def test_learn_runs_rlhf_ppo_on_the_token_environment(capsys):
    """PPO-5, STD-RLHF-3: ``python -m lineage.learn rlhf_ppo tokens`` logs each iteration and ends with the steps to
    KL(π‖π*) ≤ 0.05 and the mean KL-penalised return of fresh responses; a gymnasium id is refused naming env_id."""
    from lineage.learn import main

    main(["rlhf_ppo", "tokens", "--seed", "0", "--steps", "512", "--eval-episodes", "3", "--no-progress"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["iter", "1/2"], ["iter", "2/2"]]
    assert lines[-1].startswith("rlhf_ppo tokens seed 0: steps to 0.05: ")
    with pytest.raises(SystemExit):
        main(["rlhf_ppo", "CartPole-v1"])
    assert "env_id: RLHF-PPO runs on the enumerable token environment" in capsys.readouterr().err
