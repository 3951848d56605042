"""OpenAI Spinning Up's per-path estimators (``PPOBuffer.finish_path``).

    target(rews, vals, last_val, gamma, lam) -> adv        (gae)
    target(rews, last_val, gamma) -> ret                   (discounted_returns)

numpy float64 arrays over one path: the steps of one episode, or of its part inside the segment. Inside a
path V(s_{t+1}) is ``vals[t + 1]``; after the last step it is ``last_val``: 0 when the path ended by
termination, the value of the observation reached otherwise (a time-limit cut or the end of the segment).
The adapter splits every column at its episode ends and at the segment's end and calls once per path.
"""

from __future__ import annotations

import numpy as np

from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, columns
from lineage.oracle.numerics import Numerics


class SpinningUp(Convention):
    name = "spinningup"
    summary = "Spinning Up finish_path: one path per call, rewards (and values) of the path plus last_val"
    capabilities = Capabilities(separate_flags=False, boundaries_in_call=False, batch_in_call=False)
    numerics = Numerics("numpy", "float64")
    signatures = {
        "gae": "target(rews, vals, last_val, gamma, lam) -> adv",
        "discounted_returns": "target(rews, last_val, gamma) -> ret",
    }

    def calls(self, contract, arrays, params):
        out = []
        for place, column in columns(arrays):
            for steps in paths(column["terminated"] | column["truncated"]):
                last = steps.stop - 1
                last_val = 0.0 if column["terminated"][last] else float(column["next_values"][last])
                rews, tail = ("rews", column["rewards"][steps]), [("last_val", last_val), ("gamma", params["gamma"])]
                if contract == "gae":
                    args = [rews, ("vals", column["values"][steps]), *tail, ("lam", params["lam"])]
                else:
                    args = [rews, *tail]
                out.append(TargetCall(args, place=(steps, *place[1:])))
        return out


def paths(done: np.ndarray) -> list[slice]:
    """The steps of each path of one column: a path ends at every done step and at the last step."""
    ends = [int(t) + 1 for t in np.flatnonzero(done[:-1])] + [len(done)]
    return [slice(start, stop) for start, stop in zip([0, *ends[:-1]], ends, strict=True)]
