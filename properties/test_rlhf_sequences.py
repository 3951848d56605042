"""The enumeration of tiny autoregressive policies behind the exact RLHF expectations (notes §PPO, RLHF part;
claims STD-RLHF-2, STD-RLHF-3): every response listed once in lexicographic order, a policy's response
probabilities recovered from its own conditionals, and the boundary cases of the table (one token in the
vocabulary, rows that are not quite distributions).

Tolerances: a response probability is a product of at most L = 3 conditionals, a marginal a sum of at most 27 of
them, so every float64 quantity here rounds within 64·eps (relative to 1); 1e-9 is the tolerance the policy
grants a row sum (rows of a softmax are off by a few eps, a table off by 1e-9 is not a distribution).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.rlhf import AutoregressivePolicy, all_sequences

EPS = np.finfo(np.float64).eps
ROW_SUM_TOLERANCE = 1e-9
sizes = st.integers(1, 3)


@pytest.mark.claim("STD-RLHF-2")
@settings(max_examples=20)
@given(vocab=sizes, length=sizes)
def test_every_response_once_in_lexicographic_order(vocab, length):
    """STD-RLHF-2: all_sequences(V, L) has V^L integer rows; row i holds the L base-V digits of i, most significant
    first, so every response appears exactly once and Σ_y runs over all of them."""
    sequences = all_sequences(vocab, length)
    assert np.issubdtype(sequences.dtype, np.integer), sequences.dtype
    assert sequences.shape == (vocab**length, length), sequences.shape
    place_values = vocab ** np.arange(length - 1, -1, -1)
    np.testing.assert_array_equal(sequences @ place_values, np.arange(vocab**length))
    assert sequences.min() >= 0 and sequences.max() <= vocab - 1, (sequences.min(), sequences.max())


@st.composite
def sequence_distributions(draw) -> tuple[np.ndarray, int, int]:
    """A distribution over the V^L responses (V, L ∈ {1, 2, 3}), every probability ≥ 1e-3, some equal."""
    vocab, length = draw(sizes, label="V"), draw(sizes, label="L")
    weights = draw(
        arrays(np.float64, (vocab**length,), elements=st.one_of(st.just(1.0), st.floats(1e-3, 1.0))), label="w"
    )
    return weights / weights.sum(), vocab, length


@pytest.mark.claim("STD-RLHF-2", "STD-RLHF-3")
@settings(max_examples=30)
@given(drawn=sequence_distributions())
def test_conditionals_from_response_probabilities_give_them_back(drawn):
    """STD-RLHF-2, STD-RLHF-3: the policy built from response probabilities P by π(y_t | y_<t) = P(y_≤t)/P(y_<t)
    has π(y) = Π_t π(y_t | y_<t) = P(y) for every response (the chain rule), and its expectation of any f is
    Σ_y P(y) f(y): for the index i of y (a number per response), E = Σ_i i·P_i; for the tokens of y (a row per
    response, integers), E = Σ_i P_i·y_i, the mean token at each position."""
    probs, vocab, length = drawn
    policy = AutoregressivePolicy.from_sequence_probs(probs, vocab, length)
    assert (policy.vocab_size, policy.length) == (vocab, length)
    np.testing.assert_allclose(policy.sequence_probs(), probs, rtol=64 * EPS, atol=0)
    np.testing.assert_allclose(policy.token_probs().prod(axis=1), probs, rtol=64 * EPS, atol=0)
    index = np.arange(vocab**length)
    expected = float(index @ probs)
    assert abs(float(policy.expectation(index)) - expected) <= 64 * EPS * max(1.0, expected), expected
    mean_tokens = probs @ policy.sequences
    np.testing.assert_allclose(policy.expectation(policy.sequences), mean_tokens, rtol=0, atol=64 * EPS * vocab)


@pytest.mark.claim("STD-RLHF-2")
@pytest.mark.parametrize("length", [1, 2, 3])
def test_a_one_token_vocabulary_has_one_sure_response(length):
    """STD-RLHF-2 at V = 1: the only response (0, …, 0) has probability 1, each token probability 1 and log 0."""
    policy = AutoregressivePolicy(np.ones((length, 1)), length)
    np.testing.assert_array_equal(policy.sequences, np.zeros((1, length), dtype=int))
    np.testing.assert_array_equal(policy.sequence_probs(), [1.0])
    np.testing.assert_array_equal(policy.token_log_probs(), np.zeros((1, length)))


def test_the_table_is_kept_as_a_float_array_and_the_length_as_an_int():
    """Nested lists of numbers and a numpy integer length give the policy of the float array and the int: the
    fields hold the checked values, so every method sees an array table."""
    table = [[0.25, 0.75], [0.5, 0.5], [0.5, 0.5]]
    from_lists = AutoregressivePolicy(table, np.int64(2))
    assert isinstance(from_lists.conditionals, np.ndarray), type(from_lists.conditionals)
    assert from_lists.conditionals.dtype == np.float64, from_lists.conditionals.dtype
    assert type(from_lists.length) is int, type(from_lists.length)
    np.testing.assert_array_equal(from_lists.sequence_probs(), [0.125, 0.125, 0.375, 0.375])


@pytest.mark.parametrize("excess", [2 * ROW_SUM_TOLERANCE, 1e-6, 0.5])
def test_rows_that_sum_to_one_only_roughly_are_refused(excess):
    """A row of the table, or the response probabilities, summing to 1 + excess with excess above 1e-9 is not a
    distribution (relative or looser absolute tolerances would let it through)."""
    with pytest.raises(ValueError, match=r"^conditionals:"):
        AutoregressivePolicy(np.array([[0.5, 0.5 + excess]]), 1)
    with pytest.raises(ValueError, match=r"^probs:"):
        AutoregressivePolicy.from_sequence_probs(np.array([0.5, 0.5 + excess]), vocab_size=2, length=1)


def test_rows_off_by_rounding_are_accepted():
    """Row sums within 1e-9 of 1 (rounding of a normalisation) are distributions."""
    nearly = np.array([[0.5, 0.5 + ROW_SUM_TOLERANCE / 4]])
    assert AutoregressivePolicy(nearly, 1).vocab_size == 2
    assert AutoregressivePolicy.from_sequence_probs(nearly[0], vocab_size=2, length=1).length == 1
