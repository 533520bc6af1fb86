"""LoRA adapter sizes against PEFT (optional: needs torch, transformers and peft; CI installs peft 0.21.2).

Small random configs of each family are built by transformers on the meta device, wrapped by PEFT's get_peft_model,
and PEFT's get_nb_trainable_parameters() must equal llmcalc's count for the same rank and targets, exactly.
Not compared: PEFT on transformers' fused expert tensors (it shares one adapter pair across the experts of a fused
tensor, which llmcalc's per-expert `experts` target does not model) and fused-projection layouts (gpt2's c_attn,
phi3's qkv_proj, dbrx's Wqkv), where one adapter spans what llmcalc counts as three matrices.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

import llmcalc  # noqa: E402
from llmcalc.checks import lora_target_names  # noqa: E402
from llmcalc.formulas.finetune import lora_params  # noqa: E402

HF_NAMES = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj",
            "down": "down_proj", "q_a": "q_a_proj", "q_b": "q_b_proj", "kv_a": "kv_a_proj_with_mqa",
            "kv_b": "kv_b_proj"}
SMALL = {"vocab_size": 320, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
         "num_attention_heads": 4, "num_key_value_heads": 2}
CONFIGS = {
    "llama": {"model_type": "llama", **SMALL},
    "mistral": {"model_type": "mistral", **SMALL},
    "qwen2": {"model_type": "qwen2", **SMALL},
    "qwen3": {"model_type": "qwen3", **SMALL, "head_dim": 32},
    "gemma2": {"model_type": "gemma2", **SMALL, "head_dim": 24},
    "mixtral": {"model_type": "mixtral", **SMALL, "num_local_experts": 4, "num_experts_per_tok": 2},
    "deepseek_v3": {"model_type": "deepseek_v3", "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
                    "moe_intermediate_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
                    "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
                    "first_k_dense_replace": 1, "q_lora_rank": 48, "kv_lora_rank": 32, "qk_rope_head_dim": 8,
                    "qk_nope_head_dim": 16, "v_head_dim": 16, "num_nextn_predict_layers": 0},
}
TARGETS = {
    "dense": [("q", "v"), ("q", "k", "v", "o"), ("q", "k", "v", "o", "gate", "up", "down")],
    "mixtral": [("q", "v"), ("q", "k", "v", "o")],
    "deepseek_v3": [("q_a", "q_b", "kv_a", "kv_b", "o")],
}


def peft_count(config: dict, rank: int, targets) -> int:
    hf_config = transformers.AutoConfig.for_model(**config)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    wrapped = peft.get_peft_model(model, peft.LoraConfig(r=rank, target_modules=targets))
    return wrapped.get_nb_trainable_parameters()[0]


def ours(config: dict, tmp_path, rank: int, targets) -> int:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return lora_params(llmcalc.load(str(path)), rank, tuple(targets))


CASES = [(name, targets) for name in CONFIGS
         for targets in TARGETS.get(name, TARGETS["dense"])]


@pytest.mark.parametrize("name, targets", CASES, ids=[f"{n}-{'+'.join(t)}" for n, t in CASES])
@pytest.mark.parametrize("rank", [4, 16])
def test_adapter_sizes_equal_pefts(name, targets, rank, tmp_path):
    config = CONFIGS[name]
    expected = peft_count(config, rank, [HF_NAMES[t] for t in targets])
    assert ours(config, tmp_path, rank, targets) == expected


@pytest.mark.parametrize("name", ["llama", "mistral", "qwen2", "qwen3", "gemma2"])
def test_all_linear_equals_pefts_on_dense_families(name, tmp_path):
    config = CONFIGS[name]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model = llmcalc.load(str(path))
    expected = peft_count(config, 8, "all-linear")
    assert lora_params(model, 8, lora_target_names(model, "all-linear")) == expected


QWEN2_MOE = {"model_type": "qwen2_moe", **SMALL, "num_experts": 4, "num_experts_per_tok": 2,
             "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48, "mlp_only_layers": [1]}


@pytest.mark.parametrize("name, config", [("mixtral", CONFIGS["mixtral"]), ("qwen2_moe", QWEN2_MOE)])
def test_router_and_shared_expert_adapters_equal_pefts(name, config, tmp_path):
    # transformers' routers are not nn.Linear: PEFT adapts their weight through target_parameters (lora.ParamWrapper)
    hf_config = transformers.AutoConfig.for_model(**config)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    shared = name == "qwen2_moe"
    modules = ["q_proj"] + (["shared_expert.gate_proj", "shared_expert.up_proj", "shared_expert.down_proj"]
                            if shared else [])
    wrapped = peft.get_peft_model(model, peft.LoraConfig(r=4, target_modules=modules,
                                                         target_parameters=["mlp.gate.weight"]))
    targets = ("q", "router") + (("shared",) if shared else ())
    assert ours(config, tmp_path, 4, targets) == wrapped.get_nb_trainable_parameters()[0]
