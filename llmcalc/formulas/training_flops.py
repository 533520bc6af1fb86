"""Training compute: the FLOPs of a training run from the forward pass (formulas.flops), the 6N and PaLM
approximations beside the exact figure, model FLOPs utilisation and the wall-clock time it implies."""

from __future__ import annotations

from ..model import ModelSpec
from ..records import record
from .flops import FlopCount, count_flops


PF_DAY = 10**15 * 86400  # 8.64e19 FLOPs (Kaplan et al. 2020, sec. 1.3)
RECOMPUTE = ("none", "selective", "full")


def palm_flops_per_token(n_params: float, n_layers: int, n_heads: int, d_head: int, seq: int) -> float:
    """Model FLOPs per token for training: 6N + 12 L H Q T (Chowdhery et al. 2022, PaLM App. B)."""
    return 6 * n_params + 12 * n_layers * n_heads * d_head * seq


def mfu(tokens_per_second: float, flops_per_token: float, n_chips: int, peak_flops: float) -> float:
    """Model FLOPs utilisation: achieved model FLOP/s over the chips' peak (PaLM App. B)."""
    return tokens_per_second * flops_per_token / (n_chips * peak_flops)


def training_seconds(model_flops: float, n_chips: int, peak_flops: float, utilisation: float) -> float:
    """Wall-clock seconds of a training run of `model_flops` at model FLOPs utilisation `utilisation`: the same
    definition read the other way (PaLM App. B: MFU = model FLOPs / (seconds x chips x peak))."""
    return model_flops / (n_chips * peak_flops * utilisation)


@record
class TrainingCompute:
    """Training compute per token and for `tokens` tokens, built on the forward pass at `seq`."""

    forward: FlopCount
    recompute: str
    tokens: float
    n_params: int

    @property
    def model_per_token(self) -> float:
        """Forward + backward, backward = 2 x forward (Kaplan et al. 2020 sec. 2.1; GPT-3 App. D)."""
        return 3 * self.forward.per_token

    @property
    def hardware_per_token(self) -> float:
        """Model FLOPs plus what recomputation runs again (Korthikanti et al. 2022, sec. 5)."""
        if self.recompute == "full":
            return self.model_per_token + self.forward.per_token
        if self.recompute == "selective":
            core = {"attn.scores", "attn.values", "attn.softmax"}
            recomputed = sum(r.matmul + (r.other if self.forward.include_other else 0)
                             for r in self.forward.rows if r.component in core)
            return self.model_per_token + recomputed / self.forward.tokens
        return self.model_per_token

    @property
    def total(self) -> float:
        return self.model_per_token * self.tokens

    @property
    def hardware_total(self) -> float:
        return self.hardware_per_token * self.tokens

    @property
    def pf_days(self) -> float:
        return self.total / PF_DAY

    @property
    def six_n(self) -> float:
        """6 N D with N the parameters a token uses (all of them for a dense model; Kaplan et al. 2020)."""
        return 6 * self.n_params * self.tokens

    @property
    def palm(self) -> float:
        """(6N + 12 L H Q T) D, PaLM App. B, with the model's own heads, head size and seq."""
        model = self.forward.model
        attention = sum(g.count * g.layer.attention.n_heads * g.layer.attention.qk_head_dim for g in model.groups
                        if g.layer.attention)
        return (6 * self.n_params + 12 * attention * self.forward.seq) * self.tokens


def training_compute(model: ModelSpec, n_params: int, seq: int, tokens: float, attention: str = "causal",
                     recompute: str = "none") -> TrainingCompute:
    """Training compute for `tokens` tokens at sequence length `seq`, in matmul FLOPs (as PaLM and Megatron).

    `n_params` is the N of the 6N and PaLM figures printed beside the exact one: the active parameters.
    """
    forward = count_flops(model, seq, 1, attention, include_other=False)
    return TrainingCompute(forward, recompute, tokens, n_params)
