"""The learning benchmark (``nox -s learn``): every algorithm of lineage.learn on its environments, Stable-Baselines3
PPO on CartPole-v1 with matched hyper-parameters in the same run, a results table as markdown and JSON, and one
learning-curve PNG per environment, in ``results/`` (git-ignored).

    python benchmarks/bench_learn.py                      every benchmark of BENCHMARKS, seed 1
    python benchmarks/bench_learn.py --only ppo_clip      some of them (repeatable), and/or --env ENV, --seeds 1,2,3
    python benchmarks/bench_learn.py --no-sb3             without the SB3 comparison

These are benchmarks, not tests: they print figures. Wall times are only compared as ratios measured in this run.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lineage.algorithms.common import THRESHOLDS
from lineage.learn import LearnRow, learn

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"

# algorithm → the environments it is benchmarked on, with the step budget of each run (a test checks that every
# registered algorithm is here).
BENCHMARKS: dict[str, dict[str, int | None]] = {
    "ppo_clip": {"CartPole-v1": 100_000, "Pendulum-v1": 200_000},
    "ppo_penalty": {"CartPole-v1": 100_000, "Pendulum-v1": 200_000},
    "trpo": {"CartPole-v1": 100_000, "Pendulum-v1": 300_000},
    "rlhf_ppo": {"tokens": None},  # None: the algorithm's default (16,384 responses)
    "reinforce": {"CartPole-v1": None},  # its default budget (300k; 475 at 151–208k, seeds 1–3)
    "reinforce_baseline": {"CartPole-v1": None},  # 250k; 475 at 114–128k, seeds 1–3
    "actor_critic": {"CartPole-v1": None},  # 200k; 475 at 109–139k, seeds 1–3
}

# Stable-Baselines3's PPO with PPO-clip's CartPole hyper-parameters (lineage.algorithms.ppo_clip.PPOClipConfig): 4
# environments × 128 steps, 4 minibatches, 10 epochs, Adam 1e-3 linearly annealed, γ 0.99, λ 0.95, ε 0.2, entropy
# 0.01, gradient norm 0.5, two 64-unit tanh layers for π and V, no value clipping. SB3's value loss is the mean
# squared error without lineage's ½, so its vf_coef 0.25 gives the same loss as lineage's 0.5.
SB3_PPO = {
    "n_steps": 128,
    "batch_size": 128,
    "n_epochs": 10,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "vf_coef": 0.25,
    "max_grad_norm": 0.5,
}


def sb3_ppo(seed: int, steps: int) -> LearnRow:
    """SB3 PPO on CartPole-v1: steps to 475 by the same rule (the first rollout after which the mean of the last 100
    finished episodes reaches it), the mean of 100 greedy evaluation episodes, wall time."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from lineage.algorithms.rollout import evaluate_policy

    class Curve(BaseCallback):
        def __init__(self):
            super().__init__()
            self.steps, self.returns, self.reached = [], [], None

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            finished = [info["r"] for info in self.model.ep_info_buffer]
            mean = float(np.mean(finished)) if finished else float("nan")
            self.steps.append(self.model.num_timesteps)
            self.returns.append(mean)
            if self.reached is None and len(finished) == 100 and mean >= THRESHOLDS["CartPole-v1"]:
                self.reached = self.model.num_timesteps

    torch.set_num_threads(1)
    started = time.perf_counter()
    envs = make_vec_env("CartPole-v1", n_envs=4, seed=seed)
    model = PPO(
        "MlpPolicy",
        envs,
        learning_rate=lambda remaining: 1e-3 * remaining,
        seed=seed,
        device="cpu",
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}},
        **SB3_PPO,
    )
    curve = Curve()
    model.learn(total_timesteps=steps, callback=curve)
    train_time = time.perf_counter() - started
    returns = evaluate_policy(
        lambda: __import__("gymnasium").make("CartPole-v1"),
        lambda obs: model.predict(obs, deterministic=True)[0],
        episodes=100,
        seed=seed + 1_000_000,
    )
    return LearnRow(
        algo="sb3_ppo",
        env="CartPole-v1",
        seed=seed,
        steps=int(model.num_timesteps),
        threshold=THRESHOLDS["CartPole-v1"],
        steps_to_threshold=curve.reached,
        train_mean=curve.returns[-1],
        eval_mean=float(returns.mean()),
        eval_std=float(returns.std()),
        eval_episodes=len(returns),
        wall_time=time.perf_counter() - started,
        train_time=train_time,
        curve_steps=curve.steps,
        curve_returns=curve.returns,
    )


def table(rows: list[LearnRow]) -> str:
    lines = [
        "| algorithm | environment | seed | steps to threshold | threshold | last-100 training mean | "
        "eval mean (100 ep.) | steps | wall time (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        reached = "not reached" if r.steps_to_threshold is None else f"{r.steps_to_threshold:,}"
        lines.append(
            f"| {r.algo} | {r.env} | {r.seed} | {reached} | {r.threshold:g} | {r.train_mean:.1f} | "
            f"{r.eval_mean:.1f} ± {r.eval_std:.1f} | {r.steps:,} | {r.wall_time:.1f} |"
        )
    return "\n".join(lines)


def comparison(rows: list[LearnRow]) -> str:
    """Side by side, per seed: lineage's PPO-clip and SB3's PPO on CartPole-v1, steps to 475 and wall time."""
    lines = []
    ours = {r.seed: r for r in rows if r.algo == "ppo_clip" and r.env == "CartPole-v1"}
    for theirs in (r for r in rows if r.algo == "sb3_ppo"):
        mine = ours.get(theirs.seed)
        if mine is None:
            continue
        lines.append(
            f"seed {theirs.seed}: steps to 475 — lineage ppo_clip {mine.steps_to_threshold}, SB3 PPO "
            f"{theirs.steps_to_threshold}; training wall time — lineage {mine.train_time:.1f} s, SB3 "
            f"{theirs.train_time:.1f} s; ratio lineage/SB3 = {mine.train_time / theirs.train_time:.2f}"
        )
    return "\n".join(lines)


def plot(rows: list[LearnRow], directory: Path) -> list[Path]:
    """One PNG per environment: the running mean return (last 100 episodes) against environment steps; for a run
    with an exact curve (RLHF-PPO) the exact KL(π ‖ π*), KL(π ‖ π_ref) and E_π[r_φ] against responses sampled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for env in sorted({r.env for r in rows}):
        runs = [r for r in rows if r.env == env]
        fig, ax = plt.subplots(figsize=(7, 4))
        if all(r.exact_curve for r in runs):
            for r in runs:
                steps = [p["steps"] for p in r.exact_curve]
                ax.plot(steps, [p["kl_to_optimum"] for p in r.exact_curve], label=f"KL(π‖π*) (seed {r.seed})")
                ax.plot(
                    steps, [p["kl_to_reference"] for p in r.exact_curve], "--", label=f"KL(π‖π_ref) (seed {r.seed})"
                )
                ax.plot(steps, [p["reward"] for p in r.exact_curve], ":", label=f"E[r_φ] (seed {r.seed})")
            ax.axhline(runs[0].threshold, color="grey", linewidth=1, label=f"goal KL(π‖π*) ≤ {runs[0].threshold:g}")
            ax.set(
                xlabel="responses sampled", ylabel="nats / reward", title=f"RLHF-PPO on {env}: exact, by enumeration"
            )
        else:
            for r in runs:
                ax.plot(r.curve_steps, r.curve_returns, label=f"{r.algo} (seed {r.seed})")
            if env in THRESHOLDS:
                ax.axhline(
                    THRESHOLDS[env], color="grey", linestyle="--", linewidth=1, label=f"threshold {THRESHOLDS[env]:g}"
                )
            ax.set(xlabel="environment steps", ylabel="mean return, last 100 episodes", title=env)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = directory / f"curve_{env.replace('/', '_')}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="benchmark only these")
    parser.add_argument("--env", action="append", help="only these environments (repeatable)")
    parser.add_argument("--seeds", default="1", help="comma-separated seeds")
    parser.add_argument("--no-sb3", action="store_true")
    parser.add_argument("--steps", type=int, default=None, help="one step budget for every run (a quick look)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the rows of an earlier learn.json in --out that this run does not redo",
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[LearnRow] = []
    for algo in args.only or sorted(BENCHMARKS):
        for env, steps in BENCHMARKS[algo].items():
            if args.env and env not in args.env:
                continue
            for seed in seeds:
                row = learn(algo, env, seed=seed, steps=args.steps or steps, log=lambda line: None)
                print(row.summary(), flush=True)
                rows.append(row)
                if (algo, env) == ("ppo_clip", "CartPole-v1") and not args.no_sb3:  # right after: same machine load
                    row = sb3_ppo(seed, args.steps or steps)
                    print(row.summary(), flush=True)
                    rows.append(row)
    if args.keep and (args.out / "learn.json").exists():
        redone = {(r.algo, r.env, r.seed) for r in rows}
        earlier = [LearnRow(**r) for r in json.loads((args.out / "learn.json").read_text())]
        rows = [r for r in earlier if (r.algo, r.env, r.seed) not in redone] + rows
    markdown = table(rows) + ("\n\n" + comparison(rows) if comparison(rows) else "") + "\n"
    (args.out / "learn.md").write_text(markdown)
    (args.out / "learn.json").write_text(json.dumps([asdict(r) for r in rows], indent=1))
    pictures = plot(rows, args.out)
    print("\n" + markdown)
    print(
        "written:",
        ", ".join(str(p) for p in [args.out / "learn.md", args.out / "learn.json", *pictures]),
    )


if __name__ == "__main__":
    main()
