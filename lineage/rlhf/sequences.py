"""Exact enumeration of tiny autoregressive policies, for expectations over responses without sampling."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array, check_positive_int
from lineage.tabular.policy import softmax

_STOCHASTIC_ATOL = 1e-9


def all_sequences(vocab_size: int, length: int) -> np.ndarray:
    """Every response of L tokens over a vocabulary of V, in lexicographic order.

        index(y) = Σ_i y_i V^(L−1−i)

    With V, L ≤ 3 there are at most 27 responses, so every expectation over y ~ π is a finite sum and the identities
    behind RLHF-PPO (Ziegler et al. 2019 "Fine-Tuning Language Models from Human Preferences", §2) can be checked
    exactly instead of by sampling.

    Claims STD-RLHF-2, STD-RLHF-3; notes §PPO (RLHF part).

    Args:
        vocab_size: V ≥ 1.
        length: L ≥ 1.

    Returns:
        The token indices, an integer numpy array of shape ``[V^L, L]``.
    """
    vocab_size = check_positive_int("vocab_size", vocab_size)
    length = check_positive_int("length", length)
    return np.array(list(itertools.product(range(vocab_size), repeat=length)), dtype=int)


@dataclass(frozen=True, eq=False)
class AutoregressivePolicy:
    """An autoregressive policy over responses of L tokens, as a table of next-token distributions.

        π(y) = Π_t π(y_t | y_<t)                              (chain rule of probability)

    ``conditionals[row]`` is the distribution π(· | y_<t) after one prefix; the rows hold the prefixes of 0, 1, …,
    L − 1 tokens in that order, each length in lexicographic order (Σ_{t<L} V^t rows). Every entry is positive, so
    every log-probability is finite. This is the object of the RLHF objective of Ziegler et al. 2019 "Fine-Tuning
    Language Models from Human Preferences", §2, with the whole response space enumerated.

    Claims STD-RLHF-2, STD-RLHF-3, RLHF-3; notes §PPO (RLHF part).

    Args:
        conditionals: positive next-token distributions, shape ``[Σ_{t<L} V^t, V]`` (rows sum to 1).
        length: L ≥ 1.

    Returns:
        The policy; its methods give per-response and per-token arrays over :func:`all_sequences`.
    """

    conditionals: np.ndarray  # [Σ_{t<L} V^t, V]
    length: int

    def __post_init__(self) -> None:
        length = check_positive_int("length", self.length)
        table = as_float_array("conditionals", self.conditionals)
        if table.ndim != 2 or table.shape[1] == 0:
            raise ValueError(f"conditionals: expected shape [prefixes, V] with V >= 1, got {table.shape}")
        prefixes = sum(table.shape[1] ** t for t in range(length))
        if table.shape[0] != prefixes:
            raise ValueError(
                f"conditionals: expected {prefixes} rows, one per prefix of fewer than {length} tokens "
                f"over a vocabulary of {table.shape[1]}, got {table.shape[0]}"
            )
        if np.any(table <= 0) or not np.allclose(table.sum(axis=1), 1.0, rtol=0, atol=_STOCHASTIC_ATOL):
            raise ValueError("conditionals: every row must be a distribution with positive entries")
        object.__setattr__(self, "conditionals", table)
        object.__setattr__(self, "length", length)

    @classmethod
    def from_logits(cls, logits, length: int) -> AutoregressivePolicy:
        """π(· | y_<t) = softmax(logits[row of y_<t])."""
        return cls(softmax(logits), length)

    @classmethod
    def from_sequence_probs(cls, probs, vocab_size: int, length: int) -> AutoregressivePolicy:
        """The policy whose responses (in the order of :func:`all_sequences`) have probabilities ``probs``:
        π(y_t | y_<t) = P(y_≤t) / P(y_<t), from the marginals of the prefixes."""
        sequences = all_sequences(vocab_size, length)
        p = as_float_array("probs", probs)
        if p.shape != (len(sequences),):
            raise ValueError(f"probs: expected shape ({len(sequences)},), one per response, got {p.shape}")
        if np.any(p <= 0) or not np.isclose(p.sum(), 1.0, rtol=0, atol=_STOCHASTIC_ATOL):
            raise ValueError("probs: expected a distribution over the responses with positive entries")
        tables = []
        for t in range(length):
            completions = vocab_size ** (length - t - 1)  # responses sharing each prefix y_≤t
            joint = p.reshape(vocab_size ** (t + 1), completions).sum(axis=1).reshape(vocab_size**t, vocab_size)
            tables.append(joint / joint.sum(axis=1, keepdims=True))  # P(y_<t, y_t) / P(y_<t)
        return cls(np.concatenate(tables), length)

    @property
    def vocab_size(self) -> int:
        return self.conditionals.shape[1]

    @property
    def sequences(self) -> np.ndarray:
        """Every response, ``[V^L, L]`` (:func:`all_sequences`); the rows of every per-response array below."""
        return all_sequences(self.vocab_size, self.length)

    def prefix_rows(self) -> np.ndarray:
        """The row of ``conditionals`` holding π(· | y_<t), for every response y and position t, ``[V^L, L]``."""
        sequences = self.sequences
        rows = np.zeros(sequences.shape, dtype=int)
        code, offset = np.zeros(len(sequences), dtype=int), 0
        for t in range(self.length):
            rows[:, t] = offset + code  # prefixes of t tokens start at Σ_{k<t} V^k; y_<t read in base V
            code = code * self.vocab_size + sequences[:, t]
            offset += self.vocab_size**t
        return rows

    def next_token_distributions(self) -> np.ndarray:
        """π(· | y_<t) for every response y and position t, ``[V^L, L, V]``."""
        return self.conditionals[self.prefix_rows()]

    def token_probs(self) -> np.ndarray:
        """π(y_t | y_<t) for every response y and position t, ``[V^L, L]``."""
        return self.conditionals[self.prefix_rows(), self.sequences]

    def token_log_probs(self) -> np.ndarray:
        """log π(y_t | y_<t), ``[V^L, L]``: what a language model reports per response token."""
        return np.log(self.token_probs())

    def sequence_probs(self) -> np.ndarray:
        """π(y) = Π_t π(y_t | y_<t) for every response, ``[V^L]``."""
        return self.token_probs().prod(axis=1)

    def expectation(self, per_sequence) -> np.ndarray:
        """E_{y~π}[f(y)] = Σ_y π(y) f(y) for ``f`` given per response along the first axis (finite real numbers,
        shape ``[V^L, ...]``)."""
        f = as_float_array("per_sequence", per_sequence)
        probs = self.sequence_probs()
        if f.shape[:1] != probs.shape:
            raise ValueError(f"per_sequence: expected shape ({len(probs)}, ...), one entry per response, got {f.shape}")
        return np.tensordot(probs, f, axes=1)


def sequence_kl(p: AutoregressivePolicy, q: AutoregressivePolicy) -> float:
    """The KL divergence between two policies over whole responses.

        KL(p ‖ q) = Σ_y p(y) log(p(y) / q(y))
                  = Σ_t E_{y~p}[KL(p(·|y_<t) ‖ q(·|y_<t))]      (chain rule of KL, see :func:`token_kls`)

    the penalty of the RLHF objective, E_{y~π}[score] − β KL(π ‖ π_ref) (Ziegler et al. 2019 "Fine-Tuning
    Language Models from Human Preferences", §2; Ouyang et al. 2022 "Training language models to follow
    instructions with human feedback", eq. 2).

    Claims STD-RLHF-2, STD-KL-2; notes §PPO (RLHF part).

    Args:
        p: the policy the responses are drawn from.
        q: a policy over the same responses (same V and L).

    Returns:
        KL(p ‖ q), a Python float.
    """
    _check_same_responses(p, q)
    p_y, q_y = p.sequence_probs(), q.sequence_probs()
    return float(p_y @ (np.log(p_y) - np.log(q_y)))


def token_kls(p: AutoregressivePolicy, q: AutoregressivePolicy) -> np.ndarray:
    """The per-token KL divergences over the whole vocabulary, for every response and position.

        KL_t(y) = Σ_v p(v | y_<t) log(p(v | y_<t) / q(v | y_<t))

    whose expectation under p, summed over t, is :func:`sequence_kl` (chain rule of KL). The per-token reward of
    RLHF penalises a one-sample estimate of it, log p(y_t|y_<t) − log q(y_t|y_<t) (Ziegler et al. 2019 "Fine-Tuning
    Language Models from Human Preferences", §2; Schulman 2020 "Approximating KL Divergence" for the estimator).

    Claims STD-RLHF-2, STD-KL-2; notes §PPO (RLHF part).

    Args:
        p: the policy the responses are drawn from.
        q: a policy over the same responses.

    Returns:
        KL_t(y), a numpy array of shape ``[V^L, L]``.
    """
    _check_same_responses(p, q)
    p_next, q_next = p.next_token_distributions(), q.next_token_distributions()
    return (p_next * (np.log(p_next) - np.log(q_next))).sum(axis=2)


def _check_same_responses(p: AutoregressivePolicy, q: AutoregressivePolicy) -> None:
    if (q.vocab_size, q.length) != (p.vocab_size, p.length):
        raise ValueError(
            f"q: responses of {q.length} tokens over {q.vocab_size}, but p has {p.length} tokens over {p.vocab_size}"
        )
