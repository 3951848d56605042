"""TorchRL's PPO loss modules (``torchrl.objectives.ClipPPOLoss`` and ``KLPENPPOLoss``),
 driven with a TensorDict the way a TorchRL training loop drives them.

    module = target(actor, critic, entropy_bonus=False, ...)
    out = module(TensorDict({action, action_log_prob, advantage, state_value, value_target, ...}, batch_size=[N]))
    ppo_clip_loss -> ClipPPOLoss, out["loss_objective"]: −mean min(e^{lw}A, e^{clamp(lw, log(1−ε), log(1+ε))}A)
    value_loss    -> ClipPPOLoss with loss_critic_type="l2", critic_coeff=0.5, clip_value=ε, out["loss_critic"]:
                     ½·mean max((V − R)², (V_old + clamp(V − V_old, ±ε) − R)²)
    adapt_kl_coef -> KLPENPPOLoss(beta=β, dtarg=d_targ): module.beta after one forward pass whose measured
                     KL(old ‖ new) is the case's KL

TorchRL clips the log-ratio, not the ratio; exp is monotone, so this is the contract's clip(ρ, 1 − ε, 1 + ε) up to
rounding. The critic loss is the contract's "max" form only with the settings above (TorchRL's default distance is
smooth-L1 with coefficient 1). KLPENPPOLoss updates β inside ``forward``, after using it, with the paper's ×2 / ÷2
rule (``increment=2``, ``decrement=0.5``).

The target is the loss class (or a subclass). The adapter gives it an actor whose distribution has a given
log-probability: the current policy's is the TensorDict's ``logp_new`` entry; the old policy, which KLPENPPOLoss
rebuilds from the stored distribution parameter ``logp``, has log-probability ``logp``, so the one-sample KL
estimate is exactly logp − logp_new. The KL entries are always float64, so that a KL drawn exactly at a threshold
d_targ/1.5 or 1.5·d_targ is compared exactly. The module's own arithmetic — clipping, minimum, reduction, β rule —
is what gets checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage.arrays import to_numpy
from lineage.oracle.conventions.base import Convention, TargetCall
from lineage.oracle.numerics import Numerics

CRITIC_SETTINGS = {"loss_critic_type": "l2", "critic_coeff": 0.5}
EXACT = Numerics("torch", "float64")


@dataclass(frozen=True)
class LossRun:
    """A loss module after one forward pass, and what that pass returned."""

    module: object
    out: object


@dataclass(frozen=True)
class OutputEntry:
    """Reads one entry of the output TensorDict."""

    key: str

    def __call__(self, run: LossRun) -> np.ndarray:
        return to_numpy(run.out[self.key])


@dataclass(frozen=True)
class ModuleBuffer:
    """Reads a buffer of the module after the pass (KLPENPPOLoss's updated ``beta``)."""

    name: str

    def __call__(self, run: LossRun) -> np.ndarray:
        return to_numpy(getattr(run.module, self.name))


def given_log_prob_actor():
    """An actor for TorchRL losses: the current policy's log-probability of the stored action is the TensorDict's
    ``logp_new`` entry; a distribution rebuilt from stored parameters has log-probability ``logp``."""
    import torch
    from tensordict.nn import ProbabilisticTensorDictModule, ProbabilisticTensorDictSequential, TensorDictModule

    class GivenLogProb(torch.distributions.Distribution):
        arg_constraints: dict = {}

        def __init__(self, logp):
            self.logp = logp
            super().__init__(batch_shape=logp.shape, validate_args=False)

        def log_prob(self, value):
            return self.logp

        def sample(self, sample_shape=()):
            return torch.zeros(torch.Size(sample_shape) + self.logp.shape, dtype=self.logp.dtype)

    return ProbabilisticTensorDictSequential(
        TensorDictModule(lambda logp: logp, in_keys=["logp_new"], out_keys=["logp"]),
        ProbabilisticTensorDictModule(in_keys=["logp"], out_keys=["action"], distribution_class=GivenLogProb),
    )


def given_value_critic():
    """A critic for TorchRL losses whose state value is the TensorDict's ``values_new`` entry."""
    from tensordict.nn import TensorDictModule

    return TensorDictModule(lambda values: values, in_keys=["values_new"], out_keys=["state_value"])


class TorchRLPPO(Convention):
    name = "torchrl-ppo"
    summary = "TorchRL ClipPPOLoss / KLPENPPOLoss modules driven with a TensorDict (log-space ratio clip, β in forward)"
    numerics = Numerics("torch", "float32")
    imports = ("torch", "tensordict")
    signatures = {
        "ppo_clip_loss": "ClipPPOLoss(actor, None, clip_epsilon=ε, entropy_bonus=False)(td)['loss_objective']",
        "value_loss": "ClipPPOLoss(actor, critic, clip_value=ε, loss_critic_type='l2', critic_coeff=0.5, "
        "entropy_bonus=False)(td)['loss_critic']",
        "adapt_kl_coef": "KLPENPPOLoss(actor, None, beta=β, dtarg=d_targ, entropy_bonus=False)(td); module.beta",
    }

    def calls(self, contract, arrays, params):
        if contract == "adapt_kl_coef":
            return [self._kl_penalty_call(arrays, params)]
        if contract == "ppo_clip_loss":
            entries = {
                "logp_new": arrays["logp_new"],
                "action_log_prob": arrays["logp_old"],
                "advantage": arrays["advantages"][:, None],
            }
            return [
                TargetCall(list(entries.items()), {"clip_epsilon": params["clip_eps"]}, OutputEntry("loss_objective"))
            ]
        zeros = np.zeros_like(arrays["values_new"])
        entries = {
            "logp_new": zeros,
            "action_log_prob": zeros,
            "advantage": zeros[:, None],
            "values_new": arrays["values_new"][:, None],
            "state_value": arrays["values_old"][:, None],
            "value_target": arrays["returns"][:, None],
        }
        settings = {"clip_value": params["clip_eps"], **CRITIC_SETTINGS}
        return [TargetCall(list(entries.items()), settings, OutputEntry("loss_critic"))]

    @staticmethod
    def _kl_penalty_call(arrays, params) -> TargetCall:
        """One sample whose old log-probability is the KL and new one 0, so the measured KL(old ‖ new) is the KL;
        ratio 1 and advantage 0 leave the surrogate out of it."""
        zero = np.zeros(1)
        entries = {
            "logp": np.array([arrays["kl"]], dtype=np.float64),
            "logp_new": zero,
            "action_log_prob": zero,
            "advantage": zero[:, None],
        }
        return TargetCall(
            list(entries.items()), {"beta": arrays["beta"], "dtarg": params["kl_target"]}, ModuleBuffer("beta")
        )

    def prepare(self, call, numerics):
        if "logp" in dict(call.args):
            numerics = EXACT
        return super().prepare(call, numerics)

    def execute(self, function, args, kwargs):
        import warnings

        import torch
        from tensordict import TensorDict

        entries = dict(args)
        critic = given_value_critic() if "values_new" in entries else None
        module = function(given_log_prob_actor(), critic, entropy_bonus=False, **kwargs)
        td = TensorDict(
            {**entries, "action": torch.zeros_like(entries["logp_new"])}, batch_size=[len(entries["logp_new"])]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # KLPENPPOLoss warns that the KL is a Monte-Carlo estimate
            return LossRun(module, module(td))

    def render(self, label, call, numerics):
        if "logp" in dict(call.args):
            numerics = EXACT
        entries = [name for name, _ in call.args]
        settings = ", ".join(f"{name}={value!r}" for name, value in call.kwargs.items())
        critic = "given_value_critic()" if "values_new" in entries else "None"
        read = f"out = td_out[{call.read.key!r}]" if isinstance(call.read, OutputEntry) else "out = module.beta"
        return [
            "from tensordict import TensorDict",
            "from lineage.oracle.conventions.torchrl_ppo import given_log_prob_actor, given_value_critic",
            *(f"{name} = {numerics.literal(value)}" for name, value in call.args),
            f"module = target(given_log_prob_actor(), {critic}, entropy_bonus=False, {settings})",
            f"td = TensorDict({{{', '.join(f'{n!r}: {n}' for n in entries)}, 'action': torch.zeros_like(logp_new)}},",
            "                batch_size=[len(logp_new)])",
            "td_out = module(td)",
            read,
        ]
