"""Every corpus target, what it is and what the oracle should say about it.

``kind`` is ``"correct"`` (must pass: a failure is a false alarm), ``"buggy"`` (a subtle realistic mistake, none
of them a copy of a bug-zoo entry: must fail, a pass is a missed bug) or ``"broken"`` (raises, hangs, exits, writes
into its inputs, returns the wrong thing: the oracle must report a failure with a clear message, never hang, crash
or pass). ``hazard`` marks the targets that must only run in a subprocess with a time limit: ``"hangs"`` (loops
forever on some input) and ``"exits"`` (raises SystemExit or KeyboardInterrupt).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

KINDS = ("correct", "buggy", "broken")
HAZARDS = (None, "hangs", "exits")


@dataclass(frozen=True)
class Entry:
    contract: str
    spec: str  # "corpus.module:function"
    convention: str
    kind: str
    description: str = ""  # the mistake, one line (buggy and broken)
    framework: str | None = None  # None: the convention's default
    dtype: str | None = None
    hazard: str | None = None

    @property
    def name(self) -> str:
        """A unique label: contract, target, convention and the numerics asked for."""
        numerics = "/".join(x for x in (self.framework, self.dtype) if x)
        suffix = f"|{numerics}" if numerics else ""
        return f"{self.contract}={self.spec.removeprefix('corpus.')}[{self.convention}{suffix}]"

    def to_dict(self) -> dict:
        return {"name": self.name, **asdict(self)}


def _entries(module: str, convention: str, rows) -> list[Entry]:
    out = []
    for row in rows:
        contract, function, kind, *rest = row
        options = rest[-1] if rest and isinstance(rest[-1], dict) else {}
        description = rest[0] if rest and isinstance(rest[0], str) else ""
        out.append(Entry(contract, f"corpus.{module}:{function}", convention, kind, description, **options))
    return out


F32, F64 = {"dtype": "float32"}, {"dtype": "float64"}
TORCH32, TORCH64 = {"framework": "torch", "dtype": "float32"}, {"framework": "torch", "dtype": "float64"}
NUMPY64 = {"framework": "numpy", "dtype": "float64"}

CANONICAL_RETURNS = _entries(
    "canonical_returns",
    "canonical",
    [
        ("gae", "gae_reverse_loop", "correct"),
        ("gae", "gae_discount_matrix", "correct"),
        ("gae", "gae_torch", "correct", TORCH32),
        ("gae", "gae_per_episode", "correct", F32),
        ("gae", "gae_lambda_on_delta", "buggy", "lam multiplies the TD error instead of the carried advantage"),
        ("gae", "gae_forward_loop", "buggy", "loop runs forward in time (carry from the previous step)"),
        ("gae", "gae_carry_ignores_truncation", "buggy", "carry reset only at terminations, not at truncations"),
        ("gae", "gae_mask_on_current_value", "buggy", "termination mask on V(s_t) instead of V(s_{t+1})"),
        ("gae", "gae_normalized_on_return", "buggy", "advantages normalised before being returned"),
        (
            "gae",
            "gae_discount_matrix_shifted",
            "buggy",
            "vectorised weights use the masks of steps t+1..k instead of t..k-1 (only wrong at episode ends)",
        ),
        ("gae", "gae_float32_buffer", "buggy", "float64 in, float32 accumulator and float32 output", F64),
        ("gae", "gae_float32_buffer_cast_back", "buggy", "float32 accumulator, output cast back to float64", F64),
        ("lambda_returns", "lambda_returns_recursive", "correct"),
        ("lambda_returns", "lambda_returns_from_gae_torch", "correct", TORCH64),
        ("lambda_returns", "lambda_returns_without_one_minus_lambda", "buggy", "(1 - lam) missing on the bootstrap"),
        ("lambda_returns", "lambda_returns_plus_next_values", "buggy", "returns = advantages + next_values"),
        ("discounted_returns", "discounted_returns_loop", "correct"),
        ("discounted_returns", "discounted_returns_torch", "correct", TORCH32),
        ("discounted_returns", "discounted_returns_discount_first", "buggy", "G_t = gamma * (r_t + G_{t+1})"),
        (
            "discounted_returns",
            "discounted_returns_absolute_powers",
            "buggy",
            "rewards weighted by gamma**k from the segment start, not from t",
        ),
        (
            "discounted_returns",
            "discounted_returns_no_reset_at_truncation",
            "buggy",
            "running return not restarted at a truncation (and no bootstrap there)",
        ),
        ("td_errors", "td_errors_numpy", "correct"),
        ("td_errors", "td_errors_torch", "correct", TORCH32),
        ("td_errors", "td_errors_flags_swapped", "buggy", "bootstrap kept only where the step terminated"),
        ("td_errors", "td_errors_gamma_on_both_values", "buggy", "gamma factored over both values"),
        ("n_step_advantages", "n_step_advantages_loop", "correct"),
        ("n_step_advantages", "n_step_advantages_from_deltas", "correct", F32),
        ("n_step_advantages", "n_step_advantages_sums_n_plus_one", "buggy", "sums n + 1 TD errors (off by one)"),
        ("n_step_advantages", "n_step_advantages_bootstrap_power", "buggy", "bootstrap discounted gamma**(k-1)"),
    ],
)

CANONICAL_LOSSES = _entries(
    "canonical_losses",
    "canonical",
    [
        ("ppo_clip_loss", "ppo_loss_cleanrl", "correct"),
        ("ppo_clip_loss", "ppo_loss_numpy", "correct", NUMPY64),
        ("ppo_clip_loss", "ppo_loss_surrogate_min", "correct", TORCH32),
        ("ppo_clip_loss", "ppo_loss_clamps_log_ratio", "buggy", "log-ratio clipped to ±eps instead of the ratio"),
        ("ppo_clip_loss", "ppo_loss_min_of_losses", "buggy", "min over the negated surrogates (optimistic bound)"),
        ("ppo_clip_loss", "ppo_loss_normalizes_advantages", "buggy", "advantages normalised inside the loss"),
        ("ppo_clip_loss", "ppo_loss_reciprocal_lower_bound", "buggy", "lower clip bound 1/(1+eps) instead of 1-eps"),
        ("value_loss", "value_loss_cleanrl", "correct"),
        ("value_loss", "value_loss_numpy", "correct", NUMPY64),
        ("value_loss", "value_loss_without_half", "buggy", "the 1/2 factor is missing"),
        ("value_loss", "value_loss_clipped_around_returns", "buggy", "clip band centred on the return"),
        ("clipped_value_loss", "clipped_value_loss_sb3", "correct", TORCH32),
        ("clipped_value_loss", "clipped_value_loss_numpy", "correct", NUMPY64),
        ("clipped_value_loss", "clipped_value_loss_huber", "buggy", "smooth L1 instead of squared error"),
        ("clipped_value_loss", "clipped_value_loss_ignores_clip", "buggy", "clip range never applied"),
        ("unclipped_value_loss", "unclipped_value_loss_torch", "correct", TORCH32),
        ("unclipped_value_loss", "unclipped_value_loss_numpy", "correct", NUMPY64),
        ("unclipped_value_loss", "unclipped_value_loss_to_old_values", "buggy", "target is V_old, not the return"),
        ("unclipped_value_loss", "unclipped_value_loss_detached", "buggy", "prediction detached from the graph"),
        ("kl_k1", "kl_k1_numpy", "correct"),
        ("kl_k1", "kl_k1_prob_floor", "buggy", "probabilities floored at 1e-4 before the log"),
        ("kl_k2", "kl_k2_numpy", "correct"),
        ("kl_k2", "kl_k2_without_half", "buggy", "k2 without its 1/2"),
        ("kl_k3", "kl_k3_torch", "correct", TORCH32),
        ("kl_k3", "kl_k3_numpy", "correct"),
        ("kl_k3", "kl_k3_mixed_direction", "buggy", "ratio pi_old/pi_new but log term log(pi_new/pi_old)"),
        ("kl_k3", "kl_k3_log_sign", "buggy", "+ log r instead of - log r"),
        ("adapt_kl_coef", "adapt_kl_coef_paper", "correct"),
        ("adapt_kl_coef", "adapt_kl_coef_numpy", "correct"),
        ("adapt_kl_coef", "adapt_kl_coef_no_band", "buggy", "no [d/1.5, 1.5 d] band"),
        ("adapt_kl_coef", "adapt_kl_coef_factor_one_and_a_half", "buggy", "update factor 1.5 instead of 2"),
        ("adapt_kl_coef", "adapt_kl_coef_lower_threshold_typo", "buggy", "lower threshold kl_target * 1.5"),
        ("normalize_advantages", "normalize_advantages_baselines", "correct"),
        ("normalize_advantages", "normalize_advantages_sb3", "correct", TORCH32),
        ("normalize_advantages", "normalize_advantages_integer_mean", "buggy", "mean by floor division"),
        ("normalize_advantages", "normalize_advantages_large_epsilon", "buggy", "eps = 1e-4 added to the std"),
        (
            "normalize_advantages",
            "normalize_advantages_epsilon_in_sqrt",
            "buggy",
            "variance epsilon 1e-5 inside the sqrt (visible only for small spreads)",
        ),
        ("normalize_advantages", "normalize_advantages_by_variance", "buggy", "divides by the variance"),
    ],
)

CANONICAL_RLHF = _entries(
    "canonical_rlhf",
    "canonical",
    [
        ("token_rewards", "token_rewards_loop", "correct"),
        ("token_rewards", "token_rewards_gather", "correct", TORCH32),
        ("token_rewards", "token_rewards_score_at_first_token", "buggy", "score on column 0 (left-padding habit)"),
        ("token_rewards", "token_rewards_kl_on_padding", "buggy", "KL penalty charged on padding"),
        ("token_rewards", "token_rewards_score_times_beta", "buggy", "beta scales the score too"),
    ],
)

CANONICAL_PG = _entries(
    "canonical_pg",
    "canonical",
    [
        ("reinforce_gradient", "reinforce_gradient_loop", "correct"),
        ("reinforce_gradient", "reinforce_gradient_torch", "correct", TORCH32),
        ("reinforce_gradient", "reinforce_gradient_undiscounted_steps", "buggy", "gamma**t of step t missing (C2)"),
        ("reinforce_gradient", "reinforce_gradient_forward_cumsum", "buggy", "reward-to-go accumulated forward"),
        ("reinforce_gradient", "reinforce_gradient_summed_over_episodes", "buggy", "sum over episodes, not mean"),
    ],
)

CLEANRL = _entries(
    "cleanrl_style",
    "cleanrl",
    [
        ("gae", "compute_gae", "correct"),
        ("gae", "compute_gae", "correct", F64),
        ("gae", "compute_gae_and_returns", "correct"),
        ("lambda_returns", "compute_gae_and_returns", "correct"),
        ("gae", "compute_gae_dones_current_step", "buggy", "mask from dones[t] instead of dones[t + 1]"),
        ("gae", "compute_gae_stale_next_value", "buggy", "bootstraps from values[t] instead of values[t + 1]"),
        (
            "lambda_returns",
            "compute_returns_after_normalizing",
            "buggy",
            "advantages normalised before returns = advantages + values",
        ),
        ("gae", "compute_gae_next_done_everywhere", "buggy", "next_done masks the bootstrap of every step"),
        ("gae", "compute_gae_aliased_buffer", "broken", "advantages = rewards aliases and overwrites the input"),
        ("gae", "compute_gae_env_major", "broken", "returns [num_envs, num_steps]"),
    ],
)

SB3 = _entries(
    "sb3_style",
    "sb3",
    [
        ("gae", "VectorizedGAEBuffer", "correct"),
        ("lambda_returns", "VectorizedGAEBuffer", "correct"),
        ("gae", "Float64GAEBuffer", "correct"),
        ("discounted_returns", "Float64GAEBuffer", "correct"),
        ("gae", "EpisodeStartSameStepBuffer", "buggy", "episode_starts[step] instead of [step + 1]"),
        ("gae", "LambdaInBootstrapBuffer", "buggy", "gamma * lambda also discounts the bootstrap in delta"),
        (
            "lambda_returns",
            "ReturnsBeforeAdvantagesBuffer",
            "buggy",
            "returns are bootstrapped Monte-Carlo sums whatever gae_lambda is",
        ),
    ],
)

TORCHRL = _entries(
    "torchrl_style",
    "torchrl",
    [
        ("gae", "gae_time_loop", "correct"),
        ("gae", "gae_time_loop", "correct", F64),
        ("lambda_returns", "gae_time_loop", "correct"),
        ("gae", "gae_unbind", "correct"),
        ("discounted_returns", "td1_return", "correct"),
        ("gae", "gae_loops_over_dim0", "buggy", "iterates over dim 0 (batch) instead of dim -2 (time)"),
        ("discounted_returns", "td1_carry_ignores_done", "buggy", "running return reset only at terminated"),
        ("lambda_returns", "gae_value_target_from_next", "buggy", "value_target = advantage + next_state_value"),
        ("gae", "gae_bool_arithmetic", "broken", "1 - bool tensor raises TypeError"),
    ],
)

TIANSHOU = _entries(
    "tianshou_style",
    "tianshou",
    [
        ("gae", "gae_buffer_loop", "correct"),
        ("gae", "gae_episode_slices", "correct", F32),
        ("gae", "gae_masks_next_value_again", "buggy", "pre-masked v_s_ masked again by 1 - end_flag"),
        ("gae", "gae_returns_instead_of_advantages", "buggy", "stores gae + v_s (returns) as advantages"),
        ("gae", "gae_inplace_rewards", "broken", "rew += ... writes into the caller's reward array"),
    ],
)

RLAX = _entries(
    "rlax_style",
    "rlax",
    [
        ("gae", "truncated_gae", "correct"),
        ("gae", "truncated_gae", "correct", F64),
        ("lambda_returns", "lambda_returns", "correct"),
        ("discounted_returns", "discounted_returns", "correct"),
        ("ppo_clip_loss", "clipped_surrogate_pg_loss", "correct"),
        ("gae", "truncated_gae_values_swapped", "buggy", "values[:-1] and values[1:] swapped in delta"),
        ("lambda_returns", "lambda_returns_next_index", "buggy", "(1 - lambda) bootstrap reads v_t[i + 1]"),
        ("ppo_clip_loss", "clipped_surrogate_min_ratio_first", "buggy", "min over ratios before multiplying by A"),
        (
            "discounted_returns",
            "discounted_returns_discount_of_next_step",
            "buggy",
            "G_{t+1} multiplied by discount_t[t + 1]",
        ),
        ("gae", "truncated_gae_with_bootstrap_entry", "broken", "returns T + 1 entries"),
    ],
)

SPINNINGUP = _entries(
    "spinningup_style",
    "spinningup",
    [
        ("gae", "finish_path_gae", "correct"),
        ("gae", "finish_path_gae_matrix", "correct"),
        ("discounted_returns", "finish_path_returns", "correct"),
        ("discounted_returns", "finish_path_returns_matrix", "correct", F32),
        ("gae", "finish_path_gae_forward_cumsum", "buggy", "discounted cumsum runs forward in time"),
        ("discounted_returns", "finish_path_returns_filter_swapped", "buggy", "lfilter b/a swapped: FIR"),
        ("discounted_returns", "finish_path_returns_drops_first", "buggy", "[1:] instead of [:-1]"),
        ("gae", "finish_path_gae_list_append", "broken", "rews + [last_val] on arrays: one entry too few"),
    ],
)

LOSS_CONVENTIONS = [
    *_entries(
        "loss_conventions",
        "objective",
        [
            ("ppo_clip_loss", "clip_objective", "correct"),
            ("ppo_clip_loss", "clip_objective_numpy", "correct", NUMPY64),
            ("ppo_clip_loss", "clip_objective_returns_loss", "buggy", "objective returned with the loss's sign"),
            ("ppo_clip_loss", "clip_objective_max", "buggy", "max of the surrogates instead of the min"),
        ],
    ),
    *_entries(
        "loss_conventions",
        "sum",
        [
            ("ppo_clip_loss", "clip_loss_summed", "correct"),
            ("ppo_clip_loss", "clip_loss_summed", "correct", TORCH32),
            ("ppo_clip_loss", "clip_loss_summed_takes_mean", "buggy", "mean where the sum is documented"),
            ("ppo_clip_loss", "clip_loss_summed_broadcast", "buggy", "[N, 1] advantages broadcast to [N, N]"),
        ],
    ),
]

TRL = _entries(
    "trl_style",
    "trl",
    [
        ("ppo_clip_loss", "policy_loss", "correct"),
        ("value_loss", "value_loss", "correct"),
        ("token_rewards", "compute_rewards", "correct"),
        ("token_rewards", "compute_rewards_loop", "correct", F64),
        ("ppo_clip_loss", "policy_loss_unmasked_mean", "buggy", "plain mean over padding too"),
        ("value_loss", "value_loss_clamps_old_value", "buggy", "old value clamped around the new one"),
        ("token_rewards", "compute_rewards_score_on_last_column", "buggy", "score on the last column (padding)"),
        ("token_rewards", "compute_rewards_mask_inverted", "buggy", "padding mask used as the attention mask"),
        ("ppo_clip_loss", "policy_loss_per_token", "broken", "per-token losses, no reduction"),
    ],
)

BROKEN = _entries(
    "broken",
    "canonical",
    [
        ("gae", "gae_cleanrl_signature", "broken", "CleanRL signature checked as canonical"),
        ("gae", "gae_expects_torch", "broken", "expects torch tensors, given numpy"),
        ("gae", "gae_scalar_steps", "broken", "accepts only 1-D input"),
        ("gae", "gae_returns_pair", "broken", "returns a tuple (advantages, returns)"),
        ("gae", "gae_returns_dict", "broken", "returns a dict"),
        ("gae", "gae_fills_buffer", "broken", "returns None"),
        ("gae", "gae_geometric_horizon", "broken", "hangs when gamma * lam == 1", {"hazard": "hangs"}),
        ("gae", "gae_windowed", "broken", "hangs for T >= 5", {"hazard": "hangs"}),
        ("gae", "gae_rescaled_cumsum", "broken", "NaN/inf when gamma * lam == 0 or tiny"),
        ("gae", "gae_undefined_at_gamma_one", "broken", "ZeroDivisionError at gamma == 1"),
        ("gae", "gae_transposed", "broken", "returns [B, T] for [T, B]"),
        ("discounted_returns", "discounted_returns_exits", "broken", "sys.exit(1) at gamma == 1", {"hazard": "exits"}),
        (
            "td_errors",
            "td_errors_interrupts",
            "broken",
            "raises KeyboardInterrupt on a zero reward",
            {"hazard": "exits"},
        ),
        ("td_errors", "td_errors_single_env", "broken", ".item() on the last value raises for a batch"),
        ("gae", "gae_bool_mask_subtraction", "broken", "bool - bool array raises TypeError"),
        ("kl_k1", "kl_k1_batch_mean", "broken", "returns a scalar instead of one estimate per sample"),
        ("ppo_clip_loss", "ppo_loss_keepdim", "broken", "returns shape (1,) instead of a scalar"),
        ("ppo_clip_loss", "ppo_loss_numpy_only", "broken", "expects numpy, given torch"),
        (
            "adapt_kl_coef",
            "adapt_kl_coef_until_in_band",
            "broken",
            "loops forever when the KL is outside the band (the preflight input)",
            {"hazard": "hangs"},
        ),
        ("normalize_advantages", "normalize_advantages_jitter", "broken", "random jitter: not deterministic"),
        ("value_loss", "value_loss_inplace", "broken", "sub_ into values_new", TORCH64),
        ("token_rewards", "token_rewards_inplace", "broken", "logp -= ref_logp in place"),
        ("lambda_returns", "lambda_returns_int_output", "broken", "returns an int64 array (rounded)"),
    ],
)

TRPO = _entries(
    "trpo_style",
    "canonical",
    [
        ("conjugate_gradient", "cg", "correct", NUMPY64),
        ("conjugate_gradient", "cg_torch", "correct", TORCH32),
        ("conjugate_gradient", "cg_restarts_direction", "buggy", "p = r each step: the β·p term is missing", NUMPY64),
        ("fisher_vector_product", "fvp", "correct", TORCH64),
        ("fisher_vector_product", "fvp_damping_squared", "buggy", "damping applied as damping²", TORCH64),
        ("trpo_line_search", "linesearch", "correct", NUMPY64),
        ("trpo_line_search", "linesearch_kl_only", "buggy", "the surrogate's improvement is never checked", NUMPY64),
    ],
)

MANIFEST: list[Entry] = [
    *CANONICAL_RETURNS,
    *CANONICAL_LOSSES,
    *CANONICAL_RLHF,
    *CANONICAL_PG,
    *CLEANRL,
    *SB3,
    *TORCHRL,
    *TIANSHOU,
    *RLAX,
    *SPINNINGUP,
    *LOSS_CONVENTIONS,
    *TRL,
    *BROKEN,
    *TRPO,
]
