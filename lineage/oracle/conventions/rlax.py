"""rlax-style value estimators (DeepMind ``rlax``), in any framework.

    truncated_generalized_advantage_estimation(r_t, discount_t, lambda_, values) -> advantages
    lambda_returns(r_t, discount_t, v_t, lambda_) -> returns
    discounted_returns(r_t, discount_t, v_t) -> returns

(mind the three positional orders). One trajectory per call, rank-1 arrays (a batch is vmapped: the
adapter calls once per column). ``r_t[t]`` and ``discount_t[t] = γ(1 − terminated_t)`` belong to the
transition t → t+1; GAE takes the T + 1 ``values`` V(s_0) … V(s_T), the last one the bootstrap value;
``v_t`` is V(s_1) … V(s_T), i.e. the next values. Termination is a zero discount and there is no done
flag, so the recursion can only stop at a termination: a truncation can be expressed at the last step
(it bootstraps from ``values[T]``), not inside a segment. The policy loss
``clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon)`` takes ratios, not log-probabilities.
"""

from __future__ import annotations

import numpy as np

from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, columns, ratio_arguments
from lineage.oracle.numerics import Numerics


class Rlax(Convention):
    name = "rlax"
    summary = "rlax-style: one rank-1 trajectory per call, discount_t = γ(1 − terminal), T + 1 values for GAE"
    capabilities = Capabilities(truncation_inside=False, separate_flags=False, batch_in_call=False)
    numerics = Numerics("numpy", "float32")
    signatures = {
        "gae": "truncated_generalized_advantage_estimation(r_t, discount_t, lambda_, values) -> advantages",
        "lambda_returns": "lambda_returns(r_t, discount_t, v_t, lambda_) -> returns",
        "discounted_returns": "discounted_returns(r_t, discount_t, v_t) -> returns",
        "ppo_clip_loss": "clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon) -> loss",
    }

    def calls(self, contract, arrays, params):
        if contract == "ppo_clip_loss":
            return [TargetCall(ratio_arguments(arrays, params))]
        return [TargetCall(self.arguments(contract, column, params), place=place) for place, column in columns(arrays)]

    @staticmethod
    def arguments(contract: str, column: dict[str, np.ndarray], params: dict) -> list[tuple[str, object]]:
        """The positional arguments for one trajectory."""
        r_t, v_t = ("r_t", column["rewards"]), ("v_t", column["next_values"])
        discount_t = ("discount_t", params["gamma"] * (~column["terminated"]).astype(np.float64))
        if contract == "gae":
            values = np.append(column["values"], column["next_values"][-1])
            return [r_t, discount_t, ("lambda_", params["lam"]), ("values", values)]
        if contract == "lambda_returns":
            return [r_t, discount_t, v_t, ("lambda_", params["lam"])]
        return [r_t, discount_t, v_t]
