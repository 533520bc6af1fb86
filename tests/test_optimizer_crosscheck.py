"""Optimizer states and the optimizer step in backward against the real optimizers (optional: needs torch and
transformers, and bitsandbytes for the 8-bit states; CI runs it with pinned versions).

A small Llama is built by transformers on the CPU in bf16; its optimizer states after one step are counted tensor
by tensor and held to llmcalc's bytes per parameter exactly.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import llmcalc  # noqa: E402
from llmcalc.formulas.memory import optimizer_state_bytes  # noqa: E402
from llmcalc.formulas.params import count_params  # noqa: E402
from llmcalc.formulas.training import largest_layer  # noqa: E402


def build(config: dict, tmp_path, dtype):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    spec = llmcalc.load(str(path))
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**config), dtype=dtype)
    return count_params(spec), model


def stepped(optimizer, model) -> int:
    """Bytes of the optimizer's per-parameter state tensors after one step (the step counters aside)."""
    for p in model.parameters():
        p.grad = torch.ones_like(p) * 1e-3
    optimizer.step()
    return sum(t.numel() * t.element_size() for state in optimizer.state.values() for name, t in state.items()
               if torch.is_tensor(t) and name not in ("step", "qmap1", "qmap2", "unorm_vec"))


SMALL = {"model_type": "llama", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}


def test_torch_adamw_in_pure_bf16(tmp_path):
    # torch/optim/adamw.py: exp_avg and exp_avg_sq are torch.zeros_like(param): bf16 for bf16 parameters
    params, model = build(SMALL, tmp_path, torch.bfloat16)
    measured = stepped(torch.optim.AdamW(model.parameters()), model)
    assert measured == params.total * optimizer_state_bytes("adamw", "bf16", "pure")


def test_bitsandbytes_8bit_adamw(tmp_path):
    bnb = pytest.importorskip("bitsandbytes")
    # every tensor of at least min_8bit_size = 4,096 elements and a multiple of the 256-element block, so that the
    # formula (2 + 8/256 bytes per parameter) is exact: hidden 4,096 makes the norms 4,096 elements long
    config = {**SMALL, "vocab_size": 512, "hidden_size": 4096, "intermediate_size": 512, "num_hidden_layers": 1,
              "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 128}
    params, model = build(config, tmp_path, torch.bfloat16)
    measured = stepped(bnb.optim.AdamW8bit(model.parameters()), model)
    assert measured == params.total * optimizer_state_bytes("adam8bit", "bf16", "pure")


def test_optimizer_in_backward_holds_one_gradient(tmp_path):
    # PyTorch's register_post_accumulate_grad_hook, as torchtune's optimizer_in_bwd: each parameter is stepped and its
    # gradient freed as soon as it is complete. The gradients alive at any hook are at most the largest parameter's.
    params, model = build(SMALL, tmp_path, torch.float32)
    optimizers = {p: torch.optim.AdamW([p]) for p in model.parameters()}
    peak = 0

    def hook(param):
        nonlocal peak
        alive = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
        peak = max(peak, alive)
        optimizers[param].step()
        param.grad = None

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(hook)
    ids = torch.randint(0, SMALL["vocab_size"], (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    assert peak == largest_layer(params) * 4
    assert all(p.grad is None for p in model.parameters())
