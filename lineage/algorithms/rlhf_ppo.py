"""RLHF-PPO, small but complete, on a token space small enough to enumerate, read top to bottom:
config → token environment → models → preference data and reward model → rollout → estimate → update →
closed-form check → train + log.

    reward model:  min_φ  −(1/N) Σ_i log σ(r_φ(x_i, y_w,i) − r_φ(x_i, y_l,i))                   (Bradley–Terry)
    policy:        max_θ  E_x E_{y~π_θ(·|x)}[r_φ(x, y)] − β·KL(π_θ(·|x) ‖ π_ref(·|x))              (PPO-clip)
    its optimum:   π*(y|x) ∝ π_ref(y|x)·e^{r_φ(x, y)/β},   and J(π) = J(π*) − β·KL(π ‖ π*)

(Christiano et al. 2017 "Deep Reinforcement Learning from Human Preferences"; Ziegler et al. 2019 "Fine-Tuning
Language Models from Human Preferences"; Ouyang et al. 2022 "Training language models to follow instructions with
human feedback"; Schulman et al. 2017 "Proximal Policy Optimization Algorithms"; the optimum: Rafailov et al. 2023
"Direct Preference Optimization", eq. 4.)

**The token environment.** A prompt x ∈ {0, …, P−1} asks for a response of at most L tokens over a vocabulary of V
tokens, token 0 being EOS; a response ends at its EOS or after L tokens; the positions after an EOS are padding
(mask False, token id PAD = −1, no reward, no loss). With P = 3, V = 4, L = 3 there are 1 + 3 + 9 + 27 = 40
responses per prompt, so every expectation over y ~ π is a finite sum: the run reports KL(π ‖ π*), E_π[r_φ] and
KL(π ‖ π_ref) exactly, by enumeration (:mod:`lineage.rlhf.sequences`). For that enumeration a response is embedded
in the V^L full-length sequences of :func:`lineage.rlhf.all_sequences`: after an EOS the next-token tables of π,
π_ref and π* all hold the same uniform filler row, so the filler cancels from every KL and every score, and each
KL over the V^L sequences equals the KL over the responses.

**The hidden scoring rule** (the "human" that labels the pairs; the algorithm never sees it): prompt x wants the
content token w(x) = 1 + x mod (V − 1); a response scores +1 per w(x), −½ per other content token, +½ for ending
with EOS (before running out of room): s(x, y) = Σ_t HIDDEN_WEIGHTS[x, y_t] over its valid tokens. Pairs of
responses to a uniform prompt are drawn from π_ref and labelled by Bradley–Terry sampling with the run's seed,
P(y₁ ≻ y₂) = σ(s(x, y₁) − s(x, y₂)) (or, with ``labels="deterministic"``, by the larger s, ties by a coin).

**Models.** The policy is a table of logits θ[x, prefix, v], one row per (prompt, prefix of < L tokens): with 3·21
rows of 4 logits it can represent every autoregressive policy on this space, π* included, so the closed-form check
measures the algorithm and not a function class (a network would add an approximation error that the check could
not tell from a training error). The per-token critic is a table V[x, prefix]. The reference π_ref is a frozen
copy of the initial policy (random logits, N(0, ``reference_scale²``)). The reward model is a bag of tokens,
r_φ(x, y) = Σ_t W_φ[x, y_t] over the valid tokens, the class the hidden rule lives in; it is trained with
:func:`lineage.rlhf.bradley_terry_loss`, then frozen. Only differences of r_φ within a prompt are learned, and π*
does not depend on a constant per prompt.

**Training.** Per-token rewards r_t = −β(log π − log π_ref) + 1[t = last]·r_φ (:func:`lineage.rlhf.token_rewards`,
β fixed so that π* is well defined), GAE with γ = 1 and V = 0 after the last token (:func:`lineage.gae`,
:func:`lineage.lambda_returns`), advantages whitened over the valid tokens (:func:`lineage.rlhf.whiten`), PPO-clip
minibatch epochs (:func:`lineage.ppo.ppo_clip_loss`, :func:`lineage.ppo.value_loss`,
:func:`lineage.ppo.combined_loss` with no entropy bonus: any bonus c₂·H would move the optimum away from π*). The
rewards are not whitened: (r − μ)/σ + μ adds a constant per token, a length bonus that moves the optimum too.

**Closed-form check.** π* from :func:`lineage.rlhf.kl_regularized_optimum` with the learned r_φ; after every update
KL(π ‖ π*) (:func:`lineage.rlhf.sequence_kl`), E_π[r_φ] and KL(π ‖ π_ref), each averaged uniformly over the prompts
(the prompt distribution of the rollouts). Goal: KL(π ‖ π*) ≤ 0.05 nats at the end.

Claims RLHF-1, RLHF-2, RLHF-3, PPO-2, STD-RLHF-1, STD-RLHF-2, STD-RLHF-3, STD-RLHF-5, PPO-5, STD-GAE-7; notes §PPO
(RLHF part).
"""

from __future__ import annotations

import copy
import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

import lineage
import lineage.ppo
import lineage.rlhf
from lineage._validation import check_positive_int, check_ratio_clip, check_real, check_unit_interval
from lineage.algorithms.common import RunLog, TrainResult, check_run, seed_everything
from lineage.rlhf import AutoregressivePolicy, all_sequences

ENV_ID = "tokens"
EOS = 0  # token 0 ends a response
PAD = -1  # the token id of a padding position (mask False)
GAMMA = 1.0  # RLHF's episodes are responses: no discount (STD-RLHF-5)
LABELS = ("bradley_terry", "deterministic")

# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class RLHFPPOConfig:
    """Hyper-parameters of an RLHF-PPO run on the token environment (``env_id="tokens"``). ``total_steps`` counts
    sampled responses (one episode each, at most ``max_length`` tokens). Every field is checked on construction: a
    bad value raises ``ValueError`` naming the field. ``threshold`` is the KL(π ‖ π*) to reach, in nats (the goal
    0.05; not a return, and never None: the token environment has no gymnasium threshold); ``steps_to_threshold``
    is the number of responses sampled when the exact KL first gets there."""

    env_id: str = ENV_ID
    total_steps: int = 16_384  # responses sampled over the run (64 iterations of 256)
    seed: int = 1
    # token environment
    n_prompts: int = 3
    vocab_size: int = 4  # V, EOS included
    max_length: int = 3  # L
    beta: float = 0.5  # fixed KL coefficient β: π* ∝ π_ref·e^{r_φ/β}
    reference_scale: float = 0.5  # std of the initial (= reference) logits
    # preference data and reward model
    n_pairs: int = 3000
    labels: str = "bradley_terry"
    rm_steps: int = 300  # full-batch Adam steps on the Bradley–Terry loss
    rm_learning_rate: float = 0.1
    # PPO
    batch_size: int = 256  # responses per iteration
    n_epochs: int = 4
    n_minibatches: int = 4
    learning_rate: float = 0.05
    anneal_lr: bool = True
    lam: float = 0.95
    clip_eps: float = 0.2
    clip_value_eps: float | None = None  # None: the unclipped L^VF; ε > 0: the clipped "max" form
    vf_coef: float = 0.5
    whiten_advantages: bool = True
    threshold: float = 0.05  # the KL(π ‖ π*) goal, nats
    window: int = 100
    progress: bool = False

    def __post_init__(self):
        check_run(self)
        if self.env_id != ENV_ID:
            raise ValueError(
                f"env_id: RLHF-PPO runs on the enumerable token environment {ENV_ID!r}, got {self.env_id!r}"
            )
        for name in ("n_prompts", "n_pairs", "rm_steps", "batch_size", "n_epochs", "n_minibatches"):
            check_positive_int(name, getattr(self, name))
        if check_positive_int("vocab_size", self.vocab_size) < 2:
            raise ValueError(f"vocab_size: expected >= 2 (EOS and at least one content token), got {self.vocab_size}")
        if not 1 <= check_positive_int("max_length", self.max_length) <= 4 or self.vocab_size**self.max_length > 4096:
            raise ValueError(
                f"max_length: expected 1..4 with vocab_size ** max_length <= 4096 (the responses are enumerated), "
                f"got {self.max_length} with vocab_size {self.vocab_size}"
            )
        check_real("beta", self.beta, minimum=0.0, inclusive=False)
        check_real("reference_scale", self.reference_scale, minimum=0.0)
        if self.labels not in LABELS:
            raise ValueError(f"labels: expected one of {LABELS}, got {self.labels!r}")
        for name in ("rm_learning_rate", "learning_rate"):
            check_real(name, getattr(self, name), minimum=0.0, inclusive=False)
        if self.clip_value_eps is not None:
            check_real("clip_value_eps", self.clip_value_eps, minimum=0.0, inclusive=False)
        check_unit_interval("lam", self.lam)
        check_ratio_clip("clip_eps", self.clip_eps)
        check_real("vf_coef", self.vf_coef, minimum=0.0)
        for name in ("anneal_lr", "whiten_advantages", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected True or False, got {getattr(self, name)!r}")
        if self.threshold is None:
            raise ValueError("threshold: expected the KL(π ‖ π*) goal in nats (> 0), got None")
        check_real("threshold", self.threshold, minimum=0.0, inclusive=False)
        if self.batch_size < self.n_minibatches:
            raise ValueError(f"n_minibatches: {self.n_minibatches} exceeds the batch of {self.batch_size} responses")

    @property
    def iterations(self) -> int:
        return max(1, self.total_steps // self.batch_size)

    @property
    def prefixes(self) -> int:
        """Rows of a next-token table: the prefixes of 0, …, L − 1 tokens, Σ_{t<L} V^t."""
        return sum(self.vocab_size**t for t in range(self.max_length))


# ---------------------------------------------------------------------------------------------- token environment


def response_mask(tokens: np.ndarray) -> np.ndarray:
    """Which positions belong to the response: the tokens up to and including the first EOS.

        valid[b, t] = (#{k < t : tokens[b, k] = EOS} = 0)

    (the EOS/padding layout of RLHF batches, Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences"; the score sits on the EOS, claim STD-RLHF-1; notes §PPO, RLHF part).

    Args:
        tokens: token ids, ``[B, L]`` (or ``[L]``).

    Returns:
        The bool mask, same shape.
    """
    ended = np.cumsum(np.asarray(tokens) == EOS, axis=-1) - (np.asarray(tokens) == EOS)
    return ended == 0


def prefix_rows(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """The row of a next-token table holding π(· | y_<t) for every position (the order of
    :meth:`lineage.rlhf.AutoregressivePolicy.prefix_rows`):

        row(y_<t) = Σ_{k<t} V^k + Σ_{k<t} y_k V^(t−1−k)

    (a table of π(y_t | x, y_<t), the chain rule of Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences", §2; claim STD-RLHF-2; notes §PPO, RLHF part). Padding (PAD) positions get rows nobody reads.

    Args:
        tokens: token ids, ``[B, L]``.
        vocab_size: V.

    Returns:
        The rows, int64 ``[B, L]``.
    """
    tokens = np.asarray(tokens)
    rows, code, offset = np.zeros(tokens.shape, dtype=np.int64), np.zeros(tokens.shape[0], dtype=np.int64), 0
    for t in range(tokens.shape[1]):
        rows[:, t] = offset + code
        code = code * vocab_size + np.maximum(tokens[:, t], 0)  # padding (PAD) rows are never read
        offset += vocab_size**t
    return rows


def after_eos_rows(config: RLHFPPOConfig) -> np.ndarray:
    """Which rows of a next-token table follow an EOS: never part of a response, they hold the uniform filler.

        after_eos[row(y_<t)] = (EOS ∈ y_<t)

    (the responses of Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences" end at EOS; claim
    STD-RLHF-2; notes §PPO, RLHF part).

    Args:
        config: the token environment.

    Returns:
        The bool flags, ``[Σ_{t<L} V^t]``.
    """
    rows = np.zeros(config.prefixes, dtype=bool)
    offset = 1
    for t in range(1, config.max_length):
        prefixes = all_sequences(config.vocab_size, t)
        rows[offset : offset + len(prefixes)] = (prefixes == EOS).any(axis=1)
        offset += len(prefixes)
    return rows


def hidden_weights(config: RLHFPPOConfig) -> np.ndarray:
    """The hidden scoring rule that labels the preference pairs, as per-token weights:

        s(x, y) = Σ_t weights[x, y_t],   weights[x, w(x)] = 1,  weights[x, EOS] = ½,  −½ for the other tokens,
        w(x) = 1 + x mod (V − 1)

    (the labeller of Christiano et al. 2017 "Deep Reinforcement Learning from Human Preferences", replaced by a
    documented rule; claims PPO-2, RLHF-1; notes §PPO, RLHF part).

    Args:
        config: ``n_prompts`` and ``vocab_size``.

    Returns:
        The weights, float64 ``[P, V]``.
    """
    weights = np.full((config.n_prompts, config.vocab_size), -0.5)
    weights[:, EOS] = 0.5
    weights[np.arange(config.n_prompts), 1 + np.arange(config.n_prompts) % (config.vocab_size - 1)] = 1.0
    return weights


def bag_of_tokens_scores(weights, prompts, tokens, mask):
    """The score of a bag-of-tokens model (the hidden rule's and the reward model's form):

        s(x_b, y_b) = Σ_t mask[b, t] · weights[x_b, y_b,t]

    (a reward model scoring whole responses, Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences"; claims PPO-2, RLHF-1; notes §PPO, RLHF part).

    Args:
        weights: ``[P, V]``, numpy or torch (the result follows it, differentiable in torch).
        prompts: ``[B]`` prompt ids.
        tokens: ``[B, L]`` token ids (padding anything, masked).
        mask: ``[B, L]`` bool.

    Returns:
        The scores, ``[B]``.
    """
    if isinstance(weights, torch.Tensor):
        prompts, tokens, mask = (torch.as_tensor(a) for a in (prompts, tokens, mask))
        safe = torch.where(mask, tokens, torch.zeros_like(tokens))
        per_token = weights[prompts[:, None], safe]
        return torch.where(mask, per_token, torch.zeros_like(per_token)).sum(dim=1)
    safe = np.where(mask, tokens, 0)
    return np.where(mask, weights[np.asarray(prompts)[:, None], safe], 0.0).sum(axis=1)


# ---------------------------------------------------------------------------------------------------- models


class TablePolicy(nn.Module):
    """π_θ(v | x, y_<t) = softmax(θ[x, row(y_<t)])_v, a table of logits ``[P, R, V]`` (float64)."""

    def __init__(self, logits: torch.Tensor, after_eos: np.ndarray):
        super().__init__()
        self.logits = nn.Parameter(logits)
        self.register_buffer("after_eos", torch.as_tensor(after_eos))

    def distribution(self, prompts: torch.Tensor, rows: torch.Tensor) -> torch.distributions.Categorical:
        """π(· | x, y_<t) for prompts ``[B]`` and prefix rows ``[B]`` or ``[B, L]``."""
        index = prompts if rows.ndim == 1 else prompts[:, None]
        return torch.distributions.Categorical(logits=self.logits[index, rows], validate_args=False)

    @torch.no_grad()
    def exact(self, prompt: int, length: int) -> AutoregressivePolicy:
        """π(· | x) as an :class:`AutoregressivePolicy` over V^L sequences, the rows after an EOS uniform."""
        table = torch.softmax(self.logits[prompt], dim=-1).numpy().copy()
        table[self.after_eos.numpy()] = 1.0 / table.shape[1]
        return AutoregressivePolicy(table, length)


class TableCritic(nn.Module):
    """The per-token critic V(x, y_<t) = values[x, row(y_<t)], ``[P, R]`` (float64), 0 at the start."""

    def __init__(self, prompts: int, rows: int):
        super().__init__()
        self.values = nn.Parameter(torch.zeros(prompts, rows, dtype=torch.float64))

    def forward(self, prompts: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return self.values[prompts[:, None], rows]


class RewardModel(nn.Module):
    """r_φ(x, y) = Σ_t W_φ[x, y_t] over the valid tokens (a bag of tokens), ``W_φ`` ``[P, V]`` (float64)."""

    def __init__(self, prompts: int, vocab_size: int):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(prompts, vocab_size, dtype=torch.float64))

    def forward(self, prompts, tokens, mask) -> torch.Tensor:
        return bag_of_tokens_scores(self.weights, prompts, tokens, mask)


class Agent(nn.Module):
    """The four models of RLHF-PPO (claim PPO-2): the policy (``policy``, trained), the critic (``value``, trained),
    the reference (``reference``, the frozen initial policy) and the reward model (``reward_model``, frozen)."""

    def __init__(self, policy: TablePolicy, value: TableCritic, reward_model: RewardModel):
        super().__init__()
        self.policy, self.value, self.reward_model = policy, value, reward_model
        self.reference = copy.deepcopy(policy).requires_grad_(False)
        reward_model.requires_grad_(False)

    def trained_parameters(self) -> list[nn.Parameter]:
        return [*self.policy.parameters(), *self.value.parameters()]


def make_policy(config: RLHFPPOConfig) -> TablePolicy:
    """The initial policy (also the reference): θ[x, row, v] ~ N(0, reference_scale²) from torch's seeded
    generator, θ = 0 (uniform filler) on the rows after an EOS. Ziegler et al. 2019 "Fine-Tuning Language Models
    from Human Preferences" start π and π_ref from the same pretrained model; claims PPO-2, RLHF-2; notes §PPO.

    Args:
        config: the run's configuration.

    Returns:
        The :class:`TablePolicy`, logits ``[P, R, V]`` float64.
    """
    after_eos = after_eos_rows(config)
    logits = config.reference_scale * torch.randn(
        config.n_prompts, config.prefixes, config.vocab_size, dtype=torch.float64
    )
    logits[:, torch.as_tensor(after_eos)] = 0.0
    return TablePolicy(logits, after_eos)


# -------------------------------------------------------------------------------- preference data and reward model


@dataclass
class Preferences:
    """N labelled pairs: prompts ``[N]``, the chosen and rejected responses ``[N, L]`` (PAD after EOS) and masks."""

    prompts: np.ndarray
    chosen: np.ndarray
    rejected: np.ndarray
    chosen_mask: np.ndarray
    rejected_mask: np.ndarray


def sample_responses(policies: list[AutoregressivePolicy], prompts: np.ndarray, rng: np.random.Generator):
    """Responses y ~ π(·|x) for each prompt, drawn from the exact probabilities π(y|x) = Π_t π(y_t|x, y_<t) of
    the V^L sequences (the filler after EOS drawn too, then replaced by PAD): the pairs of Ziegler et al. 2019
    "Fine-Tuning Language Models from Human Preferences" are sampled from the initial policy. Claims PPO-2,
    STD-RLHF-2; notes §PPO (RLHF part).

    Args:
        policies: π(·|x) per prompt.
        prompts: ``[N]`` prompt ids.
        rng: NumPy generator.

    Returns:
        ``(tokens, mask)``: ``[N, L]`` token ids with PAD after the EOS, and the bool mask.
    """
    sequences, index = policies[0].sequences, np.zeros(len(prompts), dtype=np.int64)
    for x, policy in enumerate(policies):
        chosen = prompts == x
        index[chosen] = rng.choice(len(sequences), size=int(chosen.sum()), p=policy.sequence_probs())
    tokens = sequences[index]
    mask = response_mask(tokens)
    return np.where(mask, tokens, PAD), mask


def preference_pairs(config: RLHFPPOConfig, reference: list[AutoregressivePolicy]) -> Preferences:
    """Pairs (y₁, y₂) ~ π_ref(·|x)² for uniform prompts x, labelled by the hidden rule s: y₁ is chosen with
    probability σ(s(x, y₁) − s(x, y₂)) (``labels="bradley_terry"``, Bradley & Terry 1952; the labelling model of
    Christiano et al. 2017 "Deep Reinforcement Learning from Human Preferences", eq. 1) or iff s(x, y₁) > s(x, y₂)
    (``"deterministic"``, ties by a coin), with NumPy's generator seeded by the run's seed. Claims PPO-2, RLHF-1;
    notes §PPO (RLHF part).

    Args:
        config: ``n_pairs``, ``labels``, ``seed`` and the token environment.
        reference: π_ref(·|x) per prompt.

    Returns:
        The :class:`Preferences`.
    """
    rng = np.random.default_rng([config.seed, 1])
    prompts = rng.integers(config.n_prompts, size=config.n_pairs)
    first, first_mask = sample_responses(reference, prompts, rng)
    second, second_mask = sample_responses(reference, prompts, rng)
    weights = hidden_weights(config)
    margin = bag_of_tokens_scores(weights, prompts, first, first_mask) - bag_of_tokens_scores(
        weights, prompts, second, second_mask
    )
    draw = rng.random(config.n_pairs)
    if config.labels == "bradley_terry":
        first_wins = draw < 1.0 / (1.0 + np.exp(-margin))
    else:
        first_wins = (margin > 0) | ((margin == 0) & (draw < 0.5))
    pick = first_wins[:, None]
    return Preferences(
        prompts,
        np.where(pick, first, second),
        np.where(pick, second, first),
        np.where(pick, first_mask, second_mask),
        np.where(pick, second_mask, first_mask),
    )


def train_reward_model(config: RLHFPPOConfig, data: Preferences) -> tuple[RewardModel, float]:
    """r_φ by ``rm_steps`` full-batch Adam steps on the Bradley–Terry loss,

        loss(φ) = lineage.rlhf.bradley_terry_loss(r_φ(x, y_w), r_φ(x, y_l)) = −(1/N) Σ_i log σ(Δ_i)

    (Ouyang et al. 2022 "Training language models to follow instructions with human feedback", eq. 1), then
    frozen. Claims PPO-2, RLHF-1; notes §PPO (RLHF part).

    Args:
        config: ``rm_steps``, ``rm_learning_rate`` and the token environment.
        data: the labelled pairs.

    Returns:
        The reward model and its final loss (a Python float).
    """
    model = RewardModel(config.n_prompts, config.vocab_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.rm_learning_rate)
    prompts = torch.as_tensor(data.prompts)
    chosen, rejected = torch.as_tensor(data.chosen), torch.as_tensor(data.rejected)
    chosen_mask, rejected_mask = torch.as_tensor(data.chosen_mask), torch.as_tensor(data.rejected_mask)
    for _ in range(config.rm_steps):
        loss = lineage.rlhf.bradley_terry_loss(
            model(prompts, chosen, chosen_mask), model(prompts, rejected, rejected_mask)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = lineage.rlhf.bradley_terry_loss(
            model(prompts, chosen, chosen_mask), model(prompts, rejected, rejected_mask)
        )
    return model, float(final)


# ---------------------------------------------------------------------------------------------------- rollout


@dataclass
class Batch:
    """One iteration's responses: prompts ``[B]``; tokens, prefix rows, mask, log π_old, log π_ref and V_old per
    position ``[B, L]`` (padding: PAD, mask False, zeros); scores r_φ ``[B]``."""

    prompts: torch.Tensor
    tokens: torch.Tensor
    rows: torch.Tensor
    mask: torch.Tensor
    logp: torch.Tensor
    ref_logp: torch.Tensor
    values: torch.Tensor
    scores: torch.Tensor

    @property
    def safe_tokens(self) -> torch.Tensor:
        """The tokens with padding read as EOS (for indexing; masked out everywhere)."""
        return torch.where(self.mask, self.tokens, torch.zeros_like(self.tokens))


@torch.no_grad()
def rollout(agent: Agent, config: RLHFPPOConfig) -> Batch:
    """``batch_size`` responses, prompts uniform, tokens sampled from π_θ one position at a time (torch's seeded
    generator), y_t ~ π_old(· | x, y_<t) with π_old = π_θ, and log π_old, log π_ref and V_old of every position
    and the frozen reward model's score of each response. Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences", §2: π_old samples, π_ref scores the same tokens; claims RLHF-3, PPO-2; notes §PPO (RLHF part).

    Args:
        agent: the four models.
        config: ``batch_size`` and the token environment.

    Returns:
        The :class:`Batch`.
    """
    size, length, vocab = config.batch_size, config.max_length, config.vocab_size
    prompts = torch.randint(config.n_prompts, (size,))
    tokens = torch.full((size, length), PAD, dtype=torch.int64)
    rows = torch.zeros((size, length), dtype=torch.int64)
    mask = torch.zeros((size, length), dtype=torch.bool)
    alive = torch.ones(size, dtype=torch.bool)
    code, offset = torch.zeros(size, dtype=torch.int64), 0
    for t in range(length):
        rows[:, t] = offset + code
        token = agent.policy.distribution(prompts, rows[:, t]).sample()
        mask[:, t] = alive
        tokens[:, t] = torch.where(alive, token, torch.full_like(token, PAD))
        alive = alive & (token != EOS)
        code, offset = code * vocab + token, offset + vocab**t
    zeros, safe = torch.zeros(size, length, dtype=torch.float64), torch.where(mask, tokens, 0)
    return Batch(
        prompts,
        tokens,
        rows,
        mask,
        logp=torch.where(mask, agent.policy.distribution(prompts, rows).log_prob(safe), zeros),
        ref_logp=torch.where(mask, agent.reference.distribution(prompts, rows).log_prob(safe), zeros),
        values=torch.where(mask, agent.value(prompts, rows), zeros),
        scores=agent.reward_model(prompts, tokens, mask),
    )


# ---------------------------------------------------------------------------------------------------- estimate


def estimate(batch: Batch, config: RLHFPPOConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-token rewards, GAE advantages and λ-return targets of the batch, by lineage's verified functions:

        r_t = lineage.rlhf.token_rewards(r_φ, log π_old, log π_ref, mask, β)     (−β log-ratio, + r_φ at the end)
        A = lineage.gae(r, V, V_next, terminated, truncated = 0, γ = 1, λ),   R = lineage.lambda_returns(…)

    time-major ``[L, B]``, with V_next the critic at the next valid position and 0 after the last token
    (terminated there: the score is the whole future), padding terminated with reward and value 0 (its A is 0);
    then the advantages whitened over the valid tokens, lineage.rlhf.whiten(A, mask) (Ziegler et al. 2019
    "Fine-Tuning Language Models from Human Preferences"; Schulman et al. 2016 for GAE). Claims STD-RLHF-1,
    STD-RLHF-2, STD-RLHF-5, STD-GAE-7; notes §PPO (RLHF part), §GAE.

    Args:
        batch: the responses.
        config: ``beta``, ``lam``, ``whiten_advantages``.

    Returns:
        ``(rewards, advantages, returns)``, float64 ``[B, L]`` (0 on padding).
    """
    rewards = lineage.rlhf.token_rewards(batch.scores, batch.logp, batch.ref_logp, batch.mask, beta=config.beta)
    next_valid = torch.cat([batch.mask[:, 1:], torch.zeros_like(batch.mask[:, :1])], dim=1)
    next_values = torch.cat([batch.values[:, 1:], torch.zeros_like(batch.values[:, :1])], dim=1)
    segment = {
        "rewards": rewards.T,
        "values": batch.values.T,
        "next_values": torch.where(next_valid, next_values, torch.zeros_like(next_values)).T,
        "terminated": (~next_valid).T,
        "truncated": torch.zeros_like(next_valid).T,
    }
    advantages = lineage.gae(**segment, gamma=GAMMA, lam=config.lam).T
    returns = lineage.lambda_returns(**segment, gamma=GAMMA, lam=config.lam).T
    if config.whiten_advantages:
        advantages = lineage.rlhf.whiten(advantages, batch.mask)
    return rewards, advantages, returns


# ---------------------------------------------------------------------------------------------------- update


@dataclass
class UpdateStats:
    """Means over the minibatches of the last update."""

    policy_loss: float = 0.0
    value_loss: float = 0.0
    entropy: float = 0.0
    clip_fraction: float = 0.0
    losses: list[float] = field(default_factory=list)


def update(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    config: RLHFPPOConfig,
    generator: np.random.Generator,
) -> UpdateStats:
    """``n_epochs`` passes of minibatch Adam steps (minibatches of responses) on PPO's loss over the valid tokens:

        loss = ppo_clip_loss(log π_θ, log π_old, A) + c1 · value_loss(V_θ, V_old, R)        (no entropy bonus)

    through lineage.ppo.combined_loss with ent_coef = 0 (an entropy bonus would change the optimum), Schulman et
    al. 2017 "Proximal Policy Optimization Algorithms", eq. 9 and Algorithm 1. Claims PPO-5, STD-PPO-2,
    STD-PPO-5, RLHF-3; notes §PPO.

    Args:
        agent: the models (policy and critic updated in place).
        optimizer: Adam over the policy and critic tables.
        batch: the responses.
        advantages: A ``[B, L]`` of :func:`estimate`.
        returns: R ``[B, L]`` of :func:`estimate`.
        config: the run's configuration.
        generator: NumPy generator of the minibatch permutations.

    Returns:
        The :class:`UpdateStats`.
    """
    size = math.ceil(config.batch_size / config.n_minibatches)
    value_variant = "unclipped" if config.clip_value_eps is None else "max"
    tokens = batch.safe_tokens
    stats = UpdateStats()
    for _ in range(config.n_epochs):
        order = torch.as_tensor(generator.permutation(config.batch_size))
        for start in range(0, config.batch_size, size):
            idx = order[start : start + size]
            valid = batch.mask[idx]
            dist = agent.policy.distribution(batch.prompts[idx], batch.rows[idx])
            logp_new = dist.log_prob(tokens[idx])[valid]
            logp_old, adv = batch.logp[idx][valid], advantages[idx][valid]
            clip_loss = lineage.ppo.ppo_clip_loss(logp_new, logp_old, adv, clip_eps=config.clip_eps)
            v_new = agent.value(batch.prompts[idx], batch.rows[idx])[valid]
            v_loss = lineage.ppo.value_loss(
                v_new,
                batch.values[idx][valid],
                returns[idx][valid],
                clip_eps=config.clip_value_eps,
                variant=value_variant,
            )
            entropy = lineage.ppo.categorical_entropy(dist.logits[valid])
            loss = lineage.ppo.combined_loss(clip_loss, v_loss, entropy, vf_coef=config.vf_coef, ent_coef=0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                stats.losses.append(float(loss))
                stats.clip_fraction += lineage.ppo.clip_fraction(
                    logp_new.detach(), logp_old, adv, clip_eps=config.clip_eps
                )
                stats.policy_loss += float(clip_loss)
                stats.value_loss += float(v_loss)
                stats.entropy += float(entropy.mean())
    k = max(1, len(stats.losses))
    stats.policy_loss, stats.value_loss = stats.policy_loss / k, stats.value_loss / k
    stats.entropy, stats.clip_fraction = stats.entropy / k, stats.clip_fraction / k
    return stats


# ---------------------------------------------------------------------------------------------- closed-form check


@dataclass(frozen=True)
class Oracle:
    """What the exact check holds fixed over a run: π_ref(·|x), the learned r_φ(x, ·) and the hidden s(x, ·) on the
    V^L sequences, and π*(·|x) ∝ π_ref·e^{r_φ/β}, one per prompt."""

    reference: list[AutoregressivePolicy]
    reward: np.ndarray  # [P, V^L]
    hidden: np.ndarray  # [P, V^L]
    optimum: list[AutoregressivePolicy]
    distinct: np.ndarray  # one sequence index per distinct response (1 + (V−1) + … of them)


@dataclass(frozen=True)
class Exact:
    """Exact figures of a policy, averaged uniformly over the prompts: KL(π ‖ π*), E_π[r_φ], KL(π ‖ π_ref), the
    objective J = E_π[r_φ] − β·KL(π ‖ π_ref), its optimum J* and E_π[s] of the hidden rule."""

    kl_to_optimum: float
    reward: float
    kl_to_reference: float
    objective: float
    optimal_objective: float
    hidden_score: float


def make_oracle(agent: Agent, config: RLHFPPOConfig) -> Oracle:
    """π_ref, r_φ, s and π* = lineage.rlhf.kl_regularized_optimum(π_ref, r_φ, β) per prompt, over the V^L
    sequences, each scored as its response (the tokens up to the first EOS). Rafailov et al. 2023 "Direct
    Preference Optimization", eq. 4 for π*; claims STD-RLHF-3, STD-RLHF-2; notes §PPO (RLHF part).

    Args:
        agent: the models (reference and reward model are read).
        config: the token environment and ``beta``.

    Returns:
        The :class:`Oracle`.
    """
    sequences = all_sequences(config.vocab_size, config.max_length)
    mask = response_mask(sequences)
    reference = [agent.reference.exact(x, config.max_length) for x in range(config.n_prompts)]
    with torch.no_grad():
        reward = np.stack(
            [
                agent.reward_model(
                    torch.full((len(sequences),), x), torch.as_tensor(sequences), torch.as_tensor(mask)
                ).numpy()
                for x in range(config.n_prompts)
            ]
        )
    weights = hidden_weights(config)
    hidden = np.stack(
        [bag_of_tokens_scores(weights, np.full(len(sequences), x), sequences, mask) for x in range(config.n_prompts)]
    )
    optimum = [
        lineage.rlhf.kl_regularized_optimum(reference[x], reward[x], beta=config.beta) for x in range(config.n_prompts)
    ]
    _, distinct = np.unique(np.where(mask, sequences, PAD), axis=0, return_index=True)
    return Oracle(reference, reward, hidden, optimum, np.sort(distinct))


def exact_check(agent: Agent, oracle: Oracle, config: RLHFPPOConfig) -> Exact:
    """The exact figures of the current policy, each the uniform mean over prompts x of

        KL(π(·|x) ‖ π*(·|x)),  E_π[r_φ],  KL(π(·|x) ‖ π_ref(·|x)),  J = E_π[r_φ] − β·KL(π ‖ π_ref),  J* = J(π*)

    by enumeration (lineage.rlhf.sequence_kl; Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences", §2 for J). J* − J = β·KL(π ‖ π*) (claim STD-RLHF-3). Claims STD-RLHF-2, STD-RLHF-3, RLHF-3;
    notes §PPO (RLHF part).

    Args:
        agent: the models.
        oracle: π_ref, r_φ, s and π* of the run.
        config: the token environment and ``beta``.

    Returns:
        The :class:`Exact` figures.
    """
    rows = []
    for x in range(config.n_prompts):
        policy, optimum, reference = agent.policy.exact(x, config.max_length), oracle.optimum[x], oracle.reference[x]
        kl_ref = lineage.rlhf.sequence_kl(policy, reference)
        reward = float(policy.expectation(oracle.reward[x]))
        best = float(optimum.expectation(oracle.reward[x])) - config.beta * lineage.rlhf.sequence_kl(optimum, reference)
        rows.append(
            (
                lineage.rlhf.sequence_kl(policy, optimum),
                reward,
                kl_ref,
                reward - config.beta * kl_ref,
                best,
                float(policy.expectation(oracle.hidden[x])),
            )
        )
    return Exact(*(float(v) for v in np.mean(rows, axis=0)))


# ---------------------------------------------------------------------------------------------------- train + log


@dataclass
class RLHFResult(TrainResult):
    """A :class:`~lineage.algorithms.common.TrainResult` (``steps`` and ``steps_log`` count responses;
    ``mean_returns`` is the mean of Σ_t r_t over the last ``window`` responses) with the exact curve: ``curve``
    holds one :class:`Exact` per point, before the first update and after each, at ``curve_steps`` responses;
    and the reward model's figures."""

    curve: list[Exact] = field(default_factory=list)
    curve_steps: list[int] = field(default_factory=list)
    reward_model_loss: float = float("nan")
    reward_model_agreement: float = float("nan")  # pairs of responses ordered alike by r_φ and s, per prompt
    oracle: Oracle | None = None

    @property
    def final(self) -> Exact:
        return self.curve[-1]


def ranking_agreement(oracle: Oracle) -> float:
    """How well the learned reward model ranks the responses like the hidden rule:

        agreement = #{(x, y, y′) : sign(r_φ(x, y) − r_φ(x, y′)) = sign(s(x, y) − s(x, y′)) ≠ 0} / #{s(x, y) ≠ s(x, y′)}

    over the ordered pairs of distinct responses to each prompt (the reward-model accuracy of Ouyang et al. 2022
    "Training language models to follow instructions with human feedback", measured exactly; claims PPO-2,
    RLHF-1; notes §PPO, RLHF part).

    Args:
        oracle: r_φ and s on the sequences, and the distinct responses.

    Returns:
        The fraction, a Python float in [0, 1].
    """
    agree = total = 0
    for reward, hidden in zip(oracle.reward[:, oracle.distinct], oracle.hidden[:, oracle.distinct], strict=True):
        by_reward, by_hidden = np.sign(reward[:, None] - reward[None, :]), np.sign(hidden[:, None] - hidden[None, :])
        agree += int(((by_reward == by_hidden) & (by_hidden != 0)).sum())
        total += int((by_hidden != 0).sum())
    return agree / max(total, 1)


def train(
    config: RLHFPPOConfig,
    log: Callable[[str], None] | None = None,
    on_update: Callable[[Agent], None] | None = None,
) -> RLHFResult:
    """Trains RLHF-PPO: reward model from preferences, then PPO-clip against it with a fixed KL penalty,

        pairs ~ π_ref, labels by the hidden rule → r_φ by Bradley–Terry → for each iteration: B responses from
        π_old → r_t = token_rewards → A = GAE(γ = 1, λ), R = A + V, whiten A → K epochs of minibatch steps on
        ppo_clip_loss + c1 value_loss;  lr_k = lr·(1 − k/iterations) when annealed

    (Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences"; Ouyang et al. 2022), with the exact
    KL(π ‖ π*), E_π[r_φ] and KL(π ‖ π_ref) after every update. One log line per iteration through ``log``
    (default: ``tqdm.write`` under a progress bar when ``config.progress``, else ``print``). Claims RLHF-1, RLHF-2,
    RLHF-3, PPO-2, STD-RLHF-1, STD-RLHF-3, STD-RLHF-5, PPO-5; notes §PPO (RLHF part).

    Args:
        config: the run's configuration.
        log: receives each log line; None prints them.
        on_update: called with the agent before the first iteration and after every update.

    Returns:
        An :class:`RLHFResult`: steps_to_threshold is the number of responses at which KL(π ‖ π*) first reached
        ``config.threshold`` (None if never).
    """
    seed_everything(config.seed)
    policy = make_policy(config)
    reference = [policy.exact(x, config.max_length) for x in range(config.n_prompts)]
    reward_model, rm_loss = train_reward_model(config, preference_pairs(config, reference))  # data → reward model
    agent = Agent(policy, TableCritic(config.n_prompts, config.prefixes), reward_model)
    oracle = make_oracle(agent, config)
    optimizer = torch.optim.Adam(agent.trained_parameters(), lr=config.learning_rate)
    generator = np.random.default_rng([config.seed, 2])
    view = SimpleNamespace(  # RunLog's mean-return threshold is not this run's goal (KL to π*): never reached
        env_id=config.env_id,
        window=config.window,
        threshold=math.inf,
        total_steps=config.total_steps,
        progress=config.progress,
    )
    run = RunLog(RLHFResult(agent), view, config.iterations, log)
    result: RLHFResult = run.result
    result.reward_model_loss, result.oracle = rm_loss, oracle
    result.reward_model_agreement = ranking_agreement(oracle)

    def record(steps: int) -> Exact:
        exact = exact_check(agent, oracle, config)
        result.curve.append(exact)
        result.curve_steps.append(steps)
        if result.steps_to_threshold is None and exact.kl_to_optimum <= config.threshold:
            result.steps_to_threshold = steps
        return exact

    record(0)
    if on_update is not None:
        on_update(agent)
    for k in range(config.iterations):
        if config.anneal_lr:
            optimizer.param_groups[0]["lr"] = config.learning_rate * (1.0 - k / config.iterations)
        batch = rollout(agent, config)  # rollout
        rewards, advantages, returns = estimate(batch, config)  # estimate
        stats = update(agent, optimizer, batch, advantages, returns, config, generator)  # update
        if on_update is not None:
            on_update(agent)
        exact = record(result.steps + config.batch_size)  # log
        run.iteration(
            config.batch_size,
            rewards.sum(dim=1).tolist(),
            stats.losses,
            f"KL(π‖π*) {exact.kl_to_optimum:.4f}  E[r_φ] {exact.reward:+.3f}  KL(π‖π_ref) {exact.kl_to_reference:.3f}  "
            f"L_clip {stats.policy_loss:+.4f}  L_VF {stats.value_loss:.4f}  H {stats.entropy:.3f}  "
            f"clipfrac {stats.clip_fraction:.3f}",
        )
    return run.close()


# ---------------------------------------------------------------------------------------- evaluate, summary, curve


def evaluate(agent: Agent, config: RLHFPPOConfig, *, episodes: int = 100) -> np.ndarray:
    """The returns G = Σ_t r_t = r_φ(x, y) − β log π(y|x)/π_ref(y|x) of ``episodes`` fresh responses of the trained
    policy (prompts uniform, torch's generator seeded from ``config.seed`` + 10⁶ and restored afterwards): the
    per-response RLHF objective of Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences", §2,
    whose mean estimates J (:func:`exact_check` gives it exactly). Claims STD-RLHF-2, RLHF-1; notes §PPO.

    Args:
        agent: the trained models.
        config: the run's configuration.
        episodes: how many responses.

    Returns:
        The returns, shape ``[episodes]``.
    """
    episodes = check_positive_int("episodes", episodes)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed + 1_000_000)
        batch = rollout(agent, _replace_batch(config, episodes))
    rewards = lineage.rlhf.token_rewards(batch.scores, batch.logp, batch.ref_logp, batch.mask, beta=config.beta)
    return rewards.sum(dim=1).numpy()


def _replace_batch(config: RLHFPPOConfig, size: int) -> RLHFPPOConfig:
    from dataclasses import replace

    return replace(config, batch_size=size, n_minibatches=1)


def summary(result: RLHFResult, config: RLHFPPOConfig) -> str:
    """One line with the run's figures: the final exact KL(π ‖ π*) (uniform mean over prompts) against the goal,
    E_π[r_φ], KL(π ‖ π_ref), J and J*, E_π[hidden score] before and after, the reward model's Bradley–Terry loss
    and ranking agreement, the responses sampled and the wall time. J* − J = β·KL(π ‖ π*) (Rafailov et al. 2023;
    claim STD-RLHF-3; notes §PPO).

    Args:
        result: the run's result.
        config: its configuration.

    Returns:
        The line.
    """
    first, last = result.curve[0], result.final
    reached = "not reached" if result.steps_to_threshold is None else f"reached at {result.steps_to_threshold}"
    return (
        f"rlhf_ppo {config.env_id} seed {config.seed}: KL(π‖π*) {first.kl_to_optimum:.4f} → {last.kl_to_optimum:.4f} "
        f"nats (mean over {config.n_prompts} prompts; goal {config.threshold:g}: {reached}); E[r_φ] "
        f"{first.reward:+.3f} → {last.reward:+.3f}; KL(π‖π_ref) {last.kl_to_reference:.3f}; J {last.objective:+.4f} "
        f"of J* {last.optimal_objective:+.4f}; hidden score {first.hidden_score:+.3f} → {last.hidden_score:+.3f}; "
        f"reward model: {config.n_pairs} pairs, BT loss {result.reward_model_loss:.4f}, ranking agreement "
        f"{result.reward_model_agreement:.3f}; {result.steps} responses; wall time {result.wall_time:.1f} s"
    )


def curve_rows(result: RLHFResult) -> list[dict[str, float]]:
    """The exact learning curve, one row per point: responses sampled, KL(π ‖ π*), E_π[r_φ], KL(π ‖ π_ref), J, J*
    and E_π[s] (uniform means over prompts). J* − J = β·KL(π ‖ π*) (claim STD-RLHF-3; Rafailov et al. 2023 "Direct
    Preference Optimization"; notes §PPO).

    Args:
        result: the run's result.

    Returns:
        The rows, as dicts with keys ``steps``, ``kl_to_optimum``, ``reward``, ``kl_to_reference``, ``objective``,
        ``optimal_objective``, ``hidden_score``.
    """
    return [{"steps": s} | vars(e) for s, e in zip(result.curve_steps, result.curve, strict=True)]


def write_curve(result: RLHFResult, path: str | Path) -> Path:
    """Writes :func:`curve_rows` to ``path``: JSON for a ``.json`` suffix, else CSV with a header row (steps =
    responses sampled; KL in nats). Claim STD-RLHF-3 (the curve of KL(π ‖ π*), π* of Rafailov et al. 2023 "Direct
    Preference Optimization", eq. 4); notes §PPO.

    Args:
        result: the run's result.
        path: the file to write (its folder must exist).

    Returns:
        The path written.
    """
    path, rows = Path(path), curve_rows(result)
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=1) + "\n")
    else:
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path
